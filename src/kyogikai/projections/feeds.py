"""Calendar feed read model: per-item rendered calendar data and which feed holds which item.

Event in, rows out.  A feed (``all``, ``body:<id>``, ``programme:<id>``, ``member:<id>``) is read
with one indexed query: ``rm_feed_entries`` (feed key → item ids) joined with ``rm_feed_items``
(one row per meeting or activity, holding the Japanese text a calendar shows: summary, description,
location, categories …).  The ICS bytes are assembled from these rows by :mod:`kyogikai.feeds.ics`
(it adds the base URL, which is configuration, not a fact).  Nothing here reads another
projection's tables: the organisation this model needs (names, tree, visibility, rosters) is kept
in its own ``rm_feed_*`` tables, so rebuilding it alone from the log gives the same rows.

Which feeds hold an item:

- ``all``: every item.  ``programme:<P>``: every item of programme P.
- ``body:<B>``: the items of B and of every body under it (sub-bodies, groups, inline bodies).
- ``member:<M>`` (the member organisation's calendar — "everything its bodies and programmes
  hold"): an item when M was not dissolved before the item starts and one of these holds —
  the item is of a body M is on (or of a body under it) and M's membership overlaps the item's
  dates; the item is of a participating-member programme M took part in at the time; or the item
  belongs to every member: a programme-level activity of an all-member programme (説明会, 研修 …)
  or a meeting of a general assembly (総会).

Names that tell bodies apart: several bodies share a name (each participating-member programme has
its 事業部会, 検討会, 全体会議), and the report's short labels (``第1回研究会``) name a body by its
heading.  A calendar shows items of many bodies side by side, so a SUMMARY names the body when the
label alone would not: a body whose name another body shares gets its programme (and its parent,
when the twin is in the same programme) as its ``qualifier`` — its feed is called
``事業部会（あいち共同利用型施設予約システム事業）`` and its items ``第1回事業部会（…事業）``; an item of
a body with a name of its own whose label does not contain that name gets it
(``第1回研究会（電子申請・届出システム研究会）``); a programme-level item whose label contains a body's
name gets its programme (``全体説明会（共同セキュリティ監査）``).  Labels elsewhere (the report, the
pages' tables, the description's first line) stay as the report writes them.

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

import datetime as dt
import functools
import json
from typing import Any, Iterable

from ..dates import MONTH, Period, format_period
from ..domain import meeting as m
from ..domain import organisation as o
from ..domain import tokens as t
from ..domain.events import DomainEvent
from ..domain.formats import label_of
from ..domain.naming import item_label
from .common import detail_columns, update_row as _update, when_columns as _when
from .runtime import Rows, Table

NAME = "feeds"
VERSION = 3

PROGRAMMES = Table("rm_feed_programmes", {
    "id": "text", "name": "text", "section": "text", "ord": "int", "description": "text",
    "dissolved_on": "text"}, ("id",), resident=True)
BODIES = Table("rm_feed_bodies", {
    "id": "text", "name": "text", "kind": "text", "programme_id": "text", "parent_id": "text",
    "ancestors": "text", "ord": "int", "own_public": "int", "public": "int", "description": "text",
    "dissolved_on": "text", "qualifier": "text"}, ("id",), indexes=(("programme_id",), ("parent_id",), ("name",)),
    resident=True)
MEMBERS = Table("rm_feed_members", {
    "id": "text", "name": "text", "code": "text", "dissolved_on": "text"}, ("id",), resident=True)
ROSTER = Table("rm_feed_roster", {
    "owner_id": "text", "member_id": "text", "since": "text", "until": "text"},
    ("owner_id", "member_id", "since"), indexes=(("member_id",),), resident=True)
ITEMS = Table("rm_feed_items", {
    "id": "text", "kind": "text", "programme_id": "text", "body_id": "text", "refers_to": "text",
    "ordinal": "int", "part": "int", "series": "text", "title": "text", "speaker": "text",
    "start_date": "text", "end_date": "text", "precision": "text", "start_time": "text", "end_time": "text",
    "format": "text", "format_label": "text", "venue": "text", "status": "text", "cancel_reason": "text",
    "agenda": "text", "sequence": "int", "created_at": "text", "modified_at": "text", "public": "int",
    # rendered (Japanese) text, recomputed when a fact it shows changes
    "label": "text", "when_text": "text", "summary": "text", "description": "text", "location": "text",
    "categories": "text", "url_path": "text"}, ("id",),
    indexes=(("body_id",), ("programme_id",), ("refers_to",), ("public", "end_date")))
ENTRIES = Table("rm_feed_entries", {"feed_key": "text", "item_id": "text"}, ("feed_key", "item_id"),
                indexes=(("item_id",),))
FEEDS = Table("rm_feed_feeds", {
    "key": "text", "kind": "text", "ref_id": "text", "title": "text", "public": "int", "changed_at": "text",
    "public_changed_at": "text"},
    ("key",), indexes=(("kind",),), resident=True)
TOKENS = Table("rm_feed_tokens", {
    "token_hash": "text", "id": "text", "member_id": "text", "label": "text", "issued_at": "text",
    "issued_by": "text", "revoked_at": "text", "revoked_by": "text"}, ("token_hash",),
    indexes=(("id",), ("member_id",)))
TABLES = [PROGRAMMES, BODIES, MEMBERS, ROSTER, ITEMS, ENTRIES, FEEDS, TOKENS]

ALL = "all"
RENDERED = ("label", "when_text", "summary", "description", "location", "categories", "url_path", "public")
MONTH_NOTE = "※月単位の期間です（カレンダーでは各月の初日から末日までの終日予定として表示）。"
STATUS_TEXT = {m.Status.HELD.value: "開催済", m.Status.CANCELLED.value: "中止"}


def key(kind: str, id: Any) -> str:
    return ALL if kind == ALL else f"{kind}:{id}"


def stamp(e: DomainEvent) -> str:
    """An event's recorded time in one fixed, sortable UTC form (``2023-05-01T00:00:00.000000Z``)."""
    return e.timestamp.astimezone(dt.timezone.utc).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


