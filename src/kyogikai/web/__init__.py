"""The feed server and the web page: starlette on uvicorn, answering from the read models.

``create_app(app_factory, base_url=..., extra_routes=..., template_dirs=..., today=...)`` builds the
ASGI app; ``serve(...)`` runs it (``kyogikai serve``).  Each request first applies the events
recorded since the last one (by any process: one ``max(id)`` query when nothing is new), then
reads the ``feeds`` read model — never the log.  Database work is serialised by one lock (the
application's connections are not shared between concurrent transactions); rendering happens
outside it.

Routes (see :mod:`kyogikai.feeds.urls` for the URL scheme): ``/`` the page in Japanese (bodies and
programmes with subscribe links, the upcoming schedule), ``/bodies/<id>`` and ``/programmes/<id>``
(past and upcoming meetings), ``/feeds/…ics`` the public feeds, ``/private/<token>/calendar.ics``
a member's private feed, ``/healthz``.  Feeds answer ``text/calendar; charset=utf-8`` with a strong
ETag, Last-Modified, 304 to If-None-Match / If-Modified-Since, and HEAD.

Adding pages (for other read models)::

    from starlette.routing import Route
    from kyogikai.web import Site, create_app

    def matrix(request):
        site: Site = request.app.state.site
        data = site.read(lambda feeds: feeds.app.query("SELECT ..."))   # fresh, under the lock
        if data is None:
            return site.not_found(request)
        return site.render(request, "participation_body.html", data=data)  # base: "web_base.html"

    app = create_app(factory, base_url=url, extra_routes=[Route("/bodies/{id:uuid}/participation", matrix)])

``extra_routes`` is a list of starlette routes, or a callable ``(site) -> routes``; they are
matched after the built-in ones.  ``site.member_for_token(token)`` resolves a live private token to
its member organisation (``None`` for a bad or revoked one: answer 404).  Templates are looked up in
``template_dirs`` first, then in ``kyogikai/templates``; extend ``web_base.html`` and import
``web_macros.html`` for the subscribe links.  The security headers, token-redacting request log and
404 page apply to added routes too.

Security: binds 127.0.0.1 unless told otherwise; uvicorn's access log is off (it would print the
private tokens in paths); our own request log redacts them.  Every answer carries
``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer`` (token URLs never leak as
referrers), a strict Content-Security-Policy (no scripts; the one stylesheet allowed by its hash),
``X-Frame-Options: DENY`` and, on an https base URL, HSTS.  Private feeds are ``Cache-Control:
private`` and ``X-Robots-Tag: noindex``.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import logging
import re
import threading
from email.utils import format_datetime, parsedate_to_datetime
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

T = TypeVar("T")
log = logging.getLogger("kyogikai.web")
_TOKEN_PATH = re.compile(r"^/private/[^/]*")


def redact(path: str) -> str:
    """A request path fit for a log: the private token replaced."""
    return _TOKEN_PATH.sub("/private/[token]", path)


class RedactTokens(logging.Filter):
    """Replaces private tokens in uvicorn's access-log records, should someone switch it on."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        record.msg = redact(str(record.msg)) if "/private/" in str(record.msg) else record.msg
        return True


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
        """Run ``fn(feed_service)`` on current read models, under the database lock."""
        with self.lock:
            if self.feeds is None:
                raise StoreError("the server is not started")
            self.feeds.fresh()
            self.council = self.feeds.council
            return fn(self.feeds)

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
    """RFC 9110 §13.1: If-None-Match (weak comparison) wins; else If-Modified-Since."""
    inm = request.headers.get("if-none-match")
    if inm is not None:
        tags = [t.strip() for t in inm.split(",")]
        return "*" in tags or any(t.removeprefix("W/") == feed.etag for t in tags)
    ims = request.headers.get("if-modified-since")
    if ims and feed.last_modified is not None:
        try:
            since = parsedate_to_datetime(ims)
        except (TypeError, ValueError, IndexError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=dt.timezone.utc)
        return feed.last_modified <= since
    return False


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


