"""The secretariat's console (事務局コンソール): forms in Japanese on the application's commands.

Added to the server with ``create_app(..., extra_routes=console.routes)`` (``kyogikai serve`` does);
every page lives under ``/console/``.  Handlers parse the form, call the same
:class:`kyogikai.app.Kyogikai` / :class:`kyogikai.accounts.Accounts` commands as the CLI — no rule is
decided here — and render the answer.  The actor of every event is the logged-in user.

Decisions:
- **Off until an account exists**: while the log holds no account, every ``/console`` path answers
  404 (``kyogikai user add NAME --role admin`` opens it).
- **Sessions** are server-side (:mod:`kyogikai.accounts`: hashed ids, 30 minutes idle, 12 hours at
  most, ended at once when the user is disabled).  The cookie ``kyogikai_console`` is HttpOnly,
  ``SameSite=Strict``, ``Path=/console`` and ``Secure`` when the base URL is https.
- **CSRF**: every POST carries ``csrf_token``; after login it must equal the session's token, on the
  login form the value of a pre-login cookie (double submit).  Missing or wrong: 403, nothing read
  further and nothing written.  ``SameSite=Strict`` is a second line, not the only one.
- **Anonymous**: a GET is redirected (303) to ``/console/login?next=…`` with nothing of the page;
  a POST is refused with 403.  A clerk on an admin page gets 403.
- **Database work off the event loop**: handlers run in the thread pool on a connection of the
  console's own (opened on first use), one request at a time under a lock.  The public pages and
  feeds see the changes at their next request (they catch up with the log).
- **Stale forms**: forms on a meeting's page carry the version the page showed; when the meeting
  changed since, nothing is written and the form comes back with its input and the current state
  (the application's own conflict detection covers two saves at the same moment).
- **Headers**: the public pages' security headers, with ``form-action 'self'`` instead of
  ``'none'`` (the console posts forms to itself) and the console stylesheet's hash; answers are
  ``Cache-Control: no-store`` and ``X-Robots-Tag: noindex``.  No JavaScript anywhere.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import logging
import secrets
import threading
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Callable, Iterator
from urllib.parse import quote

from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from ...accounts import Accounts, Session, csrf_ok
from ...domain.users import ROLE_LABELS, Role
from ...feeds.ics import TOKYO
from ...i18n import use
from .forms import Form

logger = logging.getLogger("kyogikai.web.console")
SESSION_COOKIE = "kyogikai_console"
LOGIN_CSRF_COOKIE = "kyogikai_console_login"
MAX_FORM_FIELDS = 400
MAX_UPLOAD = 5_000_000   # bytes read of an uploaded file (one more tells that it was larger)


def _css() -> str:
    return resources.files("kyogikai").joinpath("templates", "console.css").read_text(encoding="utf-8")


def jst(value: dt.datetime | str | None) -> str:
    """A moment as people read it: ``2023-05-24 14:05（JST）``."""
    if value is None:
        return ""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(TOKYO).strftime("%Y-%m-%d %H:%M:%S")


class Console:
    """What console handlers share: the site, a connection of its own, a lock, the headers."""

    def __init__(self, site: Any) -> None:
        self.site = site
        self.lock = threading.Lock()
        self._app: Any = None
        self._accounts: Accounts | None = None
        self.css = _css()
        css_hash = base64.b64encode(hashlib.sha256(self.css.encode()).digest()).decode()
        self.secure = site.base_url.startswith("https://")
        self.headers = {
            "Content-Security-Policy": (f"default-src 'none'; style-src 'sha256-{site.css_hash}' 'sha256-{css_hash}'; "
                                        "img-src 'self' data:; base-uri 'none'; form-action 'self'; "
                                        "frame-ancestors 'none'"),
            "Cache-Control": "no-store",
            "X-Robots-Tag": "noindex, nofollow",
        }

    @property
    def app(self) -> Any:
        if self._app is None:
            self._app = self.site.app_factory()
        return self._app

    @property
    def accounts(self) -> Accounts:
        if self._accounts is None:
            self._accounts = Accounts(self.app)
        return self._accounts

    def render(self, request: Request, template: str, status: int = 200, **context: Any) -> Response:
        context.setdefault("console_css", Markup(self.css))
        if "council" not in context:  # the name as it stands now, not as the public pages last read it
            try:
                context["council"] = self.app.council()
            except Exception:  # a busy or broken store: the name the public pages last read
                logger.warning("council settings unreadable; using the last known ones", exc_info=True)
        resp = self.site.render(request, template, status=status, jst=jst, role_labels=ROLE_LABELS, **context)
        resp.headers.update(self.headers)
        return resp

    def redirect(self, url: str) -> Response:
        resp = RedirectResponse(url, status_code=303)
        resp.headers.update(self.headers)
        return resp

    def refuse(self, request: Request, status: int, text: str, session: Session | None = None) -> Response:
        return self.render(request, "console_refused.html", status=status, text=text, session=session,
                           csrf=session.csrf if session else None)

    def set_cookie(self, resp: Response, name: str, value: str) -> None:
        resp.set_cookie(name, value, path="/console", httponly=True, samesite="strict", secure=self.secure)

    def clear_cookie(self, resp: Response, name: str) -> None:
        resp.delete_cookie(name, path="/console", httponly=True, samesite="strict", secure=self.secure)


@dataclass
class Ctx:
    """One request's context for a console handler (runs in the thread pool, under the lock)."""

    request: Request
    console: Console
    session: Session
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def app(self) -> Any:
        return self.console.app

    @property
    def form(self) -> Form:
        return Form(self.data)

    def render(self, template: str, status: int = 200, **context: Any) -> Response:
        return self.console.render(self.request, template, status=status, session=self.session,
                                   csrf=self.session.csrf, **context)


