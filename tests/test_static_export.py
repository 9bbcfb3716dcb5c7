"""Issue 14, item 4: ``export-feeds DIR`` writes the whole public site, and every link in it resolves
inside the export (a link checker walks it); the pages are the live server's bytes; a plain static
web server serves the directory.  On the reference import, both databases."""

from __future__ import annotations

import functools
import html.parser
import re
import threading
import urllib.request
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from kyogikai.app import Kyogikai
from kyogikai.web import create_app
from kyogikai.web.export import page_file
from kyogikai.web.participation import routes as participation_routes

from .conftest import CLI
from .test_feeds_support import ThreadServer, fetch

BASE = "https://kyogikai.example.lg.jp/kyogikai"


class Links(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src") and value:
                self.links.append(value)


def check_links(root: Path, base: str) -> tuple[int, list[str]]:
    """Every link to the site (https, webcal, Google's cid) in every page and feed: the file it needs."""
    checked, broken = 0, []
    host_path = base.split("://", 1)[1]
    for f in sorted(root.rglob("*")):
        if f.suffix == ".html":
            p = Links()
            p.feed(f.read_text(encoding="utf-8"))
            links = p.links
        elif f.suffix == ".ics":
            text = f.read_bytes().replace(b"\r\n ", b"").decode()
            links = re.findall(r"^(?:URL|SOURCE);VALUE=URI:(\S+)$", text, re.M) + re.findall(r"詳細：(\S+?)(?:\\n|$)", text, re.M)
        else:
            continue
        for link in links:
            if link.startswith("https://calendar.google.com/"):
                link = parse_qs(urlsplit(link).query)["cid"][0]
            if link.startswith("webcal://"):
                link = "https://" + link[len("webcal://"):]
            if link.startswith("data:"):
                continue
            if link.split("://", 1)[-1].startswith(host_path):
                rest = link.split("://", 1)[1][len(host_path):]
                checked += 1
                u = urlsplit(rest)
                if u.query or not (root / page_file(unquote(u.path))).is_file():
                    broken.append(f"{f.relative_to(root)} → {link}")
            elif not link.startswith(("http://", "https://", "mailto:")):
                broken.append(f"{f.relative_to(root)} → {link} (relative or unknown)")
    return checked, broken


@pytest.fixture
def exported(reference_db, tmp_path):
    db = reference_db
    cli = CLI(db)
    cli("council", "set", "--name", "あいち電子自治体推進協議会", "--base-url", BASE)
    out = tmp_path / "site"
    r = cli("export-feeds", str(out))
    assert "pages in" in r.out
    return db, out


def test_export_writes_the_whole_public_site_and_every_link_resolves(exported):
    db, out = exported
    with Kyogikai(db, actor="t") as app:
        bodies = [b[0] for b in app.query("SELECT id FROM rm_bodies")]
        programmes = [p[0] for p in app.query("SELECT id FROM rm_programmes")]
    assert (out / "index.html").is_file() and (out / "404.html").is_file() and (out / "feeds/all.ics").is_file()
    for b in bodies:
        assert (out / "bodies" / b / "index.html").is_file()
        assert (out / "bodies" / b / "participation" / "index.html").is_file()
        assert (out / "bodies" / b / "participation" / "2023" / "index.html").is_file()
        assert (out / "feeds" / "body" / f"{b}.ics").is_file()
        # a body's page links to its participation table
        assert f'href="{BASE}/bodies/{b}/participation"' in (out / "bodies" / b / "index.html").read_text()
    for p in programmes:
        assert (out / "programmes" / p / "index.html").is_file()
    checked, broken = check_links(out, BASE)
    pages = len(list(out.rglob("*.html")))
    print(f"\nexport: {pages} pages, {len(list(out.rglob('*.ics')))} feeds; {checked} links checked, {len(broken)} broken")
    assert not broken, broken[:20]
    assert checked > 500


def test_exported_pages_are_the_live_servers_and_a_static_server_serves_them(exported, tmp_path):
    db, out = exported
    app = create_app(lambda: Kyogikai(db, actor="web"), base_url=BASE, extra_routes=participation_routes)
    files = sorted(p for p in out.rglob("index.html"))
    with ThreadServer(app) as srv:
        for f in files:
            rel = f.relative_to(out).parent.as_posix()
            path = "/" if rel == "." else f"/{rel}"
            live = fetch(srv.base + path)
            assert live.status == 200, path
            assert live.body == f.read_bytes(), f"{path}: the export differs from the live page"
    # a plain static server (python's http.server) serves the directory at the site's paths
    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):  # noqa: D102
            pass

    handler = functools.partial(Quiet, directory=str(out))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    try:
        static = f"http://127.0.0.1:{httpd.server_address[1]}"
        body_dir = next((out / "bodies").iterdir())
        for path, file in [("/", out / "index.html"), (f"/bodies/{body_dir.name}", body_dir / "index.html"),
                           (f"/bodies/{body_dir.name}/participation", body_dir / "participation" / "index.html"),
                           ("/feeds/all.ics", out / "feeds" / "all.ics")]:
            with urllib.request.urlopen(static + path) as r:  # follows the redirect to the folder
                assert r.status == 200 and r.read() == file.read_bytes(), path
    finally:
        httpd.shutdown()


def test_export_removes_a_body_that_became_non_public(exported):
    db, out = exported
    cli = CLI(db)
    with Kyogikai(db, actor="t") as app:
        app.sync()
        b = app.body("幹事会")["id"]
    assert (out / "bodies" / b / "index.html").is_file()
    cli("body", "visibility", "幹事会", "non-public")
    r = cli("export-feeds", str(out))
    assert not (out / "bodies" / b).exists() and not (out / "feeds" / "body" / f"{b}.ics").exists()
    assert b not in (out / "index.html").read_text()
    checked, broken = check_links(out, BASE)
    assert not broken, broken[:10]
    r = cli("export-feeds", str(out))
    assert "pages in" in r.out and " 0 written" in r.out.splitlines()[1], r.out
