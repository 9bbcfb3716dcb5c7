"""The feed server and the web page: granian (RSGI) in front, a fast path for feeds, starlette for pages.

``create_app(app_factory, base_url=..., extra_routes=..., template_dirs=..., today=...)`` builds the
app — an ASGI app (uvicorn, tests) that is also an RSGI app (granian); ``serve(...)`` runs it on
granian (``kyogikai serve``).  ``GET``/``HEAD`` of the feeds, the private feeds, the index page and
``/healthz`` are answered by :class:`kyogikai.web.server.FastPath` from renderings kept until the
store changes (see that module); everything else goes to the starlette app.  Before answering, the
events recorded since the last request (by any process) are applied, then the ``feeds`` read model
is read — never the log.  Database work runs in threads, serialised by ``site.lock`` (the
application's connections are not shared between concurrent transactions); the event loop never
queries nor waits for a lock.

Routes (see :mod:`kyogikai.feeds.urls` for the URL scheme): ``/`` the page in Japanese (bodies and
programmes with subscribe links, the upcoming schedule), ``/bodies/<id>`` and ``/programmes/<id>``
(past and upcoming meetings), ``/feeds/…ics`` the public feeds, ``/private/<token>/calendar.ics``
a member's private feed, ``/healthz``.  Feeds answer ``text/calendar; charset=utf-8`` with a strong
ETag, Last-Modified, 304 to If-None-Match / If-Modified-Since, and HEAD.

Adding pages (for other read models)::

    from starlette.routing import Route
    from kyogikai.web import Site, create_app

    def matrix(request):            # a plain def: starlette runs it in a thread (site.read blocks)
        site: Site = request.app.state.site
        data = site.read(lambda feeds: feeds.app.read(some_named_query, ...))   # fresh, under the lock
        if data is None:
            return site.not_found(request)
        return site.render(request, "participation_body.html", data=data)  # base: "web_base.html"

    async def form(request):        # an async def handler must use ``await site.aread(fn)``
        values = await request.form()
        ...

    app = create_app(factory, base_url=url, extra_routes=[Route("/bodies/{id:uuid}/participation", matrix)])

``extra_routes`` is a list of starlette routes, or a callable ``(site) -> routes``; they are
matched after the built-in ones.  ``site.member_for_token(token)`` resolves a live private token to
its member organisation (``None`` for a bad or revoked one: answer 404).  Templates are looked up in
``template_dirs`` first, then in ``kyogikai/templates``; extend ``web_base.html`` and import
``web_macros.html`` for the subscribe links.  The security headers, the request log (a path
parameter named ``token`` is logged as ``[token]``) and the 404 page apply to added routes too; a
route that sets its own Content-Security-Policy keeps it (the default one has ``form-action
'none'``: a page with a form must send its own).  Request bodies are limited to 1 MB (413).  While
another process holds the store's write lock, ``site.read`` reads the read models as they stand
rather than wait; ``StoreBusy`` is answered 503 with ``Retry-After``.

Security: binds 127.0.0.1 unless told otherwise; granian's access log is off (it would print the
private tokens in paths); our own request log redacts them and escapes control characters.  Every
answer carries ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer`` (token URLs
never leak as referrers), a strict Content-Security-Policy (no scripts; the one stylesheet allowed
by its hash), ``X-Frame-Options: DENY`` and, on an https base URL, HSTS.  Private feeds are
``Cache-Control: private`` and ``X-Robots-Tag: noindex``.  Limits against hostile clients: see
:func:`serve`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import hashlib
import logging
import sqlite3
import threading
from email.utils import format_datetime
from importlib import resources
from typing import Any, Callable, Iterable, Sequence, TypeVar

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..domain.council import DEFAULT_NAME as DEFAULT_COUNCIL_NAME
from ..feeds import Feed, FeedService
from ..feeds.ics import TOKYO
from ..feeds.urls import DEFAULT_BASE_URL
from ..store import StoreError
from .server import (BUSY_WAIT, RETRY_AFTER, FastPath, RSGIBridge, StoreBusy, is_busy, log_path, not_modified as _not_modified,
                     security_headers)

T = TypeVar("T")
log = logging.getLogger("kyogikai.web")


def redact(path: str) -> str:
    """A path fit for a log line: every segment that could be a token replaced, control characters escaped.

    The request log does better for routed requests (it replaces the routed token itself).
    """
    return log_path(path, routed=False)


def _store_error(exc: Exception) -> Exception:
    """A database driver's error as StoreError (answered 503); anything else unchanged."""
    if isinstance(exc, sqlite3.Error) or type(exc).__module__.split(".")[0] in ("psycopg", "eventsourcing"):
        return StoreError(" ".join(str(exc).split())[:300])
    return exc


