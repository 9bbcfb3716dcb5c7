"""Helpers for the feed, server and browser tests (no tests here).

- :func:`build_rich` logs a richer year than ``scenario.py`` through the application: periods of
  days, a period crossing the year, month precision, times with and without an end, a cancelled and
  a rescheduled meeting, activities of programmes, a lecture, a vote referring to an earlier
  meeting, sub-bodies and groups, a non-public body with a group under it, member organisations
  on rosters, and one meeting in the future (so pages have an upcoming one).
- :func:`read_all` reads feeds with three independent parsers (icalendar, vobject with
  ``validate=True``, and Mozilla's ical.js under node) and asserts they agree on every item.
- :class:`ThreadServer` runs an ASGI app on a real uvicorn on a free loopback port;
  :class:`ServeProcess` runs ``kyogikai serve`` as a separate process.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from http.client import HTTPConnection
from urllib.parse import urlsplit

import pytest

from kyogikai.app import Kyogikai
from kyogikai.dates import parse_period, parse_time
from kyogikai.domain.formats import Format

from .conftest import IN_CI

JS = Path(__file__).resolve().parent / "js"
HIDDEN = ("非公開検討部会", "非公開作業班")


def need(condition: bool, reason: str) -> None:
    """Skip with the reason, or fail under CI (where every tool must be present)."""
    if not condition:
        if IN_CI:
            pytest.fail(f"CI requires it: {reason}")
        pytest.skip(reason)


# --- the rich fixture ----------------------------------------------------------------------------

def future_day(days: int = 45) -> dt.date:
    return dt.date.today() + dt.timedelta(days=days)


def build_rich(app: Kyogikai) -> dict[str, str]:
    """Log the rich year; returns meeting ids by label (labels are unique here)."""
    for name, section, order in [("あいち電子申請・届出システムの運用", "all", 1), ("共同セキュリティ監査", "all", 2),
                                 ("標的型攻撃メール対策訓練", "all", 4), ("会議運営", "all", 8),
                                 ("あいち共同利用型施設予約システム事業", "participating", 1)]:
        app.create_programme(name, section, order)
    for name, kw in [("総会", dict(programme="会議運営", kind="general_assembly")),
                     ("運営委員会", dict(programme="会議運営", kind="steering_committee")),
                     ("幹事会", dict(programme="会議運営", kind="board")),
                     ("研究会", dict(programme="会議運営", kind="study_group")),
                     ("情報セキュリティ研究会", dict(parent="研究会", kind="study_group")),
                     ("セキュリティ監査グループ", dict(parent="情報セキュリティ研究会", kind="group")),
                     ("非公開検討部会", dict(programme="会議運営", kind="committee", public=False)),
                     ("非公開作業班", dict(parent="非公開検討部会", kind="group")),
                     ("事業部会", dict(programme="あいち共同利用型施設予約システム事業", kind="subcommittee")),
                     ("検討会", dict(programme="あいち共同利用型施設予約システム事業", kind="review_meeting"))]:
        app.create_body(name, **kw)  # type: ignore[arg-type]
    for name, kind in [("愛知県", "prefecture"), ("名古屋市", "city"), ("豊橋市", "city")]:
        app.create_member(name, kind)
    since = dt.date(2023, 4, 1)
    app.join("名古屋市", body="幹事会", since=since)
    app.join("豊橋市", programme="あいち共同利用型施設予約システム事業", since=since)
    app.join("愛知県", body="非公開検討部会", since=since)
    app.join("愛知県", body="情報セキュリティ研究会", since=since)

    def meeting(body: str, date: str, fmt: Format | None = Format.WEB, **kw: Any) -> None:
        start, end = kw.pop("start", None), kw.pop("end", None)
        app.schedule(body=body, period=parse_period(date), format=fmt, start_time=parse_time(start) if start else None,
                     end_time=parse_time(end) if end else None, **kw)

    def activity(kind: str, programme: str, date: str, fmt: Format | None = None, **kw: Any) -> None:
        app.schedule(kind=kind, programme=programme, period=parse_period(date), format=fmt, **kw)

    meeting("総会", "令和5年6月2日", ordinal=1, title="定期総会", agenda=["令和4年度事業報告", "令和4年度収支決算及び監査報告"])
    meeting("幹事会", "令和5年5月24日", ordinal=1, start="13:30", end="15:00")
    meeting("幹事会", "令和5年10月11日", ordinal=2)
    meeting("幹事会", "令和6年3月15日", Format.WRITTEN, ordinal=3)
    meeting("運営委員会", "令和5年10月25日", ordinal=1)
    meeting("事業部会", "令和5年5月2日～12日", Format.WRITTEN, ordinal=1, agenda=["令和5年度事業計画について"])
    meeting("事業部会", "令和5年12月25日～令和6年1月10日", Format.WRITTEN, format_label="書面審議", ordinal=2)
    meeting("検討会", "2023-09-22", Format.IN_PERSON, ordinal=1, start="14:00", end="16:00", venue="県自治センター")
    meeting("検討会", "令和5年11月7日", Format.IN_PERSON, ordinal=2, start="10:00", venue="県自治センター")
    meeting("セキュリティ監査グループ", "令和5年8月21日", ordinal=1)
    meeting("非公開検討部会", "令和5年9月5日", ordinal=1, agenda=["非公開の審議事項"])
    meeting("非公開作業班", "令和5年9月12日", ordinal=1, start="15:00", end="16:00")
    activity("audit", "共同セキュリティ監査", "令和5年7月～11月", title="技術的診断")
    activity("briefing", "共同セキュリティ監査", "令和5年6月21日～7月6日", Format.VIDEO, title="全体説明会")
    activity("drill", "標的型攻撃メール対策訓練", "令和5年7月20日～8月4日", ordinal=1, title="訓練")
    activity("lecture", "共同セキュリティ監査", "令和6年2月9日", Format.WEB, speaker="愛知県警",
             title="最新の情報セキュリティ状況について")
    ids = {m["label"]: m["id"] for m in app.meetings()}
    app.schedule(kind="vote", body="幹事会", period=parse_period("令和5年6月9日"), format=Format.WRITTEN,
                 title="一部議題に係る採決", refers_to=ids["第1回幹事会"])
    app.schedule(body="幹事会", period=parse_period(future_day().isoformat()), format=Format.HYBRID, ordinal=9,
                 venue="県自治センター", start_time=parse_time("13:30"), end_time=parse_time("15:00"),
                 agenda=["次年度事業計画について"])
    app.reschedule(ids["第2回幹事会"], parse_period("令和5年10月18日"))
    app.cancel(ids["第3回幹事会"], "議題なしのため")
    app.hold(ids["第1回幹事会"])
    app.record_outcome(ids["第1回定期総会"], "1", "原案どおり承認")
    return {m["label"]: m["id"] for m in app.meetings()}


# --- reading feeds with three parsers -----------------------------------------------------------

def _norm(value: Any) -> str:
    if isinstance(value, dt.datetime):
        assert value.tzinfo is not None, f"floating time {value}"
        return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value.isoformat()


def read_icalendar(data: bytes) -> dict[str, dict[str, Any]]:
    import icalendar

    cal = icalendar.Calendar.from_ical(data)
    errors = [(c.name, c.errors) for c in cal.walk() if c.errors]
    assert not errors, errors
    out = {}
    for ev in cal.walk("VEVENT"):
        out[str(ev["uid"])] = {"start": _norm(ev.start), "end": _norm(ev.end), "sequence": int(ev["sequence"]),
                               "status": str(ev["status"]), "summary": str(ev["summary"])}
    return out


def read_vobject(data: bytes) -> dict[str, dict[str, Any]]:
    import vobject

    cal = vobject.readOne(data.decode("utf-8"), validate=True)
    out = {}
    for ev in getattr(cal, "vevent_list", []):
        start = ev.dtstart.value
        end = ev.dtend.value if hasattr(ev, "dtend") else start  # RFC 5545 3.6.1 (we write DTEND for dates)
        out[ev.uid.value] = {"start": _norm(start), "end": _norm(end), "sequence": int(ev.sequence.value),
                             "status": ev.status.value, "summary": ev.summary.value}
    return out


class IcalJS:
    """Mozilla's ical.js (Thunderbird's parser) under node, installed into tests/js from the lockfile."""

    def __init__(self) -> None:
        node = shutil.which("node")
        need(node is not None, "node is not installed (needed to read feeds with ical.js)")
        self.node = node
        if not (JS / "node_modules" / "ical.js" / "package.json").exists():
            npm = shutil.which("npm")
            need(npm is not None, "npm is not installed (needed to install ical.js into tests/js)")
            r = subprocess.run([npm, "ci", "--prefix", str(JS), "--no-audit", "--no-fund"], capture_output=True,
                               text=True, timeout=300)
            need(r.returncode == 0, f"npm ci of ical.js failed: {(r.stderr or r.stdout).strip()[-300:]}")

    def read(self, files: list[Path]) -> dict[str, dict[str, Any]]:
        r = subprocess.run([self.node, str(JS / "parse.mjs"), *map(str, files)], capture_output=True, text=True,
                           timeout=120)
        assert r.returncode == 0, f"ical.js refused a feed: {r.stderr.strip()[-2000:]}"
        return json.loads(r.stdout)


@pytest.fixture(scope="session")
def icaljs() -> IcalJS:
    return IcalJS()


def read_all(feeds: dict[str, bytes], icaljs: IcalJS, tmp: Path) -> dict[str, dict[str, dict[str, Any]]]:
    """Read each feed with icalendar, vobject and ical.js; assert they agree; return icalendar's view."""
    tmp.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    for i, (name, data) in enumerate(sorted(feeds.items())):
        files[name] = tmp / f"feed{i}.ics"
        files[name].write_bytes(data)
    js = icaljs.read(list(files.values()))
    out = {}
    for name, data in feeds.items():
        a, b = read_icalendar(data), read_vobject(data)
        c = js[str(files[name])]["events"]
        key = ("start", "end", "sequence", "status")
        pick = lambda d: {u: tuple(v[k] for k in key) for u, v in d.items()}  # noqa: E731
        assert pick(a) == pick(b), f"{name}: icalendar and vobject disagree"
        assert pick(a) == {u: (v["start"], v["end"], v["sequence"], v["status"]) for u, v in c.items()}, \
            f"{name}: icalendar and ical.js disagree"
        assert {u: v["summary"] for u, v in a.items()} == {u: v["summary"] for u, v in c.items()}
        out[name] = a
    return out


