"""The council's settings (domain/council.py): its name, short name, base URL and document font."""

from __future__ import annotations

import datetime as dt
from typing import Any, Sequence

from ..domain import council as council_domain
from ..domain.events import DomainEvent
from ..i18n import M
from .context import Context, Result, UserError


class CouncilSettings:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def council(self, sync: bool = True) -> dict[str, Any]:
        """The council's current settings (name ``協議会`` until one is set) and when they last changed,
        from the ``council`` read model (never the log); ``sync=False`` when the caller just synced."""
        from ..projections import council as council_rm

        if sync:
            self.ctx.sync()
        found = self.ctx.rows(council_rm.COUNCIL, id=council_rm.ROW_ID)
        settings = council_domain.Council().settings()
        settings["changed_at"] = None
        if found:
            row = found[0]
            settings.update(name=row["name"], short_name=row["short_name"], base_url=row["base_url"],
                            document_font=row["document_font"] or "yu", named=True,
                            changed_at=dt.datetime.fromisoformat(row["changed_at"]))
        return settings

    def set_council(self, *, name: str | None = None, short_name: str | None = None, base_url: str | None = None,
                    document_font: str | None = None, clear: Sequence[str] = ()) -> Result:
        """Record new council settings as one event (nothing when nothing changes)."""
        from ..feeds.urls import BaseURLError, base_url as check_base_url

        ctx = self.ctx
        if base_url is not None:
            try:
                base_url = check_base_url(base_url)
            except BaseURLError as exc:
                raise UserError(M("--base-url: {reason}", reason=exc.args[0])) from None   # the reason: an M
        agg = ctx.store.get(council_domain.Council, council_domain.Council.ID) or council_domain.Council()
        if not agg.change(ctx.actor, name=name, short_name=short_name, base_url=base_url,
                          document_font=document_font, clear=tuple(clear)):
            return Result(agg.id, [], [M("nothing changed: the council's settings are already these")])
        return Result(agg.id, ctx._save(agg), [])

    def council_history(self) -> list[DomainEvent]:
        return self.ctx.store.load(council_domain.Council.ID)
