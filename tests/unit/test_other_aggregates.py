"""AnswerSheet, FeedToken, UserDirectory and Council: given events → command → new events, or the refusal."""

from __future__ import annotations

import datetime as dt
import hashlib
import pytest

from kyogikai.domain.answers import (
    AnswerDeadlineSet, Answer, AnswerRefused, AnswerSheet, AttendanceAnswered, Via, Vote, WrittenVoteCast,
    derive_outcome, tally, tally_text,
)
from kyogikai.domain.council import Council, CouncilSettingsChanged
from kyogikai.domain.events import DomainError
from kyogikai.domain.formats import Format
from kyogikai.domain.meeting import AgendaItemAdded, AgendaItemWithdrawn, Kind, Meeting, MeetingCancelled, MeetingHeld, MeetingScheduled
from kyogikai.domain.tokens import FeedToken, FeedTokenIssued, FeedTokenRevoked
from kyogikai.domain.users import Role, UserAdded, UserDirectory, UserDisabled, UserRoleChanged, check_name

from .support import ACTOR, uid, given, names, then

pytestmark = pytest.mark.unit

PROG, BODY = uid("programme"), uid("body")
A, B, OUTSIDER = uid("member A"), uid("member B"), uid("outsider")
ROSTER = frozenset({A, B})
MID = uid("meeting")
ITEM1, ITEM2 = uid("item 1"), uid("item 2")
D = dt.date(2023, 10, 11)            # a Wednesday meeting
WRITTEN_END = dt.date(2023, 10, 20)  # a written deliberation 10-11 … 10-20


def meeting(*more, **over):
    return given(Meeting, MID, (MeetingScheduled, {"kind": Kind.MEETING, "programme_id": PROG, "body_id": BODY,
                                                   "ordinal": 1, "start": D, "end": D, "format": Format.WEB, **over}),
                 *more)


def written(*more):
    return meeting((AgendaItemAdded, {"item_id": ITEM1, "text": "規約改正について"}),
                   (AgendaItemAdded, {"item_id": ITEM2, "text": "予算について"}), *more,
                   format=Format.WRITTEN, end=WRITTEN_END)


def sheet(*more):
    return given(AnswerSheet, AnswerSheet.id_for(MID), *more)


def answer(s, m, member=A, value=Answer.PRESENT, proxy=None, comment=None, via=Via.MEMBER,
           today=D - dt.timedelta(days=5)):
    return s.answer(m, member, ROSTER, value, proxy, comment, via, today, ACTOR)


# --- answers -----------------------------------------------------------------------------------

def test_an_answer_is_recorded_and_the_same_answer_again_writes_nothing():
    s, m = sheet(), meeting()
    assert answer(s, m, value=Answer.PROXY, proxy="  代理　太郎 ", comment="遅れて参加") is True
    [e] = then(s)
    assert isinstance(e, AttendanceAnswered)
    assert (e.meeting_id, e.member_id, e.answer, e.proxy, e.comment, e.via) == \
        (MID, A, Answer.PROXY, "代理 太郎", "遅れて参加", Via.MEMBER)
    assert answer(s, m, value=Answer.PROXY, proxy="代理 太郎", comment="遅れて参加") is False
    assert then(s) == []
    assert answer(s, m, value=Answer.ABSENT) is True
    assert names(then(s)) == ["AttendanceAnswered"]


@pytest.mark.parametrize("kw, message, ja", [
    ({"member": OUTSIDER}, "not on the body's roster", "構成団体ではない"),
    ({"value": Answer.PROXY}, "give the name", "代理出席者の氏名"),
    ({"value": Answer.PRESENT, "proxy": "誰か"}, "only with the answer proxy", "代理出席"),
    ({"comment": "x" * 501}, "at most 500 characters", "500文字以内"),
    ({"value": Answer.PROXY, "proxy": "x" * 101}, "at most 100 characters", "100文字以内"),
])
def test_answer_refusals_say_why_in_english_and_japanese(kw, message, ja):
    s = sheet()
    with pytest.raises(AnswerRefused, match=message) as info:
        answer(s, meeting(), **kw)
    # the member's page words a refusal in the catalogue's "member page" context (web/answers.py)
    assert ja in info.value.args[0].render("ja", context="member page")
    assert then(s) == []


