"""Projection runtime: read models kept current from the event log, in the same database.

A projection is a module with ``NAME``, ``VERSION``, ``TABLES`` and ``apply(event, rows)``: event
in, rows out.  ``rows`` is a :class:`Rows` — get / put / delete / find on declared tables — with
three adapters: SQLite (same file as the events), PostgreSQL (same schema) and memory (for
``--as-of``: the same projection code over the events recorded up to a moment).

Catching up (the eventsourcing 9.5 SQLite recorder cannot ``subscribe()``, so we poll): under a
write lock (SQLite ``BEGIN IMMEDIATE``; a PostgreSQL advisory transaction lock), read each
projection's position, read the next batch of notifications after the lowest one, apply them, and
write the rows and the new positions in the same transaction.  A crash or a concurrent catch-up
therefore never applies an event twice or skips one.  Batches go on in the same transaction to the
end of the log (up to ``Runtime.MAX_TRANSACTION`` events), so a commit always ends where a writer's
transaction ended and no reader sees half of a command; the same transaction extends the hash
chain (:mod:`kyogikai.ledger`).  A projection whose ``VERSION`` changed is reset in one transaction
(tables and position together) and rebuilt from the log on its next catch-up; ``rebuild`` resets
in the transaction of its first piece.  On PostgreSQL a read transaction is ``REPEATABLE READ``:
its queries see one snapshot, as SQLite's WAL gives.
"""

from __future__ import annotations

import sqlite3
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Callable, Iterable, Iterator, Protocol, Sequence

from ..ledger import Ledger
from ..store import EventStore, Location, StoreError, lock_timeout, one_line

ProgressFn = Callable[[int, int], None]


@dataclass(frozen=True)
class Table:
    name: str
    columns: dict[str, str]                 # column -> "text" | "int"
    key: tuple[str, ...]
    indexes: tuple[tuple[str, ...], ...] = field(default=())


POSITIONS = Table("rm_positions", {"projection": "text", "version": "int", "position": "int"}, ("projection",))


class Rows(Protocol):
    def get(self, table: Table, *key: Any) -> dict[str, Any] | None: ...
    def put(self, table: Table, row: dict[str, Any]) -> None: ...
    def delete(self, table: Table, *key: Any) -> None: ...
    def find(self, table: Table, order: Sequence[str] = (), **where: Any) -> list[dict[str, Any]]: ...


# --- SQL adapters ------------------------------------------------------------------------------

class SQLRows:
    """Rows over a DB-API cursor; ``ph`` is the parameter placeholder of the driver."""

    def __init__(self, cursor: Any, ph: str) -> None:
        self.c, self.ph = cursor, ph
        self._sql: dict[tuple, str] = {}

    def _row(self, table: Table, values: Sequence[Any] | None) -> dict[str, Any] | None:
        if values is None:
            return None
        return dict(zip(table.columns, values))

    def get(self, table: Table, *key: Any) -> dict[str, Any] | None:
        sql = self._sql.get(("get", table.name))
        if sql is None:
            where = " AND ".join(f"{k}={self.ph}" for k in table.key)
            sql = self._sql[("get", table.name)] = f"SELECT {', '.join(table.columns)} FROM {table.name} WHERE {where}"
        self.c.execute(sql, key)
        return self._row(table, self.c.fetchone())

    def put(self, table: Table, row: dict[str, Any]) -> None:
        sql = self._sql.get(("put", table.name))
        if sql is None:
            cols = list(table.columns)
            updates = ", ".join(f"{c}=excluded.{c}" for c in cols if c not in table.key) or f"{table.key[0]}=excluded.{table.key[0]}"
            sql = self._sql[("put", table.name)] = (
                f"INSERT INTO {table.name} ({', '.join(cols)}) VALUES ({', '.join([self.ph] * len(cols))}) "
                f"ON CONFLICT ({', '.join(table.key)}) DO UPDATE SET {updates}")
        self.c.execute(sql, [row.get(c) for c in table.columns])

    def delete(self, table: Table, *key: Any) -> None:
        where = " AND ".join(f"{k}={self.ph}" for k in table.key)
        self.c.execute(f"DELETE FROM {table.name} WHERE {where}", key)

    def find(self, table: Table, order: Sequence[str] = (), **where: Any) -> list[dict[str, Any]]:
        sql = f"SELECT {', '.join(table.columns)} FROM {table.name}"
        params: list[Any] = []
        if where:
            conds = []
            for k, v in where.items():
                if v is None:
                    conds.append(f"{k} IS NULL")
                else:
                    conds.append(f"{k}={self.ph}")
                    params.append(v)
            sql += " WHERE " + " AND ".join(conds)
        sql += " ORDER BY " + ", ".join(order or table.key)
        self.c.execute(sql, params)
        return [dict(zip(table.columns, r)) for r in self.c.fetchall()]

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """Raw read for renderers that need joins or aggregates (placeholders written as ``?``)."""
        self.c.execute(sql.replace("?", self.ph), params)
        return [tuple(r) for r in self.c.fetchall()] if self.c.description else []


