"""``/console/log``: every recorded event in order, newest page first, with who and when (JST).

``?before=N`` pages back (``PAGE`` events a page).  Each line links to the meeting's page when the
event is a meeting's.  The same events as ``kyogikai log``; account events show without any secret
(there is none in the log).
"""

from __future__ import annotations

from typing import Any, Callable

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from . import Ctx

PAGE = 100


def log_page(ctx: Ctx) -> Response:
    app = ctx.app
    app.sync()
    top = app.store.max_position()
    try:
        before = int(ctx.request.query_params.get("before", top + 1))
    except ValueError:
        before = top + 1
    before = max(1, min(before, top + 1))
    after = max(0, before - 1 - PAGE)
    events = app.store.read(after, PAGE, upto=before - 1) if before > 1 else []
    meetings = {r[0] for r in app.query("SELECT id FROM rm_meetings WHERE id IN (" +
                                        ",".join("?" * len(events)) + ")",
                                        [str(e.originator_id) for _, e in events])} if events else set()
    lines: list[dict[str, Any]] = []
    for pos, e in reversed(events):
        data = ", ".join(f"{k}={v}" for k, v in e.payload().items() if v not in (None, [], ""))
        oid = str(e.originator_id)
        lines.append({"pos": pos, "at": e.timestamp, "actor": e.actor, "event": type(e).__name__, "id": oid,
                      "meeting": oid in meetings, "data": data[:300]})
    return ctx.render("console_log.html", lines=lines, older=after if after > 0 else None,
                      newer=before + PAGE if before <= top else None, top=top)


def routes(p: Callable[..., Any]) -> list[BaseRoute]:
    return [Route("/console/log", p(log_page))]
