"""Feed server against nginx serving the same bytes, with wrk on loopback (bounded: a few seconds each).

Needs Debian's ``wrk`` and ``nginx`` (``apt-get install wrk nginx-light``); each figure is skipped
with the reason when one is missing.  Every load is local (127.0.0.1), bounded in time, and stops
by itself.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from typing import Callable

from kyogikai.app import Kyogikai

DURATION = "5s"
# as ../shared/tools/vs_nginx.sh, the check that judges the feed server: 2 threads, 32 connections,
# and nginx configured as it configures it (no sendfile, text/calendar with its charset)
THREADS, CONNECTIONS = 2, 32

# a bare granian RSGI handler returning the same bytes from memory: the ceiling of a Python server
# on granian here, measured beside ours
BARE_APP = """
BODY = open({path!r}, "rb").read()
HEADERS = [("content-type", "text/calendar; charset=utf-8"), ("etag", '"bare"')]


async def app(scope, proto):
    if scope.headers.get("if-none-match") == '"bare"':
        proto.response_empty(304, HEADERS)
    else:
        proto.response_bytes(200, HEADERS, BODY)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, seconds: float = 30) -> None:
    end = time.time() + seconds
    while time.time() < end:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except Exception:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {seconds} s")


def _ms(value: str) -> float:
    m = re.match(r"([\d.]+)\s*(us|ms|s)\b", value)
    if not m:
        return float("nan")
    n, unit = float(m.group(1)), m.group(2)
    return n / 1000 if unit == "us" else n if unit == "ms" else n * 1000


def wrk(url: str, header: str | None = None) -> tuple[float, float]:
    """Requests/s and p99 latency (ms) of a bounded wrk run with keep-alive."""
    cmd = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{DURATION}", "--latency", url]
    if header:
        cmd[1:1] = ["-H", header]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    found = re.search(r"99%\s+([\d.]+\s*(?:us|ms|s))", out)
    p99 = _ms(found.group(1)) if found else float("nan")
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if non2xx and header is None:
        raise RuntimeError(f"wrk saw {non2xx.group(1)} error responses from {url}")
    return rps, p99


