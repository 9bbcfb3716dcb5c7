"""Producing a fiscal year's report from the application: current, or ``--as-of`` a day."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from ..app import Kyogikai, UserError
from ..projections import answers, narratives, organisation, schedule
from .build import build_report
from .document import ReportDoc

TOKYO = ZoneInfo("Asia/Tokyo")
REPORT_PROJECTIONS = [organisation, schedule, narratives, answers]
FORMATS = ("text", "markdown", "html", "docx")


def report_doc(app: Kyogikai, fiscal_year: int, as_of: dt.date | None = None) -> ReportDoc:
    """The report from the stored read models, or as the log stood at the end of ``as_of`` (Tokyo)."""
    if as_of is None:
        app.sync()
        with app.reads.transaction(write=False) as rows:
            return build_report(rows, fiscal_year)
    until = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(0), TOKYO) - dt.timedelta(microseconds=1)
    memory = app.as_of(until.astimezone(dt.timezone.utc), REPORT_PROJECTIONS)
    with memory.transaction(write=False) as rows:
        return build_report(rows, fiscal_year)


def render(doc: ReportDoc, fmt: str, path: Path | None = None) -> str | None:
    """Render ``doc``; text formats return a string (and write it when ``path`` is given)."""
    if fmt == "docx":
        if path is None:
            raise UserError("--format: docx needs -o FILE")
        from .docx import render_docx

        render_docx(doc, path)
        return None
    if fmt == "text":
        from .text import render_text as fn
    elif fmt == "markdown":
        from .text import render_markdown as fn
    elif fmt == "html":
        from .html import render_html as fn
    else:
        raise UserError(f"--format: {fmt!r} is not one of {', '.join(FORMATS)}")
    out = fn(doc)
    if path is not None:
        path.write_text(out, encoding="utf-8")
    return out
