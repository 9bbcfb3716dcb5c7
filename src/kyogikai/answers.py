"""Answers (出欠回答) and written votes (書面表決): the application commands and queries.

The CLI (``meeting answer``, ``meeting vote``, ``meeting answers``, ``--answer-by``) and the
member's page (``/private/<token>/``) call these same functions; every rule is decided by
:class:`kyogikai.domain.answers.AnswerSheet` (see its module docstring for the rules).  This module
only reads what the rules need — the meeting aggregate, the body's roster at the meeting's first
day from the read models, today's date in Asia/Tokyo — and saves the sheet (one transaction).

Who recorded an answer: ``via`` is ``member`` (through its private link; the actor is the member's
name and the link's id, never the secret) or ``clerk`` (the actor is the clerk's name).

Reading: :func:`meeting_answers` lists every roster member with its answer or none, and for a
written deliberation the tally per agenda item; :func:`member_meetings` is what the member's page
shows; :func:`tallies_for` gives the report its 「書面表決：…」 notes.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any, Iterable, Sequence
from uuid import UUID
from zoneinfo import ZoneInfo

from . import dates
from .i18n import M, N_
from .app import Kyogikai, Result, UserError, retry_on_conflict, tokyo_today
from .dates import Period
from .domain import answers as a
from .domain import meeting as mt
from .domain.naming import meeting_label
from .projections import answers as ans_rm
from .projections import organisation as org_rm
from .projections import schedule as sched_rm

TOKYO = ZoneInfo("Asia/Tokyo")
MEETING_KINDS = ("meeting", "vote", "redeliberation")


# == the roster ===================================================================================

def roster_at(rows: Any, body_id: str, day: dt.date) -> list[str]:
    """Member ids on a body's roster on ``day`` (as the participation records count them).

    The body's own roster; a body without one in a participating-member programme takes the
    programme's participants; any other body without a roster has nobody.  Members dissolved on
    or before ``day`` are not on it.
    """
    iso = day.isoformat()
    owner = body_id
    if not org_rm.has_roster(rows, body_id):
        body = rows.get(org_rm.BODIES, body_id)
        prog = rows.get(org_rm.PROGRAMMES, body["programme_id"]) if body else None
        if prog is None or prog["section"] != "participating":
            return []
        owner = prog["id"]
    return org_rm.roster_members_on(rows, owner, iso)


def _sort_members(members: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(members, key=lambda m: (m["code"] is None, m["code"] or "", m["name"]))


# == commands =====================================================================================

def _sheet(app: Kyogikai, meeting_id: UUID) -> a.AnswerSheet:
    return app.store.get(a.AnswerSheet, a.AnswerSheet.id_for(meeting_id)) or a.AnswerSheet.for_meeting(meeting_id)


def deadline_sheet(app: Kyogikai, meeting: mt.Meeting, answer_by: dt.date | None) -> list[a.AnswerSheet]:
    """The answer sheet with ``answer_by`` set, to save with the meeting (``[]`` when none is given)."""
    if answer_by is None:
        return []
    sheet = _sheet(app, meeting.id)
    sheet.set_deadline(meeting, answer_by, app.actor)
    return [sheet]


def _roster(app: Kyogikai, m: mt.Meeting) -> set[UUID]:
    with app.snapshot() as rows:
        return {UUID(x) for x in roster_at(rows, str(m.body_id), m.period.start)} if m.body_id else set()


def _member_actor(app: Kyogikai, member_id: UUID, token_id: str | None) -> str:
    rows = app.rows(org_rm.MEMBERS, id=str(member_id))
    name = rows[0]["name"] if rows else str(member_id)
    return f"{name}（専用リンク {token_id[:8]}）" if token_id else name


def _meeting_by_id(app: Kyogikai, meeting_id: str) -> mt.Meeting:
    try:
        mid = UUID(str(meeting_id))
    except ValueError:
        raise a.AnswerRefused(M("meeting: {id!r} is not a meeting id", id=meeting_id)) from None
    m = app.store.get(mt.Meeting, mid)
    if m is None:
        raise a.AnswerRefused(M("meeting: no meeting with id {id}", id=meeting_id))
    return m


_NOT_ONE_OF = {"--answer": N_("--answer: {value!r} is not one of {choices}"),
               "--vote": N_("--vote: {value!r} is not one of {choices}")}


def _parse(enum: type, value: str, field: str) -> Any:
    try:
        return enum(value)
    except ValueError:
        raise a.AnswerRefused(M(_NOT_ONE_OF[field], value=value, choices=", ".join(x.value for x in enum))) from None


def _who(app: Kyogikai, meeting: str, member: str | None, member_id: str | None,
         token_id: str | None) -> tuple[mt.Meeting, UUID, a.Via, str]:
    """The meeting, the member, and who records for it: the member through its link (``member_id``
    and ``token_id``; the full meeting id) or a clerk on its behalf (``member`` name; an id prefix)."""
    if member_id is not None:
        mid = UUID(member_id)
        return _meeting_by_id(app, meeting), mid, a.Via.MEMBER, _member_actor(app, mid, token_id)
    if not member:
        raise UserError(M("--member: give the member organisation"))
    m = app._load(mt.Meeting, app.meeting_row(meeting)["id"], "meeting")
    return m, UUID(app.member(member)["id"]), a.Via.CLERK, app.actor


@retry_on_conflict
def record_answer(app: Kyogikai, meeting: str, answer: str, *, member: str | None = None,
                  member_id: str | None = None, token_id: str | None = None, proxy: str | None = None,
                  comment: str | None = None, today: dt.date | None = None) -> Result:
    """Record an attendance answer: by a clerk (``member`` name) or by the member (``member_id`` + ``token_id``).

    ``meeting`` is an id prefix for a clerk, the full id from the member's page.
    """
    app.sync()
    choice = _parse(a.Answer, answer, "--answer")
    m, mid, via, actor = _who(app, meeting, member, member_id, token_id)
    sheet = _sheet(app, m.id)
    sheet.answer(m, mid, _roster(app, m), choice, proxy, comment, via, today or tokyo_today(), actor,
                 token_id=UUID(token_id) if token_id else None)
    return Result(m.id, app._save(sheet), [])


def cast_vote(app: Kyogikai, meeting: str, item: int, vote: str, *, member: str | None = None,
              member_id: str | None = None, token_id: str | None = None, today: dt.date | None = None) -> Result:
    """Record a written vote on agenda item number ``item``: by a clerk or by the member through its link."""
    return cast_votes(app, meeting, {item: vote}, member=member, member_id=member_id, token_id=token_id, today=today)


@retry_on_conflict
def cast_votes(app: Kyogikai, meeting: str, votes: dict[int, str], *, member: str | None = None,
               member_id: str | None = None, token_id: str | None = None, today: dt.date | None = None) -> Result:
    """Record written votes on several agenda items (number → vote) at once: all or nothing, one transaction."""
    app.sync()
    if not votes:
        raise a.AnswerRefused(M("--vote: give a vote for at least one agenda item"))
    choices = {n: _parse(a.Vote, v, "--vote") for n, v in votes.items()}
    m, mid, via, actor = _who(app, meeting, member, member_id, token_id)
    sheet = _sheet(app, m.id)
    roster, day = _roster(app, m), today or tokyo_today()
    for n, choice in sorted(choices.items()):
        sheet.vote(m, n, mid, roster, choice, via, day, actor, token_id=UUID(token_id) if token_id else None)
    return Result(m.id, app._save(sheet), [])


# == queries ======================================================================================

def _deadline(rows: Any, meeting: dict[str, Any]) -> dt.date:
    d = rows.get(ans_rm.DEADLINES, meeting["id"])
    if d is not None:
        return dt.date.fromisoformat(d["answer_by"])
    start, end = dt.date.fromisoformat(meeting["start_date"]), dt.date.fromisoformat(meeting["end_date"])
    return end if meeting["format"] == "written" else start - dt.timedelta(days=1)


def _closed(meeting: dict[str, Any], today: dt.date) -> str | None:
    """The domain's rule (:func:`kyogikai.domain.answers.closed_reason`) on a schedule row."""
    if meeting["status"] in ("cancelled", "held"):
        return meeting["status"]
    start, end = dt.date.fromisoformat(meeting["start_date"]), dt.date.fromisoformat(meeting["end_date"])
    return "past" if ((today > end) if meeting["format"] == "written" else (today >= start)) else None


