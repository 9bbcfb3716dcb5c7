"""Immutable domain events and the minimal aggregate machinery (no I/O).

Every fact is a frozen pydantic model.  The common envelope (``originator_id``,
``originator_version``, ``timestamp``, ``actor``) is on :class:`DomainEvent`; each subclass adds
its payload.  Events are registered under a stable *topic* (their class name), not a module path,
so moving code never orphans stored events.

Schema evolution: a class may raise ``class_version`` and define
``upcast_v1_v2(state: dict) -> dict`` (and so on) static methods; the store's mapper applies them to
events stored in an older shape before validation (see :func:`upcast`).
"""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from typing import Any, ClassVar, TypeVar
from uuid import NAMESPACE_URL, UUID, uuid5

from pydantic import BaseModel, ConfigDict

from ..i18n import M

KYOGIKAI_NS = uuid5(NAMESPACE_URL, "https://kyogikai.invalid/ids")


def stable_id(*parts: object) -> UUID:
    """A deterministic id (UUIDv5) from parts: the same inputs always give the same id."""
    return uuid5(KYOGIKAI_NS, "\x1f".join(str(p) for p in parts))


class DomainError(ValueError):
    """A command broke a rule of the domain. The message is one line and names the problem."""


class NotFound(DomainError):
    """A named or identified thing does not exist."""


_REGISTRY: dict[str, type["DomainEvent"]] = {}


class DomainEvent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    originator_id: UUID
    originator_version: int
    timestamp: dt.datetime
    actor: str

    class_version: ClassVar[int] = 1

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__name__ in _REGISTRY and _REGISTRY[cls.__name__] is not cls:
            raise TypeError(f"duplicate event topic {cls.__name__}")
        _REGISTRY[cls.__name__] = cls

    @classmethod
    def topic(cls) -> str:
        return cls.__name__

    @cached_property
    def oid(self) -> str:
        """The originator's id as text, as read models key their rows (formatted once per event:
        every read model asks for it, and ``str(UUID)`` is a Python-level formatting each time).
        Not a field: equality, hashing and the stored JSON are unchanged."""
        return str(self.originator_id)

    def payload(self) -> dict[str, Any]:
        """The event's own fields (without the envelope), JSON-ready."""
        return self.model_dump(mode="json", exclude={"originator_id", "originator_version", "timestamp", "actor"})


MAX_ORDER = 9999            # 第N回, 第N部 and display orders
MAX_COUNT = 1_000_000       # counts such as mails sent in a drill


def check_int(value: int, what: str, lo: int, hi: int) -> int:
    """A whole number within a stated range (so no event carries a number no database column can hold)."""
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise DomainError(M("{what} must be a whole number from {lo} to {hi:,}, not {value!r}", what=what, lo=lo,
                            hi=hi, value=value))
    return value


def event_class(topic: str) -> type[DomainEvent]:
    try:
        return _REGISTRY[topic]
    except KeyError:
        raise LookupError(f"unknown event topic {topic!r}") from None


def upcast(cls: type[DomainEvent], state: dict[str, Any], version: int) -> dict[str, Any]:
    """Bring ``state`` stored at ``version`` up to ``cls.class_version`` with its upcast methods."""
    while version < cls.class_version:
        state = getattr(cls, f"upcast_v{version}_v{version + 1}")(state)
        version += 1
    return state


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


A = TypeVar("A", bound="Aggregate")


class Aggregate:
    """A consistency boundary: decides with its state, records events, applies them to itself.

    Subclasses implement ``apply_<EventName>(event)`` methods; state changes only through them, so
    replaying the stored events gives the same state as the one that decided.
    """

    def __init__(self, id: UUID) -> None:
        self.id = id
        self.version = 0
        self.pending: list[DomainEvent] = []
        self.created_at: dt.datetime | None = None
        self.modified_at: dt.datetime | None = None

    @classmethod
    def replay(cls: type[A], id: UUID, events: list[DomainEvent]) -> A:
        agg = cls(id)
        for e in events:
            agg._apply(e)
        return agg

    def _apply(self, event: DomainEvent) -> None:
        getattr(self, "apply_" + type(event).__name__)(event)
        self.version = event.originator_version
        self.created_at = self.created_at or event.timestamp
        self.modified_at = event.timestamp

    def trigger(self, event_cls: type[DomainEvent], actor: str, at: dt.datetime | None = None, **payload: Any) -> DomainEvent:
        # every text of every new event: control and invisible characters refused, NFC (domain/text.py)
        from .text import clean, clean_payload

        payload = clean_payload(payload, event_cls.__name__)
        actor = clean(actor, "actor")
        event = event_cls(
            originator_id=self.id,
            originator_version=self.version + 1,
            timestamp=at or utcnow(),
            actor=actor,
            **payload,
        )
        self._apply(event)
        self.pending.append(event)
        return event

    def collect(self) -> list[DomainEvent]:
        events, self.pending = self.pending, []
        return events
