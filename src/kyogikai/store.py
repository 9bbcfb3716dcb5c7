"""The event store: the eventsourcing library's recorders on a SQLite file or PostgreSQL.

``--db`` / ``KYOGIKAI_DB`` takes a SQLite path (or ``sqlite:///path``) or a
``postgresql://user:password@host:port/dbname[?schema=name]`` URL.  Without either, the store is
``$XDG_DATA_HOME/kyogikai/kyogikai.sqlite`` (``~/.local/share/kyogikai/kyogikai.sqlite``).

Events are mapped by :class:`Mapper`: topic ``kyogikai:<EventName>:v<class_version>`` and the payload
as compact JSON.  The library's recorders create the tables and serve reads; every append goes
through :func:`insert_stored` on the connection of a write transaction that also chains the events
(:mod:`kyogikai.ledger`) and — for commands, imports and restores — applies them to the read models
(``Runtime.write``): one transaction, under the write lock.  The unique key on (aggregate id,
version) turns a concurrent change into :class:`ConflictError`, so nothing is lost and nothing is
half-written.
"""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence, TypeVar
from urllib.parse import parse_qs, unquote, urlparse
from uuid import UUID

from eventsourcing.persistence import (
    ApplicationRecorder,
    InfrastructureFactory,
    Notification,
    StoredEvent,
)

from .i18n import M
from .domain.events import _REGISTRY, Aggregate, DomainEvent, event_class, upcast
from .domain import users as _users  # noqa: F401  (registers the console account events)

A = TypeVar("A", bound=Aggregate)


class ConflictError(Exception):
    """Someone else changed the same thing first; nothing of this command was written."""


class StoreError(Exception):
    """The database cannot be opened or used; the message says which and why."""


class StoreMissing(StoreError):
    """An explicitly named store does not exist (issue 13, point 6): refused, nothing created;
    ``kyogikai init`` creates it."""

    def __init__(self, location: "Location") -> None:
        from .i18n import M

        where = location.describe()
        super().__init__(M("no kyogikai store at {where}: create one with 'kyogikai init --db {where}'", where=where))


def lock_timeout() -> float:
    """Seconds a command waits for another writer's lock (``KYOGIKAI_LOCK_TIMEOUT``, default 30)."""
    try:
        value = float(os.environ.get("KYOGIKAI_LOCK_TIMEOUT", "30"))
    except ValueError:
        return 30.0
    return value if 0 < value <= 3600 else 30.0


def is_lock_timeout(exc: BaseException) -> bool:
    """Another writer held the lock longer than we wait: SQLite "database is locked", PostgreSQL
    ``lock_timeout`` (also when the eventsourcing library wraps them in its own exceptions)."""
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        text = str(e).lower()
        if type(e).__name__ in ("LockNotAvailable", "StoreBusy"):
            return True
        if "database is locked" in text or "database table is locked" in text or "lock timeout" in text:
            return True
        e = e.__cause__ or e.__context__
    return False


def default_db_path() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "kyogikai" / "kyogikai.sqlite"


