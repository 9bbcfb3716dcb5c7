"""Private feed tokens: a member organisation's secret calendar address (no I/O).

A token is a random secret in a URL (``/private/<token>/calendar.ics``) that gives one member
organisation its full calendar, including the items of non-public bodies it belongs to.

Decisions:
- The secret itself is never recorded: :class:`FeedTokenIssued` carries only its SHA-256 (hex).
  Whoever issues it (``feeds.service``) makes it with ``secrets`` (at least 128 bits), shows it
  once, and forgets it.  The aggregate id is derived from the hash, so the same secret can never
  be issued twice.
- Revocation is an event; a revoked token stays revoked (issue a new one instead).
"""

from __future__ import annotations

import hashlib
import re
from uuid import UUID

from ..i18n import M
from .events import Aggregate, DomainError, DomainEvent, stable_id
from .text import one_line

_HASH = re.compile(r"[0-9a-f]{64}")


def token_hash(token: str) -> str:
    """What is recorded of a secret: its SHA-256, hex."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


class FeedTokenIssued(DomainEvent):
    member_id: UUID
    token_hash: str          # sha256 hex of the secret; the secret is never stored
    label: str | None = None  # who or what it is for (担当者名, 端末)


class FeedTokenRevoked(DomainEvent):
    reason: str | None = None


class FeedToken(Aggregate):
    member_id: UUID
    token_hash: str
    label: str | None
    revoked: bool = False

    @staticmethod
    def id_for(token_hash: str) -> UUID:
        return stable_id("feed-token", token_hash)

    @classmethod
    def issue(cls, member_id: UUID, token_hash: str, label: str | None, actor: str) -> "FeedToken":
        if not _HASH.fullmatch(token_hash):
            raise DomainError(M("token hash must be 64 lowercase hex digits (sha256)"))
        label = one_line(label or "", "label") or None
        if label and len(label) > 100:
            raise DomainError(M("label: at most {limit} characters", limit=100))
        t = cls(cls.id_for(token_hash))
        t.trigger(FeedTokenIssued, actor, member_id=member_id, token_hash=token_hash, label=label)
        return t

    def apply_FeedTokenIssued(self, e: FeedTokenIssued) -> None:
        self.member_id, self.token_hash, self.label = e.member_id, e.token_hash, e.label

    def revoke(self, reason: str | None, actor: str) -> None:
        if self.revoked:
            raise DomainError(M("token {id} is already revoked", id=str(self.id)[:8]))
        reason = one_line(reason or "", "reason") or None
        if reason and len(reason) > 200:
            raise DomainError(M("reason: at most {limit} characters", limit=200))
        self.trigger(FeedTokenRevoked, actor, reason=reason)

    def apply_FeedTokenRevoked(self, e: FeedTokenRevoked) -> None:
        self.revoked = True