# --- feeds and entries --------------------------------------------------------------------------

def _touch(rows: Rows, keys: Iterable[str], at: str, public: bool = True) -> None:
    """Record that the content of these feeds changed at ``at`` (never moving a time back).

    ``public_changed_at`` (a public read's Last-Modified) moves only for a change a public reader
    can see: an entry of a non-public item moves ``changed_at`` (private reads) alone, so neither
    the bytes, the ETag nor the Last-Modified of a public feed reveal activity in non-public bodies.
    """
    for k in sorted(set(keys)):
        row = rows.get(FEEDS, k)
        if row is None:
            continue
        moved = False
        if (row["changed_at"] or "") < at:
            row["changed_at"], moved = at, True
        if public and (row.get("public_changed_at") or "") < at:
            row["public_changed_at"], moved = at, True
        if moved:
            rows.put(FEEDS, row)


def _feed(rows: Rows, kind: str, ref_id: str | None, title: str | None, public: int, at: str) -> None:
    k = key(kind, ref_id)
    row = rows.get(FEEDS, k)
    if row is None:
        rows.put(FEEDS, {"key": k, "kind": kind, "ref_id": ref_id, "title": title, "public": public, "changed_at": at,
                         "public_changed_at": at})
    elif (row["title"], row["public"]) != (title, public):
        row.update(title=title, public=public, changed_at=max(row["changed_at"] or "", at),
                   public_changed_at=max(row["public_changed_at"] or "", at))
        rows.put(FEEDS, row)