@dataclass(frozen=True)
class Location:
    kind: str                       # "sqlite" | "postgres"
    path: str = ""                  # sqlite file
    dbname: str = ""
    host: str = "127.0.0.1"
    port: int = 5432
    user: str = "postgres"
    password: str = ""
    schema: str = "public"
    default: bool = field(default=False, compare=False)   # the default location, not named by the user

    @classmethod
    def parse(cls, url: str | None) -> "Location":
        named = url or os.environ.get("KYOGIKAI_DB")
        if not named:
            return cls("sqlite", path=str(default_db_path()), default=True)
        url = named
        if url.startswith(("postgresql://", "postgres://")):
            u = urlparse(url)
            schema = parse_qs(u.query).get("schema", ["public"])[0]
            if not u.path.strip("/"):
                raise StoreError(M("database URL {url} names no database (postgresql://user@host:port/dbname)",
                                   url=_short(redact(url))))
            try:
                port = u.port
            except ValueError as exc:  # a port out of 0-65535 or not a number
                raise StoreError(M("database URL {url}: {problem}", url=_short(redact(url)), problem=str(exc))) from None
            return cls("postgres", dbname=unquote(u.path.lstrip("/")), host=u.hostname or "127.0.0.1",
                       port=port or 5432, user=unquote(u.username or "postgres"),
                       password=unquote(u.password or ""), schema=schema)
        if url.startswith("sqlite:///"):
            url = url[len("sqlite:///"):]
        elif "://" in url:
            raise StoreError(M("unknown database URL {url}: give a file path or postgresql://…", url=_short(redact(url))))
        path = str(Path(url).expanduser()) if url else url
        # what the file system could not open anyway, said plainly (not an OSError or a recursion in mkdir)
        if not path or "\x00" in path or len(path) > MAX_DB_PATH or any(
                len(part.encode("utf-8", "surrogateescape")) > 255 for part in path.split(os.sep)):
            raise StoreError(M("database path {path}: not a usable file name (empty, a NUL character, longer than {limit} "
                               "characters or a part longer than 255 bytes)", path=_short(path), limit=MAX_DB_PATH))
        return cls("sqlite", path=path)

    def describe(self) -> str:
        if self.kind == "sqlite":
            return self.path
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.dbname}" + (
            f"?schema={self.schema}" if self.schema != "public" else "")


MAX_DB_PATH = 1024


def _short(text: str, limit: int = 120) -> str:
    return repr(text) if len(text) <= limit else f"{text[:limit]!r}… ({len(text):,} characters)"


def redact(url: str) -> str:
    u = urlparse(url)
    if u.password:
        return url.replace(":" + u.password + "@", ":***@")
    return url


ENVELOPE = {"originator_id", "originator_version"}
_CURRENT: dict[str, type[DomainEvent]] = {}   # topic as this kyogikai writes it (no upcasting) -> class


class Mapper:
    """Domain event <-> stored event, with upcasting of older class versions.

    The state is the event's JSON without the envelope (id and version live in their own columns),
    written and read by pydantic's Rust core: reading splices the envelope back into the bytes and
    validates them in one call, the hot path of every rebuild.
    """

    PREFIX = "kyogikai:"

    def to_stored(self, e: DomainEvent) -> StoredEvent:
        return StoredEvent(
            originator_id=e.originator_id,
            originator_version=e.originator_version,
            topic=f"{self.PREFIX}{type(e).__name__}:v{type(e).class_version}",
            state=e.model_dump_json(exclude=ENVELOPE).encode(),
        )

    def decode(self, oid: str, version: int, topic: str, state: bytes) -> DomainEvent:
        """A stored row as a domain event, from its columns as read (``oid`` the id as text, with or
        without dashes): the hot path of rebuilds and catch-ups, with no intermediate objects —
        a current-version event is one call into pydantic's core with the envelope spliced in."""
        current = _CURRENT.get(topic)
        if current is None and len(_CURRENT) != len(_REGISTRY):   # an event module imported since
            _CURRENT.update({f"{self.PREFIX}{name}:v{cls.class_version}": cls for name, cls in _REGISTRY.items()})
            current = _CURRENT.get(topic)
        if current is not None and state[:1] == b"{" and len(state) > 2:
            if len(oid) == 32:
                oid = f"{oid[:8]}-{oid[8:12]}-{oid[12:16]}-{oid[16:20]}-{oid[20:]}"
            event = current.model_validate_json(b'{"originator_id":"%s","originator_version":%d,'
                                                % (oid.encode(), version) + state[1:])
            event.__dict__["oid"] = oid
            return event
        return self._decode_other(oid, version, topic, state)

    def to_domain(self, s: StoredEvent) -> DomainEvent:
        return self.decode(str(s.originator_id), s.originator_version, s.topic, bytes(s.state))

    def _decode_other(self, oid: str, version: int, topic: str, state: bytes) -> DomainEvent:
        """An event of an older class version (upcast), or from a newer kyogikai (refused)."""
        name, _, stored = topic[len(self.PREFIX):].partition(":v")
        cls = event_class(name)
        stored_version = int(stored or 1)
        if stored_version > cls.class_version:
            raise LookupError(M("{name} v{version} was written by a newer kyogikai (this one reads up to v{supported}): "
                                "upgrade kyogikai", name=name, version=stored_version, supported=cls.class_version))
        data = json.loads(state)
        if stored_version != cls.class_version:
            data = upcast(cls, data, stored_version)
        return cls(originator_id=UUID(oid), originator_version=version, **data)

