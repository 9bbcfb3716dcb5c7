"""Calendar feeds: the read model, the ICS content, the CLI (feed, export-feeds, token) and tokens.

Each test runs on a real SQLite file and on the real PostgreSQL (``rich``: one store per backend
for the module, holding the rich year of ``test_feeds_support.build_rich``).  Tests that change the
log create their own bodies, members or meetings, so they do not disturb each other.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from contextlib import nullcontext
from email.utils import parsedate_to_datetime
from pathlib import Path

import icalendar
import pytest

from kyogikai.app import Kyogikai
from kyogikai.dates import parse_period
from kyogikai.domain.formats import Format
from kyogikai.feeds import FeedService
from kyogikai.projections import feeds as feeds_rm
from kyogikai.projections.runtime import SQLRows, project_until

from .conftest import CLI
from .test_feeds_support import HIDDEN, build_rich, icaljs, make_store, read_all, read_icalendar  # noqa: F401

BASE = "https://kyogikai.example.lg.jp/cal"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def rich(request, tmp_path_factory):
    db, drop = make_store(request.param, tmp_path_factory.mktemp("rich"))
    with Kyogikai(db, actor="事務局A") as app:
        ids = build_rich(app)
    yield db, ids
    drop()


@pytest.fixture
def svc(rich):
    """The feed service over one application (actor 事務局A) on the module's store."""
    s = FeedService(Kyogikai(rich[0], actor="事務局A"), BASE)
    yield s
    s.app.close()


def service(db: str, base: str = BASE) -> FeedService:
    """A second application on the same store (another reader)."""
    return FeedService(Kyogikai(db, actor="事務局B"), base)


def feed_of(s: FeedService, kind: str = "all", ref: str | None = None) -> bytes:
    s.fresh()
    f = s.feed(kind, ref)
    assert f is not None, f"no {kind} feed {ref}"
    return f.body


def events(data: bytes) -> dict[str, icalendar.Event]:
    return {str(e["uid"]): e for e in icalendar.Calendar.from_ical(data).walk("VEVENT")}


def by_summary(data: bytes) -> dict[str, icalendar.Event]:
    return {str(e["summary"]): e for e in events(data).values()}


def ids_of(s: FeedService, kind: str, name: str) -> str:
    s.fresh()
    return {"body": s.app.body, "programme": s.app.programme, "member": s.app.member}[kind](name)["id"]


def count_events(s: FeedService) -> int:
    return s.app.store.max_position()


