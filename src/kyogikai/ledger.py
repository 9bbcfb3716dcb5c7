"""Tamper evidence: a hash chain over the event log, and ``kyogikai verify``.

Every stored event is linked into a chain in stored (notification) order, kept in the table
``kyogikai_chain(position, event_hash, hash)`` of the same database::

    event_hash_n = sha256(len|originator_id, len|version, len|topic, len|state)   (the exact stored bytes)
    hash_n       = sha256(hash_{n-1} "|" position_n "|" event_hash_n)              (hash_0 = 64 zeros)

Decisions:
- **Where the chain grows.**  Every event is chained in the transaction that stores it:
  :meth:`Ledger.chain` runs in ``Runtime.write`` (commands, ``import-report``, ``import-log``) and
  in ``EventStore.append`` (bulk appends), after the insert and before the commit, under the write
  lock (SQLite ``BEGIN IMMEDIATE``, the PostgreSQL advisory lock).  Nothing else writes the chain:
  an event without a chain record was not written by kyogikai, and is itself evidence.
- **Not a read model.**  The table is never dropped by ``rebuild`` or a projection's new
  ``VERSION``; it is the record of what the log held when each event was written.
- **What verify finds**, each with its position: an *altered* event (its bytes no longer hash to
  the chained ``event_hash``), a *deleted* one (chained, missing from ``stored_events`` —
  including the last one), a *reordered* one (its bytes are chained at another position: rows
  swapped or moved), an *unchained* one (stored with no chain record: appended or inserted
  behind kyogikai's back, or its chain record deleted — which also covers an edited event whose
  chain records were deleted to hide it), an altered or deleted *chain record* (a link that does
  not follow from its predecessor), and a missing chain table.  It reports them all, first
  position first, and exits 5.  It never writes: it reads in one read-only transaction.
- **Limits, stated.**  The chain sits in the same database, so whoever can write the database can
  also recompute the chain.  ``verify`` prints the head (``position:hash``); kept elsewhere (the
  minutes, a mail), ``kyogikai verify --anchor POSITION:HASH`` proves the log up to it unchanged
  even against a full rewrite, and a log cut back below the anchor fails too.  Without an anchor,
  deleting the last events together with their chain records is a consistent shorter log.
  PostgreSQL's notification ids may have gaps (a rolled-back insert consumes its sequence
  numbers): positions are chained as they are, gaps in positions are not errors; the chain
  records themselves are linked, so a missing record is always found.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence
from uuid import UUID

from .i18n import M

TABLE = "kyogikai_chain"
GENESIS = "0" * 64


def event_digest(originator_id: Any, version: int, topic: str, state: bytes) -> str:
    """sha256 over the stored event's own fields (length-prefixed, so no two encodings collide)."""
    if isinstance(state, str):  # an edit by hand (SQL replace()) can turn the BLOB into TEXT
        state = state.encode("utf-8", "surrogatepass")
    if isinstance(originator_id, UUID):
        oid = str(originator_id).encode()
    else:
        try:
            oid = str(UUID(str(originator_id))).encode()
        except ValueError:  # an id edited into something that is no UUID
            oid = b"!" + str(originator_id).encode("utf-8", "surrogatepass")
    parts = (oid, str(version).encode(), str(topic).encode("utf-8", "surrogatepass"), bytes(state or b""))
    return hashlib.sha256(b"".join(len(p).to_bytes(8, "big") + p for p in parts)).hexdigest()


def link(prev: str, position: int, digest: str) -> str:
    return hashlib.sha256(f"{prev}|{position}|{digest}".encode()).hexdigest()


@dataclass(frozen=True)
class Problem:
    position: int
    kind: str          # altered | deleted | reordered | inserted | unchained | chain
    detail: str | M

    def __str__(self) -> str:
        return M("position {position}: {kind}: {detail}", position=self.position, kind=self.kind,
                 detail=self.detail).render()


@dataclass
class Report:
    events: int = 0                   # stored events seen
    chained: int = 0                  # chain records checked
    head: tuple[int, str] | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


