"""Small helpers shared by several projections."""

from __future__ import annotations

from typing import Any

from ..domain.meeting import MeetingDetailsChanged, When
from .runtime import Rows, Table

def update_row(rows: Rows, table: Table, id: str, **changes: object) -> None:
    """Change some columns of one row, if the row exists."""
    row = rows.get(table, id)
    if row is not None:
        row.update(changes)
        rows.put(table, row)


def when_columns(e: When) -> dict[str, Any]:
    """The date columns of a meeting or activity (ISO dates, HH:MM times in Asia/Tokyo)."""
    return {"start_date": e.start.isoformat(), "end_date": e.end.isoformat(), "precision": e.precision,
            "start_time": e.start_time.strftime("%H:%M") if e.start_time else None,
            "end_time": e.end_time.strftime("%H:%M") if e.end_time else None}


def detail_columns(e: MeetingDetailsChanged) -> dict[str, Any]:
    """The columns a change of title, format or venue sets (only those the event names)."""
    changes = {k: getattr(e, k) for k in e.changed}
    if changes.get("format") is not None:
        changes["format"] = changes["format"].value
    return changes
