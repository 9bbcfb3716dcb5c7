"""The annual report's narratives: ``/console/narratives`` (the year's list) and its edit form.

``/console/narratives?fiscal_year=令和5年度`` lists the year's narratives by programme and body with
a link to edit each; ``/console/narratives/edit?fiscal_year=…&target=body|programme&name=…`` shows the
current paragraphs (blank lines between paragraphs, as ``narrative set --file``) and saves through
``Kyogikai.write_narrative`` — the command of ``kyogikai narrative set``.  Saving over a text someone
else changed since the form was shown is refused with the input kept (the form carries the
narrative's version).
"""

from __future__ import annotations

import json
from typing import Any, Callable
from urllib.parse import urlencode
from uuid import UUID

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ... import dates
from ...app import ConflictError, UserError
from ...dates import DateError
from ...domain import meeting as mt
from ...domain.events import DomainError
from ...projections import organisation as org_rm
from ...projections.narratives import NARRATIVES
from . import Ctx, expect_version, messages
from .forms import Form

APP_ERRORS = (UserError, DomainError, DateError)


def _fy(ctx: Ctx, form: Form) -> int | None:
    text = form.get("fiscal_year")
    if not text:
        return dates.fiscal_year(ctx.console.site.today())
    try:
        return dates.parse_fiscal_year(text)
    except DateError:
        form.error("fiscal_year", "年度を読み取れません（例: 令和5年度、R5、2023）。")
        return None


def list_page(ctx: Ctx) -> Response:
    form = Form({"fiscal_year": ctx.request.query_params.get("fiscal_year", "")})
    fy = _fy(ctx, form)
    rows: list[dict[str, Any]] = []
    if fy is not None:
        ctx.app.sync()
        paths = ctx.app.body_paths()
        progs = {p["id"]: p for p in ctx.app.rows(org_rm.PROGRAMMES, order=("ord",))}
        written = {r["target_id"]: r for r in ctx.app.rows(NARRATIVES, fiscal_year=fy)}
        for p in progs.values():
            rows.append({"target": "programme", "name": p["name"], "label": p["name"], "text": written.get(p["id"])})
        for bid, path in sorted(paths.items(), key=lambda kv: kv[1]):
            rows.append({"target": "body", "name": "/".join(path[1:]), "label": " / ".join(path),
                         "text": written.get(bid)})
        for r in rows:
            r["paragraphs"] = json.loads(r["text"]["paragraphs"]) if r["text"] else []
            r["edit"] = "/console/narratives/edit?" + urlencode({"fiscal_year": fy, "target": r["target"],
                                                                 "name": r["name"]})
    return ctx.render("console_narratives.html", status=200 if form.ok else 400, form=form, rows=rows,
                      fy_ja=dates.format_fiscal_year(fy) if fy else "")


def _target(ctx: Ctx, form: Form) -> tuple[str, str] | None:
    target, name = form.get("target"), form.get("name")
    try:
        if target == "body":
            return "body", ctx.app.body(name)["id"]
        if target == "programme":
            return "programme", ctx.app.programme(name)["id"]
    except APP_ERRORS as exc:
        form.app_error(exc, "name", ("name",))
        return None
    form.error("target", "会議体か事業かを選んでください。")
    return None


def _version(ctx: Ctx, fy: int, target_id: str) -> int:
    return len(ctx.app.store.load(mt.Narrative.id_for(fy, UUID(target_id))))


def edit_page(ctx: Ctx) -> Response:
    form = Form(dict(ctx.request.query_params))
    fy = _fy(ctx, form)
    ctx.app.sync()
    t = _target(ctx, form) if fy is not None else None
    version = 0
    if t is not None and fy is not None:
        rows = ctx.app.rows(NARRATIVES, fiscal_year=fy, target_id=t[1])
        form.values["text"] = "\n\n".join(json.loads(rows[0]["paragraphs"])) if rows else ""
        version = _version(ctx, fy, t[1])
    return ctx.render("console_narrative_edit.html", status=200 if form.ok else 400, form=form, version=version,
                      fy_ja=dates.format_fiscal_year(fy) if fy else "")


def edit_submit(ctx: Ctx) -> Response:
    form = ctx.form
    fy = _fy(ctx, form)
    ctx.app.sync()
    t = _target(ctx, form) if fy is not None else None
    paragraphs = [" ".join(p.split()) for p in (form.values.get("text") or "").replace("\r\n", "\n").split("\n\n")
                  if p.strip()]
    if not paragraphs:
        form.error("text", "本文を入力してください（段落の間は空行）。")
    version = _version(ctx, fy, t[1]) if (t and fy is not None) else 0
    if form.ok and form.get("version") != str(version):
        form.error(None, "このページを開いた後に、ほかの人がこの文章を変更しました。何も保存されていません。"
                         "入力した内容は残してあります。最新の文章を確認してから、もう一度保存してください。")
    if form.ok and t is not None and fy is not None:
        try:
            with expect_version(ctx.app, mt.Narrative.id_for(fy, UUID(t[1])), version):
                ctx.app.write_narrative(fy, paragraphs, **{t[0]: form.get("name")})
        except ConflictError:
            form.error(None, messages.CONFLICT)
        except APP_ERRORS as exc:
            form.app_error(exc, "text", ("text", "name"))
        else:
            return ctx.console.redirect("/console/narratives?" + urlencode({"fiscal_year": fy, "done": "1"}))
    return ctx.render("console_narrative_edit.html", status=409 if form.message else 400, form=form,
                      version=version, fy_ja=dates.format_fiscal_year(fy) if fy else "")


def routes(p: Callable[..., Any]) -> list[BaseRoute]:
    return [Route("/console/narratives", p(list_page)),
            Route("/console/narratives/edit", p(edit_page), methods=["GET"]),
            Route("/console/narratives/edit", p(edit_submit), methods=["POST"])]
