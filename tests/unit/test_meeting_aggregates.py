"""Meeting, OrdinalRegister and Narrative: given events → command → new events, or the rule that refuses it."""

from __future__ import annotations

import datetime as dt
import pytest

from kyogikai.dates import MONTH, Period
from kyogikai.domain.events import DomainError
from kyogikai.domain.formats import Format
from kyogikai.domain.meeting import (
    AgendaItemAdded, AgendaItemWithdrawn, Attendance, AttendanceRecorded, DrillResultRecorded, Kind, Meeting,
    MeetingCancelled, MeetingDetailsChanged, MeetingHeld, MeetingReinstated, MeetingRescheduled, MeetingScheduled,
    Narrative, NarrativeWritten, OrdinalRegister, OrdinalReleased, OrdinalTaken, OutcomeRecorded, Status,
)

from .support import ACTOR, uid, given, history, names, replays_to_same_state, then

pytestmark = pytest.mark.unit

PROG, BODY, MEMBER = uid("programme"), uid("body"), uid("member")
MID = uid("meeting")
D = dt.date(2023, 10, 11)


def scheduled(**over):
    return (MeetingScheduled, {"kind": Kind.MEETING, "programme_id": PROG, "body_id": BODY, "ordinal": 2,
                               "start": D, "end": D, "format": Format.WEB, **over})


def meeting(*more, **over):
    return given(Meeting, MID, scheduled(**over), *more)


def day(d: dt.date) -> Period:
    return Period.of(d)


# --- scheduling --------------------------------------------------------------------------------

def test_schedule_records_the_meeting_then_its_agenda_items():
    m = Meeting.schedule(kind=Kind.MEETING, programme_id=PROG, body_id=BODY, period=day(D), ordinal=2,
                         start_time=dt.time(14), end_time=dt.time(16), format=Format.WEB,
                         agenda=["令和6年度事業計画について", "予算について"], actor=ACTOR)
    events = then(m)
    assert names(events) == ["MeetingScheduled", "AgendaItemAdded", "AgendaItemAdded"]
    assert [e.originator_version for e in events] == [1, 2, 3]
    s = events[0]
    assert (s.start, s.end, s.start_time, s.end_time, s.ordinal, s.format) == (D, D, dt.time(14), dt.time(16), 2, Format.WEB)
    assert [e.text for e in events[1:]] == ["令和6年度事業計画について", "予算について"]
    assert m.status is Status.SCHEDULED and m.fiscal_year == 2023 and m.ordinal_key == "meeting|||2"


@pytest.mark.parametrize("kw, message", [
    ({"kind": Kind.MEETING, "body_id": None}, "a meeting needs a body"),
    ({"ordinal": 0}, "ordinal must be a whole number from 1 to 9,999"),
    ({"kind": Kind.VOTE}, "refers to an earlier meeting"),
    ({"kind": Kind.LECTURE, "body_id": None}, "needs a speaker"),
    ({"period": Period(D, D + dt.timedelta(days=3)), "start_time": dt.time(10)}, "need a single-day date"),
    ({"end_time": dt.time(10)}, "an end time needs a start time"),
    ({"start_time": dt.time(14), "end_time": dt.time(13, 30)}, "end time 13:30 is not after start time 14:00"),
    ({"agenda": ["x"] * 201}, "at most 200 items"),
    ({"agenda": ["同じ", "同じ"]}, "already on the agenda"),
    ({"title": "t" * 501}, "title is longer than 500"),
])
def test_schedule_refusals(kw, message):
    args = {"kind": Kind.MEETING, "programme_id": PROG, "body_id": BODY, "period": day(D), "actor": ACTOR, **kw}
    with pytest.raises(DomainError, match=message):
        Meeting.schedule(**args)


def test_a_vote_refers_to_an_earlier_meeting_of_the_same_body():
    earlier = meeting()
    vote = Meeting.schedule(kind=Kind.VOTE, programme_id=PROG, body_id=BODY, period=day(D + dt.timedelta(days=7)),
                            title="一部議題に係る採決", refers_to=earlier, actor=ACTOR)
    [e] = then(vote)
    assert e.refers_to == MID and e.kind is Kind.VOTE
    with pytest.raises(DomainError, match="later than this one"):
        Meeting.schedule(kind=Kind.VOTE, programme_id=PROG, body_id=BODY, period=day(D - dt.timedelta(days=1)),
                         refers_to=earlier, actor=ACTOR)
    with pytest.raises(DomainError, match="another body"):
        Meeting.schedule(kind=Kind.VOTE, programme_id=PROG, body_id=uid("another body"), period=day(D), refers_to=earlier,
                         actor=ACTOR)


def test_ordinal_keys_separate_kinds_series_and_parts():
    assert meeting(ordinal=3).ordinal_key == "meeting|||3"
    assert meeting(kind=Kind.VOTE, ordinal=3, refers_to=uid("earlier meeting")).ordinal_key == "meeting|||3"   # votes count as meetings
    assert meeting(kind=Kind.DRILL, ordinal=1, body_id=None).ordinal_key == "drill|||1"
    assert meeting(kind=Kind.TRAINING, series="先進事例研究", part=2, ordinal=1).ordinal_key == "training|先進事例研究|2|1"
    assert meeting(ordinal=None).ordinal_key is None
    assert meeting(start=dt.date(2024, 3, 31), end=dt.date(2024, 3, 31)).fiscal_year == 2023
    assert meeting(start=dt.date(2024, 4, 1), end=dt.date(2024, 4, 1)).fiscal_year == 2024


