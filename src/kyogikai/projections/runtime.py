"""Projection runtime: read models kept current from the event log, in the same database.

A projection is a module with ``NAME``, ``VERSION``, ``TABLES`` and ``HANDLERS`` (event type →
``handler(event, rows)``; :class:`Dispatch` runs them): event in, rows out.  ``rows`` is a
:class:`Rows` — get / put / delete / find on declared tables — with three adapters: SQLite (same
file as the events), PostgreSQL (same schema) and memory (for ``--as-of``: the same projection
code over the events recorded up to a moment).

Writing (:meth:`Runtime.write`, the save of every command, import and restore): ONE transaction
under the write lock (SQLite ``BEGIN IMMEDIATE``; a PostgreSQL advisory transaction lock) inserts
the events, chains them (:mod:`kyogikai.ledger`), applies them to every read model and records the
positions.  Catching up (the eventsourcing 9.5 SQLite recorder cannot ``subscribe()``, so we poll)
is for events written by other processes only: under the same lock, read each projection's
position, apply the notifications after the lowest one, and write the rows and the new positions
in the same transaction, to the end of the log (up to ``Runtime.MAX_TRANSACTION`` events), so a
commit always ends where a writer's transaction ended.  A crash or a concurrent catch-up therefore
never applies an event twice or skips one.  ``rebuild`` — and a projection that is new or whose
``VERSION`` changed — fills fresh tables and swaps them in atomically, bumping the read-model
generation (:meth:`Runtime.generation`).  On PostgreSQL a read transaction is ``REPEATABLE READ``:
its queries see one snapshot, as SQLite's WAL gives.
"""

from __future__ import annotations

import gc
import os
import re
import select
import sqlite3
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Callable, Iterable, Iterator, Protocol, Sequence

from ..ledger import GENESIS
from ..ledger import TABLE as LEDGER_TABLE
from ..ledger import Ledger
from ..store import (CONFLICT, ConflictError, EventStore, Location, StoreError, insert_stored, is_lock_timeout,
                     lock_timeout, one_line, select_after)
from .sqlite_writer import LEASE_LOST, SQLiteWriter, WriterFailed

ProgressFn = Callable[[int, int], None]


@dataclass(frozen=True)
class Table:
    name: str
    columns: dict[str, str]                 # column -> "text" | "int"
    key: tuple[str, ...]
    indexes: tuple[tuple[str, ...], ...] = field(default=())
    # organisation-sized (grows with the organisation, not the log): a rebuild reads it whole
    # once per piece and answers get/find from memory (CachedRows ``resident``)
    resident: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "key_of", _key_getter(self.key))
        object.__setattr__(self, "statements", {})

    key_of: Callable[[dict[str, Any]], tuple] = field(init=False, repr=False, compare=False)
    """A row's key (its ``key`` columns' values, as a tuple)."""
    statements: dict[tuple, str] = field(init=False, repr=False, compare=False)
    """Its statements as SQLRows makes them, by (what, placeholder, the name written): made once."""


def _remember(table: Table, which: tuple, sql: str) -> str:
    if len(table.statements) > 64:   # a long-lived process's rebuilds each write under new names
        table.statements.clear()
    table.statements[which] = sql
    return sql


def _key_getter(key: tuple[str, ...]) -> Callable[[dict[str, Any]], tuple]:
    if len(key) == 1:
        (a,) = key
        return lambda r: (r.get(a),)
    if len(key) == 2:
        a, b = key
        return lambda r: (r.get(a), r.get(b))
    return lambda r: tuple([r.get(k) for k in key])


POSITIONS = Table("rm_positions", {"projection": "text", "version": "int", "position": "int"}, ("projection",))


class Rows(Protocol):
    def get(self, table: Table, *key: Any) -> dict[str, Any] | None: ...
    def put(self, table: Table, row: dict[str, Any]) -> None: ...
    def delete(self, table: Table, *key: Any) -> None: ...
    def find(self, table: Table, order: Sequence[str] = (), **where: Any) -> list[dict[str, Any]]: ...


# --- SQL adapters ------------------------------------------------------------------------------

class SQLRows:
    """Rows over a DB-API cursor; ``ph`` is the parameter placeholder of the driver."""

    def __init__(self, cursor: Any, ph: str, names: dict[str, str] | None = None) -> None:
        self.c, self.ph = cursor, ph
        self.names = names or {}   # table name -> the table actually written (a rebuild's fresh tables)

    def _t(self, table: Table) -> str:
        return self.names.get(table.name, table.name) if self.names else table.name

    def _row(self, table: Table, values: Sequence[Any] | None) -> dict[str, Any] | None:
        if values is None:
            return None
        return dict(zip(table.columns, values))

    def get(self, table: Table, *key: Any) -> dict[str, Any] | None:
        which = ("get", self.ph, self._t(table))
        sql = table.statements.get(which)
        if sql is None:
            where = " AND ".join(f"{k}={self.ph}" for k in table.key)
            sql = _remember(table, which, f"SELECT {', '.join(table.columns)} FROM {self._t(table)} WHERE {where}")
        self.c.execute(sql, key)
        return self._row(table, self.c.fetchone())

    def _put_sql(self, table: Table) -> str:
        """One row's upsert."""
        which = ("put", self.ph, self._t(table))
        sql = table.statements.get(which)
        if sql is None:
            sql = _remember(table, which, self._upsert(table, f"VALUES ({', '.join([self.ph] * len(table.columns))})"))
        return sql

    def _put_columns_sql(self, table: Table) -> str:
        """PostgreSQL: many rows in one upsert, each column an array parameter (``unnest``): one
        statement to send and plan instead of one per row, so the client hands the rows over in a
        fraction of the time and, in a pipeline, goes on while the server writes them (a rebuild)."""
        which = ("put_columns", self.ph, self._t(table))
        sql = table.statements.get(which)
        if sql is None:
            # %b: arrays sent in binary (no text escaping of each value on the client)
            arrays = ", ".join(f"%b::{'text' if t == 'text' else 'bigint'}[]" for t in table.columns.values())
            sql = _remember(table, which, self._upsert(table, f"SELECT * FROM unnest({arrays})"))
        return sql

    def _upsert(self, table: Table, rows: str) -> str:
        """INSERT of ``rows`` (a VALUES list or a SELECT) that replaces a row with the same key."""
        cols = list(table.columns)
        updates = ", ".join(f"{c}=excluded.{c}" for c in cols if c not in table.key) or f"{table.key[0]}=excluded.{table.key[0]}"
        return (f"INSERT INTO {self._t(table)} ({', '.join(cols)}) {rows} "
                f"ON CONFLICT ({', '.join(table.key)}) DO UPDATE SET {updates}")

    def put(self, table: Table, row: dict[str, Any]) -> None:
        self.c.execute(self._put_sql(table), [row.get(c) for c in table.columns])

    def delete(self, table: Table, *key: Any) -> None:
        where = " AND ".join(f"{k}={self.ph}" for k in table.key)
        self.c.execute(f"DELETE FROM {self._t(table)} WHERE {where}", key)

    def find(self, table: Table, order: Sequence[str] = (), **where: Any) -> list[dict[str, Any]]:
        sql = f"SELECT {', '.join(table.columns)} FROM {self._t(table)}"
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
        for name, actual in self.names.items():
            sql = re.sub(rf"\b{name}\b", actual, sql)
        self.c.execute(sql.replace("?", self.ph), params)
        if self.c.description:
            return [tuple(r) for r in self.c.fetchall()]
        if self.ph == "%s" and self.c.connection._pipeline is not None:
            # pipeline mode: a result (and its description) arrives only when fetched
            try:
                return [tuple(r) for r in self.c.fetchall()]
            except Exception as exc:
                if type(exc).__name__ != "ProgrammingError":   # "the last operation didn't produce records"
                    raise
        return []


_DELETED = object()
_MISSING = object()


def _matches(row: dict[str, Any], where: Sequence[tuple[str, Any]]) -> bool:
    """Whether ``row`` may answer a find's ``where`` (erring towards yes: compared as text too)."""
    for column, value in where:
        have = row.get(column)
        if value is None:
            if have is not None:
                return False
        elif have is None or (have != value and str(have) != str(value)):
            return False
    return True


REBUILD_LEASE_LOST = ("the rebuild's tables were dropped by another process (a rebuild silent for too long is "
                      "taken for dead); run it again")


class Speculation(Exception):
    """The write cannot be prepared before its transaction: it takes the ordinary path."""


class NotCommitted(Exception):
    """A write transaction sent at once failed before its COMMIT and was rolled back (``args[0]``: why)."""


class Deferred:
    """A PostgreSQL cursor that holds back writes (INSERT, UPDATE, DELETE without RETURNING, setval)
    and sends them with the next read, in ONE round trip (``PostgresReadStore.script``): inside a
    unit of work nothing waits for a write's answer, so a write costs no round trip and a read one.
    A write that fails raises at that read (or at the COMMIT), and the transaction is aborted."""

    WRITES = ("INSERT", "UPDATE", "DELETE")
    HOLD = 1000   # statements held back at most (a long unit, a restore): then sent without a read

    def __init__(self, store: Any, cur: Any) -> None:
        self.store, self.cur = store, cur
        self.pending: list[tuple[str | bytes, Sequence[Any] | None]] = []
        self.held: list[tuple] | None = None   # the rows of a read sent with held-back writes

    def execute(self, sql: str | bytes, params: Sequence[Any] | None = None) -> None:
        self.held = None
        text = sql.decode() if isinstance(sql, bytes) else sql
        word = text.lstrip()[:6].upper()
        if (word in self.WRITES and "RETURNING" not in text.upper()) or text.startswith("SELECT setval("):
            self.pending.append((text, params))
            if len(self.pending) >= self.HOLD:
                self.send()
        elif self.pending:
            self.pending.append((text, params))
            self.send()
        else:
            self.cur.execute(sql, params)

    def executemany(self, sql: str, seq: Iterable[Sequence[Any]]) -> None:
        for p in seq:   # only writes come here
            self.pending.append((sql, p))
            if len(self.pending) >= self.HOLD:
                self.send()

    def send(self) -> None:
        """Everything held back (and the read last queued) in one round trip (a pipeline, see
        :meth:`PostgresReadStore.script`); the last statement's rows are then this cursor's."""
        statements, self.pending = self.pending, []
        self.held = self.store.script(statements)[-1]

    def fetchone(self) -> tuple | None:
        if self.held is None:
            return self.cur.fetchone()
        return self.held.pop(0) if self.held else None

    def fetchall(self) -> list[tuple]:
        if self.held is None:
            return self.cur.fetchall()
        rows, self.held = self.held, []
        return rows

    @property
    def description(self) -> Any:
        """Whether the last statement gave rows (SQLRows.execute asks)."""
        return self.cur.description if self.held is None else bool(self.held) or None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.cur, name)


