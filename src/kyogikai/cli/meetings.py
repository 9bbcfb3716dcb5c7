"""Commands for meetings (会議) and activities (研修, 監査, 訓練, 講演, 説明会 …), and the listing."""

from __future__ import annotations

import click

from ..app import UserError
from ..i18n import M
from ..domain.events import MAX_COUNT, MAX_ORDER
from ..domain.formats import label_of
from ..domain.meeting import KIND_LABELS, AuditMode, Kind
from .base import (State, cli, date_from, done, dump_json, fiscal_year_from, format_from, json_option, pass_app,
                   period_from,
                   time_from)

STATUS_JA = {"scheduled": "予定", "held": "開催済", "cancelled": "中止"}


def when_options(required: bool) -> list:
    return [
        click.option("--date", "date", help="A day or period: 令和5年5月24日, R5.5.24, 2023-05-24, 令和5年9月28日～10月5日, 令和5年7月～11月."),
        click.option("--start", help="First day (instead of --date)."),
        click.option("--end", help="Last day (with --start)."),
        click.option("--start-time", help="Start time, Asia/Tokyo (14:00)."),
        click.option("--end-time", help="End time, Asia/Tokyo."),
    ]


def with_options(options: list):
    def deco(f):
        for o in reversed(options):
            f = o(f)
        return f
    return deco


def _schedule(s: State, kind: str, body, programme, date, start, end, start_time, end_time, ordinal, part, series,
              title, speaker, refers_to, fmt, venue, agenda, modes, answer_by=None) -> None:
    period = period_from(date, start, end)
    f, label = format_from(fmt)
    r = s.app.schedule(kind=kind, body=body, programme=programme, period=period, start_time=time_from("--start-time", start_time),
                       end_time=time_from("--end-time", end_time), ordinal=ordinal, part=part, series=series, title=title,
                       speaker=speaker, refers_to=refers_to, format=f, format_label=label, venue=venue,
                       modes=modes, agenda=agenda, answer_by=date_from("--answer-by", answer_by))
    row = s.app.meetings()
    item = next(m for m in row if m["id"] == str(r.id))
    done(s.app, r, M("scheduled {label} ({dates})", label=item["label"],
                      dates=item["dates"] + ("、" + (label_of(f, label) or "") if f else "")),
         label=item["label"], dates=item["dates"])


COMMON = [
    click.option("--ordinal", type=click.IntRange(1, MAX_ORDER), help="第N回."),
    click.option("--part", type=click.IntRange(1, MAX_ORDER), help="第N部 of a series."),
    click.option("--series", help="Series name (先進事例研究・意見交換会)."),
    click.option("--title", help="Title where it is not just 第N回 + body (定期総会)."),
    click.option("--format", "fmt", help="web, written, in_person, hybrid, video, documents, other — or the report's label (Web会議, 書面開催 …)."),
    click.option("--venue", help="Venue (県自治センター)."),
    click.option("--agenda", multiple=True, help="Agenda item (審議事項); repeat for several."),
]


@cli.group()
def meeting() -> None:
    """Schedule meetings of bodies and follow them through their lifecycle."""


@meeting.command("schedule")
@json_option
@click.option("--body", required=True, help="Body name or path (幹事会, 情報セキュリティ研究会/セキュリティ監査グループ).")
@with_options(when_options(True))
@with_options(COMMON)
@click.option("--vote", "refers_vote", metavar="MEETING_ID", help="A vote (採決) on an earlier meeting's agenda.")
@click.option("--redeliberation", "refers_redelib", metavar="MEETING_ID", help="A re-deliberation (再審議) of an earlier meeting's agenda.")
@click.option("--answer-by", metavar="DATE", help="Answer deadline (回答期限) for members (default: the day before; written: its last day).")
@pass_app
def meeting_schedule(s: State, body, date, start, end, start_time, end_time, ordinal, part, series, title, fmt, venue,
                     agenda, refers_vote, refers_redelib, answer_by) -> None:
    """Schedule a meeting of a body."""
    if refers_vote and refers_redelib:
        raise UserError(M("--vote/--redeliberation: give one of them"))
    if fmt is None:
        raise UserError(M("--format: missing (web, written, in_person, hybrid, video, documents or a report label)"))
    kind = "vote" if refers_vote else "redeliberation" if refers_redelib else "meeting"
    _schedule(s, kind, body, None, date, start, end, start_time, end_time, ordinal, part, series, title, None,
              refers_vote or refers_redelib, fmt, venue, agenda, (), answer_by)


