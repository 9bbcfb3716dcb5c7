"""The annual report in the console: ``/console/report`` (view) and ``/console/report/download``.

``?fiscal_year=令和5年度`` (default: the current fiscal year) and ``&as_of=令和5年12月31日`` (the
report as the log stood at the end of that day, Asia/Tokyo) take what ``kyogikai report`` takes.
The page shows the text rendering; downloads come as attachments in the CLI's four formats (text,
Markdown, HTML, Word), named ``report-fy2023[-asof-2023-12-31].<ext>``.  The same
``report_doc`` / ``render`` as the CLI.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Callable

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ... import dates
from ...dates import DateError
from ...report.service import render, report_doc
from . import Ctx
from .forms import Form, date_ja

KINDS = {"text": ("txt", "text/plain; charset=utf-8", "テキスト"),
         "markdown": ("md", "text/markdown; charset=utf-8", "Markdown"),
         "html": ("html", "text/html; charset=utf-8", "HTML（印刷用）"),
         "docx": ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "Word")}


def _params(ctx: Ctx) -> tuple[Form, int, Any]:
    q = ctx.request.query_params
    form = Form({"fiscal_year": q.get("fiscal_year", ""), "as_of": q.get("as_of", "")})
    fy = dates.fiscal_year(ctx.console.site.today())
    if form.get("fiscal_year"):
        try:
            fy = dates.parse_fiscal_year(form.get("fiscal_year"))
        except DateError:
            form.error("fiscal_year", "年度を読み取れません（例: 令和5年度、R5、2023）。")
    as_of = None
    if form.get("as_of"):
        try:
            as_of = dates.parse_date(form.get("as_of"))
        except DateError:
            form.error("as_of", "日付を読み取れません（例: 令和5年12月31日、2023-12-31）。")
    return form, fy, as_of


def report_page(ctx: Ctx) -> Response:
    form, fy, as_of = _params(ctx)
    text = None
    if form.ok:
        text = render(report_doc(ctx.app, fy, as_of), "text")
    query = f"fiscal_year={fy}" + (f"&as_of={as_of.isoformat()}" if as_of else "")
    return ctx.render("console_report.html", status=200 if form.ok else 400, form=form, text=text,
                      fy_ja=dates.format_fiscal_year(fy), as_of_ja=date_ja(as_of) if as_of else None,
                      query=query, kinds=KINDS)


def download(ctx: Ctx) -> Response:
    form, fy, as_of = _params(ctx)
    kind = ctx.request.query_params.get("format", "text")
    if not form.ok or kind not in KINDS:
        return ctx.console.refuse(ctx.request, 400, "年度・日付・形式を確認してください。", ctx.session)
    ext, media, _ = KINDS[kind]
    doc = report_doc(ctx.app, fy, as_of)
    if kind == "docx":
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "report.docx"
            render(doc, "docx", path)
            body: bytes = path.read_bytes()
    else:
        body = (render(doc, kind) or "").encode("utf-8")
    name = f"report-fy{fy}" + (f"-asof-{as_of.isoformat()}" if as_of else "") + f".{ext}"
    resp = Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})
    resp.headers.update(ctx.console.headers)
    return resp


def routes(p: Callable[..., Any]) -> list[BaseRoute]:
    return [Route("/console/report", p(report_page)), Route("/console/report/download", p(download))]
