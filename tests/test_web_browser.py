"""The web page in a real headless Chromium (Debian's, driven by playwright).

Skipped with the reason when chromium, playwright or a Japanese font is missing — except under CI,
where that fails.  Screenshots go to the test's temporary folder (and to ``$KYOGIKAI_SCREENSHOTS``
when set), so a person can look at them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from kyogikai.app import Kyogikai
from kyogikai.projections import organisation as org_rm
from kyogikai.web import create_app

from .test_feeds_support import HIDDEN, ThreadServer, build_rich, need

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]


def japanese_fonts() -> set[str]:
    if not shutil.which("fc-list"):
        return set()
    out = subprocess.run(["fc-list", ":lang=ja", "family"], capture_output=True, text=True).stdout
    return {name.strip() for line in out.splitlines() for name in line.split(",") if name.strip()}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    need(Path(CHROMIUM).exists(), f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        need(False, "playwright is not installed (pip install '.[test]')")
    db = str(tmp_path_factory.mktemp("browser") / "k.sqlite")
    with Kyogikai(db, actor="事務局A") as app:
        build_rich(app)
        bodies = {b["id"]: b["name"] for b in app.rows(org_rm.BODIES) if b["name"] not in HIDDEN}
    with ThreadServer(lambda base: create_app(lambda: Kyogikai(db, actor="web"), base_url=base)) as srv:
        yield srv, bodies


@pytest.fixture(scope="module")
def browser(site):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def shot(page, tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 20_000
    if os.environ.get("KYOGIKAI_SCREENSHOTS"):
        dest = Path(os.environ["KYOGIKAI_SCREENSHOTS"])
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, dest / name)
    return path


def guarded_page(browser, base: str):
    """A page that may only talk to our server: anything else is refused and recorded."""
    page = browser.new_page(viewport={"width": 1200, "height": 900}, locale="ja-JP")
    foreign: list[str] = []

    def route(r):
        if r.request.url.startswith(base + "/") or r.request.url.startswith("data:"):
            r.continue_()
        else:
            foreign.append(r.request.url)
            r.abort()
    page.route("**/*", route)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return page, foreign, errors


def test_front_page_lists_bodies_with_subscribe_links_in_japanese(site, browser, tmp_path):
    srv, bodies = site
    fonts = japanese_fonts()
    need(bool(fonts), "no Japanese font is installed (apt-get install fonts-noto-cjk)")
    page, foreign, errors = guarded_page(browser, srv.base)
    page.goto(srv.base + "/")
    assert page.title() == "会議・行事予定｜協議会"
    assert page.locator("h1").inner_text() == "協議会 会議・行事予定"
    listed = {li.get_attribute("data-body-id"): li.locator("span.name").inner_text()
              for li in page.locator("#calendars ~ section li.body").all()}
    assert listed == bodies and not any(h in page.content() for h in HIDDEN)
    for body_id, name in listed.items():
        li = page.locator(f'li[data-body-id="{body_id}"]')
        https = li.locator("a.sub-https").get_attribute("href")
        webcal = li.locator("a.sub-webcal").get_attribute("href")
        google = li.locator("a.sub-google").get_attribute("href")
        assert https == f"{srv.base}/feeds/body/{body_id}.ics"
        assert webcal == "webcal://" + https.split("://", 1)[1]
        g = urlsplit(google)
        assert (g.scheme, g.netloc, g.path) == ("https", "calendar.google.com", "/calendar/r")
        assert parse_qs(g.query)["cid"] == [webcal]
        feed = page.request.get(https)
        assert feed.status == 200 and feed.headers["content-type"] == "text/calendar; charset=utf-8"
        assert f"X-WR-CALNAME:協議会 {name}" in feed.text().replace("\r\n ", "")
    assert page.locator("#all a.sub-https").get_attribute("href") == f"{srv.base}/feeds/all.ics"
    assert "第9回幹事会" in page.locator("table.schedule").first.inner_text()
    # Japanese text is drawn with a Japanese font (not boxes): ask Chromium which fonts it used
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    for selector in ("h1", "p.lead", "h2"):
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        used = {f["familyName"] for f in cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]}
        assert used & fonts, f"{selector} drawn with {used}, none of them Japanese"
    shot(page, tmp_path, "index.png")
    assert foreign == [] and errors == []
    page.close()


def test_body_page_shows_past_and_upcoming_and_follows_links(site, browser, tmp_path):
    srv, bodies = site
    page, foreign, errors = guarded_page(browser, srv.base)
    page.goto(srv.base + "/")
    page.locator("li.body a", has_text="幹事会").first.click()
    page.wait_for_load_state()
    assert page.locator("h2.body-name").inner_text() == "幹事会"
    upcoming = page.locator("#upcoming + table").inner_text()
    past = page.locator("#past + table").inner_text()
    assert "第9回幹事会" in upcoming and "県自治センター" in upcoming and "次年度事業計画について" in upcoming
    assert "第1回幹事会" in past and "開催済" in past and "中止" in past and "第9回幹事会" not in past
    cancelled = page.locator("tr.cancelled td.what").first
    assert "line-through" in cancelled.evaluate("e => getComputedStyle(e).textDecorationLine")
    shot(page, tmp_path, "body.png")
    page.locator("nav.crumbs a", has_text="トップ").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "協議会 会議・行事予定"
    assert foreign == [] and errors == []
    page.close()