def _item_tallies(rows: Any, meeting: dict[str, Any], roster: Sequence[str], today: dt.date) -> list[dict[str, Any]]:
    """Per current agenda item: the tally among roster members and the outcome (recorded, else derived)."""
    on = set(roster)
    votes: dict[str, list[str]] = {}
    for v in rows.find(ans_rm.VOTES, meeting_id=meeting["id"]):
        if v["member_id"] in on:
            votes.setdefault(v["item_id"], []).append(v["vote"])
    closed = _closed(meeting, today) in ("held", "past")
    out = []
    for n, item in enumerate((i for i in rows.find(sched_rm.AGENDA, order=("pos",), meeting_id=meeting["id"])
                              if not i["withdrawn"]), start=1):
        t = a.tally(votes.get(item["item_id"], []), len(on))
        derived = a.derive_outcome(t["for"], t["against"]) if closed else None
        out.append({"number": n, "item_id": item["item_id"], "text": item["text"], **t,
                    "outcome": item["outcome"] or derived,
                    "outcome_source": "recorded" if item["outcome"] else ("derived" if derived else None),
                    "tally_text": a.tally_text(t)})
    return out


def meeting_answers(app: Kyogikai, ref: str, today: dt.date | None = None) -> dict[str, Any]:
    """Every roster member of the meeting's body with its answer (or none), and the written tally."""
    today = today or tokyo_today()
    app.sync()
    row = app.meeting_row(ref)
    if row["kind"] not in MEETING_KINDS or not row["body_id"]:
        raise UserError(M("meeting {ref}: a {kind} takes no answers (only meetings of a body do)", ref=ref,
                          kind=M(row["kind"])))
    with app.snapshot() as rows:
        start = dt.date.fromisoformat(row["start_date"])
        roster = roster_at(rows, row["body_id"], start)
        members = _sort_members(rows.get(org_rm.MEMBERS, mid) for mid in roster)
        answers = {r["member_id"]: r for r in rows.find(ans_rm.ANSWERS, meeting_id=row["id"])}
        written = row["format"] == "written"
        items = _item_tallies(rows, row, roster, today) if written else []
        votes: dict[str, dict[int, str]] = {}
        pos = {i["item_id"]: i["number"] for i in items}
        for v in rows.find(ans_rm.VOTES, meeting_id=row["id"]):
            if v["item_id"] in pos:
                votes.setdefault(v["member_id"], {})[pos[v["item_id"]]] = v["vote"]
        deadline = _deadline(rows, row)
    out_rows = []
    for mem in members:
        ans = answers.get(mem["id"])
        out_rows.append({"member": mem["name"], "code": mem["code"],
                         "answer": ans["answer"] if ans else None, "proxy": ans["proxy"] if ans else None,
                         "comment": ans["comment"] if ans else None, "answered_at": ans["answered_at"] if ans else None,
                         "answered_by": ans["answered_by"] if ans else None, "via": ans["via"] if ans else None,
                         **({"votes": {str(k): v for k, v in sorted(votes.get(mem["id"], {}).items())}} if written else {})})
    label = app.label(row["kind"], row["ordinal"], row["part"], row["series"], row["title"], row["body_id"],
                      row["speaker"], row["refers_to"])
    counts = {k: sum(1 for r in out_rows if r["answer"] == k) for k in ("present", "proxy", "absent")}
    return {"meeting": {"id": row["id"], "label": label, "status": row["status"], "format": row["format"],
                        "dates": dates.format_period(Period(start, dt.date.fromisoformat(row["end_date"]),
                                                            row["precision"])),
                        "answer_by": deadline.isoformat(), "closed": _closed(row, today)},
            "written": written, "rows": out_rows,
            "counts": {**counts, "members": len(out_rows),
                       "not_answered": sum(1 for r in out_rows if (r["answer"] is None if not written else not r["votes"]))},
            "items": items}


