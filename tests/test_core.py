"""The event-sourced core through the real CLI, on a real SQLite file and the real PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re
import multiprocessing as mp

import pytest

from kyogikai.app import Kyogikai
from kyogikai.store import ConflictError

from .scenario import run_scenario


def count_events(db: str) -> int:
    with Kyogikai(db, actor="t") as k:
        return k.store.max_position()


def test_scenario_lists_correctly(cli):
    run_scenario(cli)
    items = cli("meetings", "--fiscal-year", "令和5年度", "--json").json()
    got = [(i["label"], i["body"], i["ordinal"], i["start"], i["end"], i["format"], i["status"]) for i in items]
    assert got == [
        ("第1回幹事会", "幹事会", 1, "2023-05-24", "2023-05-24", "web", "scheduled"),
        ("第1回定期総会", "総会", 1, "2023-06-02", "2023-06-02", "web", "scheduled"),
        ("第2回幹事会", "幹事会", 2, "2023-10-18", "2023-10-18", "web", "scheduled"),
        ("第1回運営委員会", "運営委員会", 1, "2023-10-25", "2023-10-25", "web", "scheduled"),
        ("第3回幹事会", "幹事会", 3, "2024-03-01", "2024-03-01", "web", "scheduled"),
        ("第4回幹事会", "幹事会", 4, "2024-03-15", "2024-03-15", "written", "cancelled"),
        ("第2回定期総会", "総会", 2, "2024-03-22", "2024-03-22", "web", "scheduled"),
    ]
    assert all(len(i["id"]) == 36 for i in items)
    only = cli("meetings", "--body", "幹事会", "--json").json()
    assert [i["ordinal"] for i in only] == [1, 2, 3, 4]
    text = cli("meetings", "--fiscal-year", "2023").out
    assert "第2回幹事会" in text and "令和5年10月18日" in text and "中止" in text
    assert cli("meetings", "--fiscal-year", "2024", "--json").json() == []


def test_history_shows_each_change_with_actor_and_time(cli):
    ids = run_scenario(cli)
    hist = cli("history", ids["第2回幹事会"][:8], "--json").json()
    assert [h["event"] for h in hist] == ["MeetingScheduled", "MeetingRescheduled"]
    assert [h["actor"] for h in hist] == ["事務局A", "事務局B"]
    times = [dt.datetime.fromisoformat(h["recorded_at"]) for h in hist]
    assert all(t.utcoffset() == dt.timedelta(hours=9) for t in times)          # Japan time by default
    assert times[0] <= times[1] <= dt.datetime.now(dt.timezone.utc)
    utc = [dt.datetime.fromisoformat(h["recorded_at"]) for h in cli("history", ids["第2回幹事会"][:8], "--json", "--utc").json()]
    assert utc == times and all(t.utcoffset() == dt.timedelta(0) for t in utc)
    assert hist[1]["data"]["start"] == "2023-10-18"
    assert hist[0]["name"].startswith("第2回幹事会") and "会議運営/幹事会" in hist[0]["names"].values()
    cancelled = cli("history", ids["第4回幹事会"]).out
    assert "MeetingCancelled" in cancelled and "事務局B" in cancelled and "議題なしのため" in cancelled
    assert " JST  " in cancelled and " UTC  " in cli("history", ids["第4回幹事会"], "--utc").out
    # names, not uuids: the body and the meeting are named in each line
    scheduled = cli("history", ids["第4回幹事会"]).out.splitlines()[0]
    assert "body_id=会議運営/幹事会" in scheduled and "第4回幹事会（" in scheduled
    assert not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-", scheduled)
    log = cli("log", "--json").json()
    assert [e["position"] for e in log] == list(range(1, len(log) + 1))
    assert {e["actor"] for e in log} == {"事務局A", "事務局B"}
    assert "BodyCreated" in cli("history", "幹事会").out


@pytest.mark.parametrize("args, message", [
    (["--date", "令和5年10月5日～令和5年9月28日"], "is before start"),
    (["--body", "幹事X"], "unknown body '幹事X'"),
    (["--ordinal", "1"], "duplicate ordinal: 第1回幹事会"),
    (["--date", "令和5年2月30日"], "February 2023 has 28 days"),
    (["--date", "令和五年五月"], "malformed"),
    (["--date", "R5.13.1"], "--date"),
    (["--format", "zoom"], "unknown format 'zoom'"),
    (["--ordinal", "0"], "--ordinal"),
    (["--start-time", "15:00", "--end-time", "14:00"], "end time 14:00 is not after start time 15:00"),
])
def test_bad_input_one_line_error_nothing_written(cli, db, args, message):
    run_scenario(cli)
    before = count_events(db)
    base = {"--body": "幹事会", "--ordinal": "9", "--date": "令和5年6月6日", "--format": "web"}
    argv = ["meeting", "schedule"]
    for i in range(0, len(args), 2):
        base[args[i]] = args[i + 1]
    for k, v in base.items():
        argv += [k, v]
    r = cli(*argv, expect=2)
    assert r.err.count("\n") == 1 and r.err.startswith("error: "), r.err
    assert message in r.err
    assert "Traceback" not in r.err + r.out
    assert count_events(db) == before


def test_unknown_meeting_and_ambiguous_body(cli, db):
    run_scenario(cli)
    cli("body", "create", "検討会", "--programme", "会議運営")
    before = count_events(db)
    r = cli("meeting", "schedule", "--body", "検討会", "--date", "令和5年6月6日", "--format", "web", expect=2)
    assert "ambiguous" in r.err and "あいち共同利用型施設予約システム事業/検討会" in r.err and "会議運営/検討会" in r.err
    cli("meeting", "schedule", "--body", "会議運営/検討会", "--date", "令和5年6月6日", "--format", "web")
    assert count_events(db) == before + 1
    r = cli("meeting", "cancel", "ffffffff", expect=2)
    assert "no meeting with id 'ffffffff'" in r.err
    r = cli("meeting", "schedule", "--body", "情報セキュリティ研究会/セキュリティ監査グループ", "--ordinal", "1",
            "--date", "令和5年8月21日", "--format", "Web 会議")
    assert "第1回セキュリティ監査グループ" in r.out


def test_weekend_and_holiday_warn_and_proceed(cli, db):
    run_scenario(cli)
    r = cli("meeting", "schedule", "--body", "運営委員会", "--ordinal", "2", "--date", "令和5年5月3日", "--format", "web")
    assert "憲法記念日" in r.err and "scheduled anyway" in r.err
    r = cli("meeting", "schedule", "--body", "運営委員会", "--ordinal", "3", "--date", "2023-06-03", "--format", "web")
    assert "土曜日" in r.err
    r = cli("meeting", "schedule", "--body", "運営委員会", "--ordinal", "4", "--date", "令和5年6月3日～6月9日", "--format", "書面開催")
    assert "scheduled anyway" not in r.err


def test_far_dates_warn_in_both_calendars(cli, db):
    """An era typo (平成 for 令和) lands decades away: the warning names the date both ways."""
    from kyogikai.app import tokyo_today as _tokyo_today
    from kyogikai.dates import fiscal_year, format_date

    run_scenario(cli)
    today = _tokyo_today()
    near = dt.date(fiscal_year(today) + 1, 6, 2)           # next fiscal year: no warning
    r = cli("meeting", "schedule", "--body", "運営委員会", "--ordinal", "7", "--date", near.isoformat(), "--format", "web")
    assert "fiscal years" not in r.err
    typo = dt.date(fiscal_year(today) - 30, 6, 2)           # 令和 → 平成 moves a date 30 years back
    before = count_events(db)
    r = cli("meeting", "schedule", "--body", "運営委員会", "--ordinal", "8", "--date", format_date(typo), "--format", "web")
    assert count_events(db) == before + 2                   # recorded (meeting + ordinal register)
    warning = [line for line in r.err.splitlines() if "fiscal years" in line]
    assert len(warning) == 1 and typo.isoformat() in warning[0] and format_date(typo) in warning[0]
    assert "30 fiscal years before" in warning[0]


def test_weekday_suffixes_and_japanese_times(cli, db):
    run_scenario(cli)
    cli("meeting", "schedule", "--body", "運営委員会", "--ordinal", "5", "--date", "令和5年6月1日（木）",
        "--start-time", "午後2時", "--end-time", "15時半", "--format", "ウェブ会議")
    rows = [m for m in cli("meetings", "--fiscal-year", "R5年度", "--json").json() if m.get("ordinal") == 5]
    assert len(rows) == 1, rows
    assert "ウェブ会議" in cli("meetings", "--fiscal-year", "R5年度").out
    text = str(rows[0])
    assert "2023-06-01" in text and "14:00" in text and "15:30" in text
    before = count_events(db)
    r = cli("meeting", "schedule", "--body", "運営委員会", "--ordinal", "6", "--date", "令和5年6月1日（金）",
            "--format", "web", expect=2)
    assert "木曜日" in r.err and len(r.err.strip().splitlines()) == 1 and count_events(db) == before


def test_period_forms_and_times(cli):
    run_scenario(cli)
    cli("meeting", "schedule", "--body", "事業部会", "--ordinal", "1", "--date", "令和 5 年 5 月 2 日～12 日", "--format", "書面開催")
    cli("meeting", "schedule", "--body", "事業部会", "--ordinal", "2", "--start", "令和5年12月25日", "--end", "令和6年1月10日",
        "--format", "書面審議")
    cli("meeting", "schedule", "--body", "検討会", "--ordinal", "1", "--date", "２０２３-０９-２２", "--start-time", "14:00",
        "--end-time", "16時", "--format", "in_person", "--venue", "県自治センター")
    cli("activity", "schedule", "--kind", "audit", "--programme", "共同セキュリティ監査", "--date", "令和5年7月～11月",
        "--title", "技術的診断", "--mode", "on_site", "--mode", "remote")
    items = {i["label"]: i for i in cli("meetings", "--json").json()}
    assert (items["第1回事業部会"]["start"], items["第1回事業部会"]["end"]) == ("2023-05-02", "2023-05-12")
    assert items["第2回事業部会"]["dates"] == "令和5年12月25日～令和6年1月10日"
    assert items["第2回事業部会"]["format_label"] == "書面審議"
    assert (items["第1回検討会"]["start_time"], items["第1回検討会"]["end_time"]) == ("14:00", "16:00")
    audit = items["技術的診断"]
    assert (audit["start"], audit["end"], audit["precision"], audit["kind"]) == ("2023-07-01", "2023-11-30", "month", "audit")
    assert audit["dates"] == "令和5年7月～11月"


def test_lifecycle_rules(cli, db):
    ids = run_scenario(cli)
    c4 = ids["第4回幹事会"][:8]
    assert "cannot reschedule" in cli("meeting", "reschedule", c4, "--date", "令和6年3月18日", expect=2).err
    cli("meeting", "reinstate", c4)
    m1 = ids["第1回幹事会"][:8]
    cli("meeting", "hold", m1)
    assert "already held" in cli("meeting", "cancel", m1, expect=2).err
    cli("meeting", "agenda", "add", ids["第1回定期総会"][:8], "役員の選任について")
    cli("meeting", "agenda", "outcome", ids["第1回定期総会"][:8], "1", "原案どおり承認")
    cli("meeting", "agenda", "withdraw", ids["第1回定期総会"][:8], "役員の選任について")
    statuses = {i["label"]: i["status"] for i in cli("meetings", "--json").json()}
    assert statuses["第4回幹事会"] == "scheduled" and statuses["第1回幹事会"] == "held"
    cli("body", "dissolve", "運営委員会", "--on", "令和6年1月1日")
    r = cli("meeting", "schedule", "--body", "運営委員会", "--ordinal", "2", "--date", "令和6年2月1日", "--format", "web", expect=2)
    assert "dissolved" in r.err


def _racer(db: str, meeting_id: str, action: str, barrier, results) -> None:
    from kyogikai.app import Kyogikai
    from kyogikai.dates import parse_period
    from kyogikai.domain.meeting import Meeting
    from uuid import UUID

    with Kyogikai(db, actor=action) as k:
        m = k.store.get(Meeting, UUID(meeting_id))
        if action == "reschedule":
            m.reschedule(parse_period("令和5年5月31日"), None, None, action)
        else:
            m.cancel("重複", action)
        barrier.wait(timeout=180)
        try:
            k.store.save(m)
            results.put((action, "ok"))
        except ConflictError as exc:
            results.put((action, "conflict: " + str(exc)))


def test_two_processes_same_meeting_one_conflict_nothing_lost(cli, db):
    ids = run_scenario(cli)
    mid = ids["第1回幹事会"]
    before = count_events(db)
    ctx = mp.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_racer, args=(db, mid, a, barrier, results)) for a in ("reschedule", "cancel")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(240)
    outcome = dict(results.get(timeout=5) for _ in procs)
    assert sorted(v.split(":")[0] for v in outcome.values()) == ["conflict", "ok"], outcome
    assert count_events(db) == before + 1
    winner = next(a for a, v in outcome.items() if v == "ok")
    hist = cli("history", mid, "--json").json()
    assert hist[-1]["actor"] == winner
    # the loser, trying again on the new state, succeeds or gets a clear rule error — nothing lost
    loser = "cancel" if winner == "reschedule" else "reschedule"
    if loser == "cancel":
        cli("meeting", "cancel", mid[:8])
    else:
        cli("meeting", "reschedule", mid[:8], "--date", "令和5年5月31日", expect=2)
    assert count_events(db) >= before + 1


def test_rebuild_equals_incremental(cli, db):
    ids = run_scenario(cli)
    cli("meeting", "hold", ids["第1回幹事会"][:8])
    cli("meeting", "agenda", "add", ids["第2回定期総会"][:8], "令和5年度補正予算について", "令和6年度事業計画及び当初予算について")
    cli("body", "rename", "研究会", "研究会（全体）")
    with Kyogikai(db, actor="t") as k:
        k.sync()
        live = k.runtime.dump()
    assert "rebuilt read models from" in cli("rebuild").out
    with Kyogikai(db, actor="t") as k:
        rebuilt = k.runtime.dump()
    assert rebuilt == live
    assert len(live["rm_meetings"]) == 7 and len(live["rm_agenda"]) == 4


def test_read_models_follow_other_processes(db):
    """A long-running reader catches up with events written by another process."""
    import subprocess
    import sys

    writer = (
        "import sys; from kyogikai.app import Kyogikai; from kyogikai.dates import parse_period\n"
        "from kyogikai.domain.meeting import Meeting, Kind\n"
        "from kyogikai.domain.formats import Format\n"
        "k = Kyogikai(sys.argv[1], actor='other')\n"
        "b = k.body('幹事会')\n"
        "m = Meeting.schedule(kind=Kind.MEETING, programme_id=b['programme_id'], body_id=b['id'], ordinal=1,\n"
        "    period=parse_period('令和5年5月24日'), format=Format.WEB, actor='other')\n"
        "from kyogikai.store import EventStore, Location\n"
        "EventStore(Location.parse(sys.argv[1])).save(m)  # a bare store: events only, read models left behind\n"
    )
    with Kyogikai(db, actor="reader") as reader:
        reader.create_programme("会議運営", "all", 8)
        reader.create_body("幹事会", programme="会議運営")
        assert reader.meetings() == []
        subprocess.run([sys.executable, "-c", writer, db], check=True, capture_output=True)
        assert reader.runtime.behind()
        assert [(m["label"], m["actor"] if "actor" in m else "other") for m in reader.meetings()] == [("第1回幹事会", "other")]
        assert not reader.runtime.behind()
    # and a CLI command run by another process leaves the read models current for everyone
    from .conftest import CLI
    CLI(db)("meeting", "schedule", "--body", "幹事会", "--ordinal", "2", "--date", "令和5年10月18日", "--format", "web")
    with Kyogikai(db, actor="reader") as reader:
        assert not reader.runtime.behind()


def test_conflicting_create_is_refused_not_duplicated(cli, db):
    run_scenario(cli)
    before = count_events(db)
    r = cli("body", "create", "幹事会", "--programme", "会議運営", expect=2)
    assert "already exists" in r.err
    assert count_events(db) == before


def test_hold_of_a_meeting_that_starts_after_today_is_refused(cli, db):
    from kyogikai.app import tokyo_today as _tokyo_today
    from kyogikai.dates import format_date

    run_scenario(cli)
    today = _tokyo_today()
    later = today + dt.timedelta(days=30)
    cli("meeting", "schedule", "--body", "運営委員会", "--ordinal", "9", "--date", format_date(later), "--format", "web")
    mid = [m for m in cli("meetings", "--json").json() if m.get("ordinal") == 9][0]["id"]
    before = count_events(db)
    r = cli("meeting", "hold", mid[:8], expect=2)
    assert "after today" in r.err and len(r.err.strip().splitlines()) == 1 and "Traceback" not in r.err
    r = cli("meeting", "hold", mid[:8], "--date", format_date(today + dt.timedelta(days=1)), expect=2)
    assert count_events(db) == before
    # held earlier than planned (today): fine
    cli("meeting", "hold", mid[:8], "--date", format_date(today))
    assert count_events(db) == before + 1


def test_reorder_programme_and_body_moves_them_in_the_tree(cli, db):
    """``programme reorder`` / ``body reorder`` record ProgrammeReordered / BodyReordered; the tree follows."""
    cli("programme", "create", "会議運営", "--section", "all", "--order", "1")
    cli("programme", "create", "共同セキュリティ監査", "--section", "all", "--order", "2")
    for name in ("総会", "運営委員会", "幹事会"):
        cli("body", "create", name, "--programme", "会議運営", "--kind", "other")
    out = cli("body", "reorder", "幹事会", "1", "--json").json()
    assert [e["event"] for e in out["events"]] == ["BodyReordered"]
    cli("body", "reorder", "総会", "3")
    cli("programme", "reorder", "会議運営", "3")
    tree = cli("bodies", "--json").json()
    assert [b["name"] for b in tree["bodies"]][0] == "幹事会" and tree["bodies"][-1]["name"] == "総会"
    assert [p["name"] for p in tree["programmes"]] == ["共同セキュリティ監査", "会議運営"]
    assert [e.__class__.__name__ for e in Kyogikai(db, "t").history("総会")][-1] == "BodyReordered"
    before = cli("log", "--json").out
    r = cli("body", "reorder", "幹事会", "0", expect=2)
    assert len(r.err.strip().splitlines()) == 1 and cli("log", "--json").out == before
