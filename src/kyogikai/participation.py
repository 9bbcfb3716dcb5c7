"""Participation records per member organisation and per body, for a fiscal year.

Built from read models only (``rm_members``, ``rm_bodies``, ``rm_programmes``, ``rm_roster``,
``rm_meetings`` and the participation projection's ``rm_attendance``, ``rm_participation``,
``rm_drill_results``): a record costs the same however long the event log is.  The builders are
pure functions of one fiscal year's rows (:class:`YearData`); the renderers turn their result into
a text table, CSV (for Excel) or JSON, and HTML (:mod:`kyogikai.templates`).

Counting rules (the decisions, also in the README under "Participation records"):

- **Meetings** are items of kind meeting, vote (採決) or redeliberation (再審議) of a body.
  Activities (training, audit, drill, lecture, briefing, debriefing, other) are counted as "taken
  part in", not as attendance.
- **Counted** (held): a meeting that is not cancelled and is recorded as held or whose last day is
  before today (Asia/Tokyo).  A cancelled meeting counts for nobody, even if attendance was recorded
  before it was cancelled; a meeting still to come (or a written deliberation still running) is not
  counted yet.  Both are listed apart as 集計対象外.
- **Held while a member**: a counted meeting whose *first day* falls within one of the member's
  spans on the body's roster (``since`` ≤ first day ≤ ``until``, both inclusive: ``until`` is the
  last day of membership) and before the member's dissolution.  The roster of a body is its own
  recorded roster; a body that has none of its own and belongs to a participating-member programme
  (特定団体事業) takes that programme's participants as its roster (so a member that joins the
  programme in October counts from October); any other body with no roster counts nobody.
- **Attended**: attendance recorded as present, or replied (回答) to a written deliberation.
  absent and no_reply (未回答) are not attended.  **Not recorded** is unknown (未記録): shown
  separately, neither attended nor absent, and left out of the rate.
- **Rate** (出席率) = attended ÷ (held while a member − not recorded), in percent rounded half up
  to one decimal; blank when nothing is known.  The same rule per member, per meeting and in total.
- Attendance recorded for a member that was not on the roster at that meeting is kept in the log
  but counted nowhere.
- **Taken part in** (trainings, audits, drills …): a counted activity for which the member's
  participation is recorded as taken part; without a participation record, a recorded drill result,
  or attendance recorded as present or replied, also counts; a participation recorded as not taken
  part overrides both.
- **Drill results** are the member's own business: they appear only in the member's own record,
  never in a body's matrix or in the all-member summary.
- A renamed member (municipal merger) keeps its id and therefore its history; records show the
  current name and list the former ones.

CSV is UTF-8 with a BOM and CRLF line ends, which Excel opens correctly; every text cell starting
with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is prefixed with a single quote so a
spreadsheet never evaluates it (CSV injection).
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import json
import unicodedata
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Iterable, Sequence

from . import dates
from .i18n import M
from .app import Kyogikai, UserError, tokyo_today
from .dates import Period
from .domain.meeting import KIND_LABELS, Kind
from .domain.bodytree import BodyTree
from .domain.naming import meeting_label
from .projections import answers as ans_rm
from .projections import organisation as org_rm
from .projections import participation as part_rm
from .projections import schedule as sched_rm

MEETING_KINDS = frozenset(k.value for k in Kind if k.is_meeting)
ACTIVITY_KINDS = tuple(k.value for k in Kind if not k.is_meeting)
ATTENDED = frozenset({"present", "replied"})
NOT_ATTENDED = frozenset({"absent", "no_reply"})
UNKNOWN = "unknown"
STATUS_JA = {"present": "出席", "replied": "回答", "absent": "欠席", "no_reply": "未回答", UNKNOWN: "未記録"}
NOT_ON_ROSTER = "－"
KIND_JA = {k.value: v for k, v in KIND_LABELS.items()}
CLASS_JA = {"member": "会員", "associate": "準会員"}
EXCLUDED_JA = {"cancelled": "中止", "upcoming": "未開催"}
VIA_JA = "事業の参加団体として"  # a body without a roster of its own, counted by its programme's participants
FORMATS = ("table", "csv", "json")


def rate(attended: int, known: int) -> float | None:
    """Percent, rounded half up to one decimal; None when nothing is known."""
    if known <= 0:
        return None
    return float((Decimal(100 * attended) / Decimal(known)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


# == the rows of one fiscal year ==================================================================

@dataclass(frozen=True)
class Span:
    owner_id: str
    member_id: str
    since: dt.date
    until: dt.date | None

    def covers(self, day: dt.date) -> bool:
        return self.since <= day and (self.until is None or day <= self.until)


@dataclass
class YearData:
    fy: int
    today: dt.date
    members: dict[str, dict[str, Any]]
    bodies: dict[str, dict[str, Any]]
    programmes: dict[str, dict[str, Any]]
    owners_with_roster: set[str]
    spans: list[Span]                              # spans that overlap the fiscal year
    meetings: dict[str, dict[str, Any]]            # the year's meetings and activities, by date
    attendance: dict[tuple[str, str], str]         # (meeting, member) -> status
    participation: dict[tuple[str, str], bool]
    drill_results: dict[tuple[str, str], dict[str, Any]]
    referred: dict[str, dict[str, Any]]            # earlier meetings referred to by votes, for labels
    answers: dict[tuple[str, str], str] = field(default_factory=dict)  # (meeting, member) -> answered present|proxy|absent
    voted: set[tuple[str, str]] = field(default_factory=set)           # (written meeting, member) with a vote cast

    def status(self, m: dict[str, Any], member_id: str) -> str:
        """Recorded attendance; else, for a meeting held in writing, ``replied`` when the member voted."""
        key = (m["id"], member_id)
        if key in self.attendance:
            return self.attendance[key]
        if key in self.voted:
            return "replied"
        return UNKNOWN

    # -- derived lookups --------------------------------------------------------------------------
    @functools.cached_property
    def tree(self) -> BodyTree:
        return BodyTree(self.bodies.values())

    def path(self, body_id: str) -> str:
        """``programme/body/sub-body``, as ``kyogikai meetings`` shows it."""
        prog = self.programmes.get(self.bodies[body_id]["programme_id"]) if body_id in self.bodies else None
        return "/".join([prog["name"] if prog else "?"] + self.tree.names(body_id))

    def body_order(self, body_id: str) -> tuple:
        body = self.bodies[body_id]
        prog = self.programmes.get(body["programme_id"]) or {"section": "", "ord": 0}
        return (prog["section"] != "all", prog["ord"], self.path(body_id))

    def roster(self, body_id: str) -> tuple[list[Span], str | None]:
        """The body's roster spans in this year, and the programme id when it is inherited."""
        if body_id in self.owners_with_roster:
            return [s for s in self.spans if s.owner_id == body_id], None
        body = self.bodies[body_id]
        prog = self.programmes.get(body["programme_id"])
        if prog is not None and prog["section"] == "participating":
            return [s for s in self.spans if s.owner_id == prog["id"]], prog["id"]
        return [], None

    def public(self, body_id: str) -> bool:
        """Public when the body and every body above it are (a non-public body hides what is under it)."""
        return all(b["public"] for b in self.tree.chain(body_id))

    def counted(self, m: dict[str, Any]) -> str | None:
        """None when the meeting counts; else why not ("cancelled" or "upcoming")."""
        if m["status"] == "cancelled":
            return "cancelled"
        if m["status"] == "held" or dt.date.fromisoformat(m["end_date"]) < self.today:
            return None
        return "upcoming"

    def active(self, member_id: str, day: dt.date) -> bool:
        gone = self.members[member_id]["dissolved_on"] if member_id in self.members else None
        return not gone or day < dt.date.fromisoformat(gone)

    def label(self, m: dict[str, Any]) -> str:
        return meeting_label(m, lambda bid: self.bodies[bid]["name"] if bid in self.bodies else None,
                             lambda ref: self.meetings.get(ref) or self.referred.get(ref))

    def meeting_info(self, m: dict[str, Any]) -> dict[str, Any]:
        start, end = dt.date.fromisoformat(m["start_date"]), dt.date.fromisoformat(m["end_date"])
        body = self.bodies.get(m["body_id"]) if m["body_id"] else None
        prog = self.programmes.get(m["programme_id"])
        return {"id": m["id"], "kind": m["kind"], "label": self.label(m), "start": m["start_date"], "end": m["end_date"],
                "dates": dates.format_period(Period(start, end, m["precision"])),
                "body": body["name"] if body else None, "body_path": self.path(body["id"]) if body else None,
                "programme": prog["name"] if prog else None, "format": m["format"], "status": m["status"]}

    def member_info(self, member_id: str) -> dict[str, Any]:
        m = self.members[member_id]
        return {"id": m["id"], "name": m["name"], "code": m["code"], "kind": m["kind"], "class": m["member_class"],
                "former_names": [n for n in (m["former_names"] or "").split("\n") if n],
                "dissolved_on": m["dissolved_on"]}

    def took_part(self, meeting_id: str, member_id: str) -> bool:
        key = (meeting_id, member_id)
        if key in self.participation:
            return self.participation[key]
        return key in self.drill_results or self.attendance.get(key) in ATTENDED