def tallies_for(rows: Any, meetings: Iterable[dict[str, Any]], today: dt.date | None = None) -> dict[str, dict[str, str]]:
    """For the report: meeting id → {item id → 「書面表決：賛成29、反対0、未回答5」} where votes were recorded."""
    today = today or tokyo_today()
    out: dict[str, dict[str, str]] = {}
    for m in meetings:
        if m["format"] != "written" or m["kind"] not in MEETING_KINDS or not m["body_id"]:
            continue
        if not rows.find(ans_rm.VOTES, meeting_id=m["id"]):
            continue
        roster = roster_at(rows, m["body_id"], dt.date.fromisoformat(m["start_date"]))
        for t in _item_tallies(rows, m, roster, today):
            if t["for"] + t["against"] + t["abstain"]:
                out.setdefault(m["id"], {})[t["item_id"]] = t["tally_text"]
    return out


def member_meetings(app: Kyogikai, member_id: str, today: dt.date | None = None) -> list[dict[str, Any]]:
    """The meetings a member organisation can still answer or vote on (not closed), with its current answers.

    Cancelled meetings to come are listed too (as 中止, no form), so a member sees the change.
    """
    today = today or tokyo_today()
    out = []
    with app.snapshot() as rows:
        bodies = {b["id"]: b for b in rows.find(org_rm.BODIES)}
        candidates = sched_rm.body_meetings_from(rows, today.isoformat())
        for m in candidates:
            if m["kind"] not in MEETING_KINDS:
                continue
            closed = _closed(m, today)
            if closed in ("held", "past"):
                continue
            start = dt.date.fromisoformat(m["start_date"])
            roster = roster_at(rows, m["body_id"], start)
            if member_id not in roster:
                continue
            written = m["format"] == "written"
            ans = rows.get(ans_rm.ANSWERS, m["id"], member_id)
            items = []
            if written:
                mine = {v["item_id"]: v["vote"] for v in rows.find(ans_rm.VOTES, meeting_id=m["id"], member_id=member_id)}
                items = [{"number": n, "text": i["text"], "vote": mine.get(i["item_id"])} for n, i in enumerate(
                    (i for i in rows.find(sched_rm.AGENDA, order=("pos",), meeting_id=m["id"]) if not i["withdrawn"]),
                    start=1)]
            agenda = [i["text"] for i in rows.find(sched_rm.AGENDA, order=("pos",), meeting_id=m["id"]) if not i["withdrawn"]]
            deadline = _deadline(rows, m)
            body = bodies.get(m["body_id"])
            out.append({"id": m["id"], "status": m["status"], "written": written,
                        "label": _label(rows, bodies, m),
                        "body": body["name"] if body else "",
                        "dates": dates.format_period(Period(start, dt.date.fromisoformat(m["end_date"]), m["precision"])),
                        "start_time": m["start_time"], "format": m["format"], "format_label": m["format_label"],
                        "venue": m["venue"], "answer_by": deadline, "answer_by_text": dates.format_date(deadline),
                        "open": closed is None and today <= deadline, "cancelled": closed == "cancelled",
                        "answer": ans, "vote_items": items, "agenda": agenda})
    return out


