"""Calendar feed read model: per-item rendered calendar data and which feed holds which item.

Event in, rows out.  A feed (``all``, ``body:<id>``, ``programme:<id>``, ``member:<id>``) is read
with one indexed query: ``rm_feed_entries`` (feed key → item ids) joined with ``rm_feed_items``
(one row per meeting or activity, holding the Japanese text a calendar shows: summary, description,
location, categories …).  The ICS bytes are assembled from these rows by :mod:`kyogikai.feeds.ics`
(it adds the base URL, which is configuration, not a fact).  Nothing here reads another
projection's tables.  Its parts:

- :mod:`.mirror` — the copy of the organisation this model needs (names, tree, visibility, rosters);
- :mod:`.audience` — who sees what: which feeds hold an item, and when a feed last changed;
- :mod:`.text` — the calendar text of an item (label, summary, description …);
- this module — the handlers: each event's rows, and what a change of the organisation means for
  the items and feeds it touches.

Visibility: a body marked non-public hides its items and those of every body under it.  Items keep
their entries; ``public`` on the item row (and on body feed rows) filters public reads, while a
member's private (token) feed reads without the filter.

Changes that alter what a feed shows update the affected rows only: a rename re-renders the items
of that body or programme (and the votes that name them); a visibility change re-renders the items
of the subtree; a roster change re-checks that member against the items of that body's subtree or
that programme.  ``modified_at`` of an item is the time of the last event that changed its
rendered text (DTSTAMP / LAST-MODIFIED); ``changed_at`` of a feed is the last time an item entered
or left it or its visibility changed, so a feed's Last-Modified is the later of the two and never
goes back.  ``sequence`` rises on significant changes (date, time, place, format, title, status).
"""

from __future__ import annotations

import json
from typing import Any

from ...domain import meeting as m
from ...domain import organisation as o
from ...domain import tokens as t
from ...domain.events import DomainEvent
from ..common import detail_columns, update_row, when_columns
from ..runtime import Rows
from . import audience, mirror
from .tables import (ALL, BODIES, ENTRIES, FEEDS, ITEMS, MEMBERS, PROGRAMMES, ROSTER, TABLES, TOKENS,  # noqa: F401
                     key, stamp)
from .text import MONTH_NOTE, RENDERED, STATUS_TEXT, render, visible, when_text  # noqa: F401

NAME = "feeds"
VERSION = 4


def _refresh(rows: Rows, item: dict, at: str, changed: bool = False) -> bool:
    """Re-render an item; record ``at`` as its modification time when its text changed (or ``changed``).

    Votes and re-deliberations that name it are re-rendered too.  Returns whether it changed.
    """
    new = render(rows, item)
    # a new item has no label yet, and nothing refers to it yet (votes name earlier meetings)
    label_changed = item.get("label") is not None and new["label"] != item["label"]
    changed = changed or any(item.get(k) != v for k, v in new.items())
    if not changed:
        return False
    item.update(new)
    item["modified_at"] = max(item.get("modified_at") or "", at)
    rows.put(ITEMS, item)
    if label_changed:
        for ref in rows.find(ITEMS, refers_to=item["id"]):
            if ref["id"] != item["id"]:
                _refresh(rows, ref, at)
    return True


# what an item's label is made of (:func:`kyogikai.domain.naming.meeting_label`)
_LABELLED = frozenset({"kind", "ordinal", "part", "series", "title", "speaker", "body_id", "refers_to"})


def _rerender(rows: Rows, item: dict, at: str) -> None:
    """The item is new, or its dates, status or agenda changed at ``at`` (never what its label is
    made of).

    Rendered now, or — when the rows can put work off (a batch: ``CachedRows.later``) — once before
    the batch's rows are written, so an item with several such events in a batch (scheduled, its
    agenda, held, outcomes …) is rendered once.  The rows come out the same: a render depends only on
    the item's final state and the organisation mirror, ``modified_at`` is the latest ``at`` either
    way, no label changes (a new item has none yet, and nothing refers to it), a handler that
    changes the mirror settles the pending renders first (``_settling``), and so does a change of
    what a label is made of (``_change``) — its votes follow it from the label they showed.
    Whoever puts the item row afterwards puts it as the rows hold it (``audience._enter``).
    """
    later = getattr(rows, "later", None)
    if later is None:
        _refresh(rows, item, at, changed=True)
        return
    item["modified_at"] = max(item.get("modified_at") or "", at)
    rows.put(ITEMS, item)
    iid = item["id"]

    def render_now() -> None:
        row = rows.get(ITEMS, iid)
        if row is not None:
            _refresh(rows, row, at, changed=True)
    later((ITEMS.name, iid), render_now)