def member_sort_key(m: dict[str, Any]) -> tuple:
    """The prefecture, then municipalities by code, then members without a code by name."""
    return (m["code"] is None, m["code"] or "", m["name"])


def load_year(rows: Any, fiscal_year: int, today: dt.date | None = None) -> YearData:
    """Everything a year's records need, read in one transaction (``rows``: a read-model :class:`Rows`)."""
    fy_start, fy_end = dates.fiscal_year_range(fiscal_year)
    members = {m["id"]: m for m in rows.find(org_rm.MEMBERS)}
    bodies = {b["id"]: b for b in rows.find(org_rm.BODIES)}
    programmes = {p["id"]: p for p in rows.find(org_rm.PROGRAMMES)}
    owners = org_rm.roster_owners(rows)
    spans = [Span(o, mid, dt.date.fromisoformat(s), dt.date.fromisoformat(u) if u else None)
             for o, mid, s, u in org_rm.roster_spans(rows, fy_start.isoformat(), fy_end.isoformat())]
    meetings = {m["id"]: m for m in rows.find(sched_rm.MEETINGS, ("start_date", "created_at", "id"), fiscal_year=fiscal_year)}
    attendance = part_rm.year_attendance(rows, fiscal_year)
    participation = part_rm.year_participation(rows, fiscal_year)
    drill_results = part_rm.year_drill_results(rows, fiscal_year)
    referred: dict[str, dict[str, Any]] = {}
    todo = [m["refers_to"] for m in meetings.values() if m["refers_to"]]
    while todo:
        ref = todo.pop()
        if ref in meetings or ref in referred:
            continue
        row = rows.get(sched_rm.MEETINGS, ref)
        if row is not None:
            referred[ref] = row
            if row["refers_to"]:
                todo.append(row["refers_to"])
    return YearData(fiscal_year, today or tokyo_today(), members, bodies, programmes, owners, spans, meetings,
                    attendance, participation, drill_results, referred, **_answers(rows, fiscal_year))


def _answers(rows: Any, fiscal_year: int) -> dict[str, Any]:
    """The year's attendance answers (出欠回答) and the written meetings each member voted in."""
    return {"answers": ans_rm.year_answers(rows, fiscal_year), "voted": ans_rm.year_written_voters(rows, fiscal_year)}


# == answered versus attended =====================================================================

ANSWER_DEFINITIONS = ("出欠回答と出席: 対象 = 在籍中に開催された会議（書面開催を除く）。出席と回答 = 事前の出欠回答が出席または"
                      "代理出席。うち欠席等 = 出席と回答したが、出席の記録が欠席または未回答のもの。書面開催の会議は、"
                      "議案に1件でも表決した団体を回答（出席扱い）として数えます（出欠の記録があればそれを優先）。")


def _answer_counts(data: YearData, pairs: Iterable[tuple[dict[str, Any], str, str]]) -> dict[str, int]:
    """Answers against the attendance taken, over (meeting, member, status) of counted meetings not held in writing."""
    c = {"expected": 0, "answered": 0, "answered_present": 0, "present_attended": 0, "present_not_attended": 0,
         "answered_absent": 0, "not_answered": 0}
    for m, member_id, status in pairs:
        if m["format"] == "written":
            continue
        ans = data.answers.get((m["id"], member_id))
        c["expected"] += 1
        if ans is None:
            c["not_answered"] += 1
            continue
        c["answered"] += 1
        if ans == "absent":
            c["answered_absent"] += 1
            continue
        c["answered_present"] += 1
        if status in ATTENDED:
            c["present_attended"] += 1
        elif status in NOT_ATTENDED:
            c["present_not_attended"] += 1
    return c



# == builders ===================================================================================

def _tally(statuses: Iterable[str]) -> dict[str, Any]:
    held = attended = absent = unknown = 0
    for s in statuses:
        held += 1
        if s in ATTENDED:
            attended += 1
        elif s in NOT_ATTENDED:
            absent += 1
        else:
            unknown += 1
    return {"held": held, "attended": attended, "absent": absent, "unknown": unknown,
            "rate": rate(attended, held - unknown)}


def _header(data: YearData, kind: str) -> dict[str, Any]:
    return {"type": kind, "fiscal_year": data.fy, "fiscal_year_label": dates.format_fiscal_year(data.fy),
            "as_of": data.today.isoformat()}


def body_matrix(data: YearData, body_id: str) -> dict[str, Any]:
    """The roster-by-meeting matrix of one body: a cell per (member, counted meeting)."""
    body = data.bodies[body_id]
    spans, via = data.roster(body_id)
    items = [m for m in data.meetings.values() if m["body_id"] == body_id and m["kind"] in MEETING_KINDS]
    counted = [m for m in items if data.counted(m) is None]
    excluded = [dict(data.meeting_info(m), reason=data.counted(m)) for m in items if data.counted(m) is not None]
    by_member: dict[str, list[Span]] = {}
    for s in spans:
        by_member.setdefault(s.member_id, []).append(s)
    members = sorted((data.members[mid] for mid in by_member if mid in data.members), key=member_sort_key)
    rows = []
    columns: list[list[str]] = [[] for _ in counted]
    for mem in members:
        cells: list[str | None] = []
        for i, m in enumerate(counted):
            day = dt.date.fromisoformat(m["start_date"])
            if any(s.covers(day) for s in by_member[mem["id"]]) and data.active(mem["id"], day):
                status = data.status(m, mem["id"])
                columns[i].append(status)
                cells.append(status)
            else:
                cells.append(None)
        rows.append({**data.member_info(mem["id"]),
                     "spans": [[s.since.isoformat(), s.until.isoformat() if s.until else None] for s in by_member[mem["id"]]],
                     "cells": cells, **_tally(c for c in cells if c is not None)})
    meetings = []
    for m, col in zip(counted, columns):
        t = _tally(col)
        meetings.append({**data.meeting_info(m), "expected": t.pop("held"), **t})
    total = _tally(s for col in columns for s in col)
    total["expected"] = total.pop("held")
    extra: dict[str, Any] = {}
    if any((m["id"], mem["id"]) in data.answers for m in counted for mem in members):
        per = []
        all_pairs: list[tuple[dict[str, Any], str, str]] = []
        for mem, row in zip(members, rows):
            pairs = [(m, mem["id"], c) for m, c in zip(counted, row["cells"]) if c is not None]
            all_pairs += pairs
            per.append({"id": mem["id"], "name": mem["name"], **_answer_counts(data, pairs)})
        extra["answers"] = {"members": per, "totals": _answer_counts(data, all_pairs), "definition": ANSWER_DEFINITIONS}
    return {**extra, **_header(data, "body"),
            "body": {"id": body_id, "name": body["name"], "path": data.path(body_id), "public": data.public(body_id)},
            "roster": ({"source": "programme", "programme": data.programmes[via]["name"]} if via
                       else {"source": "own" if body_id in data.owners_with_roster else "none"}),
            "meetings": meetings, "excluded": excluded, "members": rows, "totals": total}


def member_record(data: YearData, member_id: str, *, drill_results: bool = True) -> dict[str, Any]:
    """One member's year: its bodies and programmes, meetings held while a member versus attended,
    activities taken part in and (its own record only) its drill results."""
    mine = [s for s in data.spans if s.member_id == member_id]
    programmes, body_spans = [], {}
    for s in mine:
        if s.owner_id in data.bodies:
            body_spans.setdefault(s.owner_id, ([], None))[0].append(s)
        elif s.owner_id in data.programmes:
            prog = data.programmes[s.owner_id]
            programmes.append({"id": prog["id"], "name": prog["name"], "since": s.since.isoformat(),
                               "until": s.until.isoformat() if s.until else None})
            if prog["section"] == "participating":
                for b in data.bodies.values():
                    if b["programme_id"] == prog["id"] and b["id"] not in data.owners_with_roster:
                        body_spans.setdefault(b["id"], ([], prog["name"]))[0].append(s)
    bodies_out, meetings_out = [], []
    for body_id in sorted(body_spans, key=data.body_order):
        spans, via = body_spans[body_id]
        statuses = []
        for m in data.meetings.values():
            if m["body_id"] != body_id or m["kind"] not in MEETING_KINDS or data.counted(m) is not None:
                continue
            day = dt.date.fromisoformat(m["start_date"])
            if any(s.covers(day) for s in spans) and data.active(member_id, day):
                status = data.status(m, member_id)
                statuses.append(status)
                meetings_out.append({**data.meeting_info(m), "attendance": status})
        body = data.bodies[body_id]
        bodies_out.append({"id": body_id, "name": body["name"], "path": data.path(body_id),
                           "via_programme": via,
                           "spans": [[s.since.isoformat(), s.until.isoformat() if s.until else None] for s in spans],
                           **_tally(statuses)})
    meetings_out.sort(key=lambda x: (x["start"], x["label"]))
    activities = [data.meeting_info(m) for m in data.meetings.values()
                  if m["kind"] not in MEETING_KINDS and data.counted(m) is None and data.took_part(m["id"], member_id)]
    counts = {k: sum(1 for a in activities if a["kind"] == k) for k in ACTIVITY_KINDS}
    extra: dict[str, Any] = {}
    if any(k[1] == member_id for k in data.answers):
        per_body, all_pairs = [], []
        for b in bodies_out:
            pairs = [(data.meetings[x["id"]], member_id, x["attendance"]) for x in meetings_out if x["body_path"] == b["path"]]
            all_pairs += pairs
            per_body.append({"id": b["id"], "path": b["path"], **_answer_counts(data, pairs)})
        extra["answers"] = {"bodies": per_body, "totals": _answer_counts(data, all_pairs), "definition": ANSWER_DEFINITIONS}
    out = {**extra, **_header(data, "member"), "member": data.member_info(member_id), "programmes": programmes,
           "bodies": bodies_out, "meetings": meetings_out,
           "totals": _tally(x["attendance"] for x in meetings_out),
           "activities": activities, "activity_counts": counts}
    if drill_results:
        results = []
        for a in activities:
            r = data.drill_results.get((a["id"], member_id))
            if a["kind"] == Kind.DRILL.value and r is not None:
                results.append({**a, **r, "open_rate": rate(r["links_opened"], r["mails_sent"])})
        out["drill_results"] = results
    return out


def summary(data: YearData) -> dict[str, Any]:
    """Every member's year in one row (no drill results: those are each member's own)."""
    fy_start, _ = dates.fiscal_year_range(data.fy)
    rows = []
    for mem in sorted(data.members.values(), key=member_sort_key):
        if mem["dissolved_on"] and dt.date.fromisoformat(mem["dissolved_on"]) <= fy_start:
            continue
        rec = member_record(data, mem["id"], drill_results=False)
        rows.append({**rec["member"], "bodies": len(rec["bodies"]), **rec["totals"],
                     "activity_counts": rec["activity_counts"]})
    return {**_header(data, "summary"), "members": rows}


# == from the application ===========================================================================

def report(app: Kyogikai, *, fiscal_year: int | None = None, member: str | None = None, body: str | None = None,
           today: dt.date | None = None) -> dict[str, Any]:
    """The record the CLI prints: one member's, one body's matrix, or the summary of all members."""
    if member and body:
        raise UserError(M("--member/--body: give one of them, not both"))
    today = today or tokyo_today()
    fy = fiscal_year if fiscal_year is not None else dates.fiscal_year(today)
    app.sync()
    member_id = app.member(member)["id"] if member else None
    body_id = app.body(body)["id"] if body else None
    with app.snapshot() as rows:
        data = load_year(rows, fy, today)
    if member_id:
        return member_record(data, member_id)
    if body_id:
        return body_matrix(data, body_id)
    return summary(data)


# == rendering ===================================================================================

def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]], indent: str = "  ") -> list[str]:
    cells = [[_cell(v) for v in r] for r in rows]
    widths = [max([_width(h)] + [_width(r[i]) for r in cells]) for i, h in enumerate(headers)]

    def line(vals: Sequence[str]) -> str:
        return indent + "  ".join(v + " " * (w - _width(v)) if i < len(vals) - 1 else v
                                  for i, (v, w) in enumerate(zip(vals, widths))).rstrip()

    return [line(headers)] + [line(r) for r in cells]


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.1f}"
    return str(v)


def _pct(v: float | None) -> str:
    return "" if v is None else f"{v:.1f}%"


def _span_text(spans: Sequence[Sequence[str | None]]) -> str:
    return "、".join(dates.format_date(dt.date.fromisoformat(a)) + "～"  # type: ignore[arg-type]
                    + (dates.format_date(dt.date.fromisoformat(b)) if b else "") for a, b in spans)


def _member_title(m: dict[str, Any]) -> str:
    code = f"（{m['code']}）" if m["code"] else ""
    former = f" 旧名称: {'、'.join(m['former_names'])}" if m["former_names"] else ""
    return f"{m['name']}{code}{former}"


def _short(info: dict[str, Any]) -> str:
    d = dt.date.fromisoformat(info["start"])
    return f"{info['label']} {d.month}/{d.day}"


def render_table(rep: dict[str, Any]) -> str:
    kind = rep["type"]
    out: list[str] = []
    if kind == "body":
        b = rep["body"]
        out.append(f"{b['path']} {rep['fiscal_year_label']} 出欠表")
        src = rep["roster"]
        if src["source"] == "programme":
            out.append(f"名簿: {src['programme']}の参加団体")
        elif src["source"] == "none":
            out.append("名簿: 未登録（集計対象の団体なし）")
        headers = ["団体名"] + [_short(m) for m in rep["meetings"]] + ["開催", "出席", "欠席", "未記録", "出席率"]
        rows: list[list[Any]] = []
        for r in rep["members"]:
            cells = [STATUS_JA[c] if c else NOT_ON_ROSTER for c in r["cells"]]
            rows.append([r["name"]] + cells + [r["held"], r["attended"], r["absent"], r["unknown"], _pct(r["rate"])])
        t = rep["totals"]
        rows.append(["出席率"] + [_pct(m["rate"]) for m in rep["meetings"]]
                    + [t["expected"], t["attended"], t["absent"], t["unknown"], _pct(t["rate"])])
        rows.append(["出席/対象"] + [f"{m['attended']}/{m['expected'] - m['unknown']}" for m in rep["meetings"]]
                    + ["", "", "", "", ""])
        out += _table(headers, rows)
        if rep["excluded"]:
            out.append("集計対象外: " + "、".join(f"{e['label']}（{e['dates']}、{EXCLUDED_JA[e['reason']]}）"
                                               for e in rep["excluded"]))
        out.append("出席率 = 出席（書面回答を含む）÷（対象 − 未記録）")
    elif kind == "member":
        out.append(f"{_member_title(rep['member'])} {rep['fiscal_year_label']} 参加記録")
        if rep["programmes"]:
            out.append("参加事業")
            out += _table(["事業", "期間"], [[p["name"], _span_text([[p["since"], p["until"]]])] for p in rep["programmes"]])
        out.append("会議体")
        if rep["bodies"]:
            out += _table(["会議体", "期間", "開催", "出席", "欠席", "未記録", "出席率"],
                          [[b["path"] + (f"（{VIA_JA}）" if b["via_programme"] else ""),
                            _span_text(b["spans"]), b["held"], b["attended"], b["absent"], b["unknown"], _pct(b["rate"])]
                           for b in rep["bodies"]])
        else:
            out.append("  （なし）")
        t = rep["totals"]
        out.append(f"会議（在籍中に開催 {t['held']}、出席 {t['attended']}、欠席 {t['absent']}、未記録 {t['unknown']}、"
                   f"出席率 {_pct(t['rate']) or '－'}）")
        if rep["meetings"]:
            out += _table(["日付", "会議", "会議体", "出欠"],
                          [[m["dates"], m["label"], m["body_path"], STATUS_JA[m["attendance"]]] for m in rep["meetings"]])
        counts = rep["activity_counts"]
        out.append("研修・監査・訓練等（" + "、".join(f"{KIND_JA[k]} {n}" for k, n in counts.items() if n) + "）"
                   if rep["activities"] else "研修・監査・訓練等（なし）")
        if rep["activities"]:
            out += _table(["種別", "日付", "名称", "事業"],
                          [[KIND_JA[a["kind"]], a["dates"], a["label"], a["programme"]] for a in rep["activities"]])
        if "drill_results" in rep:
            out.append("訓練結果")
            if rep["drill_results"]:
                out += _table(["訓練", "日付", "送信数", "開封数", "開封率", "報告数"],
                              [[d["label"], d["dates"], d["mails_sent"], d["links_opened"], _pct(d["open_rate"]),
                                d["reported"]] for d in rep["drill_results"]])
            else:
                out.append("  （なし）")
    else:
        out.append(f"{rep['fiscal_year_label']} 団体別参加状況")
        out += _table(["団体コード", "団体名", "区分", "会議体", "開催", "出席", "欠席", "未記録", "出席率", "研修", "監査", "訓練"],
                      [[r["code"], r["name"], CLASS_JA[r["class"]], r["bodies"], r["held"], r["attended"], r["absent"],
                        r["unknown"], _pct(r["rate"]), r["activity_counts"]["training"], r["activity_counts"]["audit"],
                        r["activity_counts"]["drill"]] for r in rep["members"]])
    if "answers" in rep:
        out += _answers_table(rep)
    return "\n".join(out) + "\n"


ANSWER_HEADERS = ["対象", "回答", "出席と回答", "うち出席", "うち欠席等", "欠席と回答", "未回答"]
ANSWER_KEYS = ["expected", "answered", "answered_present", "present_attended", "present_not_attended", "answered_absent",
               "not_answered"]


def _answer_rows(rep: dict[str, Any]) -> list[list[Any]]:
    a = rep["answers"]
    named = [(r["name"], r) for r in a["members"]] if rep["type"] == "body" else [(r["path"], r) for r in a["bodies"]]
    return [[name] + [r[k] for k in ANSWER_KEYS] for name, r in named] + [["合計"] + [a["totals"][k] for k in ANSWER_KEYS]]


def _answers_table(rep: dict[str, Any]) -> list[str]:
    head = "団体名" if rep["type"] == "body" else "会議体"
    return ["出欠回答と出席"] + _table([head] + ANSWER_HEADERS, _answer_rows(rep)) + [rep["answers"]["definition"]]


# -- CSV -------------------------------------------------------------------------------------------

def safe_cell(v: Any) -> Any:
    """A CSV cell a spreadsheet will not evaluate: text starting with = + - @ tab CR or LF gets a quote.

    Also their full-width and small forms (＝＋－＠, ﹦﹢﹣﹫ — NFKC gives the ASCII character, which a
    Japanese spreadsheet may do too) and the minus sign U+2212, when something follows them (a lone
    ``－`` is the matrix's "not on the roster" mark, no formula).
    """
    if v is None:
        return ""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return v
    s = str(v)
    if s[:1] in _FORMULA_START:
        return "'" + s
    if len(s) > 1 and (s[0] == "\u2212" or unicodedata.normalize("NFKC", s[0])[:1] in _FORMULA_START):
        return "'" + s
    return s


_FORMULA_START = frozenset("=+-@\t\r\n")


def csv_rows(rep: dict[str, Any]) -> list[list[Any]]:
    kind = rep["type"]
    if kind == "body":
        ms = rep["meetings"]
        head = ["団体コード", "団体名"] + [f"{m['label']}（{m['dates']}）" for m in ms] + [
            "開催", "出席", "欠席", "未記録", "出席率(%)"]
        rows = [head]
        for r in rep["members"]:
            rows.append([r["code"], r["name"]] + [STATUS_JA[c] if c else NOT_ON_ROSTER for c in r["cells"]]
                        + [r["held"], r["attended"], r["absent"], r["unknown"], r["rate"]])
        t = rep["totals"]
        rows.append(["", "対象"] + [m["expected"] for m in ms] + [t["expected"], "", "", "", ""])
        rows.append(["", "出席"] + [m["attended"] for m in ms] + ["", t["attended"], "", "", ""])
        rows.append(["", "欠席"] + [m["absent"] for m in ms] + ["", "", t["absent"], "", ""])
        rows.append(["", "未記録"] + [m["unknown"] for m in ms] + ["", "", "", t["unknown"], ""])
        rows.append(["", "出席率(%)"] + [m["rate"] for m in ms] + ["", "", "", "", t["rate"]])
        return rows
    if kind == "member":
        head = ["区分", "会議体・事業", "名称", "日付", "出欠・参加", "開催", "出席", "欠席", "未記録", "出席率(%)",
                "送信数", "開封数", "開封率(%)", "報告数"]
        rows = [head]
        for p in rep["programmes"]:
            rows.append(["参加事業", p["name"], "", _span_text([[p["since"], p["until"]]])] + [""] * 10)
        for b in rep["bodies"]:
            rows.append(["会議体", b["path"], VIA_JA if b["via_programme"] else "",
                         _span_text(b["spans"]), "", b["held"], b["attended"], b["absent"], b["unknown"], b["rate"]]
                        + [""] * 4)
        for m in rep["meetings"]:
            rows.append(["会議", m["body_path"], m["label"], m["dates"], STATUS_JA[m["attendance"]]] + [""] * 9)
        t = rep["totals"]
        rows.append(["会議計", "", "", "", "", t["held"], t["attended"], t["absent"], t["unknown"], t["rate"]] + [""] * 4)
        results = {d["id"]: d for d in rep.get("drill_results", [])}
        for a in rep["activities"]:
            d = results.get(a["id"])
            rows.append([KIND_JA[a["kind"]], a["programme"], a["label"], a["dates"], "参加"] + [""] * 5
                        + ([d["mails_sent"], d["links_opened"], d["open_rate"], d["reported"]] if d else [""] * 4))
        return rows
    head = ["団体コード", "団体名", "区分", "会議体", "開催", "出席", "欠席", "未記録", "出席率(%)", "研修", "監査", "訓練"]
    return [head] + [[r["code"], r["name"], CLASS_JA[r["class"]], r["bodies"], r["held"], r["attended"], r["absent"],
                      r["unknown"], r["rate"], r["activity_counts"]["training"], r["activity_counts"]["audit"],
                      r["activity_counts"]["drill"]] for r in rep["members"]]


def render_csv(rep: dict[str, Any]) -> bytes:
    """UTF-8 with a BOM and CRLF line ends (Excel), injection-safe cells."""
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\r\n")
    rows = csv_rows(rep)
    if "answers" in rep:  # answered versus attended, below the record, with its definition
        rows += [[], ["出欠回答と出席", "団体名" if rep["type"] == "body" else "会議体"] + ANSWER_HEADERS]
        rows += [[""] + r for r in _answer_rows(rep)] + [[rep["answers"]["definition"]]]
    for r in rows:
        w.writerow([safe_cell(v) for v in r])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def render_json(rep: dict[str, Any]) -> str:
    return json.dumps(rep, ensure_ascii=False, indent=2)


def render(rep: dict[str, Any], fmt: str) -> bytes:
    if fmt == "csv":
        return render_csv(rep)
    if fmt == "json":
        return (render_json(rep) + "\n").encode("utf-8")
    if fmt == "table":
        return render_table(rep).encode("utf-8")
    raise UserError(M("--format: {format!r} is not one of {choices}", format=fmt, choices=", ".join(FORMATS)))


# -- HTML -----------------------------------------------------------------------------------------

HTML_HELPERS = {"ANSWER_HEADERS": ANSWER_HEADERS, "ANSWER_KEYS": ANSWER_KEYS, "STATUS_JA": STATUS_JA, "KIND_JA": KIND_JA, "EXCLUDED_JA": EXCLUDED_JA, "NOT_ON_ROSTER": NOT_ON_ROSTER,
                "VIA_JA": VIA_JA, "pct": _pct, "span_text": _span_text}
BODY_TEMPLATE = "web_participation_body.html"      # extends the site's web_base.html
MEMBER_TEMPLATE = "web_participation_member.html"
_ENV = None


def _env() -> Any:
    """The site's templates outside the server (the same pages, with the site's stylesheet inline)."""
    global _ENV
    if _ENV is None:
        from importlib import resources

        from jinja2 import Environment, PackageLoader
        from markupsafe import Markup

        css = resources.files("kyogikai").joinpath("templates", "web.css").read_text(encoding="utf-8")
        _ENV = Environment(loader=PackageLoader("kyogikai", "templates"), autoescape=True, trim_blocks=True,
                           lstrip_blocks=True)
        from .domain.council import DEFAULT_NAME

        _ENV.globals.update(css=Markup(css), base_url="", council={"name": DEFAULT_NAME, "short_name": None})
    return _ENV


def render_body_html(rep: dict[str, Any]) -> str:
    """A body's matrix page (the matrix has no drill results)."""
    return _env().get_template(BODY_TEMPLATE).render(r=rep, **HTML_HELPERS)


def render_member_html(rep: dict[str, Any]) -> str:
    """A member's own record, with its drill results: serve it only behind the member's private token."""
    return _env().get_template(MEMBER_TEMPLATE).render(r=rep, **HTML_HELPERS)