def exported(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*.ics"))}


# --- content ------------------------------------------------------------------------------------

def test_every_public_feed_reads_cleanly_and_three_parsers_agree(rich, icaljs, tmp_path):
    db, ids = rich
    r = CLI(db)("export-feeds", str(tmp_path / "site"), "--base-url", BASE)
    assert "written" in r.out
    feeds = exported(tmp_path / "site")
    # everything, 5 programmes, 8 public bodies, 3 members (and more once other tests add theirs)
    assert {"feeds/all.ics"} <= set(feeds) and len(feeds) >= 17
    seen = read_all(feeds, icaljs, tmp_path / "parsed")
    items = {v["summary"]: v for v in seen["feeds/all.ics"].values()}
    got = {k: (items[k]["start"], items[k]["end"]) for k in [
        "第1回事業部会", "第2回事業部会", "第1回検討会", "第2回検討会", "技術的診断（令和5年7月～11月）", "第1回幹事会",
        "第1回訓練"]}
    assert got == {
        "第1回事業部会": ("2023-05-02", "2023-05-13"),                     # a period: exclusive end
        "第2回事業部会": ("2023-12-25", "2024-01-11"),                     # across the calendar year
        "第1回検討会": ("2023-09-22T05:00:00Z", "2023-09-22T07:00:00Z"),   # 14:00-16:00 Asia/Tokyo
        "第2回検討会": ("2023-11-07T01:00:00Z", "2023-11-07T01:00:00Z"),   # no end time: ends as it starts
        "技術的診断（令和5年7月～11月）": ("2023-07-01", "2023-12-01"),     # month precision: whole months
        "第1回幹事会": ("2023-05-24T04:30:00Z", "2023-05-24T06:00:00Z"),
        "第1回訓練": ("2023-07-20", "2023-08-05"),
    }
    assert items["【中止】第3回幹事会"]["status"] == "CANCELLED" and items["【中止】第3回幹事会"]["sequence"] == 1
    assert items["第2回幹事会"]["start"] == "2023-10-18" and items["第2回幹事会"]["sequence"] == 1
    assert items["第1回幹事会"]["sequence"] == 0 and items["第1回幹事会"]["status"] == "CONFIRMED"  # held as planned
    assert "第1回幹事会の一部議題に係る採決" in items and "愛知県警による講演「最新の情報セキュリティ状況について」" in items
    for name, data in feeds.items():
        text = data.decode()
        assert not any(h in text for h in HIDDEN), f"{name} shows a non-public body"
        assert ids["第1回非公開検討部会"] not in text and ids["第1回非公開作業班"] not in text


def test_feed_text_properties_and_links(rich, svc, tmp_path):
    db, ids = rich
    body_id = ids_of(svc, "body", "幹事会")
    out = tmp_path / "kanjikai.ics"
    CLI(db)("feed", "--body", "幹事会", "-o", str(out), "--base-url", BASE + "/")
    data = out.read_bytes()
    lines = data.split(b"\r\n")
    assert data.endswith(b"END:VCALENDAR\r\n") and b"\n" not in data.replace(b"\r\n", b"")
    assert max(len(line) for line in lines) <= 75
    for line in lines:
        line.decode("utf-8")  # folding never splits a UTF-8 character
    for prop in ["NAME:協議会 幹事会", "X-WR-CALNAME:協議会 幹事会", "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
                 "X-PUBLISHED-TTL:PT1H", "X-WR-TIMEZONE:Asia/Tokyo", "TZID:Asia/Tokyo", "METHOD:PUBLISH",
                 f"SOURCE;VALUE=URI:{BASE}/feeds/body/{body_id}.ics", f"URL;VALUE=URI:{BASE}/bodies/{body_id}"]:
        assert prop.encode() in data.replace(b"\r\n ", b""), prop
    cal = icalendar.Calendar.from_ical(data)
    assert "会議体「幹事会」" in str(cal["description"])
    assert [c.name for c in cal.subcomponents].count("VTIMEZONE") == 1
    ev = by_summary(data)
    first = ev["第1回幹事会"]
    assert first["dtstart"].to_ical() == b"20230524T133000" and first["dtstart"].params["TZID"] == "Asia/Tokyo"
    assert first["dtstart"].dt.utcoffset() == dt.timedelta(hours=9)
    assert [str(c) for c in first["categories"].cats] == ["会議運営", "幹事会"]
    assert str(first["location"]) == "Web会議"
    assert str(first["uid"]) == ids["第1回幹事会"]
    desc = str(first["description"])
    assert desc.startswith("第1回幹事会\n日程：令和5年5月24日 13:30～15:00\n開催形式：Web会議")
    assert "状況：開催済" in desc and desc.endswith(f"詳細：{BASE}/bodies/{body_id}")
    assert str(first["url"]) == f"{BASE}/bodies/{body_id}"
    assert first["dtstamp"].dt == first["last-modified"].dt >= first["created"].dt
    assert first["dtstamp"].dt <= dt.datetime.now(dt.timezone.utc)
    future = ev["第9回幹事会"]
    assert str(future["location"]) == "県自治センター" and str(future["transp"]) == "OPAQUE"
    assert "開催形式：Web及び対面開催\n会場：県自治センター" in str(future["description"])
    assert "〔審議事項〕\n・次年度事業計画について" in str(future["description"])
    cancelled = ev["【中止】第3回幹事会"]
    assert str(cancelled["status"]) == "CANCELLED" and "状況：中止（議題なしのため）" in str(cancelled["description"])
    assert str(cancelled["dtstart"].to_ical(), "ascii") == "20240315" and cancelled["dtstart"].params["VALUE"] == "DATE"
    assert str(cancelled["transp"]) == "TRANSPARENT"
    everything = by_summary(feed_of(svc))
    assert "・令和4年度事業報告（原案どおり承認）\n・令和4年度収支決算及び監査報告" in str(everything["第1回定期総会"]["description"])
    month = everything["技術的診断（令和5年7月～11月）"]
    assert "日程：令和5年7月～11月" in str(month["description"]) and "月単位の期間" in str(month["description"])
    assert [str(c) for c in month["categories"].cats] == ["共同セキュリティ監査", "監査"]
    assert str(everything["第1回事業部会"]["location"]) == "書面開催"
    assert str(everything["第2回事業部会"]["location"]) == "書面審議"


def test_reschedule_cancel_reinstate_keep_uid_and_raise_sequence(rich, svc):
    db, _ = rich
    with nullcontext(svc.app) as app:
        mid = str(app.schedule(body="運営委員会", ordinal=5, period=parse_period("令和5年11月20日"), format=Format.WEB).id)

    def state() -> tuple:
        ev = events(feed_of(svc, "body", ids_of(svc, "body", "運営委員会")))[mid]
        return (int(ev["sequence"]), str(ev["status"]), ev["dtstart"].dt, str(ev["summary"]), ev["dtstamp"].dt,
                str(ev["location"]))

    seq0 = state()
    assert seq0[:4] == (0, "CONFIRMED", dt.date(2023, 11, 20), "第5回運営委員会")
    steps = [("reschedule", lambda a: a.reschedule(mid, parse_period("令和5年11月27日")), 1, "CONFIRMED"),
             ("agenda", lambda a: a.add_agenda(mid, ["補正予算について"]), 1, "CONFIRMED"),
             ("venue", lambda a: a.change_details(mid, venue="県庁西庁舎"), 2, "CONFIRMED"),
             ("cancel", lambda a: a.cancel(mid, "日程調整のため"), 3, "CANCELLED"),
             ("reinstate", lambda a: a.reinstate(mid), 4, "CONFIRMED")]
    before = seq0
    for what, step, seq, status in steps:
        with nullcontext(svc.app) as app:
            step(app)
        now = state()
        assert (now[0], now[1]) == (seq, status), what
        assert now[4] >= before[4], f"{what}: DTSTAMP went back"
        before = now
    assert before[2] == dt.date(2023, 11, 27) and before[5] == "県庁西庁舎"


def test_same_log_gives_same_bytes_and_rebuild_equals_incremental(rich, svc):
    db, _ = rich
    s = svc
    s.fresh()
    metas = s.public_feeds()
    before = {m["key"]: s.feed(m["kind"], m["ref_id"]).body for m in metas}
    live = s.app.runtime.dump()
    memory = project_until(s.app.store, [feeds_rm], dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1))
    with memory.transaction(write=False) as rows:
        replayed = {t.name: rows.find(t) for t in feeds_rm.TABLES}
    assert replayed == {t.name: live[t.name] for t in feeds_rm.TABLES}
    assert "rebuilt read models" in CLI(db)("rebuild").out
    s2 = service(db)
    s2.fresh()
    after = {m["key"]: s2.feed(m["kind"], m["ref_id"]).body for m in s2.public_feeds()}
    s2.app.close()
    assert after == before
    assert feed_of(svc) == before["all"]


