"""Meetings and activities in the console: the list, scheduling, and one item's page with its forms.

- ``/console/meetings[?fiscal_year=令和5年度]`` — the year's meetings and activities.
- ``/console/meetings/new`` — schedule a meeting (fields ``body``, ``ordinal``, ``date``, ``format``
  as on the command line, and the optional ones); after saving, its page, with the CLI's
  weekend/holiday warning when it applies.
- ``/console/meetings/{id}`` — details (dates with their weekday), history in JST, and the forms:
  ``reschedule``, ``change``, ``cancel`` (a confirmation page first), ``reinstate``, ``hold``,
  ``agenda`` (add), ``outcome``, ``withdraw``, ``attendance``, ``answer`` and ``vote`` (a member's
  出欠回答 / 書面表決 recorded by the clerk).  Each POST goes to ``/console/meetings/{id}/<form>`` and
  calls the application command of the same name as the CLI.  The section 「出欠回答・書面表決」 shows
  what ``kyogikai meeting answers`` shows (the same query), and ``/console/meetings/{id}/answers.csv``
  is its ``--csv``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable
from urllib.parse import quote
from uuid import UUID

from pydantic import ValidationError
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ... import answers as ans
from ... import dates
from ...app import ConflictError, UserError
from ...dates import DateError
from ...domain.events import MAX_COUNT, MAX_ORDER, DomainError
from ...domain.formats import Format, FormatError, label_of
from ...domain.meeting import KIND_LABELS, Attendance, Kind
from ...projections import organisation as org_rm
from ...projections import participation as part_rm
from ...projections import schedule as sched_rm
from . import Ctx, expect_version, messages
from .forms import DATE_HELP, FORMAT_CHOICES, Form, date_ja, period_ja, rest_day_warning

STATUS_JA = {"scheduled": "予定", "held": "開催済", "cancelled": "中止"}
ATTENDANCE_JA = {"present": "出席", "absent": "欠席", "replied": "回答あり（書面）", "no_reply": "回答なし（書面）"}
EVENT_JA = {
    "MeetingScheduled": "登録", "MeetingRescheduled": "日程変更", "MeetingDetailsChanged": "内容変更",
    "MeetingCancelled": "中止", "MeetingReinstated": "中止の取消し", "MeetingHeld": "開催を記録",
    "AgendaItemAdded": "議題を追加", "AgendaItemWithdrawn": "議題を取下げ", "OutcomeRecorded": "結果を記録",
    "AttendanceRecorded": "出欠を記録", "ParticipationRecorded": "参加を記録", "DrillResultRecorded": "訓練結果を記録",
}
DONE = {
    "scheduled": "予定を登録しました。", "rescheduled": "日程を変更しました。", "changed": "内容を変更しました。",
    "cancelled": "中止にしました。", "reinstated": "中止を取り消しました。", "held": "開催済みとして記録しました。",
    "agenda": "議題を追加しました。", "outcome": "結果を記録しました。", "withdrawn": "議題を取り下げました。",
    "attendance": "出欠を記録しました。", "participants": "参加団体を記録しました。", "result": "訓練結果を記録しました。",
    "answer": "出欠回答を記録しました。", "vote": "書面表決を記録しました。",
    "answer_same": "同じ出欠回答がすでに記録されています（変更はありません）。",
    "vote_same": "同じ表決がすでに記録されています（変更はありません）。",
}
ANSWER_CHOICES = {"present": "出席", "proxy": "代理出席", "absent": "欠席"}
VOTE_CHOICES = {"for": "賛成", "against": "反対", "abstain": "棄権"}
APP_ERRORS = (UserError, DomainError, DateError, FormatError)


def _item(ctx: Ctx, row: dict[str, Any]) -> dict[str, Any]:
    app = ctx.app
    return {**row, "label": app.label(row["kind"], row["ordinal"], row["part"], row["series"], row["title"],
                                      row["body_id"], row["speaker"], row["refers_to"]),
            "when": period_ja(row["start_date"], row["end_date"], row["precision"]),
            "format_ja": label_of(Format(row["format"]), row["format_label"]) if row["format"] else "",
            "status_ja": STATUS_JA.get(row["status"], row["status"]),
            "kind_ja": "" if row["kind"] == "meeting" else KIND_LABELS[Kind(row["kind"])]}


def upcoming(ctx: Ctx, limit: int = 10) -> list[dict[str, Any]]:
    ctx.app.sync()
    today = ctx.console.site.today().isoformat()
    ids = ctx.app.read(sched_rm.upcoming_ids, today, limit)
    return [_item(ctx, ctx.app.rows(sched_rm.MEETINGS, id=i)[0]) for i in ids]


def list_page(ctx: Ctx) -> Response:
    q = ctx.request.query_params.get("fiscal_year", "").strip()
    form = Form({"fiscal_year": q})
    fy = dates.fiscal_year(ctx.console.site.today())
    if q:
        try:
            fy = dates.parse_fiscal_year(q)
        except DateError:
            form.error("fiscal_year", "年度を読み取れません（例: 令和5年度、R5、2023）。")
    items = []
    paths = ctx.app.body_paths()
    for m in ctx.app.meetings(fiscal_year=fy):
        row = ctx.app.rows(sched_rm.MEETINGS, id=m["id"])[0]
        items.append({**_item(ctx, row), "where": "/".join(paths[row["body_id"]][1:]) if row["body_id"] else m["programme"]})
    return ctx.render("console_meetings.html", items=items, fy=fy, fy_ja=dates.format_fiscal_year(fy), form=form,
                      status=400 if not form.ok else 200)


# --- scheduling ---------------------------------------------------------------------------------

NEW_FIELDS = ("kind", "body", "ordinal", "date", "format", "start_time", "end_time", "title", "venue", "agenda",
              "part", "series", "refers_to")


def _choices(ctx: Ctx) -> dict[str, Any]:
    ctx.app.sync()
    paths = ctx.app.body_paths()
    live = {b["id"] for b in ctx.app.rows(org_rm.BODIES) if not b["dissolved_on"]}
    return {"body_paths": sorted("/".join(p[1:]) for bid, p in paths.items() if bid in live),
            "format_choices": FORMAT_CHOICES, "date_help": DATE_HELP}


def new_page(ctx: Ctx) -> Response:
    return ctx.render("console_meeting_new.html", form=Form({"kind": "meeting"}), **_choices(ctx))


def new_submit(ctx: Ctx) -> Response:
    form = ctx.form
    kind = form.get("kind") or "meeting"
    if kind not in ("meeting", "vote", "redeliberation"):
        form.error("kind", "種類を選んでください。")
    body = form.text("body", required=True, limit=300)
    ordinal = form.integer("ordinal", 1, MAX_ORDER)
    part = form.integer("part", 1, MAX_ORDER)
    period = form.period("date")
    fmt, label = form.format("format")
    start_time, end_time = form.time("start_time"), form.time("end_time")
    title, venue, series = form.text("title", limit=200), form.text("venue", limit=200), form.text("series", limit=200)
    refers = form.text("refers_to", limit=80)
    if kind != "meeting" and not refers:
        form.error("refers_to", "採決・再審議の対象となる会議のIDを入力してください。")
    agenda = form.lines("agenda")
    if form.ok:
        try:
            r = ctx.app.schedule(kind=kind, body=body, period=period, start_time=start_time, end_time=end_time,
                                 ordinal=ordinal, part=part, series=series, title=title,
                                 refers_to=refers if kind != "meeting" else None, format=fmt, format_label=label,
                                 venue=venue, agenda=agenda)
        except ConflictError:
            form.error(None, messages.CONFLICT)
        except APP_ERRORS as exc:
            form.app_error(exc, None, NEW_FIELDS)
        except ValidationError as exc:
            form.error(None, _validation(exc))
        else:
            warn = "&warn=rest" if rest_day_warning(period, fmt) else ""
            return ctx.console.redirect(f"/console/meetings/{r.id}?done=scheduled{warn}")
    return ctx.render("console_meeting_new.html", status=409 if form.message == messages.CONFLICT else 400,
                      form=form, **_choices(ctx))


ACTIVITY_KINDS = {k.value: KIND_LABELS[k] for k in Kind if not k.is_meeting}
MODES_JA = {"on_site": "現地", "remote": "リモート", "interview": "ヒアリング"}
ACTIVITY_FIELDS = ("kind", "programme", "body", "ordinal", "part", "series", "title", "speaker", "date", "format",
                   "start_time", "end_time", "venue", "agenda", "modes")


def _activity_choices(ctx: Ctx) -> dict[str, Any]:
    return {**_choices(ctx), "programmes": [p["name"] for p in ctx.app.rows(org_rm.PROGRAMMES, order=("ord",))
                                             if not p["dissolved_on"]],
            "kinds": ACTIVITY_KINDS, "modes_ja": MODES_JA}


def activity_new_page(ctx: Ctx) -> Response:
    return ctx.render("console_activity_new.html", form=Form({"kind": "training"}), selected_modes=[],
                      **_activity_choices(ctx))


def activity_new_submit(ctx: Ctx) -> Response:
    form = ctx.form
    kind = form.get("kind")
    if kind not in ACTIVITY_KINDS:
        form.error("kind", "種類を選んでください。")
    programme, body = form.text("programme", limit=300), form.text("body", limit=300)
    if not programme and not body:
        form.error("programme", "事業（または会議体）を入力してください。")
    ordinal, part = form.integer("ordinal", 1, MAX_ORDER), form.integer("part", 1, MAX_ORDER)
    period = form.period("date")
    fmt, label = form.format("format", required=False)
    start_time, end_time = form.time("start_time"), form.time("end_time")
    title, venue = form.text("title", limit=200), form.text("venue", limit=200)
    series, speaker = form.text("series", limit=200), form.text("speaker", limit=200)
    modes = [m for m in ctx.data.get("__all__", {}).get("modes", []) if m]
    if any(m not in MODES_JA for m in modes):
        form.error("modes", "監査の方法を選び直してください。")
    agenda = form.lines("agenda")
    if form.ok:
        try:
            r = ctx.app.schedule(kind=kind, programme=programme, body=body, period=period, start_time=start_time,
                                 end_time=end_time, ordinal=ordinal, part=part, series=series, title=title,
                                 speaker=speaker, format=fmt, format_label=label, venue=venue, modes=modes,
                                 agenda=agenda)
        except ConflictError:
            form.error(None, messages.CONFLICT)
        except APP_ERRORS as exc:
            form.app_error(exc, None, ACTIVITY_FIELDS)
        except ValidationError as exc:
            form.error(None, _validation(exc))
        else:
            warn = "&warn=rest" if rest_day_warning(period, fmt) else ""
            return ctx.console.redirect(f"/console/meetings/{r.id}?done=scheduled{warn}")
    return ctx.render("console_activity_new.html", status=409 if form.message == messages.CONFLICT else 400,
                      form=form, selected_modes=modes, **_activity_choices(ctx))


def _validation(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(x) for x in err.get("loc", ())) or "input"
    return f"入力を受け付けられません（{where}: {err.get('msg', 'invalid')}）。"


# --- one meeting ----------------------------------------------------------------------------------

def _load(ctx: Ctx) -> dict[str, Any] | None:
    ctx.app.sync()
    mid = str(ctx.request.path_params["id"])
    rows = ctx.app.rows(sched_rm.MEETINGS, id=mid)
    if not rows:
        return None
    row = rows[0]
    item = _item(ctx, row)
    events = ctx.app.store.load(UUID(mid))
    agenda = ctx.app.rows(sched_rm.AGENDA, order=("pos",), meeting_id=mid)
    current = [a for a in agenda if not a["withdrawn"]]
    members = {m["id"]: m for m in ctx.app.rows(org_rm.MEMBERS)}
    recorded = {a["member_id"]: a["attendance"] for a in ctx.app.rows(part_rm.ATTENDANCE, meeting_id=mid)}
    roster_ids: list[str] = []
    if row["body_id"]:
        for r in ctx.app.rows(org_rm.ROSTER, owner_id=row["body_id"]):
            if r["since"] <= row["end_date"] and (r["until"] is None or r["until"] >= row["start_date"]):
                roster_ids.append(r["member_id"])
    ids = list(dict.fromkeys(roster_ids + list(recorded)))
    attendance = sorted(({"id": i, "name": members[i]["name"] if i in members else i, "status": recorded.get(i)}
                         for i in ids), key=lambda a: a["name"])
    history = [{"at": e.timestamp, "actor": e.actor, "what": EVENT_JA.get(type(e).__name__, type(e).__name__),
                "data": _summary(e, members)} for e in events]
    single = row["start_date"] == row["end_date"] and row["precision"] == dates.DAY
    rest = dates.rest_day(dt.date.fromisoformat(row["start_date"])) if single and row["format"] != "written" else None
    took_part = {p["member_id"] for p in ctx.app.rows(part_rm.PARTICIPATION, meeting_id=mid) if p["took_part"]}
    results = [{**r, "name": members[r["member_id"]]["name"] if r["member_id"] in members else r["member_id"]}
               for r in ctx.app.rows(part_rm.DRILL_RESULTS, meeting_id=mid)]
    live_members = sorted((m for m in members.values() if not m["dissolved_on"]), key=lambda m: m["name"])
    return {"took_part": took_part, "results": results, "all_members": live_members,
            "m": item, "version": len(events), "agenda": current, "withdrawn": [a for a in agenda if a["withdrawn"]],
            "attendance": attendance, "history": history[::-1], "rest": rest,
            "ref_label": _ref_label(ctx, row)}


def _ref_label(ctx: Ctx, row: dict[str, Any]) -> str | None:
    if not row["refers_to"]:
        return None
    r = ctx.app.rows(sched_rm.MEETINGS, id=row["refers_to"])
    return _item(ctx, r[0])["label"] if r else None


def _summary(e: Any, members: dict[str, Any]) -> str:
    p = e.payload()
    name = type(e).__name__
    if name in ("MeetingScheduled", "MeetingRescheduled", "MeetingHeld") and p.get("start"):
        s, en = p["start"], p.get("end") or p["start"]
        text = period_ja(s, en, p.get("precision") or "day")
        if p.get("start_time"):
            text += f" {p['start_time'][:5]}" + (f"～{p['end_time'][:5]}" if p.get("end_time") else "")
        if p.get("reason"):
            text += f"（理由: {p['reason']}）"
        return text
    if name == "MeetingCancelled":
        return f"理由: {p['reason']}" if p.get("reason") else ""
    if name == "AttendanceRecorded":
        m = members.get(str(p.get("member_id")))
        return f"{m['name'] if m else p.get('member_id')}: {ATTENDANCE_JA.get(p.get('attendance'), p.get('attendance'))}"
    if name in ("ParticipationRecorded", "DrillResultRecorded"):
        m = members.get(str(p.get("member_id")))
        rest = ", ".join(f"{k}={v}" for k, v in p.items() if k != "member_id" and v is not None)
        return f"{m['name'] if m else p.get('member_id')}" + (f"（{rest}）" if rest else "")
    if name in ("AgendaItemAdded",):
        return str(p.get("text", ""))
    if name == "OutcomeRecorded":
        return str(p.get("outcome", ""))
    if name == "MeetingDetailsChanged":
        return "、".join(f"{k}: {p.get(k) or '（なし）'}" for k in p.get("changed", []))
    return ""


def detail_page(ctx: Ctx, form: Form | None = None, target: str | None = None, status: int = 200) -> Response:
    data = _load(ctx)
    if data is None:
        return ctx.console.site.not_found(ctx.request)
    q = ctx.request.query_params
    done = DONE.get(q.get("done", "")) if form is None else None
    warn = None
    if q.get("warn") == "rest" and form is None and data["rest"]:
        warn = (f"{date_ja(data['m']['start_date'])}は{data['rest']}です（土日・祝日）。このまま登録しました。"
                "日付に誤りがないか確認してください。")
    m = data["m"]
    answers = None
    if m["kind"] in ans.MEETING_KINDS and m["body_id"]:
        answers = ans.meeting_answers(ctx.app, m["id"])
        answers = {**answers, "answer_by_ja": date_ja(answers["meeting"]["answer_by"]), "rows": [{**r, "text": ans.row_text(answers, r)} for r in answers["rows"]],
                   "items": [{**i, "outcome_text": ans.outcome_text(answers, i)} for i in answers["items"]]}
    current = Form({"title": m["title"] or "", "format": m["format_ja"] or "", "venue": m["venue"] or ""})
    return ctx.render("console_meeting.html", status=status, form=form or Form(), blank=Form(), current=current,
                      target=target, done=done,
                      warn=warn, date_help=DATE_HELP, format_choices=FORMAT_CHOICES, attendance_ja=ATTENDANCE_JA,
                      answers=answers, answer_choices=ANSWER_CHOICES, vote_choices=VOTE_CHOICES, **data)


def _act(name: str, fields: tuple[str, ...], command: Callable[[Ctx, Form, str], Any]) -> Callable[[Ctx], Response]:
    """A form on the meeting page: stale check, parse, call the command, redirect or show the errors."""

    def handler(ctx: Ctx) -> Response:
        ctx.app.sync()
        mid = str(ctx.request.path_params["id"])
        if not ctx.app.rows(sched_rm.MEETINGS, id=mid):
            return ctx.console.site.not_found(ctx.request)
        form = ctx.form
        version = len(ctx.app.store.load(UUID(mid)))
        if form.get("version") != str(version):
            form.error(None, messages.STALE)
            return detail_page(ctx, form, name, 409)
        outcome: Any = None
        try:
            with expect_version(ctx.app, mid, version):
                outcome = command(ctx, form, mid)
        except ConflictError:
            form.error(None, messages.CONFLICT)
            return detail_page(ctx, form, name, 409)
        except APP_ERRORS as exc:
            form.app_error(exc, fields[0] if fields else None, fields)
        except ValidationError as exc:
            form.error(None, _validation(exc))
        if isinstance(outcome, Response):
            return outcome
        if not form.ok:
            return detail_page(ctx, form, name, 400)
        done = outcome if isinstance(outcome, str) else name
        return ctx.console.redirect(f"/console/meetings/{mid}?done={quote(done)}#{name}")

    handler.__name__ = f"meeting_{name}"
    return handler


def _reschedule(ctx: Ctx, form: Form, mid: str) -> Any:
    period = form.period("date")
    st, et = form.time("start_time"), form.time("end_time")
    reason = form.text("reason", limit=200)
    if not form.ok:
        return None
    r = ctx.app.reschedule(mid, period, st, et, reason)
    return "rescheduled" + ("&warn=rest" if r.warnings else "")


def _change(ctx: Ctx, form: Form, mid: str) -> Any:
    changes: dict[str, Any] = {}
    for f in ("title", "venue"):
        if form.get(f):
            changes[f] = form.text(f, limit=200)
    if form.get("format"):
        changes["format"], changes["format_label"] = form.format("format")
    if not changes and form.ok:
        form.error(None, "変更する項目（名称・開催形式・会場）を入力してください。")
    if not form.ok:
        return None
    ctx.app.change_details(mid, **changes)
    return "changed"


def _cancel(ctx: Ctx, form: Form, mid: str) -> Any:
    reason = form.text("reason", limit=200)
    if not form.ok:
        return None
    if form.get("confirm") != "yes":  # the confirmation page first; nothing written yet
        data = _load(ctx)
        return ctx.render("console_meeting_cancel.html", form=form, **(data or {}))
    ctx.app.cancel(mid, reason)
    return "cancelled"


def _reinstate(ctx: Ctx, form: Form, mid: str) -> Any:
    ctx.app.reinstate(mid)
    return "reinstated"


def _hold(ctx: Ctx, form: Form, mid: str) -> Any:
    period = form.period("date", required=False)
    st, et = form.time("start_time"), form.time("end_time")
    if not form.ok:
        return None
    ctx.app.hold(mid, period, st, et)
    return "held"


def _agenda(ctx: Ctx, form: Form, mid: str) -> Any:
    items = form.lines("agenda")
    if not items:
        form.error("agenda", "議題を入力してください（1行に1件）。")
        return None
    ctx.app.add_agenda(mid, items)
    return "agenda"


def _outcome(ctx: Ctx, form: Form, mid: str) -> Any:
    item, outcome = form.get("item"), form.text("outcome", required=True, limit=200)
    if not form.ok:
        return None
    ctx.app.record_outcome(mid, item, outcome)
    return "outcome"


def _withdraw(ctx: Ctx, form: Form, mid: str) -> Any:
    ctx.app.withdraw_agenda(mid, form.get("item"))
    return "withdrawn"


def _attendance(ctx: Ctx, form: Form, mid: str) -> Any:
    members = {m["id"]: m for m in ctx.app.rows(org_rm.MEMBERS)}
    recorded = {a["member_id"]: a["attendance"] for a in ctx.app.rows(part_rm.ATTENDANCE, meeting_id=mid)}
    entries = []
    for key, value in form.values.items():
        if not key.startswith("att_") or not value:
            continue
        member_id = key[4:]
        if member_id not in members or value not in {a.value for a in Attendance}:
            form.error(None, "出欠の入力を読み取れません。ページを開き直してください。")
            return None
        if recorded.get(member_id) != value:
            entries.append((members[member_id]["code"] or members[member_id]["name"], value))
    if not entries:
        form.error(None, "変更された出欠がありません。")
        return None
    ctx.app.record_attendance(mid, entries)
    return "attendance"


def _participants(ctx: Ctx, form: Form, mid: str) -> Any:
    members = {m["id"]: m for m in ctx.app.rows(org_rm.MEMBERS)}
    chosen = [v for v in ctx.data.get("__all__", {}).get("took_part", []) if v]
    if any(c not in members for c in chosen):
        form.error(None, "参加団体の入力を読み取れません。ページを開き直してください。")
        return None
    done = {p["member_id"] for p in ctx.app.rows(part_rm.PARTICIPATION, meeting_id=mid) if p["took_part"]}
    new = [members[c]["code"] or members[c]["name"] for c in chosen if c not in done]
    if not new:
        form.error(None, "新しく記録する参加団体がありません。")
        return None
    ctx.app.record_participation(mid, new)
    return "participants"


def _result(ctx: Ctx, form: Form, mid: str) -> Any:
    member = form.text("member", required=True, limit=200)
    sent = form.integer("mails_sent", 0, MAX_COUNT, required=True)
    opened = form.integer("links_opened", 0, MAX_COUNT, required=True)
    reported = form.integer("reported", 0, MAX_COUNT)
    if not form.ok:
        return None
    ctx.app.record_drill_result(mid, member or "", sent or 0, opened or 0, reported)
    return "result"


def _answer(ctx: Ctx, form: Form, mid: str) -> Any:
    member = form.text("member", required=True, limit=300)
    if not form.get("answer"):
        form.error("answer", "出欠を選択してください。")
    if not form.ok:
        return None
    r = ans.record_answer(ctx.app, mid, form.get("answer"), member=member,
                          proxy=form.get("proxy") or None, comment=form.get("comment") or None)
    return "answer" if r.events else "answer_same"


def _vote(ctx: Ctx, form: Form, mid: str) -> Any:
    item = form.integer("item", 1, MAX_ORDER, required=True)
    member = form.text("member", required=True, limit=300)
    if not form.get("vote"):
        form.error("vote", "賛否を選択してください。")
    if not form.ok:
        return None
    r = ans.cast_vote(ctx.app, mid, item or 0, form.get("vote"), member=member)
    return "vote" if r.events else "vote_same"


def answers_csv(ctx: Ctx) -> Response:
    """``meeting answers --csv``: UTF-8 with a BOM, for Excel."""
    ctx.app.sync()
    mid = str(ctx.request.path_params["id"])
    rows = ctx.app.rows(sched_rm.MEETINGS, id=mid)
    if not rows or rows[0]["kind"] not in ans.MEETING_KINDS or not rows[0]["body_id"]:
        return ctx.console.site.not_found(ctx.request)
    body = ans.render_csv(ans.meeting_answers(ctx.app, mid))
    resp = Response(body, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="answers-{mid[:8]}.csv"'})
    resp.headers.update(ctx.console.headers)
    return resp


ACTIONS: dict[str, tuple[tuple[str, ...], Callable[[Ctx, Form, str], Any]]] = {
    "reschedule": (("date", "start_time", "end_time", "reason"), _reschedule),
    "change": (("title", "format", "venue"), _change),
    "cancel": (("reason",), _cancel),
    "reinstate": ((), _reinstate),
    "hold": (("date", "start_time", "end_time"), _hold),
    "agenda": (("agenda",), _agenda),
    "outcome": (("outcome", "item"), _outcome),
    "withdraw": (("item",), _withdraw),
    "attendance": ((), _attendance),
    "participants": ((), _participants),
    "result": (("member", "mails_sent", "links_opened", "reported"), _result),
    "answer": (("member", "answer", "proxy", "comment"), _answer),
    "vote": (("member", "item", "vote"), _vote),
}


def routes(p: Callable[..., Any]) -> list[BaseRoute]:
    out: list[BaseRoute] = [
        Route("/console/meetings", p(list_page)),
        Route("/console/meetings/new", p(new_page), methods=["GET"]),
        Route("/console/meetings/new", p(new_submit), methods=["POST"]),
        Route("/console/meetings/{id:uuid}", p(detail_page)),
        Route("/console/meetings/{id:uuid}/answers.csv", p(answers_csv), methods=["GET"]),
        Route("/console/activities/new", p(activity_new_page), methods=["GET"]),
        Route("/console/activities/new", p(activity_new_submit), methods=["POST"]),
    ]
    for name, (fields, command) in ACTIONS.items():
        out.append(Route(f"/console/meetings/{{id:uuid}}/{name}", p(_act(name, fields, command)), methods=["POST"]))
    return out