Handler = Callable[[Ctx], Response]


MAX_BODY = MAX_UPLOAD + 1_000_000   # a POST body larger than this is refused unread (413)


async def _form_data(request: Request) -> dict[str, Any]:
    """The POSTed fields (an upload as ``{"filename", "data"}``); a body without Content-Length
    (411) or larger than ``MAX_BODY`` (413) is refused before anything of it is read."""
    if request.method != "POST":
        return {}
    length = request.headers.get("content-length")
    if length is None or not length.isdigit():
        raise HTTPException(411, "411 Content-Length が必要です。")
    if int(length) > MAX_BODY:
        raise HTTPException(413, "413 送信された内容が大きすぎます。")
    async with request.form(max_files=4, max_fields=MAX_FORM_FIELDS) as form:
        out: dict[str, Any] = {}
        for k, v in form.multi_items():
            if isinstance(v, str):
                out.setdefault(k, v)
                out.setdefault("__all__", {}).setdefault(k, []).append(v)
            else:  # an upload: its bytes
                out[k] = {"filename": v.filename, "data": await v.read(MAX_UPLOAD + 1)}
        return out


def page(console_of: Callable[[Request], Console], handler: Handler, admin: bool = False) -> Callable:
    """Wrap a handler: console on, session, role and CSRF checked before the handler runs."""

    async def endpoint(request: Request) -> Response:
        data = await _form_data(request)
        return await run_in_threadpool(_guarded, console_of(request), request, data, handler, admin)

    endpoint.__name__ = handler.__name__
    return endpoint


def _guarded(console: Console, request: Request, data: dict[str, Any], handler: Handler, admin: bool) -> Response:
    with use("ja"), console.lock:          # the console speaks Japanese, whatever the server's environment says
        accounts = console.accounts
        if not accounts.any_user():
            return _not_found(console, request)
        session = accounts.session(request.cookies.get(SESSION_COOKIE))
        if session is None:
            if request.method == "POST":
                return console.refuse(request, 403, "ログインしていません。ログインしてからやり直してください。")
            resp = console.redirect("/console/login?next=" + quote(request.url.path, safe="/"))
            if request.cookies.get(SESSION_COOKIE):
                console.clear_cookie(resp, SESSION_COOKIE)
            return resp
        if admin and session.role is not Role.ADMIN:
            return console.refuse(request, 403, "このページは管理者だけが使えます。", session)
        if request.method == "POST" and not csrf_ok(session.csrf, data.get("csrf_token")):
            return console.refuse(request, 403, "フォームの確認用の値が正しくありません。ページを開き直してから送信してください。", session)
        console.app.actor = session.name
        return handler(Ctx(request, console, session, data))


