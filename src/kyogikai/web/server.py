"""The HTTP side of ``kyogikai serve``: granian (RSGI) in front, a fast path for feeds, starlette behind.

Three pieces, used by :func:`kyogikai.web.create_app` and :func:`kyogikai.web.serve`:

- :class:`FastPath` answers ``GET``/``HEAD`` of the feeds, the private feeds, the index page and
  ``/healthz`` from rendered copies kept in memory, before the framework.  A copy is valid while
  nothing was committed to the store: on SQLite that is read from the WAL-index header (the first
  48 bytes of ``DB-shm``, which every commit rewrites — a memory compare, no query); elsewhere (and
  when the header moved) a freshness check runs in a worker thread, shared by the requests waiting
  for it.  The event loop never runs a query nor waits for a database lock.  When the store stays
  busy (another process holding the write lock) the request gets the last good rendering, or a 503
  with ``Retry-After`` when there is none — never a stalled loop or a 500.
- :class:`RSGIBridge` runs every other request (pages of other read models, forms, 404s) through
  the starlette app, as ASGI, on granian's RSGI interface; request bodies are limited
  (:data:`MAX_BODY`).
- :func:`log_path` builds the request-log form of a path: the routed token replaced by ``[token]``,
  unrouted paths with every segment that could be a secret replaced, control characters escaped.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import mmap
import os
import re
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from email.utils import format_datetime, parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Awaitable, Callable
from urllib.parse import quote

from starlette.exceptions import HTTPException

from ..store import is_lock_timeout

if TYPE_CHECKING:  # pragma: no cover
    from . import Site

log = logging.getLogger("kyogikai.web")

BUSY_WAIT = 2.0          # seconds a request waits for a fresh view before the last good rendering
LOCK_WAIT_MS = 1000      # how long the server's own catch-up waits for another writer's lock
BUSY_GLANCE = 0.25       # while the store is known busy, how long a request holding a rendering waits
RETRY_AFTER = "5"
MAX_BODY = 1_000_000     # request bodies (forms) larger than this are refused with 413
CACHE_ENTRIES = 4000     # rendered answers kept (feeds, private feeds, the index); cleared beyond

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_FEED_KINDS = ("body", "programme", "member")


class StoreBusy(Exception):
    """Another process holds the store's write lock longer than a request may wait."""


def is_busy(exc: BaseException) -> bool:
    """A lock timeout of either database, or our own :class:`StoreBusy`."""
    return is_lock_timeout(exc)


# --- the request log --------------------------------------------------------------------------

_SECRETISH = re.compile(r"[A-Za-z0-9_\-.~%+=]{16,}")


def _escape(text: str) -> str:
    out = []
    for ch in text:
        o = ord(ch)
        if o < 0x20 or o == 0x7F or 0x80 <= o < 0xA0 or ch in '"\\' or o in (0x2028, 0x2029):
            out.append(f"\\x{o:02x}" if o < 0x100 else f"\\u{o:04x}")
        else:
            out.append(ch)
    return "".join(out)


def log_path(path: str, token: str | None = None, routed: bool = True) -> str:
    """The path as the request log shows it.

    ``token``: the secret the router found in the path (its value is replaced wherever it occurs).
    An unrouted path (``routed=False``: 404, 405) could still carry a token (``//private/T/…``,
    ``/PRIVATE/T/…``, ``/feeds/../private/T/…``): there every segment long enough to be one, and not
    a uuid, is replaced.  Control characters, quotes and backslashes come out escaped (``\\x0a``), so
    a path never forges a log line.
    """
    if token:
        path = path.replace(token, "[token]")
    if not routed:
        path = "/".join(seg if (len(seg) < 16 or _UUID.fullmatch(seg.removesuffix(".ics")))
                        else _SECRETISH.sub("[redacted]", seg) for seg in path.split("/"))
    return _escape(path)


# --- conditional requests ----------------------------------------------------------------------

def not_modified(inm: str | None, ims: str | None, etag: str, last_modified: dt.datetime | None) -> bool:
    """RFC 9110 §13.1: If-None-Match (weak comparison) wins; else If-Modified-Since."""
    if inm is not None:
        tags = [t.strip() for t in inm.split(",")]
        return "*" in tags or any(t.removeprefix("W/") == etag for t in tags)
    if ims and last_modified is not None:
        try:
            since = parsedate_to_datetime(ims)
        except (TypeError, ValueError, IndexError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=dt.timezone.utc)
        return last_modified <= since
    return False