def nginx(root: Path, port: int, work: Path) -> subprocess.Popen:
    for d in (work, root, *[p for p in root.rglob("*")]):  # nginx workers run unprivileged
        d.chmod(0o755 if d.is_dir() else 0o644)
    conf = work / f"nginx-{port}.conf"
    conf.write_text(f"""
daemon off;
worker_processes 1;
pid {work}/nginx-{port}.pid;
error_log {work}/nginx-{port}.err;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    types {{ text/calendar ics; }}
    charset utf-8;
    charset_types text/calendar;
    keepalive_requests 1000000;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        etag on;
    }}
}}
""")
    proc = subprocess.Popen(["nginx", "-c", str(conf), "-p", str(work)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    return proc


def bare_granian(body_file: Path, port: int, work: Path) -> subprocess.Popen:
    """The bare handler (BARE_APP) serving ``body_file`` on ``port``."""
    app_dir = work / f"bare-{port}"
    app_dir.mkdir(parents=True, exist_ok=True)
    (app_dir / "bare_app.py").write_text(BARE_APP.format(path=str(body_file)))
    return subprocess.Popen([sys.executable, "-m", "granian", "--interface", "rsgi", "--port", str(port), "--http", "1",
                             "--no-ws", "--log-level", "warning", "bare_app:app"], cwd=app_dir,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def bench_bare(body_file: Path, nginx_url: str, work: Path, record: Callable[..., object], what: str) -> None:
    """The bare handler against the same nginx, 200s and 304s: how near ours is to that ceiling."""
    port = free_port()
    proc = bare_granian(body_file, port, work)
    try:
        wait_for(f"http://127.0.0.1:{port}/")
        n_etag = urllib.request.urlopen(nginx_url).headers["ETag"]
        for header, status in ((None, "200s"), ('If-None-Match: "bare"', "304s")):
            ours = wrk(f"http://127.0.0.1:{port}/", header)
            base = wrk(nginx_url, None if header is None else f"If-None-Match: {n_etag}")
            record(f"bare granian handler {status}, {what}", ours[0], base[0], "req/s", ">=", 0.0,
                   "reference, not a goal: granian RSGI returning the same bytes from memory, no logic")
    finally:
        _stop([proc])


def bench_server(db: str, work: Path, record: Callable[..., object]) -> None:
    missing = [t for t in ("wrk", "nginx") if shutil.which(t) is None]
    if missing:
        print(f"  (skipped: {', '.join(missing)} not installed — apt-get install wrk nginx-light)")
        return
    with Kyogikai(db, actor="bench") as app:
        app.sync()
        body_id = app.body("幹事会")["id"]
    path = f"/feeds/body/{body_id}.ics"
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "kyogikai", "--db", db, "serve", "--port", str(port), "--no-access-log"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    static = work / "static"
    export = work / "export"
    procs: list[subprocess.Popen] = [server]
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", 60)
        resp = urllib.request.urlopen(f"http://127.0.0.1:{port}{path}")
        body, etag = resp.read(), resp.headers["ETag"]
        (static / "feeds" / "body").mkdir(parents=True, exist_ok=True)
        (static / "feeds" / "body" / f"{body_id}.ics").write_bytes(body)
        subprocess.run([sys.executable, "-m", "kyogikai", "--db", db, "export-feeds", str(export)], check=True,
                       capture_output=True)
        exported = next(export.rglob(f"{body_id}.ics"))
        nport, eport = free_port(), free_port()
        procs.append(nginx(static, nport, work))
        procs.append(nginx(export, eport, work))
        wait_for(f"http://127.0.0.1:{nport}/feeds/body/{body_id}.ics")
        n_etag = urllib.request.urlopen(f"http://127.0.0.1:{nport}/feeds/body/{body_id}.ics").headers["ETag"]

        ours = wrk(f"http://127.0.0.1:{port}{path}")
        base = wrk(f"http://127.0.0.1:{nport}/feeds/body/{body_id}.ics")
        record(f"feed server 200s (p99 ours {ours[1]:.1f} ms, nginx {base[1]:.1f} ms)", ours[0], base[0], "req/s",
               ">=", 0.5, f"幹事会 feed, {len(body)} bytes, wrk -t{THREADS} -c{CONNECTIONS} -d{DURATION} keep-alive")
        ours = wrk(f"http://127.0.0.1:{port}{path}", f"If-None-Match: {etag}")
        base = wrk(f"http://127.0.0.1:{nport}/feeds/body/{body_id}.ics", f"If-None-Match: {n_etag}")
        record(f"feed server 304s (p99 ours {ours[1]:.1f} ms, nginx {base[1]:.1f} ms)", ours[0], base[0], "req/s",
               ">=", 0.5, "revalidation with the ETag each server gave")
        rel = exported.relative_to(export).as_posix()
        wait_for(f"http://127.0.0.1:{eport}/{rel}")
        exp = wrk(f"http://127.0.0.1:{eport}/{rel}")
        record(f"static export served by nginx (p99 {exp[1]:.1f} ms)", exp[0], base[0], "req/s", ">=", 0.5,
               "kyogikai export-feeds output served by nginx, against nginx serving the server's bytes")
        bench_bare(static / "feeds" / "body" / f"{body_id}.ics", f"http://127.0.0.1:{nport}/feeds/body/{body_id}.ics",
                   work, record, "幹事会 feed")
    finally:
        _stop(procs)
    bench_all_feed(work, record)


def _stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()


def bench_all_feed(work: Path, record: Callable[..., object]) -> None:
    """/feeds/all.ics of the demo store (the FY2023 sample and the current year, ~55 KB), 200s and 304s."""
    demo = work / "demo"
    subprocess.run([sys.executable, "-m", "kyogikai", "demo", "--dir", str(demo)], check=True, capture_output=True)
    db = str(demo / "demo.sqlite")
    port, nport = free_port(), free_port()
    static = work / "static-all"
    procs = [subprocess.Popen([sys.executable, "-m", "kyogikai", "--db", db, "serve", "--port", str(port),
                               "--no-access-log"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", 60)
        resp = urllib.request.urlopen(f"http://127.0.0.1:{port}/feeds/all.ics")
        body, etag = resp.read(), resp.headers["ETag"]
        (static / "feeds").mkdir(parents=True, exist_ok=True)
        (static / "feeds" / "all.ics").write_bytes(body)
        procs.append(nginx(static, nport, work))
        wait_for(f"http://127.0.0.1:{nport}/feeds/all.ics")
        n_etag = urllib.request.urlopen(f"http://127.0.0.1:{nport}/feeds/all.ics").headers["ETag"]
        ours = wrk(f"http://127.0.0.1:{port}/feeds/all.ics")
        base = wrk(f"http://127.0.0.1:{nport}/feeds/all.ics")
        record(f"feed server 200s, all.ics (p99 ours {ours[1]:.1f} ms, nginx {base[1]:.1f} ms)", ours[0], base[0],
               "req/s", ">=", 0.3, f"/feeds/all.ics of the demo store, {len(body)} bytes")
        ours = wrk(f"http://127.0.0.1:{port}/feeds/all.ics", f"If-None-Match: {etag}")
        base = wrk(f"http://127.0.0.1:{nport}/feeds/all.ics", f"If-None-Match: {n_etag}")
        record(f"feed server 304s, all.ics (p99 ours {ours[1]:.1f} ms, nginx {base[1]:.1f} ms)", ours[0], base[0],
               "req/s", ">=", 0.5, "revalidation of /feeds/all.ics with the ETag each server gave")
        bench_bare(static / "feeds" / "all.ics", f"http://127.0.0.1:{nport}/feeds/all.ics", work, record, "all.ics")
    finally:
        _stop(procs)