_DELETED = object()


class CachedRows(SQLRows):
    """SQLRows with a write-behind cache, for applying a batch of events in one transaction.

    ``get`` answers from rows already read or written in this batch; ``put`` and ``delete`` are
    buffered and written with ``executemany`` when the batch ends, or before any ``find`` or
    ``execute`` on the same connection (so queries always see every change).  Cuts the statements
    of a rebuild from several per event to a few per batch.
    """

    def __init__(self, cursor: Any, ph: str) -> None:
        super().__init__(cursor, ph)
        self.cache: dict[tuple[str, tuple], Any] = {}
        self.dirty: dict[str, tuple[Table, dict[tuple, Any]]] = {}

    def get(self, table: Table, *key: Any) -> dict[str, Any] | None:
        k = (table.name, key)
        if k in self.cache:
            hit = self.cache[k]
            return None if hit is _DELETED else dict(hit)
        row = super().get(table, *key)
        self.cache[k] = _DELETED if row is None else row
        return None if row is None else dict(row)

    def put(self, table: Table, row: dict[str, Any]) -> None:
        key = tuple(row.get(k) for k in table.key)
        row = dict(row)
        self.cache[(table.name, key)] = row
        self.dirty.setdefault(table.name, (table, {}))[1][key] = row

    def delete(self, table: Table, *key: Any) -> None:
        self.cache[(table.name, key)] = _DELETED
        self.dirty.setdefault(table.name, (table, {}))[1][key] = _DELETED

    def find(self, table: Table, order: Sequence[str] = (), **where: Any) -> list[dict[str, Any]]:
        self.flush(table.name)
        return super().find(table, order, **where)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """Raw SQL sees every buffered change; the cache is dropped since the SQL may have written."""
        self.flush()
        out = super().execute(sql, params)
        self.cache.clear()
        return out

    def flush(self, only: str | None = None) -> None:
        for name in [only] if only is not None else list(self.dirty):
            if name not in self.dirty:
                continue
            table, changes = self.dirty.pop(name)
            upserts = [r for r in changes.values() if r is not _DELETED]
            deletes = [k for k, r in changes.items() if r is _DELETED]
            if deletes:
                where = " AND ".join(f"{k}={self.ph}" for k in table.key)
                self.c.executemany(f"DELETE FROM {table.name} WHERE {where}", deletes)
            if upserts:
                super().put(table, upserts[0])  # prepares the statement text
                sql = self._sql[("put", table.name)]
                self.c.executemany(sql, [[r.get(c) for c in table.columns] for r in upserts[1:]])


def ddl(table: Table, int_type: str) -> list[str]:
    cols = ", ".join(f"{c} {'TEXT' if t == 'text' else int_type}" for c, t in table.columns.items())
    out = [f"CREATE TABLE IF NOT EXISTS {table.name} ({cols}, PRIMARY KEY ({', '.join(table.key)}))"]
    for idx in table.indexes:
        out.append(f"CREATE INDEX IF NOT EXISTS {table.name}_{'_'.join(idx)} ON {table.name} ({', '.join(idx)})")
    return out


class ReadStore:
    """Where read models live; subclasses give a locked transaction yielding :class:`SQLRows`."""

    int_type = "INTEGER"
    existing_tables_sql: str | None = "SELECT name FROM sqlite_master WHERE type = 'table'"

    @contextmanager
    def transaction(self, write: bool = True) -> Iterator[SQLRows]:  # pragma: no cover - abstract
        raise NotImplementedError
        yield

    @contextmanager
    def batch(self) -> Iterator[CachedRows]:
        """A write transaction whose row changes are cached and written together at the end."""
        with self.transaction() as rows:
            cached = CachedRows(rows.c, rows.ph)
            yield cached
            cached.flush()

    def create(self, tables: Iterable[Table]) -> None:
        with self.transaction() as rows:
            for t in tables:
                for stmt in ddl(t, self.int_type):
                    rows.c.execute(stmt)

    def drop(self, tables: Iterable[Table]) -> None:
        with self.transaction() as rows:
            for t in tables:
                rows.c.execute(f"DROP TABLE IF EXISTS {t.name}")

    def close(self) -> None:
        pass

    def data_version(self) -> int | None:
        """A number that changes when another connection commits to the database (None: unknown)."""
        return None


