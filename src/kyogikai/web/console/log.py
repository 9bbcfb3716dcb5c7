"""``/console/log``: every recorded event in order, newest page first, with who and when (JST).

``?before=N`` pages back (``PAGE`` events a page).  Each line links to the meeting's page when the
event is a meeting's.  The same events as ``kyogikai log``; account events show without any secret
(there is none in the log).
"""

from __future__ import annotations

from typing import Any, Callable

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ...projections import schedule as sched_rm
from . import Ctx

PAGE = 100
OTHER_JA = {"UserAdded": "利用者の追加", "UserRoleChanged": "利用者の権限変更", "UserDisabled": "利用者の無効化",
            "FeedTokenIssued": "非公開URLの発行", "FeedTokenRevoked": "非公開URLの無効化",
            "NarrativeWritten": "報告の文章", "OrdinalTaken": "回数の確保", "OrdinalReleased": "回数の解放"}


def event_ja(name: str) -> str:
    """A Japanese name for an event type (the English name when none is known)."""
    from .meetings import EVENT_JA as MEETING_JA
    from .organisation import EVENT_JA as ORG_JA

    if name in MEETING_JA:
        return "会議・行事の" + MEETING_JA[name]
    if name.startswith("Programme") and name in ORG_JA:
        return "事業の" + ORG_JA[name]
    if name.startswith("Body") and name in ORG_JA:
        return "会議体の" + ORG_JA[name]
    if name.startswith("Member") and name in ORG_JA:
        return "会員団体の" + ORG_JA[name]
    return OTHER_JA.get(name, name)


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
    meetings = app.read(sched_rm.existing_ids, tuple(str(e.originator_id) for _, e in events))
    lines: list[dict[str, Any]] = []
    for pos, e in reversed(events):
        data = ", ".join(f"{k}={v}" for k, v in e.payload().items() if v not in (None, [], ""))
        oid = str(e.originator_id)
        lines.append({"pos": pos, "at": e.timestamp, "actor": e.actor, "event": type(e).__name__,
                      "event_ja": event_ja(type(e).__name__), "id": oid,
                      "meeting": oid in meetings, "data": data[:300]})
    return ctx.render("console_log.html", lines=lines, older=after if after > 0 else None,
                      newer=before + PAGE if before <= top else None, top=top)


def routes(p: Callable[..., Any]) -> list[BaseRoute]:
    return [Route("/console/log", p(log_page))]
