"""The public web site as static files: ``kyogikai export-feeds DIR`` (with :meth:`FeedService.export`).

Every public page is rendered by the live server's own handlers and templates (no HTTP), so a
plain web server or object storage serving ``DIR`` at the base URL answers what ``kyogikai serve``
answers publicly.  The layout (decided here, documented in the README):

====================================================  ============================================
URL (as the pages link it)                             file under DIR
====================================================  ============================================
``/``                                                  ``index.html``
``/bodies/<id>``                                       ``bodies/<id>/index.html``
``/bodies/<id>/participation``                         ``bodies/<id>/participation/index.html``
``/bodies/<id>/participation/<fiscal year>``           ``bodies/<id>/participation/<fy>/index.html``
``/programmes/<id>``                                   ``programmes/<id>/index.html``
``/feeds/…ics``                                        ``feeds/…ics`` (:meth:`FeedService.export`)
(a page that does not exist)                           ``404.html``
====================================================  ============================================

So the server must answer a directory's ``index.html`` for a path without a trailing slash: nginx
does with ``try_files $uri $uri/index.html =404;``, Apache and ``python -m http.server`` redirect
``/bodies/<id>`` to ``/bodies/<id>/`` and serve its ``index.html``; S3 and similar storage with
"static website hosting" and index document ``index.html``.  The stylesheet is inside every page
(as the live server sends it: its Content-Security-Policy allows it by hash), so no separate file
is needed.  Participation pages are written for every fiscal year that has meetings and for the
current one; their year links go only to those years.

Files are replaced atomically and only when their bytes changed; pages of bodies and programmes
that are no longer public (or no longer exist) are removed.  Private pages never are written.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable

from starlette.requests import Request

from ..feeds.service import write_atomically
from . import Site, body_page, index, programme_page
from .participation import body_participation, recorded_years

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def page_file(path: str) -> str:
    """The file under DIR that holds the page at URL path ``path`` (see the table above)."""
    path = path.strip("/")
    if not path:
        return "index.html"
    if path.endswith((".ics", ".html", ".css")):
        return path
    return f"{path}/index.html"


def _call(site: Site, handler: Callable[[Request], Any], path: str, **params: Any) -> tuple[int, bytes]:
    scope = {"type": "http", "method": "GET", "path": path, "raw_path": path.encode(), "root_path": "",
             "query_string": b"", "headers": [], "path_params": params,
             "app": SimpleNamespace(state=SimpleNamespace(site=site))}
    response = handler(Request(scope))
    return response.status_code, bytes(response.body)


def export_pages(app_factory: Callable[[], Any], base_url: str, directory: str | Path,
                 today: Callable[[], dt.date] | None = None) -> dict[str, int]:
    """Write every public page under ``directory``; returns counts (written, unchanged, removed)."""
    root = Path(directory)
    site = Site(app_factory, base_url, today=today)
    site.open()
    try:
        def listing(feeds: Any) -> tuple[list[str], list[str], list[int]]:
            cat = feeds.catalogue()
            programmes = [p["id"] for sec in cat["sections"] for p in sec["programmes"]]
            bodies = [b["id"] for sec in cat["sections"] for p in sec["programmes"] for b in p["bodies"]]
            return programmes, bodies, recorded_years(feeds.app, site.today())

        programmes, bodies, years = site.read(listing)
        pages: list[tuple[str, Callable[[Request], Any], dict[str, Any]]] = [("/", index, {})]
        pages += [(f"/programmes/{p}", programme_page, {"id": p}) for p in programmes]
        for b in bodies:
            pages.append((f"/bodies/{b}", body_page, {"id": b}))
            pages.append((f"/bodies/{b}/participation", body_participation, {"id": b}))
            pages += [(f"/bodies/{b}/participation/{fy}", body_participation, {"id": b, "fy": fy}) for fy in years]
        counts = {"written": 0, "unchanged": 0, "removed": 0}
        wanted: set[Path] = set()
        for path, handler, params in pages:
            status, body = _call(site, handler, path, **params)
            if status != 200:  # pragma: no cover - raced with a visibility change
                continue
            _put(root / page_file(path), body, wanted, counts)
        status, body = _call(site, lambda request: site.not_found(request), "/404")
        _put(root / "404.html", body, wanted, counts)
    finally:
        site.close()
    for kind in ("bodies", "programmes"):
        folder = root / kind
        if folder.is_dir():
            for d in folder.iterdir():
                if d.is_dir() and _UUID.fullmatch(d.name) and (d / "index.html") not in wanted:
                    shutil.rmtree(d)
                    counts["removed"] += 1
                elif d.is_dir() and _UUID.fullmatch(d.name):
                    counts["removed"] += _prune(d, wanted)
    return counts


def _put(target: Path, body: bytes, wanted: set[Path], counts: dict[str, int]) -> None:
    wanted.add(target)
    if target.is_file() and target.read_bytes() == body:
        counts["unchanged"] += 1
        return
    target.parent.mkdir(parents=True, exist_ok=True)  # folders under the export root only
    write_atomically(target, body)
    counts["written"] += 1


def _prune(folder: Path, wanted: set[Path]) -> int:
    """Remove ``index.html`` files under ``folder`` that this export did not write (old fiscal years)."""
    removed = 0
    for f in folder.rglob("index.html"):
        if f not in wanted:
            f.unlink()
            removed += 1
    return removed