CONFLICT = M("conflict: someone else changed the same record at the same time; nothing was written, "
             "try again")


def insert_stored(cur: Any, kind: str, stored: Sequence[StoredEvent], floor: int = 0,
                  first: int | None = None) -> list[int]:
    """Insert stored events with ``cur`` (inside the caller's write transaction); returns their positions.

    The same rows the library's recorder writes (SQLite: ``rowid`` is the position; PostgreSQL:
    ``notification_id``).  Writers hold the write lock until they commit, so positions are
    committed in order and a reader following the log never passes over a gap filled later.
    Positions are above ``floor`` (the chain head): SQLite would otherwise reuse the position of a
    deleted last event, which the chain already vouches for.  ``first``, when given, is the first
    position (the caller read the log's last one under the write lock): nothing is read back, so on
    PostgreSQL the insert can be pipelined with what follows (a version already taken then raises
    when the pipeline is synced; the caller turns it into :class:`ConflictError`).
    """
    out: list[int] = []
    try:
        if kind == "sqlite":
            if first is None:
                cur.execute("SELECT MAX(rowid) FROM stored_events")
                first = max(int(cur.fetchone()[0] or 0), floor) + 1
            out = list(range(first, first + len(stored)))
            cur.executemany("INSERT INTO stored_events (rowid, originator_id, originator_version, topic, state) "
                            "VALUES (?,?,?,?,?)",
                            [(p, s.originator_id.hex if isinstance(s.originator_id, UUID) else str(s.originator_id),
                              s.originator_version, s.topic, s.state) for p, s in zip(out, stored)])
        elif first is not None:
            out = list(range(first, first + len(stored)))
            for i in range(0, len(stored), 500):
                chunk = stored[i:i + 500]
                values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(chunk))
                params: list[Any] = []
                for p, s in zip(out[i:i + 500], chunk):
                    params += [p, s.originator_id, s.originator_version, s.topic, s.state]
                cur.execute("INSERT INTO stored_events (notification_id, originator_id, originator_version, topic, "
                            f"state) VALUES {values}", params)
        else:
            for i in range(0, len(stored), 500):
                chunk = stored[i:i + 500]
                values = ", ".join(["(%s, %s, %s, %s)"] * len(chunk))
                params = []
                for s in chunk:
                    params += [s.originator_id, s.originator_version, s.topic, s.state]
                cur.execute("INSERT INTO stored_events (originator_id, originator_version, topic, state) "
                            f"VALUES {values} RETURNING notification_id", params)
                out += [r[0] for r in cur.fetchall()]
    except Exception as exc:
        if any(k.__name__ == "IntegrityError" for k in type(exc).__mro__):  # sqlite3's or psycopg's
            raise ConflictError(CONFLICT) from None
        raise
    return out


def select_after(cur: Any, kind: str, after: int, limit: int, upto: int | None = None) -> list[Notification]:
    """Notifications after ``after`` read with ``cur`` (it sees its own transaction's writes)."""
    cur.execute(*select_after_query(kind, after, limit, upto))
    return [Notification(id=int(r[0]), originator_id=UUID(str(r[1])), originator_version=r[2], topic=r[3],
                         state=bytes(r[4])) for r in cur.fetchall()]


def _unreadable(where: str, exc: Exception) -> StoreError:
    return StoreError(M("the stored {where} cannot be read ({reason}); 'kyogikai verify' checks the log", where=where,
                        reason=one_line(exc)[:200]))


