"""Issue 13, point 5: attendance, participation and drill results only for organisations on the
roster (or with ``--guest``), on SQLite and PostgreSQL, in English and Japanese (rule: roster.py)."""

from __future__ import annotations

import json

import pytest

from kyogikai.app import Kyogikai

from .conftest import CLI
from .dbtools import count_events, insert_raw_event
from .test_schema_evolution import chain_new_events


def short_id(out: str) -> str:
    return out.rsplit("(id ", 1)[1][:8]


@pytest.fixture
def org(cli: CLI) -> dict[str, str]:
    """幹事会 (roster: 名古屋市 from 令和5年4月1日), a participating programme (participant: 豊橋市)
    with a drill, an all-member programme with a drill, and 岡崎市 on no roster."""
    cli("programme", "create", "会議運営", "--section", "all", "--order", "1")
    cli("programme", "create", "共同監査", "--section", "participating", "--order", "2")
    cli("programme", "create", "訓練事業", "--section", "all", "--order", "3")
    cli("body", "create", "幹事会", "--programme", "会議運営", "--kind", "board")
    for name in ("名古屋市", "豊橋市", "岡崎市"):
        cli("member", "create", name, "--kind", "city")
    cli("member", "join", "名古屋市", "--body", "幹事会", "--since", "令和5年4月1日")
    cli("member", "join", "豊橋市", "--programme", "共同監査", "--since", "令和5年4月1日")
    ids = {
        "meeting": short_id(cli("meeting", "schedule", "--body", "幹事会", "--ordinal", "1",
                                "--date", "令和5年5月24日", "--format", "web").out),
        "audit_drill": short_id(cli("activity", "schedule", "--kind", "drill", "--programme", "共同監査",
                                    "--ordinal", "1", "--title", "訓練", "--date", "令和5年7月20日").out),
        "all_drill": short_id(cli("activity", "schedule", "--kind", "drill", "--programme", "訓練事業",
                                  "--ordinal", "1", "--title", "訓練", "--date", "令和5年8月1日").out),
    }
    return ids


def last_payloads(cli: CLI, n: int) -> list[dict]:
    return [r["data"] for r in cli("log", "--json").json()[-n:]]


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_off_roster_is_refused_naming_member_and_body_and_nothing_is_written(cli, db, org, monkeypatch, lang):
    monkeypatch.setenv("KYOGIKAI_LANG", lang)
    before = count_events(db)
    cases = [
        (("meeting", "attendance", org["meeting"], "--present", "名古屋市", "--present", "岡崎市"), "幹事会"),
        (("activity", "participants", org["audit_drill"], "豊橋市", "岡崎市"), "共同監査"),
        (("activity", "result", org["audit_drill"], "岡崎市", "--mails-sent", "10", "--links-opened", "1"), "共同監査"),
    ]
    for argv, owner in cases:
        r = cli(*argv, expect=2)
        lines = r.err.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in r.err, r.err
        assert "岡崎市" in lines[0] and owner in lines[0] and "--guest" in lines[0]
        if lang == "ja":
            assert lines[0].startswith("エラー: ") and "名簿" in lines[0], lines[0]
        else:
            assert lines[0].startswith("error: member 岡崎市: not on the roster of " + owner), lines[0]
    assert count_events(db) == before


def test_a_roster_member_is_recorded_and_not_a_guest(cli, org):
    cli("meeting", "attendance", org["meeting"], "--present", "名古屋市")
    cli("activity", "participants", org["audit_drill"], "豊橋市")
    cli("activity", "result", org["audit_drill"], "豊橋市", "--mails-sent", "10", "--links-opened", "1")
    assert [p["guest"] for p in last_payloads(cli, 3)] == [False, False, False]


def test_guest_records_off_roster_organisations_as_guests(cli, db, org):
    r = cli("meeting", "attendance", org["meeting"], "--present", "名古屋市", "--absent", "岡崎市", "--guest", "--json")
    events = r.json()["events"]
    assert [e["event"] for e in events] == ["AttendanceRecorded"] * 2
    by_member = {p["member_id"]: p["guest"] for p in last_payloads(cli, 2)}
    with Kyogikai(db, actor="t") as k:
        assert by_member == {k.member("名古屋市")["id"]: False, k.member("岡崎市")["id"]: True}
    cli("activity", "participants", org["audit_drill"], "岡崎市", "--guest")
    cli("activity", "result", org["audit_drill"], "岡崎市", "--mails-sent", "10", "--links-opened", "1", "--guest")
    assert [p["guest"] for p in last_payloads(cli, 2)] == [True, True]
    # a guest's attendance is kept in the log and counted nowhere in the body's matrix
    rep = cli("participation", "--fiscal-year", "2023", "--body", "幹事会", "--format", "json").json()
    assert [m["name"] for m in rep["members"]] == ["名古屋市"]


def test_an_all_member_programme_activity_takes_every_member(cli, org):
    cli("activity", "participants", org["all_drill"], "名古屋市", "豊橋市", "岡崎市")
    cli("activity", "result", org["all_drill"], "岡崎市", "--mails-sent", "10", "--links-opened", "1")
    assert [p["guest"] for p in last_payloads(cli, 4)] == [False] * 4


def test_the_roster_at_the_meeting_date_counts(cli, db, org):
    """A member that joins after the meeting, or left before it, was not on the roster then."""
    cli("member", "join", "岡崎市", "--body", "幹事会", "--since", "令和5年6月1日")
    r = cli("meeting", "attendance", org["meeting"], "--present", "岡崎市", expect=2)
    assert "令和5年5月24日" in r.err
    cli("member", "leave", "名古屋市", "--body", "幹事会", "--on", "令和5年5月1日")
    cli("meeting", "attendance", org["meeting"], "--present", "名古屋市", expect=2)


def test_attendance_events_of_the_v1_shape_load_as_not_guests(cli, db, org):
    """Events stored before ``guest`` existed (v1 topic, no field) load, and count as before."""
    with Kyogikai(db, actor="t") as k:
        mid = k.meeting_row(org["meeting"])["id"]
        member = k.member("名古屋市")["id"]
        version = len(k.store.load(__import__("uuid").UUID(mid)))
    state = {"actor": "旧版", "attendance": "present", "member_id": member, "timestamp": "2023-05-25T01:02:03Z"}
    insert_raw_event(db, mid, version + 1, "kyogikai:AttendanceRecorded:v1",
                     json.dumps(state, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode())
    chain_new_events(db)
    assert last_payloads(cli, 1)[0]["guest"] is False
    rep = cli("participation", "--fiscal-year", "2023", "--body", "幹事会", "--format", "json").json()
    assert rep["totals"]["attended"] == 1
    cli("verify")
