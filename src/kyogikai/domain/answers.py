"""Members' answers before a meeting (出欠回答) and their votes in a written deliberation (書面表決). No I/O.

One aggregate per meeting, :class:`AnswerSheet` (id derived from the meeting's id), holds the
meeting's answer deadline (回答期限), every member organisation's attendance answer and every
written vote.  It is saved in the same transaction as the meeting when a deadline is set on
scheduling; answers and votes are saved on their own.  The meeting's state (date, status, format,
agenda) and the body's roster at the meeting's date are passed in by the application, which reads
them; every rule is decided here.

Rules (the decisions, also in the README under "Answers and written votes"):

- **Who**: only a member organisation on the body's roster at the meeting's first day (the roster
  as the participation records define it) may answer or vote; others are refused.  Only meetings
  of a body (kind meeting, vote, redeliberation) take answers; activities do not.
- **Answers**: ``present`` (出席), ``proxy`` (代理出席, with the proxy's name, at most 100
  characters; a proxy name with any other answer is refused) or ``absent`` (欠席); a comment of at
  most 500 characters.  A meeting held in writing (format ``written``) takes votes, not attendance
  answers.
- **Deadline** (回答期限): ``answer_by`` when set, else the day before the first day (a written
  deliberation: its last day).  Members answer through their link until the end of that day
  (Asia/Tokyo); after it only a clerk can record or change an answer.  ``answer_by`` must be
  before the first day (a written deliberation: on or before its last day).
- **Closed**: a cancelled meeting, a meeting recorded as held, and a past meeting take no answers
  and no votes from anyone.  Past means its first day has begun in Asia/Tokyo (today ≥ first day);
  a written deliberation is open until its last day has ended (today > last day).
- **Votes**: ``for`` (賛成), ``against`` (反対) or ``abstain`` (棄権), per current (not withdrawn)
  agenda item given by its number (1 …), only for a meeting held in writing.  A member votes through
  its link until the deadline, a clerk on its behalf until the deliberation closes.
- **Outcome** of an item in a written deliberation: the outcome a clerk recorded, if any; otherwise
  derived from the votes cast (abstentions and members who did not answer are not votes cast):
  賛成 > 反対 gives 可決, otherwise (including a tie) 否決; no vote cast gives no outcome.  It is
  derived only once the deliberation has closed (held, or past its last day); before that the
  tally is shown as 集計中.
- **History**: every answer or vote is a new event that replaces the member's previous one in the
  read model; the log keeps them all (``kyogikai history``).  Recording the same answer (or vote)
  again writes nothing.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Iterable
from uuid import UUID

from ..dates import format_date
from ..i18n import M, N_
from .events import Aggregate, DomainError, DomainEvent, stable_id
from .formats import Format
from .meeting import Meeting, Status

PROXY_MAX = 100
COMMENT_MAX = 500


class Answer(str, Enum):
    PRESENT = "present"
    PROXY = "proxy"
    ABSENT = "absent"


class Vote(str, Enum):
    FOR = "for"
    AGAINST = "against"
    ABSTAIN = "abstain"


class Via(str, Enum):
    MEMBER = "member"   # the member organisation itself, through its private link
    CLERK = "clerk"     # a clerk on its behalf (phone, e-mail, paper)


ANSWER_JA = {"present": "出席", "proxy": "代理出席", "absent": "欠席"}
VOTE_JA = {"for": "賛成", "against": "反対", "abstain": "棄権"}
VIA_JA = {"member": "団体（専用リンク）", "clerk": "事務局"}
PASSED, REJECTED = "可決", "否決"


class AnswerRefused(DomainError):
    """A rule refused an answer or vote; the member's page words it its own way (the catalogue's
    ``member page`` context, see :mod:`kyogikai.web.answers`)."""

    def __init__(self, message: M) -> None:
        super().__init__(message)


class AnswerDeadlineSet(DomainEvent):
    meeting_id: UUID
    answer_by: dt.date


class AttendanceAnswered(DomainEvent):
    meeting_id: UUID
    member_id: UUID
    answer: Answer
    proxy: str | None = None
    comment: str | None = None
    via: Via
    token_id: UUID | None = None     # the private link used (never the secret), when via member


class WrittenVoteCast(DomainEvent):
    meeting_id: UUID
    member_id: UUID
    item_id: UUID
    vote: Vote
    via: Via
    token_id: UUID | None = None


_TOO_LONG = {"proxy": N_("proxy: at most {limit} characters"), "comment": N_("comment: at most {limit} characters")}


def _clean(value: str | None, what: str, limit: int) -> str | None:
    if value is None:
        return None
    value = " ".join(value.split())
    if not value:
        return None
    if len(value) > limit:
        raise AnswerRefused(M(_TOO_LONG[what], limit=limit))
    return value


def is_written(meeting: Meeting) -> bool:
    return meeting.format is Format.WRITTEN


def default_deadline(meeting: Meeting) -> dt.date:
    if is_written(meeting):
        return meeting.period.end
    return meeting.period.start - dt.timedelta(days=1)


def closed_reason(meeting: Meeting, today: dt.date) -> str | None:
    """Why the meeting takes no answers or votes any more (None while it does)."""
    if meeting.status is Status.CANCELLED:
        return "cancelled"
    if meeting.status is Status.HELD:
        return "held"
    if (today > meeting.period.end) if is_written(meeting) else (today >= meeting.period.start):
        return "past"
    return None


CLOSED_TEXT = {
    "cancelled": N_("the meeting was cancelled; it takes no answers"),
    "held": N_("the meeting is recorded as held; it takes no answers"),
    "past": N_("the meeting has begun or is past; it takes no answers"),
}


def derive_outcome(votes_for: int, votes_against: int) -> str | None:
    """Majority of the votes cast (abstentions are not cast): 可決 when for > against, else 否決."""
    if votes_for + votes_against == 0:
        return None
    return PASSED if votes_for > votes_against else REJECTED


def tally(votes: Iterable[str], members: int) -> dict[str, int]:
    """Counts of one item's votes among ``members`` roster members (votes by others are not passed in)."""
    counts = {"members": members, "for": 0, "against": 0, "abstain": 0}
    for v in votes:
        counts[v] += 1
    counts["not_answered"] = members - counts["for"] - counts["against"] - counts["abstain"]
    return counts