def _set_entries(rows: Rows, item_id: str, wanted: set[str], at: str, prefix: str | None = None,
                 new: bool = False) -> None:
    """Make the item's entries (those starting with ``prefix``, or all) exactly ``wanted``
    (``new``: the item was just scheduled, so it has none yet)."""
    have = set() if new else {r["feed_key"] for r in rows.find(ENTRIES, item_id=item_id)}
    if prefix is not None:
        have = {k for k in have if k.startswith(prefix)}
    for k in sorted(wanted - have):
        rows.put(ENTRIES, {"feed_key": k, "item_id": item_id})
    for k in sorted(have - wanted):
        rows.delete(ENTRIES, k, item_id)
    if wanted != have:
        item = rows.get(ITEMS, item_id)
        _touch(rows, wanted ^ have, at, public=bool(item and item["public"]))


# --- organisation -------------------------------------------------------------------------------

def _chain(rows: Rows, body_id: str | None) -> list[str]:
    """The body and its ancestors, nearest first."""
    if not body_id:
        return []
    b = rows.get(BODIES, body_id)
    if b is None:
        return [body_id]
    return [body_id] + [a for a in reversed((b["ancestors"] or "").split(",")) if a]


def _subtree(rows: Rows, body: dict) -> list[dict]:
    """The body and every body under it, parents before children."""
    out = [b for b in rows.find(BODIES, programme_id=body["programme_id"])
           if b["id"] == body["id"] or body["id"] in (b["ancestors"] or "").split(",")]
    return sorted(out, key=lambda b: len([a for a in (b["ancestors"] or "").split(",") if a]))


def _items_of_bodies(rows: Rows, bodies: Iterable[dict]) -> list[dict]:
    return [i for b in bodies for i in rows.find(ITEMS, body_id=b["id"])]


def _programme_created(e: o.ProgrammeCreated, rows: Rows) -> None:
    pid = str(e.originator_id)
    rows.put(PROGRAMMES, {"id": pid, "name": e.name, "section": e.section.value, "ord": e.order,
                          "description": e.description, "dissolved_on": None})
    _feed(rows, "programme", pid, e.name, 1, stamp(e))


def _programme_renamed(e: o.ProgrammeRenamed, rows: Rows) -> None:
    pid = str(e.originator_id)
    _update(rows, PROGRAMMES, pid, name=e.name)
    _feed(rows, "programme", pid, e.name, 1, stamp(e))
    for item in rows.find(ITEMS, programme_id=pid):
        _refresh(rows, item, stamp(e))


def _qualify_bodies(rows: Rows, names: Iterable[str], at: str) -> None:
    """Recompute the qualifier of every body called one of ``names`` (and re-render their feed
    names and items), and re-render programme-level items (their labels may contain a body name)."""
    for name in sorted(set(names)):
        twins = rows.find(BODIES, name=name)
        for b in twins:
            others = [t for t in twins if t["id"] != b["id"]]
            qualifier = None
            if others:
                prog = rows.get(PROGRAMMES, b["programme_id"])
                parts = [prog["name"] if prog else ""]
                if b["parent_id"] and any(t["programme_id"] == b["programme_id"] for t in others):
                    parent = rows.get(BODIES, b["parent_id"])
                    parts.append(parent["name"] if parent else "")
                qualifier = " ".join(p for p in parts if p) or None
            if qualifier != b.get("qualifier"):
                b["qualifier"] = qualifier
                rows.put(BODIES, b)
                _feed(rows, "body", b["id"], _body_title(b), b["public"], at)
                for item in rows.find(ITEMS, body_id=b["id"]):
                    _refresh(rows, item, at)
    for item in rows.find(ITEMS, body_id=None):
        _refresh(rows, item, at)


def _body_title(body: dict) -> str:
    """A body's name as a feed calls it: with its qualifier when another body has the same name."""
    return f"{body['name']}（{body['qualifier']}）" if body.get("qualifier") else body["name"]


def _body_created(e: o.BodyCreated, rows: Rows) -> None:
    bid = str(e.originator_id)
    parent = rows.get(BODIES, str(e.parent_id)) if e.parent_id else None
    ancestors = ",".join(a for a in ((parent["ancestors"] or "").split(",") + [parent["id"]]) if a) if parent else ""
    public = int(e.public and (parent is None or bool(parent["public"])))
    rows.put(BODIES, {"id": bid, "name": e.name, "kind": e.kind.value, "programme_id": str(e.programme_id),
                      "parent_id": str(e.parent_id) if e.parent_id else None, "ancestors": ancestors,
                      "ord": e.order, "own_public": int(e.public), "public": public,
                      "description": e.description, "dissolved_on": None, "qualifier": None})
    _feed(rows, "body", bid, e.name, public, stamp(e))
    _qualify_bodies(rows, [e.name], stamp(e))


