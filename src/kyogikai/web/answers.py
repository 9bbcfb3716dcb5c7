"""The member organisation's own page: answers (出欠回答) and written votes (書面表決) through its private link.

Routes, added to the server with ``create_app(..., extra_routes=routes)`` (``kyogikai serve`` adds them):

- ``GET /private/{token}/`` — the member's upcoming meetings (those of bodies it is on at the
  meeting's date, not yet begun; a written deliberation until its last day), each with its current
  answer, the deadline and a small form; a confirmation or error message on top.  Japanese, no
  JavaScript, one column on a phone.
- ``POST /private/{token}/answers`` — form fields ``meeting`` (the meeting's id), ``answer``
  (``present | proxy | absent``), ``proxy``, ``comment``, ``csrf_token``; for a meeting held in
  writing ``vote_N`` (``for | against | abstain``) per agenda item number N instead of ``answer``.
  It calls the same application command as ``kyogikai meeting answer`` / ``vote``
  (:mod:`kyogikai.answers`), which decides every rule, and answers ``303 See Other`` back to the
  page with a Japanese confirmation — or the page again with a Japanese error message and 400
  (nothing written).

Security decisions:

- The token in the URL is the secret (the same one as the private calendar); a malformed, unknown or
  revoked token answers 404 and writes nothing.
- Cross-site posting: the form carries ``csrf_token`` = HMAC-SHA256(token, "kyogikai-answers-csrf"),
  bound to the token and stateless (survives restarts, needs no cookie); a POST without it or with a
  wrong one is 403.  Browsers' ``Sec-Fetch-Site`` must be ``same-origin`` (or ``none``) when sent,
  and an ``Origin`` header, when sent and not ``null`` (our ``Referrer-Policy: no-referrer`` makes
  browsers send ``null``), must be the site's own: otherwise 403.  There are no cookies, so there is
  no session to ride on and no SameSite attribute to set.
- Answers ``Cache-Control: private, no-store`` and ``X-Robots-Tag: noindex, nofollow``; the
  Content-Security-Policy is the site's with ``form-action 'self'`` (the site's own forbids forms).
- The request body is limited to 64 KiB (413 beyond).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any
from urllib.parse import parse_qs, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from .. import answers as ans
from ..app import UserError
from ..domain import answers as a
from ..domain.events import DomainError
from ..i18n import M, NC_, use
from ..store import ConflictError

TEMPLATE = "web_answers_member.html"
MAX_BODY = 64 * 1024
PRIVATE_HEADERS = {"Cache-Control": "private, no-store", "X-Robots-Tag": "noindex, nofollow"}



# How the member's page words the refusals (the catalogue's 'member page' context; the CLI's wording
# names options and values, this page speaks to the member): rendered with ``refusal``.
_WORDING = (
    NC_("member page", "proxy: at most {limit} characters"),
    NC_("member page", "comment: at most {limit} characters"),
    NC_("member page", "answers: a {kind} takes no answers (only meetings of a body do)"),
    NC_("member page", "member: not on the body's roster at the meeting's date; only its members answer"),
    NC_("member page", "the meeting was cancelled; it takes no answers"),
    NC_("member page", "the meeting is recorded as held; it takes no answers"),
    NC_("member page", "the meeting has begun or is past; it takes no answers"),
    NC_("member page",
        "answer: the deadline {deadline} ({era_date}) has passed; only the secretariat can change it now"),
    NC_("member page", "answer: the meeting is held in writing; members vote on its items (meeting vote)"),
    NC_("member page", "proxy: give the name of who attends on the member's behalf"),
    NC_("member page", "proxy: only with the answer proxy"),
    NC_("member page", "vote: the meeting is not held in writing; votes are for written deliberations"),
    NC_("member page", "--item: no agenda item {number!r}; the items are numbered 1..{count}"),
    NC_("member page", "--item: the meeting has no agenda items"),
    NC_("member page", "meeting: {id!r} is not a meeting id"),
    NC_("member page", "meeting: no meeting with id {id}"),
    NC_("member page", "--answer: {value!r} is not one of {choices}"),
    NC_("member page", "--vote: {value!r} is not one of {choices}"),
    NC_("member page", "--vote: give a vote for at least one agenda item"),
)


def refusal(exc: a.AnswerRefused) -> str:
    """A refused answer or vote, in the member page's Japanese."""
    message = exc.args[0]
    return message.render("ja", context="member page") if isinstance(message, M) else str(message)


def csrf_token(token: str) -> str:
    return hmac.new(token.encode(), b"kyogikai-answers-csrf", hashlib.sha256).hexdigest()[:40]


def _csp(site: Any) -> str:
    return (f"default-src 'none'; style-src 'sha256-{site.css_hash}'; img-src 'self' data:; base-uri 'none'; "
            "form-action 'self'; frame-ancestors 'none'")


def _private(site: Any, resp: Response) -> Response:
    resp.headers.update(PRIVATE_HEADERS)
    resp.headers["Content-Security-Policy"] = _csp(site)
    return resp