def _css() -> str:
    return resources.files("kyogikai").joinpath("templates", "web.css").read_text(encoding="utf-8")


class Site:
    """What handlers share: the feed service (under a lock), templates, the clock, the base URL."""

    def __init__(self, app_factory: Callable[[], Any], base_url: str, template_dirs: Sequence[str] = (),
                 today: Callable[[], dt.date] | None = None) -> None:
        self.app_factory, self.base_url = app_factory, base_url
        self.today = today or (lambda: dt.datetime.now(TOKYO).date())
        self.lock = threading.Lock()
        self.feeds: FeedService | None = None
        # the council's settings (name in titles and headers), refreshed by every read
        self.council: dict[str, Any] = {"name": DEFAULT_COUNCIL_NAME, "short_name": None}
        self.css = _css()
        self.css_hash = base64.b64encode(hashlib.sha256(self.css.encode()).digest()).decode()
        self.env = Environment(loader=ChoiceLoader([FileSystemLoader(list(template_dirs)),
                                                    PackageLoader("kyogikai", "templates")]),
                               autoescape=True, trim_blocks=True, lstrip_blocks=True)
        self.env.globals.update(base_url=base_url, css=Markup(self.css))

    def open(self) -> None:
        with self.lock:
            if self.feeds is None:
                self.feeds = FeedService(self.app_factory(), self.base_url)
                self.feeds.fresh()
                self.council = self.feeds.council

    def close(self) -> None:
        with self.lock:
            if self.feeds is not None:
                self.feeds.app.close()
                self.feeds = None

    def read(self, fn: Callable[[FeedService], T]) -> T:
        """Run ``fn(feed_service)`` on current read models, under the database lock.

        Blocking: call it from a plain (``def``) handler, which starlette runs in a thread, or use
        ``await site.aread(fn)`` in an ``async def`` one.  While another process holds the store's
        write lock, ``fn`` reads the read models as they stand (never a wait of more than a couple
        of seconds); :class:`StoreBusy` (answered 503 with Retry-After) when even that cannot be had.
        """
        if not self.lock.acquire(timeout=BUSY_WAIT):
            raise StoreBusy("the store is busy")
        try:
            if self.feeds is None:
                raise StoreError("the server is not started")
            try:
                self.feeds.fresh()
            except Exception as exc:
                if not is_busy(exc):
                    raise _store_error(exc) from None
                log.warning("store busy (%s): reading the read models as they stand", " ".join(str(exc).split()))
            self.council = self.feeds.council
            try:
                return fn(self.feeds)
            except Exception as exc:
                if is_busy(exc):
                    raise StoreBusy(str(exc)) from None
                raise _store_error(exc) from None
        finally:
            self.lock.release()

    async def aread(self, fn: Callable[[FeedService], T]) -> T:
        """:meth:`read` from an ``async def`` handler: runs in a thread, the event loop stays free."""
        from starlette.concurrency import run_in_threadpool

        return await run_in_threadpool(self.read, fn)

    def member_for_token(self, token: str) -> dict[str, Any] | None:
        return self.read(lambda f: f.member_for_token(token))

    def render(self, request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        context.setdefault("council", self.council)
        html = self.env.get_template(template).render(request=request, today=self.today(), **context)
        return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-cache"})

    def not_found(self, request: Request) -> Response:
        if request.url.path.endswith(".ics"):
            return PlainTextResponse("404 見つかりません", status_code=404)
        return self.render(request, "web_404.html", status=404)


# --- HTTP for feeds ---------------------------------------------------------------------------

def not_modified(request: Request, feed: Feed) -> bool:
    """RFC 9110 §13.1 for a feed answered through the framework (the fast path's own rule)."""
    return _not_modified(request.headers.get("if-none-match"), request.headers.get("if-modified-since"), feed.etag,
                feed.last_modified)


def feed_response(request: Request, feed: Feed | None, private: bool = False) -> Response:
    site: Site = request.app.state.site
    if feed is None:
        return site.not_found(request)
    headers = {"ETag": feed.etag,
               "Cache-Control": "private, no-cache" if private else "public, max-age=300, must-revalidate"}
    if feed.last_modified is not None:
        headers["Last-Modified"] = format_datetime(feed.last_modified, usegmt=True)
    if private:
        headers["X-Robots-Tag"] = "noindex, nofollow"
    if not_modified(request, feed):
        return Response(status_code=304, headers=headers)
    name = "calendar.ics" if private else feed.path.rsplit("/", 1)[-1]
    headers["Content-Disposition"] = f'inline; filename="{name}"'
    return Response(feed.body, media_type="text/calendar; charset=utf-8", headers=headers)


# --- handlers ---------------------------------------------------------------------------------

def _site(request: Request) -> Site:
    return request.app.state.site


def index(request: Request) -> Response:
    site = _site(request)
    today = site.today()
    data = site.read(lambda f: {"catalogue": f.catalogue(), "upcoming": f.upcoming(today)})
    return site.render(request, "web_index.html", **data)


def body_page(request: Request) -> Response:
    site = _site(request)
    data = site.read(lambda f: f.body_page(str(request.path_params["id"]), site.today()))
    if data is None:
        return site.not_found(request)
    return site.render(request, "web_body.html", **data)


def programme_page(request: Request) -> Response:
    site = _site(request)
    data = site.read(lambda f: f.programme_page(str(request.path_params["id"]), site.today()))
    if data is None:
        return site.not_found(request)
    return site.render(request, "web_programme.html", **data)


# GET and HEAD of the feeds, the private feeds, the index and /healthz are answered by the fast
# path (web/server.py) before these run; these answer what it leaves (e.g. percent-encoded paths).
def all_feed(request: Request) -> Response:
    return feed_response(request, _site(request).read(lambda f: f.feed("all")))


def kind_feed(kind: str) -> Callable[[Request], Any]:
    def handler(request: Request) -> Response:
        return feed_response(request, _site(request).read(lambda f: f.feed(kind, str(request.path_params["id"]))))
    handler.__name__ = f"{kind}_feed"
    return handler


def private_feed(request: Request) -> Response:
    token = request.path_params["token"]
    return feed_response(request, _site(request).read(lambda f: f.private_feed(token)), private=True)


def healthz(request: Request) -> Response:
    _site(request).read(lambda f: None)
    return PlainTextResponse("ok", headers={"Cache-Control": "no-store"})


ROUTES: list[BaseRoute] = [
    Route("/", index),
    Route("/bodies/{id:uuid}", body_page),
    Route("/programmes/{id:uuid}", programme_page),
    Route("/feeds/all.ics", all_feed),
    Route("/feeds/body/{id:uuid}.ics", kind_feed("body")),
    Route("/feeds/programme/{id:uuid}.ics", kind_feed("programme")),
    Route("/feeds/member/{id:uuid}.ics", kind_feed("member")),
    Route("/private/{token}/calendar.ics", private_feed),
    Route("/healthz", healthz),
]


# --- middleware -------------------------------------------------------------------------------

class Hardening:
    """Security headers on every answer, and a request log line with the token redacted."""

    def __init__(self, app: ASGIApp, site: Site) -> None:
        self.app = app
        self.headers = [(k.encode(), v.encode()) for k, v in security_headers(site)]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = {"code": 0}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                names = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [h for h in self.headers if h[0] not in names]
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            if log.isEnabledFor(logging.INFO):
                client = scope.get("client") or ("-", 0)
                params = scope.get("path_params")
                path = scope.get("path", "")
                if isinstance(params, dict):  # routed: each secret path parameter replaced by [token]
                    for name, value in params.items():
                        if value and any(w in name.lower() for w in ("token", "secret", "key")):
                            path = path.replace(str(value), "[token]")
                path = log_path(path, routed=params is not None)
                log.info('%s "%s %s" %s', client[0], log_path(str(scope.get("method"))), path, status["code"])


def create_app(app_factory: Callable[[], Any], *, base_url: str = DEFAULT_BASE_URL,
               extra_routes: Iterable[BaseRoute] | Callable[[Site], Iterable[BaseRoute]] = (),
               template_dirs: Sequence[str] = (), today: Callable[[], dt.date] | None = None) -> ASGIApp:
    """The ASGI app.  ``app_factory()`` returns a :class:`kyogikai.app.Kyogikai` (opened at start-up)."""
    site = Site(app_factory, base_url, template_dirs, today)
    fast = FastPath(site)
    extra = list(extra_routes(site) if callable(extra_routes) else extra_routes)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette):  # type: ignore[no-untyped-def]
        from starlette.concurrency import run_in_threadpool

        await run_in_threadpool(site.open)
        fast.loop = asyncio.get_running_loop()
        fast.opened()
        try:
            yield
        finally:
            fast.close()
            await run_in_threadpool(site.close)
            fast.closed()

    async def not_found(request: Request, exc: Exception) -> Response:
        if isinstance(exc, HTTPException) and exc.status_code not in (404, 405):
            return PlainTextResponse(str(exc.detail), status_code=exc.status_code)
        if isinstance(exc, HTTPException) and exc.status_code == 405:
            return PlainTextResponse("405 Method Not Allowed", status_code=405, headers=exc.headers)
        return site.not_found(request)

    async def unavailable(request: Request, exc: Exception) -> Response:
        if not isinstance(exc, (StoreError, StoreBusy)) and not is_busy(exc):
            raise exc
        log.error("database unavailable: %s", " ".join(str(exc).split()))
        return PlainTextResponse("503 データベースを使えません。しばらくしてから再度お試しください。", status_code=503,
                                 headers={"Retry-After": RETRY_AFTER, "Cache-Control": "no-store"})

    app = Starlette(routes=[*ROUTES, *extra], lifespan=lifespan,
                    exception_handlers={HTTPException: not_found, StoreError: unavailable, StoreBusy: unavailable,
                                        sqlite3.OperationalError: unavailable})
    app.state.site = site
    return _Wrapped(Hardening(app, site), app, site, fast)