def test_feed_read_is_one_indexed_query_on_the_read_model(rich, svc, monkeypatch):
    """A feed read never touches the log and costs one query for its items, however long the log."""
    body_id = ids_of(svc, "body", "幹事会")
    s = svc
    calls: list[str] = []
    for name in ("get", "find", "execute"):
        original = getattr(SQLRows, name)

        def spy(self, *a, _name=name, _orig=original, **kw):
            calls.append(_name)
            return _orig(self, *a, **kw)
        monkeypatch.setattr(SQLRows, name, spy)
    monkeypatch.setattr(type(s.app.store), "read", lambda *a, **k: pytest.fail("the log was read"))
    f = s.feed("body", body_id)
    assert f is not None and calls == ["get", "execute"]


# --- which feed holds what ----------------------------------------------------------------------

def test_bodies_programmes_and_members_hold_the_right_items(rich, svc):
    db, _ = rich

    def labels(kind: str, name: str) -> set[str]:
        return {re.sub(r"^【中止】|（.*）$", "", s) for s in by_summary(feed_of(svc, kind, ids_of(svc, kind, name)))}

    assert "第1回セキュリティ監査グループ" in labels("body", "研究会") & labels("body", "情報セキュリティ研究会")
    kanjikai = labels("body", "幹事会")
    assert {"第1回幹事会", "第2回幹事会", "第3回幹事会", "第9回幹事会", "第1回幹事会の一部議題に係る採決"} <= kanjikai
    assert not kanjikai & {"第1回運営委員会", "第1回セキュリティ監査グループ", "第1回定期総会"}
    assert {"技術的診断", "全体説明会", "愛知県警による講演「最新の情報セキュリティ状況について」"} <= labels("programme", "共同セキュリティ監査")
    every_member = {"第1回定期総会", "技術的診断", "全体説明会", "第1回訓練", "愛知県警による講演「最新の情報セキュリティ状況について」"}
    nagoya = labels("member", "名古屋市")
    assert every_member | {"第1回幹事会", "第2回幹事会", "第9回幹事会", "第1回幹事会の一部議題に係る採決"} <= nagoya
    assert not nagoya & {"第1回検討会", "第1回事業部会", "第1回運営委員会", "第1回セキュリティ監査グループ"}
    toyohashi = labels("member", "豊橋市")
    assert every_member | {"第1回事業部会", "第2回事業部会", "第1回検討会", "第2回検討会"} <= toyohashi
    assert not toyohashi & {"第1回幹事会", "第1回運営委員会"}
    aichi = labels("member", "愛知県")
    assert every_member | {"第1回セキュリティ監査グループ"} <= aichi and not aichi & {"第1回非公開検討部会", "第1回非公開作業班"}


