"""Queries for the CLI and the web: the meetings listing, the log, a thing's history, readable names for
ids, the read models as of a past moment."""

from __future__ import annotations

import datetime as dt
import heapq
from typing import Any, Callable, Iterable, Sequence
from uuid import UUID

from .. import dates
from ..dates import Period
from ..domain.answers import AnswerSheet
from ..domain.events import DomainError, DomainEvent, NotFound
from ..i18n import M
from ..projections import organisation as org_rm
from ..projections import schedule as sched_rm
from ..projections.runtime import project_until
from .context import Context, UserError
from .names import Names


class Queries:
    def __init__(self, ctx: Context, names: Names) -> None:
        self.ctx, self.names = ctx, names

    def meetings(self, fiscal_year: int | None = None, body: str | None = None) -> list[dict[str, Any]]:
        """Meetings and activities (of a fiscal year, of a body), by date, with their labels and paths."""
        ctx, names = self.ctx, self.names
        ctx._fresh()
        body_id = names.body(body)["id"] if body else None
        ids = ctx.read(sched_rm.ids_where, fiscal_year, body_id)
        rows = [r for r in ctx.rows(sched_rm.MEETINGS, order=("start_date", "created_at")) if r["id"] in ids]
        paths = names.body_paths()
        progs = {p["id"]: p["name"] for p in ctx.rows(org_rm.PROGRAMMES)}
        out = []
        for r in rows:
            path = paths.get(r["body_id"]) if r["body_id"] else None
            out.append({
                "id": r["id"], "kind": r["kind"], "programme": progs.get(r["programme_id"]),
                "body": path[-1] if path else None, "body_path": "/".join(path) if path else None,
                "label": names.label(r["kind"], r["ordinal"], r["part"], r["series"], r["title"], r["body_id"],
                                     r["speaker"], r["refers_to"]),
                "ordinal": r["ordinal"], "part": r["part"], "series": r["series"], "title": r["title"],
                "start": r["start_date"], "end": r["end_date"], "precision": r["precision"],
                "start_time": r["start_time"], "end_time": r["end_time"],
                "dates": dates.format_period(Period(dt.date.fromisoformat(r["start_date"]),
                                                    dt.date.fromisoformat(r["end_date"]), r["precision"])),
                "format": r["format"], "format_label": r["format_label"], "venue": r["venue"],
                "status": r["status"], "fiscal_year": r["fiscal_year"], "sequence": r["sequence"],
            })
        return out

    def log(self, after: int = 0, limit: int | None = None) -> list[tuple[int, DomainEvent]]:
        out = []
        for pos, e in self.ctx.store.iter_all(after):
            out.append((pos, e))
            if limit and len(out) >= limit:
                break
        return out

    def history(self, ref: str) -> list[DomainEvent]:
        """Events of one meeting (id prefix), body, programme or member (name)."""
        ctx, names = self.ctx, self.names
        ctx._fresh()
        finders: list[Callable[[str], dict]] = [names.meeting_row, names.body, names.programme, names.member]
        for find in finders:
            try:
                row = find(ref)
            except (UserError, DomainError):
                continue
            events = ctx.store.load(UUID(row["id"]))
            if find == names.meeting_row:  # answers and written votes live on the meeting's answer sheet
                sheet = ctx.store.load(AnswerSheet.id_for(UUID(row["id"])))
                if sheet:  # interleaved by time; each aggregate's own events keep their order
                    events = list(heapq.merge(events, sheet, key=lambda e: e.timestamp))
            return events
        raise NotFound(M("nothing called {ref!r}: not a meeting id, body, programme or member", ref=ref))

    def display_names(self, ids: Iterable[str]) -> dict[str, str]:
        """Readable names for ids found in events: programmes, bodies (their path), members and
        meetings (their label); ids that are none of these are left out."""
        ctx = self.ctx
        wanted = {str(i) for i in ids}
        if not wanted:
            return {}
        out: dict[str, str] = {}
        for table in (org_rm.PROGRAMMES, org_rm.MEMBERS):
            for r in ctx.rows(table):
                if r["id"] in wanted:
                    out[r["id"]] = r["name"]
        paths = self.names.body_paths()
        out.update({i: "/".join(p) for i, p in paths.items() if i in wanted})
        for i in wanted - out.keys():
            for r in ctx.rows(sched_rm.MEETINGS, id=i):
                period = Period(dt.date.fromisoformat(r["start_date"]), dt.date.fromisoformat(r["end_date"]),
                                r["precision"])
                label = self.names.label(r["kind"], r["ordinal"], r["part"], r["series"], r["title"], r["body_id"],
                                         r["speaker"], r["refers_to"])
                out[i] = f"{label}（{dates.format_period(period)}）"
        return out

    def as_of(self, until: dt.datetime, projections: Sequence[Any] | None = None) -> Any:
        return project_until(self.ctx.store, projections or self.ctx.runtime.projections, until)
