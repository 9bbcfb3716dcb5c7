"""What every application service shares: the store, the read models, who records, one unit of work.

:class:`Context` opens the event store and the read store of one database and keeps the read
models current (:meth:`Context.sync`); a command loads aggregates (:meth:`Context.load`), lets them
decide, and saves their new events with every read model in one transaction (:meth:`Context.save`).
Reads go through :meth:`Context.rows` (a table and equality conditions) or :meth:`Context.read` (a
named query function of the projection module that owns the table); inside :meth:`Context.atomic`
both answer the same question the same way between two writes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import getpass
import os
import random
import time
import unicodedata
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence, TypeVar
from uuid import UUID

from ..domain.events import DomainEvent, NotFound
from ..domain.text import TextError, clean
from ..i18n import N_, M
from ..projections import ALL as PROJECTIONS
from ..projections.runtime import ProgressFn, Runtime, SQLRows, open_read_store
from ..store import ConflictError, EventStore, Location

T = TypeVar("T")

# what :meth:`Context._load` may name (translated when shown)
THINGS = (N_("programme"), N_("body"), N_("member"), N_("meeting"), N_("token"))


class UserError(Exception):
    """Bad input or a broken rule: one line, exit code 2."""

    exit_code = 2


@dataclass
class Result:
    id: UUID
    events: list[DomainEvent]
    warnings: list[M]          # messages, shown after 'warning: ' in the reader's language


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
        raise UserError(M("actor: must be at most 100 printable characters"))
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
    def attempt(*args: Any, **kwargs: Any) -> Any:
        for n in range(1, CONFLICT_ATTEMPTS + 1):
            try:
                return command(*args, **kwargs)
            except ConflictError:
                if n == CONFLICT_ATTEMPTS:
                    raise
                time.sleep(random.uniform(0.005, 0.03) * n)
    attempt.retries_conflicts = True  # type: ignore[attr-defined]
    return attempt


def tokyo_today() -> dt.date:
    """Today in Asia/Tokyo (the council's calendar day), whatever the machine's time zone."""
    return dt.datetime.now(dt.timezone(dt.timedelta(hours=9))).date()


class Context:
    """One database opened for one actor: the store, the read models and the unit of work."""

    def __init__(self, db: str | None = None, actor: str | None = None,
                 projections: Sequence[Any] | None = None, create: bool = True) -> None:
        """``create=False`` (the CLI): a store named with --db / KYOGIKAI_DB that does not exist raises
        :class:`~kyogikai.store.StoreMissing` and nothing is created; the default location is always created."""
        self.location = Location.parse(db)
        self.actor = resolve_actor(actor)
        self.store = EventStore(self.location, create=create or self.location.default)
        self.reads = open_read_store(self.location)
        self.runtime = Runtime(self.store, self.reads, projections or PROJECTIONS)
        # every save is one transaction: events, their chain records and every read model (Runtime.write)
        self.store.writer = self.runtime.write
        self.store.reader = self.reads

    def close(self) -> None:
        self.reads.close()
        self.store.close()

    # == read models ============================================================================
    progress: ProgressFn | None = None   # for catch-ups without one of their own (the CLI's progress bar)

    def sync(self, progress: ProgressFn | None = None) -> int:
        if self.store.cursor is not None:   # inside atomic(): the write lock is held, nobody else can write
            return 0
        return self.runtime.catch_up(progress or self.progress)

    def rebuild(self, progress: ProgressFn | None = None) -> int:
        return self.runtime.rebuild(progress)

    @contextlib.contextmanager
    def atomic(self, resident: bool = False) -> Iterator[None]:
        """Run several commands as ONE transaction: all their events, chain records and read-model
        rows commit together, or — on any exception, a crash, a SIGKILL — nothing does.

        The write lock is held throughout (other writers wait: keep units short, as an import of a
        report is); the commands inside read what the earlier ones wrote (aggregates, read models).
        ``resident``: for a unit of many commands, the organisation-sized read-model tables are read
        whole once and answered from memory (``Runtime.unit``)."""
        if self.store.cursor is not None:   # already inside one
            yield
            return
        self.sync()
        self.runtime.prepare()
        with self.reads.transaction() as tx, self.runtime.unit(tx, resident):
            self.store.cursor, self.store._unit_loads = tx.c, {}
            try:
                yield
            finally:
                self.store.cursor, self.store._unit_loads = None, {}

    def _memo(self, key: tuple, ask: Callable[[SQLRows], T]) -> T:
        """``ask`` on one statement; inside atomic() the same question between two writes has the same
        answer (the memo is dropped by the unit's next write, see Runtime.write)."""
        unit = self.runtime._unit
        if unit is None:
            with self.reads.statement() as rows:   # one statement: one snapshot, no transaction round trips
                return ask(rows)
        memo = unit.setdefault("reads", {})
        if key not in memo:
            with self.reads.statement() as rows:
                memo[key] = ask(rows)
        return memo[key]

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """Raw SQL on the read models: for tests, benchmarks and diagnostics, and for SQL a projection
        module writes (e.g. ``schedule.by_prefix_sql``); the product otherwise asks through
        :meth:`read` and the projections' named queries."""
        return list(self._memo((sql, tuple(params)), lambda rows: rows.execute(sql, params)))

    def read(self, query: Callable[..., T], *args: Any) -> T:
        """A named query of a projection module (``query(rows, *args)``), on one statement."""
        return self._memo((query, args), lambda rows: query(rows, *args))

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[SQLRows]:
        """Several reads (named queries, ``find``, ``get``) on one consistent snapshot of the read models."""
        with self.reads.transaction(write=False) as rows:
            yield rows

    def rows(self, table: Any, order: Sequence[str] = (), **where: Any) -> list[dict[str, Any]]:
        """Rows of a read-model table matching ``where`` (equality), in ``order``.

        After :meth:`_fresh` (or inside atomic()) the read models hold every event of the log, so a
        command may ask them whether an aggregate with a deterministic id exists (a row is there iff
        its first event is) instead of loading its events: inside an import's unit that is answered
        from memory.  Should another process create it meanwhile, the insert of its first event
        conflicts and nothing is written (ConflictError)."""
        if self.runtime._unit is not None:   # inside atomic(): through the unit's row cache
            return self.runtime.unit_find(table, order, **where)
        with self.reads.statement() as rows:
            return rows.find(table, order, **where)

    # == aggregates ==============================================================================
    def _load(self, cls: type, id: UUID | str, what: str) -> Any:
        agg = self.store.get(cls, UUID(str(id)))
        if agg is None:
            raise NotFound(M("{what} {id} does not exist", what=M(what), id=str(id)))
        return agg

    def _save(self, *aggs: Any) -> list[DomainEvent]:
        return self.store.save(*aggs)   # one transaction with the read models (Runtime.write)

    def _fresh(self) -> None:
        """Bring the read models up to date before resolving names."""
        self.sync()

    def fresh_after_load(self) -> None:
        """:meth:`_fresh` after an aggregate was loaded: nothing to do when the load's prefetch (the
        same round trip, PostgreSQL) found the read models at the log's end."""
        if not self.runtime.saw_current:
            self.sync()
