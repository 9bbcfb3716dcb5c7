"""Council settings read model: one row with the council's current settings (domain/council.py).

Event in, row out: each CouncilSettingsChanged replaces the row (the event holds the complete
settings).  Read by pages, feeds and the report, so none of them reads the log.
"""

from __future__ import annotations

from ..domain.council import CouncilSettingsChanged
from .runtime import Rows, Table

NAME = "council"
VERSION = 1

COUNCIL = Table("rm_council", {
    "id": "text", "name": "text", "short_name": "text", "base_url": "text", "document_font": "text",
    "changed_at": "text", "changed_by": "text"}, ("id",))
TABLES = [COUNCIL]
ROW_ID = "council"


def _changed(e: CouncilSettingsChanged, rows: Rows) -> None:
    rows.put(COUNCIL, {"id": ROW_ID, "name": e.name, "short_name": e.short_name, "base_url": e.base_url,
                       "document_font": e.document_font, "changed_at": e.timestamp.isoformat(),
                       "changed_by": e.actor})


HANDLERS = {CouncilSettingsChanged: _changed}