@cli.group()
def activity() -> None:
    """Trainings, audits, drills, lectures, briefings and debriefings."""


@activity.command("schedule")
@json_option
@click.option("--kind", type=click.Choice([k.value for k in Kind if not k.is_meeting]), required=True)
@click.option("--programme", help="Programme the activity belongs to.")
@click.option("--body", help="Body that runs it (instead of, or inside, --programme).")
@with_options(when_options(True))
@with_options(COMMON)
@click.option("--speaker", help="Speaker organisation of a lecture (愛知県警).")
@click.option("--mode", "modes", multiple=True, type=click.Choice([m.value for m in AuditMode]), help="Audit mode; repeat.")
@pass_app
def activity_schedule(s: State, kind, programme, body, date, start, end, start_time, end_time, ordinal, part, series,
                      title, fmt, venue, agenda, speaker, modes) -> None:
    """Schedule an activity of a programme or body."""
    _schedule(s, kind, body, programme, date, start, end, start_time, end_time, ordinal, part, series, title, speaker,
              None, fmt, venue, agenda, modes)


def lifecycle(group: click.Group) -> None:
    """The commands shared by meetings and activities."""

    @group.command("reschedule")
    @json_option
    @click.argument("id")
    @with_options(when_options(True))
    @click.option("--reason", help="Why it moved (会場の都合により); kept in the history.")
    @pass_app
    def reschedule(s: State, id, date, start, end, start_time, end_time, reason) -> None:
        """Move to another date or period (same id; feeds raise SEQUENCE)."""
        r = s.app.reschedule(id, period_from(date, start, end), time_from("--start-time", start_time),
                             time_from("--end-time", end_time), reason)
        done(s.app, r, M("rescheduled"))

    @group.command("change")
    @json_option
    @click.argument("id")
    @click.option("--title")
    @click.option("--format", "fmt")
    @click.option("--venue")
    @click.option("--answer-by", metavar="DATE", help="Answer deadline (回答期限) for members' answers and votes.")
    @pass_app
    def change(s: State, id, title, fmt, venue, answer_by) -> None:
        """Change title, format, venue or the answer deadline."""
        changes: dict = {}
        if title is not None:
            changes["title"] = title
        if venue is not None:
            changes["venue"] = venue
        if fmt is not None:
            changes["format"], changes["format_label"] = format_from(fmt)
        if answer_by is not None:
            done(s.app, s.app.change_with_deadline(id, date_from("--answer-by", answer_by), **changes), M("changed"))
            return
        if not changes:
            raise UserError(M("change: give --title, --format, --venue or --answer-by"))
        done(s.app, s.app.change_details(id, **changes), M("changed"))

    @group.command("cancel")
    @json_option
    @click.argument("id")
    @click.option("--reason")
    @pass_app
    def cancel(s: State, id, reason) -> None:
        """Cancel (it stays in the record as cancelled)."""
        done(s.app, s.app.cancel(id, reason), M("cancelled"))

    @group.command("reinstate")
    @json_option
    @click.argument("id")
    @pass_app
    def reinstate(s: State, id) -> None:
        """Undo a cancellation made by mistake."""
        done(s.app, s.app.reinstate(id), M("reinstated"))

    @group.command("hold")
    @json_option
    @click.argument("id")
    @with_options(when_options(False))
    @pass_app
    def hold(s: State, id, date, start, end, start_time, end_time) -> None:
        """Record it as held (with the actual dates when they differ)."""
        r = s.app.hold(id, period_from(date, start, end, required=False), time_from("--start-time", start_time),
                       time_from("--end-time", end_time))
        done(s.app, r, M("recorded as held"))

    @group.group("agenda")
    def agenda() -> None:
        """Agenda items (審議事項) and their outcomes."""

    @agenda.command("add")
    @json_option
    @click.argument("id")
    @click.argument("items", nargs=-1, required=True)
    @pass_app
    def agenda_add(s: State, id, items) -> None:
        done(s.app, s.app.add_agenda(id, items), M("added {count} agenda item(s)", count=len(items)))

    @agenda.command("withdraw")
    @json_option
    @click.argument("id")
    @click.argument("item")
    @pass_app
    def agenda_withdraw(s: State, id, item) -> None:
        done(s.app, s.app.withdraw_agenda(id, item), M("withdrew the agenda item"))

    @agenda.command("outcome")
    @json_option
    @click.argument("id")
    @click.argument("item")
    @click.argument("outcome")
    @pass_app
    def agenda_outcome(s: State, id, item, outcome) -> None:
        """Record an item's outcome (原案どおり承認 …); ITEM is its number or text."""
        done(s.app, s.app.record_outcome(id, item, outcome), M("recorded the outcome"))

    @group.command("attendance")
    @json_option
    @click.argument("id")
    @click.option("--present", multiple=True, metavar="MEMBER")
    @click.option("--absent", multiple=True, metavar="MEMBER")
    @click.option("--replied", multiple=True, metavar="MEMBER", help="Replied to a written deliberation.")
    @click.option("--no-reply", multiple=True, metavar="MEMBER")
    @click.option("--guest", is_flag=True, help="Also record organisations not on the roster, as guests.")
    @pass_app
    def attendance(s: State, id, present, absent, replied, no_reply, guest) -> None:
        """Record attendance per member organisation."""
        entries = [(m, st) for st, ms in (("present", present), ("absent", absent), ("replied", replied),
                                          ("no_reply", no_reply)) for m in ms]
        if not entries:
            raise UserError(M("attendance: give --present, --absent, --replied or --no-reply"))
        done(s.app, s.app.record_attendance(id, entries, guest=guest),
             M("recorded attendance of {count} member(s)", count=len(entries)))

    @group.command("participants")
    @json_option
    @click.argument("id")
    @click.argument("members", nargs=-1, required=True)
    @click.option("--guest", is_flag=True, help="Also record organisations not on the roster, as guests.")
    @pass_app
    def participants(s: State, id, members, guest) -> None:
        """Record the member organisations that took part."""
        done(s.app, s.app.record_participation(id, members, guest=guest), M("recorded {count} participant(s)", count=len(members)))

    @group.command("result")
    @json_option
    @click.argument("id")
    @click.argument("member")
    @click.option("--mails-sent", type=click.IntRange(0, MAX_COUNT), required=True)
    @click.option("--links-opened", type=click.IntRange(0, MAX_COUNT), required=True)
    @click.option("--reported", type=click.IntRange(0, MAX_COUNT))
    @click.option("--guest", is_flag=True, help="Also record organisations not on the roster, as guests.")
    @pass_app
    def result(s: State, id, member, mails_sent, links_opened, reported, guest) -> None:
        """Record a drill result for one member organisation."""
        done(s.app, s.app.record_drill_result(id, member, mails_sent, links_opened, reported, guest=guest),
             M("recorded the result"))


