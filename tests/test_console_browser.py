"""The console in a real headless Chromium (Debian's, through playwright) against ``kyogikai serve``.

A clerk logs in with the keyboard, schedules a meeting, reschedules it, cancels it (through the
confirmation page) and logs out; the public feed follows each step.  At a phone's width (390 px) and
a desktop's, every page fits without sideways scrolling, every form control has a label, and no
script runs (the strict CSP stays).  Screenshots go to the test's folder and to
``$KYOGIKAI_SCREENSHOTS`` when set.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kyogikai.app import Kyogikai

from .console_support import CLERK_PW, setup_council
from .test_feeds_support import ServeProcess, need
from .test_web_browser import ARGS, CHROMIUM, japanese_fonts, shot

WIDTHS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}


@pytest.fixture(scope="module")
def chromium():
    need(Path(CHROMIUM).exists(), f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        need(False, "playwright is not installed (pip install '.[test]')")
    need(bool(japanese_fonts()), "no Japanese font is installed (apt-get install fonts-noto-cjk)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def check_page(page, label: str) -> None:
    """No sideways scroll; every visible control labelled; no script element; no console error."""
    width = page.evaluate("() => document.documentElement.scrollWidth")
    inner = page.evaluate("() => window.innerWidth")
    assert width <= inner, f"{label}: {width}px wide in a {inner}px window"
    unlabelled = page.evaluate("""() => [...document.querySelectorAll('input, select, textarea')]
        .filter(e => e.type !== 'hidden' && e.labels.length === 0).map(e => e.name)""")
    assert unlabelled == [], f"{label}: controls without a label: {unlabelled}"
    assert page.evaluate("() => document.scripts.length") == 0


def feed_text(page, url: str) -> str:
    r = page.request.get(url)
    assert r.status == 200
    return r.text().replace("\r\n ", "")


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_clerk_schedules_reschedules_cancels_in_chromium(chromium, tmp_path, size):
    db = str(tmp_path / "k.sqlite")
    setup_council(db)
    with Kyogikai(db, actor="t") as app:
        body_id = app.body("幹事会")["id"]
    with ServeProcess(db, tmp_path / "serve.log") as srv:
        ctx = chromium.new_context(viewport=WIDTHS[size], locale="ja-JP", java_script_enabled=True)
        page = ctx.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        foreign: list[str] = []

        def route(r):
            if r.request.url.startswith(srv.base + "/") or r.request.url.startswith("data:"):
                r.continue_()
            else:
                foreign.append(r.request.url)
                r.abort()
        page.route("**/*", route)
        feed_url = f"{srv.base}/feeds/body/{body_id}.ics"
        assert "第1回幹事会" not in feed_text(page, feed_url)

        # anonymous: the login page; log in with the keyboard (labels, Tab order, Enter)
        page.goto(srv.base + "/console/meetings/new")
        assert page.url.startswith(srv.base + "/console/login")
        check_page(page, "login")
        shot(page, tmp_path, f"console-login-{size}.png")
        page.keyboard.press("Tab")          # the skip link first
        page.keyboard.press("Tab")          # the site title
        page.keyboard.press("Tab")
        assert page.evaluate("() => document.activeElement.name") == "username"
        page.keyboard.type("clerk")
        page.keyboard.press("Tab")
        assert page.evaluate("() => document.activeElement.name") == "password"
        page.keyboard.type(CLERK_PW)
        page.keyboard.press("Enter")
        page.wait_for_url(srv.base + "/console/meetings/new")

        # schedule, first with a mistake: the error beside the field, the input kept
        check_page(page, "new")
        page.get_by_label("会議体（必須）").fill("幹事会")
        page.get_by_label("回数（第N回）").fill("1")
        page.get_by_label("日付（必須）").fill("令和8年5月32日")
        page.get_by_label("開催形式（必須）").fill("Web会議")
        page.get_by_label("開始時刻").fill("14:00")
        page.get_by_role("button", name="登録する").click()
        page.wait_for_load_state()
        assert page.locator("#e-date").inner_text().startswith("日付を読み取れません")
        assert page.get_by_label("日付（必須）").input_value() == "令和8年5月32日"
        assert page.get_by_label("会議体（必須）").input_value() == "幹事会"
        check_page(page, "new-error")
        shot(page, tmp_path, f"console-new-error-{size}.png")
        page.get_by_label("日付（必須）").fill("令和8年5月20日")
        page.get_by_role("button", name="登録する").click()
        page.wait_for_load_state()
        assert "予定を登録しました。" in page.locator("main").inner_text()
        assert "令和8年5月20日（水） 14:00" in page.locator("dl.facts").inner_text()
        check_page(page, "meeting")
        shot(page, tmp_path, f"console-meeting-{size}.png")
        assert "DTSTART;TZID=Asia/Tokyo:20260520T140000" in feed_text(page, feed_url)

        # reschedule
        section = page.locator("#reschedule")
        section.get_by_label("新しい日付（必須）").fill("R8.5.27")
        section.get_by_label("開始時刻").fill("10:00")
        section.get_by_label("理由").fill("会場の都合により")
        section.get_by_role("button", name="日程を変更する").click()
        page.wait_for_load_state()
        assert "日程を変更しました。" in page.locator("main").inner_text()
        assert "令和8年5月27日（水） 10:00" in page.locator("dl.facts").inner_text()
        text = feed_text(page, feed_url)
        assert "DTSTART;TZID=Asia/Tokyo:20260527T100000" in text and "20260520T140000" not in text

        # cancel, through the confirmation page
        page.locator("#cancel").get_by_label("理由").fill("議題なしのため")
        page.locator("#cancel").get_by_role("button", name=re.compile("中止する")).click()
        page.wait_for_load_state()
        assert page.locator("h2").inner_text() == "中止の確認"
        check_page(page, "cancel-confirm")
        shot(page, tmp_path, f"console-cancel-confirm-{size}.png")
        assert "STATUS:CANCELLED" not in feed_text(page, feed_url)
        page.get_by_role("button", name="中止する").click()
        page.wait_for_load_state()
        assert "中止にしました。" in page.locator("main").inner_text()
        assert "中止（理由: 議題なしのため）" in page.locator("dl.facts").inner_text()
        assert "STATUS:CANCELLED" in feed_text(page, feed_url)
        history = page.locator("#history + table").inner_text()
        assert "中止" in history and "日程変更" in history and "clerk" in history
        shot(page, tmp_path, f"console-cancelled-{size}.png")

        # the list and the log fit too
        page.goto(srv.base + "/console/meetings?fiscal_year=令和8年度")
        check_page(page, "list")
        shot(page, tmp_path, f"console-list-{size}.png")
        page.goto(srv.base + "/console/log")
        check_page(page, "log")
        shot(page, tmp_path, f"console-log-{size}.png")

        # log out: the console is closed again
        page.get_by_role("button", name="ログアウト").click()
        page.wait_for_load_state()
        assert page.url.startswith(srv.base + "/console/login")
        page.goto(srv.base + "/console/")
        assert page.url.startswith(srv.base + "/console/login")
        # the one 400 is the form sent back with its error (Chromium logs any 4xx document)
        assert foreign == [] and [e for e in errors if "status of 400" not in e] == []
        ctx.close()
    with Kyogikai(db, actor="t") as app:
        actors = {e.actor for e in app.history(app.meetings()[0]["id"])}
    assert actors == {"clerk"}


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_every_console_page_fits_and_is_labelled(chromium, tmp_path, size):
    """An admin visits every page (with data from the FY2023 sample): no sideways scroll, labels, no script."""
    from importlib import resources

    from kyogikai.report.importer import import_report_text

    from .console_support import ADMIN_PW

    db = str(tmp_path / "k.sqlite")
    setup_council(db)
    text = resources.files("kyogikai").joinpath("data", "demo_fy2023_report.txt").read_text(encoding="utf-8")
    with Kyogikai(db, actor="鈴木") as app:
        import_report_text(app, text)
        meeting = next(m for m in app.meetings(fiscal_year=2023) if m["body"] == "幹事会")
        body = app.body("幹事会")["id"]
        prog = app.programme("会議運営")["id"]
        member = app.member("名古屋市")["id"]
    with ServeProcess(db, tmp_path / "serve.log") as srv:
        ctx = chromium.new_context(viewport=WIDTHS[size], locale="ja-JP")
        page = ctx.new_page()
        page.goto(srv.base + "/console/login")
        page.get_by_label("ログイン名（必須）").fill("admin")
        page.get_by_label("パスワード（必須）").fill(ADMIN_PW)
        page.get_by_role("button", name="ログイン").click()
        page.wait_for_url(srv.base + "/console/")
        pages = {"home": "/console/", "meetings": "/console/meetings?fiscal_year=2023",
                 "meeting-detail": f"/console/meetings/{meeting['id']}", "organisation": "/console/organisation",
                 "body": f"/console/bodies/{body}", "programme": f"/console/programmes/{prog}",
                 "members": "/console/members", "member": f"/console/members/{member}",
                 "narratives": "/console/narratives?fiscal_year=2023", "tokens": "/console/tokens",
                 "import": "/console/import", "report": "/console/report?fiscal_year=2023",
                 "users": "/console/users", "settings": "/console/settings", "password": "/console/password",
                 "log": "/console/log"}
        for name, path in pages.items():
            resp = page.goto(srv.base + path)
            assert resp.status == 200, (name, resp.status)
            check_page(page, name)
            shot(page, tmp_path, f"console-{name}-{size}.png")
        # the settings form sent back with a field error, then saved: the new name in the header
        page.goto(srv.base + "/console/settings")
        page.get_by_label("名称（必須）").fill("あいち電子自治体推進協議会")
        page.get_by_label("公開URL").fill('https://kyogikai.example.lg.jp/"x')
        page.get_by_label("ＭＳ 明朝・ＭＳ ゴシック").check()
        page.get_by_role("button", name="設定を記録する").click()
        page.wait_for_load_state()
        assert page.locator("#e-base_url").inner_text().startswith("公開URLに「\"」は使えません")
        assert page.get_by_label("公開URL").input_value() == 'https://kyogikai.example.lg.jp/"x'
        assert page.get_by_label("ＭＳ 明朝・ＭＳ ゴシック").is_checked()
        check_page(page, "settings-error")
        shot(page, tmp_path, f"console-settings-error-{size}.png")
        page.get_by_label("公開URL").fill("https://kyogikai.example.lg.jp")
        page.get_by_role("button", name="設定を記録する").click()
        page.wait_for_load_state()
        assert "協議会の設定を記録しました。" in page.locator("main").inner_text()
        assert page.locator("header h1").inner_text() == "あいち電子自治体推進協議会 事務局コンソール"
        check_page(page, "settings-saved")
        shot(page, tmp_path, f"console-settings-saved-{size}.png")
        ctx.close()