class Ledger:
    """The hash chain of one store; every method runs on a cursor inside a locked transaction."""

    def __init__(self, kind: str) -> None:
        self.kind = kind                       # "sqlite" | "postgres"
        self.pos_col = "rowid" if kind == "sqlite" else "notification_id"
        self.ph = "?" if kind == "sqlite" else "%s"
        self._ready = False

    def ensure(self, cur: Any) -> None:
        if self._ready:
            return
        int_type = "INTEGER" if self.kind == "sqlite" else "BIGINT"
        cur.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (position {int_type} PRIMARY KEY, "
                    "event_hash TEXT NOT NULL, hash TEXT NOT NULL)")
        self._ready = True

    def exists(self, cur: Any) -> bool:
        if self.kind == "sqlite":
            cur.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (TABLE,))
        else:
            cur.execute("SELECT to_regclass(%s)", (TABLE,))
            return cur.fetchone()[0] is not None
        return cur.fetchone() is not None

    def chain(self, cur: Any, records: Sequence[tuple[int, Any]],
              head: tuple[int, str] | None = None) -> tuple[int, str]:
        """Chain stored events just inserted in the caller's transaction: ``(position, StoredEvent)``;
        ``head`` is the chain head read earlier in the same transaction (read here when omitted).
        Returns the new head."""
        head = head if head is not None else self.head(cur)
        out = self.links(records, head)
        self.store_links(cur, out)
        return (out[-1][0], out[-1][2]) if out else head

    def links(self, records: Sequence[tuple[int, Any]], head: tuple[int, str]) -> list[tuple[int, str, str]]:
        """The chain records ``(position, event_hash, hash)`` of ``records`` after ``head`` (no I/O)."""
        pos, prev = head
        out = []
        for position, s in records:
            if position <= pos:  # pragma: no cover - only a chain edited behind our back gets here
                raise ValueError(f"position {position} is not after the chain head {pos}: 'kyogikai verify'")
            digest = event_digest(s.originator_id, s.originator_version, s.topic, s.state)
            prev = link(prev, int(position), digest)
            out.append((int(position), digest, prev))
            pos = position
        return out

    def store_links(self, cur: Any, links: Sequence[tuple[int, str, str]]) -> None:
        if not links:
            return
        self.ensure(cur)
        sql = f"INSERT INTO {TABLE} (position, event_hash, hash) VALUES ({self.ph}, {self.ph}, {self.ph})"
        if len(links) == 1:
            cur.execute(sql, links[0])
        else:
            cur.executemany(sql, links)

    def head(self, cur: Any) -> tuple[int, str]:
        self.ensure(cur)
        cur.execute(f"SELECT position, hash FROM {TABLE} ORDER BY position DESC LIMIT 1")
        row = cur.fetchone()
        return (int(row[0]), row[1]) if row else (0, GENESIS)

    def _events(self, cur: Any, after: int, limit: int | None = None) -> list[tuple]:
        sql = (f"SELECT {self.pos_col}, originator_id, originator_version, topic, state FROM stored_events "
               f"WHERE {self.pos_col} > {self.ph} ORDER BY {self.pos_col}")
        params: list[Any] = [after]
        if limit is not None:
            sql += f" LIMIT {self.ph}"
            params.append(limit)
        cur.execute(sql, params)
        return cur.fetchall()

    def _chain(self, cur: Any) -> Iterator[tuple[int, str, str]]:
        cur.execute(f"SELECT position, event_hash, hash FROM {TABLE} ORDER BY position")
        for p, e, h in cur.fetchall():
            yield int(p), e, h

    def verify(self, cur: Any, anchor: tuple[int, str] | None = None) -> Report:
        """Check every stored event against the chain and the chain against itself; writes nothing."""
        events = [(int(p), event_digest(o, v, t, s)) for p, o, v, t, s in self._events(cur, 0)]
        if not self.exists(cur):
            rep = Report(events=len(events))
            if events or anchor is not None:
                rep.problems.append(Problem(events[0][0] if events else 0, "chain",
                                            M("the chain table {table} is missing (dropped?): no stored event can be vouched "
                                              "for", table=TABLE)))
            return rep
        chain = list(self._chain(cur))
        rep = Report(events=len(events), chained=len(chain))
        stored = dict(events)
        chained_at = {pos: digest for pos, digest, _ in chain}
        where_chained: dict[str, int] = {}
        for pos, digest, _ in chain:
            where_chained.setdefault(digest, pos)
        where_stored: dict[str, int] = {}
        for pos, digest in events:
            where_stored.setdefault(digest, pos)
        found: list[Problem] = []

        prev = GENESIS
        for pos, digest, h in chain:
            if link(prev, pos, digest) != h:
                found.append(Problem(pos, "chain", M("the chain record does not follow from the one before it "
                                                     "(the kyogikai_chain table was edited)")))
            prev = h
            now = stored.get(pos)
            if now is None:
                moved = where_stored.get(digest)
                if moved is not None and chained_at.get(moved) != digest:
                    found.append(Problem(pos, "reordered", M("the event chained here is now stored at position {moved}",
                                                              moved=moved)))
                else:
                    found.append(Problem(pos, "deleted", M("the event chained here is missing from stored_events")))
            elif now != digest:
                origin = where_chained.get(now)
                if origin is not None and origin != pos:
                    found.append(Problem(pos, "reordered", M("the event stored here was chained at position {origin}",
                                                              origin=origin)))
                else:
                    found.append(Problem(pos, "altered", M("the stored event differs from the one chained here")))
        head_pos = chain[-1][0] if chain else 0
        for pos, digest in events:
            if pos in chained_at:
                continue
            origin = where_chained.get(digest)
            if origin is not None and stored.get(origin) != digest:
                found.append(Problem(pos, "reordered", M("the event chained at position {origin} is stored here",
                                                          origin=origin)))
            elif pos < head_pos:
                found.append(Problem(pos, "inserted", M("an event below the chain head that was never chained")))
            else:
                found.append(Problem(pos, "unchained", M("an event with no chain record (every event is chained in "
                                                         "the transaction that stores it)")))
        if anchor is not None:
            a_pos, a_hash = anchor
            rec = next((h for p, _, h in chain if p == a_pos), None)
            if rec is None:
                found.append(Problem(a_pos, "chain", M("the anchor's position is not in the chain")))
            elif rec != a_hash:
                found.append(Problem(a_pos, "chain", M("the chain no longer has the anchor's hash here "
                                                       "(the log up to this position was rewritten)")))
        # one line per position and kind, in position order
        seen: set[tuple[int, str]] = set()
        for p in sorted(found, key=lambda x: (x.position, x.kind)):
            if (p.position, p.kind) not in seen:
                seen.add((p.position, p.kind))
                rep.problems.append(p)
        rep.head = (chain[-1][0], chain[-1][2]) if chain else None
        return rep


def parse_anchor(text: str) -> tuple[int, str]:
    pos, _, h = text.strip().partition(":")
    h = h.strip().lower()
    if not pos.strip().isdigit() or len(h) != 64 or any(c not in "0123456789abcdef" for c in h):
        raise ValueError(M("anchor {text!r}: expected POSITION:HASH as printed by 'kyogikai verify' (64 hex digits)", text=text))
    return int(pos), h
