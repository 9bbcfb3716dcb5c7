"""Issue 12: the member's answer page through the real server (uvicorn), on SQLite and PostgreSQL,
and in headless Chromium (Debian's chromium driven by playwright, as tests/test_web_browser.py)."""

from __future__ import annotations

import re
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest

from kyogikai.app import Kyogikai
from kyogikai.feeds import FeedService
from kyogikai.web import create_app
from kyogikai.web.answers import csrf_token, routes

from .conftest import CLI
from .test_answers import count_events, day, setup
from .test_feeds_support import ThreadServer, fetch, need
from .test_web_browser import ARGS, CHROMIUM, shot


def post(url: str, fields: dict[str, str], headers: dict[str, str] | None = None):
    u = urlsplit(url)
    conn = HTTPConnection(u.hostname, u.port, timeout=30)
    try:
        conn.request("POST", u.path, body=urlencode(fields).encode(),
                     headers={"Content-Type": "application/x-www-form-urlencoded", **(headers or {})})
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read().decode("utf-8", "replace")
    finally:
        conn.close()


def start(db: str):
    cli = CLI(db)
    ids = setup(cli)
    late = cli("meeting", "schedule", "--body", "幹事会", "--date", day(5), "--format", "web", "--answer-by", day(-1)).out
    ids["late"] = late.rsplit("(id ", 1)[1][:8]
    with Kyogikai(db, actor="事務局A") as k:
        full = {name: k.meeting_row(i)["id"] for name, i in ids.items()}
        svc = FeedService(k, "http://x")
        tokens = {"名古屋市": svc.issue_token("名古屋市").token, "瀬戸市": svc.issue_token("瀬戸市").token,
                  "岡崎市": svc.issue_token("岡崎市").token}
        svc.revoke_token(svc.tokens("岡崎市")[0]["id"][:8], "担当者異動")
    app = lambda base: create_app(lambda: Kyogikai(db, actor="web"), base_url=base, extra_routes=routes)  # noqa: E731
    return cli, full, tokens, app