def tally_text(t: dict[str, int]) -> str:
    """「書面表決：賛成29、反対0、未回答5」 (棄権 only when someone abstained)."""
    parts = [f"賛成{t['for']}", f"反対{t['against']}"]
    if t["abstain"]:
        parts.append(f"棄権{t['abstain']}")
    parts.append(f"未回答{t['not_answered']}")
    return "書面表決：" + "、".join(parts)


class AnswerSheet(Aggregate):
    """The answers and written votes of one meeting, and its answer deadline."""

    @staticmethod
    def id_for(meeting_id: UUID) -> UUID:
        return stable_id("answers", meeting_id)

    def __init__(self, id: UUID) -> None:
        super().__init__(id)
        self.answer_by: dt.date | None = None
        self.answers: dict[UUID, tuple[Answer, str | None, str | None]] = {}
        self.votes: dict[tuple[UUID, UUID], Vote] = {}

    @classmethod
    def for_meeting(cls, meeting_id: UUID) -> "AnswerSheet":
        return cls(cls.id_for(meeting_id))

    # -- deadline --------------------------------------------------------------------------------
    def deadline(self, meeting: Meeting) -> dt.date:
        return self.answer_by or default_deadline(meeting)

    def set_deadline(self, meeting: Meeting, answer_by: dt.date, actor: str) -> None:
        self._check_meeting(meeting)
        if is_written(meeting):
            if answer_by > meeting.period.end:
                raise DomainError(M("--answer-by: {answer_by} is after the written deliberation's last day {end}",
                                    answer_by=answer_by, end=meeting.period.end))
        elif answer_by >= meeting.period.start:
            raise DomainError(M("--answer-by: {answer_by} is not before the meeting's first day {start}", answer_by=answer_by,
                                start=meeting.period.start))
        if answer_by == self.answer_by:
            return
        self.trigger(AnswerDeadlineSet, actor, meeting_id=meeting.id, answer_by=answer_by)

    def apply_AnswerDeadlineSet(self, e: AnswerDeadlineSet) -> None:
        self.answer_by = e.answer_by

    # -- shared checks ---------------------------------------------------------------------------
    def _check_meeting(self, meeting: Meeting) -> None:
        if self.id != self.id_for(meeting.id):
            raise DomainError(M("answer sheet of another meeting"))
        if not meeting.kind.is_meeting or meeting.body_id is None:
            raise AnswerRefused(M("answers: a {kind} takes no answers (only meetings of a body do)", kind=M(meeting.kind.value)))

    def _check_open(self, meeting: Meeting, member_id: UUID, roster: frozenset[UUID] | set[UUID], via: Via,
                    today: dt.date) -> None:
        self._check_meeting(meeting)
        if member_id not in roster:
            raise AnswerRefused(M("member: not on the body's roster at the meeting's date; only its members answer"))
        why = closed_reason(meeting, today)
        if why:
            raise AnswerRefused(M(CLOSED_TEXT[why]))
        deadline = self.deadline(meeting)
        if via is Via.MEMBER and today > deadline:
            raise AnswerRefused(M("answer: the deadline {deadline} ({era_date}) has passed; only the secretariat can change "
                                  "it now", deadline=deadline, era_date=format_date(deadline)))

    # -- attendance answers ----------------------------------------------------------------------
    def answer(self, meeting: Meeting, member_id: UUID, roster: frozenset[UUID] | set[UUID], answer: Answer,
               proxy: str | None, comment: str | None, via: Via, today: dt.date, actor: str,
               token_id: UUID | None = None) -> bool:
        """Record a member's attendance answer; False when it is the same as the current one (nothing written)."""
        self._check_open(meeting, member_id, roster, via, today)
        if is_written(meeting):
            raise AnswerRefused(M("answer: the meeting is held in writing; members vote on its items (meeting vote)"))
        proxy = _clean(proxy, "proxy", PROXY_MAX)
        comment = _clean(comment, "comment", COMMENT_MAX)
        if answer is Answer.PROXY and not proxy:
            raise AnswerRefused(M("proxy: give the name of who attends on the member's behalf"))
        if answer is not Answer.PROXY and proxy:
            raise AnswerRefused(M("proxy: only with the answer proxy"))
        if self.answers.get(member_id) == (answer, proxy, comment):
            return False
        self.trigger(AttendanceAnswered, actor, meeting_id=meeting.id, member_id=member_id, answer=answer,
                     proxy=proxy, comment=comment, via=via, token_id=token_id)
        return True

    def apply_AttendanceAnswered(self, e: AttendanceAnswered) -> None:
        self.answers[e.member_id] = (e.answer, e.proxy, e.comment)

    # -- written votes ---------------------------------------------------------------------------
    def vote(self, meeting: Meeting, item_number: int, member_id: UUID, roster: frozenset[UUID] | set[UUID],
             vote: Vote, via: Via, today: dt.date, actor: str, token_id: UUID | None = None) -> bool:
        """Record a member's vote on the agenda item numbered ``item_number``; False when unchanged."""
        self._check_meeting(meeting)
        if not is_written(meeting):
            raise AnswerRefused(M("vote: the meeting is not held in writing; votes are for written deliberations"))
        current = [k for k, v in meeting.agenda.items() if not v["withdrawn"]]
        if isinstance(item_number, bool) or not isinstance(item_number, int) or not 1 <= item_number <= len(current):
            raise AnswerRefused(M("--item: no agenda item {number!r}; the items are numbered 1..{count}", number=item_number,
                                  count=len(current)) if current else M("--item: the meeting has no agenda items"))
        self._check_open(meeting, member_id, roster, via, today)
        item_id = current[item_number - 1]
        if self.votes.get((item_id, member_id)) is vote:
            return False
        self.trigger(WrittenVoteCast, actor, meeting_id=meeting.id, member_id=member_id, item_id=item_id, vote=vote,
                     via=via, token_id=token_id)
        return True

    def apply_WrittenVoteCast(self, e: WrittenVoteCast) -> None:
        self.votes[(e.item_id, e.member_id)] = e.vote