class SQLiteReadStore(ReadStore):
    def __init__(self, path: str) -> None:
        try:
            self.conn = sqlite3.connect(path, isolation_level=None, timeout=lock_timeout(), check_same_thread=False)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open {path}: {exc}") from None

    @contextmanager
    def transaction(self, write: bool = True) -> Iterator[SQLRows]:
        cur = self.conn.cursor()
        cur.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            yield SQLRows(cur, "?")
        except BaseException:
            self.conn.rollback()
            raise
        else:
            self.conn.commit()
        finally:
            cur.close()

    def close(self) -> None:
        self.conn.close()

    def data_version(self) -> int | None:
        return self.conn.execute("PRAGMA data_version").fetchone()[0]


class PostgresReadStore(ReadStore):
    int_type = "BIGINT"
    existing_tables_sql = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
    LOCK_KEY = 0x6B796F67  # 'kyog': serialises catch-ups within one schema

    def __init__(self, location: Location) -> None:
        import psycopg

        try:
            self.conn = psycopg.connect(dbname=location.dbname, host=location.host, port=location.port,
                                        user=location.user, password=location.password, connect_timeout=5,
                                        options=f"-c search_path={location.schema} -c lock_timeout={int(lock_timeout() * 1000)}")
        except psycopg.Error as exc:
            raise StoreError(f"cannot connect to {location.describe()}: {one_line(exc)}") from None

    @contextmanager
    def transaction(self, write: bool = True) -> Iterator[SQLRows]:
        with self.conn.transaction(), self.conn.cursor() as cur:
            if write:
                cur.execute("SELECT pg_advisory_xact_lock(%s)", (self.LOCK_KEY,))
            else:  # one snapshot for every query of a read (as SQLite's WAL gives): never a mix of two states
                cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield SQLRows(cur, "%s")

    def close(self) -> None:
        self.conn.close()


def open_read_store(location: Location) -> ReadStore:
    if location.kind == "sqlite":
        return SQLiteReadStore(location.path)
    return PostgresReadStore(location)


# --- the runtime ------------------------------------------------------------------------------