def test_member_page_and_post_through_the_server(db: str) -> None:
    cli, ids, tokens, app = start(db)
    t = tokens["名古屋市"]
    with ThreadServer(app) as srv:
        page = fetch(f"{srv.base}/private/{t}/")
        assert page.status == 200
        assert page.headers["cache-control"] == "private, no-store"
        assert page.headers["x-robots-tag"].startswith("noindex")
        assert "form-action 'self'" in page.headers["content-security-policy"]
        html = page.text
        assert "名古屋市 出欠回答・書面表決" in html and "<script" not in html
        assert f'value="{csrf_token(t)}"' in html
        assert ids["web"] in html and ids["written"] in html and ids["past"] not in html
        assert "回答期限" in html and "未回答" in html

        url = f"{srv.base}/private/{t}/answers"
        ok = {"csrf_token": csrf_token(t), "meeting": ids["web"], "answer": "proxy", "proxy": "情報政策課 佐藤",
              "comment": "資料は紙でお願いします"}
        before = count_events(db)
        status, headers, _ = post(url, ok, {"Sec-Fetch-Site": "same-origin", "Origin": "null"})
        assert status == 303 and headers["location"].startswith(f"{srv.base}/private/{t}/?saved=answer")
        assert count_events(db) == before + 1
        done = fetch(headers["location"].split("#")[0]).text
        assert "回答を受け付けました" in done and "代理出席者：情報政策課 佐藤" in done
        row = next(r for r in cli("meeting", "answers", ids["web"][:8], "--json").json()["rows"] if r["member"] == "名古屋市")
        assert (row["answer"], row["proxy"], row["comment"]) == ("proxy", "情報政策課 佐藤", "資料は紙でお願いします")
        assert row["answered_by"].startswith("名古屋市（専用リンク ") and t not in row["answered_by"]
        # the same answer again writes nothing and says so
        status, headers, _ = post(url, ok)
        assert status == 303 and "saved=same" in headers["location"] and count_events(db) == before + 1

        # a written vote through the page: one transaction for the items sent
        status, headers, _ = post(url, {"csrf_token": csrf_token(t), "meeting": ids["written"], "kind": "vote",
                                        "vote_1": "for", "vote_2": "against"})
        assert status == 303 and "saved=vote" in headers["location"]
        assert count_events(db) == before + 3

        # refused, nothing written: each with a Japanese message
        before = count_events(db)
        refused = [
            ({**ok, "csrf_token": ""}, {}, 403, "受け付けられません"),
            ({**ok, "csrf_token": csrf_token(tokens["瀬戸市"])}, {}, 403, "受け付けられません"),
            (ok, {"Sec-Fetch-Site": "cross-site"}, 403, "受け付けられません"),
            (ok, {"Origin": "https://evil.example"}, 403, "受け付けられません"),
            ({**ok, "meeting": "00000000-0000-0000-0000-000000000000"}, {}, 400, "指定された会議は見つかりません"),
            ({**ok, "meeting": "not-an-id"}, {}, 400, "会議の指定が正しくありません"),
            ({**ok, "answer": "maybe"}, {}, 400, "出欠を選択してください"),
            ({**ok, "proxy": ""}, {}, 400, "代理出席者の氏名を入力してください"),
            ({**ok, "answer": "present"}, {}, 400, "「代理出席」のときだけ"),
            ({**ok, "comment": "x" * 501}, {}, 400, "500文字以内"),
            ({**ok, "comment": "a\x00b"}, {}, 400, "使用できない文字"),
            ({**ok, "meeting": ids["late"], "proxy": "山田"}, {}, 400, "回答期限"),
            ({**ok, "meeting": ids["past"]}, {}, 400, "開催日を過ぎた"),
            ({**ok, "meeting": ids["written"]}, {}, 400, "書面開催の会議です"),
            ({"csrf_token": csrf_token(t), "meeting": ids["web"], "vote_1": "for"}, {}, 400, "書面開催ではない"),
            ({"csrf_token": csrf_token(t), "meeting": ids["written"], "vote_9": "for"}, {}, 400, "指定された議案はありません"),
            ({"csrf_token": csrf_token(t), "meeting": ids["written"], "kind": "vote"}, {}, 400, "賛否を選択してください"),
        ]
        for fields, extra, code, message in refused:
            status, _, body = post(url, fields, extra)
            assert status == code, (fields, extra, status, body[:300])
            assert message in body, (fields, message)
        # a member not on the roster: refused with a clear message
        s = tokens["瀬戸市"]
        status, _, body = post(f"{srv.base}/private/{s}/answers", {**ok, "csrf_token": csrf_token(s)})
        assert status == 400 and "構成団体ではない" in body
        assert "回答を受け付けている会議はありません" in fetch(f"{srv.base}/private/{s}/").text
        # a revoked link (and a malformed or unknown one) answers nothing: 404
        r = tokens["岡崎市"]
        assert fetch(f"{srv.base}/private/{r}/").status == 404
        status, headers, _ = post(f"{srv.base}/private/{r}/answers", {**ok, "csrf_token": csrf_token(r)})
        assert status == 404 and headers["cache-control"] == "private, no-store"
        assert post(f"{srv.base}/private/{'x' * 43}/answers", ok)[0] == 404
        assert count_events(db) == before

        # the member's private feed shows its own answer; nobody else's; the public feed shows none
        cli("meeting", "answer", ids["web"][:8], "--member", "豊橋市", "--answer", "absent", "--comment", "他用のため")
        feed = fetch(f"{srv.base}/private/{t}/calendar.ics").body.decode().replace("\r\n ", "")
        assert "貴団体の回答：代理出席（情報政策課 佐藤）（資料は紙でお願いします）" in feed
        assert "貴団体の書面表決：議案1 賛成、議案2 反対" in feed
        assert "他用のため" not in feed and "欠席" not in feed
        with Kyogikai(db, actor="t") as k:
            member_id = k.member("名古屋市")["id"]
        public = fetch(f"{srv.base}/feeds/member/{member_id}.ics").body.decode().replace("\r\n ", "")
        assert "貴団体の回答" not in public and "佐藤" not in public


