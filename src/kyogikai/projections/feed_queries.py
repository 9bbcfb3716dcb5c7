"""Named queries on the ``feeds`` read model (:mod:`kyogikai.projections.feeds`): what the feed
service and the pages ask of its tables, so that no SQL lives outside the projections.

(A module of its own beside the projection, which stays "event in, rows out".)
"""

from __future__ import annotations

from typing import Any

from .feeds import ENTRIES, ITEMS
from .runtime import SQLRows


def feed_items(rows: SQLRows, feed_key: str, private: bool) -> list[dict[str, Any]]:
    """The items of one feed; only the public ones unless ``private``."""
    cols = ", ".join(f"i.{c}" for c in ITEMS.columns)
    sql = (f"SELECT {cols} FROM {ENTRIES.name} e JOIN {ITEMS.name} i ON i.id = e.item_id "
           "WHERE e.feed_key = ?" + ("" if private else " AND i.public = 1"))
    return [dict(zip(ITEMS.columns, r)) for r in rows.execute(sql, [feed_key])]


def upcoming_public(rows: SQLRows, today: str, limit: int) -> list[dict[str, Any]]:
    """Public items not over by ``today`` (ISO), soonest first."""
    found = rows.execute(f"SELECT {', '.join(ITEMS.columns)} FROM {ITEMS.name} WHERE public = 1 AND end_date >= ? "
                         "ORDER BY start_date, COALESCE(start_time, ''), end_date, id LIMIT ?", [today, limit])
    return [dict(zip(ITEMS.columns, r)) for r in found]