class _LazyCursor:
    """A cursor made on first use (a command sent at once most often reads nothing here)."""

    def __init__(self, make: Callable[[], Any]) -> None:
        self._make, self._cur = make, None

    def __getattr__(self, name: str) -> Any:
        if self._cur is None:
            self._cur = self._make()
        return getattr(self._cur, name)

    def close(self) -> None:
        if self._cur is not None:
            self._cur.close()


@dataclass
class _Dumped:
    """A statement ready to send, as psycopg's PostgresQuery holds one (PostgresReadStore._convert)."""
    query: bytes
    params: Any
    types: Any
    formats: Any


class CommittedRows(SQLRows):
    """Rows read on a connection of our own that sees what was committed: ``ready`` is called
    before the first read (a rebuild waits there for its writer to have committed the pieces before)."""

    def __init__(self, cursor: Any, ph: str, names: dict[str, str], ready: Callable[[], None]) -> None:
        super().__init__(cursor, ph, names)
        self.ready: Callable[[], None] | None = ready

    def get(self, table: Table, *key: Any) -> dict[str, Any] | None:
        if self.ready is not None:
            ready, self.ready = self.ready, None
            ready()
        return super().get(table, *key)


class Collect:
    """A cursor that only collects what would be executed (for :meth:`PostgresReadStore.write_script`)."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, Sequence[Any] | None]] = []

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        self.statements.append((sql, params))

    def executemany(self, sql: str, seq: Iterable[Sequence[Any]]) -> None:
        self.statements.extend((sql, p) for p in seq)


def _columns(table: Table, rows: Sequence[dict[str, Any]]) -> list[list[Any]]:
    """The rows as one list of values per column (a whole number column's booleans as 0/1: an
    array parameter holds values of one type)."""
    out = []
    for c, kind in table.columns.items():
        values = [r.get(c) for r in rows]
        if kind != "text" and True in [v.__class__ is bool for v in values]:
            values = [int(v) if v.__class__ is bool else v for v in values]
        out.append(values)
    return out


def _order_key(columns: Sequence[str]) -> Callable[[dict[str, Any]], tuple]:
    """Rows in ``ORDER BY columns`` order, NULLs last (as PostgreSQL sorts them)."""
    return lambda r: tuple([(r[c] is None, r[c]) for c in columns])


class CachedRows(SQLRows):
    """SQLRows with a write-behind cache, for applying a batch of events in one transaction.

    ``get`` answers from rows already read or written in this batch; ``put`` and ``delete`` are
    buffered and written with ``executemany`` when the batch ends, or before any ``find`` or
    ``execute`` on the same connection (so queries always see every change).  Cuts the statements
    of a rebuild from several per event to a few per batch.
    """

    def __init__(self, cursor: Any, ph: str, names: dict[str, str] | None = None, resident: bool = False) -> None:
        super().__init__(cursor, ph, names)
        self.cache: dict[tuple[str, tuple], Any] = {}
        self.dirty: dict[str, tuple[Table, dict[tuple, Any]]] = {}
        # answers of ``find`` per table, dropped when that table is written (or by raw SQL)
        self.finds: dict[str, dict[tuple, tuple[list[dict[str, Any]], set[tuple]]]] = {}
        # keep the answers a change cannot affect (neither holding the changed row nor matching it)
        self.precise = False
        self.touched: set[str] = set()   # tables written through put/delete (reset by the caller)
        self.raw = False                 # raw SQL ran (it may have written anything)
        self.misses: list[tuple[Table, Any]] = []   # single-column keys read from the database
        self.speculative = False         # outside the transaction: reads only, a write raises Speculation
        # ``resident``: tables marked resident are read whole on first use and served from memory
        # (a rebuild's organisation mirror: no statement per event for names, tree and rosters)
        self.resident = resident
        self.whole: dict[str, dict[tuple, dict[str, Any]]] = {}
        self.indexes: dict[str, dict[tuple[str, ...], dict[tuple, list[dict[str, Any]]]]] = {}
        self.hooks: dict[Any, Callable[[], None]] = {}   # work put off until the next flush (``later``)
        # where a row this transaction has not touched is read instead of ``cursor`` (a rebuild whose
        # writes a writer process makes: what it committed, read here without waiting for it)
        self.committed: SQLRows | None = None
        self.previous: dict[tuple[str, tuple], Any] = {}   # the cache before next_generation()

    def next_generation(self) -> None:
        """Carried into the next transaction (a rebuild's next piece): the rows of this one stay
        known for one more (``previous``), the resident tables for good; memory stays flat."""
        self.flush()
        self.previous, self.cache = self.cache, {}
        self.finds.clear()
        self.misses.clear()

    def later(self, key: Any, fn: Callable[[], None]) -> None:
        """Run ``fn`` before the next write of any buffered change (or ``settle``), once per ``key``
        (the last ``fn`` given for it): a projection puts off work that several events of a batch
        would each redo, such as rendering an item's text once for all of its events."""
        self.hooks[key] = fn

    def settle(self) -> None:
        """Run the work put off with ``later`` now (it may put rows, and put off more)."""
        while self.hooks:
            hooks, self.hooks = self.hooks, {}
            for fn in hooks.values():
                fn()

    def _whole(self, table: Table) -> dict[tuple, dict[str, Any]] | None:
        if not (self.resident and table.resident):
            return None
        whole = self.whole.get(table.name)
        if whole is None:
            self.flush(table.name)
            whole = self.whole[table.name] = {table.key_of(r): r for r in super().find(table)}
        return whole

    def get(self, table: Table, *key: Any) -> dict[str, Any] | None:
        if table.resident and self.resident:
            hit = self._whole(table).get(key)  # type: ignore[union-attr]
            return None if hit is None else hit.copy()
        k = (table.name, key)
        hit = self.cache.get(k, _MISSING)
        if hit is _MISSING and self.previous:
            hit = self.previous.get(k, _MISSING)
            if hit is not _MISSING:
                self.cache[k] = hit
        if hit is not _MISSING:
            return None if hit is _DELETED else hit.copy()
        row = super().get(table, *key) if self.committed is None else self.committed.get(table, *key)
        self.cache[k] = _DELETED if row is None else row
        if len(key) == 1:
            self.misses.append((table, key[0]))
        return None if row is None else dict(row)

    def put(self, table: Table, row: dict[str, Any]) -> None:
        name, key, row = table.name, table.key_of(row), row.copy()
        self.cache[(name, key)] = row
        dirty = self.dirty.get(name)
        if dirty is None:
            dirty = self.dirty[name] = (table, {})
        dirty[1][key] = row
        if self.whole and name in self.whole:
            self.whole[name][key] = row
            self.indexes.pop(name, None)
        if self.finds:
            self._changed(table, key, row)
        self.touched.add(name)

    def delete(self, table: Table, *key: Any) -> None:
        self.cache[(table.name, key)] = _DELETED
        self.dirty.setdefault(table.name, (table, {}))[1][key] = _DELETED
        if table.name in self.whole:
            self.whole[table.name].pop(key, None)
            self.indexes.pop(table.name, None)
        self._changed(table, key, None)
        self.touched.add(table.name)

    def _changed(self, table: Table, key: tuple, row: dict[str, Any] | None) -> None:
        cached = self.finds.get(table.name)
        if not cached:
            return
        if not self.precise:
            del self.finds[table.name]
            return
        for k in [k for k, (_, keys) in cached.items() if key in keys or (row is not None and _matches(row, k[1]))]:
            del cached[k]

    def find(self, table: Table, order: Sequence[str] = (), **where: Any) -> list[dict[str, Any]]:
        """From memory for a resident table in a rebuild; else from the database (after this table's
        buffered changes), or the same question's answer when the table was not written since."""
        whole = self._whole(table)
        if whole is not None:
            cols = tuple(sorted(where))
            index = self.indexes.setdefault(table.name, {}).get(cols)
            if index is None:   # built on first use (each list in key order), dropped when the table changes
                index = self.indexes[table.name][cols] = {}
                for r in sorted(whole.values(), key=_order_key(table.key)):
                    index.setdefault(tuple(r[c] for c in cols), []).append(r)
            hits = index.get(tuple(where[c] for c in cols), [])
            if order and tuple(order) != table.key and len(hits) > 1:
                hits = sorted(hits, key=_order_key(order))
            return [dict(r) for r in hits]
        k = (tuple(order), tuple(sorted(where.items())))
        known = self.finds.get(table.name, {}).get(k)
        if known is None:
            self.flush(table.name)
            found = super().find(table, order, **where)
            keys = [table.key_of(r) for r in found]
            known = self.finds.setdefault(table.name, {})[k] = (found, set(keys))
            for key, r in zip(keys, found):   # a later get of a found row needs no statement
                self.cache.setdefault((table.name, key), r)
        return [dict(r) for r in known[0]]

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """Raw SQL sees every buffered change; the caches are dropped since the SQL may have written."""
        if self.speculative:
            raise Speculation("raw SQL: not before the transaction")
        self.flush()
        out = super().execute(sql, params)
        self.cache.clear()
        self.previous = {}
        self.finds.clear()
        self.whole.clear()
        self.indexes.clear()
        self.raw = True
        return out

    def flush(self, only: str | None = None) -> None:
        if self.hooks:
            self.settle()
        if self.speculative and (self.dirty if only is None else only in self.dirty):
            raise Speculation("a query after a change: not before the transaction")
        for name in [only] if only is not None else list(self.dirty):
            if name not in self.dirty:
                continue
            table, changes = self.dirty.pop(name)
            # in key order: on SQLite each row goes next to the last one written, in every index
            upserts = [r for _, r in sorted(changes.items()) if r is not _DELETED]
            deletes = [k for k, r in changes.items() if r is _DELETED]
            if deletes:
                where = " AND ".join(f"{k}={self.ph}" for k in table.key)
                self.c.executemany(f"DELETE FROM {self._t(table)} WHERE {where}", deletes)
            if len(upserts) == 1:
                self.c.execute(self._put_sql(table), [upserts[0].get(c) for c in table.columns])
            elif upserts and self.ph == "%s":   # PostgreSQL: one statement, a column of values each
                self.c.execute(self._put_columns_sql(table), _columns(table, upserts))
            elif upserts:
                self.c.executemany(self._put_sql(table), [[r.get(c) for c in table.columns] for r in upserts])


def ddl(table: Table, int_type: str, name: str | None = None, index_suffix: str = "",
        indexes: bool = True) -> list[str]:
    """CREATE statements of ``table`` (as ``name`` when given; index names end in ``index_suffix``;
    without its secondary indexes unless ``indexes``: see :func:`index_ddl`)."""
    cols = ", ".join(f"{c} {'TEXT' if t == 'text' else int_type}" for c, t in table.columns.items())
    out = [f"CREATE TABLE IF NOT EXISTS {name or table.name} ({cols}, PRIMARY KEY ({', '.join(table.key)}))"]
    return out + (index_ddl(table, name, index_suffix) if indexes else [])


def index_ddl(table: Table, name: str | None = None, index_suffix: str = "") -> list[str]:
    """CREATE statements of the secondary indexes of ``table`` (a rebuild creates them once its
    fresh tables are filled: one sort each, instead of an insertion per row)."""
    return [f"CREATE INDEX IF NOT EXISTS {table.name}_{'_'.join(idx)}{index_suffix} ON {name or table.name} "
            f"({', '.join(idx)})" for idx in table.indexes]


class ReadStore:
    """Where read models live; subclasses give a locked transaction yielding :class:`SQLRows`."""

    int_type = "INTEGER"
    existing_tables_sql: str | None = "SELECT name FROM sqlite_master WHERE type = 'table'"

    @contextmanager
    def transaction(self, write: bool = True) -> Iterator[SQLRows]:  # pragma: no cover - abstract
        raise NotImplementedError
        yield

    @contextmanager
    def statement(self) -> Iterator[SQLRows]:
        """Rows for ONE read statement (itself a consistent snapshot): no BEGIN/COMMIT round trips.
        Inside an open transaction, that transaction's rows."""
        with self.transaction(write=False) as rows:
            yield rows

    @contextmanager
    def pipeline(self, commit: bool = False) -> Iterator[None]:
        """Statements inside are sent together where the driver can (PostgreSQL's pipeline mode)."""
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

    def data_version(self) -> Any:
        """A value that changes when anyone — another connection or this one — commits (None: unknown)."""
        return None


class SQLiteReadStore(ReadStore):
    _open: SQLRows | None = None
    _commits = 0   # write transactions committed on this connection (see data_version)

    def __init__(self, path: str) -> None:
        self.path = path
        try:
            self.conn = sqlite3.connect(path, isolation_level=None, timeout=lock_timeout(), check_same_thread=False)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open {path}: {exc}") from None

    @contextmanager
    def transaction(self, write: bool = True) -> Iterator[SQLRows]:
        """A transaction (``BEGIN IMMEDIATE`` to write); inside an open one, that one (a unit of work)."""
        if self._open is not None:
            yield SQLRows(self._open.c, "?")
            return
        cur = self.conn.cursor()
        cur.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        self._open = SQLRows(cur, "?")
        try:
            yield self._open
        except BaseException:
            self._open = None
            self.conn.rollback()
            raise
        else:
            self._open = None
            self.conn.commit()
            if write:
                self._commits += 1
        finally:
            self._open = None
            cur.close()

    @contextmanager
    def statement(self) -> Iterator[SQLRows]:
        if self._open is not None:
            yield SQLRows(self._open.c, "?")
            return
        cur = self.conn.cursor()   # autocommit: the statement is its own read transaction
        try:
            yield SQLRows(cur, "?")
        finally:
            cur.close()

    def close(self) -> None:
        self.conn.close()

    def data_version(self) -> Any:
        # PRAGMA data_version moves when ANOTHER connection commits; commands now write on this one
        return self.conn.execute("PRAGMA data_version").fetchone()[0], self._commits


class PostgresReadStore(ReadStore):
    int_type = "BIGINT"
    existing_tables_sql = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
    # 'kyog': the write lock. Advisory locks are database-wide, so the key pairs it with the schema:
    # stores in other schemas of the same database (``?schema=``) no longer wait for each other.
    LOCK_KEY = 0x6B796F67
    LOCK_SQL = f"SELECT pg_advisory_xact_lock({int(LOCK_KEY)}, hashtext(current_schema()))".encode()

    def __init__(self, location: Location) -> None:
        import psycopg

        try:
            # autocommit: transactions are begun by hand, the BEGIN sharing a round trip with the lock.
            # prepare_threshold=None: psycopg prepares nothing itself. Once it has prepared a query, it
            # answers any DROP, ALTER or ROLLBACK it runs with DEALLOCATE ALL, which would drop the
            # statements :meth:`script` prepared too (a rebuild's swap, a failed command).
            self.conn = psycopg.connect(dbname=location.dbname, host=location.host, port=location.port,
                                        user=location.user, password=location.password, connect_timeout=5,
                                        options=f"-c search_path={location.schema} -c lock_timeout={int(lock_timeout() * 1000)}",
                                        autocommit=True, prepare_threshold=None)
        except psycopg.Error as exc:
            raise StoreError(f"cannot connect to {location.describe()}: {one_line(exc)}") from None
        self._seen_sql, self._prepared_sql, self._prepares, self._converted = set(), {}, 0, {}

    _open: SQLRows | None = None
    _committed = False
    _seen_sql: set[tuple]            # per connection (set in __init__): statements sent once
    _prepared_sql: dict[tuple, bytes]  # ... and those prepared, with their names
    _prepares: int                     # names given (never reused: a failed PREPARE's included)
    _converted: dict[bytes, tuple]     # statement text -> its $n text and the formats its values want
    # a parameterless query sent in the same round trip as BEGIN and the lock of the next write
    # transaction; its rows are left in ``prefetched`` (Runtime.write: positions and chain head)
    prefetch: bytes | None = None
    prefetched: list[tuple] | None = None

    @contextmanager
    def transaction(self, write: bool = True) -> Iterator[SQLRows]:
        """A transaction (holding the write lock to write); inside an open one, that one (a unit of work)."""
        if self._open is not None:
            yield SQLRows(self._open.c, "%s")
            return
        cur = self.conn.cursor()
        self._committed, self.prefetched = False, None
        try:
            if write:   # one round trip: BEGIN, the lock (and the prefetch)
                prefetch, self.prefetch = self.prefetch, None
                got = self.script([(b"BEGIN", None), (self.LOCK_SQL, None), *([(prefetch, None)] if prefetch else [])])
                if prefetch:
                    self.prefetched = got[-1]
            else:  # one snapshot for every query of a read (as SQLite's WAL gives): never a mix of two states
                cur.execute(b"BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            self._open = SQLRows(cur, "%s")
            yield self._open
        except BaseException:
            self._open, self.prefetched = None, None
            try:
                cur.execute(b"ROLLBACK")
            except Exception:
                pass
            raise
        else:
            self._open, self.prefetched = None, None
            if not self._committed:
                cur.execute(b"COMMIT")
        finally:
            self._open = None
            cur.close()

    @contextmanager
    def pipeline(self, commit: bool = False) -> Iterator[None]:
        """Pipeline mode; with ``commit``, the outermost transaction also commits in it (its last
        round trip then carries the row changes and the COMMIT together)."""
        with self.conn.pipeline():
            yield
            if commit and self._open is not None:
                self._open.c.execute(b"COMMIT")
                self._committed = True

    @contextmanager
    def statement(self) -> Iterator[SQLRows]:
        if self._open is not None:
            yield SQLRows(self._open.c, "%s")
            return
        cur = _LazyCursor(self.conn.cursor)   # autocommit: the statement is its own snapshot
        try:
            yield SQLRows(cur, "%s")
        finally:
            cur.close()

    _CONTROL = (b"BEGIN", b"COMMIT", b"ROLLBACK")

    PREPARED_MAX = 256   # statements kept prepared on a connection (then the rest run unprepared)

    def script(self, statements: Sequence[tuple[str | bytes, Sequence[Any] | None]],
               on_rows: dict[int, Callable[[list[tuple]], None]] | None = None) -> list[list[tuple]]:
        """Several statements in ONE round trip: a pipeline (libpq's pipeline mode, one Sync at the
        end), each statement with its parameters bound by the server; returns each statement's rows.
        ``on_rows[i]`` is called with statement ``i``'s rows as soon as they arrive, while the
        server runs the statements after it (what it raises is raised once every answer is read).

        The pipeline is driven through libpq itself (psycopg's ``pgconn``), with psycopg's own
        parameter dumpers and row loaders (so values come and go exactly as through a cursor): a
        cursor per statement cost ~20 µs of Python each, a command's two round trips carry a dozen.
        Every statement is prepared the second time its text (and parameter types) is sent on this
        connection: the server then neither parses nor plans it again, which on a command's
        statements was most of the server's time (a plan of the write's prefetch took 0.8 ms; its
        execution 0.2 ms).  So the statements keep their values out of their text.  On an error
        the statements after it are not run (nor a PREPARE among them: it is sent again next time),
        the error is raised (the class psycopg would raise), and a transaction begun in the pipeline
        is left aborted; outside one, the round trip is one implicit transaction.  A value that
        cannot be sent raises before anything is sent."""
        tx = self._transformer()
        # every value dumped before anything is sent: a value that cannot be sent runs nothing
        queries = self._convert(tx, statements)
        with self.conn.lock:   # the connection's own lock, as psycopg's cursors take it
            return self._pipeline(tx, queries, on_rows or {})

    def _transformer(self) -> Any:
        """A psycopg Transformer for one round trip.  Not one kept per connection (~20 µs a command
        less): values are dumped outside the connection's lock, and a Transformer holds the types
        and formats of the last values it dumped, so two threads sharing a read store would mix them."""
        from psycopg.adapt import Transformer

        if len(self._seen_sql) > 10_000:   # statements whose text varies: forget the ones seen once
            self._seen_sql.clear()
        return Transformer(self.conn)

    def _convert(self, tx: Any, statements: Sequence[tuple[str | bytes, Sequence[Any] | None]]) -> list[tuple[bytes, Any]]:
        """Each statement's text, and its values dumped: the first time a text is seen by psycopg's
        own %s → $n conversion, then from what that gave (the $n text and the formats wanted),
        straight to psycopg's dumpers."""
        from psycopg._queries import PostgresQuery

        queries: list[tuple[bytes, Any]] = []
        known = self._converted
        for sql, params in statements:
            text = sql if isinstance(sql, bytes) else sql.encode()
            if params is None and (b"%" not in text or text.startswith(self._CONTROL)):
                queries.append((text, None))
                continue
            hit = known.get(text) if params is not None else None
            if hit is not None and len(params) == len(hit[1]):   # type: ignore[arg-type]
                values = tx.dump_sequence(params, hit[1])
                queries.append((text, _Dumped(hit[0], values, tx.types or (), tx.formats)))
                continue
            q = PostgresQuery(tx)
            q.convert(text, params)
            if params is not None and q._order is None and len(known) < 1024:   # positional %s only
                known[text] = (q.query, q._want_formats)
            queries.append((text, q))
        return queries

    def _pipeline(self, tx: Any, queries: list[tuple[bytes, Any]],
                  on_rows: dict[int, Callable[[list[tuple]], None]],
                  rest: Callable[[], Sequence[tuple[str | bytes, Sequence[Any] | None]]] | None = None) -> list[list[tuple]]:
        """The round trip of :meth:`script`: send, Sync, read every answer.  With ``rest``: what is
        queued is sent at once (the server starts on it), then the statements ``rest`` gives are
        made, dumped and queued; if that raises, no more is sent, and it is raised once every
        answer is read (the caller's transaction, begun in ``queries``, is then still open)."""
        import psycopg
        from psycopg import pq

        pg = self.conn.pgconn
        queued: list[Any] = []   # what was sent, in order: a statement (None) or a PREPARE (its key)
        failed: Exception | None = None
        pg.enter_pipeline_mode()
        try:
            self._send(pg, queries, queued)
            if rest is not None:
                self._flush(pg)
                try:
                    more = self._convert(tx, rest())
                except Exception as exc:
                    failed = exc
                else:
                    self._send(pg, more, queued)
            self._sync(pg)
            out: list[list[tuple]] = []
            error = None
            for prepare in queued:   # one result each, in order (then a None), then the Sync
                res = self._result(pg)
                while pg.get_result() is not None:   # pragma: no cover - one result per statement
                    pass
                if res.status == pq.ExecStatus.FATAL_ERROR and error is None:
                    error = psycopg.errors.error_from_result(res, encoding=self.conn.info.encoding)
                    if isinstance(error, psycopg.errors.InvalidSqlStatementName):
                        self._prepared_sql.clear()   # deallocated behind our back: prepared again when next seen
                if prepare is not None:   # a PREPARE skipped after an error (or failed) did not happen
                    if res.status != pq.ExecStatus.COMMAND_OK:
                        self._prepared_sql.pop(prepare, None)
                    continue
                if res.status == pq.ExecStatus.TUPLES_OK and res.ntuples:
                    tx.set_pgresult(res)
                    out.append(tx.load_rows(0, res.ntuples, tuple))
                else:
                    out.append([])
                take = on_rows.get(len(out) - 1)
                if take is not None and error is None:
                    try:
                        take(out[-1])
                    except Exception as exc:   # raised once the pipeline is read to its end
                        error = exc
            if self._result(pg).status != pq.ExecStatus.PIPELINE_SYNC:   # pragma: no cover
                raise psycopg.OperationalError("the server's answers to a pipeline did not end with its Sync")
            if error is not None:
                raise error
            if failed is not None:
                raise failed
            return out
        finally:
            if pg.pipeline_status:   # pragma: no branch
                try:
                    pg.exit_pipeline_mode()
                except Exception:   # pragma: no cover - answers left unread (a lost connection)
                    pass

    def _send(self, pg: Any, queries: list[tuple[bytes, Any]], queued: list[Any]) -> None:
        """Queue ``queries`` in the pipeline: each prepared the second time it is seen (a PREPARE
        queued before it, its key noted in ``queued``), then run."""
        seen, prepared = self._seen_sql, self._prepared_sql
        for text, q in queries:
            if q is None and text.startswith(self._CONTROL):   # nothing to plan
                pg.send_query_params(text, None)
                queued.append(None)
                continue
            k = (text, ()) if q is None else (q.query, tuple(q.types))
            name = prepared.get(k)
            if name is None and k in seen and len(prepared) < self.PREPARED_MAX:
                self._prepares += 1
                name = prepared[k] = f"kyogikai_{self._prepares}".encode()
                if q is None:
                    pg.send_prepare(name, text)
                else:
                    pg.send_prepare(name, q.query, param_types=q.types)
                queued.append(k)
            seen.add(k)
            if q is None:
                if name is None:
                    pg.send_query_params(text, None)
                else:
                    pg.send_query_prepared(name, None)
            elif name is None:
                pg.send_query_params(q.query, q.params, param_types=q.types, param_formats=q.formats)
            else:
                pg.send_query_prepared(name, q.params, param_formats=q.formats)
            queued.append(None)

    @classmethod
    def _sync(cls, pg: Any) -> None:
        pg.pipeline_sync()
        cls._flush(pg)

    @staticmethod
    def _flush(pg: Any) -> None:
        while pg.flush():   # a non-blocking connection: wait until everything is sent
            select.select([], [pg.socket], [])

    @staticmethod
    def _result(pg: Any) -> Any:
        """The next result of a pipeline; a lost connection is psycopg's OperationalError.

        Waited for in ``select`` (which lets other threads run), never in libpq's ``PQgetResult``,
        which blocks holding Python's lock: a thread waiting there for the write lock kept the
        thread that held it from sending the rest of its transaction, until the lock timeout."""
        import psycopg

        while pg.is_busy():
            select.select([pg.socket], [], [])
            pg.consume_input()
        res = pg.get_result()
        if res is None:
            raise psycopg.OperationalError(f"the connection to the server was lost: "
                                           f"{pg.error_message.decode(errors='replace').strip()}")
        return res

    def deferring(self) -> "Deferred":
        """Inside the open transaction: its cursor holding back writes until the next read (see
        :class:`Deferred`); installed as the transaction's cursor."""
        assert self._open is not None
        d = self._open.c if isinstance(self._open.c, Deferred) else Deferred(self, self._open.c)
        self._open.c = d
        return d

    def commit_deferred(self, d: "Deferred") -> None:
        """The held-back writes and COMMIT in one message: the transaction ends with this round trip."""
        d.pending.append(("COMMIT", None))
        d.send()
        self._committed = True

    def write_script(self, statements: Sequence[tuple[str | bytes, Sequence[Any] | None]],
                     rest: Callable[[], Sequence[tuple[str | bytes, Sequence[Any] | None]]] = lambda: ()) -> None:
        """A whole write transaction in ONE round trip: BEGIN, the write lock, ``statements``, the
        statements ``rest`` gives, COMMIT (see :meth:`script`).  BEGIN, the lock and ``statements``
        are sent before ``rest`` is called, so the server runs them while ``rest``'s statements are
        made and their values dumped.  When anything fails (a statement, ``rest``, a value that
        cannot be sent) nothing is committed: the transaction is rolled back and
        :class:`NotCommitted` raised with the error.  An error that leaves the commit's outcome
        unknown (the connection lost) is raised as it is."""
        import psycopg

        if self._open is not None:  # pragma: no cover - only outside a transaction
            raise RuntimeError("write_script inside a transaction")
        tx = self._transformer()
        try:
            queries = self._convert(tx, [(b"BEGIN", None), (self.LOCK_SQL, None), *statements])
            with self.conn.lock:
                self._pipeline(tx, queries, {}, lambda: [*rest(), (b"COMMIT", None)])
        except Exception as exc:
            status = self.conn.info.transaction_status
            if status in (psycopg.pq.TransactionStatus.INERROR, psycopg.pq.TransactionStatus.INTRANS):
                try:
                    self.conn.execute(b"ROLLBACK")
                except Exception:
                    pass
                raise NotCommitted(exc) from exc
            raise

    def close(self) -> None:
        self.conn.close()


def open_read_store(location: Location) -> ReadStore:
    if location.kind == "sqlite":
        return SQLiteReadStore(location.path)
    return PostgresReadStore(location)


# --- the runtime ------------------------------------------------------------------------------

@contextmanager
def bulk_gc() -> Iterator[None]:
    """Applying many events allocates millions of short-lived objects, nearly none of them in a
    cycle (reference counting frees them); with the default thresholds the cycle collector runs
    every 700 allocations and keeps walking the batch's caches (measured: about a tenth of a
    rebuild).  Collections stay on, at a rarer pace, and the previous thresholds come back.  Used as
    a decorator of the rebuild and the catch-up."""
    before = gc.get_threshold()
    gc.set_threshold(50_000, 20, 100)
    try:
        yield
    finally:
        gc.set_threshold(*before)


class Dispatch:
    """Which projections take an event type, and their handlers (``HANDLERS`` of each module), in
    the projections' order: looked up once per type, so an event costs one dictionary lookup and a
    call per read model that takes it, not a call per read model."""

    def __init__(self, projections: Sequence[ModuleType]) -> None:
        self.projections = list(projections)
        self._by_type: dict[type, tuple[tuple[ModuleType, Callable[[Any, Any], None]], ...]] = {}

    def __call__(self, kind: type) -> tuple[tuple[ModuleType, Callable[[Any, Any], None]], ...]:
        found = self._by_type.get(kind)
        if found is None:
            found = self._by_type[kind] = tuple((p, p.HANDLERS[kind]) for p in self.projections if kind in p.HANDLERS)
        return found

    def apply(self, e: Any, rows: Any) -> None:
        found = self._by_type.get(e.__class__)
        for _, handler in found if found is not None else self(e.__class__):
            handler(e, rows)


class Runtime:
    """Keeps a set of projections current against one event store.

    Writes: :meth:`write` is the write path of every command, ``import-report`` and ``import-log``
    — ONE transaction under the write lock that applies events other processes wrote since (if
    any), inserts the new events, chains them (:mod:`kyogikai.ledger`), applies them to every read
    model and records the positions.  :meth:`catch_up` applies only events written by other
    processes (or by a bare ``EventStore.append``).  :meth:`rebuild` builds fresh tables and swaps
    them in atomically (see there).
    """

    GENERATION = "~generation"      # rm_positions row: how many times read models were replaced
    LEASE = "~rebuild:"             # rm_positions rows of rebuilds in progress (position: last heartbeat)
    PIECE_SECONDS = 0.25            # a rebuild commits (and lets commands in) at least this often
    LEASE_SECONDS = 120             # a rebuild silent this long is dead: its tables may be dropped

    def __init__(self, store: EventStore, reads: ReadStore, projections: Sequence[ModuleType], batch: int = 1000) -> None:
        self.store, self.reads, self.projections, self.batch = store, reads, list(projections), batch
        self.dispatch = Dispatch(self.projections)
        self._prepared = False
        self._unit: dict[str, Any] | None = None
        self.ledger: Ledger | None = Ledger(store.location.kind)  # every event is chained as it is written (ledger.py)
        # PostgreSQL: the log and read models as last seen (position, generation, chain head) with
        # read-model rows known at that state; a command whose rows are all known then writes in one
        # round trip (see _write_at_once).  Tables a projection read by the written aggregate's id
        # are read together with the aggregate's events (see prefetch).
        self._seen: dict[str, Any] | None = None
        # whether the last aggregate load's prefetch found every read model at the log's end (then a
        # command need not check again before it reads them: Context.fresh_after_load)
        self.saw_current = False
        self._by_id: dict[str, Table] = {}
        self._refs: dict[tuple[str, str, str], tuple[Table, str, Table]] = {}
        if store.location.kind == "postgres":
            store.prefetch = self.prefetch

    # -- tables ----------------------------------------------------------------------------------
    def prepare(self, rebuild_stale: bool = True) -> None:
        """Create tables; rebuild (into fresh tables, swapped in) a projection that is new or whose
        VERSION changed (left to the caller when ``rebuild_stale`` is false: a full rebuild follows)."""
        if self._prepared:
            return
        if self._current():
            self._prepared = True
            return
        self.reads.create([POSITIONS])
        with self.reads.transaction() as rows:
            if self.ledger:
                self.ledger.ensure(rows.c)
            known = {r["projection"]: r for r in rows.find(POSITIONS)}
            stale = [p for p in self.projections
                     if known.get(p.NAME) is None or known[p.NAME]["version"] != p.VERSION]
            empty_log = select_after(rows.c, self.store.location.kind, 0, 1) == []
            if empty_log:   # nothing to hide from readers: (re)create in place
                self._reset(rows, stale)
                stale = []
            for p in self.projections:
                if p not in stale:
                    for t in p.TABLES:
                        for stmt in ddl(t, self.reads.int_type):
                            rows.c.execute(stmt)
        if stale and rebuild_stale:
            self._rebuild(None, stale)
        self._prepared = not stale or rebuild_stale

    def _current(self) -> bool:
        """Every table exists and every projection is at its VERSION: nothing to create (two reads)."""
        with self.reads.transaction(write=False) as rows:
            if self.reads.existing_tables_sql is None:
                return False
            tables = {r[0] for r in rows.execute(self.reads.existing_tables_sql)}
            wanted = {POSITIONS.name} | {t.name for p in self.projections for t in p.TABLES}
            if self.ledger:
                wanted.add(LEDGER_TABLE)
            if not wanted <= tables:
                return False
            known = {r["projection"]: r["version"] for r in rows.find(POSITIONS)}
        if self.ledger:
            self.ledger._ready = True   # its table exists: no DDL
        return all(known.get(p.NAME) == p.VERSION for p in self.projections)

    def _reset(self, rows: SQLRows, projections: Sequence[ModuleType]) -> None:
        """Drop, recreate and zero the position of ``projections`` inside the caller's transaction."""
        for p in projections:
            for t in p.TABLES:
                rows.c.execute(f"DROP TABLE IF EXISTS {t.name}")
                for stmt in ddl(t, self.reads.int_type):
                    rows.c.execute(stmt)
            rows.put(POSITIONS, {"projection": p.NAME, "version": p.VERSION, "position": 0})

    def positions(self) -> dict[str, int]:
        self.prepare()
        with self.reads.statement() as rows:
            found = {r["projection"]: r["position"] for r in rows.find(POSITIONS)}
        return {p.NAME: found.get(p.NAME, 0) for p in self.projections}

    def generation(self) -> int:
        """A number that changes whenever read models are replaced (a rebuild, a new projection
        VERSION): with the log's position it keys any cache of renderings."""
        self.prepare()
        with self.reads.statement() as rows:   # one statement, no transaction round trips
            row = rows.get(POSITIONS, self.GENERATION)
        return int(row["position"]) if row else 0

    def behind(self) -> bool:
        """Whether events were written that the read models lack (one statement, no transaction)."""
        self.prepare()
        with self.reads.statement() as rows:
            found = rows.execute(*self._behind_sql())
        return self._is_behind(found)

    def _behind_sql(self) -> tuple[str, list[str]]:
        col = "rowid" if self.store.location.kind == "sqlite" else "notification_id"
        names = [p.NAME for p in self.projections]
        return (f"SELECT (SELECT MAX({col}) FROM stored_events), projection, position FROM "
                f"{POSITIONS.name} WHERE projection IN ({', '.join('?' * len(names))})", names)

    def _is_behind(self, found: list[tuple]) -> bool:
        top = int(found[0][0] or 0) if found else self.store.max_position()
        pos = {r[1]: r[2] for r in found}
        return min((pos.get(p.NAME, 0) for p in self.projections), default=0) < top

    def fresh_read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """Read models brought up to date (:meth:`catch_up`), then ``sql`` (placeholders ``?``) on them.
        On PostgreSQL the freshness check and the query share one round trip; after a catch-up the
        query runs again."""
        self.prepare()
        if self.store.location.kind == "postgres" and self._unit is None and getattr(self.reads, "_open", None) is None:
            check, names = self._behind_sql()
            found, out = self.reads.script([(check.replace("?", "%s"), names),   # type: ignore[attr-defined]
                                            (sql.replace("?", "%s"), list(params))])
            if not self._is_behind(found):
                return out
        self.catch_up()
        with self.reads.statement() as rows:
            return rows.execute(sql, params)

    # -- writing ---------------------------------------------------------------------------------
    def write(self, stored: Sequence[Any], events: Sequence[Any] | None = None) -> list[int]:
        """Append ``stored`` events, chain them and apply them to every read model: ONE transaction.

        ``events`` are the same events as domain objects (mapped from ``stored`` when omitted, in
        chunks, so a restore of a large log stays flat in memory).  A version already taken raises
        :class:`~kyogikai.store.ConflictError` and nothing is written.  Inside a unit of work
        (``Kyogikai.atomic``) the transaction is the unit's, committed or rolled back with it.

        Positions are given by us, not by the database: under the write lock the next one is known
        (one past the log's last position and the chain head, read with BEGIN), so on PostgreSQL the
        events go in the same pipelined round trip as their chain records, the row changes and the
        COMMIT — and inside a unit of work no write waits for an answer at all.
        """
        self.prepare()
        kind = self.store.location.kind
        positions: list[int] = []
        unit = self._unit
        outermost = unit is None and getattr(self.reads, "_open", None) is None
        if outermost and kind == "postgres" and events is not None and len(stored) <= self.batch:
            done = self._write_at_once(stored, events)
            if done is not None:
                return done
        if outermost and hasattr(self.reads, "prefetch"):
            self.reads.prefetch = self._pending_sql().encode()   # PostgreSQL: with BEGIN and the lock
        try:
            with self.reads.transaction() as tx:
                if unit is None:
                    rows = CachedRows(tx.c, tx.ph)
                    pos, head, top = self._pending(rows, getattr(self.reads, "prefetched", None))
                else:   # inside a unit of work: its row cache, positions and chain head carry over
                    rows = unit["rows"]
                    if unit["pos"] is None:
                        unit["pos"], unit["head"], unit["top"] = self._pending(rows)
                    pos, head, top = unit["pos"], unit["head"], unit["top"]
                rows.touched, rows.raw = set(), False
                links: list[tuple[int, str, str]] = []
                for i in range(0, len(stored), self.batch):
                    chunk = list(stored[i:i + self.batch])
                    done = insert_stored(tx.c, kind, chunk, head[0], first=max(top, head[0]) + 1)
                    top = done[-1]
                    if self.ledger:
                        new_links = self.ledger.links(list(zip(done, chunk)), head)
                        head = new_links[-1][0], new_links[-1][2]
                        links += new_links
                    domain = (list(events[i:i + self.batch]) if events is not None
                              else [self.store._domain(s, f"event {s.originator_version} of {s.originator_id}")
                                    for s in chunk])
                    for e in domain:
                        self.dispatch.apply(e, rows)
                    positions += done
                    if len(stored) > self.batch:   # a large write: keep memory flat
                        if self.ledger:
                            self.ledger.store_links(tx.c, links)
                        links = []
                        rows.flush()
                        rows.cache.clear()
                        rows.finds.clear()
                if unit is not None:
                    if positions:   # positions are written when the unit ends
                        unit["head"], unit["last"], unit["top"] = head, positions[-1], top
                    self._forget_answers(unit, rows)
                    # queued in the unit's pipeline (PostgreSQL): sent with the next read or the commit
                    if self.ledger:
                        self.ledger.store_links(tx.c, links)
                    rows.flush()
                    return positions
                if positions:
                    for p in self.projections:
                        rows.put(POSITIONS, {"projection": p.NAME, "version": p.VERSION,
                                             "position": max(positions[-1], pos.get(p.NAME, 0))})
                # PostgreSQL: the chain records, every row change (and the COMMIT) in one round trip
                with self.reads.pipeline(commit=outermost):
                    if self.ledger:
                        self.ledger.store_links(tx.c, links)
                    rows.flush()
                    if positions:
                        self._sequence_to(tx.c, positions[-1])
                if events is not None:
                    self._learn(rows, events)
                self._seen = None
                if outermost and kind == "postgres" and positions and self.ledger and len(stored) <= self.batch:
                    # the state this transaction leaves, with every row it read or wrote
                    self._seen = {"top": top, "gen": pos.get(self.GENERATION, 0), "head": head,
                                  "cache": rows.cache if len(rows.cache) <= self.SEEN_ROWS else {},
                                  "finds": rows.finds}
        except Exception as exc:
            if unit is None and any(k.__name__ == "IntegrityError" for k in type(exc).__mro__):
                raise ConflictError(CONFLICT) from None
            raise
        return positions

    SEEN_ROWS = 20_000   # rows kept known between commands at most (then forgotten)

    def _state_sql(self) -> str:
        names = ", ".join(f"'{p.NAME}'" for p in self.projections)
        return (f"SELECT COALESCE((SELECT MAX(notification_id) FROM stored_events), 0), "
                f"COALESCE((SELECT position FROM {POSITIONS.name} WHERE projection = '{self.GENERATION}'), 0), "
                f"(SELECT COUNT(*) FROM {POSITIONS.name} WHERE projection IN ({names}) AND position = "
                f"COALESCE((SELECT MAX(notification_id) FROM stored_events), 0)), "
                f"COALESCE((SELECT MAX(position) FROM {LEDGER_TABLE}), 0)")

    def prefetch(self, id: Any) -> tuple[str, list[Any], Callable[[list[tuple]], None]] | None:
        """PostgreSQL, outside a transaction, sent with the statement that reads aggregate ``id``'s
        events: in one statement (one snapshot) the log's state and the rows of the tables a projection
        read by an aggregate's id before.  Returns the statement, its parameters and what takes its
        rows."""
        self.saw_current = False
        if self._unit is not None or getattr(self.reads, "_open", None) is not None or not self._prepared \
                or not self.ledger or not self.ledger._ready:
            return None
        tables, refs = list(self._by_id.values()), list(self._refs.values())
        shape = (tuple(t.name for t in tables), tuple(self._refs))
        if self._prefetch_sql is None or self._prefetch_sql[0] != shape:   # made again only when _learn learnt more
            state = self._state_sql()[len("SELECT "):]
            sql = (f"SELECT '~', json_build_array({state}, (SELECT hash FROM {LEDGER_TABLE} ORDER BY position DESC "
                   "LIMIT 1))::text")
            def values(t: Table) -> str:   # a row as a JSON array of its columns, in their order
                return f"json_build_array({', '.join('x.' + c for c in t.columns)})::text"
            for t in tables:
                sql += f" UNION ALL SELECT '{t.name}', {values(t)} FROM {t.name} x WHERE {t.key[0]} = %s"
            for source, column, t in refs:   # rows the aggregate's rows refer to
                sql += (f" UNION ALL SELECT '{t.name}', {values(t)} FROM {t.name} x WHERE {t.key[0]} = "
                        f"(SELECT {column} FROM {source.name} WHERE {source.key[0]} = %s)")
            self._prefetch_sql = (shape, sql)
        sql = self._prefetch_sql[1]
        return sql, [str(id)] * (len(tables) + len(refs)), lambda got: self._saw(got, tables, str(id))

    _prefetch_sql: tuple[tuple, str] | None = None

    def _saw(self, got: list[tuple], tables: list[Table], id: str) -> None:
        import json

        top, gen, current, head_pos, head_hash = json.loads(next(r[1] for r in got if r[0] == "~"))
        self.saw_current = current == len(self.projections)
        if current != len(self.projections):
            self._seen = None   # read models behind the log: the ordinary path catches up
            return
        head = (int(head_pos), head_hash) if head_pos else (0, GENESIS)
        seen = self._seen
        if seen is None or (seen["top"], seen["gen"], seen["head"]) != (top, gen, head) \
                or len(seen["cache"]) > self.SEEN_ROWS:
            seen = self._seen = {"top": top, "gen": gen, "head": head, "cache": {}, "finds": {}}
        by_name = {t.name: t for t in tables}
        by_name.update((t.name, t) for _, _, t in self._refs.values())
        found: dict[str, list[dict[str, Any]]] = {}
        for name, text in got:
            if name != "~":
                found.setdefault(name, []).append(dict(zip(by_name[name].columns, json.loads(text))))
        cache = seen["cache"]
        for t in tables:   # the aggregate's rows, absent ones too
            row = next((r for r in found.get(t.name, []) if r[t.key[0]] == id), None)
            cache[(t.name, (id,))] = _DELETED if row is None else row
        for _, _, t in self._refs.values():   # the rows they refer to, where found
            for row in found.get(t.name, []):
                cache[(t.name, (row[t.key[0]],))] = row

    def _learn(self, rows: CachedRows, events: Sequence[Any]) -> None:
        """Remember which tables projections read by the written aggregate's id, and which rows they
        read by an id found in such a row (a meeting's body): the next aggregate's load reads both."""
        ids = {e.oid for e in events}
        for table, key in rows.misses:
            if len(table.key) != 1:
                continue
            if key in ids:
                self._by_id.setdefault(table.name, table)
                continue
            for source in list(self._by_id.values()):
                for id in ids:
                    row = rows.cache.get((source.name, (id,)))
                    if isinstance(row, dict) and len(self._refs) < 16:
                        for column, value in row.items():
                            if value == key and column not in source.key:
                                self._refs.setdefault((source.name, column, table.name), (source, column, table))
        rows.misses = []

    def _write_at_once(self, stored: Sequence[Any], events: Sequence[Any]) -> list[int] | None:
        """PostgreSQL: a command's whole transaction in one round trip, when the log is where this
        process last saw it.  The events are applied to the read models before the transaction, from
        rows known at that state (read then or since, outside a transaction); then BEGIN, the lock,
        the events and their chain records at the positions after the ones seen (taken meanwhile:
        the statement fails), the row changes, the positions moved on with a check that every read
        model stood at the position seen and the generation is the one seen (otherwise the
        statement fails), and COMMIT go as one message (PostgresReadStore.write_script).  Anything
        unexpected — a check failing, a query after a change, a conflict — rolls back and returns
        None: the ordinary path then decides."""
        seen = self._seen
        if seen is None or not self.ledger or not self.ledger._ready:
            return None
        top, gen, head = seen["top"], seen["gen"], seen["head"]
        with self.reads.statement() as rd:
            rows = CachedRows(rd.c, rd.ph)
            rows.previous = seen["cache"]   # read, not copied: merged into once the write is committed
            rows.finds = {k: dict(v) for k, v in seen["finds"].items()}
            rows.speculative = True
            try:
                for e in events:
                    self.dispatch.apply(e, rows)
                rows.settle()   # work put off for the flush reads now: the flush below cannot
            except Speculation:
                self._learn(rows, events)
                return None
        self._learn(rows, events)
        first = max(top, head[0]) + 1
        positions = list(range(first, first + len(stored)))
        links = self.ledger.links(list(zip(positions, stored)), head)
        cur = Collect()
        insert_stored(cur, "postgres", stored, head[0], first=first)   # a position taken meanwhile: fails
        self.ledger.store_links(cur, links)                            # so does a chain record's

        def row_changes() -> list[tuple[str, Sequence[Any] | None]]:   # made while the server runs the above
            changes = Collect()
            rows.speculative, rows.c = False, changes
            rows.flush()
            # the positions moved on, and the check that the state was the one seen: every read model
            # at the log position seen, the same generation (no rebuild swapped the tables meanwhile)
            changes.execute(self._MOVE_ON, (positions[-1], [p.NAME for p in self.projections], top,
                                            len(self.projections), gen, positions[-1]))
            return changes.statements
        try:
            self.reads.write_script(cur.statements, row_changes)   # type: ignore[attr-defined]
        except NotCommitted as exc:
            self._seen = None
            if is_lock_timeout(exc.args[0]):
                raise exc.args[0] from None
            return None
        known = seen["cache"]
        known.update(rows.cache)
        self._seen = {"top": positions[-1], "gen": gen, "head": (links[-1][0], links[-1][2]),
                      "cache": known if len(known) <= self.SEEN_ROWS else {}, "finds": rows.finds}
        return positions

    # PostgreSQL, the end of a command sent at once (_write_at_once): fails (division by zero) unless
    # every read model stood at the position seen and the generation is the one seen; and the
    # position sequence follows (see _sequence_to)
    _MOVE_ON = (f"WITH moved AS (UPDATE {POSITIONS.name} SET position = %s WHERE projection = ANY(%s) "
                "AND position = %s RETURNING 1) "
                "SELECT 1 / (CASE WHEN (SELECT COUNT(*) FROM moved) = %s AND "
                f"COALESCE((SELECT position FROM {POSITIONS.name} WHERE projection = '{GENERATION}'), 0) = %s "
                "THEN 1 ELSE 0 END), "
                "setval(pg_get_serial_sequence('stored_events', 'notification_id'), %s)")

    def _sequence_to(self, cur: Any, last: int) -> None:
        """PostgreSQL: keep the position sequence at the last position we gave (a writer that lets the
        database number its rows — an older kyogikai — then continues after it)."""
        if self.store.location.kind == "postgres":
            cur.execute("SELECT setval(pg_get_serial_sequence('stored_events', 'notification_id'), %s)", (last,))

    @staticmethod
    def _forget_answers(unit: dict[str, Any], rows: CachedRows) -> None:
        """Drop the unit's memoised query answers that this write may have changed: those naming a
        table it wrote (all of them when raw SQL ran)."""
        memo = unit.get("reads")
        if not memo:
            return
        if rows.raw:
            memo.clear()
            return
        written = rows.touched | {"stored_events", LEDGER_TABLE, POSITIONS.name}
        pattern = re.compile(r"\b(" + "|".join(re.escape(t) for t in sorted(written)) + r")\b")
        # keys are (sql, params) for raw SQL, (named query, args) for a projection's query: the
        # latter cannot be told apart by table, so any write drops them
        for key in [k for k in memo if not isinstance(k[0], str) or pattern.search(k[0])]:
            del memo[key]

    @contextmanager
    def unit(self, tx: SQLRows, resident: bool = False) -> Iterator[None]:
        """Inside the caller's open write transaction: the writes within share one row cache, the
        positions and the chain head are read once and the positions written once, at the end.

        On PostgreSQL writes are held back and sent with the next read (a read costs one round
        trip, a write none: :class:`Deferred`), the last ones with the COMMIT.  With ``resident``
        (a unit of many commands, as an import), the organisation-sized tables are read whole once
        and answered from memory, as in a rebuild (:class:`CachedRows`)."""
        if self._unit is not None:
            yield
            return
        deferred = None
        if hasattr(self.reads, "deferring"):
            deferred = self.reads.deferring()
            tx.c = deferred
        self._unit = {"rows": CachedRows(tx.c, tx.ph, resident=resident), "pos": None, "head": None, "last": None,
                      "top": 0}
        self._unit["rows"].precise = True
        self._seen = None
        try:
            yield
            u = self._unit
            if u["last"] is not None:
                for p in self.projections:
                    u["rows"].put(POSITIONS, {"projection": p.NAME, "version": p.VERSION,
                                              "position": max(u["last"], u["pos"].get(p.NAME, 0))})
                u["rows"].flush()
                self._sequence_to(tx.c, u["last"])
            if deferred is not None:
                self.reads.commit_deferred(deferred)   # type: ignore[attr-defined]
        except Exception as exc:
            if any(k.__name__ == "IntegrityError" for k in type(exc).__mro__):
                raise ConflictError(CONFLICT) from None
            raise
        finally:
            self._unit = None

    def unit_find(self, table: Table, order: Sequence[str] = (), **where: Any) -> list[dict[str, Any]]:
        """Inside a unit of work: read-model rows as the unit left them, through its row cache (a
        lookup by key answered from it, other questions until their table is written)."""
        assert self._unit is not None
        rows: CachedRows = self._unit["rows"]
        if where and len(where) == len(table.key) and set(where) == set(table.key):
            row = rows.get(table, *[where[k] for k in table.key])
            return [] if row is None else [row]
        return rows.find(table, order, **where)

    def _pending_sql(self) -> str:
        col = "rowid" if self.store.location.kind == "sqlite" else "notification_id"
        chain = ""
        if self.ledger:
            chain = (f", (SELECT position FROM {LEDGER_TABLE} ORDER BY position DESC LIMIT 1), "
                     f"(SELECT hash FROM {LEDGER_TABLE} ORDER BY position DESC LIMIT 1)")
        return f"SELECT projection, position, (SELECT MAX({col}) FROM stored_events){chain} FROM {POSITIONS.name}"

    def _pending(self, rows: CachedRows, found: list[tuple] | None = None) -> tuple[dict[str, int], tuple[int, str], int]:
        """Inside a write transaction: apply what others wrote since the read models' positions;
        returns the positions, the chain head and the log's last position (one statement when
        nothing is pending, sent with BEGIN on PostgreSQL: ``found``)."""
        if self.ledger:
            self.ledger.ensure(rows.c)
        if found is None:
            found = rows.execute(self._pending_sql())
        pos = {r[0]: r[1] for r in found}
        top = int(found[0][2] or 0) if found else None
        if not self.ledger:
            head = (0, "")
        elif found:
            head = (int(found[0][3]), found[0][4]) if found[0][3] is not None else (0, GENESIS)
        else:
            head = self.ledger.head(rows.c)
        start = min(pos.get(p.NAME, 0) for p in self.projections)
        if top is not None and start >= top:
            return pos, head, top   # the usual case: nothing written by others (one statement)
        while True:
            notes = self.store.decoded_after(rows.c, start, self.batch)
            if notes:
                start = self._apply_batch(notes, pos, rows)
                rows.flush()
            if len(notes) < self.batch:
                return pos, head, max(top or 0, start)

    def _apply_batch(self, notes: Sequence[tuple[int, Any]], pos: dict[str, int], rows: CachedRows) -> int:
        """Apply (position, event) to each read model that lacks them; record the new positions in
        ``pos`` and in the positions table; returns the last position."""
        for at, e in notes:
            for p, handler in self.dispatch(type(e)):
                if at > pos.get(p.NAME, 0):
                    handler(e, rows)
        last = notes[-1][0]
        for p in self.projections:
            pos[p.NAME] = max(last, pos.get(p.NAME, 0))
            rows.put(POSITIONS, {"projection": p.NAME, "version": p.VERSION, "position": pos[p.NAME]})
        return last

    MAX_TRANSACTION = 20_000  # events applied in one transaction before a commit (see catch_up)

    def catch_up(self, progress: ProgressFn | None = None) -> int:
        """Apply every event not yet applied (written by other processes); returns how many were applied.

        One transaction applies batches of ``batch`` events until the end of the log as it stands,
        so it ends where a writer's transaction ended: no reader ever sees half of a command's (or an
        import's) events applied.  Only a backlog beyond ``MAX_TRANSACTION`` events (bulk appends
        without read models) is committed in pieces (each piece still atomic with its positions).
        """
        self.prepare()
        if not self.behind():  # a cheap read first: no write lock when there is nothing to apply
            return 0
        return self._catch_up(progress)

    @bulk_gc()
    def _catch_up(self, progress: ProgressFn | None) -> int:
        done, total = 0, None
        while True:
            with self.reads.transaction() as tx:
                in_tx = 0
                while True:
                    rows = CachedRows(tx.c, tx.ph)
                    pos = {r["projection"]: r["position"] for r in rows.find(POSITIONS)}
                    start = min(pos.get(p.NAME, 0) for p in self.projections)
                    if progress and total is None:
                        total = self.store.max_position()
                    notes = self.store.decoded_after(tx.c, start, self.batch)
                    if notes:
                        self._apply_batch(notes, pos, rows)
                    rows.flush()
                    done += len(notes)
                    in_tx += len(notes)
                    if notes and progress and total:
                        progress(min(notes[-1][0], total), total)   # was an undefined name (NameError)
                    if len(notes) < self.batch:
                        return done            # the end of the log: commit
                    if in_tx >= self.MAX_TRANSACTION:
                        break                  # commit this piece, go on in a new transaction

    # -- rebuilding ------------------------------------------------------------------------------
    def rebuild(self, progress: ProgressFn | None = None) -> int:
        """Build every read model again from the whole log into fresh tables, then swap them in.

        Readers see the old read models, complete, until the swap commits, then the new ones; a
        killed rebuild leaves the old ones in place (its unfinished tables are dropped by a later
        rebuild).  Commands wait at most one piece (``PIECE_SECONDS`` of projecting, or
        ``MAX_TRANSACTION`` events) plus the swap.  Returns the number of events applied.
        """
        self.prepare(rebuild_stale=False)   # stale projections are rebuilt below with the others
        done = self._rebuild(progress, self.projections)
        self._prepared = True
        return done

    @bulk_gc()
    def _rebuild(self, progress: ProgressFn | None, targets: Sequence[ModuleType]) -> int:
        """Fresh tables ``<name>__r<token>`` filled in pieces (each piece its own transaction, the
        position kept by this process), then one swap transaction under the write lock: no event
        can be written meanwhile; old tables dropped, fresh ones renamed, positions and the
        generation set.  The swap writes no row into the swapped tables, so on PostgreSQL a reader
        whose snapshot predates the swap yet reaches a table after it still sees complete rows."""
        dispatch = Dispatch(targets)
        token = uuid.uuid4().hex[:10]
        names = {t.name: f"{t.name}__r{token}" for p in targets for t in p.TABLES}
        lease = self.LEASE + token
        writer = self._writer()
        try:
            # with a writer process, the secondary indexes are made with the tables and kept as rows
            # come (the writer's work, beside ours); else built once the tables are filled (one sort each)
            with self.reads.transaction() as tx:
                self._drop_abandoned(tx)
                for p in targets:
                    for t in p.TABLES:
                        for stmt in ddl(t, self.reads.int_type, names[t.name], f"_{token}", indexes=writer is not None):
                            tx.c.execute(stmt)
                tx.put(POSITIONS, {"projection": lease, "version": 0, "position": int(time.time())})
        except BaseException:
            if writer is not None:
                writer.close()
            raise
        position, done, total, indexed = 0, 0, None, writer is not None
        try:
            for attempt in range(1000):
                if progress and total is None:
                    total = self.store.max_position()
                at_end = False
                while not at_end:
                    position, applied, at_end = self._piece(dispatch, names, lease, position, progress, total, writer)
                    done += applied
                if writer is not None:   # everything it was sent is committed before the swap reads it
                    try:
                        writer.sync()
                    except WriterFailed as exc:
                        raise self._writer_error(exc) from None
                    writer.close()
                    writer = None
                if not indexed:   # the fresh tables are filled: their secondary indexes
                    with self.reads.transaction() as tx:
                        for p in targets:
                            for t in p.TABLES:
                                for stmt in index_ddl(t, names[t.name], f"_{token}"):
                                    tx.c.execute(stmt)
                    indexed = True
                if self._swap(dispatch, names, lease, position, last_try=attempt >= 5):
                    return done
            raise StoreError("rebuild: readers kept the read models busy; nothing was replaced, try again")
        except BaseException:
            if writer is not None:
                writer.close()   # what it has not committed is rolled back
            try:   # best effort: a SIGKILL skips this, and a later rebuild drops the tables
                with self.reads.transaction() as tx:
                    self._drop_shadow(tx, token)
            except Exception:
                pass
            raise

    def _writer(self) -> SQLiteWriter | None:
        """SQLite: the process that runs the rebuild's writes (:mod:`.sqlite_writer`), or None to
        write here (PostgreSQL's server already writes while we project; ``KYOGIKAI_REBUILD_WRITER=0``)."""
        if not isinstance(self.reads, SQLiteReadStore) or os.environ.get("KYOGIKAI_REBUILD_WRITER") == "0":
            return None
        try:
            return SQLiteWriter(self.reads.path, lock_timeout())
        except OSError:   # pragma: no cover - no process to start: the writes are made here
            return None

    @staticmethod
    def _writer_error(exc: WriterFailed) -> StoreError:
        if str(exc) == LEASE_LOST:
            return StoreError(REBUILD_LEASE_LOST)
        return StoreError(f"rebuild: {exc}")

    def _piece(self, dispatch: "Dispatch", names: dict[str, str], lease: str, position: int,
               progress: ProgressFn | None, total: int | None,
               writer: SQLiteWriter | None = None) -> tuple[int, int, bool]:
        """One piece of a rebuild, one transaction: the events after ``position`` applied to the fresh
        tables (``PIECE_SECONDS`` of projecting, ``MAX_TRANSACTION`` events, or to the log's end) and
        the lease renewed.  Returns the new position, the events applied and whether the end was reached.

        With a ``writer`` (SQLite), the transaction is the writer's: the rows, the lease and the
        COMMIT are sent to it and not waited for (a read waits, and sees them), while the events are
        read here, outside any transaction (the log only grows), and the next batch is applied."""
        if writer is not None:
            try:
                return self._piece_sent(writer, dispatch, names, lease, position, progress, total)
            except WriterFailed as exc:
                raise self._writer_error(exc) from None
        with self.reads.transaction() as tx, self.reads.pipeline():
            rows = CachedRows(tx.c, tx.ph, names, resident=True)
            position, done, at_end = self._batches(dispatch, rows, tx.c, position, progress, total)
            if tx.get(POSITIONS, lease) is None:
                raise StoreError(REBUILD_LEASE_LOST)
            tx.put(POSITIONS, {"projection": lease, "version": 0, "position": int(time.time())})
        return position, done, at_end

    def _batches(self, dispatch: "Dispatch", rows: CachedRows, cur: Any, position: int,
                 progress: ProgressFn | None, total: int | None) -> tuple[int, int, bool]:
        """A piece's batches: the events after ``position`` (read with ``cur``) applied to ``rows``
        for ``PIECE_SECONDS``, ``MAX_TRANSACTION`` events, or to the log's end.  The next batch is
        read before a batch's rows are sent: the server (PostgreSQL's pipeline) or the writer process
        (SQLite) writes them while the next batch is applied."""
        done, started = 0, time.monotonic()
        notes = self.store.decoded_after(cur, position, self.batch)
        while True:
            for _, e in notes:
                dispatch.apply(e, rows)
            if notes:
                position = notes[-1][0]
                if progress and total:
                    progress(min(position, total), total)
            done += len(notes)
            at_end = len(notes) < self.batch
            if at_end or done >= self.MAX_TRANSACTION or time.monotonic() - started >= self.PIECE_SECONDS:
                rows.flush()
                return position, done, at_end
            notes = self.store.decoded_after(cur, position, self.batch)
            rows.flush()

    def _piece_sent(self, writer: SQLiteWriter, dispatch: "Dispatch", names: dict[str, str], lease: str,
                    position: int, progress: ProgressFn | None, total: int | None) -> tuple[int, int, bool]:
        """:meth:`_piece` with its writes sent to ``writer``."""
        writer.send(("begin",))
        rows = writer.rows
        if rows is None:
            rows = writer.rows = CachedRows(writer.cursor(), "?", names, resident=True)
        else:   # this piece's and the last piece's rows are known here, the resident tables too
            rows.next_generation()
        with self.reads.statement() as rd:   # the events are read here, outside any transaction
            # a row neither this piece nor the last one touched is as the pieces before left it:
            # once the writer has committed those, read here (find and raw SQL ask the writer)
            before_last = writer.commits_sent - 1
            rows.committed = CommittedRows(rd.c, "?", names, lambda: writer.wait_committed(before_last))
            position, done, at_end = self._batches(dispatch, rows, rd.c, position, progress, total)
            rows.committed = None
        writer.send(("lease", f"UPDATE {POSITIONS.name} SET position = ? WHERE projection = ?", [int(time.time()), lease]))
        writer.commit()
        return position, done, at_end

    def _swap(self, dispatch: "Dispatch", names: dict[str, str], lease: str, position: int,
              last_try: bool) -> bool:
        """The swap transaction; False when it should be tried again after another piece."""
        kind = self.store.location.kind
        targets = dispatch.projections
        with self.reads.transaction() as tx:
            if select_after(tx.c, kind, position, 1):   # written since the last piece
                if kind == "postgres" and not last_try:
                    return False   # another piece first, so the swap itself writes no rows
                rows = CachedRows(tx.c, tx.ph, names, resident=True)
                while True:
                    notes = self.store.decoded_after(tx.c, position, self.batch)
                    for _, e in notes:
                        dispatch.apply(e, rows)
                    if notes:
                        position = notes[-1][0]
                    if len(notes) < self.batch:
                        break
                rows.flush()
            if kind == "postgres":
                # take every table at once or none (NOWAIT): never wait holding some while a reader
                # holds others, which could deadlock a reader
                existing = {r[0] for r in tx.execute(self.reads.existing_tables_sql or "")}
                tables = ", ".join([n for n in names if n in existing] + list(names.values()))
                tx.c.execute("SAVEPOINT swap")
                try:
                    tx.c.execute(f"LOCK TABLE {tables} IN ACCESS EXCLUSIVE MODE" + ("" if last_try else " NOWAIT"))
                except Exception as exc:
                    if type(exc).__name__ != "LockNotAvailable":
                        raise
                    tx.c.execute("ROLLBACK TO SAVEPOINT swap")
                    time.sleep(0.05)
                    return False
            for old, new in names.items():
                tx.c.execute(f"DROP TABLE IF EXISTS {old}")
                tx.c.execute(f"ALTER TABLE {new} RENAME TO {old}")
            for p in targets:
                tx.put(POSITIONS, {"projection": p.NAME, "version": p.VERSION, "position": position})
            gen = tx.get(POSITIONS, self.GENERATION)
            tx.put(POSITIONS, {"projection": self.GENERATION, "version": 0,
                               "position": (gen["position"] if gen else 0) + 1})
            tx.delete(POSITIONS, lease)
        return True

    def _shadow_tables(self, tx: SQLRows, token: str) -> list[str]:
        if self.reads.existing_tables_sql is None:
            return []
        return [r[0] for r in tx.execute(self.reads.existing_tables_sql) if str(r[0]).endswith(f"__r{token}")]

    def _drop_shadow(self, tx: SQLRows, token: str) -> None:
        for name in self._shadow_tables(tx, token):
            tx.c.execute(f"DROP TABLE IF EXISTS {name}")
        tx.delete(POSITIONS, self.LEASE + token)

    def _drop_abandoned(self, tx: SQLRows) -> None:
        """Drop the tables of rebuilds killed (or silent for ``LEASE_SECONDS``) before they swapped."""
        now = time.time()
        leases = {r["projection"][len(self.LEASE):]: r["position"] for r in tx.find(POSITIONS)
                  if r["projection"].startswith(self.LEASE)}
        if self.reads.existing_tables_sql is None:
            return
        for name in [r[0] for r in tx.execute(self.reads.existing_tables_sql)]:
            base, sep, token = str(name).rpartition("__r")
            if sep and base.startswith("rm_") and (token not in leases or now - leases[token] > self.LEASE_SECONDS):
                tx.c.execute(f"DROP TABLE IF EXISTS {name}")
        for token, beat in leases.items():
            if now - beat > self.LEASE_SECONDS:
                tx.delete(POSITIONS, self.LEASE + token)

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
        if self.conn.in_transaction:
            yield SQLRows(self.conn.cursor(), "?")
            return
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
    dispatch = Dispatch(projections)
    with reads.transaction() as rows:
        for _, event in store.iter_all():
            if event.timestamp <= until:
                dispatch.apply(event, rows)
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