def _body_renamed(e: o.BodyRenamed, rows: Rows) -> None:
    bid = str(e.originator_id)
    before = rows.get(BODIES, bid)
    _update(rows, BODIES, bid, name=e.name)
    b = rows.get(BODIES, bid)
    _feed(rows, "body", bid, _body_title(b) if b else e.name, b["public"] if b else 1, stamp(e))
    for item in rows.find(ITEMS, body_id=bid):
        _refresh(rows, item, stamp(e))
    _qualify_bodies(rows, [e.name] + ([before["name"]] if before else []), stamp(e))


def _visibility(e: o.BodyVisibilityChanged, rows: Rows) -> None:
    body = rows.get(BODIES, str(e.originator_id))
    if body is None:
        return
    at = stamp(e)
    body["own_public"] = int(e.public)
    rows.put(BODIES, body)
    for b in _subtree(rows, body):
        parent = rows.get(BODIES, b["parent_id"]) if b["parent_id"] else None
        b["public"] = int(bool(b["own_public"]) and (parent is None or bool(parent["public"])))
        rows.put(BODIES, b)
        _feed(rows, "body", b["id"], _body_title(b), b["public"], at)
    for item in _items_of_bodies(rows, _subtree(rows, body)):
        if _refresh(rows, item, at):
            _touch(rows, (r["feed_key"] for r in rows.find(ENTRIES, item_id=item["id"])), at)


def _member_created(e: o.MemberCreated, rows: Rows) -> None:
    mid = str(e.originator_id)
    rows.put(MEMBERS, {"id": mid, "name": e.name, "code": e.code, "dissolved_on": None})
    _feed(rows, "member", mid, e.name, 1, stamp(e))
    for item in _every_member_items(rows):
        _recheck(rows, item, mid, stamp(e))


def _member_renamed(e: o.MemberRenamed, rows: Rows) -> None:
    mid = str(e.originator_id)
    _update(rows, MEMBERS, mid, name=e.name)
    _feed(rows, "member", mid, e.name, 1, stamp(e))


def _member_dissolved(e: o.MemberDissolved, rows: Rows) -> None:
    mid = str(e.originator_id)
    _update(rows, MEMBERS, mid, dissolved_on=e.on.isoformat())
    for entry in rows.find(ENTRIES, feed_key=key("member", mid)):
        item = rows.get(ITEMS, entry["item_id"])
        if item is not None:
            _recheck(rows, item, mid, stamp(e))


def _roster_items(rows: Rows, owner_id: str) -> list[dict]:
    body = rows.get(BODIES, owner_id)
    if body is not None:
        return _items_of_bodies(rows, _subtree(rows, body))
    return rows.find(ITEMS, programme_id=owner_id)


def _joined(e: o.BodyMemberJoined | o.ProgrammeMemberJoined, rows: Rows) -> None:
    owner, mid = str(e.originator_id), str(e.member_id)
    rows.put(ROSTER, {"owner_id": owner, "member_id": mid, "since": e.since.isoformat(), "until": None})
    for item in _roster_items(rows, owner):
        _recheck(rows, item, mid, stamp(e))


def _left(e: o.BodyMemberLeft | o.ProgrammeMemberLeft, rows: Rows) -> None:
    owner, mid = str(e.originator_id), str(e.member_id)
    for span in rows.find(ROSTER, owner_id=owner, member_id=mid, until=None):
        span["until"] = e.until.isoformat()
        rows.put(ROSTER, span)
    for item in _roster_items(rows, owner):
        _recheck(rows, item, mid, stamp(e))


# --- who an item belongs to ---------------------------------------------------------------------

