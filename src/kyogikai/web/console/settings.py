"""``/console/settings``: the council's own settings (admins only) — name, short name, base URL, fonts.

The page shows the current settings and every change (who, when in JST) and one form holding the
complete settings.  Saving calls :meth:`kyogikai.app.Kyogikai.set_council` — the command behind
``kyogikai council set`` — with the logged-in admin as actor; what the command refuses (an empty
name, a base URL with a quote …) comes back beside its field in Japanese with the input kept.

Decisions:
- **The form is the complete settings**: an empty short name or base URL means "none" (the CLI's
  ``--clear-short`` / ``--clear-base-url``); an empty name is given to the command as it is, and
  the command refuses it.  The same settings again write nothing (the command says so).
- **Stale forms**: the form carries the number of changes it showed; if someone changed the
  settings since (CLI, another admin, another process) nothing is written and the form comes back
  with its input and the current settings, as on the other item pages.
- A clerk gets 403 on GET and POST.
"""

from __future__ import annotations

from typing import Any, Callable

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ...app import ConflictError, UserError
from ...domain.council import Council
from ...domain.events import DomainError
from . import Ctx, expect_version, messages
from .forms import Form

FONT_LABELS = {"yu": "游明朝・游ゴシック", "ms": "ＭＳ 明朝・ＭＳ ゴシック"}
FIELDS = ("name", "short_name", "base_url", "document_font")
DONE = {"saved": "協議会の設定を記録しました。",
        "unchanged": "設定は今のものと同じです。何も記録していません。"}
STALE = ("このページを開いた後に、ほかの人が協議会の設定を変更しました。何も保存されていません。"
         "下の現在の設定を確認してから、もう一度送信してください（入力した内容は残してあります）。")


def _current_form(council: dict[str, Any]) -> Form:
    return Form({"name": council["name"] if council["named"] else "", "short_name": council["short_name"] or "",
                 "base_url": council["base_url"] or "", "document_font": council["document_font"]})


def _page(ctx: Ctx, form: Form | None = None, status: int = 200) -> Response:
    council = ctx.app.council()
    history = ctx.app.council_history()
    return ctx.render("console_settings.html", status=status, current=council, history=history[::-1],
                      version=len(history), form=form or _current_form(council), font_labels=FONT_LABELS,
                      council=council, done=DONE.get(ctx.request.query_params.get("done", "")))


def settings_page(ctx: Ctx) -> Response:
    if ctx.request.method == "POST":
        return save_settings(ctx)
    return _page(ctx)


def save_settings(ctx: Ctx) -> Response:
    form = ctx.form
    version = form.integer("version", 0, 10**9, required=True)
    if not form.ok:
        form.error(None, "フォームが古いか壊れています。ページを開き直してください。")
        return _page(ctx, form, 400)
    short, base = form.get("short_name"), form.get("base_url")
    clear = [f for f, value in (("short_name", short), ("base_url", base)) if not value]
    try:
        with expect_version(ctx.app, Council.ID, version or 0):
            result = ctx.app.set_council(name=form.get("name"), short_name=short or None, base_url=base or None,
                                         document_font=form.get("document_font") or None, clear=clear)
    except ConflictError:
        form.error(None, STALE)
        return _page(ctx, form, 409)
    except (UserError, DomainError) as exc:
        form.app_error(exc, None, FIELDS)
        return _page(ctx, form, 400)
    return ctx.console.redirect("/console/settings?done=" + ("saved" if result.events else "unchanged"))


def routes(p: Callable[..., Any]) -> list[BaseRoute]:
    return [
        Route("/console/settings", p(settings_page, admin=True), methods=["GET", "POST"]),
    ]