class Entry:
    """One rendered answer: headers built once, for 200 and for 304."""

    __slots__ = ("status", "body", "headers", "headers_304", "etag", "last_modified", "token", "today")

    def __init__(self, status: int, body: bytes, headers: list[tuple[str, str]], etag: str | None = None,
                 last_modified: dt.datetime | None = None, token: str | None = None, today: Any = None) -> None:
        self.status, self.body, self.headers = status, body, headers
        self.etag, self.last_modified, self.token, self.today = etag, last_modified, token, today
        # a 304 freshens the client's stored 200 (RFC 9111 §4.3.4): validators and caching headers;
        # the stored response keeps its other headers, the security headers included.  (Each header
        # costs the server per answer: with them, 304s ran at 0.43 of nginx; without, 0.53.)
        keep = ("etag", "cache-control", "last-modified", "x-robots-tag")
        self.headers_304 = [(k, v) for k, v in headers if k in keep]


def security_headers(site: "Site") -> list[tuple[str, str]]:
    csp = (f"default-src 'none'; style-src 'sha256-{site.css_hash}'; img-src 'self' data:; base-uri 'none'; "
           "form-action 'none'; frame-ancestors 'none'")
    headers = [("x-content-type-options", "nosniff"), ("referrer-policy", "no-referrer"),
               ("x-frame-options", "DENY"), ("content-security-policy", csp),
               ("cross-origin-opener-policy", "same-origin"),
               ("permissions-policy", "camera=(), microphone=(), geolocation=()")]
    if site.base_url.startswith("https://"):
        headers.append(("strict-transport-security", "max-age=31536000"))
    return headers


# --- freshness --------------------------------------------------------------------------------

class WalHeader:
    """The WAL-index header of a SQLite store in WAL mode: changes on every commit by anyone.

    SQLite keeps two copies of the header at the start of ``DB-shm`` and rewrites them on each
    commit (the change counter, the last frame, the salts), so equal bytes mean nothing was
    committed since they were read.  Any doubt (a torn read) only costs a real freshness check.

    **Its descriptor stays open until :meth:`close`, which runs after the store's connection is
    closed.**  Closing any descriptor of a file drops every POSIX lock the process holds on it, and
    SQLite's own connection holds one on ``DB-shm``: the "dead-man switch" that tells the next
    process opening the store that others have the shared memory mapped.  Without it, a command
    opening the store while no other process had it open would truncate and rebuild ``DB-shm``
    under the server's mappings, and the server's next query would die of SIGBUS (seen as
    connections reset under load: ``tests/test_server_hardening.py``).  Map it only once this
    process's connection has read the store (SQLite holds that lock from its first read).
    """

    def __init__(self, db_path: str) -> None:
        self.fd = os.open(db_path + "-shm", os.O_RDONLY | os.O_CLOEXEC)
        try:
            self.map = mmap.mmap(self.fd, 96, mmap.MAP_SHARED, mmap.PROT_READ)
        except BaseException:
            _HELD.append(self.fd)   # closing it would drop SQLite's lock: kept until the process ends
            raise

    def read(self) -> bytes:
        return self.map[0:96]

    def close(self) -> None:
        """After the store's connection is closed (see the class)."""
        self.map.close()
        os.close(self.fd)


_HELD: list[int] = []   # descriptors of DB-shm that could not be mapped, never closed (see WalHeader)


