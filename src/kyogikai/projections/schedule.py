"""Schedule read model: one row per meeting or activity with its current date, format and status.

Event in, rows out.  ``sequence`` counts significant changes (date, time, place, format, title,
status) for calendar feeds; ``updated_at`` is the time of the last change.
"""

from __future__ import annotations

import json
from typing import Sequence

from ..domain import meeting as m
from ..domain.events import DomainEvent
from ..dates import fiscal_year as fiscal_year_of
from .common import detail_columns, when_columns
from .runtime import Rows, SQLRows, Table

NAME = "schedule"
VERSION = 2

MEETINGS = Table("rm_meetings", {
    "id": "text", "kind": "text", "programme_id": "text", "body_id": "text", "fiscal_year": "int",
    "ordinal": "int", "part": "int", "series": "text", "title": "text", "speaker": "text", "refers_to": "text",
    "start_date": "text", "end_date": "text", "precision": "text", "start_time": "text", "end_time": "text",
    "format": "text", "format_label": "text", "venue": "text", "modes": "text", "status": "text",
    "cancel_reason": "text", "sequence": "int", "agenda_count": "int", "created_at": "text", "updated_at": "text"},
    ("id",),
    indexes=(("fiscal_year", "start_date"), ("body_id", "start_date"), ("programme_id", "start_date")))
AGENDA = Table("rm_agenda", {
    "meeting_id": "text", "item_id": "text", "pos": "int", "text": "text", "withdrawn": "int", "outcome": "text"},
    ("meeting_id", "item_id"))
TABLES = [MEETINGS, AGENDA]


def _when(e: m.When) -> dict:
    return {**when_columns(e), "fiscal_year": fiscal_year_of(e.start)}


def _change(e: DomainEvent, rows: Rows, significant: bool = True, row: dict | None = None, **changes: object) -> None:
    """The meeting's row (``row``: as the caller already read it) with ``changes``."""
    row = rows.get(MEETINGS, e.oid) if row is None else row
    if row is None:
        return
    row.update(changes)
    if significant:
        row["sequence"] += 1
    row["updated_at"] = e.timestamp.isoformat()
    rows.put(MEETINGS, row)


def _scheduled(e: m.MeetingScheduled, rows: Rows) -> None:
    at = e.timestamp.isoformat()
    rows.put(MEETINGS, {
        "id": e.oid, "kind": e.kind.value, "programme_id": str(e.programme_id),
        "body_id": str(e.body_id) if e.body_id else None, "ordinal": e.ordinal, "part": e.part, "series": e.series,
        "title": e.title, "speaker": e.speaker, "refers_to": str(e.refers_to) if e.refers_to else None,
        **_when(e), "format": e.format.value if e.format else None, "format_label": e.format_label,
        "venue": e.venue, "modes": json.dumps([x.value for x in e.modes]), "status": m.Status.SCHEDULED.value,
        "cancel_reason": None, "sequence": 0, "agenda_count": 0, "created_at": at, "updated_at": at})


def _held(e: m.MeetingHeld, rows: Rows) -> None:
    row = rows.get(MEETINGS, e.oid)
    if row is None:
        return
    when = _when(e)
    moved = any(row[k] != v for k, v in when.items())
    _change(e, rows, significant=moved, row=row, status=m.Status.HELD.value, **when)


def _details(e: m.MeetingDetailsChanged, rows: Rows) -> None:
    _change(e, rows, **detail_columns(e))


def _agenda_added(e: m.AgendaItemAdded, rows: Rows) -> None:
    meeting = rows.get(MEETINGS, e.oid)
    if meeting is None:
        return
    meeting["agenda_count"] += 1
    rows.put(AGENDA, {"meeting_id": e.oid, "item_id": str(e.item_id), "pos": meeting["agenda_count"],
                      "text": e.text, "withdrawn": 0, "outcome": None})
    meeting["updated_at"] = e.timestamp.isoformat()
    rows.put(MEETINGS, meeting)


