"""``/console/password``: a logged-in user changes their own password (clerks and admins alike).

The current password, then the new one twice.  :meth:`kyogikai.accounts.Accounts.change_own_password`
decides: the current password must be right (a wrong one counts towards the login limit), the new
one follows the account rules (12 to 1024 characters, argon2id), and every other session of the
user ends — the one making the change stays open.  No event is written: passwords are not events.
"""

from __future__ import annotations

from typing import Any, Callable

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ...domain.events import DomainError
from . import Ctx
from .forms import Form

DONE = {"changed": "パスワードを変更しました。ほかの端末やブラウザーでのログインは終了しました。"}


def _page(ctx: Ctx, form: Form | None = None, status: int = 200) -> Response:
    return ctx.render("console_password.html", status=status, form=form or Form(),
                      done=DONE.get(ctx.request.query_params.get("done", "")))


def password_page(ctx: Ctx) -> Response:
    if ctx.request.method != "POST":
        return _page(ctx)
    form = ctx.form
    current = str(ctx.data.get("current_password") or "")
    pw, pw2 = str(ctx.data.get("password") or ""), str(ctx.data.get("password2") or "")
    if not current:
        form.error("current_password", "現在のパスワードを入力してください。")
    if pw != pw2:
        form.error("password2", "確認用のパスワードが一致しません。")
    if form.ok:
        try:
            ctx.console.accounts.change_own_password(ctx.session.name, current, pw, keep_session=ctx.session.id_hash)
        except DomainError as exc:
            form.app_error(exc, None, ("current_password", "password"))
    if not form.ok:
        return _page(ctx, form, 400)
    return ctx.console.redirect("/console/password?done=changed")


def routes(p: Callable[..., Any]) -> list[BaseRoute]:
    return [Route("/console/password", p(password_page), methods=["GET", "POST"])]