# Feed handlers run on the event loop itself: between two changes of the log a feed is answered
# from the rendered copy after a freshness probe (a pragma on SQLite), cheaper than a thread hop.
async def all_feed(request: Request) -> Response:
    return feed_response(request, _site(request).read(lambda f: f.feed("all")))


def kind_feed(kind: str) -> Callable[[Request], Any]:
    async def handler(request: Request) -> Response:
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
        csp = (f"default-src 'none'; style-src 'sha256-{site.css_hash}'; img-src 'self' data:; base-uri 'none'; "
               "form-action 'none'; frame-ancestors 'none'")
        self.headers = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
                        (b"x-frame-options", b"DENY"), (b"content-security-policy", csp.encode()),
                        (b"cross-origin-opener-policy", b"same-origin"),
                        (b"permissions-policy", b"camera=(), microphone=(), geolocation=()")]
        if site.base_url.startswith("https://"):
            self.headers.append((b"strict-transport-security", b"max-age=31536000"))

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
            client = scope.get("client") or ("-", 0)
            log.info('%s "%s %s" %s', client[0], scope.get("method"), redact(scope.get("path", "")), status["code"])


def create_app(app_factory: Callable[[], Any], *, base_url: str = DEFAULT_BASE_URL,
               extra_routes: Iterable[BaseRoute] | Callable[[Site], Iterable[BaseRoute]] = (),
               template_dirs: Sequence[str] = (), today: Callable[[], dt.date] | None = None) -> ASGIApp:
    """The ASGI app.  ``app_factory()`` returns a :class:`kyogikai.app.Kyogikai` (opened at start-up)."""
    site = Site(app_factory, base_url, template_dirs, today)
    extra = list(extra_routes(site) if callable(extra_routes) else extra_routes)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette):  # type: ignore[no-untyped-def]
        from starlette.concurrency import run_in_threadpool

        await run_in_threadpool(site.open)
        try:
            yield
        finally:
            await run_in_threadpool(site.close)

    async def not_found(request: Request, exc: Exception) -> Response:
        if isinstance(exc, HTTPException) and exc.status_code not in (404, 405):
            return PlainTextResponse(str(exc.detail), status_code=exc.status_code)
        if isinstance(exc, HTTPException) and exc.status_code == 405:
            return PlainTextResponse("405 Method Not Allowed", status_code=405, headers=exc.headers)
        return site.not_found(request)

    async def unavailable(request: Request, exc: Exception) -> Response:
        log.error("database unavailable: %s", exc)
        return PlainTextResponse("503 データベースに接続できません。しばらくしてから再度お試しください。", status_code=503)

    app = Starlette(routes=[*ROUTES, *extra], lifespan=lifespan,
                    exception_handlers={HTTPException: not_found, StoreError: unavailable})
    app.state.site = site
    return _Wrapped(Hardening(app, site), app)


class _Wrapped:
    """The hardened ASGI callable, keeping ``.state`` (and the starlette app) reachable."""

    def __init__(self, outer: ASGIApp, inner: Starlette) -> None:
        self.outer, self.inner, self.state = outer, inner, inner.state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.outer(scope, receive, send)


def serve(app_factory: Callable[[], Any], *, host: str = "127.0.0.1", port: int = 8000,
          base_url: str = DEFAULT_BASE_URL, access_log: bool = True, **create_kwargs: Any) -> None:
    """Run the app on uvicorn until interrupted (no access log: tokens live in paths)."""
    import uvicorn
    from uvicorn.config import LOGGING_CONFIG

    config = {**LOGGING_CONFIG, "loggers": {**LOGGING_CONFIG["loggers"],
                                           "kyogikai.web": {"handlers": ["default"], "level": "INFO", "propagate": False}}}
    server = uvicorn.Server(uvicorn.Config(create_app(app_factory, base_url=base_url, **create_kwargs), host=host,
                                          port=port, access_log=False, server_header=False, proxy_headers=True,
                                          log_config=config, lifespan="on"))
    logging.getLogger("uvicorn.access").addFilter(RedactTokens())
    if not access_log:
        log.setLevel(logging.WARNING)
    server.run()
