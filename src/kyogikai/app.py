"""The application: commands that decide with aggregates and save events, queries on read models.

The CLI, the importer and the demo call this one class, so every rule lives in ``domain/`` and is
applied the same way whatever the input.  Every command leaves the read models current.

Errors a user can cause raise :class:`UserError` subclasses with a one-line message; nothing is
written when one is raised (aggregates decide before anything is saved, and a save is one
transaction).  A concurrent change makes a save raise :class:`ConflictError`; the commands marked
with :func:`retry_on_conflict` decide again on fresh state and retry, the others report it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import difflib
import functools
import getpass
import os
import random
import time
import unicodedata
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Sequence
from uuid import UUID

from . import dates
from .dates import DateError, Period
from .domain import council as council_domain
from .i18n import M
from .domain import meeting as mt
from .domain import organisation as org
from .domain.events import DomainError, DomainEvent, NotFound
from .domain.formats import Format, FormatError
from .domain.naming import item_label
from .domain.text import TextError, clean
from .projections import organisation as org_rm
from .projections import schedule as sched_rm
from .projections.runtime import ProgressFn, Runtime, open_read_store, project_until
from .store import ConflictError, EventStore, Location, StoreError

from .projections import ALL as PROJECTIONS  # noqa: E402


class UserError(Exception):
    """Bad input or a broken rule: one line, exit code 2."""

    exit_code = 2


def resolve_actor(actor: str | None) -> str:
    name = (actor or os.environ.get("KYOGIKAI_ACTOR") or "").strip()
    if not name:
        try:
            name = getpass.getuser()
        except Exception:
            name = "unknown"
    try:
        name = clean(name, "actor")
    except TextError as exc:
        raise UserError(str(exc)) from None
    if len(name) > 100 or any(unicodedata.category(c).startswith("C") for c in name):
        raise UserError("actor: must be at most 100 printable characters")
    return name


CONFLICT_ATTEMPTS = 5


def retry_on_conflict(command: Callable) -> Callable:
    """Retry a command on :class:`ConflictError` (up to ``CONFLICT_ATTEMPTS`` times, with jitter).

    Safe only for a command that re-makes its decision from fresh state on every attempt (it
    reloads its aggregates and applies the same intent again, and the domain rules re-check it) and
    whose intent stays meaningful whatever the concurrent change was: adding an agenda item,
    recording attendance or participation, scheduling a new meeting (the ordinal register is
    re-read), creating a programme, body or member, joining a roster.  Commands whose intent may
    no longer make sense after someone else's change — reschedule, cancel, hold, change details,
    record an outcome or withdraw an item by number, rewrite a narrative — are NOT decorated: their
    conflict is reported (exit 3) for the user to look again.
    """
    @functools.wraps(command)
    def attempt(self: "Kyogikai", *args: Any, **kwargs: Any) -> Any:
        for n in range(1, CONFLICT_ATTEMPTS + 1):
            try:
                return command(self, *args, **kwargs)
            except ConflictError:
                if n == CONFLICT_ATTEMPTS:
                    raise
                time.sleep(random.uniform(0.005, 0.03) * n)
    attempt.retries_conflicts = True  # type: ignore[attr-defined]
    return attempt


def tokyo_today() -> dt.date:
    """Today in Asia/Tokyo (the council's calendar day), whatever the machine's time zone."""
    return dt.datetime.now(dt.timezone(dt.timedelta(hours=9))).date()



def _norm(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).lower()


@dataclass
class Result:
    id: UUID
    events: list[DomainEvent]
    warnings: list[M]          # messages, shown after 'warning: ' in the reader's language


class Kyogikai:
    def __init__(self, db: str | None = None, actor: str | None = None, projections: Sequence[Any] | None = None) -> None:
        self.location = Location.parse(db)
        self.actor = resolve_actor(actor)
        self.store = EventStore(self.location)
        self.reads = open_read_store(self.location)
        self.runtime = Runtime(self.store, self.reads, projections or PROJECTIONS)
        # every save is one transaction: events, their chain records and every read model (Runtime.write)
        self.store.writer = self.runtime.write
        self.store.reader = self.reads

    def close(self) -> None:
        self.reads.close()
        self.store.close()

    def __enter__(self) -> "Kyogikai":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # == read models ============================================================================
    def sync(self, progress: ProgressFn | None = None) -> int:
        if self.store.cursor is not None:   # inside atomic(): the write lock is held, nobody else can write
            return 0
        return self.runtime.catch_up(progress)

    def rebuild(self, progress: ProgressFn | None = None) -> int:
        return self.runtime.rebuild(progress)

    @contextlib.contextmanager
    def atomic(self) -> Iterator[None]:
        """Run several commands as ONE transaction: all their events, chain records and read-model
        rows commit together, or — on any exception, a crash, a SIGKILL — nothing does.

        The write lock is held throughout (other writers wait: keep units short, as an import of a
        report is); the commands inside read what the earlier ones wrote (aggregates, read models)."""
        if self.store.cursor is not None:   # already inside one
            yield
            return
        self.sync()
        self.runtime.prepare()
        with self.reads.transaction() as tx, self.runtime.unit(tx):
            self.store.cursor, self.store._unit_loads = tx.c, {}
            try:
                yield
            finally:
                self.store.cursor, self.store._unit_loads = None, {}

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        unit = self.runtime._unit
        if unit is not None:   # inside atomic(): the same question between two writes has the same answer
            key = (sql, tuple(params))
            memo = unit.setdefault("reads", {})
            if key not in memo:
                with self.reads.statement() as rows:
                    memo[key] = rows.execute(sql, params)
            return list(memo[key])
        with self.reads.statement() as rows:   # one statement: one snapshot, no transaction round trips
            return rows.execute(sql, params)

    def rows(self, table: Any, order: Sequence[str] = (), **where: Any) -> list[dict[str, Any]]:
        if self.runtime._unit is not None:   # inside atomic(): through the unit's row cache
            return self.runtime.unit_find(table, order, **where)
        with self.reads.statement() as rows:
            return rows.find(table, order, **where)

    # == resolving what users type ================================================================
    def programme(self, name: str) -> dict[str, Any]:
        progs = self.rows(org_rm.PROGRAMMES)
        hits = [p for p in progs if p["name"] == name.strip()] or [p for p in progs if _norm(p["name"]) == _norm(name)]
        if len(hits) == 1:
            return hits[0]
        raise NotFound(f"unknown programme {name!r}" + _suggest(name, [p["name"] for p in progs]))

    def body_paths(self) -> dict[str, list[str]]:
        """Each body's path: programme name, ancestors, own name."""
        bodies = {b["id"]: b for b in self.rows(org_rm.BODIES)}
        progs = {p["id"]: p["name"] for p in self.rows(org_rm.PROGRAMMES)}
        paths: dict[str, list[str]] = {}
        for bid, b in bodies.items():
            chain, cur = [], b
            while cur is not None:
                chain.append(cur["name"])
                cur = bodies.get(cur["parent_id"]) if cur["parent_id"] else None
            paths[bid] = [progs.get(b["programme_id"], "?")] + chain[::-1]
        return paths

    def body(self, name: str) -> dict[str, Any]:
        """A body by name or by path (``情報セキュリティ研究会/セキュリティ監査グループ``)."""
        wanted = [s for s in (_norm(x) for x in name.replace("／", "/").split("/")) if s]
        if not wanted:
            raise UserError("body: name is empty")
        paths = self.body_paths()

        def fits(path: list[str]) -> bool:
            # names may contain '/' (CALS/EC): compare '/'-separated tokens on both sides; the query's
            # tokens must appear in order in the path and its last token must end the path
            tokens = [t for t in (_norm(x) for x in "/".join(path).split("/")) if t]
            if tokens[-1] != wanted[-1]:
                return False
            it = iter(tokens[:-1])
            return all(any(t == w for t in it) for w in wanted[:-1])

        hits = [bid for bid, path in paths.items() if fits(path)]
        if len(hits) > 1:
            cands = sorted("/".join(paths[h]) for h in hits)
            raise UserError(f"body {name!r} is ambiguous: {len(hits)} bodies fit — " + "; ".join(cands))
        if not hits:
            raise NotFound(f"unknown body {name!r}" + _suggest(name.split("/")[-1], sorted({p[-1] for p in paths.values()})))
        return self.rows(org_rm.BODIES, id=hits[0])[0]

    def member(self, name: str) -> dict[str, Any]:
        members = self.rows(org_rm.MEMBERS)
        n = _norm(name)
        hits = [m for m in members if _norm(m["name"]) == n or (m["code"] and m["code"] == name.strip())]
        if not hits:
            hits = [m for m in members if n in {_norm(x) for x in (m["former_names"] or "").split("\n") if x}]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            raise UserError(f"member {name!r} is ambiguous: " + "; ".join(f"{m['name']} ({m['code']})" for m in hits))
        raise NotFound(f"unknown member {name!r}" + _suggest(name, [m["name"] for m in members]))

    def meeting_row(self, ref: str, fresh: bool = False) -> dict[str, Any]:
        """The meeting whose id starts with ``ref``; ``fresh``: read models brought up to date first
        (in the same round trip on PostgreSQL)."""
        ref = ref.strip().lower()
        if len(ref) < 4 or any(c not in "0123456789abcdef-" for c in ref):
            raise UserError(f"meeting id {ref!r}: give the id shown by 'kyogikai meetings' (at least 4 hex digits)")
        # a range on the primary key (ids are lower-case hex and '-', all below 'g'): an index seek on
        # both databases, where LIKE would scan every meeting; the whole rows, in one statement
        cols = list(sched_rm.MEETINGS.columns)
        sql = f"SELECT {', '.join(cols)} FROM rm_meetings WHERE id >= ? AND id < ? ORDER BY id LIMIT 2"
        if fresh and self.store.cursor is None:   # inside atomic() nobody else can write
            hits = self.runtime.fresh_read(sql, (ref, ref + "g"))
        elif self.store.cursor is not None and len(ref) == 36:   # a whole id inside atomic(): from its row cache
            hits = [tuple(r[c] for c in cols) for r in self.rows(sched_rm.MEETINGS, id=ref)]
        else:
            hits = self.query(sql, (ref, ref + "g"))
        if not hits:
            raise NotFound(f"no meeting with id {ref!r}")
        if len(hits) > 1:
            raise UserError(f"meeting id {ref!r} is ambiguous: {len(hits)} meetings start with it; give more digits")
        return dict(zip(cols, hits[0]))

    # == aggregates ==============================================================================
    def _load(self, cls: type, id: UUID | str, what: str) -> Any:
        agg = self.store.get(cls, UUID(str(id)))
        if agg is None:
            raise NotFound(f"{what} {id} does not exist")
        return agg

    def _save(self, *aggs: Any) -> list[DomainEvent]:
        return self.store.save(*aggs)   # one transaction with the read models (Runtime.write)

    def _fresh(self) -> None:
        """Bring the read models up to date before resolving names."""
        self.sync()

    # == organisation commands ====================================================================
    @retry_on_conflict
    def create_programme(self, name: str, section: str, order: int, description: str | None = None) -> Result:
        self._fresh()
        try:
            sec = org.Section(section)
        except ValueError:
            raise UserError(f"section: {section!r} is not one of all, participating") from None
        if self.store.get(org.Programme, org.Programme.id_for(name)):
            raise UserError(f"programme {name!r} already exists")
        p = org.Programme.create(name, sec, order, description, self.actor)
        return Result(p.id, self._save(p), [])

    def _programme_agg(self, name: str) -> org.Programme:
        return self._load(org.Programme, self.programme(name)["id"], "programme")

    def rename_programme(self, name: str, new_name: str) -> Result:
        self._fresh()
        p = self._programme_agg(name)
        p.rename(new_name, self.actor)
        return Result(p.id, self._save(p), [])

    def describe_programme(self, name: str, description: str | None) -> Result:
        self._fresh()
        p = self._programme_agg(name)
        p.describe(description, self.actor)
        return Result(p.id, self._save(p), [])

    def dissolve_programme(self, name: str, on: dt.date) -> Result:
        self._fresh()
        p = self._programme_agg(name)
        p.dissolve(on, self.actor)
        return Result(p.id, self._save(p), [])

    @retry_on_conflict
    def create_body(self, name: str, *, programme: str | None = None, parent: str | None = None, kind: str = "other",
                    order: int | None = None, inline: bool = False, public: bool = True,
                    description: str | None = None) -> Result:
        self._fresh()
        try:
            bkind = org.BodyKind(kind)
        except ValueError:
            raise UserError(f"kind: {kind!r} is not one of " + ", ".join(k.value for k in org.BodyKind)) from None
        parent_agg = self._load(org.Body, self.body(parent)["id"], "body") if parent else None
        if parent_agg is not None:
            prog = self._load(org.Programme, parent_agg.programme_id, "programme")
            if programme and self.programme(programme)["id"] != str(prog.id):
                raise UserError(f"parent body {parent!r} is not in programme {programme!r}")
        elif programme:
            prog = self._programme_agg(programme)
        else:
            raise UserError("programme: a body needs --programme or --parent")
        if order is None:
            siblings = self.rows(org_rm.BODIES, programme_id=str(prog.id),
                                 parent_id=str(parent_agg.id) if parent_agg else None)
            order = max((s["ord"] for s in siblings), default=0) + 1
        if self.store.get(org.Body, org.Body.id_for(prog.id, parent_agg.id if parent_agg else None, name)):
            raise UserError(f"body {name!r} already exists there")
        b = org.Body.create(name=name, kind=bkind, programme=prog, parent=parent_agg, order=order, inline=inline,
                            public=public, description=description, actor=self.actor)
        return Result(b.id, self._save(b), [])

    def _body_agg(self, name: str) -> org.Body:
        return self._load(org.Body, self.body(name)["id"], "body")

    def rename_body(self, name: str, new_name: str) -> Result:
        self._fresh()
        b = self._body_agg(name)
        b.rename(new_name, self.actor)
        return Result(b.id, self._save(b), [])

    def describe_body(self, name: str, description: str | None) -> Result:
        self._fresh()
        b = self._body_agg(name)
        b.describe(description, self.actor)
        return Result(b.id, self._save(b), [])

    def set_body_public(self, name: str, public: bool) -> Result:
        self._fresh()
        b = self._body_agg(name)
        b.set_public(public, self.actor)
        return Result(b.id, self._save(b), [])

    def dissolve_body(self, name: str, on: dt.date) -> Result:
        self._fresh()
        b = self._body_agg(name)
        b.dissolve(on, self.actor)
        return Result(b.id, self._save(b), [])

    @retry_on_conflict
    def create_member(self, name: str, kind: str, member_class: str = "member", code: str | None = None) -> Result:
        self._fresh()
        try:
            mkind, mclass = org.MemberKind(kind), org.MemberClass(member_class)
        except ValueError:
            raise UserError(f"kind/class: {kind!r}/{member_class!r}: kind is one of "
                            + ", ".join(k.value for k in org.MemberKind) + "; class is member or associate") from None
        m = org.Member.create(name, mkind, mclass, code, self.actor)
        if self.store.get(org.Member, m.id):
            raise UserError(f"member {name!r} already exists")
        return Result(m.id, self._save(m), [])

    def _member_agg(self, name: str) -> org.Member:
        return self._load(org.Member, self.member(name)["id"], "member")

    def rename_member(self, name: str, new_name: str, on: dt.date | None = None) -> Result:
        self._fresh()
        m = self._member_agg(name)
        m.rename(new_name, on, self.actor)
        return Result(m.id, self._save(m), [])

    def dissolve_member(self, name: str, on: dt.date) -> Result:
        self._fresh()
        m = self._member_agg(name)
        m.dissolve(on, self.actor)
        return Result(m.id, self._save(m), [])

    @retry_on_conflict
    def join(self, member: str, *, body: str | None = None, programme: str | None = None, since: dt.date,
             leave: bool = False) -> Result:
        """Start (or with ``leave`` end) a member's membership of a body or participation in a programme."""
        self._fresh()
        m = self._member_agg(member)
        m.ensure_active(since)
        owner: org.Body | org.Programme
        if body:
            owner = self._body_agg(body)
        elif programme:
            owner = self._programme_agg(programme)
        else:
            raise UserError("membership: give --body or --programme")
        if leave:
            owner.leave(m.id, since, self.actor)
        else:
            owner.join(m.id, since, self.actor)
        return Result(owner.id, self._save(owner), [])

    # == meetings and activities ==================================================================
    @retry_on_conflict
    def schedule(self, *, kind: str = "meeting", body: str | None = None, programme: str | None = None,
                 period: Period, start_time: dt.time | None = None, end_time: dt.time | None = None,
                 ordinal: int | None = None, part: int | None = None, series: str | None = None,
                 title: str | None = None, speaker: str | None = None, refers_to: str | None = None,
                 format: Format | None = None, format_label: str | None = None, venue: str | None = None,
                 modes: Sequence[str] = (), agenda: Sequence[str] = (), id: UUID | None = None,
                 answer_by: dt.date | None = None) -> Result:
        self._fresh()
        try:
            k = mt.Kind(kind)
            audit_modes = [mt.AuditMode(x) for x in modes]
        except ValueError as exc:
            raise UserError(f"kind/mode: {exc}") from None
        body_agg = self._body_agg(body) if body else None
        if body_agg is not None:
            body_agg.ensure_active(period.start)
            prog_id = body_agg.programme_id
            if programme and self.programme(programme)["id"] != str(prog_id):
                raise UserError(f"body {body!r} is not in programme {programme!r}")
        elif programme:
            prog_id = self._programme_agg(programme).id
        else:
            raise UserError("body: give --body (or --programme for an activity)")
        ref = None
        if refers_to:
            ref = self._load(mt.Meeting, self.meeting_row(refers_to)["id"], "meeting")
        m = mt.Meeting.schedule(kind=k, programme_id=prog_id, body_id=body_agg.id if body_agg else None,
                                period=period, start_time=start_time, end_time=end_time, ordinal=ordinal, part=part,
                                series=series, title=title, speaker=speaker, refers_to=ref, format=format,
                                format_label=format_label, venue=venue, modes=audit_modes, agenda=list(agenda),
                                actor=self.actor, id=id)
        register = self._take_ordinal(m)
        warnings = self._date_warnings(period, format)
        from .answers import deadline_sheet  # the answer deadline (回答期限) is saved with the meeting
        return Result(m.id, self._save(m, *register, *deadline_sheet(self, m, answer_by)), warnings)

    def _take_ordinal(self, m: mt.Meeting) -> list[mt.OrdinalRegister]:
        key = m.ordinal_key
        if key is None:
            return []
        rid = mt.OrdinalRegister.id_for(m.owner_id, m.fiscal_year)
        reg = self.store.get(mt.OrdinalRegister, rid) or mt.OrdinalRegister(rid)
        label = self.label(m.kind.value, m.ordinal, m.part, m.series, m.title, m.body_id, m.speaker)
        reg.take(key, m.id, f"{label} in {dates.format_fiscal_year(m.fiscal_year)}", self.actor)
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

    def label(self, kind: str, ordinal: int | None, part: int | None, series: str | None, title: str | None,
              body_id: UUID | str | None, speaker: str | None = None, refers_to: str | None = None) -> str:
        body_name = None
        if body_id:
            rows = self.rows(org_rm.BODIES, id=str(body_id))
            body_name = rows[0]["name"] if rows else None
        ref_label = None
        if refers_to:
            r = self.rows(sched_rm.MEETINGS, id=str(refers_to))
            if r:
                ref_label = self.label(r[0]["kind"], r[0]["ordinal"], r[0]["part"], r[0]["series"], r[0]["title"],
                                       r[0]["body_id"], r[0]["speaker"])
        return item_label(kind=kind, ordinal=ordinal, part=part, series=series, title=title, body_name=body_name,
                          speaker=speaker, refers_to_label=ref_label)

    def _meeting(self, ref: str) -> mt.Meeting:
        return self._load(mt.Meeting, self.meeting_row(ref, fresh=True)["id"], "meeting")

    def reschedule(self, ref: str, period: Period, start_time: dt.time | None = None,
                   end_time: dt.time | None = None, reason: str | None = None) -> Result:
        m = self._meeting(ref)
        old_fy = m.fiscal_year
        m.reschedule(period, start_time, end_time, self.actor, reason)
        regs: list[mt.OrdinalRegister] = []
        if m.ordinal_key and m.fiscal_year != old_fy:
            old = self.store.get(mt.OrdinalRegister, mt.OrdinalRegister.id_for(m.owner_id, old_fy))
            if old is not None:
                old.release(m.ordinal_key, m.id, self.actor)
                regs.append(old)
            regs += self._take_ordinal(m)
        return Result(m.id, self._save(m, *regs), self._date_warnings(period, m.format))

    def change_details(self, ref: str, **changes: Any) -> Result:
        m = self._meeting(ref)
        m.change_details(self.actor, **changes)
        return Result(m.id, self._save(m), [])

    def change_with_deadline(self, ref: str, answer_by: dt.date | None, **changes: Any) -> Result:
        """Change details and/or the answer deadline (回答期限) in one transaction."""
        from .answers import deadline_sheet

        m = self._meeting(ref)
        if changes:
            m.change_details(self.actor, **changes)
        return Result(m.id, self._save(m, *deadline_sheet(self, m, answer_by)), [])

    def cancel(self, ref: str, reason: str | None = None) -> Result:
        m = self._meeting(ref)
        m.cancel(reason, self.actor)
        return Result(m.id, self._save(m), [])

    def reinstate(self, ref: str) -> Result:
        m = self._meeting(ref)
        m.reinstate(self.actor)
        return Result(m.id, self._save(m), [])

    def hold(self, ref: str, period: Period | None = None, start_time: dt.time | None = None,
             end_time: dt.time | None = None) -> Result:
        m = self._meeting(ref)
        m.hold(period, start_time, end_time, self.actor, today=tokyo_today())
        return Result(m.id, self._save(m), [])

    @retry_on_conflict
    def add_agenda(self, ref: str, texts: Iterable[str]) -> Result:
        m = self._meeting(ref)
        for text in texts:
            m.add_agenda_item(text, self.actor)
        return Result(m.id, self._save(m), [])

    def withdraw_agenda(self, ref: str, item: str) -> Result:
        m = self._meeting(ref)
        m.withdraw_agenda_item(m.agenda_item(item), self.actor)
        return Result(m.id, self._save(m), [])

    def record_outcome(self, ref: str, item: str, outcome: str) -> Result:
        m = self._meeting(ref)
        m.record_outcome(m.agenda_item(item), outcome, self.actor)
        return Result(m.id, self._save(m), [])

    @retry_on_conflict
    def record_attendance(self, ref: str, entries: Sequence[tuple[str, str]]) -> Result:
        m = self._meeting(ref)
        for member, status in entries:
            try:
                att = mt.Attendance(status)
            except ValueError:
                raise UserError(f"attendance: {status!r} is not one of "
                                + ", ".join(a.value for a in mt.Attendance)) from None
            m.record_attendance(UUID(self.member(member)["id"]), att, self.actor)
        return Result(m.id, self._save(m), [])

    @retry_on_conflict
    def record_participation(self, ref: str, members: Sequence[str], took_part: bool = True) -> Result:
        m = self._meeting(ref)
        for member in members:
            m.record_participation(UUID(self.member(member)["id"]), took_part, self.actor)
        return Result(m.id, self._save(m), [])

    @retry_on_conflict
    def record_drill_result(self, ref: str, member: str, mails_sent: int, links_opened: int,
                            reported: int | None = None) -> Result:
        m = self._meeting(ref)
        m.record_drill_result(UUID(self.member(member)["id"]), mails_sent, links_opened, reported, self.actor)
        return Result(m.id, self._save(m), [])

    def write_narrative(self, fy: int, paragraphs: list[str], *, body: str | None = None,
                        programme: str | None = None) -> Result:
        self._fresh()
        if body:
            target, tid = "body", UUID(self.body(body)["id"])
        elif programme:
            target, tid = "programme", UUID(self.programme(programme)["id"])
        else:
            raise UserError("narrative: give --body or --programme")
        nid = mt.Narrative.id_for(fy, tid)
        n = self.store.get(mt.Narrative, nid) or mt.Narrative(nid)
        n.write(fy, target, tid, paragraphs, self.actor)
        return Result(n.id, self._save(n), [])

    # == queries =================================================================================
    def meetings(self, fiscal_year: int | None = None, body: str | None = None,
                 include_sub_bodies: bool = False) -> list[dict[str, Any]]:
        self._fresh()
        where, params = [], []
        if fiscal_year is not None:
            where.append("fiscal_year = ?")
            params.append(fiscal_year)
        if body:
            b = self.body(body)
            where.append("body_id = ?")
            params.append(b["id"])
        sql = "SELECT id FROM rm_meetings" + (" WHERE " + " AND ".join(where) if where else "")
        ids = {r[0] for r in self.query(sql, params)}
        rows = [r for r in self.rows(sched_rm.MEETINGS, order=("start_date", "created_at")) if r["id"] in ids]
        paths = self.body_paths()
        progs = {p["id"]: p["name"] for p in self.rows(org_rm.PROGRAMMES)}
        out = []
        for r in rows:
            path = paths.get(r["body_id"]) if r["body_id"] else None
            out.append({
                "id": r["id"], "kind": r["kind"], "programme": progs.get(r["programme_id"]),
                "body": path[-1] if path else None, "body_path": "/".join(path) if path else None,
                "label": self.label(r["kind"], r["ordinal"], r["part"], r["series"], r["title"], r["body_id"],
                                    r["speaker"], r["refers_to"]),
                "ordinal": r["ordinal"], "part": r["part"], "series": r["series"], "title": r["title"],
                "start": r["start_date"], "end": r["end_date"], "precision": r["precision"],
                "start_time": r["start_time"], "end_time": r["end_time"],
                "dates": dates.format_period(Period(dt.date.fromisoformat(r["start_date"]),
                                                    dt.date.fromisoformat(r["end_date"]), r["precision"])),
                "format": r["format"], "format_label": r["format_label"], "venue": r["venue"],
                "status": r["status"], "fiscal_year": r["fiscal_year"], "sequence": r["sequence"],
            })
        return out

    def log(self, after: int = 0, limit: int | None = None) -> list[tuple[int, DomainEvent]]:
        out = []
        for pos, e in self.store.iter_all(after):
            out.append((pos, e))
            if limit and len(out) >= limit:
                break
        return out

    def history(self, ref: str) -> list[DomainEvent]:
        """Events of one meeting (id prefix), body, programme or member (name)."""
        self._fresh()
        finders: list[Callable[[str], dict]] = [self.meeting_row, self.body, self.programme, self.member]
        for find in finders:
            try:
                row = find(ref)
            except (UserError, DomainError):
                continue
            events = self.store.load(UUID(row["id"]))
            if find == self.meeting_row:  # answers and written votes live on the meeting's answer sheet
                import heapq

                from .domain.answers import AnswerSheet
                sheet = self.store.load(AnswerSheet.id_for(UUID(row["id"])))
                if sheet:  # interleaved by time; each aggregate's own events keep their order
                    events = list(heapq.merge(events, sheet, key=lambda e: e.timestamp))
            return events
        raise NotFound(f"nothing called {ref!r}: not a meeting id, body, programme or member")

    def display_names(self, ids: Iterable[str]) -> dict[str, str]:
        """Readable names for ids found in events: programmes, bodies (their path), members and
        meetings (their label); ids that are none of these are left out."""
        wanted = {str(i) for i in ids}
        if not wanted:
            return {}
        out: dict[str, str] = {}
        for table in (org_rm.PROGRAMMES, org_rm.MEMBERS):
            for r in self.rows(table):
                if r["id"] in wanted:
                    out[r["id"]] = r["name"]
        paths = self.body_paths()
        out.update({i: "/".join(p) for i, p in paths.items() if i in wanted})
        for i in wanted - out.keys():
            for r in self.rows(sched_rm.MEETINGS, id=i):
                period = Period(dt.date.fromisoformat(r["start_date"]), dt.date.fromisoformat(r["end_date"]),
                                r["precision"])
                label = self.label(r["kind"], r["ordinal"], r["part"], r["series"], r["title"], r["body_id"],
                                   r["speaker"], r["refers_to"])
                out[i] = f"{label}（{dates.format_period(period)}）"
        return out

    def as_of(self, until: dt.datetime, projections: Sequence[Any] | None = None) -> Any:
        return project_until(self.store, projections or self.runtime.projections, until)

    # == council settings (domain/council.py) =====================================================
    def council(self, sync: bool = True) -> dict[str, Any]:
        """The council's current settings (name ``協議会`` until one is set) and when they last changed,
        from the ``council`` read model (never the log); ``sync=False`` when the caller just synced."""
        from .projections import council as council_rm

        if sync:
            self.sync()
        found = self.rows(council_rm.COUNCIL, id=council_rm.ROW_ID)
        settings = council_domain.Council().settings()
        settings["changed_at"] = None
        if found:
            row = found[0]
            settings.update(name=row["name"], short_name=row["short_name"], base_url=row["base_url"],
                            document_font=row["document_font"] or "yu", named=True,
                            changed_at=dt.datetime.fromisoformat(row["changed_at"]))
        return settings

    def set_council(self, *, name: str | None = None, short_name: str | None = None, base_url: str | None = None,
                    document_font: str | None = None, clear: Sequence[str] = ()) -> Result:
        """Record new council settings as one event (nothing when nothing changes)."""
        from .feeds.urls import BaseURLError, base_url as check_base_url

        if base_url is not None:
            try:
                base_url = check_base_url(base_url)
            except BaseURLError as exc:
                raise UserError(f"--base-url: {exc}") from None
        agg = self.store.get(council_domain.Council, council_domain.Council.ID) or council_domain.Council()
        if not agg.change(self.actor, name=name, short_name=short_name, base_url=base_url,
                          document_font=document_font, clear=tuple(clear)):
            return Result(agg.id, [], ["nothing changed: the council's settings are already these"])
        return Result(agg.id, self._save(agg), [])

    def council_history(self) -> list[DomainEvent]:
        return self.store.load(council_domain.Council.ID)


def _suggest(name: str, names: Iterable[str]) -> str:
    close = difflib.get_close_matches(name.strip(), list(names), n=3, cutoff=0.5)
    return f" (did you mean {', '.join(close)}?)" if close else ""


__all__ = ["Kyogikai", "UserError", "ConflictError", "StoreError", "DomainError", "DateError", "FormatError",
           "NotFound", "Result"]
