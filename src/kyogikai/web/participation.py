"""Participation pages on the web server: a public body's matrix, a member's own record behind its token.

Routes, added to the server with ``create_app(..., extra_routes=routes)``:

- ``/bodies/{id}/participation[?fiscal_year=2023]`` and ``/bodies/{id}/participation/2023`` (the form its
  year links use, which a static export can hold) — the roster-by-meeting matrix of a *public* body
  and its rate per meeting; 404 for an unknown or non-public body (a body under a non-public body is
  non-public too).  No drill results: the matrix has none.
- ``/private/{token}/participation[?fiscal_year=2023]`` — the member organisation's own record,
  with its drill results, for a live private token (the same secret as its private calendar feed);
  404 for a malformed, unknown or revoked token.  Answered ``Cache-Control: private, no-store`` and
  ``X-Robots-Tag: noindex, nofollow``.

The fiscal year defaults to the current one (Asia/Tokyo) and accepts ``2023``, ``R5``, ``令和5年度``;
anything else is a 400.  The rows are read under the site's lock on current read models
(:meth:`Site.read`), the record is built and rendered outside it.
"""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from .. import dates
from .. import participation as pt
from ..dates import DateError
from ..projections import schedule as sched_rm


def _fiscal_year(request: Request, today: Any) -> int:
    if "fy" in request.path_params:  # /bodies/{id}/participation/{fy}: a path a static export can hold
        fy = int(request.path_params["fy"])
        if not 1900 <= fy <= 2200:
            raise HTTPException(404)
        return fy
    text = request.query_params.get("fiscal_year")
    if not text:
        return dates.fiscal_year(today)
    try:
        return dates.parse_fiscal_year(text)
    except DateError as exc:
        raise HTTPException(400, f"400 fiscal_year: {exc}") from None


def _year(request: Request) -> tuple[Any, pt.YearData]:
    site = request.app.state.site
    today = site.today()
    fy = _fiscal_year(request, today)

    def load(feeds: Any) -> pt.YearData:
        with feeds.app.snapshot() as rows:
            return pt.load_year(rows, fy, today)

    return site, site.read(load)


def body_participation(request: Request) -> Response:
    site, data = _year(request)
    body_id = str(request.path_params["id"])
    if body_id not in data.bodies or not data.public(body_id):
        return site.not_found(request)
    return site.render(request, pt.BODY_TEMPLATE, r=pt.body_matrix(data, body_id),
                       years=site.read(lambda f: recorded_years(f.app, site.today())), **pt.HTML_HELPERS)


def member_participation(request: Request) -> Response:
    site = request.app.state.site
    member = site.member_for_token(request.path_params["token"])
    if member is None:
        return site.not_found(request)
    site, data = _year(request)
    if member["id"] not in data.members:
        return site.not_found(request)
    resp = site.render(request, pt.MEMBER_TEMPLATE, r=pt.member_record(data, member["id"]), **pt.HTML_HELPERS)
    resp.headers["Cache-Control"] = "private, no-store"
    resp.headers["X-Robots-Tag"] = "noindex, nofollow"
    return resp


def recorded_years(app: Any, today: Any) -> list[int]:
    """The fiscal years a body's table links between: those with meetings, and the current one."""
    years = app.read(sched_rm.fiscal_years)
    return sorted(years | {dates.fiscal_year(today)})


def routes(site: Any = None) -> list[BaseRoute]:
    return [Route("/bodies/{id:uuid}/participation", body_participation),
            Route("/bodies/{id:uuid}/participation/{fy:int}", body_participation),
            Route("/private/{token}/participation", member_participation)]
