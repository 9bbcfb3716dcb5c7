"""The console over real HTTP against a real ``kyogikai serve`` process, on SQLite and PostgreSQL.

Every refusal of the issue's "Prove" list is checked with the event log counted before and after:
anonymous GET and POST, a POST without (or with a wrong) CSRF token, a clerk on the users page, a
disabled user's open session, six wrong passwords.  Then the forms a clerk uses on a meeting.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time

import pytest

from kyogikai.accounts import Accounts
from kyogikai.app import Kyogikai

from .console_support import ADMIN_PW, CLERK_PW, Browser, count_events, setup_council
from .test_feeds_support import ServeProcess, free_port


def events(db: str) -> list:
    with Kyogikai(db, actor="test") as app:
        return [e for _, e in app.log()]


def schedule_form(csrf: str, **over: str) -> dict[str, str]:
    return {"csrf_token": csrf, "body": "幹事会", "ordinal": "1", "date": "令和8年5月20日", "format": "Web会議", **over}


def test_console_is_off_until_a_user_exists(db, tmp_path):
    setup_council(db, users=False)
    with ServeProcess(db, tmp_path / "serve.log") as srv:
        b = Browser(srv.base)
        for path in ("/console/login", "/console/", "/console/meetings/new", "/console/users"):
            assert b.get(path).status == 404, path
        assert b.post("/console/login", {"username": "x", "password": "y" * 12}).status == 404
        with Kyogikai(db, actor="鈴木") as app:
            Accounts(app).add("admin", "admin", ADMIN_PW)
        assert b.get("/console/login").status == 200


def test_refusals_write_nothing(db, tmp_path):
    setup_council(db)
    with ServeProcess(db, tmp_path / "serve.log") as srv:
        before = count_events(db)
        anon = Browser(srv.base)

        # anonymous GET: a redirect to the login page and nothing of the page
        r = anon.get("/console/meetings/new")
        assert r.status == 303 and r.headers["location"] == "/console/login?next=/console/meetings/new"
        assert r.text == ""
        for path in ("/console/", "/console/meetings", "/console/users", "/console/log"):
            r = anon.get(path)
            assert r.status == 303 and "幹事会" not in r.text, path
        # anonymous POST, with or without a token: 403
        assert anon.post("/console/meetings/new", schedule_form("x")).status == 403
        assert anon.post("/console/users/add", {"username": "eve", "role": "admin", "password": "p" * 20,
                                                "password2": "p" * 20}).status == 403

        # the login form itself needs its CSRF token
        page = anon.get("/console/login")
        assert page.status == 200
        assert anon.post("/console/login", {"username": "clerk", "password": CLERK_PW}).status == 403
        assert anon.post("/console/login", {"username": "clerk", "password": CLERK_PW,
                                            "csrf_token": "wrong" * 8}).status == 403
        assert "kyogikai_console" not in anon.cookies

        clerk = Browser(srv.base)
        r = clerk.login("ＣＬＥＲＫ", CLERK_PW)  # names are NFKC case-folded
        assert r.status == 303 and r.headers["location"] == "/console/"
        cookie = next(c for c in r.set_cookies if c.startswith("kyogikai_console="))
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
        assert "Path=/console" in cookie and "Secure" not in cookie
        form = clerk.get("/console/meetings/new")
        assert form.status == 200
        csrf = form.csrf()
        # POST without and with a wrong CSRF token: 403, nothing written
        data = schedule_form(csrf)
        del data["csrf_token"]
        assert clerk.post("/console/meetings/new", data).status == 403
        assert clerk.post("/console/meetings/new", schedule_form("A" * 43)).status == 403
        # a clerk on the users page: 403, also for its forms
        r = clerk.get("/console/users")
        assert r.status == 403 and "管理者だけ" in r.text and "admin" not in r.text.split("<main")[1].split("管理者だけ")[0]
        assert clerk.post("/console/users/add", {"csrf_token": csrf, "username": "eve", "role": "admin",
                                                 "password": "p" * 20, "password2": "p" * 20}).status == 403
        assert clerk.post("/console/users/admin/disable", {"csrf_token": csrf, "confirm": "yes"}).status == 403
        assert count_events(db) == before

        # six wrong passwords: each refused (the sixth by the limiter), then even the right one
        attacker = Browser(srv.base)
        statuses = []
        for _ in range(6):
            r = attacker.login("admin", "wrong-password-000")
            statuses.append(r.status)
            assert "kyogikai_console" not in attacker.cookies
        assert statuses == [401] * 5 + [429]
        assert "ログイン名またはパスワードが違います。" in attacker.login("nobody", "wrong-password-000").text  # same message
        r = attacker.login("admin", ADMIN_PW)
        assert r.status == 429 and "kyogikai_console" not in attacker.cookies
        assert count_events(db) == before

        # a disabled user's open session ends at once (disabled by an admin in another process)
        with Kyogikai(db, actor="鈴木") as app:
            Accounts(app).disable("clerk")
        after_disable = count_events(db)
        r = clerk.get("/console/meetings/new")
        assert r.status == 303 and r.headers["location"].startswith("/console/login")
        assert clerk.post("/console/meetings/new", schedule_form(csrf)).status == 403
        assert clerk.login("clerk", CLERK_PW).status == 401
        assert count_events(db) == after_disable
        assert not any(type(e).__name__ == "MeetingScheduled" for e in events(db))


def test_clerk_schedules_and_follows_a_meeting(db, tmp_path):
    setup_council(db)
    with ServeProcess(db, tmp_path / "serve.log") as srv:
        clerk = Browser(srv.base)
        assert clerk.login("clerk", CLERK_PW).status == 303
        page = clerk.get("/console/meetings/new")
        csrf = page.csrf()
        for header in ("x-content-type-options", "x-frame-options", "referrer-policy"):
            assert header in page.headers
        assert "form-action 'self'" in page.headers["content-security-policy"]
        assert "script-src" not in page.headers["content-security-policy"]
        assert page.headers["cache-control"] == "no-store"

        # field errors in Japanese, next to the field, with what was typed kept; nothing written
        before = count_events(db)
        r = clerk.post("/console/meetings/new", schedule_form(csrf, date="令和8年13月40日", format="テレパシー",
                                                               venue="県自治センター"))
        assert r.status == 400
        assert re.search(r'id="f-date" name="date" value="令和8年13月40日"[^>]*aria-invalid="true"', r.text)
        assert 'id="e-date">日付を読み取れません' in r.text and 'id="e-format">開催形式を読み取れません' in r.text
        assert 'value="県自治センター"' in r.text
        r = clerk.post("/console/meetings/new", schedule_form(csrf, body="監査会"))
        assert r.status == 400 and 'id="e-body">会議体「監査会」が見つかりません' in r.text
        assert count_events(db) == before

        # schedule on a Saturday: saved, with the weekend warning; the weekday shown
        r = clerk.post("/console/meetings/new", schedule_form(csrf, date="R8.5.23", start_time="14:00"))
        assert r.status == 303
        mid = r.headers["location"].split("/")[3].split("?")[0]
        page = clerk.get(r.headers["location"])
        assert "令和8年5月23日（土）" in page.text and "土曜日です（土日・祝日）" in page.text
        assert "第1回幹事会" in page.text
        scheduled = [e for e in events(db) if type(e).__name__ == "MeetingScheduled"]
        assert len(scheduled) == 1 and scheduled[0].actor == "clerk"
        # the same ordinal again: refused beside the field, in Japanese
        r = clerk.post("/console/meetings/new", schedule_form(csrf))
        assert r.status == 400 and 'id="e-ordinal">第1回幹事会（令和8年度）はすでに登録されています' in r.text

        # reschedule
        v = page.version()
        r = clerk.post(f"/console/meetings/{mid}/reschedule", {"csrf_token": csrf, "version": v,
                                                              "date": "令和8年5月27日", "reason": "会場の都合により"})
        assert r.status == 303, r.text
        page = clerk.get(f"/console/meetings/{mid}")
        assert "令和8年5月27日（水）" in page.text and "会場の都合により" in page.text

        # a stale form (someone else changed the meeting since the page was shown): nothing written, input kept
        stale_version = page.version()
        with Kyogikai(db, actor="別の担当者") as app:
            app.change_details(mid, venue="県庁西庁舎")
        before = count_events(db)
        r = clerk.post(f"/console/meetings/{mid}/reschedule", {"csrf_token": csrf, "version": stale_version,
                                                              "date": "令和8年6月3日"})
        assert r.status == 409 and "ほかの人がこの予定を変更しました" in r.text
        assert 'value="令和8年6月3日"' in r.text and "県庁西庁舎" in r.text
        assert count_events(db) == before
        v = r.version()

        # agenda, outcome, attendance, hold
        assert clerk.post(f"/console/meetings/{mid}/agenda", {"csrf_token": csrf, "version": v,
                                                             "agenda": "令和8年度事業計画について\n予算について"}).status == 303
        v = clerk.get(f"/console/meetings/{mid}").version()
        assert clerk.post(f"/console/meetings/{mid}/outcome", {"csrf_token": csrf, "version": v, "item": "1",
                                                              "outcome": "原案どおり承認"}).status == 303
        page = clerk.get(f"/console/meetings/{mid}")
        with Kyogikai(db, actor="test") as app:
            nagoya = app.member("名古屋市")["id"]
            toyohashi = app.member("豊橋市")["id"]
        r = clerk.post(f"/console/meetings/{mid}/attendance", {"csrf_token": csrf, "version": page.version(),
                                                              f"att_{nagoya}": "present", f"att_{toyohashi}": "absent"})
        assert r.status == 303
        page = clerk.get(f"/console/meetings/{mid}")
        assert "原案どおり承認" in page.text and "名古屋市: 出席" in page.text

        # cancel: a confirmation page first (nothing written), then cancelled; then reinstated
        before = count_events(db)
        r = clerk.post(f"/console/meetings/{mid}/cancel", {"csrf_token": csrf, "version": page.version(),
                                                          "reason": "議題なしのため"})
        assert r.status == 200 and "中止の確認" in r.text and 'name="confirm" value="yes"' in r.text
        assert count_events(db) == before
        r = clerk.post(f"/console/meetings/{mid}/cancel", {"csrf_token": csrf, "version": page.version(),
                                                          "reason": "議題なしのため", "confirm": "yes"})
        assert r.status == 303
        page = clerk.get(f"/console/meetings/{mid}")
        assert "中止" in page.text and "議題なしのため" in page.text
        # an action the domain refuses: its message in Japanese, nothing written
        before = count_events(db)
        r = clerk.post(f"/console/meetings/{mid}/agenda", {"csrf_token": csrf, "version": page.version(),
                                                          "agenda": "追加の議題"})
        assert r.status == 400 and "中止された予定は変更できません" in r.text
        assert count_events(db) == before
        assert clerk.post(f"/console/meetings/{mid}/reinstate", {"csrf_token": csrf,
                                                                "version": page.version()}).status == 303
        page = clerk.get(f"/console/meetings/{mid}")
        assert clerk.post(f"/console/meetings/{mid}/hold", {"csrf_token": csrf, "version": page.version(),
                                                           "date": ""}).status == 303
        page = clerk.get(f"/console/meetings/{mid}")
        assert "開催済" in page.text

        # every event of the meeting has the logged-in clerk (or the other clerk) as actor
        with Kyogikai(db, actor="test") as app:
            actors = {e.actor for e in app.history(mid)}
        assert actors == {"clerk", "別の担当者"}
        # history in JST on the page, the log page, the list
        assert "日本時間" in page.text
        log_page = clerk.get("/console/log")
        assert log_page.status == 200 and "MeetingCancelled" in log_page.text and "clerk" in log_page.text
        listing = clerk.get("/console/meetings?fiscal_year=令和8年度")
        assert listing.status == 200 and f"/console/meetings/{mid}" in listing.text
        assert clerk.get("/console/meetings?fiscal_year=xyz").status == 400

        # logout ends the session
        assert clerk.post("/console/logout", {"csrf_token": csrf}).status == 303
        assert clerk.get("/console/").status == 303


def test_admin_manages_users(db, tmp_path):
    setup_council(db)
    with ServeProcess(db, tmp_path / "serve.log") as srv:
        admin = Browser(srv.base)
        assert admin.login("admin", ADMIN_PW).status == 303
        page = admin.get("/console/users")
        assert page.status == 200 and "clerk" in page.text
        csrf = page.csrf()
        # a short password and a mismatch: errors beside the fields, nothing written
        before = count_events(db)
        r = admin.post("/console/users/add", {"csrf_token": csrf, "username": "tanaka", "role": "clerk",
                                              "password": "short", "password2": "short"})
        assert r.status == 400 and 'id="e-password">パスワードは12文字以上にしてください。' in r.text
        assert 'value="tanaka"' in r.text and "short" not in r.text.split("</style>")[1]
        r = admin.post("/console/users/add", {"csrf_token": csrf, "username": "tanaka", "role": "clerk",
                                              "password": "long-password-1", "password2": "long-password-2"})
        assert r.status == 400 and "一致しません" in r.text
        assert count_events(db) == before
        r = admin.post("/console/users/add", {"csrf_token": csrf, "username": "Tanaka", "role": "clerk",
                                              "password": "tanaka-password-1", "password2": "tanaka-password-1"})
        assert r.status == 303
        tanaka = Browser(srv.base)
        assert tanaka.login("TANAKA", "tanaka-password-1").status == 303
        tanaka_csrf = tanaka.get("/console/meetings/new").csrf()
        assert admin.post("/console/users/tanaka/role", {"csrf_token": csrf, "role": "admin"}).status == 303
        # disabling needs the confirmation box
        assert admin.post("/console/users/tanaka/disable", {"csrf_token": csrf}).status == 400
        assert admin.post("/console/users/tanaka/disable", {"csrf_token": csrf, "confirm": "yes"}).status == 303
        # tanaka's open session ended with the disabling (by an admin through the console)
        n = count_events(db)
        assert tanaka.get("/console/meetings/new").status == 303
        assert tanaka.post("/console/meetings/new", schedule_form(tanaka_csrf)).status == 403
        assert count_events(db) == n
        # an admin sets a clerk's password: the clerk's old password stops working
        r = admin.post("/console/users/clerk/password", {"csrf_token": csrf, "password": "clerk-new-password-1",
                                                         "password2": "clerk-new-password-2"})
        assert r.status == 400 and "一致しません" in r.text
        assert admin.post("/console/users/clerk/password", {"csrf_token": csrf, "password": "clerk-new-password-1",
                                                            "password2": "clerk-new-password-1"}).status == 303
        assert Browser(srv.base).login("clerk", CLERK_PW).status == 401
        assert Browser(srv.base).login("clerk", "clerk-new-password-1").status == 303
        r = admin.post("/console/users/admin/role", {"csrf_token": csrf, "role": "clerk"})
        assert r.status == 400 and "最後の管理者" in r.text
        acct = [e for e in events(db) if type(e).__name__.startswith("User")]
        assert [(type(e).__name__, e.name, e.actor) for e in acct[-3:]] == [
            ("UserAdded", "tanaka", "admin"), ("UserRoleChanged", "tanaka", "admin"), ("UserDisabled", "tanaka", "admin")]
        page = admin.get("/console/users")
        assert "tanaka を無効化" in page.text
        # no password or hash anywhere in the log
        with Kyogikai(db, actor="test") as app:
            dump = repr([e.payload() for _, e in app.log()])
        assert "argon2" not in dump and "tanaka-password" not in dump


def test_secure_cookie_on_https_and_serve_warning(db, tmp_path):
    from kyogikai.web import create_app
    from kyogikai.web.console import routes

    from .test_feeds_support import ThreadServer

    setup_council(db)
    app = create_app(lambda: Kyogikai(db, actor="web"), base_url="https://kyogikai.example.lg.jp", extra_routes=routes)
    with ThreadServer(app) as srv:
        b = Browser(srv.base)
        r = b.login("admin", ADMIN_PW)
        assert r.status == 303
        cookie = next(c for c in r.set_cookies if c.startswith("kyogikai_console="))
        assert "Secure" in cookie and "HttpOnly" in cookie
        assert "strict-transport-security" in b.get("/console/").headers

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "kyogikai", "--db", db, "serve", "--host", "0.0.0.0",
                             "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline, out = time.time() + 30, b""
        while time.time() < deadline and b"travel in clear" not in out:
            line = proc.stdout.readline()
            if not line:
                break
            out += line
        assert b"passwords and session cookies would travel in clear" in out
    finally:
        proc.terminate()
        proc.wait(15)


def test_oversized_and_unsized_bodies_are_refused_unread(sqlite_url, tmp_path):
    import http.client
    from urllib.parse import urlsplit

    setup_council(sqlite_url)
    with ServeProcess(sqlite_url, tmp_path / "serve.log") as srv:
        u = urlsplit(srv.base)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        conn.putrequest("POST", "/console/login")
        conn.putheader("Content-Type", "application/x-www-form-urlencoded")
        conn.putheader("Content-Length", str(50_000_000))
        conn.endheaders()
        conn.send(b"username=a&password=b")
        assert conn.getresponse().status == 413
        conn.close()
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        conn.request("POST", "/console/login", body=iter([b"username=a&", b"password=b"]),
                     headers={"Content-Type": "application/x-www-form-urlencoded", "Transfer-Encoding": "chunked"},
                     encode_chunked=True)
        assert conn.getresponse().status == 411
        conn.close()
        assert Browser(srv.base).get("/console/login").status == 200


def test_two_servers_two_clerks_one_meeting(db, tmp_path):
    """Two clerks on two server processes reschedule the same meeting at the same moment, again and
    again: each time one change is saved and the other comes back with a clear message and its
    input; never two saves from one page."""
    import threading

    setup_council(db)
    with Kyogikai(db, actor="鈴木") as app:
        Accounts(app).add("clerk2", "clerk", "clerk2-password-789")
    with ServeProcess(db, tmp_path / "a.log") as a, ServeProcess(db, tmp_path / "b.log") as b2:
        one, two = Browser(a.base), Browser(b2.base)
        assert one.login("clerk", CLERK_PW).status == 303
        assert two.login("clerk2", "clerk2-password-789").status == 303
        csrf1 = one.get("/console/meetings/new").csrf()
        csrf2 = two.get("/console/meetings/new").csrf()
        r = one.post("/console/meetings/new", schedule_form(csrf1))
        mid = r.headers["location"].split("/")[3].split("?")[0]
        for round_ in range(4):
            v = one.get(f"/console/meetings/{mid}").version()
            assert two.get(f"/console/meetings/{mid}").version() == v
            before = count_events(db)
            answers: dict[str, object] = {}
            go = threading.Barrier(2)

            def send(name: str, browser: Browser, csrf: str, day: int) -> None:
                go.wait()
                answers[name] = browser.post(f"/console/meetings/{mid}/reschedule",
                                             {"csrf_token": csrf, "version": v, "date": f"令和8年6月{day}日"})
            t = [threading.Thread(target=send, args=("one", one, csrf1, 10 + 2 * round_)),
                 threading.Thread(target=send, args=("two", two, csrf2, 11 + 2 * round_))]
            for x in t:
                x.start()
            for x in t:
                x.join(60)
            statuses = sorted(ans.status for ans in answers.values())
            assert statuses == [303, 409], statuses
            loser = next(ans for ans in answers.values() if ans.status == 409)
            assert "ほかの人" in loser.text and "何も保存されていません" in loser.text
            assert re.search(r'value="令和8年6月\d+日"', loser.text)
            assert count_events(db) == before + 1


def test_change_form_shows_the_current_details(sqlite_url, tmp_path):
    setup_council(sqlite_url)
    with ServeProcess(sqlite_url, tmp_path / "serve.log") as srv:
        b = Browser(srv.base)
        assert b.login("clerk", CLERK_PW).status == 303
        csrf = b.get("/console/meetings/new").csrf()
        r = b.post("/console/meetings/new", schedule_form(csrf, venue="県自治センター", format="書面審議",
                                                           date="令和8年5月20日～5月29日"))
        mid = r.headers["location"].split("/")[3].split("?")[0]
        page = b.get(f"/console/meetings/{mid}")
        assert 'id="change-f-venue" name="venue" value="県自治センター"' in page.text
        assert 'id="change-f-format" name="format" value="書面審議"' in page.text
        # only the venue typed anew: only the venue changes
        r = b.post(f"/console/meetings/{mid}/change", {"csrf_token": csrf, "version": page.version(),
                                                       "title": "", "format": "書面審議", "venue": "県庁本庁舎"})
        assert r.status == 303
        with Kyogikai(sqlite_url, actor="t") as app:
            last = app.history(mid)[-1]
        assert type(last).__name__ == "MeetingDetailsChanged" and last.changed == ["venue"] and last.actor == "clerk"
        page = b.get(f"/console/meetings/{mid}")
        r = b.post(f"/console/meetings/{mid}/change", {"csrf_token": csrf, "version": page.version(),
                                                       "format": "書面審議", "venue": "県庁本庁舎"})
        assert r.status == 400 and "変更点がありません。" in r.text


def council_events(db: str) -> list:
    return [e for e in events(db) if type(e).__name__ == "CouncilSettingsChanged"]


def test_admin_sets_the_council_settings(db, tmp_path):
    """``/console/settings``: the same command as ``council set``; the public page and feeds follow;
    a clerk, a missing CSRF token, a bad base URL and an empty name write nothing."""
    name = "あいち電子自治体推進協議会"
    setup_council(db)
    with ServeProcess(db, tmp_path / "serve.log") as srv:
        anon = Browser(srv.base)
        r = anon.get("/console/settings")
        assert r.status == 303 and r.headers["location"] == "/console/login?next=/console/settings" and r.text == ""
        assert anon.post("/console/settings", {"name": name, "version": "0"}).status == 403

        # a clerk: 403 on GET and POST, no link in the menu, nothing written
        clerk = Browser(srv.base)
        assert clerk.login("clerk", CLERK_PW).status == 303
        home = clerk.get("/console/")
        assert "/console/settings" not in home.text
        clerk_csrf = home.csrf()
        r = clerk.get("/console/settings")
        assert r.status == 403 and "管理者だけ" in r.text and 'name="base_url"' not in r.text
        before = count_events(db)
        assert clerk.post("/console/settings", {"csrf_token": clerk_csrf, "version": "0", "name": name,
                                                "document_font": "yu"}).status == 403
        assert count_events(db) == before and council_events(db) == []

        admin = Browser(srv.base)
        assert admin.login("admin", ADMIN_PW).status == 303
        assert 'href="/console/settings"' in admin.get("/console/").text
        page = admin.get("/console/settings")
        assert page.status == 200 and "協議会の設定" in page.text and "まだ設定は記録されていません" in page.text
        csrf, version = page.csrf(), page.version()
        assert version == "0"
        for label in ('for="f-name"', 'for="f-short_name"', 'for="f-base_url"'):
            assert label in page.text

        def form(**over: str) -> dict[str, str]:
            return {"csrf_token": csrf, "version": version, "name": name, "short_name": "推進協議会",
                    "base_url": "https://kyogikai.example.lg.jp", "document_font": "ms", **over}

        # without (or with a wrong) CSRF token: 403, nothing written
        no_token = form()
        del no_token["csrf_token"]
        assert admin.post("/console/settings", no_token).status == 403
        assert admin.post("/console/settings", form(csrf_token="A" * 43)).status == 403
        assert count_events(db) == before

        # a base URL with a quote, an empty name: beside the field in Japanese, the input kept
        r = admin.post("/console/settings", form(base_url='https://kyogikai.example.lg.jp/"x'))
        assert r.status == 400
        assert re.search(r'id="f-base_url" name="base_url" value="https://kyogikai.example.lg.jp/&#34;x"[^>]*'
                         r'aria-invalid="true"', r.text), r.text
        assert 'id="e-base_url">公開URLに「&#34;」は使えません' in r.text
        assert f'value="{name}"' in r.text and 'value="推進協議会"' in r.text
        r = admin.post("/console/settings", form(name="　"))
        assert r.status == 400 and 'id="e-name">協議会の名称を入力してください。' in r.text
        assert 'value="https://kyogikai.example.lg.jp"' in r.text
        r = admin.post("/console/settings", form(base_url="ftp://kyogikai.example.lg.jp"))
        assert r.status == 400 and 'id="e-base_url">公開URLは http:// か https:// で始まり' in r.text
        assert count_events(db) == before and council_events(db) == []

        # saved: one event by the admin, through the same command as ``council set``
        r = admin.post("/console/settings", form())
        assert r.status == 303 and r.headers["location"] == "/console/settings?done=saved"
        assert count_events(db) == before + 1
        [e] = council_events(db)
        assert (e.actor, e.name, e.short_name, e.base_url, e.document_font) == (
            "admin", name, "推進協議会", "https://kyogikai.example.lg.jp", "ms")
        with Kyogikai(db, actor="test") as app:
            assert app.council()["name"] == name
        page = admin.get("/console/settings?done=saved")
        assert "協議会の設定を記録しました。" in page.text and f"<h1><a href=\"/console/\">{name} 事務局コンソール" in page.text
        history = page.text.split('id="history"')[1]
        assert "admin" in history and "ＭＳ 明朝・ＭＳ ゴシック" in history and "（日本時間）" in page.text

        # the public page and the feeds show the new name
        index = anon.get("/")
        assert index.status == 200 and f"<title>会議・行事予定｜{name}</title>" in index.text
        feed = anon.get("/feeds/all.ics")
        assert feed.status == 200 and f"X-WR-CALNAME:{name} 全体予定" in feed.text.replace("\r\n ", "")

        # the same settings again: nothing written; emptied short name and base URL: cleared
        r = admin.post("/console/settings", form(version=page.version()))
        assert r.status == 303 and r.headers["location"].endswith("done=unchanged")
        assert count_events(db) == before + 1
        r = admin.post("/console/settings", form(version=page.version(), short_name="", base_url="",
                                                 document_font="yu"))
        assert r.status == 303
        last = council_events(db)[-1]
        assert (last.name, last.short_name, last.base_url, last.document_font) == (name, None, None, "yu")

        # a stale form (settings changed through the CLI since): nothing written, the input kept
        page = admin.get("/console/settings")
        with Kyogikai(db, actor="事務局B") as app:
            app.set_council(name="別の協議会")
        n = count_events(db)
        r = admin.post("/console/settings", form(version=page.version(), name="三つ目の名称"))
        assert r.status == 409 and "ほかの人が協議会の設定を変更しました" in r.text
        assert 'value="三つ目の名称"' in r.text and "別の協議会" in r.text
        assert count_events(db) == n


def test_a_user_changes_their_own_password(db, tmp_path):
    """``/console/password``: current password, the new one twice; other sessions end, this one stays;
    no event is written (passwords are not events)."""
    setup_council(db)
    with ServeProcess(db, tmp_path / "serve.log") as srv:
        anon = Browser(srv.base)
        r = anon.get("/console/password")
        assert r.status == 303 and r.headers["location"] == "/console/login?next=/console/password"
        here, elsewhere = Browser(srv.base), Browser(srv.base)
        assert here.login("clerk", CLERK_PW).status == 303
        assert elsewhere.login("clerk", CLERK_PW).status == 303
        page = here.get("/console/password")
        assert page.status == 200 and 'href="/console/password"' in page.text
        assert 'autocomplete="current-password"' in page.text
        csrf = page.csrf()
        new = "clerk-new-password-789"
        before = count_events(db)

        def form(**over: str) -> dict[str, str]:
            return {"csrf_token": csrf, "current_password": CLERK_PW, "password": new, "password2": new, **over}

        # refused: no CSRF token, a wrong current password, a mismatch, too short — nothing changes
        no_token = form()
        del no_token["csrf_token"]
        assert here.post("/console/password", no_token).status == 403
        r = here.post("/console/password", form(current_password="wrong-password-000"))
        assert r.status == 400 and 'id="e-current_password">現在のパスワードが違います。' in r.text
        assert "wrong-password-000" not in r.text and new not in r.text
        r = here.post("/console/password", form(password2=new + "x"))
        assert r.status == 400 and 'id="e-password2">確認用のパスワードが一致しません。' in r.text
        r = here.post("/console/password", form(password="short-pw", password2="short-pw"))
        assert r.status == 400 and 'id="e-password">パスワードは12文字以上にしてください。' in r.text
        assert elsewhere.get("/console/").status == 200
        assert Browser(srv.base).login("clerk", CLERK_PW).status == 303

        # changed: this session stays, the other one ends; the old password no longer works
        r = here.post("/console/password", form())
        assert r.status == 303 and r.headers["location"] == "/console/password?done=changed"
        assert "パスワードを変更しました。" in here.get("/console/password?done=changed").text
        assert here.get("/console/").status == 200
        r = elsewhere.get("/console/")
        assert r.status == 303 and r.headers["location"].startswith("/console/login")
        assert Browser(srv.base).login("clerk", CLERK_PW).status == 401
        assert Browser(srv.base).login("clerk", new).status == 303
        assert count_events(db) == before
        from kyogikai.accounts import CREDENTIALS

        with Kyogikai(db, actor="test") as app:
            dump = repr([e.payload() for _, e in app.log()])
            acc = Accounts(app)
            with acc._rows(write=False) as rows:
                stored = rows.get(CREDENTIALS, "clerk")
        assert stored["hash"].startswith("$argon2id$") and new not in dump

        # wrong current passwords count towards the login limit of the name (reset by the login above)
        for _ in range(5):
            assert here.post("/console/password", form(current_password="wrong-password-000",
                                                       password="another-password-1",
                                                       password2="another-password-1")).status == 400
        r = here.post("/console/password", form(current_password=new, password="another-password-1",
                                                password2="another-password-1"))
        assert r.status == 400 and "しばらく変更できません" in r.text
        assert Browser(srv.base).login("clerk", new).status == 429
