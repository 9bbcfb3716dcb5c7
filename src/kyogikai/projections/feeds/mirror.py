"""The feed read model's copy of the organisation: programmes, bodies, members and rosters.

Event in, rows out, into ``rm_feed_programmes``, ``rm_feed_bodies``, ``rm_feed_members`` and
``rm_feed_roster`` — the feed model reads no other projection's tables, so rebuilding it alone
from the log gives the same rows.  A body row carries what a feed needs at hand: its ancestors
(``ancestors``, top first), whether it is public (its own flag and every body above it), and its
``qualifier`` — what tells it apart from bodies of the same name (see :func:`requalify`).  What
these changes mean for feeds and items is decided by the projection (``__init__``).
"""

from __future__ import annotations

from typing import Iterable

from ...domain import organisation as o
from ...domain.bodytree import BodyTree
from ..common import update_row
from ..runtime import Rows
from .tables import BODIES, MEMBERS, PROGRAMMES, ROSTER


def chain(rows: Rows, body_id: str | None) -> list[str]:
    """The body and its ancestors, nearest first."""
    if not body_id:
        return []
    b = rows.get(BODIES, body_id)
    if b is None:
        return [body_id]
    return [body_id] + [a for a in reversed((b["ancestors"] or "").split(",")) if a]


def subtree(rows: Rows, body: dict) -> list[dict]:
    """The body and every body under it, parents before children."""
    return BodyTree(rows.find(BODIES, programme_id=body["programme_id"])).subtree(body["id"])  # type: ignore[return-value]


def body_title(body: dict) -> str:
    """A body's name as a feed calls it: with its qualifier when another body has the same name."""
    return f"{body['name']}（{body['qualifier']}）" if body.get("qualifier") else body["name"]


def requalify(rows: Rows, names: Iterable[str]) -> list[dict]:
    """Recompute the qualifier of every body called one of ``names``; returns the bodies whose
    qualifier changed (written).  A body whose name another body shares is qualified by its
    programme, and by its parent too when the twin is in the same programme."""
    changed = []
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
                changed.append(b)
    return changed


def programme_created(e: o.ProgrammeCreated, rows: Rows) -> None:
    rows.put(PROGRAMMES, {"id": e.oid, "name": e.name, "section": e.section.value, "ord": e.order,
                          "description": e.description, "dissolved_on": None})


def body_created(e: o.BodyCreated, rows: Rows) -> dict:
    parent = rows.get(BODIES, str(e.parent_id)) if e.parent_id else None
    ancestors = ",".join(a for a in ((parent["ancestors"] or "").split(",") + [parent["id"]]) if a) if parent else ""
    row = {"id": e.oid, "name": e.name, "kind": e.kind.value, "programme_id": str(e.programme_id),
           "parent_id": str(e.parent_id) if e.parent_id else None, "ancestors": ancestors,
           "ord": e.order, "own_public": int(e.public), "public": int(e.public and (parent is None or bool(parent["public"]))),
           "description": e.description, "dissolved_on": None, "qualifier": None}
    rows.put(BODIES, row)
    return row


def set_visibility(rows: Rows, body: dict, public: bool) -> list[dict]:
    """Set a body's own flag; returns its subtree with ``public`` recomputed (written)."""
    body["own_public"] = int(public)
    rows.put(BODIES, body)
    out = []
    for b in subtree(rows, body):
        parent = rows.get(BODIES, b["parent_id"]) if b["parent_id"] else None
        b["public"] = int(bool(b["own_public"]) and (parent is None or bool(parent["public"])))
        rows.put(BODIES, b)
        out.append(b)
    return out


def member_created(e: o.MemberCreated, rows: Rows) -> None:
    rows.put(MEMBERS, {"id": e.oid, "name": e.name, "code": e.code, "dissolved_on": None})


def joined(e: o.BodyMemberJoined | o.ProgrammeMemberJoined, rows: Rows) -> None:
    rows.put(ROSTER, {"owner_id": e.oid, "member_id": str(e.member_id), "since": e.since.isoformat(),
                      "until": None})


def left(e: o.BodyMemberLeft | o.ProgrammeMemberLeft, rows: Rows) -> None:
    for span in rows.find(ROSTER, owner_id=e.oid, member_id=str(e.member_id), until=None):
        span["until"] = e.until.isoformat()
        rows.put(ROSTER, span)


def _set(table, **columns_of):  # type: ignore[no-untyped-def]
    return lambda e, rows: update_row(rows, table, e.oid, **{c: f(e) for c, f in columns_of.items()})


# facts that change no feed's content: the mirror row alone
HANDLERS = {
    o.ProgrammeDescribed: _set(PROGRAMMES, description=lambda e: e.description),
    o.ProgrammeReordered: _set(PROGRAMMES, ord=lambda e: e.order),
    o.ProgrammeDissolved: _set(PROGRAMMES, dissolved_on=lambda e: e.on.isoformat()),
    o.BodyDescribed: _set(BODIES, description=lambda e: e.description),
    o.BodyReordered: _set(BODIES, ord=lambda e: e.order),
    o.BodyDissolved: _set(BODIES, dissolved_on=lambda e: e.on.isoformat()),
}