# --- lifecycle ---------------------------------------------------------------------------------

def test_reschedule_records_the_new_date_and_reason():
    m = meeting()
    m.reschedule(day(D + dt.timedelta(days=7)), dt.time(10), None, ACTOR, reason="会場の都合により")
    [e] = then(m)
    assert isinstance(e, MeetingRescheduled)
    assert (e.start, e.start_time, e.reason, e.originator_version) == (D + dt.timedelta(days=7), dt.time(10), "会場の都合により", 2)


def test_reschedule_to_the_same_date_is_refused():
    with pytest.raises(DomainError, match="same as the current one"):
        meeting().reschedule(day(D), None, None, ACTOR)


def test_a_held_meeting_cannot_be_rescheduled_or_cancelled():
    m = meeting((MeetingHeld, {"start": D, "end": D}))
    with pytest.raises(DomainError, match="already held"):
        m.reschedule(day(D + dt.timedelta(days=1)), None, None, ACTOR)
    with pytest.raises(DomainError, match="cannot cancel: it was already held"):
        m.cancel(None, ACTOR)
    assert then(m) == []


def test_a_cancelled_meeting_takes_no_changes_until_reinstated():
    m = meeting((MeetingCancelled, {"reason": "議題なしのため"}))
    assert m.status is Status.CANCELLED
    refused = [lambda: m.reschedule(day(D + dt.timedelta(days=1)), None, None, ACTOR),
               lambda: m.cancel("again", ACTOR),
               lambda: m.hold(None, None, None, ACTOR),
               lambda: m.change_details(ACTOR, venue="県庁"),
               lambda: m.add_agenda_item("議題", ACTOR),
               lambda: m.record_attendance(MEMBER, Attendance.PRESENT, ACTOR),
               lambda: m.record_participation(MEMBER, True, ACTOR)]
    for command in refused:
        with pytest.raises(DomainError, match="was cancelled"):
            command()
    assert then(m) == []
    m.reinstate(ACTOR)
    m.hold(None, None, None, ACTOR)
    assert [type(e) for e in then(m)] == [MeetingReinstated, MeetingHeld]
    with pytest.raises(DomainError, match="not cancelled"):
        m.reinstate(ACTOR)


def test_hold_of_a_future_meeting_is_refused():
    m = meeting()
    with pytest.raises(DomainError, match="after today \\(2023-10-10\\)"):
        m.hold(None, None, None, ACTOR, today=D - dt.timedelta(days=1))
    m.hold(None, None, None, ACTOR, today=D)   # on its day it can be recorded
    [e] = then(m)
    assert isinstance(e, MeetingHeld) and (e.start, e.end) == (D, D)


def test_hold_on_the_planned_date_keeps_the_planned_times_and_a_correction_is_a_new_event():
    m = meeting(start_time=dt.time(14), end_time=dt.time(16))
    m.hold(None, None, None, ACTOR)
    [held] = then(m)
    assert (held.start_time, held.end_time) == (dt.time(14), dt.time(16))
    with pytest.raises(DomainError, match="already recorded as held"):
        m.hold(None, None, None, ACTOR)
    m.hold(day(D + dt.timedelta(days=1)), None, None, ACTOR)
    [fixed] = then(m)
    assert isinstance(fixed, MeetingHeld) and fixed.start == D + dt.timedelta(days=1) and fixed.start_time is None
    assert m.status is Status.HELD and m.period.start == D + dt.timedelta(days=1)


def test_change_details_records_only_what_differs():
    m = meeting(venue="県庁")
    with pytest.raises(DomainError, match="nothing to change"):
        m.change_details(ACTOR, venue="県庁", format=Format.WEB)
    m.change_details(ACTOR, venue="自治センター", format=Format.WEB, title="臨時会")
    [e] = then(m)
    assert isinstance(e, MeetingDetailsChanged)
    assert e.changed == ["title", "venue"] and (e.venue, e.title, e.format) == ("自治センター", "臨時会", None)


# --- agenda, attendance, drills ------------------------------------------------------------------

def test_agenda_item_by_number_text_or_id_withdrawal_and_outcome():
    m = meeting()
    first = m.add_agenda_item("事業計画について", ACTOR)
    second = m.add_agenda_item("予算について", ACTOR)
    then(m)
    assert m.agenda_item("2") == second and m.agenda_item("予算について") == second
    assert m.agenda_item(str(first)[:8]) == first
    m.withdraw_agenda_item(first, ACTOR)
    assert m.agenda_item("1") == second          # numbers count current items only
    with pytest.raises(DomainError, match="not found: give its number \\(1..1\\)"):
        m.agenda_item("2")
    with pytest.raises(DomainError, match="was withdrawn"):
        m.record_outcome(first, "承認", ACTOR)
    m.record_outcome(second, "承認", ACTOR)
    events = then(m)
    assert [type(e) for e in events] == [AgendaItemWithdrawn, OutcomeRecorded]
    assert events[1].item_id == second and events[1].outcome == "承認"
    m.add_agenda_item("事業計画について", ACTOR)   # a withdrawn text may come back
    [again] = then(m)
    assert isinstance(again, AgendaItemAdded) and again.item_id not in (first, second)


