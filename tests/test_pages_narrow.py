"""Issue 14, item 6: the pages in headless Chromium at a phone's width (390 px) and at a desktop's —
no sideways scrolling on the index, body, programme, participation and report pages; a body's
page links to its participation table.  On the reference import with the members, the 幹事会's
roster and attendance added.  Screenshots go to tests/artifacts/ (printed)."""

from __future__ import annotations

import datetime as dt
from importlib import resources
from pathlib import Path

import pytest

from kyogikai.app import Kyogikai
from kyogikai.demo import ABSENCES, BOARD
from kyogikai.web import create_app
from kyogikai.web.participation import routes as participation_routes

from .artifacts import artifacts
from .conftest import CLI
from .test_feeds_support import ThreadServer, need
from .test_web_browser import ARGS, CHROMIUM

NAME = "あいち電子自治体推進協議会"
PHONE, DESKTOP = {"width": 390, "height": 844}, {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def site(tmp_path_factory, reference_text_module):
    need(Path(CHROMIUM).exists(), f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        need(False, "playwright is not installed (pip install '.[test]')")
    tmp = tmp_path_factory.mktemp("narrow")
    db = str(tmp / "k.sqlite")
    (tmp / "ref.txt").write_text(reference_text_module, encoding="utf-8")
    (tmp / "members.csv").write_text(resources.files("kyogikai").joinpath("data", "members.csv").read_text("utf-8"),
                                     encoding="utf-8")
    cli = CLI(db)
    cli("import-report", str(tmp / "ref.txt"))
    cli("members", "import", str(tmp / "members.csv"))
    cli("council", "set", "--name", NAME)
    with Kyogikai(db, actor="事務局A") as app:
        for name in BOARD:
            app.join(name, body="幹事会", since=dt.date(2023, 4, 1))
        ids = {m["label"]: m["id"] for m in app.meetings(fiscal_year=2023, body="幹事会")}
        for label, absent in ABSENCES.items():
            app.record_attendance(ids[label], [(n, "absent" if n in absent else "present") for n in BOARD])
        board = app.body("幹事会")["id"]
        study = app.body("電子申請・届出システム研究会")["id"]
        programme = app.programme("会議運営")["id"]
    report = tmp / "report.html"
    cli("report", "--fiscal-year", "2023", "--format", "html", "-o", str(report))
    def app(base: str):
        return create_app(lambda: Kyogikai(db, actor="web"), base_url=base, extra_routes=participation_routes,
                          today=lambda: dt.date(2024, 3, 10))

    with ThreadServer(app) as srv:
        yield srv, {"board": board, "study": study, "programme": programme, "report": report}


@pytest.fixture(scope="module")
def reference_text_module():
    from .conftest import REFERENCE

    if not REFERENCE.exists():
        pytest.skip(f"reference report not found at {REFERENCE}")
    return REFERENCE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def browser(site):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def pages(site) -> dict[str, str]:
    srv, ids = site
    return {"index": srv.base + "/",
            "body": f"{srv.base}/bodies/{ids['board']}",
            "sub-body": f"{srv.base}/bodies/{ids['study']}",
            "programme": f"{srv.base}/programmes/{ids['programme']}",
            "participation": f"{srv.base}/bodies/{ids['board']}/participation/2023",
            "report": ids["report"].as_uri()}


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_no_sideways_scrolling_and_screenshots(site, browser, width):
    viewport = PHONE if width == "phone" else DESKTOP
    out = artifacts()
    widths = {}
    for name, url in pages(site).items():
        page = browser.new_page(viewport=viewport, locale="ja-JP", device_scale_factor=1)
        page.goto(url)
        page.wait_for_load_state()
        scroll = page.evaluate("() => document.documentElement.scrollWidth")
        inner = page.evaluate("() => window.innerWidth")
        widths[name] = (scroll, inner)
        path = out / f"page-{name}-{width}.png"
        page.screenshot(path=str(path), full_page=True)
        page.screenshot(path=str(out / f"page-{name}-{width}-top.png"))  # the first screen, to look at
        page.close()
        print(f"\n{path} (scrollWidth {scroll}, innerWidth {inner})", end="")
    too_wide = {n: w for n, w in widths.items() if w[0] > w[1]}
    assert not too_wide, f"sideways scrolling at {viewport['width']} px: {too_wide}"


def test_body_page_links_to_its_participation_table(site, browser):
    srv, ids = site
    page = browser.new_page(viewport=PHONE, locale="ja-JP")
    page.goto(f"{srv.base}/bodies/{ids['board']}")
    assert NAME in page.locator("h1").inner_text() and page.title() == f"幹事会｜{NAME}"
    page.locator("a", has_text="出欠表").click()
    page.wait_for_load_state()
    assert page.url.startswith(f"{srv.base}/bodies/{ids['board']}/participation")
    assert "出欠表" in page.locator("h2.body-name").inner_text() and "名古屋市" in page.content()
    page.close()
