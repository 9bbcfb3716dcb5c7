"""Issue 12: members' answers (出欠回答) and written votes (書面表決), on SQLite and PostgreSQL.

Dates are relative to today (Asia/Tokyo), since the rules (deadline, past) read the clock.
The 幹事会 has four members on its roster (愛知県, 名古屋市, 豊橋市, 岡崎市); 瀬戸市 exists but is not on it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest

from kyogikai import answers as ans
from kyogikai.app import Kyogikai
from kyogikai.domain import answers as a

from .conftest import CLI

ROSTER = ["愛知県", "名古屋市", "豊橋市", "岡崎市"]
CODES = {"愛知県": "230006", "名古屋市": "231002", "豊橋市": "232017", "岡崎市": "232025", "瀬戸市": "232041"}


def today() -> dt.date:
    return ans.tokyo_today()


def day(n: int) -> str:
    return (today() + dt.timedelta(days=n)).isoformat()


def count_events(db: str) -> int:
    with Kyogikai(db, actor="t") as k:
        return k.store.max_position()


def mid_of(out: str) -> str:
    return out.rsplit("(id ", 1)[1][:8]


def setup(cli: CLI) -> dict[str, str]:
    cli("programme", "create", "会議運営", "--section", "all", "--order", "8")
    cli("body", "create", "幹事会", "--programme", "会議運営", "--kind", "board")
    for name, code in CODES.items():
        kind = "prefecture" if name == "愛知県" else "city"
        cli("member", "create", name, "--kind", kind, "--code", code)
    for name in ROSTER:
        cli("member", "join", name, "--body", "幹事会", "--since", day(-400))
    ids = {
        "web": mid_of(cli("meeting", "schedule", "--body", "幹事会", "--ordinal", "1", "--date", day(20), "--format", "web",
                          "--agenda", "令和7年度事業計画について").out),
        "written": mid_of(cli("meeting", "schedule", "--body", "幹事会", "--ordinal", "2", "--date", f"{day(10)}～{day(17)}",
                              "--format", "written", "--agenda", "規約の改正について", "--agenda", "役員の選任について").out),
        "past": mid_of(cli("meeting", "schedule", "--body", "幹事会", "--date", day(-3), "--format", "web").out),
        "today": mid_of(cli("meeting", "schedule", "--body", "幹事会", "--date", day(0), "--format", "web").out),
    }
    return ids


def test_answers_round_trip_and_listing(cli: CLI, db: str) -> None:
    ids = setup(cli)
    m = ids["web"]
    assert "recorded the answer" in cli("meeting", "answer", m, "--member", "名古屋市", "--answer", "present",
                                        "--comment", "課長が出席します").out
    cli("meeting", "answer", m, "--member", "豊橋市", "--answer", "proxy", "--proxy", "情報政策課 山田", actor="事務局B")
    cli("meeting", "answer", m, "--member", "岡崎市", "--answer", "absent")
    # a change before the deadline replaces the answer; the same answer again writes nothing
    cli("meeting", "answer", m, "--member", "岡崎市", "--answer", "present")
    before = count_events(db)
    assert "unchanged" in cli("meeting", "answer", m, "--member", "岡崎市", "--answer", "present").out
    assert count_events(db) == before

    rows = cli("meeting", "answers", m, "--json").json()["rows"]
    assert [r["member"] for r in rows] == ROSTER
    by = {r["member"]: r for r in rows}
    assert set(rows[0]) == {"member", "answer", "proxy", "comment", "answered_at", "answered_by"}
    assert by["愛知県"] == {"member": "愛知県", "answer": None, "proxy": None, "comment": None, "answered_at": None,
                         "answered_by": None}
    assert (by["名古屋市"]["answer"], by["名古屋市"]["comment"], by["名古屋市"]["answered_by"]) == ("present", "課長が出席します", "事務局A")
    assert (by["豊橋市"]["answer"], by["豊橋市"]["proxy"], by["豊橋市"]["answered_by"]) == ("proxy", "情報政策課 山田", "事務局B")
    assert by["岡崎市"]["answer"] == "present"
    assert dt.datetime.fromisoformat(by["岡崎市"]["answered_at"]).tzinfo is not None

    pending = cli("meeting", "answers", m, "--json", "--pending").json()["rows"]
    assert [r["member"] for r in pending] == ["愛知県"]

    raw = cli("meeting", "answers", m, "--csv").out
    assert raw.startswith("\ufeff") and "\r\n" in raw
    table = list(csv.reader(io.StringIO(raw.lstrip("\ufeff"))))
    assert table[0][:4] == ["団体コード", "団体名", "回答", "代理出席者"]
    assert [r[1] for r in table[1:]] == ROSTER
    assert table[3][2:4] == ["代理出席（情報政策課 山田）", "情報政策課 山田"]
    pend_csv = list(csv.reader(io.StringIO(cli("meeting", "answers", m, "--csv", "--pending").out.lstrip("\ufeff"))))
    assert [r[1] for r in pend_csv[1:]] == ["愛知県"]

    text = cli("meeting", "answers", m).out
    assert "構成団体 4、出席 2、代理出席 1、欠席 0、未回答 1" in text
    # every change stays in the history
    hist = cli("history", m).out
    assert hist.count("AttendanceAnswered") == 4  # absent, then present: both kept


def test_bad_answers_are_refused_and_write_nothing(cli: CLI, db: str) -> None:
    ids = setup(cli)
    cli("meeting", "cancel", ids["today"][:8])  # (today's meeting is past anyway; cancel another below)
    cancelled = mid_of(cli("meeting", "schedule", "--body", "幹事会", "--date", day(30), "--format", "web").out)
    cli("meeting", "cancel", cancelled)
    before = count_events(db)
    cases = [
        (["meeting", "answer", "ffff0000", "--member", "名古屋市", "--answer", "present"], "no meeting"),
        (["meeting", "answer", ids["web"], "--member", "瀬戸市", "--answer", "present"], "member: not on the body's roster"),
        (["meeting", "answer", ids["web"], "--member", "存在しない市", "--answer", "present"], "unknown member"),
        (["meeting", "answer", ids["web"], "--member", "名古屋市", "--answer", "maybe"], "--answer:"),
        (["meeting", "answer", ids["web"], "--member", "名古屋市", "--answer", "proxy"], "proxy:"),
        (["meeting", "answer", ids["web"], "--member", "名古屋市", "--answer", "present", "--proxy", "山田"], "proxy:"),
        (["meeting", "answer", ids["web"], "--member", "名古屋市", "--answer", "present", "--comment", "x" * 501], "comment:"),
        (["meeting", "answer", ids["past"], "--member", "名古屋市", "--answer", "present"], "past"),
        (["meeting", "answer", ids["today"], "--member", "名古屋市", "--answer", "present"], "cancelled"),
        (["meeting", "answer", cancelled, "--member", "名古屋市", "--answer", "present"], "cancelled"),
        (["meeting", "answer", ids["written"], "--member", "名古屋市", "--answer", "present"], "held in writing"),
        (["meeting", "vote", ids["web"], "--item", "1", "--member", "名古屋市", "--vote", "for"], "not held in writing"),
        (["meeting", "vote", ids["written"], "--item", "3", "--member", "名古屋市", "--vote", "for"], "--item: no agenda item 3"),
        (["meeting", "vote", ids["written"], "--item", "0", "--member", "名古屋市", "--vote", "for"], "--item:"),
        (["meeting", "vote", ids["written"], "--item", "1", "--member", "瀬戸市", "--vote", "for"], "roster"),
        (["meeting", "vote", ids["written"], "--item", "1", "--member", "名古屋市", "--vote", "yes"], "--vote:"),
        (["meeting", "change", ids["web"], "--answer-by", day(20)], "--answer-by:"),
        (["meeting", "change", ids["written"], "--answer-by", day(18)], "--answer-by:"),
        (["meeting", "change", ids["web"], "--answer-by", "令和99年"], "--answer-by:"),
        (["meeting", "answers", ids["web"], "--json", "--csv"], "--json/--csv"),
    ]
    for argv, message in cases:
        r = cli(*argv, expect=2)
        assert r.err.startswith("error: ") and r.err.count("\n") == 1, (argv, r.err)
        assert message in r.err, (argv, r.err)
    assert count_events(db) == before


def test_deadline_member_link_vs_clerk(db: str) -> None:
    """After the deadline only a clerk can change an answer; the default deadline is the day before."""
    cli = CLI(db)
    ids = setup(cli)
    cli("meeting", "change", ids["web"], "--answer-by", day(-1))
    tomorrow = mid_of(cli("meeting", "schedule", "--body", "幹事会", "--date", day(1), "--format", "web").out)
    with Kyogikai(db, actor="web") as k:
        member = k.member("名古屋市")["id"]
        before = k.store.max_position()
        with pytest.raises(a.AnswerRefused) as exc:
            ans.record_answer(k, k.meeting_row(ids["web"])["id"], "present", member_id=member, token_id=None)
        from kyogikai.web.answers import refusal

        assert "回答期限" in refusal(exc.value) and "事務局" in refusal(exc.value)   # the member page's wording
        assert "only the secretariat can change it now" in str(exc.value)
        assert k.store.max_position() == before
        # the default deadline (the day before: today) still lets the member answer the meeting of tomorrow
        r = ans.record_answer(k, k.meeting_row(tomorrow)["id"], "absent", member_id=member, token_id=None)
        assert len(r.events) == 1 and r.events[0].via is a.Via.MEMBER
    # the clerk may still record it after the deadline, until the meeting begins
    cli("meeting", "answer", ids["web"], "--member", "名古屋市", "--answer", "present")
    rep = cli("meeting", "answers", ids["web"], "--json").json()
    assert rep["meeting"]["answer_by"] == day(-1)
    # --answer-by on schedule is saved in the same command
    m = mid_of(cli("meeting", "schedule", "--body", "幹事会", "--date", day(40), "--format", "web",
                   "--answer-by", day(30)).out)
    assert cli("meeting", "answers", m, "--json").json()["meeting"]["answer_by"] == day(30)
    # the default: the day before the first day
    assert cli("meeting", "answers", tomorrow, "--json").json()["meeting"]["answer_by"] == day(0)


def test_written_votes_tally_outcome_and_report(cli: CLI, db: str) -> None:
    ids = setup(cli)
    w = ids["written"]
    for member, v1, v2 in [("愛知県", "for", "for"), ("名古屋市", "for", "against"), ("豊橋市", "against", "abstain")]:
        cli("meeting", "vote", w, "--item", "1", "--member", member, "--vote", v1)
        cli("meeting", "vote", w, "--item", "2", "--member", member, "--vote", v2)
    cli("meeting", "vote", w, "--item", "2", "--member", "豊橋市", "--vote", "against")  # changed before the deadline
    rep = cli("meeting", "answers", w, "--json").json()
    items = rep["items"]
    assert [(i["members"], i["for"], i["against"], i["abstain"], i["not_answered"]) for i in items] == [
        (4, 2, 1, 0, 1), (4, 1, 2, 0, 1)]
    # still running: no outcome yet
    assert [i["outcome"] for i in items] == [None, None]
    assert [r["member"] for r in cli("meeting", "answers", w, "--json", "--pending").json()["rows"]] == ["岡崎市"]
    text = cli("meeting", "answers", w).out
    assert "議案1 規約の改正について：構成団体4、賛成2、反対1、棄権0、未回答1 → 集計中" in text
    # closed (recorded as held — ended early, today, since a meeting cannot be held before it starts):
    # outcome derived by majority of votes cast, unless a clerk recorded one
    cli("meeting", "hold", w, "--date", day(0))
    cli("meeting", "agenda", "outcome", w, "2", "継続協議")
    items = cli("meeting", "answers", w, "--json").json()["items"]
    assert [(i["outcome"], i["outcome_source"]) for i in items] == [("可決", "derived"), ("継続協議", "recorded")]
    # votes are closed once held
    cli("meeting", "vote", w, "--item", "1", "--member", "岡崎市", "--vote", "for", expect=2)
    # the annual report prints the tally beside the items
    fy = ans.dates.fiscal_year(today())
    report = cli("report", "--fiscal-year", str(fy)).out
    assert "・規約の改正について（書面表決：賛成2、反対1、未回答1）" in report
    assert "・役員の選任について（書面表決：賛成1、反対2、未回答1）" in report
    assert "令和7年度事業計画について（" not in report
    # the importer reads the item back without the tally (the report stays a fixed point of its facts)
    from kyogikai.report.parse import parse_report

    items = [x for e in parse_report(report).doc.entries() for x in e.agenda]
    assert "規約の改正について" in items and "役員の選任について" in items
    assert not any("書面表決" in x for x in items)


def test_rules_in_the_domain() -> None:
    assert a.derive_outcome(29, 0) == "可決"
    assert a.derive_outcome(3, 3) == "否決"
    assert a.derive_outcome(0, 0) is None
    t = a.tally(["for"] * 29 + ["abstain"] * 0, 34)
    assert a.tally_text(t) == "書面表決：賛成29、反対0、未回答5"
    assert a.tally_text(a.tally(["for", "abstain", "against"], 5)) == "書面表決：賛成1、反対1、棄権1、未回答2"


def test_participation_shows_answered_versus_attended(cli: CLI, db: str) -> None:
    from kyogikai import participation as pt

    ids = setup(cli)
    w, m = ids["written"], ids["web"]
    cli("meeting", "answer", m, "--member", "名古屋市", "--answer", "present")
    cli("meeting", "answer", m, "--member", "豊橋市", "--answer", "proxy", "--proxy", "山田")
    cli("meeting", "answer", m, "--member", "岡崎市", "--answer", "absent")
    cli("meeting", "vote", w, "--item", "1", "--member", "愛知県", "--vote", "for")
    cli("meeting", "hold", m, "--date", day(0))        # held today (brought forward): it cannot be held before
    cli("meeting", "hold", w, "--date", day(0))
    cli("meeting", "attendance", m, "--present", "名古屋市", "--absent", "豊橋市", "--absent", "岡崎市")
    fy = pt.dates.fiscal_year(today())
    fy_w = fy
    body = cli("participation", "--body", "幹事会", "--fiscal-year", str(fy), "--format", "json").json()
    a_ = {r["name"]: r for r in body["answers"]["members"]}
    # 豊橋市 answered (by proxy) that it would attend, and did not: visible
    assert (a_["豊橋市"]["answered_present"], a_["豊橋市"]["present_not_attended"]) == (1, 1)
    assert (a_["名古屋市"]["answered_present"], a_["名古屋市"]["present_attended"]) == (1, 1)
    assert (a_["岡崎市"]["answered_absent"], a_["愛知県"]["answered"]) == (1, 0)
    assert body["answers"]["totals"]["present_not_attended"] == 1
    assert "出席と回答" in body["answers"]["definition"]
    text = cli("participation", "--body", "幹事会", "--fiscal-year", str(fy)).out
    assert "出欠回答と出席" in text and "うち欠席等" in text
    # a written vote counts as taking part (回答) in the written deliberation
    if fy_w == fy:
        cells = {r["name"]: r["cells"] for r in body["members"]}
        col = [x["id"] for x in body["meetings"]].index(next(x["id"] for x in body["meetings"] if x["id"].startswith(w)))
        assert cells["愛知県"][col] == "replied" and cells["岡崎市"][col] == "unknown"
    mine = cli("participation", "--member", "豊橋市", "--fiscal-year", str(fy), "--format", "json").json()
    assert mine["answers"]["totals"]["present_not_attended"] == 1
    assert "出欠回答と出席" in pt.render_member_html(mine)
    csv_text = cli("participation", "--body", "幹事会", "--fiscal-year", str(fy), "--format", "csv").out
    assert "出欠回答と出席,団体名,対象,回答,出席と回答,うち出席,うち欠席等,欠席と回答,未回答" in csv_text


def test_hostile_answer_and_vote_inputs(tmp_path) -> None:
    """Generated bad input to ``meeting answer`` / ``vote``: one ``error:`` line naming the field, exit 2, nothing written."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    db = str(tmp_path / "k.sqlite")
    cli = CLI(db)
    ids = setup(cli)
    before = count_events(db)
    control = st.sampled_from([chr(c) for c in [*range(0, 32), *range(127, 160)] if not chr(c).isspace()])
    text = st.text(alphabet="代理出席者山田", min_size=1, max_size=8)

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(st.integers(0, 5), st.integers(101, 400), st.integers(501, 3000), text, control,
           st.text(max_size=12).filter(lambda t: t not in ("present", "proxy", "absent", "for", "against", "abstain")
                                       and not t.startswith("-")),
           st.integers(-5, 50).filter(lambda n: not 1 <= n <= 2))
    def prop(where, n_proxy, n_comment, t, ctrl, bad_choice, bad_item):
        base = ["meeting", "answer", ids["web"], "--member", "名古屋市"]
        if where == 0:
            argv, field = [*base, "--answer", "proxy", "--proxy", t * n_proxy], "proxy:"
        elif where == 1:
            argv, field = [*base, "--answer", "absent", "--comment", t * n_comment], "comment:"
        elif where == 2:
            argv, field = [*base, "--answer", "absent", "--comment", t + ctrl + t], "control character"
        elif where == 3:
            argv, field = [*base, "--answer", bad_choice], "--answer:"
        elif where == 4:
            argv, field = ["meeting", "vote", ids["written"], "--item", "1", "--member", "名古屋市", "--vote", bad_choice], "--vote:"
        else:
            argv, field = ["meeting", "vote", ids["written"], "--item", str(bad_item), "--member", "名古屋市",
                           "--vote", "for"], "--item:"
        r = cli(*argv, expect=2)
        assert r.err.startswith("error: ") and r.err.count("\n") == 1 and "Traceback" not in r.err
        assert field in r.err, (argv, r.err)

    prop()
    assert count_events(db) == before


def test_members_answering_at_the_same_time_all_land(db: str) -> None:
    """Answers of one meeting share its answer sheet: concurrent ones conflict and are retried, none is lost."""
    import threading

    cli = CLI(db)
    ids = setup(cli)
    barrier = threading.Barrier(len(ROSTER))
    errors: list[BaseException] = []

    def answer(member: str) -> None:
        try:
            with Kyogikai(db, actor=f"事務局-{member}") as k:
                k.sync()
                barrier.wait()
                ans.record_answer(k, ids["web"], "absent" if member == "岡崎市" else "present", member=member)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=answer, args=(m,)) for m in ROSTER]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    rows = cli("meeting", "answers", ids["web"], "--json").json()["rows"]
    assert [(r["member"], r["answer"]) for r in rows] == [(m, "absent" if m == "岡崎市" else "present") for m in ROSTER]
    assert cli("history", ids["web"]).out.count("AttendanceAnswered") == len(ROSTER)
