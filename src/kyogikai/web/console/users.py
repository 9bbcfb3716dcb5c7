"""``/console/users``: accounts (admins only) — add, change role, disable, set a password.

The same :class:`kyogikai.accounts.Accounts` commands as ``kyogikai user``; the acting admin is the
actor of each account event.  A clerk gets 403 on every one of these paths.
"""

from __future__ import annotations

from typing import Any, Callable
from urllib.parse import quote

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ...domain.events import DomainError
from ...store import ConflictError
from ...domain.users import normalize_name
from . import Ctx, messages
from .forms import Form

DONE = {"added": "利用者を追加しました。", "role": "権限を変更しました。", "disabled": "利用者を無効にしました。",
        "password": "パスワードを設定しました。"}


def _page(ctx: Ctx, form: Form | None = None, status: int = 200, target: str | None = None) -> Response:
    acc = ctx.console.accounts
    history = [e for e in acc.history()]
    return ctx.render("console_users.html", status=status, users=acc.users(), history=history[::-1][:100],
                      form=form or Form(), target=target, done=DONE.get(ctx.request.query_params.get("done", "")))


def users_page(ctx: Ctx) -> Response:
    return _page(ctx)


def add_user(ctx: Ctx) -> Response:
    form = ctx.form
    pw, pw2 = str(ctx.data.get("password") or ""), str(ctx.data.get("password2") or "")
    name, role = form.get("username"), form.get("role")
    if not name:
        form.error("username", "ログイン名を入力してください。")
    if role not in ("clerk", "admin"):
        form.error("role", "権限を選んでください。")
    if pw != pw2:
        form.error("password2", "確認用のパスワードが一致しません。")
    if form.ok:
        try:
            ctx.console.accounts.add(name, role, pw)
        except ConflictError:
            form.error(None, messages.CONFLICT)
        except DomainError as exc:
            form.app_error(exc, "username", ("username", "role", "password"))
    if not form.ok:
        return _page(ctx, form, 400, target="add")
    return ctx.console.redirect("/console/users?done=added")


def _on_user(ctx: Ctx, action: Callable[[str, Form], None], done: str) -> Response:
    name = ctx.request.path_params["name"]
    form = ctx.form
    try:
        action(name, form)
    except ConflictError:
        form.error(None, messages.CONFLICT)
    except DomainError as exc:
        form.app_error(exc, None, ())
    if not form.ok:
        return _page(ctx, form, 400, target=normalize_name(name))
    return ctx.console.redirect("/console/users?done=" + quote(done))


def change_role(ctx: Ctx) -> Response:
    def act(name: str, form: Form) -> None:
        role = form.get("role")
        if role not in ("clerk", "admin"):
            form.error(None, "権限を選んでください。")
            return
        ctx.console.accounts.set_role(name, role)
    return _on_user(ctx, act, "role")


def disable_user(ctx: Ctx) -> Response:
    def act(name: str, form: Form) -> None:
        if form.get("confirm") != "yes":
            form.error(None, "無効にするには「無効にする」の確認欄にチェックを入れてください。")
            return
        ctx.console.accounts.disable(name)
    return _on_user(ctx, act, "disabled")


def set_password(ctx: Ctx) -> Response:
    def act(name: str, form: Form) -> None:
        pw, pw2 = str(ctx.data.get("password") or ""), str(ctx.data.get("password2") or "")
        if pw != pw2:
            form.error(None, "確認用のパスワードが一致しません。")
            return
        ctx.console.accounts.set_password(name, pw)
    return _on_user(ctx, act, "password")


def routes(p: Callable[..., Any]) -> list[BaseRoute]:
    return [
        Route("/console/users", p(users_page, admin=True)),
        Route("/console/users/add", p(add_user, admin=True), methods=["POST"]),
        Route("/console/users/{name}/role", p(change_role, admin=True), methods=["POST"]),
        Route("/console/users/{name}/disable", p(disable_user, admin=True), methods=["POST"]),
        Route("/console/users/{name}/password", p(set_password, admin=True), methods=["POST"]),
    ]