def _settling(handler: Any) -> Any:
    """``handler`` run after the renders put off by ``_rerender`` (it changes what they read)."""
    def run(e: DomainEvent, rows: Rows) -> None:
        settle = getattr(rows, "settle", None)
        if settle is not None:
            settle()
        handler(e, rows)
    return run


# --- the organisation ---------------------------------------------------------------------------

def _programme_created(e: o.ProgrammeCreated, rows: Rows) -> None:
    mirror.programme_created(e, rows)
    audience.feed(rows, "programme", e.oid, e.name, 1, stamp(e))


def _programme_renamed(e: o.ProgrammeRenamed, rows: Rows) -> None:
    pid = e.oid
    update_row(rows, PROGRAMMES, pid, name=e.name)
    audience.feed(rows, "programme", pid, e.name, 1, stamp(e))
    for item in rows.find(ITEMS, programme_id=pid):
        _refresh(rows, item, stamp(e))


def _requalify(rows: Rows, names: list[str], at: str) -> None:
    """Bodies called one of ``names`` whose qualifier changed get their feed names and items
    re-rendered, and so do programme-level items (their labels may contain a body name)."""
    for b in mirror.requalify(rows, names):
        audience.feed(rows, "body", b["id"], mirror.body_title(b), b["public"], at)
        for item in rows.find(ITEMS, body_id=b["id"]):
            _refresh(rows, item, at)
    for item in rows.find(ITEMS, body_id=None):
        _refresh(rows, item, at)


def _body_created(e: o.BodyCreated, rows: Rows) -> None:
    body = mirror.body_created(e, rows)
    audience.feed(rows, "body", body["id"], e.name, body["public"], stamp(e))
    _requalify(rows, [e.name], stamp(e))


def _body_renamed(e: o.BodyRenamed, rows: Rows) -> None:
    bid = e.oid
    before = rows.get(BODIES, bid)
    update_row(rows, BODIES, bid, name=e.name)
    b = rows.get(BODIES, bid)
    audience.feed(rows, "body", bid, mirror.body_title(b) if b else e.name, b["public"] if b else 1, stamp(e))
    for item in rows.find(ITEMS, body_id=bid):
        _refresh(rows, item, stamp(e))
    _requalify(rows, [e.name] + ([before["name"]] if before else []), stamp(e))


def _visibility(e: o.BodyVisibilityChanged, rows: Rows) -> None:
    body = rows.get(BODIES, e.oid)
    if body is None:
        return
    at = stamp(e)
    bodies = mirror.set_visibility(rows, body, e.public)
    for b in bodies:
        audience.feed(rows, "body", b["id"], mirror.body_title(b), b["public"], at)
    for item in audience.items_of_bodies(rows, bodies):
        if _refresh(rows, item, at):
            audience.touch(rows, audience.feed_keys(item), at)


def _member_created(e: o.MemberCreated, rows: Rows) -> None:
    mid = e.oid
    mirror.member_created(e, rows)
    audience.feed(rows, "member", mid, e.name, 1, stamp(e))
    for item in audience.every_member_items(rows):
        audience.recheck(rows, item, mid, stamp(e))


def _member_renamed(e: o.MemberRenamed, rows: Rows) -> None:
    mid = e.oid
    update_row(rows, MEMBERS, mid, name=e.name)
    audience.feed(rows, "member", mid, e.name, 1, stamp(e))


def _member_dissolved(e: o.MemberDissolved, rows: Rows) -> None:
    mid = e.oid
    update_row(rows, MEMBERS, mid, dissolved_on=e.on.isoformat())
    for entry in rows.find(ENTRIES, feed_key=key("member", mid)):
        item = rows.get(ITEMS, entry["item_id"])
        if item is not None:
            audience.recheck(rows, item, mid, stamp(e))


def _roster(e: Any, rows: Rows) -> None:
    (mirror.joined if isinstance(e, (o.BodyMemberJoined, o.ProgrammeMemberJoined)) else mirror.left)(e, rows)
    for item in audience.roster_items(rows, e.oid):
        audience.recheck(rows, item, str(e.member_id), stamp(e))


# --- meetings and activities --------------------------------------------------------------------

def _scheduled(e: m.MeetingScheduled, rows: Rows) -> None:
    at = stamp(e)
    if rows.get(FEEDS, ALL) is None:
        audience.feed(rows, ALL, None, None, 1, at)
    item = {"id": e.oid, "kind": e.kind.value, "programme_id": str(e.programme_id),
            "body_id": str(e.body_id) if e.body_id else None, "refers_to": str(e.refers_to) if e.refers_to else None,
            "ordinal": e.ordinal, "part": e.part, "series": e.series, "title": e.title, "speaker": e.speaker,
            **when_columns(e), "format": e.format.value if e.format else None, "format_label": e.format_label,
            "venue": e.venue, "status": m.Status.SCHEDULED.value, "cancel_reason": None, "agenda": "[]",
            "sequence": 0, "created_at": at, "modified_at": at, "feed_keys": ""}
    # rendered with its first changes (nothing refers to a new item yet); placed now, as public or not
    item["public"] = visible(rows.get(BODIES, item["body_id"]) if item["body_id"] else None)
    _rerender(rows, item, at)
    audience.place(rows, item, at)


