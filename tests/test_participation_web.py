"""The participation pages in a real headless Chromium (as tests/test_web_browser.py: Debian's chromium,
driven by playwright; skipped with the reason when missing, except under CI).  Screenshots go to the
test's temporary folder (and to ``$KYOGIKAI_SCREENSHOTS`` when set)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from kyogikai.app import Kyogikai
from kyogikai.web import create_app
from kyogikai.web.participation import routes

from .conftest import CLI
from .test_feeds_support import ThreadServer, need
from .test_participation import BOARD_ROWS, build
from .test_web_browser import ARGS, CHROMIUM, guarded_page, shot

JA = {"present": "出席", "absent": "欠席", "unknown": "未記録", None: "－"}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    need(Path(CHROMIUM).exists(), f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        need(False, "playwright is not installed (pip install '.[test]')")
    tmp = tmp_path_factory.mktemp("participation-browser")
    db = str(tmp / "k.sqlite")
    build(CLI(db), tmp)
    from kyogikai.feeds import FeedService

    with Kyogikai(db, actor="事務局A") as k:
        board = k.body("幹事会")["id"]
        token = FeedService(k, "http://x").issue_token("豊橋市").token
    app = lambda base: create_app(lambda: Kyogikai(db, actor="web"), base_url=base, extra_routes=routes,  # noqa: E731
                                  today=lambda: dt.date(2024, 5, 1))
    with ThreadServer(app) as srv:
        yield srv, board, token


@pytest.fixture(scope="module")
def browser(site):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def test_matrix_page_in_the_browser(site, browser, tmp_path):
    srv, board, _ = site
    page, foreign, errors = guarded_page(browser, srv.base)
    page.goto(f"{srv.base}/bodies/{board}/participation?fiscal_year=2023")
    assert page.title() == "幹事会 令和5年度 出欠表｜協議会"
    heads = [th.inner_text().split("\n")[0] for th in page.locator("table.matrix thead th").all()]
    assert heads == ["団体名", "第1回幹事会", "第2回幹事会", "第3回幹事会", "開催", "出席", "欠席", "未記録", "出席率"]
    rows = page.locator("table.matrix tbody tr").all()
    assert len(rows) == len(BOARD_ROWS) == 14
    for row, (name, cells, held, attended, absent, unknown, rate) in zip(rows, BOARD_ROWS):
        got = [c.inner_text().strip() for c in row.locator("th, td").all()]
        assert got[0].startswith(name)
        assert got[1:] == [JA[c] for c in cells] + [str(held), str(attended), str(absent), str(unknown), f"{rate:.1f}%"]
    foot = [c.inner_text().split("\n")[0] for c in page.locator("table.matrix tfoot td").all()]
    assert foot == ["84.6%", "91.7%", "76.9%", "39", "32", "6", "1", "84.2%"]
    assert "訓練結果" not in page.content()
    # the site's stylesheet applies (the strict CSP lets no other style in: a violation is a console error)
    assert page.locator("table.matrix").evaluate("e => getComputedStyle(e).borderCollapse") == "collapse"
    shot(page, tmp_path, "participation-matrix.png")
    page.locator("nav.crumbs a", has_text="幹事会").click()
    page.wait_for_load_state()
    assert page.locator("h2.body-name").inner_text() == "幹事会"
    assert foreign == [] and errors == []
    page.close()


def test_member_record_page_in_the_browser(site, browser, tmp_path):
    srv, _, token = site
    page, foreign, errors = guarded_page(browser, srv.base)
    page.goto(f"{srv.base}/private/{token}/participation?fiscal_year=2023")
    assert page.locator("h2.member-name").inner_text() == "豊橋市（232017） 令和5年度 参加記録"
    results = [[c.inner_text() for c in r.locator("td").all()] for r in page.locator("table.drill-results tbody tr").all()]
    assert [(r[0], r[2], r[3], r[4], r[5]) for r in results] == [("第1回訓練", "120", "9", "7.5%", "31"),
                                                                 ("第2回訓練", "120", "3", "2.5%", "40")]
    totals = [c.inner_text() for c in page.locator("table.bodies tfoot td").all()]
    assert totals == ["6", "6", "0", "0", "100.0%"]
    shot(page, tmp_path, "participation-member.png")
    page.locator("a", has_text="前年度").click()
    page.wait_for_load_state()
    assert "令和4年度 参加記録" in page.locator("h2.member-name").inner_text()
    assert foreign == [] and errors == []
    page.close()