def test_answer_deadline_the_day_before_by_default_then_only_a_clerk():
    s, m = sheet(), meeting()
    assert s.deadline(m) == D - dt.timedelta(days=1)
    assert answer(s, m, today=D - dt.timedelta(days=1)) is True                 # the deadline day itself
    # once the meeting's day has begun nobody answers, not even a clerk …
    with pytest.raises(AnswerRefused, match="has begun or is past") as info:
        answer(s, m, value=Answer.ABSENT, via=Via.CLERK, today=D)
    assert "開催日を過ぎた" in info.value.args[0].render("ja", context="member page")
    # … and between an explicit earlier deadline and the meeting only a clerk does
    s2 = sheet((AnswerDeadlineSet, {"meeting_id": MID, "answer_by": D - dt.timedelta(days=7)}))
    with pytest.raises(AnswerRefused, match=r"deadline 2023-10-04 \(令和5年10月4日\) has passed") as info:
        answer(s2, m, today=D - dt.timedelta(days=6))
    assert "令和5年10月4日" in info.value.args[0].render("ja", context="member page")
    assert then(s2) == []
    assert answer(s2, m, via=Via.CLERK, today=D - dt.timedelta(days=6)) is True
    assert then(s2)[0].via is Via.CLERK


def test_set_deadline_rules():
    s, m = sheet(), meeting()
    with pytest.raises(DomainError, match="not before the meeting's first day 2023-10-11"):
        s.set_deadline(m, D, ACTOR)
    s.set_deadline(m, D - dt.timedelta(days=3), ACTOR)
    [e] = then(s)
    assert isinstance(e, AnswerDeadlineSet) and e.answer_by == D - dt.timedelta(days=3)
    s.set_deadline(m, D - dt.timedelta(days=3), ACTOR)            # the same: nothing
    assert then(s) == []
    w = written()
    s.set_deadline(w, WRITTEN_END, ACTOR)                        # a written deliberation: up to its last day
    with pytest.raises(DomainError, match="after the written deliberation's last day"):
        s.set_deadline(w, WRITTEN_END + dt.timedelta(days=1), ACTOR)


@pytest.mark.parametrize("more, reason", [
    ((MeetingCancelled, {"reason": None}), "cancelled"),
    ((MeetingHeld, {"start": D, "end": D}), "recorded as held"),
])
def test_closed_meetings_take_no_answers_even_from_a_clerk(more, reason):
    with pytest.raises(AnswerRefused, match=reason):
        answer(sheet(), meeting(more), via=Via.CLERK)


def test_activities_and_another_meetings_sheet_take_no_answers():
    drill = meeting(kind=Kind.DRILL, body_id=None)
    with pytest.raises(AnswerRefused, match="a drill takes no answers"):
        answer(given(AnswerSheet, AnswerSheet.id_for(MID)), drill)
    with pytest.raises(DomainError, match="another meeting"):
        answer(given(AnswerSheet, AnswerSheet.id_for(uid("another meeting"))), meeting())


# --- written votes -----------------------------------------------------------------------------

def test_votes_by_item_number_replace_the_members_previous_vote():
    s, w = sheet(), written()
    today = D + dt.timedelta(days=2)
    assert s.vote(w, 2, A, ROSTER, Vote.FOR, Via.MEMBER, today, ACTOR) is True
    assert s.vote(w, 2, A, ROSTER, Vote.FOR, Via.MEMBER, today, ACTOR) is False
    assert s.vote(w, 2, A, ROSTER, Vote.AGAINST, Via.MEMBER, today, ACTOR) is True
    events = then(s)
    assert [type(e) for e in events] == [WrittenVoteCast, WrittenVoteCast]
    assert [(e.item_id, e.vote) for e in events] == [(ITEM2, Vote.FOR), (ITEM2, Vote.AGAINST)]


def test_vote_rules():
    s, w = sheet(), written((AgendaItemWithdrawn, {"item_id": ITEM1}))
    today = D + dt.timedelta(days=2)
    with pytest.raises(AnswerRefused, match="no agenda item 2; the items are numbered 1..1"):
        s.vote(w, 2, A, ROSTER, Vote.FOR, Via.MEMBER, today, ACTOR)
    s.vote(w, 1, A, ROSTER, Vote.FOR, Via.MEMBER, today, ACTOR)
    assert then(s)[0].item_id == ITEM2                       # numbers count items not withdrawn
    with pytest.raises(AnswerRefused, match="not held in writing"):
        s.vote(meeting(), 1, A, ROSTER, Vote.FOR, Via.MEMBER, today, ACTOR)
    with pytest.raises(AnswerRefused, match="held in writing; members vote"):
        answer(s, w, today=today)
    # open until its last day has ended; a member until the deadline (its last day by default)
    s.vote(w, 1, B, ROSTER, Vote.ABSTAIN, Via.MEMBER, WRITTEN_END, ACTOR)
    with pytest.raises(AnswerRefused, match="has begun or is past"):
        s.vote(w, 1, B, ROSTER, Vote.FOR, Via.CLERK, WRITTEN_END + dt.timedelta(days=1), ACTOR)
    assert names(then(s)) == ["WrittenVoteCast"]


def test_outcome_is_the_majority_of_votes_cast():
    assert derive_outcome(0, 0) is None
    assert derive_outcome(2, 1) == "可決"
    assert derive_outcome(1, 1) == "否決"
    t = tally(["for", "for", "abstain"], members=5)
    assert t == {"members": 5, "for": 2, "against": 0, "abstain": 1, "not_answered": 2}
    assert tally_text(t) == "書面表決：賛成2、反対0、棄権1、未回答2"
    assert tally_text(tally(["for"], members=2)) == "書面表決：賛成1、反対0、未回答1"


