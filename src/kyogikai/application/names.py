"""Resolving what users type: programme, body, member and meeting names (or ids) to read-model rows,
with the candidates of an ambiguous name and the close names of an unknown one; and the labels
people read for meetings (第2回運営委員会)."""

from __future__ import annotations

import difflib
import functools
import unicodedata
from typing import Any, Iterable
from uuid import UUID

from ..domain.events import NotFound
from ..domain.bodytree import BodyTree
from ..domain.naming import meeting_label
from ..i18n import M
from ..projections import organisation as org_rm
from ..projections import schedule as sched_rm
from .context import Context, UserError


@functools.lru_cache(maxsize=8192)   # the organisation's names, compared again by every lookup
def norm(text: str) -> str:
    """A name as compared: NFKC, no white space, lower case."""
    return "".join(unicodedata.normalize("NFKC", text).split()).lower()


def suggest(name: str, names: Iterable[str]) -> M | str:
    """' (did you mean A, B?)' naming up to three close names, or nothing."""
    close = difflib.get_close_matches(name.strip(), list(names), n=3, cutoff=0.5)
    return M(" (did you mean {names}?)", names=", ".join(close)) if close else ""


class Names:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def programme(self, name: str) -> dict[str, Any]:
        progs = self.ctx.rows(org_rm.PROGRAMMES)
        hits = [p for p in progs if p["name"] == name.strip()] or [p for p in progs if norm(p["name"]) == norm(name)]
        if len(hits) == 1:
            return hits[0]
        raise NotFound(M("unknown programme {name!r}{suggestion}", name=name,
                         suggestion=suggest(name, [p["name"] for p in progs])))

    def body_paths(self) -> dict[str, list[str]]:
        """Each body's path: programme name, ancestors, own name."""
        tree = BodyTree(self.ctx.rows(org_rm.BODIES))
        progs = {p["id"]: p["name"] for p in self.ctx.rows(org_rm.PROGRAMMES)}
        return {bid: [progs.get(b["programme_id"], "?")] + tree.names(bid) for bid, b in tree.by_id.items()}

    def body(self, name: str) -> dict[str, Any]:
        """A body by name or by path (``情報セキュリティ研究会/セキュリティ監査グループ``)."""
        wanted = [s for s in (norm(x) for x in name.replace("／", "/").split("/")) if s]
        if not wanted:
            raise UserError(M("body: name is empty"))
        paths = self.body_paths()

        def fits(path: list[str]) -> bool:
            # names may contain '/' (CALS/EC): compare '/'-separated tokens on both sides; the query's
            # tokens must appear in order in the path and its last token must end the path
            tokens = [t for t in (norm(x) for x in "/".join(path).split("/")) if t]
            if tokens[-1] != wanted[-1]:
                return False
            it = iter(tokens[:-1])
            return all(any(t == w for t in it) for w in wanted[:-1])

        hits = [bid for bid, path in paths.items() if fits(path)]
        if len(hits) > 1:
            cands = sorted("/".join(paths[h]) for h in hits)
            raise UserError(M("body {name!r} is ambiguous: {count} bodies fit — {candidates}", name=name,
                              count=len(hits), candidates="; ".join(cands)))
        if not hits:
            raise NotFound(M("unknown body {name!r}{suggestion}", name=name,
                             suggestion=suggest(name.split("/")[-1], sorted({p[-1] for p in paths.values()}))))
        return self.ctx.rows(org_rm.BODIES, id=hits[0])[0]

    def member(self, name: str) -> dict[str, Any]:
        members = self.ctx.rows(org_rm.MEMBERS)
        n = norm(name)
        hits = [m for m in members if norm(m["name"]) == n or (m["code"] and m["code"] == name.strip())]
        if not hits:
            hits = [m for m in members if n in {norm(x) for x in (m["former_names"] or "").split("\n") if x}]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            raise UserError(M("member {name!r} is ambiguous: {candidates}", name=name,
                              candidates="; ".join(f"{m['name']} ({m['code']})" for m in hits)))
        raise NotFound(M("unknown member {name!r}{suggestion}", name=name,
                         suggestion=suggest(name, [m["name"] for m in members])))

    def meeting_row(self, ref: str, fresh: bool = False) -> dict[str, Any]:
        """The meeting whose id starts with ``ref``; ``fresh``: read models brought up to date first
        (in the same round trip on PostgreSQL)."""
        ref = ref.strip().lower()
        if len(ref) < 4 or any(c not in "0123456789abcdef-" for c in ref):
            raise UserError(M("meeting id {ref!r}: give the id shown by 'kyogikai meetings' (at least 4 hex digits)",
                              ref=ref))
        cols = list(sched_rm.MEETINGS.columns)
        if fresh and self.ctx.store.cursor is None:   # inside atomic() nobody else can write
            found = [dict(zip(cols, r)) for r in self.ctx.runtime.fresh_read(*sched_rm.by_prefix_sql(ref))]
        elif self.ctx.store.cursor is not None and len(ref) == 36:   # a whole id inside atomic(): its row cache
            found = self.ctx.rows(sched_rm.MEETINGS, id=ref)
        else:
            found = [dict(zip(cols, r)) for r in self.ctx.query(*sched_rm.by_prefix_sql(ref))]
        hits = [r["id"] for r in found]
        if not hits:
            raise NotFound(M("no meeting with id {ref!r}", ref=ref))
        if len(hits) > 1:
            raise UserError(M("meeting id {ref!r} is ambiguous: {count} meetings start with it; give more digits",
                              ref=ref, count=len(hits)))
        return found[0]

    def label(self, kind: str, ordinal: int | None, part: int | None, series: str | None, title: str | None,
              body_id: UUID | str | None, speaker: str | None = None, refers_to: str | None = None) -> str:
        def first(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
            return rows[0] if rows else None
        return meeting_label({"kind": kind, "ordinal": ordinal, "part": part, "series": series, "title": title,
                              "body_id": str(body_id) if body_id else None, "speaker": speaker, "refers_to": refers_to},
                             lambda bid: (first(self.ctx.rows(org_rm.BODIES, id=bid)) or {}).get("name"),
                             lambda ref: first(self.ctx.rows(sched_rm.MEETINGS, id=str(ref))))
