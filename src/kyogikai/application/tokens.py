"""Private feed tokens (domain/tokens.py): issue one for a member organisation, revoke one, list them.

The secret is made here (``secrets``, 256 bits), returned once in :class:`IssuedToken` and never
stored: the event carries its SHA-256 only.  The addresses built from it (calendar, webcal, Google,
answer page) are the feeds' business (:meth:`kyogikai.feeds.FeedService.private_links`).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from ..domain.events import NotFound
from ..domain.tokens import FeedToken, token_hash
from ..i18n import M
from ..projections import feeds as feeds_rm
from .context import Context, Result, UserError
from .names import Names

TOKEN_BYTES = 32  # secrets.token_urlsafe(32): 256 bits, 43 characters


@dataclass(frozen=True)
class IssuedToken:
    result: Result
    secret: str                      # shown once, never stored
    member: str                      # the member organisation's name


class Tokens:
    def __init__(self, ctx: Context, names: Names) -> None:
        self.ctx, self.names = ctx, names

    def issue_token(self, member: str, label: str | None = None) -> IssuedToken:
        """Issue a private feed token for a (not dissolved) member organisation."""
        ctx = self.ctx
        ctx._fresh()
        m = self.names.member(member)
        if m["dissolved_on"]:
            raise UserError(M("member: {name!r} was dissolved on {date}", name=m["name"], date=m["dissolved_on"]))
        secret = secrets.token_urlsafe(TOKEN_BYTES)
        agg = FeedToken.issue(UUID(m["id"]), token_hash(secret), label, ctx.actor)
        return IssuedToken(Result(agg.id, ctx._save(agg), []), secret, m["name"])

    def revoke_token(self, ref: str, reason: str | None = None) -> Result:
        """Revoke by the token id shown by ``token list`` (at least 8 hex digits) or by the secret."""
        from ..feeds.urls import TOKEN_RE

        ctx = self.ctx
        ctx._fresh()
        ref = ref.strip()
        if re.fullmatch(r"[0-9a-f-]{8,36}", ref.lower()):
            # few tokens (one per person or device): the id prefix is matched here, not in SQL
            hits = [r["id"] for r in ctx.rows(feeds_rm.TOKENS) if r["id"].startswith(ref.lower())]
        elif TOKEN_RE.fullmatch(ref):
            hits = [r["id"] for r in ctx.rows(feeds_rm.TOKENS, token_hash=token_hash(ref))]
        else:
            raise UserError(M("token: give the token id shown by 'kyogikai token list' (8 or more hex digits)"))
        if not hits:
            raise NotFound(M("token: no token {ref!r}…", ref=ref[:8]))
        if len(hits) > 1:
            raise UserError(M("token: {ref!r} is ambiguous: give more digits", ref=ref))
        agg = ctx._load(FeedToken, hits[0], "token")
        agg.revoke(reason, ctx.actor)
        return Result(agg.id, ctx._save(agg), [])

    def feed_tokens(self, member: str | None = None) -> list[dict[str, Any]]:
        """Issued tokens (never the secrets): id, member, label, who issued and revoked them when."""
        ctx = self.ctx
        ctx._fresh()
        where = {"member_id": self.names.member(member)["id"]} if member else {}
        names = {mb["id"]: mb["name"] for mb in ctx.rows(feeds_rm.MEMBERS)}
        found = ctx.rows(feeds_rm.TOKENS, order=("issued_at", "id"), **where)
        return [{"id": r["id"], "member": names.get(r["member_id"], r["member_id"]), "label": r["label"],
                 "issued_at": r["issued_at"], "issued_by": r["issued_by"], "revoked_at": r["revoked_at"],
                 "revoked_by": r["revoked_by"]} for r in found]