class FastPath:
    """Rendered feeds, private feeds and the index page, answered without the framework."""

    def __init__(self, site: "Site") -> None:
        self.site = site
        self.security = security_headers(site)
        self.entries: dict[str, Entry] = {}
        self.wal: WalHeader | None = None
        self.shm: mmap.mmap | None = None       # self.wal.map, for the inline hot path
        self.fresh_sig: bytes | None = None      # WAL header when the entries were last known current
        self.gen = 0
        self.state: Any = None                   # what the entries were rendered from (see _refresh_sync)
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="kyogikai-db")
        self._running: asyncio.Future | None = None
        self._next: asyncio.Future | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.busy_until = 0.0                    # loop time until which the store counts as busy
        self.busy_since: float | None = None
        self.failure: BaseException | None = None   # the last check's error, when not a busy store
        self.log_on = True

    # -- set-up (in the serving process) ---------------------------------------------------------
    def opened(self) -> None:
        """After ``site.open()``: bound the server's own lock waits, map the WAL header."""
        feeds = self.site.feeds
        if feeds is None:
            return
        reads = feeds.app.reads
        location = feeds.app.store.location
        try:
            if location.kind == "sqlite":
                reads.conn.execute(f"PRAGMA busy_timeout = {LOCK_WAIT_MS}")
                reads.conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # SQLite maps DB-shm (WalHeader)
                self.wal = WalHeader(location.path)
                self.shm = self.wal.map
            else:
                reads.conn.execute(f"SET lock_timeout = {LOCK_WAIT_MS}")
                reads.conn.commit()
        except (OSError, ValueError, sqlite3.Error) as exc:  # no WAL index: every request checks in a thread
            log.warning("freshness probe unavailable (%s); checking the store on each request", exc)
            self.wal = self.shm = None

    def close(self) -> None:
        """Before the store is closed: no more answers from memory, no more checks."""
        self.shm = self.fresh_sig = None
        self.pool.shutdown(wait=False, cancel_futures=True)

    def closed(self) -> None:
        """After the store is closed: let go of ``DB-shm`` (:class:`WalHeader` says why not before)."""
        if self.wal is not None:
            self.wal.close()
            self.wal = None

    # -- freshness -------------------------------------------------------------------------------
    def _refresh_sync(self) -> tuple[bytes | None, Any]:
        """In the worker thread: apply what others recorded.

        Returns the WAL header read before (None without one) and what the renderings depend on
        (the log position the read models stand at, and a read-model generation where there is one).
        """
        site = self.site
        if not site.lock.acquire(timeout=BUSY_WAIT):
            raise StoreBusy("the store is busy")
        try:
            sig = self.wal.read() if self.wal is not None else None
            feeds = site.feeds
            if feeds is None:
                raise StoreBusy("the server is not started")
            feeds.fresh()
            return sig, (getattr(feeds, "_seen", None), getattr(feeds, "generation", None))
        finally:
            site.lock.release()

    def _start_refresh(self) -> None:
        assert self.loop is not None
        waiters, self._next = self._next, None
        running = self.loop.run_in_executor(self.pool, self._refresh_sync)
        self._running = running

        def done(task: asyncio.Future) -> None:
            self._running = None
            exc = task.exception()
            self.failure = exc if exc is not None and not is_busy(exc) else None
            if exc is None:
                sig, state = task.result()
                if state != self.state:
                    self.entries.clear()
                    self.gen += 1
                    self.state = state
                self.fresh_sig = sig
            else:
                self.fresh_sig = None
            if waiters is not None and not waiters.done():
                if exc is None:
                    waiters.set_result(True)
                else:
                    waiters.set_exception(exc)
            if self._next is not None:
                self._start_refresh()

        running.add_done_callback(done)

    def _refresh(self) -> asyncio.Future:
        """A freshness check that starts after this call (joined by every request arriving meanwhile)."""
        if self._next is None:
            assert self.loop is not None
            self._next = self.loop.create_future()
            fut = self._next
            fut.add_done_callback(lambda f: f.exception())  # retrieved: no "never retrieved" noise
            if self._running is None:
                self._start_refresh()
            return fut
        return self._next

    def current(self) -> bool:
        """True when nothing was committed since the entries were known current (no I/O)."""
        return self.wal is not None and self.fresh_sig is not None and self.wal.map[0:96] == self.fresh_sig

    async def ensure_fresh(self, have: bool = False) -> bool:
        """Bring the read models up to date; False when the store stayed busy (serve what we have).

        ``have``: the caller holds a rendering.  While the store is known to be busy (a check timed
        out in the last second) such a caller waits only ``BUSY_GLANCE`` for a new check (enough
        when the lock has just been released), then answers with what it has.
        """
        if self.current():
            return True
        assert self.loop is not None
        wait = BUSY_WAIT + LOCK_WAIT_MS / 1000
        if have and self.loop.time() < self.busy_until:
            wait = BUSY_GLANCE
        try:
            await asyncio.wait_for(asyncio.shield(self._refresh()), wait)
            self.busy_since = None
            self.busy_until = 0.0
            return True
        except Exception as exc:
            if not isinstance(exc, asyncio.TimeoutError) and not is_busy(exc):
                raise
            self.busy_until = self.loop.time() + 1.0
            if self.busy_since is None:  # once per busy spell, not per request
                self.busy_since = self.loop.time()
                log.warning("store busy (%s): answering from the last renderings until it is free",
                            " ".join(str(exc).split()) or "no answer in time")
            return False

    # -- routing ---------------------------------------------------------------------------------
    @staticmethod
    def route(path: str) -> tuple[str, str | None] | None:
        """(kind, id or token) for the paths answered here; None for the framework's."""
        if path == "/feeds/all.ics":
            return ("all", None)
        if path.startswith("/feeds/") and path.endswith(".ics"):
            kind, _, ref = path[7:-4].partition("/")
            if kind in _FEED_KINDS and _UUID.fullmatch(ref):
                return (kind, ref.lower())
            return None
        if path.startswith("/private/") and path.endswith("/calendar.ics"):
            token = path[9:-13]
            if token and "/" not in token and "%" not in token:
                return ("private", token)
            return None
        if path == "/":
            return ("index", None)
        if path == "/healthz":
            return ("healthz", None)
        return None

    def _build(self, kind: str, ref: str | None, path: str) -> Entry:
        """In the worker thread: the answer for a route, from the current read models."""
        site = self.site
        if not site.lock.acquire(timeout=BUSY_WAIT):
            raise StoreBusy("the store is busy")
        try:
            feeds = site.feeds
            assert feeds is not None
            if kind == "index":
                today = site.today()
                data = {"catalogue": feeds.catalogue(), "upcoming": feeds.upcoming(today), "council": feeds.council}
            elif kind == "private":
                feed = feeds.private_feed(ref or "")
            else:
                feed = feeds.feed(kind, ref)
        finally:
            site.lock.release()
        if kind == "index":
            html = site.env.get_template("web_index.html").render(request=_index_request(path), today=today, **data)
            headers = [("content-type", "text/html; charset=utf-8"), ("cache-control", "no-cache"), *self.security]
            return Entry(200, html.encode(), headers, today=today)
        private = kind == "private"
        if feed is None:
            body = "404 見つかりません".encode()
            return Entry(404, body, [("content-type", "text/plain; charset=utf-8"), *self.security],
                         token=ref if private else None)
        headers = [("content-type", "text/calendar; charset=utf-8"), ("etag", feed.etag),
                   ("cache-control", "private, no-cache" if private else "public, max-age=300, must-revalidate")]
        if feed.last_modified is not None:
            headers.append(("last-modified", format_datetime(feed.last_modified, usegmt=True)))
        if private:
            headers.append(("x-robots-tag", "noindex, nofollow"))
        name = "calendar.ics" if private else feed.path.rsplit("/", 1)[-1]
        headers.append(("content-disposition", f'inline; filename="{name}"'))
        headers.extend(self.security)
        return Entry(200, feed.body, headers, feed.etag, feed.last_modified, token=ref if private else None)

    def _unavailable(self) -> tuple[int, list, bytes]:
        return 503, [("content-type", "text/plain; charset=utf-8"), ("retry-after", RETRY_AFTER),
                     ("cache-control", "no-store"), *self.security], \
            "503 ただいま応答できません。しばらくしてから再度お試しください。".encode()

    async def answer(self, method: str, path: str, header: Callable[[str], Any]) -> tuple[int, list, bytes, str] | None:
        """(status, headers, body, log path) for a fast-path request, or None for the framework.

        The body is the full body for HEAD too (the server sends only its length).
        """
        if method != "GET" and method != "HEAD":
            return None
        entry = self.entries.get(path)
        route = None
        if entry is None:
            route = self.route(path)
            if route is None:
                return None
            if route[0] == "healthz":  # never waits: the state of the last check (and a new one started)
                if not self.current():
                    self._refresh()
                if self.failure is not None:
                    return 503, [("content-type", "text/plain; charset=utf-8"), ("cache-control", "no-store"),
                                 ("retry-after", RETRY_AFTER), *self.security], b"store unavailable", "/healthz"
                return 200, [("content-type", "text/plain; charset=utf-8"), ("cache-control", "no-store"),
                             *self.security], b"ok", "/healthz"
        if not self.current():
            try:
                fresh = await self.ensure_fresh(have=entry is not None)
            except Exception as exc:  # the store cannot be used (not merely busy): the last rendering, else 503
                log.error("store unavailable: %s", " ".join(str(exc).split())[:300])
                if entry is None:
                    return (*self._unavailable(), log_path(path, route[1] if route and route[0] == "private" else None))
                fresh = False
            if fresh or entry is None:
                entry = self.entries.get(path) or (entry if not fresh else None)
        else:
            fresh = True
        if entry is not None and entry.today is not None and entry.today != self.site.today():
            entry = None
        if entry is None:
            kind, ref = route or self.route(path) or ("", None)
            gen = self.gen
            assert self.loop is not None
            try:
                entry = await self.loop.run_in_executor(self.pool, self._build, kind, ref, path)
            except Exception as exc:
                if not is_busy(exc):  # the store gone, or a bug of ours: said in the log, answered 503
                    log.error("cannot answer %s: %s: %s", log_path(path, ref if kind == "private" else None),
                              type(exc).__name__, " ".join(str(exc).split())[:300])
                entry = self.entries.get(path)
                if entry is None:
                    return (*self._unavailable(), log_path(path, ref if kind == "private" else None))
            else:
                if fresh and gen == self.gen:
                    if len(self.entries) >= CACHE_ENTRIES:
                        self.entries.clear()
                    self.entries[path] = entry
        lp = log_path(path, entry.token) if self.log_on else ""
        if entry.etag is not None:
            inm = header("if-none-match")
            if inm is not None:
                if inm == entry.etag or not_modified(inm, None, entry.etag, entry.last_modified):
                    return 304, entry.headers_304, b"", lp
            else:
                ims = header("if-modified-since")
                if ims is not None and not_modified(None, ims, entry.etag, entry.last_modified):
                    return 304, entry.headers_304, b"", lp
        return entry.status, entry.headers, entry.body, lp