class _Wrapped:
    """The app: ASGI (uvicorn, tests) and RSGI (granian, ``kyogikai serve``), the fast path first.

    Keeps ``.state`` (and the starlette app) reachable.
    """

    def __init__(self, outer: ASGIApp, inner: Starlette, site: Site, fast: FastPath) -> None:
        self.outer, self.inner, self.state, self.site, self.fast = outer, inner, inner.state, site, fast
        self.bridge = RSGIBridge(outer)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        fast = self.fast
        if scope["type"] == "http" and fast.loop is not None:
            raw = dict(scope["headers"])
            answer = await fast.answer(scope["method"], scope["path"],
                                       lambda name: (v.decode("latin-1") if (v := raw.get(name.encode())) is not None else None))
            if answer is not None:
                status, headers, body, path = answer
                out = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
                if status != 304:
                    out.append((b"content-length", str(len(body)).encode()))
                await send({"type": "http.response.start", "status": status, "headers": out})
                await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
                if fast.log_on:
                    client = scope.get("client") or ("-", 0)
                    log.info('%s "%s %s" %s', client[0], scope["method"], path, status)
                return
        await self.outer(scope, receive, send)

    # -- RSGI (granian) ------------------------------------------------------------------------
    def __rsgi_init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.fast.loop = loop
        self.site.open()
        self.fast.opened()

    def __rsgi_del__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.fast.close()
        self.site.close()
        self.fast.closed()

    async def __rsgi__(self, scope: Any, proto: Any) -> None:
        if scope.proto != "http":
            return
        fast = self.fast
        # the hot path, inline: a feed rendered since the last commit, asked unconditionally or with its ETag
        entry = fast.entries.get(scope.path)
        if entry is not None and entry.etag is not None and fast.shm is not None \
                and fast.shm[0:96] == fast.fresh_sig and not fast.log_on:
            method = scope.method
            if method == "GET" or method == "HEAD":
                headers = scope.headers
                inm = headers.get("if-none-match")
                if inm is None:
                    if headers.get("if-modified-since") is None:
                        proto.response_bytes(entry.status, entry.headers, entry.body)
                        return
                elif inm == entry.etag:
                    proto.response_empty(304, entry.headers_304)
                    return
        answer = await fast.answer(scope.method, scope.path, scope.headers.get)
        if answer is None:
            await self.bridge(scope, proto)
            return
        status, headers, body, path = answer
        if status == 304:
            proto.response_empty(304, headers)
        else:
            proto.response_bytes(status, headers, body)
        if fast.log_on:
            log.info('%s "%s %s" %s', scope.client.rpartition(":")[0], scope.method, path, status)