def test_roster_changes_and_new_or_dissolved_members_update_member_feeds(rich, svc):
    db, _ = rich
    with nullcontext(svc.app) as app:
        app.create_member("岡崎市", "city")
        mid = app.member("岡崎市")["id"]

    def labels() -> set[str]:
        return {str(e["summary"]) for e in events(feed_of(svc, "member", mid)).values()}

    assert "第1回定期総会" in labels() and "第1回運営委員会" not in labels()  # a new member gets the all-member items
    with nullcontext(svc.app) as app:
        app.join("岡崎市", body="運営委員会", since=dt.date(2023, 4, 1))
    assert "第1回運営委員会" in labels()
    with nullcontext(svc.app) as app:
        app.join("岡崎市", body="運営委員会", since=dt.date(2023, 6, 30), leave=True)
    assert "第1回運営委員会" not in labels()   # 2023-10-25 is after the membership ended
    with nullcontext(svc.app) as app:
        app.dissolve_member("岡崎市", dt.date(2023, 7, 1))
    left = labels()
    assert "第1回定期総会" in left and "第1回訓練" not in left   # 2023-06-02 stays, 2023-07-20 goes


def test_renames_update_summaries_categories_and_feed_names(rich, svc):
    db, _ = rich
    with nullcontext(svc.app) as app:
        app.create_programme("旧事業名", "all", 20)
        app.create_body("改称前部会", programme="旧事業名", kind="committee")
        first = app.schedule(body="改称前部会", ordinal=1, period=parse_period("令和5年8月1日"), format=Format.WEB).id
        app.schedule(kind="vote", body="改称前部会", period=parse_period("令和5年8月8日"), format=Format.WRITTEN,
                     title="議題に係る採決", refers_to=str(first))
    body_id = ids_of(svc, "body", "改称前部会")
    before = feed_of(svc, "body", body_id)
    assert {"第1回改称前部会", "第1回改称前部会の議題に係る採決"} == set(by_summary(before))
    with nullcontext(svc.app) as app:
        app.rename_body("改称前部会", "改称後部会")
        app.rename_programme("旧事業名", "新事業名")
    after = feed_of(svc, "body", body_id)
    ev = by_summary(after)
    assert set(ev) == {"第1回改称後部会", "第1回改称後部会の議題に係る採決"}
    assert [str(c) for c in ev["第1回改称後部会"]["categories"].cats] == ["新事業名", "改称後部会"]
    assert int(ev["第1回改称後部会"]["sequence"]) == 0                     # a rename is not a reschedule
    assert b"X-WR-CALNAME:\xe5\x8d\x94\xe8\xad\xb0\xe4\xbc\x9a \xe6\x94\xb9\xe7\xa7\xb0\xe5\xbe\x8c" in after
    assert "改称前部会" not in feed_of(svc).decode() and "第1回改称後部会" in feed_of(svc).decode()
    assert "新事業名" in feed_of(svc, "programme", ids_of(svc, "programme", "新事業名")).decode()


# --- non-public bodies and private feeds --------------------------------------------------------

