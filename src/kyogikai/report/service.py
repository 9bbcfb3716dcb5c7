"""Producing a fiscal year's report from the application: current, or ``--as-of`` a day."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Callable
from zoneinfo import ZoneInfo

from ..app import Kyogikai, UserError
from ..i18n import M
from ..domain.council import DEFAULT_NAME
from ..projections import answers, narratives, organisation, schedule
from .build import build_report
from .document import ReportDoc

TOKYO = ZoneInfo("Asia/Tokyo")
REPORT_PROJECTIONS = [organisation, schedule, narratives, answers]
FORMATS = ("text", "markdown", "html", "docx", "pdf")
PDF_TIMEOUT = 300  # seconds for LibreOffice to convert one report


def report_doc(app: Kyogikai, fiscal_year: int, as_of: dt.date | None = None) -> ReportDoc:
    """The report from the stored read models, or as the log stood at the end of ``as_of`` (Tokyo)."""
    if as_of is None:
        app.sync()
        with app.snapshot() as rows:
            return build_report(rows, fiscal_year)
    until = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(0), TOKYO) - dt.timedelta(microseconds=1)
    memory = app.as_of(until.astimezone(dt.timezone.utc), REPORT_PROJECTIONS)
    with memory.transaction(write=False) as rows:
        return build_report(rows, fiscal_year)


def render(doc: ReportDoc, fmt: str, path: Path | None = None, *, council: str | None = None,
           font: str = "yu") -> str | None:
    """Render ``doc``; text formats return a string (and write it when ``path`` is given).

    ``council`` is the council's name (its settings): the HTML page's title and issuer line, the
    Word file's author and issuer line; the text and Markdown keep the reference's title line
    alone.  ``font`` is the Word file's fonts (``yu`` or ``ms``).
    """
    from ..files import write_output

    council = council or DEFAULT_NAME
    if fmt in ("docx", "pdf"):
        if path is None:
            raise UserError(M("--format: {format} needs -o FILE", format=fmt))
        import io

        from .docx import render_docx

        if fmt == "docx":
            buffer = io.BytesIO()  # rendered whole in memory: a failed write leaves no half-written zip behind
            render_docx(doc, buffer, council=council, font=font)
            write_output(path, buffer.getvalue(), option="--output")
        else:
            to_pdf(lambda target: render_docx(doc, target, council=council, font=font), path)
        return None
    if fmt == "text":
        from .text import render_text as fn
    elif fmt == "markdown":
        from .text import render_markdown as fn
    elif fmt == "html":
        from .html import render_html as fn
    else:
        raise UserError(M("--format: {format!r} is not one of {choices}", format=fmt, choices=", ".join(FORMATS)))
    out = fn(doc, council=council) if fmt == "html" else fn(doc)
    if path is not None:
        write_output(path, out.encode("utf-8"), option="--output")
    return out


def soffice() -> str | None:
    """LibreOffice's command, when installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def to_pdf(write_docx: Callable[[Path], None], path: Path) -> None:
    """Write the Word file to a scratch folder, convert it with LibreOffice (headless, a profile of
    its own so it never meets a running LibreOffice), and move the PDF to ``path``."""
    exe = soffice()
    if exe is None:
        raise UserError(M("--format: pdf needs LibreOffice (the soffice command; Debian: apt-get install "
                          "libreoffice-writer-nogui); write --format docx instead"))
    with tempfile.TemporaryDirectory(prefix="kyogikai-pdf-") as tmp:
        source = Path(tmp) / "report.docx"
        write_docx(source)
        try:
            r = subprocess.run([exe, f"-env:UserInstallation={Path(tmp, 'profile').as_uri()}", "--headless",
                                "--norestore", "--convert-to", "pdf:writer_pdf_Export", "--outdir", tmp, str(source)],
                               capture_output=True, text=True, timeout=PDF_TIMEOUT, env={**os.environ, "HOME": tmp})
        except subprocess.TimeoutExpired:
            raise UserError(M("pdf: LibreOffice did not finish within {seconds} s", seconds=PDF_TIMEOUT)) from None
        produced = Path(tmp) / "report.pdf"
        if r.returncode != 0 or not produced.is_file():
            why = " ".join((r.stderr or r.stdout or "no output").split())[:300]
            raise UserError(M("pdf: LibreOffice could not convert the report ({reason})", reason=why))
        from ..files import write_output

        write_output(path, produced.read_bytes(), option="--output")