def _for_every_member(rows: Rows, item: dict) -> bool:
    prog = rows.get(PROGRAMMES, item["programme_id"])
    if prog is None or prog["section"] != o.Section.ALL.value:
        return False
    if not item["body_id"]:
        return True
    body = rows.get(BODIES, item["body_id"])
    return body is not None and body["kind"] == o.BodyKind.GENERAL_ASSEMBLY.value


def _owners(rows: Rows, item: dict) -> list[str]:
    """Whose rosters decide which members an item belongs to: its bodies, and its programme."""
    return _chain(rows, item["body_id"]) + [item["programme_id"]]


def _overlaps(span: dict, item: dict) -> bool:
    return span["since"] <= item["end_date"] and (span["until"] is None or span["until"] >= item["start_date"])


def _active(member: dict | None, item: dict) -> bool:
    return member is not None and not (member["dissolved_on"] and member["dissolved_on"] <= item["start_date"])


def _qualifies(rows: Rows, item: dict, member_id: str) -> bool:
    if not _active(rows.get(MEMBERS, member_id), item):
        return False
    return _for_every_member(rows, item) or any(
        _overlaps(span, item) for owner in _owners(rows, item)
        for span in rows.find(ROSTER, owner_id=owner, member_id=member_id))


def _members_of(rows: Rows, item: dict) -> set[str]:
    if _for_every_member(rows, item):
        return {r["id"] for r in rows.find(MEMBERS) if _active(r, item)}
    on = {r["member_id"] for owner in _owners(rows, item) for r in rows.find(ROSTER, owner_id=owner) if _overlaps(r, item)}
    return {mid for mid in on if _active(rows.get(MEMBERS, mid), item)}


def _every_member_items(rows: Rows) -> list[dict]:
    """Items that belong to every member: programme-level activities of all-member programmes and
    the meetings of their general assemblies."""
    out = []
    for prog in rows.find(PROGRAMMES, section=o.Section.ALL.value):
        assemblies = {b["id"] for b in rows.find(BODIES, programme_id=prog["id"])
                      if b["kind"] == o.BodyKind.GENERAL_ASSEMBLY.value}
        out += [i for i in rows.find(ITEMS, programme_id=prog["id"]) if not i["body_id"] or i["body_id"] in assemblies]
    return out


def _recheck(rows: Rows, item: dict, member_id: str, at: str) -> None:
    k = key("member", member_id)
    has = rows.get(ENTRIES, k, item["id"]) is not None
    should = _qualifies(rows, item, member_id)
    if should and not has:
        rows.put(ENTRIES, {"feed_key": k, "item_id": item["id"]})
        _touch(rows, [k], at, public=bool(item["public"]))
    elif has and not should:
        rows.delete(ENTRIES, k, item["id"])
        _touch(rows, [k], at, public=bool(item["public"]))


def _place(rows: Rows, item: dict, at: str, new: bool = False) -> None:
    """Put an item in exactly the feeds it belongs to."""
    wanted = {ALL, key("programme", item["programme_id"])} | {key("body", b) for b in _chain(rows, item["body_id"])}
    wanted |= {key("member", mid) for mid in _members_of(rows, item)}
    _set_entries(rows, item["id"], wanted, at, new=new)


# --- rendering ----------------------------------------------------------------------------------

def _label(rows: Rows, item: dict, with_ref: bool = True) -> str:
    body = rows.get(BODIES, item["body_id"]) if item["body_id"] else None
    ref_label = None
    if with_ref and item["refers_to"]:
        ref = rows.get(ITEMS, item["refers_to"])
        ref_label = _label(rows, ref, with_ref=False) if ref else None
    text = item_label(kind=item["kind"], ordinal=item["ordinal"], part=item["part"], series=item["series"],
                      title=item["title"], body_name=body["name"] if body else None, speaker=item["speaker"],
                      refers_to_label=ref_label)
    return text or m.KIND_LABELS[m.Kind(item["kind"])]