def _label(rows: Any, bodies: dict[str, dict[str, Any]], m: dict[str, Any]) -> str:
    """The meeting's name (第1回幹事会 …) inside an open read transaction."""
    return meeting_label(m, lambda bid: bodies[bid]["name"] if bid in bodies else None,
                         lambda ref: rows.get(sched_rm.MEETINGS, ref))


# == rendering ====================================================================================

def answer_text(r: dict[str, Any]) -> str:
    if r.get("answer") is None:
        return "未回答"
    text = a.ANSWER_JA[r["answer"]]
    if r.get("proxy"):
        text += f"（{r['proxy']}）"
    return text


def row_text(rep: dict[str, Any], r: dict[str, Any]) -> str:
    """A row's answer as ``meeting answers`` shows it: 出席 / 代理出席（…） / 欠席 / 未回答, or 表決 1:賛成 2:反対."""
    if not rep["written"]:
        return answer_text(r)
    return "表決 " + " ".join(f"{k}:{a.VOTE_JA[v]}" for k, v in r["votes"].items()) if r["votes"] else "未回答"


def outcome_text(rep: dict[str, Any], item: dict[str, Any]) -> str:
    """An item's outcome as ``meeting answers`` shows it: 可決（表決による）, 否決（事務局記録）, 集計中 or ``""``."""
    if item["outcome"]:
        return item["outcome"] + ("（事務局記録）" if item["outcome_source"] == "recorded" else "（表決による）")
    return "" if rep["meeting"]["closed"] else "集計中"


