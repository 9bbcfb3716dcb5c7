"""The unit tier's two harnesses, in memory and without I/O beyond an in-memory SQLite database.

- **Aggregates, given → when → then**: :func:`history` makes the events an aggregate was built
  from (envelope filled in: versions 1…n, one minute apart, one actor), :func:`given` replays them
  into the aggregate, the test runs ONE command and :func:`then` returns the events it recorded.
  Rule errors are asserted with ``pytest.raises(DomainError, match=…)`` and :func:`then` is ``[]``.
- **Projections, event → rows**: :class:`ReadModel` applies events to EVERY read model the
  application keeps (``projections.ALL``, as the runtime does) in an in-memory SQLite read store
  (:class:`~kyogikai.projections.runtime.MemoryReadStore`, the one ``report --as-of`` uses),
  through the same write-behind row cache as a command's transaction, and reads rows back by
  table name.  Tables are looked up by their stored names (``rm_meetings`` …), which are part of
  the schema, so splitting a projection module does not touch these tests.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterable, Sequence
from uuid import UUID

from kyogikai import projections
from kyogikai.domain.events import Aggregate, DomainEvent
from kyogikai.projections.runtime import Dispatch, MemoryReadStore, Table

ACTOR = "事務局A"
T0 = dt.datetime(2023, 4, 3, 0, 0, tzinfo=dt.timezone.utc)   # 2023-04-03 09:00 JST


def history(id: UUID, *items: tuple[type[DomainEvent], dict[str, Any]], actor: str = ACTOR,
            start: dt.datetime = T0) -> list[DomainEvent]:
    """Stored events of one aggregate: ``(EventClass, payload)`` pairs, versions 1…n."""
    return [cls(originator_id=id, originator_version=i, timestamp=start + dt.timedelta(minutes=i), actor=actor,
                **payload)
            for i, (cls, payload) in enumerate(items, start=1)]


def event(cls: type[DomainEvent], id: UUID, version: int = 1, at: dt.datetime | int = 0, actor: str = ACTOR,
          **payload: Any) -> DomainEvent:
    """One stored event; ``at`` is a moment or minutes after :data:`T0`."""
    when = at if isinstance(at, dt.datetime) else T0 + dt.timedelta(minutes=at)
    return cls(originator_id=id, originator_version=version, timestamp=when, actor=actor, **payload)


def given(cls: type[Aggregate], id: UUID, *items: tuple[type[DomainEvent], dict[str, Any]], **kw: Any) -> Any:
    """The aggregate as replayed from the given events (nothing pending)."""
    agg = cls.replay(id, history(id, *items, **kw))
    assert agg.pending == []
    return agg


def then(agg: Aggregate) -> list[DomainEvent]:
    """The events the command recorded (and clears them)."""
    return agg.collect()


def names(events: Iterable[DomainEvent]) -> list[str]:
    return [type(e).__name__ for e in events]


def replays_to_same_state(agg: Aggregate, before: Sequence[DomainEvent], new: Sequence[DomainEvent]) -> bool:
    """Replaying the stored events and the new ones gives the state that decided (a store's load)."""
    again = type(agg).replay(agg.id, [*before, *new])
    skip = {"pending"}
    return {k: v for k, v in vars(again).items() if k not in skip} == \
        {k: v for k, v in vars(agg).items() if k not in skip}


def at(event: DomainEvent, when: dt.datetime) -> DomainEvent:
    """The same event recorded at another moment."""
    return event.model_copy(update={"timestamp": when})


class ReadModel:
    """Every read model, in memory; events in, rows out."""

    def __init__(self) -> None:
        self.projections = list(projections.ALL)
        self.tables: dict[str, Table] = {t.name: t for p in self.projections for t in p.TABLES}
        self.reads = MemoryReadStore()
        self.reads.create(self.tables.values())

    def apply(self, *events: DomainEvent | Iterable[DomainEvent]) -> "ReadModel":
        """Apply events (or lists of them) in one batch, each to every projection in order."""
        flat: list[DomainEvent] = []
        for e in events:
            flat.extend([e] if isinstance(e, DomainEvent) else e)
        dispatch = Dispatch(self.projections)   # as the runtime applies them
        with self.reads.batch() as rows:
            for e in flat:
                dispatch.apply(e, rows)
        return self

    def rows(self, table: str, **where: Any) -> list[dict[str, Any]]:
        with self.reads.transaction(write=False) as rows:
            return rows.find(self.tables[table], **where)

    def row(self, table: str, **where: Any) -> dict[str, Any]:
        found = self.rows(table, **where)
        assert len(found) == 1, f"{table} {where}: {len(found)} rows"
        return found[0]

    def column(self, table: str, column: str, **where: Any) -> list[Any]:
        return [r[column] for r in self.rows(table, **where)]


def uid(name: str) -> UUID:
    """A fixed id for a test's thing (tests stay deterministic: no random ids)."""
    from kyogikai.domain.events import stable_id

    return stable_id("unit-test", name)
