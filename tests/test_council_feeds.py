"""Issue 14, items 1–3 on the reference import: council settings as events, calendar titles that
name the body, busy or free.  Both databases."""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import icalendar
import pytest

from kyogikai.app import Kyogikai
from kyogikai.projections import feeds as feeds_rm

from .conftest import CLI
from .test_feeds_support import ThreadServer, fetch, free_port, icaljs, read_all  # noqa: F401 (fixture)

NAME = "あいち電子自治体推進協議会"
BASE = "https://kyogikai.example.lg.jp"


@pytest.fixture
def imported(reference_db):
    return reference_db


def events_count(db: str) -> int:
    with Kyogikai(db, actor="t") as app:
        return len(app.log())


def test_council_settings_are_events_with_history(db, monkeypatch):
    monkeypatch.delenv("KYOGIKAI_BASE_URL", raising=False)
    cli = CLI(db)
    shown = cli("council", "show", "--json").json()
    assert shown["name"] == "協議会" and not shown["named"] and shown["history"] == []
    cli("council", "set", "--name", NAME, "--short", "推進協議会", "--base-url", BASE + "/")
    cli("council", "set", "--document-font", "ms", actor="事務局B")
    shown = cli("council", "show", "--json").json()
    assert (shown["name"], shown["short_name"], shown["base_url"], shown["document_font"]) == (NAME, "推進協議会", BASE, "ms")
    assert [(h["actor"], h["name"], h["document_font"]) for h in shown["history"]] == [
        ("事務局A", NAME, "yu"), ("事務局B", NAME, "ms")]
    assert "名称: " + NAME in cli("council", "show").out
    # the same settings again: nothing written
    before = events_count(db)
    r = cli("council", "set", "--name", NAME)
    assert "nothing changed" in r.err and events_count(db) == before
    # bad input: one line naming the field, exit 2, nothing written
    for args, field in [(["--base-url", "ftp://example.jp"], "--base-url"), (["--name", " "], "--name"),
                        (["--name", "あ" * 101], "--name"), (["--document-font", "gothic"], "--document-font"),
                        ([], "council set"), (["--short", "x", "--clear-short"], "--short"),
                        (["--name", "協議\x01会"], "name")]:
        r = cli("council", "set", *args, expect=2)
        assert r.err.startswith("error: ") and field in r.err and r.err.count("\n") == 1, r.err
    assert events_count(db) == before
    cli("council", "set", "--clear-base-url")
    assert cli("council", "show", "--json").json()["base_url"] is None


def test_council_name_in_feeds_pages_and_stored_base_url_used(db, tmp_path, monkeypatch):
    monkeypatch.delenv("KYOGIKAI_BASE_URL", raising=False)
    cli = CLI(db)
    cli("programme", "create", "会議運営", "--section", "all", "--order", "8")
    cli("body", "create", "幹事会", "--programme", "会議運営", "--kind", "board")
    cli("meeting", "schedule", "--body", "幹事会", "--ordinal", "1", "--date", "令和5年5月24日", "--format", "web")
    cli("council", "set", "--name", NAME, "--base-url", BASE)
    out = tmp_path / "site"
    cli("export-feeds", str(out))
    data = (out / "feeds" / "all.ics").read_bytes().replace(b"\r\n ", b"").decode()
    assert f"NAME:{NAME} 全体予定" in data and f"X-WR-CALNAME:{NAME} 全体予定" in data
    assert f"URL;VALUE=URI:{BASE}/" in data  # the stored base URL, no --base-url given
    index = (out / "index.html").read_text(encoding="utf-8")
    assert f"<title>会議・行事予定｜{NAME}</title>" in index and f"{NAME} 会議・行事予定</a></h1>" in index
    # --base-url and the environment still win over the stored one
    cli("export-feeds", str(tmp_path / "other"), "--base-url", "https://other.example.jp")
    assert "https://other.example.jp/" in (tmp_path / "other" / "feeds" / "all.ics").read_text()
    # token issue: stored base URL; a loopback one warns
    cli("member", "create", "名古屋市", "--kind", "city", "--code", "231002")
    r = cli("token", "issue", "--member", "名古屋市")
    assert f"{BASE}/private/" in r.out and "warning" not in r.err
    r = cli("token", "issue", "--member", "名古屋市", "--base-url", "http://127.0.0.1:8000")
    assert "http://127.0.0.1:8000/private/" in r.out and r.err.startswith("warning: ") and "loopback" in r.err
    # the live server shows the name as well
    from kyogikai.web import create_app

    with ThreadServer(lambda base: create_app(lambda: Kyogikai(db, actor="web"), base_url=base)) as srv:
        page = fetch(srv.base + "/").text
        assert f"<title>会議・行事予定｜{NAME}</title>" in page
        assert f"X-WR-CALNAME:{NAME} 全体予定" in fetch(srv.base + "/feeds/all.ics").text


def _serve_stderr(db: str, *args: str) -> str:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "KYOGIKAI_BASE_URL"}
    proc = subprocess.Popen([sys.executable, "-m", "kyogikai", "--db", db, "serve", "--port", str(port), *args],
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, env=env)
    try:
        lines = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = proc.stderr.readline().decode()
            lines.append(line)
            if "serving on" in line or not line:
                break
        return "".join(lines)
    finally:
        proc.terminate()
        proc.wait(15)