def test_non_public_body_is_absent_from_every_public_feed(rich, svc, tmp_path):
    db, ids = rich
    cli = CLI(db)
    r = cli("feed", "--body", "非公開検討部会", expect=2)
    assert r.err.startswith("error: body:") and "non-public" in r.err and r.err.count("\n") == 1
    with nullcontext(svc.app) as app:
        app.create_body("一時非公開会", programme="会議運営", kind="committee")
        app.create_body("一時非公開班", parent="一時非公開会", kind="group")
        app.join("名古屋市", body="一時非公開会", since=dt.date(2023, 4, 1))
        a = str(app.schedule(body="一時非公開会", ordinal=1, period=parse_period("令和5年7月3日"), format=Format.WEB).id)
        b = str(app.schedule(body="一時非公開班", ordinal=1, period=parse_period("令和5年7月4日"), format=Format.WEB).id)
    parent_id, group_id = ids_of(svc, "body", "一時非公開会"), ids_of(svc, "body", "一時非公開班")
    site = tmp_path / "site"
    cli("export-feeds", str(site))
    assert (site / f"feeds/body/{group_id}.ics").exists()

    def public_texts() -> dict[str, str]:
        svc.fresh()
        return {m["key"]: svc.feed(m["kind"], m["ref_id"]).body.decode() for m in svc.public_feeds()}

    assert all(a in public_texts()[k] for k in ("all", f"member:{ids_of(svc, 'member', '名古屋市')}", f"body:{parent_id}"))
    with nullcontext(svc.app) as app:
        app.set_body_public("一時非公開会", False)
    texts = public_texts()
    assert f"body:{parent_id}" not in texts and f"body:{group_id}" not in texts
    for key, text in texts.items():
        assert a not in text and b not in text and "一時非公開" not in text, key
        assert ids["第1回非公開検討部会"] not in text and "非公開検討部会" not in text, key
    r = cli("export-feeds", str(site))
    assert "2 removed" in r.out
    assert not (site / f"feeds/body/{parent_id}.ics").exists() and not (site / f"feeds/body/{group_id}.ics").exists()
    assert all(a not in data.decode() for data in exported(site).values())
    with nullcontext(svc.app) as app:
        app.set_body_public("一時非公開会", True)
    texts = public_texts()
    assert a in texts["all"] and b in texts[f"body:{parent_id}"]