def when_text(item: dict) -> str:
    return _when_text(item["start_date"], item["end_date"], item["precision"], item["start_time"], item["end_time"])


@functools.lru_cache(maxsize=4096)
def _when_text(start: str, end: str, precision: str, start_time: str | None, end_time: str | None) -> str:
    text = format_period(Period(dt.date.fromisoformat(start), dt.date.fromisoformat(end), precision))
    if start_time:
        text += f" {start_time}～{end_time or ''}"
    return text


def _qualifier(rows: Rows, body: dict | None, prog: dict | None, label: str) -> str | None:
    """What a calendar title adds to the report's label so that no other body's items read the same."""
    if body is not None:
        if body.get("qualifier"):
            return body["qualifier"]
        return None if body["name"] in label else body["name"]
    if prog is None or prog["name"] in label:
        return None
    return prog["name"] if any(b["name"] in label for b in rows.find(BODIES)) else None


def _render(rows: Rows, item: dict) -> dict[str, Any]:
    body = rows.get(BODIES, item["body_id"]) if item["body_id"] else None
    prog = rows.get(PROGRAMMES, item["programme_id"])
    label = _label(rows, item)
    when = when_text(item)
    fmt = label_of(item["format"], item["format_label"])
    kind = m.Kind(item["kind"])
    cancelled = item["status"] == m.Status.CANCELLED.value
    qualifier = _qualifier(rows, body, prog, label)
    summary = ("【中止】" if cancelled else "") + label + (f"（{qualifier}）" if qualifier else "") \
        + (f"（{when}）" if item["precision"] == MONTH else "")
    lines = [label, f"日程：{when}"]
    if fmt:
        lines.append(f"開催形式：{fmt}")
    if item["venue"]:
        lines.append(f"会場：{item['venue']}")
    if prog:
        lines.append(f"事業：{prog['name']}")
    if body:
        lines.append(f"会議体：{body['name']}")
    if not kind.is_meeting:
        lines.append(f"区分：{m.KIND_LABELS[kind]}")
    if item["status"] in STATUS_TEXT:
        reason = f"（{item['cancel_reason']}）" if cancelled and item["cancel_reason"] else ""
        lines.append(f"状況：{STATUS_TEXT[item['status']]}{reason}")
    if item["precision"] == MONTH:
        lines.append(MONTH_NOTE)
    agenda = [a for a in json.loads(item["agenda"] or "[]") if not a["withdrawn"]]
    if agenda:
        lines.append("〔審議事項〕")
        lines += [f"・{a['text']}" + (f"（{a['outcome']}）" if a["outcome"] else "") for a in agenda]
    categories = [c for c in (prog["name"] if prog else None, body["name"] if body else None,
                              None if kind.is_meeting else m.KIND_LABELS[kind]) if c]
    public = int(body is None or bool(body["public"]))
    url_path = None
    if public:
        url_path = f"/bodies/{body['id']}" if body else f"/programmes/{item['programme_id']}"
    return {"label": label, "when_text": when, "summary": summary, "description": "\n".join(lines),
            "location": item["venue"] or fmt, "categories": json.dumps(list(dict.fromkeys(categories)), ensure_ascii=False),
            "url_path": url_path, "public": public}


def _refresh(rows: Rows, item: dict, at: str, changed: bool = False) -> bool:
    """Re-render an item; record ``at`` as its modification time when its text changed (or ``changed``).

    Votes and re-deliberations that name it are re-rendered too.  Returns whether it changed.
    """
    new = _render(rows, item)
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


# --- meetings and activities --------------------------------------------------------------------

def _scheduled(e: m.MeetingScheduled, rows: Rows) -> None:
    at = stamp(e)
    if rows.get(FEEDS, ALL) is None:
        _feed(rows, ALL, None, None, 1, at)
    item = {"id": str(e.originator_id), "kind": e.kind.value, "programme_id": str(e.programme_id),
            "body_id": str(e.body_id) if e.body_id else None, "refers_to": str(e.refers_to) if e.refers_to else None,
            "ordinal": e.ordinal, "part": e.part, "series": e.series, "title": e.title, "speaker": e.speaker,
            **_when(e), "format": e.format.value if e.format else None, "format_label": e.format_label,
            "venue": e.venue, "status": m.Status.SCHEDULED.value, "cancel_reason": None, "agenda": "[]",
            "sequence": 0, "created_at": at, "modified_at": at}
    _refresh(rows, item, at, changed=True)
    _place(rows, item, at, new=True)