def test_serve_on_a_public_address_without_a_public_base_url_warns(sqlite_url):
    CLI(sqlite_url)("council", "show")
    err = _serve_stderr(sqlite_url, "--host", "0.0.0.0")
    assert "warning: serving on 0.0.0.0 without a public base URL" in err
    assert "warning" not in _serve_stderr(sqlite_url)                       # loopback: fine
    assert "warning" not in _serve_stderr(sqlite_url, "--host", "0.0.0.0", "--base-url", BASE)
    CLI(sqlite_url)("council", "set", "--name", NAME, "--base-url", BASE)
    err = _serve_stderr(sqlite_url, "--host", "0.0.0.0")
    assert "warning" not in err and f"feeds and links use {BASE}" in err


# --- item 2: titles that name the body; item 3: busy or free --------------------------------------

def test_reference_summaries_and_feed_names_are_unambiguous(imported, tmp_path, icaljs):
    with Kyogikai(imported, actor="t") as app:
        rows = app.rows(feeds_rm.ITEMS)
        feeds = [f for f in app.rows(feeds_rm.FEEDS)]
    owners: dict[tuple[str, str], set[str]] = collections.defaultdict(set)
    for i in rows:
        fy = i["start_date"][:4] if i["start_date"][5:7] >= "04" else str(int(i["start_date"][:4]) - 1)
        owners[(fy, i["summary"])].add(i["body_id"] or i["programme_id"])
    clashes = {k: v for k, v in owners.items() if len(v) > 1}
    assert not clashes, clashes
    summaries = {s for _, s in owners}
    print(f"\n{len(rows)} items, {len(summaries)} distinct SUMMARYs in FY2023, no two bodies share one")
    for expected in ["第1回研究会（電子申請・届出システム研究会）", "第1回研究会（情報セキュリティ研究会（メンバー全員））",
                     "第1回事業部会（あいち共同利用型施設予約システム事業）",
                     "第1回事業部会（あいち電子調達共同システム（CALS/EC）事業）",
                     "第1回検討会（あいち電子調達共同システム（物品等）事業）",
                     "全体会議（あいち共同利用型施設予約システム事業）", "第1回幹事会", "第1回定期総会",
                     "全体説明会（共同セキュリティ監査）"]:
        assert expected in summaries, expected
    # every feed's name is unique (three were called 「協議会 事業部会」)
    with Kyogikai(imported, actor="t") as app:
        from kyogikai.feeds import FeedService

        svc = FeedService(app, BASE)
        bodies = {(f["kind"], f["ref_id"]): svc.feed(f["kind"], f["ref_id"]) for f in feeds if f["public"]}
    names = collections.Counter()
    data = {}
    for (kind, ref), f in bodies.items():
        cal = icalendar.Calendar.from_ical(f.body)
        assert str(cal["name"]) == str(cal["x-wr-calname"])
        names[str(cal["name"])] += 1
        data[f.path] = f.body
    assert all(n == 1 for n in names.values()), [k for k, n in names.items() if n > 1]
    assert {"協議会 事業部会（あいち共同利用型施設予約システム事業）", "協議会 検討会（あいち電子調達共同システム（物品等）事業）"} <= set(names)
    print(f"{len(names)} feeds, {len(names)} distinct names; read by icalendar, vobject and ical.js")
    read_all(data, icaljs, tmp_path / "parsed")
    # the report keeps its own labels
    report = CLI(imported)("report", "--fiscal-year", "2023").out
    assert "・第1回研究会（令和5年5月30日、Web会議）" in report and "（電子申請・届出システム研究会）" not in report.replace("(ア) 電子申請・届出システム研究会", "")


def test_busy_or_free(imported):
    with Kyogikai(imported, actor="t") as app:
        from kyogikai.feeds import FeedService

        body = FeedService(app, BASE).feed("all").body
    seen = {}
    for ev in icalendar.Calendar.from_ical(body).walk("VEVENT"):
        seen[str(ev["summary"])] = (str(ev["transp"]), ev)
    assert seen["第1回幹事会"][0] == "OPAQUE"                                   # one day, Web会議
    assert seen["第1回定期総会"][0] == "OPAQUE"
    assert seen["第1回研究会（電子申請・届出システム研究会）"][0] == "OPAQUE"
    assert seen["第1回事業部会（あいち共同利用型施設予約システム事業）"][0] == "TRANSPARENT"  # 書面開催 period
    assert seen["技術的診断（オンサイト診断、リモート診断）、インタビュー監査個別報告会（令和5年7月～11月）"][0] == "TRANSPARENT"
    assert seen["情報セキュリティ監査研修"][0] == "TRANSPARENT"                  # 10月30日～31日: several days
    assert seen["第5回検討会（あいち電子調達共同システム（物品等）事業）"][0] == "TRANSPARENT"  # one day, but 書面開催
    for summary, (transp, ev) in seen.items():
        one_day = not hasattr(ev["dtstart"].dt, "hour") and (ev["dtend"].dt - ev["dtstart"].dt).days == 1
        written = "書面" in str(ev["description"])
        if written or not one_day:
            assert transp == "TRANSPARENT", summary
        else:
            assert transp == "OPAQUE", summary
    counts = collections.Counter(t for t, _ in seen.values())
    print(f"\nTRANSP: {dict(counts)}")
