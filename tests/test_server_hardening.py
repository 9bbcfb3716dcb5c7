"""The feed server against a busy store, hostile clients and hostile paths (issue 16, items 2, 3, 4, 11).

Everything over real HTTP against a real ``kyogikai serve`` process.  A "slow writer" is another
process holding the store's write lock (SQLite ``BEGIN IMMEDIATE``; the PostgreSQL advisory lock the
catch-up takes) while events it has not yet projected wait in the log: the server must keep
answering — the last good rendering, never a stall of every endpoint, never a 500 — and show the
change on the first request after the lock is released.
"""

from __future__ import annotations

import datetime as dt
import socket
import subprocess
import sys
import textwrap
import time
import uuid
from http.client import HTTPConnection

import pytest

from kyogikai.app import Kyogikai
from kyogikai.dates import parse_period
from kyogikai.domain.formats import Format

from .conftest import CLI
from .test_feeds_support import ServeProcess, fetch, make_store


def small_store(app: Kyogikai) -> dict[str, str]:
    app.create_programme("会議運営", "all", 8)
    app.create_body("幹事会", programme="会議運営", kind="board")
    app.create_body("総会", programme="会議運営", kind="general_assembly")
    app.create_member("名古屋市", "city")
    app.join("名古屋市", body="幹事会", since=dt.date(2023, 4, 1))
    app.schedule(body="幹事会", ordinal=1, period=parse_period("令和5年5月24日"), format=Format.WEB)
    return {"幹事会": app.body("幹事会")["id"], "総会": app.body("総会")["id"]}


class LockHolder:
    """Another process holding the store's write lock until released."""

    def __init__(self, db: str) -> None:
        if db.startswith("postgresql://"):
            dsn, schema = db.split("?", 1)[0], db.split("schema=", 1)[1]
            code = f"""
                import sys, psycopg
                conn = psycopg.connect({dsn!r}, options="-c search_path={schema}")
                # the store's write lock: keyed by the store's schema (PostgresReadStore.transaction)
                conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(current_schema()))", (0x6B796F67,))
                print("held", flush=True)
                sys.stdin.read()
                conn.rollback()
            """
        else:
            code = f"""
                import sqlite3, sys
                conn = sqlite3.connect({db!r}, isolation_level=None)
                conn.execute("BEGIN IMMEDIATE")
                print("held", flush=True)
                sys.stdin.read()
                conn.execute("ROLLBACK")
            """
        self.proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None and self.proc.stdout.readline().strip() == "held"

    def holding(self) -> bool:
        return self.proc.poll() is None

    def release(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(30)


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, tmp_path):
    db, drop = make_store(request.param, tmp_path)
    with Kyogikai(db, actor="事務局A") as app:
        ids = small_store(app)
    yield db, ids
    drop()


def test_a_writer_holding_the_lock_stalls_nothing_and_never_gives_500(store, tmp_path, monkeypatch):
    db, ids = store
    with ServeProcess(db, tmp_path / "serve.log") as srv:
        before = fetch(srv.base + "/feeds/all.ics")
        assert before.status == 200 and "第1回幹事会" in before.text
        assert fetch(srv.base + "/").status == 200
        # events the read models do not hold yet (written by a bare event store, as an older
        # kyogikai or a restore would), then another process takes the write lock and keeps it
        with Kyogikai(db, actor="事務局B") as app:
            from kyogikai.domain.meeting import Kind, Meeting
            from kyogikai.store import EventStore, Location

            b = app.body("幹事会")
            m = Meeting.schedule(kind=Kind.MEETING, programme_id=b["programme_id"], body_id=b["id"], ordinal=2,
                                 period=parse_period("令和5年10月11日"), format=Format.WEB, actor="事務局B")
            bare = EventStore(Location.parse(db))
            bare.save(m)
            bare.close()
        holder = LockHolder(db)
        try:
            stale = fetch(srv.base + "/feeds/all.ics")
            assert stale.status == 200 and stale.body == before.body      # the last good rendering
            assert fetch(srv.base + "/feeds/all.ics", headers={"If-None-Match": before.headers["etag"]}).status == 304
            assert fetch(srv.base + "/healthz").text == "ok"
            assert fetch(srv.base + "/no-such-page").status == 404
            for path in ("/", f"/bodies/{ids['幹事会']}", f"/feeds/body/{ids['総会']}.ics",
                         f"/bodies/{ids['幹事会']}/participation?fiscal_year=2023"):
                r = fetch(srv.base + path)
                assert r.status == 200 or (r.status == 503 and r.headers.get("retry-after")), (path, r.status)
            # a command under the held lock: exit 4, one line, no traceback
            monkeypatch.setenv("KYOGIKAI_LOCK_TIMEOUT", "1")
            r = CLI(db)("meeting", "schedule", "--body", "総会", "--ordinal", "1", "--date", "令和5年6月1日",
                     "--format", "web", expect=4)
            assert r.err.startswith("error: the database is busy") and r.err.count("\n") == 1
            assert "Traceback" not in r.err and "internal error" not in r.err
            assert holder.holding()   # all of the above was answered while the lock was still held
        finally:
            holder.release()
        after = fetch(srv.base + "/feeds/all.ics")
        assert after.status == 200 and "第2回幹事会" in after.text     # visible on the next request
        assert fetch(srv.base + "/feeds/all.ics", headers={"If-None-Match": before.headers["etag"]}).status == 200
    log = (tmp_path / "serve.log").read_text(errors="replace")
    assert "Traceback" not in log and '" 500' not in log