def test_private_tokens_issue_show_once_hash_only_revoke(rich, svc, tmp_path):
    db, ids = rich
    cli = CLI(db)
    before = count_events(svc)
    r = cli("token", "issue", "--member", "愛知県", "--label", "総務課", "--base-url", BASE)
    url = re.search(r"^  (https://\S+)$", r.out, re.M).group(1)
    token = re.fullmatch(re.escape(BASE) + r"/private/([A-Za-z0-9_-]+)/calendar\.ics", url).group(1)
    assert len(token) >= 43  # 32 random bytes, urlsafe base64
    assert f"webcal://kyogikai.example.lg.jp/cal/private/{token}/calendar.ics" in r.out
    assert "calendar.google.com/calendar/r?cid=webcal%3A%2F%2Fkyogikai.example.lg.jp%2Fcal%2Fprivate%2F" + token in r.out
    assert count_events(svc) == before + 1
    # never stored, never shown again: only its sha256 is in the log
    digest = hashlib.sha256(token.encode()).hexdigest()
    log = cli("log", "--json").out
    assert token not in log and digest in log
    listing = cli("token", "list", "--json").json()
    assert token not in json.dumps(listing) and token not in cli("token", "list").out
    mine = [t for t in listing if t["member"] == "愛知県" and t["label"] == "総務課"]
    assert len(mine) == 1 and mine[0]["revoked_at"] is None and mine[0]["issued_by"] == "事務局A"
    if db.startswith("postgresql"):
        raw = b"".join(n.state for n in svc.app.store.recorder.select_notifications(start=1, limit=100000))
        assert token.encode() not in raw and digest.encode() in raw
    else:
        raw = b"".join(Path(db + suffix).read_bytes() for suffix in ("", "-wal") if Path(db + suffix).exists())
        assert token.encode() not in raw and digest.encode() in raw
    # the private feed has the member's non-public bodies, marked private and without a public link
    s = svc
    s.fresh()
    private = s.private_feed(token)
    assert private is not None and b"SOURCE" not in private.body
    ev = events(private.body)
    assert {ids["第1回非公開検討部会"], ids["第1回非公開作業班"], ids["第1回セキュリティ監査グループ"]} <= set(ev)
    assert str(ev[ids["第1回非公開検討部会"]]["class"]) == "PRIVATE" and "url" not in ev[ids["第1回非公開検討部会"]]
    assert s.private_feed(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    cli("token", "revoke", mine[0]["id"][:8], "--reason", "担当者異動")
    s.fresh()
    assert s.private_feed(token) is None
    after = count_events(svc)
    r = cli("token", "revoke", mine[0]["id"][:8], expect=2)
    assert "already revoked" in r.err and count_events(svc) == after
    assert "revoked" in [line for line in cli("token", "list", "--member", "愛知県").out.splitlines()
                         if line.startswith(mine[0]["id"][:8])][0]


@pytest.mark.parametrize("args, message", [
    (["feed", "--body", "幹事X"], "unknown body '幹事X'"),
    (["feed", "--body", "幹事会", "--programme", "会議運営"], "at most one of --body, --programme, --member"),
    (["feed", "--member", "不明市"], "unknown member '不明市'"),
    (["feed", "--base-url", "ftp://example.org"], "--base-url:"),
    (["feed", "--base-url", "https://example.org/?x=1"], "--base-url:"),
    (["export-feeds", "EXISTING_FILE"], "directory: "),
    (["token", "issue", "--member", "不明市"], "unknown member"),
    (["token", "issue", "--member", "愛知県", "--label", "x" * 101], "label: at most 100 characters"),
    (["token", "revoke", "zz"], "token:"),
    (["token", "revoke", "ffffffff"], "token: no token"),
    (["feed", "-o", "A_FOLDER"], "--output: "),
])
def test_bad_input_one_line_error_nothing_written(rich, svc, tmp_path, args, message):
    db, _ = rich
    (tmp_path / "file.txt").write_text("x")
    (tmp_path / "folder").mkdir()
    args = [str(tmp_path / "file.txt") if a == "EXISTING_FILE" else str(tmp_path / "folder") if a == "A_FOLDER" else a
            for a in args]
    before = count_events(svc)
    r = CLI(db)(*args, expect=2)
    assert r.err.startswith("error: ") and r.err.count("\n") == 1, r.err
    assert message in r.err and "Traceback" not in r.err + r.out
    assert count_events(svc) == before


def test_export_is_atomic_idempotent_and_leaves_other_files(rich, svc, tmp_path):
    db, _ = rich
    cli = CLI(db)
    site = tmp_path / "site"
    (site / "feeds").mkdir(parents=True)
    (site / "feeds" / "README.txt").write_text("not ours")
    (site / "index.html").write_text("<p>static</p>")
    assert re.search(r": \d+ written, 0 unchanged, 0 removed", cli("export-feeds", str(site), "--base-url", BASE).out)
    first = exported(site)
    assert re.search(r": 0 written, \d+ unchanged, 0 removed", cli("export-feeds", str(site), "--base-url", BASE).out)
    assert exported(site) == first
    assert (site / "feeds" / "README.txt").read_text() == "not ours" and (site / "index.html").exists()
    assert not [p for p in site.rglob("*") if p.name.startswith(".") or p.suffix == ".tmp"]
    svc.fresh()
    f = svc.feed("all")
    assert first["feeds/all.ics"] == f.body
    assert int(os.stat(site / "feeds/all.ics").st_mtime) == int(f.last_modified.timestamp())
    with nullcontext(svc.app) as app:
        app.schedule(body="運営委員会", ordinal=7, period=parse_period("令和6年1月22日"), format=Format.WEB)
    changed = {k for k, v in exported(site).items() if first.get(k) != v}
    assert changed == set()  # nothing changes until the next export
    r = cli("export-feeds", str(site), "--base-url", BASE)
    changed = {k for k, v in exported(site).items() if first.get(k) != v}
    assert changed == {"feeds/all.ics", f"feeds/programme/{ids_of(svc, 'programme', '会議運営')}.ics",
                       f"feeds/body/{ids_of(svc, 'body', '運営委員会')}.ics"} | {
        k for k in changed if k.startswith("feeds/member/")}
    assert r.out.split(": ")[1].startswith(f"{len(changed)} written")


def test_feed_cli_prints_to_stdout_and_http_dates_are_sane(rich, svc):
    db, _ = rich
    r = CLI(db)("feed", "--programme", "共同セキュリティ監査")
    assert r.out.startswith("BEGIN:VCALENDAR\r\n") and "X-WR-CALNAME:協議会 共同セキュリティ監査" in r.out
    f = svc.feed("programme", ids_of(svc, "programme", "共同セキュリティ監査"))
    assert f.etag == '"' + hashlib.sha256(f.body).hexdigest()[:40] + '"'
    assert f.last_modified is not None and f.last_modified <= dt.datetime.now(dt.timezone.utc)
    assert parsedate_to_datetime(f.last_modified.strftime("%a, %d %b %Y %H:%M:%S GMT")) == f.last_modified
    assert read_icalendar(f.body)
