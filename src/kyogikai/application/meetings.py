"""Meeting and activity commands: schedule, reschedule, change, cancel, reinstate, hold; agenda and
outcomes; attendance, participation and drill results; the report's narratives."""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterable, Sequence
from uuid import UUID

from ..roster import guest_check
from .. import dates
from ..dates import Period
from ..domain import meeting as mt
from ..domain.formats import Format
from ..i18n import M
from ..projections.narratives import NARRATIVES
from .context import Context, Result, UserError, retry_on_conflict, tokyo_today
from .names import Names
from .organisation import Organisation


class Meetings:
    def __init__(self, ctx: Context, names: Names, organisation: Organisation) -> None:
        self.ctx, self.names, self.organisation = ctx, names, organisation

    def meeting_agg(self, ref: str) -> mt.Meeting:
        """The meeting an id prefix names, with the read models brought up to date.

        A whole id (the console's forms, scripts using ``--json``) is loaded from the log at once: no
        read-model lookup first, so on PostgreSQL the command takes one round trip less.  Anything
        but a meeting's id goes the usual way (and gets its usual message)."""
        whole = ref.strip().lower()
        if len(whole) == 36 and self.ctx.store.cursor is None:
            try:
                mid = UUID(whole)
            except ValueError:
                mid = None
            events = self.ctx.store.load(mid) if mid is not None else []
            if events and isinstance(events[0], mt.MeetingScheduled):
                self.ctx.fresh_after_load()
                return mt.Meeting.replay(mid, events)
        return self.ctx._load(mt.Meeting, self.names.meeting_row(ref, fresh=True)["id"], "meeting")

    @retry_on_conflict
    def schedule(self, *, kind: str = "meeting", body: str | None = None, programme: str | None = None,
                 period: Period, start_time: dt.time | None = None, end_time: dt.time | None = None,
                 ordinal: int | None = None, part: int | None = None, series: str | None = None,
                 title: str | None = None, speaker: str | None = None, refers_to: str | None = None,
                 format: Format | None = None, format_label: str | None = None, venue: str | None = None,
                 modes: Sequence[str] = (), agenda: Sequence[str] = (), id: UUID | None = None,
                 answer_by: dt.date | None = None) -> Result:
        ctx, names = self.ctx, self.names
        ctx._fresh()
        try:
            k = mt.Kind(kind)
            audit_modes = [mt.AuditMode(x) for x in modes]
        except ValueError as exc:
            raise UserError(M("kind/mode: {reason}", reason=exc)) from None
        body_agg = self.organisation.body_agg(body) if body else None
        if body_agg is not None:
            body_agg.ensure_active(period.start)
            prog_id = body_agg.programme_id
            if programme and names.programme(programme)["id"] != str(prog_id):
                raise UserError(M("body {body!r} is not in programme {programme!r}", body=body, programme=programme))
        elif programme:
            prog_id = self.organisation.programme_agg(programme).id
        else:
            raise UserError(M("body: give --body (or --programme for an activity)"))
        ref = None
        if refers_to:
            ref = ctx._load(mt.Meeting, names.meeting_row(refers_to)["id"], "meeting")
        m = mt.Meeting.schedule(kind=k, programme_id=prog_id, body_id=body_agg.id if body_agg else None,
                                period=period, start_time=start_time, end_time=end_time, ordinal=ordinal, part=part,
                                series=series, title=title, speaker=speaker, refers_to=ref, format=format,
                                format_label=format_label, venue=venue, modes=audit_modes, agenda=list(agenda),
                                actor=ctx.actor, id=id)
        register = self._take_ordinal(m)
        warnings = self._date_warnings(period, format)
        from ..answers import deadline_sheet  # the answer deadline (回答期限) is saved with the meeting
        return Result(m.id, ctx._save(m, *register, *deadline_sheet(ctx, m, answer_by)), warnings)

    def _take_ordinal(self, m: mt.Meeting) -> list[mt.OrdinalRegister]:
        key = m.ordinal_key
        if key is None:
            return []
        rid = mt.OrdinalRegister.id_for(m.owner_id, m.fiscal_year)
        reg = self.ctx.store.get(mt.OrdinalRegister, rid) or mt.OrdinalRegister(rid)
        label = self.names.label(m.kind.value, m.ordinal, m.part, m.series, m.title, m.body_id, m.speaker)
        reg.take(key, m.id, M("{label} in {fiscal_year}", label=label, fiscal_year=dates.format_fiscal_year(m.fiscal_year)),
                 self.ctx.actor)
        return [reg]

    def _date_warnings(self, period: Period, format: Format | None) -> list[M]:
        warnings = []
        if far := dates.far_from_today(period.start, tokyo_today()):
            warnings.append(M("{detail}; recorded anyway (check the era and the year)", detail=far))
        if not period.is_single_day or format is Format.WRITTEN:
            return warnings
        why = dates.rest_day(period.start)
        if why:
            warnings.append(M("{date} ({era_date}) is a {why} (weekend or national holiday); scheduled anyway",
                              date=period.start.isoformat(), era_date=dates.format_date(period.start), why=why))
        return warnings

    def reschedule(self, ref: str, period: Period, start_time: dt.time | None = None,
                   end_time: dt.time | None = None, reason: str | None = None) -> Result:
        m = self.meeting_agg(ref)
        old_fy = m.fiscal_year
        m.reschedule(period, start_time, end_time, self.ctx.actor, reason)
        regs: list[mt.OrdinalRegister] = []
        if m.ordinal_key and m.fiscal_year != old_fy:
            old = self.ctx.store.get(mt.OrdinalRegister, mt.OrdinalRegister.id_for(m.owner_id, old_fy))
            if old is not None:
                old.release(m.ordinal_key, m.id, self.ctx.actor)
                regs.append(old)
            regs += self._take_ordinal(m)
        return Result(m.id, self.ctx._save(m, *regs), self._date_warnings(period, m.format))

    def change_details(self, ref: str, **changes: Any) -> Result:
        m = self.meeting_agg(ref)
        m.change_details(self.ctx.actor, **changes)
        return Result(m.id, self.ctx._save(m), [])

    def change_with_deadline(self, ref: str, answer_by: dt.date | None, **changes: Any) -> Result:
        """Change details and/or the answer deadline (回答期限) in one transaction."""
        from ..answers import deadline_sheet

        m = self.meeting_agg(ref)
        if changes:
            m.change_details(self.ctx.actor, **changes)
        return Result(m.id, self.ctx._save(m, *deadline_sheet(self.ctx, m, answer_by)), [])

    def cancel(self, ref: str, reason: str | None = None) -> Result:
        m = self.meeting_agg(ref)
        m.cancel(reason, self.ctx.actor)
        return Result(m.id, self.ctx._save(m), [])

    def reinstate(self, ref: str) -> Result:
        m = self.meeting_agg(ref)
        m.reinstate(self.ctx.actor)
        return Result(m.id, self.ctx._save(m), [])

    def hold(self, ref: str, period: Period | None = None, start_time: dt.time | None = None,
             end_time: dt.time | None = None) -> Result:
        m = self.meeting_agg(ref)
        m.hold(period, start_time, end_time, self.ctx.actor, today=tokyo_today())
        return Result(m.id, self.ctx._save(m), [])

    @retry_on_conflict
    def add_agenda(self, ref: str, texts: Iterable[str]) -> Result:
        m = self.meeting_agg(ref)
        for text in texts:
            m.add_agenda_item(text, self.ctx.actor)
        return Result(m.id, self.ctx._save(m), [])

    def withdraw_agenda(self, ref: str, item: str) -> Result:
        m = self.meeting_agg(ref)
        m.withdraw_agenda_item(m.agenda_item(item), self.ctx.actor)
        return Result(m.id, self.ctx._save(m), [])

    def record_outcome(self, ref: str, item: str, outcome: str) -> Result:
        m = self.meeting_agg(ref)
        m.record_outcome(m.agenda_item(item), outcome, self.ctx.actor)
        return Result(m.id, self.ctx._save(m), [])

    @retry_on_conflict
    def record_attendance(self, ref: str, entries: Sequence[tuple[str, str]], guest: bool = False) -> Result:
        m = self.meeting_agg(ref)
        is_guest = guest_check(self.ctx, m, guest)   # only roster members, or guests (roster.py)
        for member, status in entries:
            try:
                att = mt.Attendance(status)
            except ValueError:
                raise UserError(M("attendance: {status!r} is not one of {statuses}", status=status,
                                  statuses=", ".join(a.value for a in mt.Attendance))) from None
            row = self.names.member(member)
            m.record_attendance(UUID(row["id"]), att, self.ctx.actor, guest=is_guest(row))
        return Result(m.id, self.ctx._save(m), [])

    @retry_on_conflict
    def record_participation(self, ref: str, members: Sequence[str], took_part: bool = True,
                             guest: bool = False) -> Result:
        m = self.meeting_agg(ref)
        is_guest = guest_check(self.ctx, m, guest)   # only roster members, or guests (roster.py)
        for member in members:
            row = self.names.member(member)
            m.record_participation(UUID(row["id"]), took_part, self.ctx.actor, guest=is_guest(row))
        return Result(m.id, self.ctx._save(m), [])

    @retry_on_conflict
    def record_drill_result(self, ref: str, member: str, mails_sent: int, links_opened: int,
                            reported: int | None = None, guest: bool = False) -> Result:
        m = self.meeting_agg(ref)
        row = self.names.member(member)
        m.record_drill_result(UUID(row["id"]), mails_sent, links_opened, reported, self.ctx.actor,
                              guest=guest_check(self.ctx, m, guest)(row))   # roster.py
        return Result(m.id, self.ctx._save(m), [])

    def write_narrative(self, fy: int, paragraphs: list[str], *, body: str | None = None,
                        programme: str | None = None) -> Result:
        self.ctx._fresh()
        if body:
            target, tid = "body", UUID(self.names.body(body)["id"])
        elif programme:
            target, tid = "programme", UUID(self.names.programme(programme)["id"])
        else:
            raise UserError(M("narrative: give --body or --programme"))
        nid = mt.Narrative.id_for(fy, tid)
        written = self.ctx.rows(NARRATIVES, fiscal_year=fy, target_id=str(tid))   # see Context.rows
        n = (self.ctx.store.get(mt.Narrative, nid) if written else None) or mt.Narrative(nid)
        n.write(fy, target, tid, paragraphs, self.ctx.actor)
        return Result(n.id, self.ctx._save(n), [])
