"""Organisation read model: programmes, bodies, member organisations and rosters.

Event in, rows out.  Used to resolve names typed by users and by every renderer.
"""

from __future__ import annotations

from ..domain import organisation as o
from .common import update_row as _update
from .runtime import Rows, SQLRows, Table

NAME = "organisation"
VERSION = 1

PROGRAMMES = Table("rm_programmes", {
    "id": "text", "name": "text", "section": "text", "ord": "int", "description": "text",
    "dissolved_on": "text", "created_at": "text"}, ("id",), resident=True)
BODIES = Table("rm_bodies", {
    "id": "text", "name": "text", "kind": "text", "programme_id": "text", "parent_id": "text", "ord": "int",
    "depth": "int", "inline": "int", "public": "int", "description": "text", "dissolved_on": "text",
    "created_at": "text"}, ("id",), indexes=(("programme_id",), ("parent_id",)), resident=True)
MEMBERS = Table("rm_members", {
    "id": "text", "name": "text", "kind": "text", "member_class": "text", "code": "text",
    "dissolved_on": "text", "former_names": "text"}, ("id",), resident=True)
ROSTER = Table("rm_roster", {
    "owner_id": "text", "member_id": "text", "since": "text", "until": "text"}, ("owner_id", "member_id", "since"),
    indexes=(("member_id",),), resident=True)
TABLES = [PROGRAMMES, BODIES, MEMBERS, ROSTER]   # organisation-sized: resident (see Table)




def _programme_created(e: o.ProgrammeCreated, rows: Rows) -> None:
    rows.put(PROGRAMMES, {"id": e.oid, "name": e.name, "section": e.section.value, "ord": e.order,
                          "description": e.description, "dissolved_on": None, "created_at": e.timestamp.isoformat()})


def _body_created(e: o.BodyCreated, rows: Rows) -> None:
    rows.put(BODIES, {"id": e.oid, "name": e.name, "kind": e.kind.value,
                      "programme_id": str(e.programme_id), "parent_id": str(e.parent_id) if e.parent_id else None,
                      "ord": e.order, "depth": e.depth, "inline": int(e.inline), "public": int(e.public),
                      "description": e.description, "dissolved_on": None, "created_at": e.timestamp.isoformat()})


def _member_created(e: o.MemberCreated, rows: Rows) -> None:
    rows.put(MEMBERS, {"id": e.oid, "name": e.name, "kind": e.kind.value,
                       "member_class": e.member_class.value, "code": e.code, "dissolved_on": None, "former_names": ""})


def _member_renamed(e: o.MemberRenamed, rows: Rows) -> None:
    row = rows.get(MEMBERS, e.oid)
    if row is not None:
        former = [n for n in (row["former_names"] or "").split("\n") if n] + [row["name"]]
        row.update(name=e.name, former_names="\n".join(former))
        rows.put(MEMBERS, row)


def _joined(e: o.BodyMemberJoined | o.ProgrammeMemberJoined, rows: Rows) -> None:
    rows.put(ROSTER, {"owner_id": e.oid, "member_id": str(e.member_id),
                      "since": e.since.isoformat(), "until": None})


def _left(e: o.BodyMemberLeft | o.ProgrammeMemberLeft, rows: Rows) -> None:
    spans = rows.find(ROSTER, order=("since",), owner_id=e.oid, member_id=str(e.member_id), until=None)
    for span in spans:
        span["until"] = e.until.isoformat()
        rows.put(ROSTER, span)


HANDLERS = {
    o.ProgrammeCreated: _programme_created,
    o.ProgrammeRenamed: lambda e, rows: _update(rows, PROGRAMMES, e.oid, name=e.name),
    o.ProgrammeDescribed: lambda e, rows: _update(rows, PROGRAMMES, e.oid, description=e.description),
    o.ProgrammeReordered: lambda e, rows: _update(rows, PROGRAMMES, e.oid, ord=e.order),
    o.ProgrammeDissolved: lambda e, rows: _update(rows, PROGRAMMES, e.oid, dissolved_on=e.on.isoformat()),
    o.ProgrammeMemberJoined: _joined,
    o.ProgrammeMemberLeft: _left,
    o.BodyCreated: _body_created,
    o.BodyRenamed: lambda e, rows: _update(rows, BODIES, e.oid, name=e.name),
    o.BodyDescribed: lambda e, rows: _update(rows, BODIES, e.oid, description=e.description),
    o.BodyReordered: lambda e, rows: _update(rows, BODIES, e.oid, ord=e.order),
    o.BodyVisibilityChanged: lambda e, rows: _update(rows, BODIES, e.oid, public=int(e.public)),
    o.BodyDissolved: lambda e, rows: _update(rows, BODIES, e.oid, dissolved_on=e.on.isoformat()),
    o.BodyMemberJoined: _joined,
    o.BodyMemberLeft: _left,
    o.MemberCreated: _member_created,
    o.MemberRenamed: _member_renamed,
    o.MemberReclassified: lambda e, rows: _update(rows, MEMBERS, e.oid, member_class=e.member_class.value),
    o.MemberDissolved: lambda e, rows: _update(rows, MEMBERS, e.oid, dissolved_on=e.on.isoformat()),
}


# --- named queries --------------------------------------------------------------------------------

def roster_owners(rows: SQLRows) -> set[str]:
    """Ids of the bodies and programmes that have a roster (anyone, ever)."""
    return {r[0] for r in rows.execute(f"SELECT DISTINCT owner_id FROM {ROSTER.name}")}


def has_roster(rows: SQLRows, owner_id: str) -> bool:
    return bool(rows.execute(f"SELECT 1 FROM {ROSTER.name} WHERE owner_id = ? LIMIT 1", (owner_id,)))


def roster_spans(rows: SQLRows, first: str, last: str) -> list[tuple[str, str, str, str | None]]:
    """(owner id, member id, since, until) of the memberships overlapping ``first``…``last`` (ISO dates)."""
    return [tuple(r) for r in rows.execute(  # type: ignore[misc]
        f"SELECT owner_id, member_id, since, until FROM {ROSTER.name} WHERE since <= ? AND (until IS NULL OR until >= ?)"
        " ORDER BY owner_id, member_id, since", (last, first))]


def roster_members_on(rows: SQLRows, owner_id: str, day: str) -> list[str]:
    """Ids of the members on ``owner_id``'s roster on ``day`` (ISO) and not dissolved by then."""
    return [r[0] for r in rows.execute(
        f"SELECT DISTINCT r.member_id FROM {ROSTER.name} r JOIN {MEMBERS.name} m ON m.id = r.member_id"
        " WHERE r.owner_id = ? AND r.since <= ? AND (r.until IS NULL OR r.until >= ?)"
        " AND (m.dissolved_on IS NULL OR m.dissolved_on > ?)", (owner_id, day, day, day))]
