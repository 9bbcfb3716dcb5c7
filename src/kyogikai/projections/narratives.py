"""Narratives read model: the prose of each fiscal year's report, per programme and per body.

Event in, rows out: each NarrativeWritten replaces the paragraphs of its (fiscal year, target).
"""

from __future__ import annotations

import json

from ..domain.meeting import NarrativeWritten
from .runtime import Rows, Table

NAME = "narratives"
VERSION = 1

NARRATIVES = Table("rm_narratives", {
    "fiscal_year": "int", "target_id": "text", "target": "text", "paragraphs": "text", "updated_at": "text"},
    ("fiscal_year", "target_id"), resident=True)   # tens of rows a year: read whole by a rebuild piece or an import
TABLES = [NARRATIVES]


def _written(e: NarrativeWritten, rows: Rows) -> None:
    rows.put(NARRATIVES, {"fiscal_year": e.fiscal_year, "target_id": str(e.target_id), "target": e.target,
                          "paragraphs": json.dumps(e.paragraphs, ensure_ascii=False),
                          "updated_at": e.timestamp.isoformat()})


HANDLERS = {NarrativeWritten: _written}