def _who(site: Any, token: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    def look(f: Any) -> tuple[dict[str, Any], dict[str, Any]] | None:
        row = f.token_row(token)
        if row is None:
            return None
        member = f.member_for_token(token)
        return (row, member) if member else None
    return site.read(look)


def _page(request: Request, site: Any, token: str, member: dict[str, Any], *, status: int = 200,
          error: str | None = None, notice: str | None = None, meeting: str | None = None) -> Response:
    today = site.today()
    meetings = site.read(lambda f: ans.member_meetings(f.app, member["id"], today))
    named = next((m["label"] for m in meetings if m["id"] == meeting), None) if meeting else None
    if error and named:
        error = f"{named}：{error}"
    html = site.env.get_template(TEMPLATE).render(
        request=request, today=today, council=site.council, member=member, meetings=meetings, error=error, notice=notice,
        csrf=csrf_token(token), action=f"{site.base_url}/private/{token}/answers",
        participation=f"{site.base_url}/private/{token}/participation",
        calendar=f"{site.base_url}/private/{token}/calendar.ics",
        ANSWER_JA=a.ANSWER_JA, VOTE_JA=a.VOTE_JA)
    return _private(site, HTMLResponse(html, status_code=status))


def member_page(request: Request) -> Response:
    site = request.app.state.site
    token = request.path_params["token"]
    who = _who(site, token)
    if who is None:
        return _private(site, site.not_found(request))
    notice = None
    saved = request.query_params.get("saved")
    if saved:
        notice = {"answer": "回答を受け付けました。内容は下の「現在の回答」でご確認ください。",
                  "vote": "表決を受け付けました。内容は下の各議案でご確認ください。",
                  "same": "回答内容に変更はありませんでした。"}.get(saved)
    return _page(request, site, token, who[1], notice=notice)


def _cross_site(request: Request, site: Any) -> bool:
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        return True
    origin = request.headers.get("origin")
    if origin and origin != "null":
        own = {f"{urlsplit(site.base_url).scheme}://{urlsplit(site.base_url).netloc}",
               f"{request.url.scheme}://{request.headers.get('host', '')}"}
        if origin not in own:
            return True
    return False


async def post_answers(request: Request) -> Response:
    from starlette.concurrency import run_in_threadpool

    site = request.app.state.site
    token = request.path_params["token"]
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            return PlainTextResponse("413 送信内容が大きすぎます。", status_code=413)
    return await run_in_threadpool(_post, request, site, token, body)


def _post(request: Request, site: Any, token: str, body: bytes) -> Response:
    who = _who(site, token)
    if who is None:
        return _private(site, site.not_found(request))
    token_row, member = who
    try:
        form = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False, max_num_fields=500)
    except (UnicodeDecodeError, ValueError):
        return _page(request, site, token, member, status=400, error="送信内容を読み取れませんでした。もう一度お試しください。")

    def field(name: str) -> str | None:
        values = form.get(name)
        return values[0] if values else None

    if _cross_site(request, site) or not hmac.compare_digest((field("csrf_token") or "").encode(),
                                                             csrf_token(token).encode()):
        return _private(site, PlainTextResponse(
            "403 この送信は受け付けられません。回答ページを開き直してから送信してください。", status_code=403))
    meeting = (field("meeting") or "").strip()
    if not meeting:
        return _page(request, site, token, member, status=400, error="会議の指定がありません。")
    votes: dict[int, str] = {}
    for name, values in form.items():
        if name.startswith("vote_") and values and values[0]:
            number = name[5:]
            if not number.isdigit() or len(number) > 4:
                return _page(request, site, token, member, status=400, error="指定された議案はありません。")
            votes[int(number)] = values[0]
    today = site.today()
    try:
        if votes or field("answer") is None and field("kind") == "vote":
            r = site.read(lambda f: ans.cast_votes(f.app, meeting, votes, member_id=member["id"],
                                                    token_id=token_row["id"], today=today))
            kind = "vote"
        else:
            r = site.read(lambda f: ans.record_answer(
                f.app, meeting, field("answer") or "", member_id=member["id"], token_id=token_row["id"],
                proxy=field("proxy"), comment=field("comment"), today=today))
            kind = "answer"
    except a.AnswerRefused as exc:
        return _page(request, site, token, member, status=400, error=refusal(exc), meeting=meeting)
    except ConflictError:
        return _page(request, site, token, member, status=409,
                     error="同時に別の回答が記録されました。内容をご確認のうえ、もう一度送信してください。")
    except (DomainError, UserError) as exc:
        with use("en"):
            text = str(exc)
        ja = ("使用できない文字が含まれています。" if "control character" in text
              else "入力内容を確認してください。")
        return _page(request, site, token, member, status=400, error=ja, meeting=meeting)
    saved = kind if r.events else "same"
    return _private(site, RedirectResponse(f"{site.base_url}/private/{token}/?saved={saved}#m-{r.id}", status_code=303))


def routes(site: Any = None) -> list[BaseRoute]:
    return [Route("/private/{token}/", member_page, methods=["GET", "HEAD"]),
            Route("/private/{token}/answers", post_answers, methods=["POST"])]