# --- feed tokens -------------------------------------------------------------------------------

HASH = hashlib.sha256(b"secret").hexdigest()


def test_a_token_records_only_the_hash_and_is_revoked_once():
    t = FeedToken.issue(A, HASH, " 担当者 ", ACTOR)
    [e] = then(t)
    assert isinstance(e, FeedTokenIssued) and (e.token_hash, e.label, e.member_id) == (HASH, "担当者", A)
    assert "secret" not in e.model_dump_json()
    assert t.id == FeedToken.id_for(HASH)
    t.revoke("端末紛失", ACTOR)
    [r] = then(t)
    assert isinstance(r, FeedTokenRevoked) and r.reason == "端末紛失"
    with pytest.raises(DomainError, match="already revoked"):
        t.revoke(None, ACTOR)


@pytest.mark.parametrize("token_hash", ["secret", HASH.upper(), HASH[:-1]])
def test_a_token_needs_a_sha256_hex_digest(token_hash):
    with pytest.raises(DomainError, match="64 lowercase hex"):
        FeedToken.issue(A, token_hash, None, ACTOR)


# --- console users -----------------------------------------------------------------------------

def users(*more):
    return given(UserDirectory, UserDirectory.ID, (UserAdded, {"name": "admin", "role": Role.ADMIN}), *more)


def test_names_are_folded_so_one_person_has_one_account():
    d = users()
    assert d.add("ＳＵＺＵＫＩ", Role.CLERK, ACTOR) == "suzuki"
    [e] = then(d)
    assert isinstance(e, UserAdded) and e.name == "suzuki"
    with pytest.raises(DomainError, match="'suzuki' already exists"):
        d.add("Suzuki", Role.ADMIN, ACTOR)
    for bad, message in (("", "empty"), ("a b", "no spaces"), ("x" * 65, "at most 64")):
        with pytest.raises(DomainError, match=message):
            check_name(bad)


def test_the_last_admin_cannot_be_demoted_or_disabled():
    d = users((UserAdded, {"name": "suzuki", "role": Role.CLERK}))
    with pytest.raises(DomainError, match="last admin"):
        d.change_role("admin", Role.CLERK, ACTOR)
    with pytest.raises(DomainError, match="last admin"):
        d.disable("ADMIN", ACTOR)
    d.change_role("suzuki", Role.ADMIN, ACTOR)
    d.disable("admin", ACTOR)
    assert [type(e) for e in then(d)] == [UserRoleChanged, UserDisabled]
    assert d.active_admins() == ["suzuki"]


def test_a_disabled_name_stays_taken():
    d = users((UserAdded, {"name": "tanaka", "role": Role.CLERK}), (UserDisabled, {"name": "tanaka"}))
    with pytest.raises(DomainError, match="disabled"):
        d.change_role("tanaka", Role.ADMIN, ACTOR)
    with pytest.raises(DomainError, match="already exists \\(disabled\\)"):
        d.add("tanaka", Role.CLERK, ACTOR)
    with pytest.raises(DomainError, match="no user 'nobody'"):
        d.disable("nobody", ACTOR)
    assert then(d) == []


# --- council settings --------------------------------------------------------------------------

def test_council_settings_every_event_holds_the_complete_settings():
    c = Council()
    assert c.settings()["name"] == "協議会" and c.settings()["named"] is False
    with pytest.raises(DomainError, match="no name yet"):
        c.change(ACTOR, short_name="推進協議会")
    assert c.change(ACTOR, name="あいち電子自治体推進協議会", short_name="推進協議会") is True
    assert c.change(ACTOR, base_url="https://kyogikai.example.lg.jp") is True
    first, second = then(c)
    assert isinstance(second, CouncilSettingsChanged)
    assert second.payload() == {"name": "あいち電子自治体推進協議会", "short_name": "推進協議会",
                                "base_url": "https://kyogikai.example.lg.jp", "document_font": "yu"}
    assert c.change(ACTOR, name="あいち電子自治体推進協議会") is False       # nothing changes: nothing recorded
    assert c.change(ACTOR, clear=("short_name",)) is True
    assert then(c)[0].short_name is None


def test_council_settings_refusals():
    c = given(Council, Council.ID, (CouncilSettingsChanged, {"name": "協議会A"}))
    with pytest.raises(DomainError, match="--document-font: 'gothic' is not one of yu, ms"):
        c.change(ACTOR, document_font="gothic")
    with pytest.raises(DomainError, match="--name: is empty"):
        c.change(ACTOR, name="   ")
    with pytest.raises(DomainError, match="longer than 100"):
        c.change(ACTOR, name="x" * 101)
    assert then(c) == []
