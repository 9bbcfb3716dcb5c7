"""Private feed addresses (非公開カレンダーURL) in the console: ``/console/tokens``.

The list shows every issued token (never a secret): member, label, who issued it and when (JST),
and whether it was revoked.  Issuing (``POST /console/tokens/issue``) answers with a page that
shows the URL once — it is not stored, only its hash — with ``Cache-Control: no-store``; the page
after a reload no longer has it.  Revoking asks for a confirmation box.  The same application
commands ``issue_token`` / ``revoke_token`` as ``kyogikai token issue|revoke``, the logged-in user as
actor.
"""

from __future__ import annotations

from typing import Any, Callable

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ...app import ConflictError, UserError
from ...domain.events import DomainError
from ...feeds import FeedService
from ...projections import organisation as org_rm
from . import Ctx, messages
from .forms import Form

DONE = {"revoked": "URLを無効にしました。このURLのカレンダーは今後表示されません。"}


def _service(ctx: Ctx) -> FeedService:
    return FeedService(ctx.app, ctx.console.site.base_url)


def _page(ctx: Ctx, form: Form | None = None, status: int = 200, issued: Any = None) -> Response:
    members = [m["name"] for m in ctx.app.rows(org_rm.MEMBERS, order=("name",)) if not m["dissolved_on"]]
    return ctx.render("console_tokens.html", status=status, tokens=ctx.app.feed_tokens()[::-1], members=members,
                      form=form or Form(), issued=issued, done=DONE.get(ctx.request.query_params.get("done", "")))


def tokens_page(ctx: Ctx) -> Response:
    return _page(ctx)


def issue(ctx: Ctx) -> Response:
    form = ctx.form
    member = form.text("member", required=True, limit=200)
    label = form.text("label", limit=100)
    if form.ok:
        try:
            issued = _service(ctx).issue_token(member or "", label)   # the command ``issue_token``, with the links
        except ConflictError:
            form.error(None, messages.CONFLICT)
        except (UserError, DomainError) as exc:
            form.app_error(exc, "member", ("member", "label"))
        else:
            return _page(ctx, issued=issued)
    return _page(ctx, form, 409 if form.message == messages.CONFLICT else 400)


def revoke(ctx: Ctx) -> Response:
    form = ctx.form
    if form.get("confirm") != "yes":
        form.error(None, "無効にするには確認欄にチェックを入れてください。")
        return _page(ctx, form, 400)
    try:
        ctx.app.revoke_token(str(ctx.request.path_params["id"]), form.text("reason", limit=200))
    except ConflictError:
        form.error(None, messages.CONFLICT)
    except (UserError, DomainError) as exc:
        form.app_error(exc, None, ())
    if not form.ok:
        return _page(ctx, form, 400)
    return ctx.console.redirect("/console/tokens?done=revoked")


def routes(p: Callable[..., Any]) -> list[BaseRoute]:
    return [Route("/console/tokens", p(tokens_page)),
            Route("/console/tokens/issue", p(issue), methods=["POST"]),
            Route("/console/tokens/{id:uuid}/revoke", p(revoke), methods=["POST"])]