def _change(e: DomainEvent, rows: Rows, significant: bool = True, **changes: Any) -> None:
    item = rows.get(ITEMS, str(e.originator_id))
    if item is None:
        return
    at = stamp(e)
    moved = any(item[k] != v for k, v in changes.items() if k in ("start_date", "end_date", "start_time", "end_time"))
    item.update(changes)
    if significant:
        item["sequence"] += 1
    _refresh(rows, item, at, changed=True)
    if moved:
        _place(rows, item, at)


def _held(e: m.MeetingHeld, rows: Rows) -> None:
    item = rows.get(ITEMS, str(e.originator_id))
    if item is None:
        return
    moved = any(item[k] != v for k, v in _when(e).items())
    _change(e, rows, significant=moved, status=m.Status.HELD.value, **_when(e))


def _details(e: m.MeetingDetailsChanged, rows: Rows) -> None:
    _change(e, rows, **detail_columns(e))


def _agenda(e: m.AgendaItemAdded | m.AgendaItemWithdrawn | m.OutcomeRecorded, rows: Rows) -> None:
    item = rows.get(ITEMS, str(e.originator_id))
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
    _refresh(rows, item, stamp(e), changed=True)


# --- private feed tokens ------------------------------------------------------------------------

def _token_issued(e: t.FeedTokenIssued, rows: Rows) -> None:
    rows.put(TOKENS, {"token_hash": e.token_hash, "id": str(e.originator_id), "member_id": str(e.member_id),
                      "label": e.label, "issued_at": stamp(e), "issued_by": e.actor, "revoked_at": None,
                      "revoked_by": None})


def _token_revoked(e: t.FeedTokenRevoked, rows: Rows) -> None:
    for row in rows.find(TOKENS, id=str(e.originator_id)):
        row.update(revoked_at=stamp(e), revoked_by=e.actor)
        rows.put(TOKENS, row)


def apply(e: DomainEvent, rows: Rows) -> None:
    handler = HANDLERS.get(type(e))
    if handler:
        handler(e, rows)


HANDLERS: dict[type, Any] = {
    o.ProgrammeCreated: _programme_created,
    o.ProgrammeRenamed: _programme_renamed,
    o.ProgrammeDescribed: lambda e, rows: _update(rows, PROGRAMMES, str(e.originator_id), description=e.description),
    o.ProgrammeReordered: lambda e, rows: _update(rows, PROGRAMMES, str(e.originator_id), ord=e.order),
    o.ProgrammeDissolved: lambda e, rows: _update(rows, PROGRAMMES, str(e.originator_id), dissolved_on=e.on.isoformat()),
    o.ProgrammeMemberJoined: _joined,
    o.ProgrammeMemberLeft: _left,
    o.BodyCreated: _body_created,
    o.BodyRenamed: _body_renamed,
    o.BodyDescribed: lambda e, rows: _update(rows, BODIES, str(e.originator_id), description=e.description),
    o.BodyReordered: lambda e, rows: _update(rows, BODIES, str(e.originator_id), ord=e.order),
    o.BodyVisibilityChanged: _visibility,
    o.BodyDissolved: lambda e, rows: _update(rows, BODIES, str(e.originator_id), dissolved_on=e.on.isoformat()),
    o.BodyMemberJoined: _joined,
    o.BodyMemberLeft: _left,
    o.MemberCreated: _member_created,
    o.MemberRenamed: _member_renamed,
    o.MemberDissolved: _member_dissolved,
    m.MeetingScheduled: _scheduled,
    m.MeetingRescheduled: lambda e, rows: _change(e, rows, **_when(e)),
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