def test_index_page_is_cached_and_follows_changes(store, tmp_path):
    db, ids = store
    with ServeProcess(db, tmp_path / "serve.log") as srv:
        first = fetch(srv.base + "/")
        assert first.status == 200 and first.headers["content-type"].startswith("text/html")
        assert fetch(srv.base + "/").body == first.body
        CLI(db)("body", "create", "研究会", "--programme", "会議運営", "--kind", "study_group")
        assert "研究会" in fetch(srv.base + "/").text and "研究会" not in first.text


# --- hostile clients -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    db = str(tmp / "k.sqlite")
    with Kyogikai(db, actor="事務局A") as app:
        small_store(app)
    with ServeProcess(db, tmp / "serve.log") as srv:
        yield srv, db


def _closed(sock: socket.socket, send: bytes | None = None, seconds: float = 60) -> bytes | None:
    """Keeps sending ``send`` (a byte a time, or nothing) until the server closes; what it said, or None."""
    sock.settimeout(0.5)
    got = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if send:
                sock.sendall(send)
            data = sock.recv(65536)
            if not data:
                return got
            got += data
        except socket.timeout:
            continue
        except OSError:
            return got
    return None


def test_a_client_trickling_its_header_is_disconnected(served):
    srv, _ = served
    port = int(srv.base.rsplit(":", 1)[1])
    # both at once: each waits out the same header timeout, so the test waits for it only once
    silent = socket.create_connection(("127.0.0.1", port))
    trickler = socket.create_connection(("127.0.0.1", port))
    trickler.sendall(b"GET /feeds/all.ics HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    assert _closed(trickler, b"a") is not None          # the server hung up on it
    assert _closed(silent) is not None                  # and on a client that never says anything
    assert fetch(srv.base + "/healthz").text == "ok"


def test_an_endless_header_is_refused_without_reading_it_all(served):
    srv, _ = served
    port = int(srv.base.rsplit(":", 1)[1])
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: ")
    answer = _closed(s, b"a" * 65536)
    assert answer is not None and (answer == b"" or answer.startswith(b"HTTP/1.1 431"))
    assert fetch(srv.base + "/healthz").text == "ok"


def test_more_idle_connections_than_the_cap_do_not_take_the_server_down(served):
    srv, _ = served
    port = int(srv.base.rsplit(":", 1)[1])
    idle = []
    try:
        for _ in range(600):   # above MAX_CONNECTIONS: the rest wait in the backlog
            idle.append(socket.create_connection(("127.0.0.1", port)))
        # once the header timeout has dropped them, the server answers as usual
        assert fetch(srv.base + "/healthz").text == "ok"
    finally:
        for s in idle:
            s.close()
    assert srv.proc.poll() is None
    assert fetch(srv.base + "/feeds/all.ics").status == 200


@pytest.mark.slow
def test_eleven_hundred_trickling_clients_and_four_huge_headers(tmp_path):
    """The issue's attack on a server limited to 1,024 open files: it keeps serving, and recovers."""
    db = str(tmp_path / "k.sqlite")
    with Kyogikai(db, actor="事務局A") as app:
        small_store(app)
    proc = ServeProcess(db, tmp_path / "serve.log")
    proc.args = ["sh", "-c", 'ulimit -n 1024 && exec "$@"', "sh", *proc.args]
    with proc as srv:
        port = int(srv.base.rsplit(":", 1)[1])
        socks = []
        try:
            for _ in range(1100):
                try:
                    s = socket.create_connection(("127.0.0.1", port), timeout=5)
                    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
                    socks.append(s)
                except OSError:
                    break
            huge = []
            for _ in range(4):
                try:
                    s = socket.create_connection(("127.0.0.1", port), timeout=10)
                    s.sendall(b"GET / HTTP/1.1\r\nX-Big: ")
                    huge.append(s)
                except OSError:
                    pass
            for s in huge:
                assert _closed(s, b"b" * 65536, seconds=60) is not None
            assert fetch(srv.base + "/healthz").text == "ok"
            assert fetch(srv.base + "/feeds/all.ics").status == 200
        finally:
            for s in socks:
                s.close()
        assert srv.proc.poll() is None
        assert fetch(srv.base + "/healthz").text == "ok"
    log = (tmp_path / "serve.log").read_text(errors="replace")
    assert "Too many open files" not in log


# --- the request log -------------------------------------------------------------------------

def _raw_get(base: str, target: str) -> int:
    host, port = base.removeprefix("http://").rsplit(":", 1)
    conn = HTTPConnection(host, int(port), timeout=30)
    try:
        conn.putrequest("GET", target, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", "x")
        conn.endheaders()
        r = conn.getresponse()
        r.read()
        return r.status
    finally:
        conn.close()


def test_request_log_never_shows_a_token_and_escapes_control_characters(served):
    srv, db = served
    out = CLI(db)("token", "issue", "--member", "名古屋市", "--base-url", srv.base).out
    token = out.split("/private/", 1)[1].split("/", 1)[0]
    assert _raw_get(srv.base, f"/private/{token}/calendar.ics") == 200
    targets = [f"//private/{token}/calendar.ics", f"/PRIVATE/{token}/calendar.ics", f"/x/private/{token}/calendar.ics",
               f"/feeds/../private/{token}/calendar.ics", f"/private/../{token}/calendar.ics",
               f"/private/{token}/participation", f"/private/{token}/", f"/private/{token}",
               f"/private/{token[:5]}%{ord(token[5]):02X}{token[6:]}/calendar.ics",   # partly percent-encoded
               f"/{token}", f"/feeds/{token}.ics?x=1"]
    for target in targets:
        assert _raw_get(srv.base, target) in (200, 307, 404)   # 307: /private/T → /private/T/ (the answer page)
    forged = '/feeds/x%0a2026-01-01%2000:00:00,000%20INFO%2010.0.0.1%20%22GET%20/forged%22%20200%0d'
    assert _raw_get(srv.base, forged) == 404
    deadline = time.monotonic() + 30   # the worker writes its access log lines as it answers
    while True:
        log = srv.log.read_text(encoding="utf-8", errors="replace")
        if ("\\x0a" in log and log.count("[token]") >= 3) or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert token not in log and token[:20] not in log
    assert not any(line.startswith("2026-01-01") or "10.0.0.1" in line.split('"')[0] for line in log.splitlines())
    assert "\\x0a" in log and '"GET /forged"' not in log
    assert log.count("[token]") >= 3


def test_unknown_uuid_feed_and_percent_encoded_paths_still_route(served):
    srv, _ = served
    assert fetch(srv.base + f"/feeds/body/{uuid.uuid4()}.ics").status == 404
    assert fetch(srv.base + "/feeds/all%2Eics").status == 200
    assert fetch(srv.base + "/feeds/all.ics", "POST").status == 405


def test_without_access_log_the_hot_path_still_shows_each_change_on_the_next_request(store, tmp_path):
    db, ids = store
    proc = ServeProcess(db, tmp_path / "serve.log")
    proc.args.append("--no-access-log")
    path = f"/feeds/body/{ids['幹事会']}.ics"
    with proc as srv:
        first = fetch(srv.base + path)
        again = fetch(srv.base + path)
        assert first.status == again.status == 200 and first.body == again.body
        etag = first.headers["etag"]
        assert fetch(srv.base + path, headers={"If-None-Match": etag}).status == 304
        assert fetch(srv.base + path, "HEAD").headers["content-length"] == str(len(first.body))
        for n in (2, 3):
            CLI(db)("meeting", "schedule", "--body", "幹事会", "--ordinal", str(n), "--date", f"令和5年{n + 5}月1日",
                    "--format", "web")
            changed = fetch(srv.base + path, headers={"If-None-Match": etag})
            assert changed.status == 200 and f"第{n}回幹事会" in changed.text
            assert changed.headers["etag"] != etag
            etag = changed.headers["etag"]
            assert fetch(srv.base + path, headers={"If-None-Match": etag}).status == 304
            assert f"第{n}回幹事会" in fetch(srv.base + "/feeds/all.ics").text
            CLI(db)("body", "create", f"研究会{n}", "--programme", "会議運営", "--kind", "study_group")
            assert f"研究会{n}" in fetch(srv.base + "/").text
    log = (tmp_path / "serve.log").read_text(errors="replace")
    assert '"GET ' not in log   # no request lines


EXTRA_SERVER = '''
import sys
from starlette.responses import PlainTextResponse, StreamingResponse
from starlette.routing import Route
from kyogikai.app import Kyogikai
from kyogikai.web import serve

db, port = sys.argv[1], int(sys.argv[2])

async def form(request):   # request.form() needs python-multipart; the body goes the same way
    from urllib.parse import parse_qs
    data = parse_qs((await request.body()).decode())
    return PlainTextResponse("got " + data.get("name", [""])[0])

def page(request):
    site = request.app.state.site
    n = site.read(lambda f: f.app.query("SELECT count(*) FROM rm_meetings")[0][0])
    return PlainTextResponse(f"{n} {request.query_params.get('q')} {len(request.path_params['token'])}")

async def stream(request):
    async def parts():
        for i in range(3):
            yield f"part{i}\\n".encode()
    return StreamingResponse(parts(), media_type="text/plain")

serve(lambda: Kyogikai(db, actor="web"), port=port, base_url=f"http://127.0.0.1:{port}",
      extra_routes=[Route("/form", form, methods=["POST"]), Route("/private/{token}/page", page),
                    Route("/stream", stream)])
'''


def _post(url: str, body: bytes):
    """A form POST: the answer, or for a refused large body its status (None if the server hung up first)."""
    from urllib.parse import urlsplit

    from .test_feeds_support import Answer

    u = urlsplit(url)
    conn = HTTPConnection(u.hostname, u.port, timeout=30)
    try:
        conn.request("POST", u.path, body=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
        r = conn.getresponse()
        answer = Answer(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
        return answer if len(body) < 1_000_000 else answer.status
    except (BrokenPipeError, ConnectionResetError):
        return None
    finally:
        conn.close()


def test_other_engineers_routes_forms_and_streams_work_on_the_server(tmp_path):
    from .test_feeds_support import _wait_up, free_port

    db = str(tmp_path / "k.sqlite")
    with Kyogikai(db, actor="事務局A") as app:
        small_store(app)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(tmp_path / "serve.log", "wb")
    proc = subprocess.Popen([sys.executable, "-c", EXTRA_SERVER, db, str(port)], stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_up(base, lambda: proc.poll() is None, "serve with extra routes")
        r = _post(base + "/form", "name=%E5%90%8D%E5%8F%A4%E5%B1%8B%E5%B8%82".encode())
        assert r.status == 200 and r.text == "got 名古屋市" and r.headers["x-content-type-options"] == "nosniff"
        assert _post(base + "/form", b"name=" + b"a" * 2_000_000) in (413, None)
        token = "T" * 43
        r = fetch(base + f"/private/{token}/page?q=%E3%81%82")
        assert r.status == 200 and r.text == "1 あ 43"
        r = fetch(base + "/stream")
        assert r.status == 200 and r.text == "part0\npart1\npart2\n"
        assert fetch(base + "/form").status == 405
        assert fetch(base + "/feeds/all.ics").status == 200
    finally:
        proc.terminate()
        proc.wait(15)
        log.close()
    text = (tmp_path / "serve.log").read_text(errors="replace")
    assert token not in text and "/private/[token]/page" in text and "Traceback" not in text


def _shm_dead_man_switch_free(db: str) -> bool:
    """Whether another process could take SQLite's "dead-man switch" on ``DB-shm`` exclusively.

    The byte is SQLite's ``UNIX_SHM_DMS`` (os_unix.c: ``(22 + SQLITE_SHM_NLOCK) * 4 +
    SQLITE_SHM_NLOCK`` = 128).  Every process with the store open holds it shared; the process that
    gets it exclusively believes nobody has the shared memory mapped, and truncates and rebuilds it.
    """
    import fcntl
    import os

    fd = os.open(db + "-shm", os.O_RDWR)
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 128)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def test_commands_opening_a_sqlite_store_never_rebuild_its_shared_memory_under_the_server(tmp_path):
    """SQLite only (PostgreSQL has no shared-memory file).  The server maps ``DB-shm`` to see commits
    without a query (``WalHeader``); it once closed the descriptor it mapped it with, which dropped
    every lock the process held on the file, SQLite's dead-man switch included.  A command opening
    the store while no other process had it open then rebuilt ``DB-shm`` under the server: its next
    query died of SIGBUS, granian restarted the worker, and the requests in flight were reset
    (8 of 13 runs of three writers and three readers; CI once)."""
    db = str(tmp_path / "k.sqlite")
    with Kyogikai(db, actor="事務局A") as app:
        ids = small_store(app)
    with ServeProcess(db, tmp_path / "serve.log") as srv:
        body_feed = f"/feeds/body/{ids['幹事会']}.ics"
        for path in ("/", "/feeds/all.ics", body_feed, f"/bodies/{ids['幹事会']}"):
            assert fetch(srv.base + path).status == 200, path
        assert not _shm_dead_man_switch_free(db), "the server does not hold its lock on DB-shm"
        for day in (12, 13):   # commands in processes of their own, as a clerk runs them
            subprocess.run([sys.executable, "-m", "kyogikai", "--db", db, "--actor", "事務局B", "meeting", "schedule",
                            "--body", "幹事会", "--title", f"臨時幹事会{day}", "--date", f"2023-06-{day}", "--format", "web"],
                           check=True, capture_output=True)
            assert f"臨時幹事会{day}" in fetch(srv.base + body_feed).text
            assert not _shm_dead_man_switch_free(db), "the server lost its lock on DB-shm"
        assert srv.proc.poll() is None
    log = (tmp_path / "serve.log").read_text(errors="replace")
    assert "Unexpected exit" not in log and "Fatal Python error" not in log, log[-2000:]


def test_a_store_that_goes_away_gives_the_last_rendering_or_503_and_healthz_says_so(tmp_path):
    """PostgreSQL: the schema dropped under a running server (the store cannot be used any more)."""
    from .conftest import PG_DSN

    db, drop = make_store("postgres", tmp_path)
    with Kyogikai(db, actor="事務局A") as app:
        ids = small_store(app)
    with ServeProcess(db, tmp_path / "serve.log") as srv:
        before = fetch(srv.base + "/feeds/all.ics")
        assert before.status == 200
        import psycopg

        with psycopg.connect(PG_DSN, autocommit=True) as conn:   # another process removes the store
            conn.execute(f'DROP SCHEMA "{db.rsplit("schema=", 1)[1]}" CASCADE')
        again = fetch(srv.base + "/feeds/all.ics")
        assert again.status == 200 and again.body == before.body            # the last good rendering
        never = fetch(srv.base + f"/feeds/body/{ids['総会']}.ics")
        assert never.status == 503 and never.headers.get("retry-after")     # nothing to answer with
        assert fetch(srv.base + "/healthz").status == 503
        assert fetch(srv.base + f"/bodies/{ids['幹事会']}").status == 503
    drop()
    log = (tmp_path / "serve.log").read_text(errors="replace")
    assert "Traceback" not in log and '" 500' not in log