# --- HTTP ---------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Answer:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


def fetch(url: str, method: str = "GET", headers: dict[str, str] | None = None) -> Answer:
    """One real HTTP request (no redirects, no caching)."""
    u = urlsplit(url)
    conn = HTTPConnection(u.hostname or "127.0.0.1", u.port, timeout=30)
    try:
        conn.request(method, u.path + (f"?{u.query}" if u.query else ""), headers=headers or {})
        r = conn.getresponse()
        body = r.read()
        return Answer(r.status, {k.lower(): v for k, v in r.getheaders()}, body)
    finally:
        conn.close()


def _wait_up(base: str, alive: Any, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive():
            raise RuntimeError(f"{what} stopped before answering")
        try:
            if fetch(base + "/healthz").status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not answer within {timeout}s")


class ThreadServer:
    """An ASGI app on a real uvicorn server, on a free loopback port, in a background thread.

    ``asgi`` is the app, or a function of the server's base URL that makes it.
    """

    def __init__(self, asgi: Any) -> None:
        import uvicorn

        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        if not hasattr(asgi, "state") and callable(asgi):
            asgi = asgi(self.base)
        self.server = uvicorn.Server(uvicorn.Config(asgi, host="127.0.0.1", port=self.port, log_level="warning",
                                                    access_log=False, lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, name="uvicorn-test", daemon=True)

    def __enter__(self) -> "ThreadServer":
        self.thread.start()
        _wait_up(self.base, self.thread.is_alive, "uvicorn")
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(15)


class ServeProcess:
    """``kyogikai serve`` in a process of its own; its output goes to ``log``."""

    def __init__(self, db: str, log: Path, base_url: str | None = None) -> None:
        self.port = free_port()
        self.base = base_url or f"http://127.0.0.1:{self.port}"
        self.log = log
        self.args = [sys.executable, "-m", "kyogikai", "--db", db, "serve", "--port", str(self.port),
                     "--base-url", self.base]

    def __enter__(self) -> "ServeProcess":
        env = {k: v for k, v in os.environ.items() if k != "KYOGIKAI_BASE_URL"}
        self.out = open(self.log, "wb")
        self.proc = subprocess.Popen(self.args, stdout=self.out, stderr=subprocess.STDOUT, env=env)
        try:
            _wait_up(self.base, lambda: self.proc.poll() is None, "kyogikai serve")
        except Exception:
            self.__exit__()
            raise RuntimeError(f"kyogikai serve did not start: {self.log.read_text(errors='replace')[-2000:]}")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.out.close()


def make_store(kind: str, tmp: Path) -> tuple[str, Any]:
    """A fresh database URL for a module-scoped fixture, and a function that removes it."""
    from .conftest import PG_DSN, init_store, need_postgres

    if kind == "sqlite":
        return init_store(str(tmp / "kyogikai.sqlite")), lambda: None

    need_postgres()
    import uuid

    import psycopg

    schema = "t_" + uuid.uuid4().hex[:12]

    def drop() -> None:
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    return init_store(f"{PG_DSN}?schema={schema}"), drop   # the CLI refuses a store that does not exist