def test_attendance_the_same_answer_twice_is_refused():
    m = meeting((AttendanceRecorded, {"member_id": MEMBER, "attendance": Attendance.PRESENT}))
    with pytest.raises(DomainError, match="already recorded as present"):
        m.record_attendance(MEMBER, Attendance.PRESENT, ACTOR)
    m.record_attendance(MEMBER, Attendance.ABSENT, ACTOR)
    [e] = then(m)
    assert isinstance(e, AttendanceRecorded) and e.attendance is Attendance.ABSENT


def test_drill_results_belong_to_drills_and_add_up():
    with pytest.raises(DomainError, match="belong to a drill"):
        meeting().record_drill_result(MEMBER, 10, 1, None, ACTOR)
    d = meeting(kind=Kind.DRILL, body_id=None, ordinal=1)
    with pytest.raises(DomainError, match="links opened \\(11\\) exceed mails sent \\(10\\)"):
        d.record_drill_result(MEMBER, 10, 11, None, ACTOR)
    with pytest.raises(DomainError, match="mails sent must be a whole number from 0 to 1,000,000"):
        d.record_drill_result(MEMBER, -1, 0, None, ACTOR)
    d.record_drill_result(MEMBER, 120, 7, 30, ACTOR)
    [e] = then(d)
    assert isinstance(e, DrillResultRecorded) and (e.mails_sent, e.links_opened, e.reported) == (120, 7, 30)


def test_replay_of_stored_and_new_events_gives_the_state_that_decided():
    stored = history(MID, scheduled(), (AgendaItemAdded, {"item_id": uid("item 1"), "text": "議題1"}))
    m = Meeting.replay(MID, stored)
    m.cancel("台風のため", ACTOR)
    m.reinstate(ACTOR)
    m.reschedule(Period.of(dt.date(2023, 11, 1), dt.date(2023, 11, 30), MONTH), None, None, ACTOR)
    new = then(m)
    assert names(new) == ["MeetingCancelled", "MeetingReinstated", "MeetingRescheduled"]
    assert replays_to_same_state(m, stored, new)


# --- ordinal register --------------------------------------------------------------------------

def test_ordinal_register_refuses_a_duplicate_and_frees_a_released_one():
    rid = OrdinalRegister.id_for(BODY, 2023)
    other = uid("another meeting")
    reg = given(OrdinalRegister, rid, (OrdinalTaken, {"key": "meeting|||1", "meeting_id": MID}))
    with pytest.raises(DomainError, match=f"duplicate ordinal: 第1回幹事会 already exists \\(meeting {str(MID)[:8]}\\)"):
        reg.take("meeting|||1", other, "第1回幹事会", ACTOR)
    reg.take("meeting|||1", MID, "第1回幹事会", ACTOR)      # the same meeting again: nothing to record
    assert then(reg) == []
    reg.release("meeting|||1", other, ACTOR)                 # not its ordinal: nothing
    assert then(reg) == []
    reg.release("meeting|||1", MID, ACTOR)
    reg.take("meeting|||1", other, "第1回幹事会", ACTOR)
    events = then(reg)
    assert [type(e) for e in events] == [OrdinalReleased, OrdinalTaken]
    assert events[1].meeting_id == other and reg.taken == {"meeting|||1": other}


def test_ordinal_registers_are_per_owner_and_fiscal_year():
    assert OrdinalRegister.id_for(BODY, 2023) != OrdinalRegister.id_for(BODY, 2024)
    assert OrdinalRegister.id_for(BODY, 2023) != OrdinalRegister.id_for(PROG, 2023)
    assert OrdinalRegister.id_for(BODY, 2023) == OrdinalRegister.id_for(BODY, 2023)


# --- narrative ---------------------------------------------------------------------------------

def test_narrative_write_cleans_paragraphs_and_an_unchanged_text_is_refused():
    nid = Narrative.id_for(2023, BODY)
    n = given(Narrative, nid, (NarrativeWritten, {"fiscal_year": 2023, "target": "body", "target_id": BODY,
                                                  "paragraphs": ["幹事会を3回開催した。"]}))
    with pytest.raises(DomainError, match="unchanged"):
        n.write(2023, "body", BODY, ["  幹事会を3回開催した。  ", "   "], ACTOR)
    with pytest.raises(DomainError, match="at most 100 paragraphs"):
        n.write(2023, "body", BODY, [str(i) for i in range(101)], ACTOR)
    n.write(2023, "body", BODY, ["第一段落。", "", "第二段落。"], ACTOR)
    [e] = then(n)
    assert isinstance(e, NarrativeWritten) and e.paragraphs == ["第一段落。", "第二段落。"] and e.originator_version == 2