def select_after_query(kind: str, after: int, limit: int, upto: int | None = None) -> tuple[str, list[int]]:
    """The statement and parameters of :func:`select_after` and :meth:`EventStore.decoded_after`
    (the id as text)."""
    col = "rowid" if kind == "sqlite" else "notification_id"
    ph = "?" if kind == "sqlite" else "%s"
    oid = "originator_id" if kind == "sqlite" else "originator_id::text"
    return (f"SELECT {col}, {oid}, originator_version, topic, state FROM stored_events WHERE {col} > {ph}"
            + (f" AND {col} <= {ph}" if upto is not None else "") + f" ORDER BY {col} LIMIT {ph}",
            [after] + ([upto] if upto is not None else []) + [limit])


class EventStore:
    """Events: written through a write transaction (``writer``), read through the library's recorder.

    ``writer(stored, events)`` is set by the application to its runtime's one-transaction write
    (events, chain and read models together); without one, :meth:`append` writes the events and
    their chain records in one transaction of its own (the read models catch up later).  While a
    unit of work holds a transaction open (``cursor`` set), reads go through that cursor so they
    see what the unit has written so far.
    """

    writer: Callable[[list[StoredEvent], list[DomainEvent]], Any] | None = None
    reader: Any = None      # a ReadStore on the same database: aggregate loads in one statement on it
    cursor: Any = None
    # PostgreSQL: a statement sent with the one that loads an aggregate (read models' rows a command
    # on it will need), its parameters and what takes its rows (Runtime.prefetch)
    prefetch: Callable[[UUID], tuple[str, list[Any], Callable[[list[tuple]], None]] | None] | None = None

    def __init__(self, location: Location, create: bool = False) -> None:
        """Open the store at ``location``; one that does not exist raises :class:`StoreMissing` and
        nothing is created, unless ``create`` (``init``, ``demo``, the default location).
        ``created`` says whether this call created it."""
        self.location = location
        self._own_writer: Any = None
        self._unit_loads: dict[UUID, list[StoredEvent]] = {}
        self.created = False
        env: dict[str, str] = {}
        if location.kind == "sqlite":
            path = Path(location.path)
            if not os.path.lexists(path):
                if not create:
                    raise StoreMissing(location)
                self.created = True
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(M("cannot create the folder for {path}: {reason}", path=path, reason=exc.strerror)) from None
            if path.is_dir():
                raise StoreError(M("database path {path} is a folder, not a file", path=path))
            env.update(PERSISTENCE_MODULE="eventsourcing.sqlite", SQLITE_DBNAME=str(path), SQLITE_LOCK_TIMEOUT=str(int(max(1, lock_timeout()))))
            self._construct(env)
        else:
            env.update(
                PERSISTENCE_MODULE="eventsourcing.postgres", POSTGRES_DBNAME=location.dbname,
                POSTGRES_HOST=location.host, POSTGRES_PORT=str(location.port), POSTGRES_USER=location.user,
                POSTGRES_PASSWORD=location.password, POSTGRES_SCHEMA=location.schema,
                POSTGRES_CONNECT_TIMEOUT="5", POSTGRES_LOCK_TIMEOUT=str(int(lock_timeout() * 1000)),
            )
            with pg_setup(location, create) as tables_exist:
                self.created = not tables_exist
                # the library's DDL (CREATE OR REPLACE FUNCTION …) fails with "tuple concurrently updated"
                # when two processes run it at once: skip it when the tables exist, serialise it otherwise
                env["CREATE_TABLE"] = "no" if tables_exist else "yes"
                self._construct(env)
        self.mapper = Mapper()

    def _construct(self, env: dict[str, str]) -> None:
        try:
            self.factory = InfrastructureFactory.construct(env)
            self.recorder: ApplicationRecorder = self.factory.application_recorder()
        except Exception as exc:  # the library raises several kinds here
            raise StoreError(M("cannot open the event store at {location}: {reason}", location=self.location.describe(),
                                reason=one_line(exc))) from None

    # -- writing --------------------------------------------------------------------------------
    def append(self, events: Sequence[DomainEvent]) -> None:
        """Write events atomically; a version already taken raises ConflictError and writes nothing."""
        if not events:
            return
        stored = [self.mapper.to_stored(e) for e in events]
        loaded = {e.originator_id: self._unit_loads.pop(e.originator_id, None) for e in events}
        if self.writer is not None:
            self.writer(stored, list(events))
            if self.cursor is not None:   # inside a unit of work (the lock held): what it holds now is known
                self._remember(loaded, stored)
            return
        from .ledger import Ledger
        from .projections.runtime import open_read_store

        kind = self.location.kind
        if self._own_writer is None:
            self._own_writer, self._own_ledger = open_read_store(self.location), Ledger(kind)
        with self._own_writer.transaction() as tx:   # events and their chain records: one transaction
            ledger = self._own_ledger
            head = ledger.head(tx.c)
            positions = insert_stored(tx.c, kind, stored, head[0])
            ledger.chain(tx.c, list(zip(positions, stored)), head)

    def _remember(self, loaded: dict[UUID, list[StoredEvent] | None], stored: Sequence[StoredEvent]) -> None:
        """After a write inside a unit (the write lock held, so nobody else wrote): an aggregate
        loaded before it (or a new one) now holds those events and these; anything else is read
        again when asked for."""
        now: dict[UUID, list[StoredEvent] | None] = {}
        for s in stored:
            have = now.get(s.originator_id, loaded.get(s.originator_id))
            if have is None and s.originator_version == 1:
                have = []
            if have is not None and (have[-1].originator_version if have else 0) == s.originator_version - 1:
                now[s.originator_id] = have + [s]
            else:
                now[s.originator_id] = None
        self._unit_loads.update({k: v for k, v in now.items() if v is not None})

    def save(self, *aggregates: Aggregate) -> list[DomainEvent]:
        events = [e for a in aggregates for e in a.collect()]
        self.append(events)
        return events

    # -- reading --------------------------------------------------------------------------------
    def load(self, id: UUID) -> list[DomainEvent]:
        if self.cursor is not None:   # inside a unit of work: each aggregate read once until it is written
            stored = self._unit_loads.get(id)
            if stored is None:
                stored = self._unit_loads[id] = self._select_events(self.cursor, id)
        elif self.reader is not None:
            extra = self.prefetch(id) if self.prefetch is not None else None
            events = self._select_with(id, extra) if extra else None
            if events is not None:
                return events
            with self.reader.statement() as rows:
                stored = self._select_events(rows.c, id)
        else:
            stored = self.recorder.select_events(id)
        oid, decode, out = str(id), self.mapper.decode, []
        for s in stored:
            try:
                out.append(decode(oid, s.originator_version, s.topic, s.state))
            except Exception as exc:
                raise _unreadable(f"event {s.originator_version} of {oid}", exc) from None
        return out

    def _select_events(self, cur: Any, id: UUID) -> list[StoredEvent]:
        if self.location.kind == "sqlite":
            cur.execute("SELECT originator_version, topic, state FROM stored_events "
                                "WHERE originator_id = ? ORDER BY originator_version", (id.hex,))
        else:
            cur.execute(self.EVENTS_PG, (id,))
        return [StoredEvent(originator_id=id, originator_version=r[0], topic=r[1], state=bytes(r[2]))
                for r in cur.fetchall()]

    EVENTS_PG = ("SELECT originator_version, topic, state FROM stored_events "
                 "WHERE originator_id = %s ORDER BY originator_version")

    def _select_with(self, id: UUID, extra: tuple[str, list[Any], Callable[[list[tuple]], None]]) -> list[DomainEvent] | None:
        """PostgreSQL: the aggregate's events and ``extra`` (the runtime's prefetch) in one round
        trip, the events decoded while the server runs the prefetch; None when anything fails (the
        prefetch is an optimisation: the events are then read alone, and an unreadable one named)."""
        sql, params, take = extra
        oid, decode, events = str(id), self.mapper.decode, []

        def decoded(found: list[tuple]) -> None:
            events.extend(decode(oid, r[0], r[1], r[2]) for r in found)
        try:
            _, rows = self.reader.script([(self.EVENTS_PG, [id]), (sql, params)], on_rows={0: decoded})
            take(rows)
        except Exception:
            return None
        return events

    def decoded_after(self, cur: Any, after: int, limit: int, upto: int | None = None) -> list[tuple[int, DomainEvent]]:
        """(position, event) after ``after`` read with ``cur`` (it sees its own transaction's writes),
        decoded straight from the columns (:meth:`Mapper.decode`); an event that cannot be read is
        a StoreError naming its position."""
        cur.execute(*select_after_query(self.location.kind, after, limit, upto))
        decode, out = self.mapper.decode, []
        for r in cur.fetchall():
            try:
                out.append((r[0], decode(r[1], r[2], r[3], bytes(r[4]))))
            except Exception as exc:
                raise _unreadable(f"event at position {r[0]}", exc) from None
        return out

    def _domain(self, s: StoredEvent, where: str) -> DomainEvent:
        """A stored event that cannot be read (damaged, unknown, or from a newer kyogikai) is a StoreError."""
        try:
            return self.mapper.to_domain(s)
        except Exception as exc:
            raise _unreadable(where, exc) from None

    def get(self, cls: type[A], id: UUID) -> A | None:
        events = self.load(id)
        return cls.replay(id, events) if events else None

    def read(self, after: int = 0, limit: int = 1000, upto: int | None = None) -> list[tuple[int, DomainEvent]]:
        if self.cursor is not None:
            return self.decoded_after(self.cursor, after, limit, upto)
        notes = self.recorder.select_notifications(start=after, limit=limit, stop=upto, inclusive_of_start=False)
        return [(n.id, self._domain(n, f"event at position {n.id}")) for n in notes]

    def iter_all(self, after: int = 0, batch: int = 2000, upto: int | None = None) -> Iterator[tuple[int, DomainEvent]]:
        while True:
            chunk = self.read(after, batch, upto)
            yield from chunk
            if len(chunk) < batch:
                return
            after = chunk[-1][0]

    def max_position(self) -> int:
        if self.cursor is not None:
            col = "rowid" if self.location.kind == "sqlite" else "notification_id"
            self.cursor.execute(f"SELECT MAX({col}) FROM stored_events")
            return int(self.cursor.fetchone()[0] or 0)
        return self.recorder.max_notification_id() or 0

    def close(self) -> None:
        if self._own_writer is not None:
            self._own_writer.close()
            self._own_writer = None
        try:
            self.factory.close()
        except Exception:
            pass


