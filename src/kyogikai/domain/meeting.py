"""Meetings (会議) of bodies and activities (研修, 監査, 訓練, 講演, 説明会 …) of programmes or bodies.

One aggregate, :class:`Meeting`, serves both: they share the date and format model and the
lifecycle (scheduled → rescheduled … → held, or cancelled), so feeds, the report and the
participation records treat them alike.  ``kind`` tells them apart.

Decisions:
- The date is a :class:`~kyogikai.dates.Period` (a day, a period of days, or months) plus optional
  start/end times in Asia/Tokyo; times need a single day.
- Ordinals (第N回) are unique per owner (body, or programme for activities), fiscal year, kind
  group, series and part.  :class:`OrdinalRegister` (one per owner and fiscal year) holds them, and
  is saved in the same transaction as the meeting, so two clerks cannot take the same ordinal.
- ``refers_to`` names an earlier meeting whose agenda a vote (採決) or a re-deliberation (再審議)
  takes up again; the report renders it as 「第2回ワーキンググループの一部議題に係る採決」.
- A cancelled meeting stays a fact: it keeps its ordinal and is shown as cancelled (【中止】 in the
  report, STATUS:CANCELLED in feeds); ``reinstate`` corrects a cancellation made by mistake.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import ClassVar
from uuid import UUID, uuid4

from ..dates import DAY, Period, fiscal_year, format_date
from ..i18n import M, N_
from .events import MAX_COUNT, MAX_ORDER, Aggregate, DomainError, DomainEvent, check_int, stable_id
from .text import block, one_line

MAX_AGENDA = 200
from .formats import Format


class Kind(str, Enum):
    MEETING = "meeting"
    VOTE = "vote"                      # 採決 on an earlier meeting's agenda
    REDELIBERATION = "redeliberation"  # 再審議
    TRAINING = "training"
    AUDIT = "audit"
    DRILL = "drill"
    LECTURE = "lecture"
    BRIEFING = "briefing"
    DEBRIEFING = "debriefing"
    ACTIVITY = "activity"              # any other programme activity

    @property
    def is_meeting(self) -> bool:
        return self in (Kind.MEETING, Kind.VOTE, Kind.REDELIBERATION)


KIND_LABELS = {
    Kind.MEETING: "会議", Kind.VOTE: "採決", Kind.REDELIBERATION: "再審議", Kind.TRAINING: "研修",
    Kind.AUDIT: "監査", Kind.DRILL: "訓練", Kind.LECTURE: "講演", Kind.BRIEFING: "説明会",
    Kind.DEBRIEFING: "報告会", Kind.ACTIVITY: "活動",
}


# the kinds named in messages (M(kind.value)): English as the values, the catalogue has KIND_LABELS' Japanese
KIND_NAMES = (N_("meeting"), N_("vote"), N_("redeliberation"), N_("training"), N_("audit"), N_("drill"), N_("lecture"),
              N_("briefing"), N_("debriefing"), N_("activity"))


class Status(str, Enum):
    SCHEDULED = "scheduled"
    HELD = "held"
    CANCELLED = "cancelled"


class Attendance(str, Enum):
    PRESENT = "present"
    ABSENT = "absent"
    REPLIED = "replied"      # a reply to a written deliberation
    NO_REPLY = "no_reply"


class AuditMode(str, Enum):
    ON_SITE = "on_site"
    REMOTE = "remote"
    INTERVIEW = "interview"


class When(DomainEvent):
    """Mixin of the date fields (never stored on its own)."""
    start: dt.date
    end: dt.date
    precision: str = DAY
    start_time: dt.time | None = None
    end_time: dt.time | None = None

    @property
    def period(self) -> Period:
        return Period(self.start, self.end, self.precision)


class MeetingScheduled(When):
    kind: Kind
    programme_id: UUID
    body_id: UUID | None = None
    ordinal: int | None = None
    part: int | None = None
    series: str | None = None
    title: str | None = None
    speaker: str | None = None
    refers_to: UUID | None = None
    format: Format | None = None
    format_label: str | None = None
    venue: str | None = None
    modes: list[AuditMode] = []


class MeetingRescheduled(When):
    """Moved to another date or period.

    Schema evolution: v2 adds ``reason`` (why it moved — 会場の都合により; shown by ``history`` and
    ``log``).  It has no default, so an event stored in the v1 shape only loads through
    :meth:`upcast_v1_v2`, which records that no reason was given.
    """

    class_version: ClassVar[int] = 2
    reason: str | None

    @staticmethod
    def upcast_v1_v2(state: dict) -> dict:
        return {**state, "reason": None}


class MeetingDetailsChanged(DomainEvent):
    """Title, format or venue changed; only the fields named in ``changed`` are meant."""
    changed: list[str]
    title: str | None = None
    format: Format | None = None
    format_label: str | None = None
    venue: str | None = None


class MeetingCancelled(DomainEvent):
    reason: str | None = None


class MeetingReinstated(DomainEvent):
    pass


class MeetingHeld(When):
    pass


class AgendaItemAdded(DomainEvent):
    item_id: UUID
    text: str


class AgendaItemWithdrawn(DomainEvent):
    item_id: UUID


class OutcomeRecorded(DomainEvent):
    item_id: UUID
    outcome: str


def _no_guest(state: dict) -> dict:
    return {**state, "guest": False}


class AttendanceRecorded(DomainEvent):
    """Schema evolution: v2 adds ``guest`` (recorded with ``--guest`` for an organisation not on the
    roster); events stored in the v1 shape load as not a guest."""

    class_version: ClassVar[int] = 2
    member_id: UUID
    attendance: Attendance
    guest: bool = False

    upcast_v1_v2 = staticmethod(_no_guest)


class ParticipationRecorded(DomainEvent):
    """v2 adds ``guest``, as :class:`AttendanceRecorded`."""

    class_version: ClassVar[int] = 2
    member_id: UUID
    took_part: bool = True
    guest: bool = False

    upcast_v1_v2 = staticmethod(_no_guest)


class DrillResultRecorded(DomainEvent):
    """v2 adds ``guest``, as :class:`AttendanceRecorded`."""

    class_version: ClassVar[int] = 2
    member_id: UUID
    mails_sent: int
    links_opened: int
    reported: int | None = None
    guest: bool = False

    upcast_v1_v2 = staticmethod(_no_guest)


# the texts _text names in messages (M(what)), for the catalogue
_TEXTS = (N_("series"), N_("title"), N_("speaker"), N_("format label"), N_("format_label"), N_("venue"), N_("reason"),
          N_("agenda item"), N_("outcome"))


def _text(value: str | None, what: str, limit: int = 500) -> str | None:
    if value is None:
        return None
    value = one_line(value, what)
    if not value:
        return None
    if len(value) > limit:
        raise DomainError(M("{what} is longer than {limit} characters", what=M(what), limit=limit))
    return value


def check_when(period: Period, start_time: dt.time | None, end_time: dt.time | None) -> None:
    if (start_time or end_time) and not period.is_single_day:
        raise DomainError(M("start/end times need a single-day date, not a period"))
    if end_time and not start_time:
        raise DomainError(M("an end time needs a start time"))
    if start_time and end_time and end_time <= start_time:
        raise DomainError(M("end time {end_time:%H:%M} is not after start time {start_time:%H:%M}", end_time=end_time,
                             start_time=start_time))


class Meeting(Aggregate):
    kind: Kind
    status: Status

    @classmethod
    def schedule(cls, *, kind: Kind, programme_id: UUID, body_id: UUID | None, period: Period,
                 start_time: dt.time | None = None, end_time: dt.time | None = None,
                 ordinal: int | None = None, part: int | None = None, series: str | None = None,
                 title: str | None = None, speaker: str | None = None, refers_to: "Meeting | None" = None,
                 format: Format | None = None, format_label: str | None = None, venue: str | None = None,
                 modes: list[AuditMode] | None = None, agenda: list[str] = (), actor: str,  # type: ignore[assignment]
                 id: UUID | None = None) -> "Meeting":
        if kind.is_meeting and body_id is None:
            raise DomainError(M("a {kind} needs a body", kind=M(kind.value)))
        if ordinal is not None:
            check_int(ordinal, "ordinal", 1, MAX_ORDER)
        if part is not None:
            check_int(part, "part", 1, MAX_ORDER)
        if len(agenda) > MAX_AGENDA:
            raise DomainError(M("agenda: at most {limit} items, not {count}", limit=MAX_AGENDA, count=len(agenda)))
        if part is not None and not series and kind.is_meeting is False and not title:
            raise DomainError(M("a part (第N部) needs a series or a title"))
        if kind in (Kind.VOTE, Kind.REDELIBERATION) and refers_to is None:
            raise DomainError(M("a {kind} refers to an earlier meeting (--refers-to)", kind=M(kind.value)))
        if refers_to is not None:
            if refers_to.body_id != body_id:
                raise DomainError(M("the referred meeting belongs to another body"))
            if refers_to.period.start > period.start:
                raise DomainError(M("the referred meeting is later than this one"))
        if kind is Kind.LECTURE and not speaker:
            raise DomainError(M("a lecture needs a speaker organisation (--speaker)"))
        check_when(period, start_time, end_time)
        m = cls(id or uuid4())
        m.trigger(MeetingScheduled, actor, kind=kind, programme_id=programme_id, body_id=body_id,
                  ordinal=ordinal, part=part, series=_text(series, "series"), title=_text(title, "title"),
                  speaker=_text(speaker, "speaker"), refers_to=refers_to.id if refers_to else None,
                  start=period.start, end=period.end, precision=period.precision,
                  start_time=start_time, end_time=end_time, format=format, format_label=_text(format_label, "format label"),
                  venue=_text(venue, "venue"), modes=list(modes or []))
        for text in agenda:
            m.add_agenda_item(text, actor)
        return m

    def apply_MeetingScheduled(self, e: MeetingScheduled) -> None:
        self.kind, self.programme_id, self.body_id = e.kind, e.programme_id, e.body_id
        self.ordinal, self.part, self.series, self.title = e.ordinal, e.part, e.series, e.title
        self.speaker, self.refers_to = e.speaker, e.refers_to
        self.period, self.start_time, self.end_time = e.period, e.start_time, e.end_time
        self.format, self.format_label, self.venue, self.modes = e.format, e.format_label, e.venue, e.modes
        self.status = Status.SCHEDULED
        self.agenda: dict[UUID, dict] = {}
        self.attendance: dict[UUID, Attendance] = {}

    # -- ordinal key, used by OrdinalRegister --------------------------------------------------
    @property
    def owner_id(self) -> UUID:
        return self.body_id or self.programme_id

    @property
    def fiscal_year(self) -> int:
        return fiscal_year(self.period.start)

    @property
    def ordinal_key(self) -> str | None:
        if self.ordinal is None:
            return None
        group = "meeting" if self.kind.is_meeting else self.kind.value
        return f"{group}|{self.series or ''}|{self.part or ''}|{self.ordinal}"

    # -- lifecycle ------------------------------------------------------------------------------
    def _open(self, doing: str) -> None:
        if self.status is Status.CANCELLED:
            raise DomainError(M("cannot {doing}: the {kind} was cancelled", doing=M(doing), kind=M(self.kind.value)))

    def reschedule(self, period: Period, start_time: dt.time | None, end_time: dt.time | None, actor: str,
                   reason: str | None = None) -> None:
        self._open(N_("reschedule"))
        if self.status is Status.HELD:
            raise DomainError(M("cannot reschedule: it was already held (record the actual dates with hold)"))
        check_when(period, start_time, end_time)
        if (period, start_time, end_time) == (self.period, self.start_time, self.end_time):
            raise DomainError(M("the new date is the same as the current one"))
        self.trigger(MeetingRescheduled, actor, start=period.start, end=period.end, precision=period.precision,
                     start_time=start_time, end_time=end_time, reason=_text(reason, "reason"))

    def apply_MeetingRescheduled(self, e: MeetingRescheduled) -> None:
        self.period, self.start_time, self.end_time = e.period, e.start_time, e.end_time

    def change_details(self, actor: str, **changes: object) -> None:
        self._open(N_("change it"))
        changes = {k: v for k, v in changes.items() if getattr(self, k) != v}
        if not changes:
            raise DomainError(M("nothing to change: the details are the same"))
        for k in ("title", "venue", "format_label"):
            if k in changes:
                changes[k] = _text(changes[k], k)  # type: ignore[arg-type]
        self.trigger(MeetingDetailsChanged, actor, changed=sorted(changes), **changes)

    def apply_MeetingDetailsChanged(self, e: MeetingDetailsChanged) -> None:
        for k in e.changed:
            setattr(self, k, getattr(e, k))

    def cancel(self, reason: str | None, actor: str) -> None:
        self._open(N_("cancel"))
        if self.status is Status.HELD:
            raise DomainError(M("cannot cancel: it was already held"))
        self.trigger(MeetingCancelled, actor, reason=_text(reason, "reason"))

    def apply_MeetingCancelled(self, e: MeetingCancelled) -> None:
        self.status = Status.CANCELLED

    def reinstate(self, actor: str) -> None:
        if self.status is not Status.CANCELLED:
            raise DomainError(M("cannot reinstate: it is not cancelled"))
        self.trigger(MeetingReinstated, actor)

    def apply_MeetingReinstated(self, e: MeetingReinstated) -> None:
        self.status = Status.SCHEDULED

    def hold(self, period: Period | None, start_time: dt.time | None, end_time: dt.time | None, actor: str,
             today: dt.date | None = None) -> None:
        """Record that it took place (on the planned dates, or on ``period`` and the times given).

        With ``today`` (the council's calendar day), a meeting that starts after today cannot have
        been held yet.  A meeting already recorded as held takes a correction of its actual dates or
        times the same way (a new event); the same dates and times again are refused."""
        self._open(N_("record it as held"))
        period = period or self.period
        if today is not None and period.start > today:
            raise DomainError(M("it starts on {date} ({era_date}), after today ({today}): a meeting can be recorded "
                                "as held only once it has begun", date=period.start.isoformat(),
                                era_date=format_date(period.start), today=today.isoformat()))
        if period == self.period and start_time is None and end_time is None:
            start_time, end_time = self.start_time, self.end_time
        if self.status is Status.HELD and (period, start_time, end_time) == (self.period, self.start_time,
                                                                              self.end_time):
            raise DomainError(M("it is already recorded as held (give --date or times to correct what was recorded)"))
        check_when(period, start_time, end_time)
        self.trigger(MeetingHeld, actor, start=period.start, end=period.end, precision=period.precision,
                     start_time=start_time, end_time=end_time)

    def apply_MeetingHeld(self, e: MeetingHeld) -> None:
        self.status = Status.HELD
        self.period, self.start_time, self.end_time = e.period, e.start_time, e.end_time

    # -- agenda ---------------------------------------------------------------------------------
    def add_agenda_item(self, text: str, actor: str) -> UUID:
        self._open(N_("add an agenda item"))
        clean = _text(text, "agenda item")
        if not clean:
            raise DomainError(M("agenda item is empty"))
        if len(self.agenda) >= MAX_AGENDA:
            raise DomainError(M("agenda: a meeting has at most {limit} items", limit=MAX_AGENDA))
        if any(i["text"] == clean and not i["withdrawn"] for i in self.agenda.values()):
            raise DomainError(M("agenda item {item!r} is already on the agenda", item=clean))
        item_id = stable_id("agenda", self.id, len(self.agenda) + 1)
        self.trigger(AgendaItemAdded, actor, item_id=item_id, text=clean)
        return item_id

    def apply_AgendaItemAdded(self, e: AgendaItemAdded) -> None:
        self.agenda[e.item_id] = {"text": e.text, "withdrawn": False, "outcome": None}

    def agenda_item(self, ref: str) -> UUID:
        """An agenda item by 1-based position among the current items, by id prefix, or by its text."""
        current = [k for k, v in self.agenda.items() if not v["withdrawn"]]
        if ref.isdigit() and 1 <= int(ref) <= len(current):
            return current[int(ref) - 1]
        hits = [k for k in current if str(k).startswith(ref.lower()) or self.agenda[k]["text"] == ref]
        if len(hits) != 1:
            raise DomainError(M("agenda item {ref!r} not found: give its number (1..{count}) or its text", ref=ref,
                                count=len(current)))
        return hits[0]

    def withdraw_agenda_item(self, item_id: UUID, actor: str) -> None:
        self._open(N_("withdraw an agenda item"))
        self.trigger(AgendaItemWithdrawn, actor, item_id=item_id)

    def apply_AgendaItemWithdrawn(self, e: AgendaItemWithdrawn) -> None:
        self.agenda[e.item_id]["withdrawn"] = True

    def record_outcome(self, item_id: UUID, outcome: str, actor: str) -> None:
        clean = _text(outcome, "outcome")
        if not clean:
            raise DomainError(M("outcome is empty"))
        if self.agenda[item_id]["withdrawn"]:
            raise DomainError(M("the agenda item was withdrawn"))
        self.trigger(OutcomeRecorded, actor, item_id=item_id, outcome=clean)

    def apply_OutcomeRecorded(self, e: OutcomeRecorded) -> None:
        self.agenda[e.item_id]["outcome"] = e.outcome

    # -- who took part --------------------------------------------------------------------------
    def record_attendance(self, member_id: UUID, attendance: Attendance, actor: str, guest: bool = False) -> None:
        self._open(N_("record attendance"))
        if self.attendance.get(member_id) == attendance:
            raise DomainError(M("attendance is already recorded as {attendance}", attendance=attendance.value))
        self.trigger(AttendanceRecorded, actor, member_id=member_id, attendance=attendance, guest=guest)

    def apply_AttendanceRecorded(self, e: AttendanceRecorded) -> None:
        self.attendance[e.member_id] = e.attendance

    def record_participation(self, member_id: UUID, took_part: bool, actor: str, guest: bool = False) -> None:
        self._open(N_("record participation"))
        self.trigger(ParticipationRecorded, actor, member_id=member_id, took_part=took_part, guest=guest)

    def apply_ParticipationRecorded(self, e: ParticipationRecorded) -> None:
        pass

    def record_drill_result(self, member_id: UUID, mails_sent: int, links_opened: int, reported: int | None, actor: str,
                            guest: bool = False) -> None:
        if self.kind is not Kind.DRILL:
            raise DomainError(M("drill results belong to a drill"))
        for value, what in ((mails_sent, "mails sent"), (links_opened, "links opened"), (reported, "reported")):
            if value is not None:
                check_int(value, what, 0, MAX_COUNT)
        if links_opened > mails_sent:
            raise DomainError(M("links opened ({links_opened}) exceed mails sent ({mails_sent})", links_opened=links_opened,
                                mails_sent=mails_sent))
        self.trigger(DrillResultRecorded, actor, member_id=member_id, mails_sent=mails_sent,
                     links_opened=links_opened, reported=reported, guest=guest)

    def apply_DrillResultRecorded(self, e: DrillResultRecorded) -> None:
        pass


class OrdinalTaken(DomainEvent):
    key: str
    meeting_id: UUID


class OrdinalReleased(DomainEvent):
    key: str
    meeting_id: UUID


class OrdinalRegister(Aggregate):
    """The ordinals taken in one owner's fiscal year; saved atomically with the meeting."""

    @staticmethod
    def id_for(owner_id: UUID, fy: int) -> UUID:
        return stable_id("ordinals", owner_id, fy)

    def __init__(self, id: UUID) -> None:
        super().__init__(id)
        self.taken: dict[str, UUID] = {}

    def take(self, key: str, meeting_id: UUID, label: str | M, actor: str) -> None:
        if key in self.taken and self.taken[key] != meeting_id:
            raise DomainError(M("duplicate ordinal: {label} already exists (meeting {id})", label=label,
                                id=str(self.taken[key])[:8]))
        if key not in self.taken:
            self.trigger(OrdinalTaken, actor, key=key, meeting_id=meeting_id)

    def apply_OrdinalTaken(self, e: OrdinalTaken) -> None:
        self.taken[e.key] = e.meeting_id

    def release(self, key: str, meeting_id: UUID, actor: str) -> None:
        if self.taken.get(key) == meeting_id:
            self.trigger(OrdinalReleased, actor, key=key, meeting_id=meeting_id)

    def apply_OrdinalReleased(self, e: OrdinalReleased) -> None:
        self.taken.pop(e.key, None)


class NarrativeWritten(DomainEvent):
    fiscal_year: int
    target: str          # "programme" | "body"
    target_id: UUID
    paragraphs: list[str]


class Narrative(Aggregate):
    """The prose of one fiscal year's report about one programme or body; each write replaces it."""

    @staticmethod
    def id_for(fy: int, target_id: UUID) -> UUID:
        return stable_id("narrative", fy, target_id)

    def __init__(self, id: UUID) -> None:
        super().__init__(id)
        self.paragraphs: list[str] = []

    def write(self, fy: int, target: str, target_id: UUID, paragraphs: list[str], actor: str) -> None:
        paragraphs = [block(p, f"paragraph {i}").strip() for i, p in enumerate(paragraphs, start=1)]
        paragraphs = [p for p in paragraphs if p]
        check_int(fy, "fiscal year", 1868, 9999)
        if len(paragraphs) > 100:
            raise DomainError(M("a narrative has at most {limit} paragraphs, not {count}", limit=100, count=len(paragraphs)))
        if any(len(p) > 5000 for p in paragraphs):
            raise DomainError(M("a narrative paragraph is longer than {limit} characters", limit=5000))
        if paragraphs == self.paragraphs:
            raise DomainError(M("the narrative is unchanged"))
        self.trigger(NarrativeWritten, actor, fiscal_year=fy, target=target, target_id=target_id, paragraphs=paragraphs)

    def apply_NarrativeWritten(self, e: NarrativeWritten) -> None:
        self.paragraphs = list(e.paragraphs)