def render_table(rep: dict[str, Any], pending: bool = False) -> str:
    m = rep["meeting"]
    out = [f"{m['label']}（{m['dates']}） 回答期限 {dates.format_date(dt.date.fromisoformat(m['answer_by']))}"]
    c = rep["counts"]
    if rep["written"]:
        out.append(f"構成団体 {c['members']}、未回答 {c['not_answered']}")
    else:
        out.append(f"構成団体 {c['members']}、出席 {c['present']}、代理出席 {c['proxy']}、欠席 {c['absent']}、"
                   f"未回答 {c['not_answered']}")
    rows = [r for r in rep["rows"] if not pending or _pending(rep, r)]
    for r in rows:
        ans = row_text(rep, r)
        when = ""
        if r["answered_at"]:
            t = dt.datetime.fromisoformat(r["answered_at"]).astimezone(TOKYO)
            when = f"  {t:%Y-%m-%d %H:%M} {r['answered_by']}"
        note = f"  {r['comment']}" if r["comment"] else ""
        out.append(f"  {r['member']}  {ans}{note}{when}")
    if not rows:
        out.append("  （なし）")
    for i in rep["items"]:
        outcome = f" → {outcome_text(rep, i)}" if outcome_text(rep, i) else ""
        out.append(f"議案{i['number']} {i['text']}：構成団体{i['members']}、賛成{i['for']}、反対{i['against']}、"
                   f"棄権{i['abstain']}、未回答{i['not_answered']}{outcome}")
    if rep["items"]:
        out.append("結果 = 投じられた票（賛成・反対、棄権を除く）の過半数：賛成が反対より多ければ可決、そうでなければ否決"
                   "（事務局が結果を記録した議案はその結果）")
    return "\n".join(out) + "\n"


def _pending(rep: dict[str, Any], r: dict[str, Any]) -> bool:
    return not r["votes"] if rep["written"] else r["answer"] is None


def json_rows(rep: dict[str, Any], pending: bool = False) -> list[dict[str, Any]]:
    keys = ("member", "answer", "proxy", "comment", "answered_at", "answered_by")
    return [{**{k: r[k] for k in keys}, **({"votes": r["votes"]} if rep["written"] else {})}
            for r in rep["rows"] if not pending or _pending(rep, r)]


def render_csv(rep: dict[str, Any], pending: bool = False) -> bytes:
    """UTF-8 with a BOM and CRLF (Excel), formula-safe cells (as the participation CSV)."""
    from .participation import safe_cell

    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\r\n")
    n_items = len(rep["items"])
    w.writerow(["団体コード", "団体名", "回答", "代理出席者", "連絡事項", "回答日時", "回答者"]
               + [f"議案{i + 1}" for i in range(n_items)])
    for r in rep["rows"]:
        if pending and not _pending(rep, r):
            continue
        when = dt.datetime.fromisoformat(r["answered_at"]).astimezone(TOKYO).strftime("%Y-%m-%d %H:%M") \
            if r["answered_at"] else ""
        cells = [r["code"], r["member"], "" if rep["written"] else answer_text(r), r["proxy"], r["comment"], when,
                 r["answered_by"]]
        cells += [a.VOTE_JA.get(r["votes"].get(str(i + 1), ""), "未回答") for i in range(n_items)] if rep["written"] else []
        w.writerow([safe_cell(v) for v in cells])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")