def _index_request(path: str) -> Any:
    """A request object for templates rendered outside a request's handler (the cached index)."""
    from starlette.requests import Request

    return Request({"type": "http", "method": "GET", "path": path, "raw_path": path.encode(), "root_path": "",
                    "query_string": b"", "headers": [], "scheme": "http", "server": None, "client": None})


# --- RSGI in front of the ASGI app ------------------------------------------------------------

class RSGIBridge:
    """Runs an ASGI app for one RSGI request (granian): scope, body stream and response translated."""

    def __init__(self, asgi: Callable[..., Awaitable[None]]) -> None:
        self.asgi = asgi

    async def __call__(self, scope: Any, proto: Any) -> None:
        path = scope.path  # granian gives it percent-decoded already: never decode it twice
        host, _, port = (scope.client or "").rpartition(":")
        shost, _, sport = (scope.server or "").rpartition(":")
        headers = [(k.lower().encode("latin-1"), v.encode("latin-1", "replace")) for k, v in scope.headers.items()]
        asgi_scope = {
            "type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": scope.http_version, "method": scope.method, "scheme": scope.scheme,
            "path": path, "raw_path": quote(path, safe="/:@!$&'()*+,;=-._~").encode("ascii"),
            "query_string": scope.query_string.encode("latin-1", "replace"), "root_path": "",
            "headers": headers, "client": (host.strip("[]"), int(port or 0)),
            "server": (shost.strip("[]"), int(sport or 0)), "state": {},
        }
        chunks = proto.__aiter__()
        state = {"read": 0, "done": False, "started": False, "status": 200, "headers": [], "stream": None,
                 "sent": False}

        async def receive() -> dict:
            if not state["done"]:
                try:
                    chunk = await chunks.__anext__()
                except StopAsyncIteration:
                    state["done"] = True
                    return {"type": "http.request", "body": b"", "more_body": False}
                state["read"] += len(chunk)
                if state["read"] > MAX_BODY:
                    state["done"] = True
                    raise BodyTooLarge()
                return {"type": "http.request", "body": bytes(chunk), "more_body": True}
            await proto.client_disconnect()
            return {"type": "http.disconnect"}

        async def send(message: dict) -> None:
            kind = message["type"]
            if kind == "http.response.start":
                state["status"] = message["status"]
                state["headers"] = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in message.get("headers", [])]
                state["started"] = True
            elif kind == "http.response.body":
                body, more = message.get("body", b""), message.get("more_body", False)
                if state["stream"] is None:
                    if not more:
                        proto.response_bytes(state["status"], state["headers"], body)
                        state["sent"] = True
                        return
                    state["stream"] = proto.response_stream(state["status"], state["headers"])
                    state["sent"] = True
                if body:
                    await state["stream"].send_bytes(body)

        try:
            await self.asgi(asgi_scope, receive, send)
        except BodyTooLarge:
            if not state["sent"]:
                proto.response_str(413, [("content-type", "text/plain; charset=utf-8"), ("connection", "close")],
                                   "413 Payload Too Large")
            return
        if not state["sent"]:
            proto.response_empty(state["status"] if state["started"] else 500, state["headers"])


class BodyTooLarge(HTTPException):
    """A request body beyond :data:`MAX_BODY`: answered 413 by the app's HTTPException handler."""

    def __init__(self) -> None:
        super().__init__(413, "413 Payload Too Large")


def raise_nofile_limit() -> int:
    """Raise the soft open-files limit to the hard one; returns the limit in force."""
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard == resource.RLIM_INFINITY or hard > soft:
            target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        return soft
    except (ImportError, ValueError, OSError):
        return 1024


def die_with_parent() -> None:
    """Linux: the worker process ends when the serving process does (even on SIGKILL)."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass

