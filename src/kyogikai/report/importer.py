"""Import a past annual report (事業報告) into events: ``kyogikai import-report FILE``.

The parser (:mod:`.parse`) turns the text into a :class:`ReportDoc` and lists every line it cannot
place.  This module turns the document into application commands, so the same domain rules apply
as for a clerk typing them:

- programmes, bodies and groups are created when missing (matched by name under their parent);
  a body's kind is guessed from its name (総会 → general_assembly, 幹事会 → board …);
- an entry whose label names another body (the reference lists the 企画提案選定委員会's meetings
  under the working group's heading) goes to an *inline* sub-body of that name;
- narrative paragraphs are written per fiscal year, programme and body;
- each entry is matched with what the store already holds (same owner, fiscal year, kind,
  ordinal, part, series, title and reference; the start date decides between look-alikes): a
  match is brought up to date (reschedule, change of format or venue, cancel or reinstate, missing
  agenda items); anything else is scheduled.  Importing the same file twice therefore writes
  nothing the second time, and says so.

Decision: a file with lines the parser cannot place is refused as a whole (nothing is written and
every such line is listed with its number) unless ``skip_problems`` is set.  The import is all or
nothing: its commands run inside one transaction of the store (``Kyogikai.atomic``), each applied
to the read models once as it is written, so a rule refusing one entry (say, a duplicate ordinal
against the store) — or a crash — writes nothing, and the message names that line.  No scratch
copy is made.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Callable

from ..app import Kyogikai, UserError, tokyo_today
from ..dates import fiscal_year as fiscal_year_of
from ..i18n import M
from ..domain.events import DomainError
from ..domain.formats import Format
from ..domain.organisation import BodyKind
from ..projections.organisation import BODIES, PROGRAMMES
from ..projections.schedule import AGENDA, MEETINGS
from .document import BodyNode, Entry, ReportDoc
from .parse import Problem, parse_report

_KIND_WORDS = [
    ("総会", BodyKind.GENERAL_ASSEMBLY), ("運営委員会", BodyKind.STEERING_COMMITTEE), ("幹事会", BodyKind.BOARD),
    ("選定委員会", BodyKind.SELECTION_COMMITTEE), ("委員会", BodyKind.COMMITTEE),
    ("ワーキンググループ", BodyKind.WORKING_GROUP), ("グループ", BodyKind.GROUP), ("研究会", BodyKind.STUDY_GROUP),
    ("事業部会", BodyKind.SUBCOMMITTEE), ("検討会", BodyKind.REVIEW_MEETING), ("全体会議", BodyKind.PLENARY),
    ("説明会", BodyKind.BRIEFING), ("研修", BodyKind.TRAINING),
]


def guess_body_kind(name: str, depth: int) -> BodyKind:
    for word, kind in _KIND_WORDS:
        if word in name:
            return kind
    return BodyKind.GROUP if depth >= 3 else BodyKind.OTHER


@dataclass
class ImportResult:
    fiscal_year: int
    events: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)


class ImportRefused(UserError):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        first = problems[0]
        super().__init__(M("{count} line(s) cannot be placed, nothing imported; first: line {line}: {reason}: {text!r}",
                           count=len(problems), line=first.line, reason=first.reason, text=first.text))


class Importer:
    def __init__(self, app: Kyogikai, progress: Callable[[int, int], None] | None = None) -> None:
        self.app = app
        self.progress = progress
        self.today = tokyo_today()     # entries up to today took place: they are recorded as held
        # the ids of each owner's meetings in a fiscal year, read once and extended as the import
        # schedules; their rows are then read by id, from the unit's row cache (no statement)
        self._ids: dict[int, dict[tuple[str, bool], list[str]]] = {}   # fiscal year → (owner, is body) → ids

    # -- organisation ----------------------------------------------------------------------------
    def _programme(self, title: str, section: str, order: int) -> str:
        found = [p for p in self.app.rows(PROGRAMMES) if p["name"] == title]
        if not found:
            self.app.create_programme(title, section, order)
            found = [p for p in self.app.rows(PROGRAMMES) if p["name"] == title]
        return found[0]["id"]

    def _body(self, name: str, programme_id: str, parent_id: str | None, path: str, depth: int, order: int,
              inline: bool = False) -> str:
        found = [b for b in self.app.rows(BODIES, programme_id=programme_id, parent_id=parent_id) if b["name"] == name]
        if not found:
            parent_path = path.rsplit("/", 1)[0]
            self.app.create_body(name, programme=None if parent_id else parent_path, parent=parent_path if parent_id else None,
                                 kind=guess_body_kind(name, depth).value, order=order, inline=inline)
            found = [b for b in self.app.rows(BODIES, programme_id=programme_id, parent_id=parent_id) if b["name"] == name]
        return found[0]["id"]

    # -- the import -----------------------------------------------------------------------------
    def run(self, doc: ReportDoc, problems: list[Problem] | None = None) -> ImportResult:
        app = self.app
        app.sync()
        before = app.store.max_position()
        result = ImportResult(doc.fiscal_year, problems=list(problems or []))
        fy = doc.fiscal_year
        self._total = len(doc.entries())
        self._done = 0

        for section in doc.sections:
            section_name = "all" if section.number == 1 else "participating"
            for p_order, prog in enumerate(section.programmes, start=1):
                pid = self._programme(prog.title, section_name, p_order)
                self._narrative(fy, prog.paragraphs, programme=prog.title)
                for e in prog.entries:
                    self._entry(e, result, owner_path=prog.title, programme=prog.title, body_name=None)
                self._bodies(prog.bodies, result, pid, None, prog.title, 1, fy)
        result.events = app.store.max_position() - before
        return result

    def _bodies(self, nodes: list[BodyNode], result: ImportResult, pid: str, parent_id: str | None, parent_path: str,
                depth: int, fy: int) -> None:
        for order, node in enumerate(nodes, start=1):
            path = f"{parent_path}/{node.name}"
            bid = self._body(node.name, pid, parent_id, path, depth, order, node.inline)
            self._narrative(fy, node.paragraphs, body=path)
            hints = [e.body_hint for e in node.entries if e.body_hint]
            for e in node.entries:
                if e.body_hint:
                    sub_order = len([c for c in node.children]) + 1 + hints.index(e.body_hint)
                    self._body(e.body_hint, pid, bid, f"{path}/{e.body_hint}", depth + 1, sub_order, inline=True)
                    self._entry(e, result, owner_path=f"{path}/{e.body_hint}", programme=None, body_name=e.body_hint)
                else:
                    self._entry(e, result, owner_path=path, programme=None, body_name=node.name)
            self._bodies(node.children, result, pid, bid, path, depth + 1, fy)

    def _narrative(self, fy: int, paragraphs: list[str], *, body: str | None = None, programme: str | None = None) -> None:
        if not paragraphs:
            return
        try:
            self.app.write_narrative(fy, paragraphs, body=body, programme=programme)
        except DomainError as exc:
            message = exc.args[0] if exc.args else None
            if not (isinstance(message, M) and message.template == "the narrative is unchanged"):
                raise

    def _entry(self, e: Entry, result: ImportResult, *, owner_path: str, programme: str | None,
               body_name: str | None) -> None:
        app = self.app
        self._done += 1
        if self.progress:
            self.progress(self._done, self._total)
        if e.period is None:
            result.problems.append(Problem(e.line, e.label, M("undated entry: the store needs a date; not imported")))
            return
        is_body = programme is None
        title: str | None = e.label
        series = e.series
        if series:
            title = None
        elif e.kind in ("meeting",) and e.label == body_name:
            title = None
        refers_to = None
        if e.refers_to:
            ref = self._find_ref(owner_path, e.refers_to, fiscal_year_of(e.period.start))
            if ref is None:
                label = "第{}回{}".format(*e.refers_to)
                raise UserError(M("line {line}: the referred meeting {meeting} is not in the store", line=e.line,
                                  meeting=label))
            refers_to = ref["id"]
        want = dict(kind=e.kind, ordinal=e.ordinal, part=e.part, series=series, title=title, speaker=e.speaker,
                    refers_to=refers_to)
        owner = app.body(owner_path)["id"] if is_body else app.programme(programme)["id"]  # type: ignore[arg-type]
        existing = self._match(owner, is_body, fiscal_year_of(e.period.start), want, e.period.start)
        try:
            if existing is None:
                kind = e.kind
                if is_body and kind == "activity":
                    kind = "meeting"
                made = app.schedule(kind=kind, body=owner_path if is_body else None, programme=programme,
                                    period=e.period, ordinal=e.ordinal, part=e.part, series=series, title=title,
                                    speaker=e.speaker, refers_to=refers_to, format=e.format,
                                    format_label=e.format_label, venue=e.venue, agenda=e.agenda)
                mid = str(made.id)
                self._ids[fiscal_year_of(e.period.start)][(owner, is_body)].append(mid)
                if e.cancelled:
                    app.cancel(mid)
                elif e.period.start <= self.today:
                    app.hold(mid)              # a report records what took place
                result.created += 1
            else:
                changed = self._update(existing, e)
                result.updated += int(changed)
                result.unchanged += int(not changed)
        except (DomainError, UserError) as exc:
            raise UserError(M("line {line}: {problem}", line=e.line, problem=exc)) from None

    def _match(self, owner: str, is_body: bool, fy: int, want: dict[str, Any], start: dt.date) -> dict[str, Any] | None:
        year = self._ids.get(fy)
        if year is None:   # the year's meetings, once: grouped by owner
            year = self._ids[fy] = {}
            for m in self.app.rows(MEETINGS, fiscal_year=fy):
                owner_of = (m["body_id"], True) if m["body_id"] else (m["programme_id"], False)
                year.setdefault(owner_of, []).append(m["id"])
        ids = year.setdefault((owner, is_body), [])
        cands = [m for i in ids for m in self.app.rows(MEETINGS, id=i)
                 if all(m[k] == want[k] for k in ("ordinal", "part", "series", "title", "speaker", "refers_to"))
                 and (m["kind"] == want["kind"] or (is_body and want["kind"] == "activity" and m["kind"] == "meeting"))]
        if len(cands) > 1:
            cands = [m for m in cands if m["start_date"] == start.isoformat()]
        return cands[0] if len(cands) == 1 else None

    def _find_ref(self, owner_path: str, ref: tuple[int, str], fy: int) -> dict[str, Any] | None:
        body = self.app.body(owner_path)
        for m in self.app.rows(MEETINGS, body_id=body["id"], fiscal_year=fy, ordinal=ref[0]):
            if (m["title"] or body["name"]) == ref[1] and m["kind"] == "meeting":
                return m
        return None

    def _update(self, m: dict[str, Any], e: Entry) -> bool:
        app, mid, changed = self.app, m["id"], False
        assert e.period is not None
        if m["status"] == "cancelled" and not e.cancelled:
            app.reinstate(mid)
            changed = True
        current = (m["start_date"], m["end_date"], m["precision"])
        if current != (e.period.start.isoformat(), e.period.end.isoformat(), e.period.precision) and m["status"] != "held":
            app.reschedule(mid, e.period)
            changed = True
        details: dict[str, Any] = {}
        if (m["format"] or None) != (e.format.value if e.format else None) or m["format_label"] != e.format_label:
            details.update(format=Format(e.format) if e.format else None, format_label=e.format_label)
        if m["venue"] != e.venue:
            details["venue"] = e.venue
        if details:
            app.change_details(mid, **details)
            changed = True
        have = [a["text"] for a in app.rows(AGENDA, order=("pos",), meeting_id=mid) if not a["withdrawn"]]
        missing = [a for a in e.agenda if a not in have]
        if missing:
            app.add_agenda(mid, missing)
            changed = True
        if e.cancelled and m["status"] != "cancelled":
            app.cancel(mid)
            changed = True
        elif not e.cancelled and m["status"] != "held" and e.period.start <= self.today:
            app.hold(mid)                      # recorded as scheduled by an earlier import, or by hand
            changed = True
        return changed


def import_report_text(app: Kyogikai, text: str, fiscal_year: int | None = None, skip_problems: bool = False,
                       progress: Callable[[int, int], None] | None = None) -> ImportResult:
    parsed = parse_report(text, fiscal_year=fiscal_year)
    # an undated entry cannot be placed either: it is what a line cut short looks like (a truncated file)
    undated = [Problem(e.line, e.label, M("undated entry (a line cut short?): the store needs a date"))
               for e in parsed.doc.entries() if e.period is None and e.line > 0]
    problems = sorted([p for p in parsed.problems if p.line > 0] + undated, key=lambda p: p.line)
    if problems and not skip_problems:
        raise ImportRefused(problems)
    if not any(p for sec in parsed.doc.sections for p in sec.programmes):
        raise UserError(M("the file holds no report: no section (1 全団体事業 …) with a programme was found; "
                          "nothing imported"))
    # all or nothing: every command of the import in one transaction, rolled back on any problem
    with app.atomic(resident=True):
        return Importer(app, progress).run(parsed.doc, parsed.problems)