@contextlib.contextmanager
def expect_version(app: Any, id: Any, version: int) -> Iterator[None]:
    """Make the command decide on the record as the form showed it, or not at all.

    While the command runs, loading the aggregate ``id`` with any other number of events than
    ``version`` raises :class:`ConflictError` (someone changed it after the page was shown); and
    since the command's save then appends version ``version + 1``, a change saved by another
    process in between makes the store's unique key refuse it (``ConflictError`` too).  Nothing
    is decided here: the command's own rules run unchanged.
    """
    from ...store import ConflictError

    store = app.store
    original = store.load
    wanted = str(id)

    def load(aid: Any) -> list[Any]:
        events = original(aid)
        if str(aid) == wanted and len(events) != version:
            raise ConflictError("conflict: the record changed after the form was shown")
        return events

    store.load = load
    try:
        yield
    finally:
        del store.load


def _not_found(console: Console, request: Request) -> Response:
    resp = console.site.not_found(request)
    resp.headers.update(console.headers)
    return resp


# --- login and logout ---------------------------------------------------------------------------

def _safe_next(value: str | None) -> str:
    if value and value.startswith("/console/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/console/"


def login_page(console_of: Callable[[Request], Console]) -> Callable:
    async def endpoint(request: Request) -> Response:
        data = await _form_data(request)
        return await run_in_threadpool(_login, console_of(request), request, data)
    return endpoint


def _login(console: Console, request: Request, data: dict[str, Any]) -> Response:
    with console.lock:
        if not console.accounts.any_user():
            return _not_found(console, request)
        cookie = request.cookies.get(LOGIN_CSRF_COOKIE)
        token = cookie if cookie and 20 <= len(cookie) <= 100 else secrets.token_urlsafe(32)
        form = Form(data)
        nxt = _safe_next(data.get("next") or request.query_params.get("next"))

        def show(status: int = 200, message: str | None = None) -> Response:
            form.message = message
            resp = console.render(request, "console_login.html", status=status, form=form, csrf=token, next=nxt,
                                  session=None)
            console.set_cookie(resp, LOGIN_CSRF_COOKIE, token)
            return resp

        if request.method != "POST":
            return show()
        if not cookie or not csrf_ok(cookie, data.get("csrf_token")):
            return console.refuse(request, 403, "フォームの確認用の値が正しくありません。ログインページを開き直してください。")
        client = request.client.host if request.client else "-"
        result = console.accounts.login(str(data.get("username") or ""), str(data.get("password") or ""), client)
        if result.limited:
            return show(429, "ログインの失敗が続いたため、しばらくログインできません。15分ほど待ってからお試しください。")
        if not result.ok:
            return show(401, "ログイン名またはパスワードが違います。")
        assert result.token is not None
        resp = console.redirect(nxt)
        console.set_cookie(resp, SESSION_COOKIE, result.token)
        console.clear_cookie(resp, LOGIN_CSRF_COOKIE)
        return resp


def logout(ctx: Ctx) -> Response:
    ctx.console.accounts.logout(ctx.request.cookies.get(SESSION_COOKIE, ""))
    resp = ctx.console.redirect("/console/login")
    ctx.console.clear_cookie(resp, SESSION_COOKIE)
    return resp


def home(ctx: Ctx) -> Response:
    from .meetings import upcoming

    return ctx.render("console_home.html", upcoming=upcoming(ctx))


def routes(site: Any) -> list[BaseRoute]:
    """The console's routes for ``create_app(extra_routes=...)``."""
    from . import log as log_pages
    from . import meetings, users
    from . import importing, narratives, organisation, password, settings, tokens
    from . import report as report_pages

    console = Console(site)

    def console_of(_request: Request) -> Console:
        return console

    def p(handler: Handler, admin: bool = False) -> Callable:
        return page(console_of, handler, admin)

    out: list[BaseRoute] = [
        Route("/console/login", login_page(console_of), methods=["GET", "POST"]),
        Route("/console/logout", p(logout), methods=["POST"]),
        Route("/console/", p(home)),
        Route("/console", lambda r: RedirectResponse("/console/", status_code=308)),
    ]
    out += users.routes(p)
    out += meetings.routes(p)
    out += log_pages.routes(p)
    out += report_pages.routes(p)
    out += narratives.routes(p)
    out += tokens.routes(p)
    out += organisation.routes(p)
    out += importing.routes(p)
    out += settings.routes(p)
    out += password.routes(p)
    return out