class Runtime:
    """Keeps a set of projections current against one event store."""

    def __init__(self, store: EventStore, reads: ReadStore, projections: Sequence[ModuleType], batch: int = 1000) -> None:
        self.store, self.reads, self.projections, self.batch = store, reads, list(projections), batch
        self._prepared = False
        self.ledger: Ledger | None = Ledger(store.location.kind)  # the hash chain grows under the same lock (ledger.py)

    def prepare(self) -> None:
        """Create tables; reset a projection whose VERSION changed so it rebuilds from the log."""
        if self._prepared:
            return
        if self._current():
            self._prepared = True
            return
        self.reads.create([POSITIONS])
        with self.reads.transaction() as rows:  # one locked transaction: see _reset
            known = {r["projection"]: r for r in rows.find(POSITIONS)}
            stale = [p for p in self.projections
                     if known.get(p.NAME) is None or known[p.NAME]["version"] != p.VERSION]
            self._reset(rows, stale)
            for p in self.projections:
                if p not in stale:
                    for t in p.TABLES:
                        for stmt in ddl(t, self.reads.int_type):
                            rows.c.execute(stmt)
        self._prepared = True

    def _current(self) -> bool:
        """Every table exists and every projection is at its VERSION: nothing to create (two reads)."""
        with self.reads.transaction(write=False) as rows:
            if self.reads.existing_tables_sql is None:
                return False
            tables = {r[0] for r in rows.execute(self.reads.existing_tables_sql)}
            wanted = {POSITIONS.name} | {t.name for p in self.projections for t in p.TABLES}
            if not wanted <= tables:
                return False
            known = {r["projection"]: r["version"] for r in rows.find(POSITIONS)}
        return all(known.get(p.NAME) == p.VERSION for p in self.projections)

    def _reset(self, rows: SQLRows, projections: Sequence[ModuleType]) -> None:
        """Drop, recreate and zero the position of ``projections`` inside the caller's transaction.

        One transaction with the position reset, so a crash (or a concurrent catch-up) never sees
        emptied tables under a stale position, which no catch-up would ever refill.
        """
        for p in projections:
            for t in p.TABLES:
                rows.c.execute(f"DROP TABLE IF EXISTS {t.name}")
                for stmt in ddl(t, self.reads.int_type):
                    rows.c.execute(stmt)
            rows.put(POSITIONS, {"projection": p.NAME, "version": p.VERSION, "position": 0})

    def positions(self) -> dict[str, int]:
        self.prepare()
        with self.reads.transaction(write=False) as rows:
            found = {r["projection"]: r["position"] for r in rows.find(POSITIONS)}
        return {p.NAME: found.get(p.NAME, 0) for p in self.projections}

    def behind(self) -> bool:
        return min(self.positions().values(), default=0) < self.store.max_position()

    MAX_TRANSACTION = 20_000  # events applied in one transaction before a commit (see catch_up)

    def catch_up(self, progress: ProgressFn | None = None) -> int:
        """Apply every event not yet applied; returns how many were applied.

        One transaction applies batches of ``batch`` events until the end of the log as it stands,
        so it ends where a writer's transaction ended: no reader ever sees half of a command's (or an
        import's) events applied.  Only a backlog beyond ``MAX_TRANSACTION`` events is committed in
        pieces (each piece still atomic with its positions).
        """
        self.prepare()
        if not self.behind():  # a cheap read first: no write lock when there is nothing to apply
            return 0
        return self._apply(progress, reset=False)

    def _apply(self, progress: ProgressFn | None, reset: bool) -> int:
        done, total = 0, None
        while True:
            with self.reads.transaction() as tx:
                if reset:  # rebuild: the reset commits with the first piece, so readers see old or new
                    self._reset(tx, self.projections)
                    reset = False
                in_tx = 0
                while True:
                    rows = CachedRows(tx.c, tx.ph)
                    chained = self.ledger.extend(rows.c, self.batch) if self.ledger else 0
                    pos = {r["projection"]: r["position"] for r in rows.find(POSITIONS)}
                    start = min(pos.get(p.NAME, 0) for p in self.projections)
                    if progress and total is None:
                        total = self.store.max_position()
                    batch = self.store.read(after=start, limit=self.batch)
                    for position, event in batch:
                        for p in self.projections:
                            if position > pos.get(p.NAME, 0):
                                p.apply(event, rows)
                    if batch:
                        last = batch[-1][0]
                        for p in self.projections:
                            rows.put(POSITIONS, {"projection": p.NAME, "version": p.VERSION,
                                                 "position": max(last, pos.get(p.NAME, 0))})
                    rows.flush()
                    done += len(batch)
                    in_tx += len(batch)
                    if batch and progress and total:
                        progress(last, total)
                    if len(batch) < self.batch and chained < self.batch:
                        return done            # the end of the log: commit
                    if in_tx >= self.MAX_TRANSACTION:
                        break                  # commit this piece, go on in a new transaction

    def rebuild(self, progress: ProgressFn | None = None) -> int:
        """Drop every read model and build it again from the whole log (in one transaction up to
        ``MAX_TRANSACTION`` events: readers see the old read models until the new ones are complete)."""
        self.prepare()
        return self._apply(progress, reset=True)

    def dump(self) -> dict[str, list[dict[str, Any]]]:
        """Every row of every read model, in key order (to compare a rebuild with the live one)."""
        with self.reads.transaction(write=False) as rows:
            return {t.name: rows.find(t) for p in self.projections for t in p.TABLES}


class MemoryReadStore(ReadStore):
    """An in-memory SQLite database: the same projections, for a moment in the past."""

    def __init__(self) -> None:
        self.conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)

    @contextmanager
    def transaction(self, write: bool = True) -> Iterator[SQLRows]:
        cur = self.conn.cursor()
        cur.execute("BEGIN")
        try:
            yield SQLRows(cur, "?")
        except BaseException:
            self.conn.rollback()
            raise
        else:
            self.conn.commit()


def project_until(store: EventStore, projections: Sequence[ModuleType], until: Any) -> MemoryReadStore:
    """Read models as the log stood at ``until`` (an aware datetime): events recorded up to then."""
    reads = MemoryReadStore()
    reads.create([t for p in projections for t in p.TABLES])
    with reads.transaction() as rows:
        for _, event in store.iter_all():
            if event.timestamp <= until:
                for p in projections:
                    p.apply(event, rows)
    return reads


class TerminalProgress:
    """Progress on a terminal (stderr), nothing when piped."""

    def __init__(self, label: str, stream: Any = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self.label, self.last = label, 0.0

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.last < 0.1 and done < total:
            return
        self.last = now
        pct = 100 * done / total if total else 100
        self.stream.write(f"\r{self.label}: {done:,}/{total:,} ({pct:.0f}%)")
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()