def _agenda_update(e: m.AgendaItemWithdrawn | m.OutcomeRecorded, rows: Rows, **changes: object) -> None:
    row = rows.get(AGENDA, e.oid, str(e.item_id))
    if row is not None:
        row.update(changes)
        rows.put(AGENDA, row)
        _change(e, rows, significant=False)




HANDLERS = {
    m.MeetingScheduled: _scheduled,
    m.MeetingRescheduled: lambda e, rows: _change(e, rows, **_when(e)),
    m.MeetingDetailsChanged: _details,
    m.MeetingCancelled: lambda e, rows: _change(e, rows, status=m.Status.CANCELLED.value, cancel_reason=e.reason),
    m.MeetingReinstated: lambda e, rows: _change(e, rows, status=m.Status.SCHEDULED.value, cancel_reason=None),
    m.MeetingHeld: _held,
    m.AgendaItemAdded: _agenda_added,
    m.AgendaItemWithdrawn: lambda e, rows: _agenda_update(e, rows, withdrawn=1),
    m.OutcomeRecorded: lambda e, rows: _agenda_update(e, rows, outcome=e.outcome),
}


# --- named queries (the application and the web read this table through these) ----------------

def by_prefix_sql(prefix: str) -> tuple[str, tuple[str, str]]:
    """SQL and parameters for the whole rows (columns in ``MEETINGS.columns`` order) of at most two
    meetings whose id starts with ``prefix`` (lower-case hex and '-').  A range on the primary key
    (ids are lower-case hex and '-', all below 'g'): an index seek on both databases, where LIKE
    would scan every meeting.  For :meth:`Runtime.fresh_read`, which sends it with the freshness
    check in one round trip, and :meth:`Context.query`."""
    return (f"SELECT {', '.join(MEETINGS.columns)} FROM {MEETINGS.name} WHERE id >= ? AND id < ? ORDER BY id LIMIT 2",
            (prefix, prefix + "g"))


def ids_where(rows: SQLRows, fiscal_year: int | None = None, body_id: str | None = None) -> set[str]:
    """Ids of the meetings of a fiscal year and/or of a body (every meeting without either)."""
    where, params = [], []
    if fiscal_year is not None:
        where.append("fiscal_year = ?")
        params.append(fiscal_year)
    if body_id is not None:
        where.append("body_id = ?")
        params.append(body_id)
    sql = f"SELECT id FROM {MEETINGS.name}" + (" WHERE " + " AND ".join(where) if where else "")
    return {r[0] for r in rows.execute(sql, params)}


def existing_ids(rows: SQLRows, ids: Sequence[str]) -> set[str]:
    """Which of ``ids`` are meetings."""
    ids = list(ids)
    if not ids:
        return set()
    return {r[0] for r in rows.execute(f"SELECT id FROM {MEETINGS.name} WHERE id IN ({', '.join('?' * len(ids))})",
                                       ids)}


def fiscal_years(rows: SQLRows) -> set[int]:
    """Every fiscal year holding a meeting or activity."""
    return {int(r[0]) for r in rows.execute(f"SELECT DISTINCT fiscal_year FROM {MEETINGS.name}")}


def upcoming_ids(rows: SQLRows, today: str, limit: int) -> list[str]:
    """Ids of the scheduled meetings not over by ``today`` (ISO), soonest first."""
    return [r[0] for r in rows.execute(f"SELECT id FROM {MEETINGS.name} WHERE end_date >= ? AND status = 'scheduled' "
                                       "ORDER BY start_date, created_at LIMIT ?", (today, limit))]


def body_meetings_from(rows: SQLRows, day: str) -> list[dict]:
    """Meetings of a body not over by ``day`` (ISO), by date and time."""
    return [dict(zip(MEETINGS.columns, r)) for r in rows.execute(
        f"SELECT {', '.join(MEETINGS.columns)} FROM {MEETINGS.name} WHERE end_date >= ? AND body_id IS NOT NULL"
        " ORDER BY start_date, start_time, id", (day,))]
