"""Read models, event → rows: organisation, schedule, narratives, participation, answers, council.

Each test applies stored events to every read model in memory (:class:`ReadModel`) and asserts
the rows that the listings, the report, the pages and the participation records read.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from kyogikai.domain.answers import AnswerDeadlineSet, Answer, AttendanceAnswered, Via, Vote, WrittenVoteCast
from kyogikai.domain.council import CouncilSettingsChanged
from kyogikai.domain.formats import Format
from kyogikai.domain.meeting import (
    AgendaItemAdded, AgendaItemWithdrawn, Attendance, AttendanceRecorded, AuditMode, DrillResultRecorded, Kind,
    MeetingCancelled, MeetingDetailsChanged, MeetingHeld, MeetingReinstated, MeetingRescheduled, MeetingScheduled,
    NarrativeWritten, OutcomeRecorded, ParticipationRecorded,
)
from kyogikai.domain.organisation import (
    BodyCreated, BodyDissolved, BodyKind, BodyMemberJoined, BodyMemberLeft, BodyRenamed, BodyReordered,
    BodyVisibilityChanged, MemberClass, MemberCreated, MemberDissolved, MemberKind, MemberReclassified,
    MemberRenamed, ProgrammeCreated, ProgrammeDescribed, ProgrammeDissolved, ProgrammeMemberJoined,
    ProgrammeRenamed, Section,
)

from .support import T0, ReadModel, event, uid

pytestmark = pytest.mark.unit

P, BODY, SUB, MEMBER, MID = uid("programme"), uid("body"), uid("sub-body"), uid("member"), uid("meeting")
ITEM1, ITEM2 = uid("item 1"), uid("item 2")
D = dt.date(2023, 10, 11)


def iso(minutes: int) -> str:
    return (T0 + dt.timedelta(minutes=minutes)).isoformat()


def organisation() -> list:
    return [event(ProgrammeCreated, P, name="会議運営", section=Section.ALL, order=8),
            event(BodyCreated, BODY, name="幹事会", kind=BodyKind.BOARD, programme_id=P, order=2),
            event(BodyCreated, SUB, name="作業部会", kind=BodyKind.GROUP, programme_id=P, parent_id=BODY, order=1,
                  depth=2, inline=True, public=False, description="説明"),
            event(MemberCreated, MEMBER, name="名古屋市", kind=MemberKind.CITY, member_class=MemberClass.MEMBER,
                  code="231002")]


def scheduled(id=MID, version=1, at=10, **over):
    return event(MeetingScheduled, id, version, at, **{
        "kind": Kind.MEETING, "programme_id": P, "body_id": BODY, "ordinal": 2, "start": D, "end": D,
        "format": Format.WEB, **over})


# --- organisation ------------------------------------------------------------------------------

def test_programmes_and_bodies_become_rows():
    rm = ReadModel().apply(organisation())
    assert rm.row("rm_programmes", id=str(P)) == {
        "id": str(P), "name": "会議運営", "section": "all", "ord": 8, "description": None, "dissolved_on": None,
        "created_at": iso(0)}
    sub = rm.row("rm_bodies", id=str(SUB))
    assert (sub["parent_id"], sub["depth"], sub["inline"], sub["public"], sub["kind"], sub["description"]) == \
        (str(BODY), 2, 1, 0, "group", "説明")
    assert rm.column("rm_bodies", "id", programme_id=str(P)) == sorted([str(BODY), str(SUB)])


def test_organisation_changes_update_their_columns_only():
    rm = ReadModel().apply(organisation(),
                           event(ProgrammeRenamed, P, 2, name="会議運営事業"),
                           event(ProgrammeDescribed, P, 3, description="総会と幹事会"),
                           event(ProgrammeDissolved, P, 4, on=dt.date(2024, 3, 31)),
                           event(BodyRenamed, BODY, 2, name="運営幹事会"),
                           event(BodyReordered, BODY, 3, order=5),
                           event(BodyVisibilityChanged, BODY, 4, public=False),
                           event(BodyDissolved, BODY, 5, on=dt.date(2024, 1, 1)))
    p = rm.row("rm_programmes", id=str(P))
    assert (p["name"], p["description"], p["dissolved_on"], p["ord"]) == ("会議運営事業", "総会と幹事会", "2024-03-31", 8)
    b = rm.row("rm_bodies", id=str(BODY))
    assert (b["name"], b["ord"], b["public"], b["dissolved_on"], b["created_at"]) == \
        ("運営幹事会", 5, 0, "2024-01-01", iso(0))


def test_a_change_to_an_unknown_body_writes_no_row():
    rm = ReadModel().apply(event(BodyRenamed, BODY, 2, name="幹事会"), event(MemberDissolved, MEMBER, 2, on=D))
    assert rm.rows("rm_bodies") == [] and rm.rows("rm_members") == []


def test_a_member_keeps_its_former_names_in_order():
    rm = ReadModel().apply(organisation(),
                           event(MemberRenamed, MEMBER, 2, name="名古屋市役所", on=dt.date(2024, 1, 1)),
                           event(MemberRenamed, MEMBER, 3, name="なごや市"),
                           event(MemberReclassified, MEMBER, 4, member_class=MemberClass.ASSOCIATE),
                           event(MemberDissolved, MEMBER, 5, on=dt.date(2025, 3, 31)))
    assert rm.row("rm_members", id=str(MEMBER)) == {
        "id": str(MEMBER), "name": "なごや市", "kind": "city", "member_class": "associate", "code": "231002",
        "dissolved_on": "2025-03-31", "former_names": "名古屋市\n名古屋市役所"}


def test_roster_spans_leaving_closes_the_open_span_only():
    q = uid("participating programme")
    rm = ReadModel().apply(
        organisation(),
        event(ProgrammeCreated, q, name="施設予約システム事業", section=Section.PARTICIPATING, order=3),
        event(BodyMemberJoined, BODY, 2, member_id=MEMBER, since=dt.date(2022, 4, 1)),
        event(BodyMemberLeft, BODY, 3, member_id=MEMBER, until=dt.date(2022, 9, 30)),
        event(BodyMemberJoined, BODY, 4, member_id=MEMBER, since=dt.date(2023, 4, 1)),
        event(BodyMemberLeft, BODY, 5, member_id=MEMBER, until=dt.date(2024, 3, 31)),
        event(ProgrammeMemberJoined, q, 2, member_id=MEMBER, since=dt.date(2023, 4, 1)))
    assert [(r["since"], r["until"]) for r in rm.rows("rm_roster", owner_id=str(BODY))] == \
        [("2022-04-01", "2022-09-30"), ("2023-04-01", "2024-03-31")]
    assert rm.row("rm_roster", owner_id=str(q))["until"] is None


# --- schedule ----------------------------------------------------------------------------------

def test_a_scheduled_meeting_row():
    rm = ReadModel().apply(organisation(), scheduled(
        start_time=dt.time(14), end_time=dt.time(16, 30), venue="自治センター", modes=[AuditMode.REMOTE]))
    row = rm.row("rm_meetings", id=str(MID))
    assert {k: row[k] for k in ("kind", "body_id", "fiscal_year", "ordinal", "start_date", "end_date", "precision",
                                "start_time", "end_time", "format", "venue", "status", "sequence", "agenda_count",
                                "created_at", "updated_at")} == {
        "kind": "meeting", "body_id": str(BODY), "fiscal_year": 2023, "ordinal": 2, "start_date": "2023-10-11",
        "end_date": "2023-10-11", "precision": "day", "start_time": "14:00", "end_time": "16:30", "format": "web",
        "venue": "自治センター", "status": "scheduled", "sequence": 0, "agenda_count": 0, "created_at": iso(10),
        "updated_at": iso(10)}
    assert json.loads(row["modes"]) == ["remote"]


def test_fiscal_year_follows_the_date_across_april_first():
    rm = ReadModel().apply(scheduled(start=dt.date(2024, 3, 31), end=dt.date(2024, 3, 31)),
                           event(MeetingRescheduled, MID, 2, 20, start=dt.date(2024, 4, 1), end=dt.date(2024, 4, 1),
                                 reason=None))
    row = rm.row("rm_meetings", id=str(MID))
    assert (row["fiscal_year"], row["start_date"], row["sequence"], row["updated_at"]) == (2024, "2024-04-01", 1, iso(20))


def test_cancel_and_reinstate_are_significant_changes():
    rm = ReadModel().apply(scheduled(), event(MeetingCancelled, MID, 2, 20, reason="議題なしのため"))
    row = rm.row("rm_meetings", id=str(MID))
    assert (row["status"], row["cancel_reason"], row["sequence"]) == ("cancelled", "議題なしのため", 1)
    rm.apply(event(MeetingReinstated, MID, 3, 30))
    row = rm.row("rm_meetings", id=str(MID))
    assert (row["status"], row["cancel_reason"], row["sequence"], row["ordinal"]) == ("scheduled", None, 2, 2)


@pytest.mark.parametrize("held_on, sequence", [(D, 0), (D + dt.timedelta(days=1), 1)])
def test_held_counts_as_a_change_only_when_the_dates_moved(held_on, sequence):
    rm = ReadModel().apply(scheduled(), event(MeetingHeld, MID, 2, 20, start=held_on, end=held_on))
    row = rm.row("rm_meetings", id=str(MID))
    assert (row["status"], row["start_date"], row["sequence"], row["updated_at"]) == \
        ("held", held_on.isoformat(), sequence, iso(20))


def test_details_change_sets_only_the_named_columns():
    rm = ReadModel().apply(scheduled(title="定例会", venue="県庁"),
                           event(MeetingDetailsChanged, MID, 2, 20, changed=["format", "venue"],
                                 format=Format.WRITTEN, venue=None))
    row = rm.row("rm_meetings", id=str(MID))
    assert (row["format"], row["venue"], row["title"], row["sequence"]) == ("written", None, "定例会", 1)


def test_agenda_rows_keep_their_position_withdrawal_and_outcome():
    rm = ReadModel().apply(scheduled(),
                           event(AgendaItemAdded, MID, 2, 11, item_id=ITEM1, text="事業計画について"),
                           event(AgendaItemAdded, MID, 3, 12, item_id=ITEM2, text="予算について"),
                           event(AgendaItemWithdrawn, MID, 4, 13, item_id=ITEM1),
                           event(OutcomeRecorded, MID, 5, 14, item_id=ITEM2, outcome="原案どおり承認"))
    agenda = {r["text"]: (r["pos"], r["withdrawn"], r["outcome"]) for r in rm.rows("rm_agenda", meeting_id=str(MID))}
    assert agenda == {"事業計画について": (1, 1, None), "予算について": (2, 0, "原案どおり承認")}
    row = rm.row("rm_meetings", id=str(MID))
    assert (row["agenda_count"], row["sequence"], row["updated_at"]) == (2, 0, iso(14))


def test_events_of_an_unknown_meeting_write_nothing():
    rm = ReadModel().apply(event(MeetingCancelled, MID, 2, reason=None),
                           event(AgendaItemAdded, MID, 3, item_id=ITEM1, text="x"))
    assert rm.rows("rm_meetings") == [] and rm.rows("rm_agenda") == []


# --- narratives --------------------------------------------------------------------------------

def test_a_narrative_replaces_the_years_paragraphs_for_its_target():
    nid = uid("narrative")
    write = lambda v, fy, paras, at: event(NarrativeWritten, nid, v, at, fiscal_year=fy, target="body",  # noqa: E731
                                          target_id=BODY, paragraphs=paras)
    rm = ReadModel().apply(write(1, 2023, ["幹事会を3回開催した。"], 1), write(2, 2023, ["第一段落。", "第二段落。"], 2),
                           write(1, 2024, ["翌年度。"], 3))
    rows = rm.rows("rm_narratives", target_id=str(BODY))
    assert [(r["fiscal_year"], json.loads(r["paragraphs"]), r["updated_at"]) for r in rows] == \
        [(2023, ["第一段落。", "第二段落。"], iso(2)), (2024, ["翌年度。"], iso(3))]
    assert "第一段落" in rows[0]["paragraphs"]   # stored as readable UTF-8, not \\u escapes


# --- participation -----------------------------------------------------------------------------

def test_the_last_attendance_participation_and_drill_result_win():
    drill = uid("drill")
    rm = ReadModel().apply(
        event(AttendanceRecorded, MID, 2, member_id=MEMBER, attendance=Attendance.PRESENT),
        event(AttendanceRecorded, MID, 3, member_id=MEMBER, attendance=Attendance.ABSENT),
        event(ParticipationRecorded, drill, 2, member_id=MEMBER, took_part=True),
        event(ParticipationRecorded, drill, 3, member_id=MEMBER, took_part=False),
        event(DrillResultRecorded, drill, 4, member_id=MEMBER, mails_sent=100, links_opened=9, reported=None),
        event(DrillResultRecorded, drill, 5, member_id=MEMBER, mails_sent=120, links_opened=7, reported=30))
    assert rm.rows("rm_attendance") == [{"meeting_id": str(MID), "member_id": str(MEMBER), "attendance": "absent"}]
    assert rm.rows("rm_participation") == [{"meeting_id": str(drill), "member_id": str(MEMBER), "took_part": 0}]
    assert rm.rows("rm_drill_results") == [{"meeting_id": str(drill), "member_id": str(MEMBER), "mails_sent": 120,
                                            "links_opened": 7, "reported": 30}]


# --- answers -----------------------------------------------------------------------------------

def test_answers_votes_and_deadlines_rows():
    sheet, other = uid("answer sheet"), uid("member 2")
    rm = ReadModel().apply(
        event(AnswerDeadlineSet, sheet, 1, meeting_id=MID, answer_by=dt.date(2023, 10, 4)),
        event(AttendanceAnswered, sheet, 2, 1, meeting_id=MID, member_id=MEMBER, answer=Answer.PRESENT, via=Via.MEMBER),
        event(AttendanceAnswered, sheet, 3, 2, actor="鈴木", meeting_id=MID, member_id=MEMBER, answer=Answer.PROXY,
              proxy="代理 太郎", comment="連絡事項", via=Via.CLERK),
        event(WrittenVoteCast, sheet, 4, 3, meeting_id=MID, member_id=MEMBER, item_id=ITEM1, vote=Vote.FOR,
              via=Via.MEMBER),
        event(WrittenVoteCast, sheet, 5, 4, meeting_id=MID, member_id=other, item_id=ITEM1, vote=Vote.AGAINST,
              via=Via.MEMBER),
        event(WrittenVoteCast, sheet, 6, 5, meeting_id=MID, member_id=MEMBER, item_id=ITEM1, vote=Vote.ABSTAIN,
              via=Via.CLERK))
    assert rm.rows("rm_answer_deadlines") == [{"meeting_id": str(MID), "answer_by": "2023-10-04"}]
    assert rm.rows("rm_answers") == [{"meeting_id": str(MID), "member_id": str(MEMBER), "answer": "proxy",
                                      "proxy": "代理 太郎", "comment": "連絡事項", "answered_at": iso(2),
                                      "answered_by": "鈴木", "via": "clerk"}]
    votes = {r["member_id"]: (r["vote"], r["via"], r["voted_at"]) for r in rm.rows("rm_votes", item_id=str(ITEM1))}
    assert votes == {str(MEMBER): ("abstain", "clerk", iso(5)), str(other): ("against", "member", iso(4))}


# --- council -----------------------------------------------------------------------------------

def test_the_council_row_holds_the_latest_settings_and_who_set_them():
    cid = uid("council")
    rm = ReadModel().apply(
        event(CouncilSettingsChanged, cid, 1, 1, name="協議会A", short_name="A"),
        event(CouncilSettingsChanged, cid, 2, 2, actor="管理者", name="あいち電子自治体推進協議会", short_name=None,
              base_url="https://kyogikai.example.lg.jp", document_font="ms"))
    [row] = rm.rows("rm_council")
    assert {k: v for k, v in row.items() if k != "id"} == {
        "name": "あいち電子自治体推進協議会", "short_name": None, "base_url": "https://kyogikai.example.lg.jp",
        "document_font": "ms", "changed_at": iso(2), "changed_by": "管理者"}
