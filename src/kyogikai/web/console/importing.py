"""Import of a past annual report in the console: upload, preview, then all or nothing.

- ``GET /console/import`` — the upload form (a UTF-8 text file as it comes out of PDF or Word, at
  most 5 MB — the CLI's limit; optional fiscal year overriding the title's).
- ``POST /console/import/preview`` — parses the file with the importer's parser and lists **every**
  line it cannot place, with its number; a file with such lines is refused whole (nothing is
  imported; correct the file and upload it again).  A clean file shows what it holds (fiscal
  year, headings, entries, paragraphs) and one button to import it.
- ``POST /console/import/run`` — ``import_report_text`` (the command of ``kyogikai import-report``:
  all or nothing in one transaction; importing the same file twice writes nothing and says so).

Decision: between preview and import the uploaded text waits on the server (in memory, for the
session that uploaded it, at most ``KEEP`` seconds, ``MAX_KEPT`` files), keyed by a random id in a
hidden field; the browser does not send 5 MB twice, and a restart simply asks for the file again.
"""

from __future__ import annotations

import secrets
import time
from typing import Any, Callable

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ... import dates
from ...app import ConflictError, UserError
from ...dates import DateError
from ...domain.events import DomainError
from ...report.importer import ImportRefused, import_report_text
from ...report.parse import parse_report
from . import Ctx, messages
from .forms import Form

MAX_BYTES = 5_000_000
KEEP = 30 * 60
MAX_KEPT = 20
_kept: dict[str, tuple[float, str, str, int | None, str]] = {}   # id -> (at, user, text, fy, filename)


def _prune(now: float) -> None:
    for k in [k for k, v in _kept.items() if now - v[0] > KEEP]:
        del _kept[k]
    while len(_kept) >= MAX_KEPT:
        del _kept[min(_kept, key=lambda k: _kept[k][0])]


def _fy(form: Form) -> int | None:
    if not form.get("fiscal_year"):
        return None
    try:
        return dates.parse_fiscal_year(form.get("fiscal_year"))
    except DateError:
        form.error("fiscal_year", "年度を読み取れません（例: 令和5年度、R5、2023）。")
        return None


def upload_page(ctx: Ctx) -> Response:
    return ctx.render("console_import.html", form=Form(), stage="upload")


def preview(ctx: Ctx) -> Response:
    form = ctx.form
    fy = _fy(form)
    upload = ctx.data.get("file")
    text = None
    name = ""
    if not isinstance(upload, dict) or not upload.get("data"):
        form.error("file", "ファイルを選んでください。")
    elif len(upload["data"]) > MAX_BYTES:
        form.error("file", f"ファイルが大きすぎます（{len(upload['data']):,}バイト。上限は{MAX_BYTES:,}バイト）。")
    else:
        name = str(upload.get("filename") or "report.txt")[:200]
        from ...files import decode_text

        try:
            text = decode_text(upload["data"], option="file")[0]   # UTF-8, else Shift_JIS (CP932)
        except UserError:
            form.error("file", "UTF-8またはシフトJISのテキストファイルではありません。"
                               "Wordの場合は「テキスト（UTF-8）」で保存してください。")
    if not form.ok or text is None:
        return ctx.render("console_import.html", status=400, form=form, stage="upload")
    parsed = parse_report(text, fiscal_year=fy)
    problems = [{"line": p.line, "text": p.text, "reason": messages.translate(p.reason)[1]}
                for p in parsed.problems if p.line > 0]
    notes = [messages.translate(p.reason)[1] for p in parsed.problems if p.line == 0]
    doc = parsed.doc
    summary = {"fy": dates.format_fiscal_year(doc.fiscal_year), "headings": len(doc.headings()),
               "entries": len(doc.entries()), "paragraphs": len(doc.paragraphs()), "sections": len(doc.sections)}
    upload_id = None
    if not problems and doc.sections:
        now = time.time()
        _prune(now)
        upload_id = secrets.token_urlsafe(16)
        _kept[upload_id] = (now, ctx.session.name, text, fy, name)
    status = 200 if upload_id else 400
    return ctx.render("console_import.html", status=status, form=form, stage="preview", problems=problems,
                      notes=notes, summary=summary, upload_id=upload_id, filename=name)


def run(ctx: Ctx) -> Response:
    form = ctx.form
    kept = _kept.get(form.get("upload"))
    if kept is None or kept[1] != ctx.session.name or time.time() - kept[0] > KEEP:
        form.error(None, "取り込むファイルが見つかりません（30分を過ぎたか、サーバーが再起動しました）。もう一度アップロードしてください。")
        return ctx.render("console_import.html", status=400, form=form, stage="upload")
    _, _, text, fy, name = kept
    try:
        result = import_report_text(ctx.app, text, fy)
    except ImportRefused as exc:
        problems = [{"line": p.line, "text": p.text, "reason": messages.translate(p.reason)[1]} for p in exc.problems]
        return ctx.render("console_import.html", status=400, form=form, stage="preview", problems=problems, notes=[],
                          summary=None, upload_id=None, filename=name)
    except ConflictError:
        form.error(None, messages.CONFLICT)
        return ctx.render("console_import.html", status=409, form=form, stage="upload")
    except (UserError, DomainError, DateError) as exc:
        form.app_error(exc)
        return ctx.render("console_import.html", status=400, form=form, stage="upload")
    _kept.pop(form.get("upload"), None)
    return ctx.render("console_import.html", form=Form(), stage="done", result=result, filename=name,
                      fy_ja=dates.format_fiscal_year(result.fiscal_year))


def routes(p: Callable[..., Any]) -> list[BaseRoute]:
    return [Route("/console/import", p(upload_page)),
            Route("/console/import/preview", p(preview), methods=["POST"]),
            Route("/console/import/run", p(run), methods=["POST"])]