def serve(app_factory: Callable[[], Any], *, host: str = "127.0.0.1", port: int = 8000,
          base_url: str = DEFAULT_BASE_URL, access_log: bool = True, **create_kwargs: Any) -> None:
    """Run the app on granian (RSGI, one worker process) until interrupted.

    Limits against hostile clients (README, "The server"): request headers must arrive within
    ``HEADER_READ_TIMEOUT_MS`` and fit in ``MAX_HEADER_BUFFER`` bytes (else the connection is
    closed), at most ``MAX_CONNECTIONS`` connections are served at once (more wait in the listen
    backlog, never exhausting file descriptors), request bodies beyond ``server.MAX_BODY`` get 413.
    granian's own access log stays off (tokens live in paths); ours redacts them.
    """
    from granian.constants import HTTPModes, Interfaces, Loops
    from granian.http import HTTP1Settings
    from granian.log import LogLevels
    from granian.server import Server

    from .server import die_with_parent, raise_nofile_limit

    app = create_app(app_factory, base_url=base_url, **create_kwargs)
    nofile = raise_nofile_limit()
    connections = max(16, min(MAX_CONNECTIONS, nofile - 64))
    quiet = not access_log

    def load(*_args: Any, **_kw: Any) -> Any:  # in the worker process (forked)
        die_with_parent()
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        log.handlers[:] = [handler]
        log.propagate = False
        log.setLevel(logging.WARNING if quiet else logging.INFO)
        app.fast.log_on = not quiet
        return app

    server = Server("kyogikai.web:app", address=host, port=port, interface=Interfaces.RSGI, workers=1,
                    loop=Loops.auto, backlog=max(128, min(4096, connections)), backpressure=connections,
                    http=HTTPModes.http1, websockets=False,
                    http1_settings=HTTP1Settings(header_read_timeout=HEADER_READ_TIMEOUT_MS, keep_alive=True,
                                                 max_buffer_size=MAX_HEADER_BUFFER),
                    log_enabled=True, log_level=LogLevels.warning, log_access=False)
    server.serve(target_loader=load, wrap_loader=False)


HEADER_READ_TIMEOUT_MS = 5_000   # a client must send a request's whole header within 5 s
MAX_HEADER_BUFFER = 65_536       # request line and headers beyond 64 KiB: 431, connection closed
MAX_CONNECTIONS = 512            # connections served at once (and below the open-files limit)