lifecycle(meeting)
lifecycle(activity)


@cli.command("meetings")
@click.option("--fiscal-year", help="2023, 令和5年度, R5.")
@click.option("--body", help="Only this body (name or path).")
@click.option("--kind", type=click.Choice([k.value for k in Kind]), help="Only this kind.")
@click.option("--json", "as_json", is_flag=True, help="JSON with each item's id, body, ordinal, dates, format and status.")
@pass_app
def meetings(s: State, fiscal_year, body, kind, as_json) -> None:
    """List meetings and activities with their stable ids."""
    items = s.app.meetings(fiscal_year_from(fiscal_year), body)
    if kind:
        items = [i for i in items if i["kind"] == kind]
    if as_json:
        dump_json(items)
        return
    if not items:
        click.echo(M("(none)"))
        return
    for i in items:
        fmt = label_of(i["format"], i["format_label"]) or ""
        if i["venue"]:
            fmt = f"{fmt} {i['venue']}".strip()
        when = i["dates"] + (f" {i['start_time']}" if i["start_time"] else "") + (f"～{i['end_time']}" if i["end_time"] else "")
        where = i["body_path"] or i["programme"]
        kind_ja = "" if i["kind"] == "meeting" else f"[{KIND_LABELS[Kind(i['kind'])]}] "
        click.echo(f"{i['id'][:8]}  {when}  {kind_ja}{i['label']}  {fmt}  {STATUS_JA[i['status']]}  ({where})")


from . import answers as _answers  # noqa: E402,F401  (meeting answer / answers / vote)