def _change(e: DomainEvent, rows: Rows, significant: bool = True, item: dict | None = None, **changes: Any) -> None:
    """The item (``item``: as the caller already read it) with ``changes``, re-rendered and, when its
    dates moved, placed again."""
    if changes.keys() & _LABELLED:
        settle = getattr(rows, "settle", None)
        if settle is not None:   # the item's label as rendered so far, to tell whether it changes
            settle()
        item = None
    item = rows.get(ITEMS, e.oid) if item is None else item
    if item is None:
        return
    at = stamp(e)
    moved = any(item[k] != v for k, v in changes.items() if k in ("start_date", "end_date", "start_time", "end_time"))
    item.update(changes)
    if significant:
        item["sequence"] += 1
    if changes.keys() & _LABELLED:
        _refresh(rows, item, at, changed=True)   # the label may change: votes naming it follow now
    else:
        _rerender(rows, item, at)
    if moved:
        audience.place(rows, item, at)


def _held(e: m.MeetingHeld, rows: Rows) -> None:
    item = rows.get(ITEMS, e.oid)
    if item is None:
        return
    when = when_columns(e)
    moved = any(item[k] != v for k, v in when.items())
    _change(e, rows, significant=moved, item=item, status=m.Status.HELD.value, **when)


def _details(e: m.MeetingDetailsChanged, rows: Rows) -> None:
    _change(e, rows, **detail_columns(e))


def _agenda(e: m.AgendaItemAdded | m.AgendaItemWithdrawn | m.OutcomeRecorded, rows: Rows) -> None:
    item = rows.get(ITEMS, e.oid)
    if item is None:
        return
    agenda = json.loads(item["agenda"] or "[]")
    if isinstance(e, m.AgendaItemAdded):
        agenda.append({"id": str(e.item_id), "text": e.text, "withdrawn": False, "outcome": None})
    else:
        for a in agenda:
            if a["id"] == str(e.item_id):
                if isinstance(e, m.AgendaItemWithdrawn):
                    a["withdrawn"] = True
                else:
                    a["outcome"] = e.outcome
    item["agenda"] = json.dumps(agenda, ensure_ascii=False, sort_keys=True)
    _rerender(rows, item, stamp(e))


# --- private feed tokens ------------------------------------------------------------------------

def _token_issued(e: t.FeedTokenIssued, rows: Rows) -> None:
    rows.put(TOKENS, {"token_hash": e.token_hash, "id": e.oid, "member_id": str(e.member_id),
                      "label": e.label, "issued_at": stamp(e), "issued_by": e.actor, "revoked_at": None,
                      "revoked_by": None})


def _token_revoked(e: t.FeedTokenRevoked, rows: Rows) -> None:
    for row in rows.find(TOKENS, id=e.oid):
        row.update(revoked_at=stamp(e), revoked_by=e.actor)
        rows.put(TOKENS, row)




_HANDLERS: dict[type, Any] = {
    **mirror.HANDLERS,
    o.ProgrammeCreated: _programme_created,
    o.ProgrammeRenamed: _programme_renamed,
    o.ProgrammeMemberJoined: _roster,
    o.ProgrammeMemberLeft: _roster,
    o.BodyCreated: _body_created,
    o.BodyRenamed: _body_renamed,
    o.BodyVisibilityChanged: _visibility,
    o.BodyMemberJoined: _roster,
    o.BodyMemberLeft: _roster,
    o.MemberCreated: _member_created,
    o.MemberRenamed: _member_renamed,
    o.MemberDissolved: _member_dissolved,
    m.MeetingScheduled: _scheduled,
    m.MeetingRescheduled: lambda e, rows: _change(e, rows, **when_columns(e)),
    m.MeetingDetailsChanged: _details,
    m.MeetingCancelled: lambda e, rows: _change(e, rows, status=m.Status.CANCELLED.value, cancel_reason=e.reason),
    m.MeetingReinstated: lambda e, rows: _change(e, rows, status=m.Status.SCHEDULED.value, cancel_reason=None),
    m.MeetingHeld: _held,
    m.AgendaItemAdded: _agenda,
    m.AgendaItemWithdrawn: _agenda,
    m.OutcomeRecorded: _agenda,
    t.FeedTokenIssued: _token_issued,
    t.FeedTokenRevoked: _token_revoked,
}
# the organisation's events change what renders read: pending renders are settled before them
HANDLERS: dict[type, Any] = {kind: _settling(h) if kind.__module__ == o.__name__ else h
                             for kind, h in _HANDLERS.items()}