@pytest.fixture(scope="module")
def browser():
    need(Path(CHROMIUM).exists(), f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        need(False, "playwright is not installed (pip install '.[test]')")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def test_member_answers_in_chromium_on_a_phone(browser, tmp_path: Path) -> None:
    db = str(tmp_path / "k.sqlite")
    cli, ids, tokens, app = start(db)
    t = tokens["名古屋市"]
    with ThreadServer(app) as srv:
        page = browser.new_page(viewport={"width": 390, "height": 844}, locale="ja-JP", java_script_enabled=False)
        foreign: list[str] = []

        def route(r):
            if r.request.url.startswith(srv.base + "/") or r.request.url.startswith("data:"):
                r.continue_()
            else:
                foreign.append(r.request.url)
                r.abort()
        page.route("**/*", route)
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(f"{srv.base}/private/{t}/")
        assert page.title() == "名古屋市 出欠回答・書面表決｜協議会"
        # usable on a phone: nothing wider than the screen
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        card = page.locator(f"#m-{ids['web']}")
        card.get_by_label("代理出席", exact=True).check()
        card.get_by_label("代理出席者の氏名・職（代理出席の場合）").fill("情報政策課 佐藤")
        card.get_by_label("連絡事項（任意）").fill("<b>資料</b>は紙で")
        card.get_by_role("button", name="回答する").click()
        page.wait_for_load_state()
        assert "saved=answer" in page.url
        assert page.locator("p.notice").inner_text() == "回答を受け付けました。内容は下の「現在の回答」でご確認ください。"
        card = page.locator(f"#m-{ids['web']}")
        assert "現在の回答：代理出席（代理出席者：情報政策課 佐藤）" in card.inner_text()
        assert "<b>資料</b>は紙で" in card.inner_text()  # injected markup stays text
        assert card.get_by_role("button", name="回答を変更する").count() == 1
        # the written deliberation: vote per item
        written = page.locator(f"#m-{ids['written']}")
        written.locator("fieldset").nth(0).get_by_label("賛成").check()
        written.locator("fieldset").nth(1).get_by_label("棄権").check()
        written.get_by_role("button", name="表決を送信する").click()
        page.wait_for_load_state()
        assert page.locator("p.notice").inner_text().startswith("表決を受け付けました")
        assert "現在の表決：賛成" in page.locator(f"#m-{ids['written']}").inner_text()
        # the meeting past its deadline shows no form
        late = page.locator(f"#m-{ids['late']}")
        assert "期限を過ぎました" in late.inner_text() and late.locator("form").count() == 0
        # an error is shown in Japanese on the page, with 400
        card = page.locator(f"#m-{ids['web']}")
        card.get_by_label("代理出席者の氏名・職（代理出席の場合）").fill("")
        with page.expect_response(lambda r: r.url.endswith("/answers")) as resp:
            card.get_by_role("button", name="回答を変更する").click()
        assert resp.value.status == 400
        assert page.locator("p.error").inner_text() == "第1回幹事会：代理出席の場合は、代理出席者の氏名を入力してください。"
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        shot(page, tmp_path, "answers-member-error-390.png")
        page.goto(f"{srv.base}/private/{t}/?saved=answer")
        path = shot(page, tmp_path, "answers-member-390.png")
        assert path.exists()
        # the only console error is the deliberate 400 above (no CSP violation, nothing else)
        assert foreign == [] and errors == ["Failed to load resource: the server responded with a status of 400 (Bad Request)"]
        rows = cli("meeting", "answers", ids["written"][:8], "--json").json()
        assert [(i["for"], i["abstain"]) for i in rows["items"]] == [(1, 0), (0, 1)]
        page.close()


def test_kyogikai_serve_has_the_answer_page(tmp_path: Path) -> None:
    """The real ``kyogikai serve`` process routes the member's page and its POST."""
    from .test_feeds_support import ServeProcess

    db = str(tmp_path / "k.sqlite")
    cli, ids, tokens, _ = start(db)
    t = tokens["名古屋市"]
    with ServeProcess(db, tmp_path / "serve.log") as srv:
        assert fetch(f"{srv.base}/private/{t}/").status == 200
        status, headers, _ = post(f"{srv.base}/private/{t}/answers",
                                  {"csrf_token": csrf_token(t), "meeting": ids["web"], "answer": "absent"})
        assert status == 303
    assert t not in (tmp_path / "serve.log").read_text()  # the request log redacts the token
    rows = cli("meeting", "answers", ids["web"][:8], "--json").json()["rows"]
    assert next(r for r in rows if r["member"] == "名古屋市")["answer"] == "absent"