SETUP_LOCK = 0x6B796F68  # 'kyoh': serialises the first-time setup of a PostgreSQL schema


@contextmanager
def pg_setup(location: Location, create: bool = True) -> Iterator[bool]:
    """Yields whether the event tables exist; when they do not, holds a session advisory lock meanwhile
    (and without ``create`` raises :class:`StoreMissing`, creating nothing — not even the schema).

    Concurrent first starts (CREATE SCHEMA, the library's CREATE TABLE / CREATE OR REPLACE FUNCTION)
    otherwise fail with "duplicate key" or "tuple concurrently updated"; later starts run no DDL.
    """
    import psycopg

    def exists(conn: Any) -> bool:
        return conn.execute("SELECT to_regclass(%s)", (f'"{location.schema}".stored_events',)).fetchone()[0] is not None

    try:
        conn = psycopg.connect(dbname=location.dbname, host=location.host, port=location.port, user=location.user,
                               password=location.password, connect_timeout=5, autocommit=True)
    except psycopg.Error as exc:
        raise StoreError(M("cannot connect to {location}: {reason}", location=location.describe(), reason=one_line(exc))) from None
    try:
        if exists(conn):
            yield True
            return
        if not create:
            raise StoreMissing(location)
        conn.execute("SELECT pg_advisory_lock(%s)", (SETUP_LOCK,))
        try:
            if location.schema != "public":
                conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{location.schema}"')
            yield exists(conn)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (SETUP_LOCK,))
    except psycopg.Error as exc:
        raise StoreError(M("cannot set up {location}: {reason}", location=location.describe(), reason=one_line(exc))) from None
    finally:
        conn.close()


def one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def to_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True, default=str)
