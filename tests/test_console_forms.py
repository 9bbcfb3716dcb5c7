"""Console forms beyond meetings, over real HTTP against ``kyogikai serve``: the report's narratives,
the annual report (view, four downloads, as of a day)."""

from __future__ import annotations

import datetime as dt
import re
import io
import zipfile

from kyogikai.app import Kyogikai
from kyogikai.dates import Period
from kyogikai.domain.formats import Format

from .console_support import CLERK_PW, Browser, count_events, setup_council
from .test_feeds_support import ServeProcess


def test_narratives_and_report(db, tmp_path):
    setup_council(db)
    with Kyogikai(db, actor="鈴木") as app:
        app.schedule(body="幹事会", period=Period(dt.date(2023, 5, 24), dt.date(2023, 5, 24)), ordinal=1,
                     format=Format.WEB, format_label=None)
    with ServeProcess(db, tmp_path / "serve.log") as srv:
        b = Browser(srv.base)
        assert b.login("clerk", CLERK_PW).status == 303
        listing = b.get("/console/narratives?fiscal_year=令和5年度")
        assert listing.status == 200 and "幹事会 の文章を書く" in listing.text
        page = b.get("/console/narratives/edit?fiscal_year=2023&target=body&name=幹事会")
        assert page.status == 200
        csrf, version = page.csrf(), page.version()
        before = count_events(db)
        # unknown body: beside the name field, in Japanese, the text kept
        r = b.post("/console/narratives/edit", {"csrf_token": csrf, "version": version, "fiscal_year": "令和5年度",
                                                "target": "body", "name": "監査会", "text": "本文です。"})
        assert r.status == 400 and 'id="e-name">会議体「監査会」が見つかりません' in r.text and "本文です。" in r.text
        assert count_events(db) == before
        r = b.post("/console/narratives/edit", {"csrf_token": csrf, "version": version, "fiscal_year": "令和5年度",
                                                "target": "body", "name": "幹事会",
                                                "text": "幹事会を1回開催した。\r\n\r\n次年度の計画を審議した。"})
        assert r.status == 303
        with Kyogikai(db, actor="t") as app:
            written = [e for _, e in app.log() if type(e).__name__ == "NarrativeWritten"]
        assert written[-1].paragraphs == ["幹事会を1回開催した。", "次年度の計画を審議した。"]
        assert written[-1].actor == "clerk"
        # the same form again (stale version): refused, input kept, nothing written
        before = count_events(db)
        r = b.post("/console/narratives/edit", {"csrf_token": csrf, "version": version, "fiscal_year": "令和5年度",
                                                "target": "body", "name": "幹事会", "text": "別の文章。"})
        assert r.status == 409 and "ほかの人がこの文章を変更しました" in r.text and "別の文章。" in r.text
        assert count_events(db) == before

        # the report: view and the four downloads; as of a day before the narrative it lacks it
        page = b.get("/console/report?fiscal_year=令和5年度")
        assert page.status == 200 and "幹事会を1回開催した。" in page.text and "第1回幹事会（令和5年5月24日" in page.text
        for fmt, ctype, needle in [("text", "text/plain", "幹事会を1回開催した。"),
                                   ("markdown", "text/markdown", "幹事会を1回開催した。"),
                                   ("html", "text/html", "幹事会を1回開催した。")]:
            r = b.get(f"/console/report/download?fiscal_year=2023&format={fmt}")
            assert r.status == 200 and r.headers["content-type"].startswith(ctype) and needle in r.text
            assert r.headers["content-disposition"].startswith("attachment; filename=\"report-fy2023.")
        r = b.request("GET", "/console/report/download?fiscal_year=2023&format=docx")
        assert r.status == 200 and "wordprocessingml" in r.headers["content-type"]
        yesterday = (dt.datetime.now(dt.timezone(dt.timedelta(hours=9))).date() - dt.timedelta(days=1)).isoformat()
        r = b.get(f"/console/report?fiscal_year=2023&as_of={yesterday}")
        assert r.status == 200 and "幹事会を1回開催した。" not in r.text and "時点" in r.text
        assert b.get("/console/report?fiscal_year=xx").status == 400
        assert b.get("/console/report/download?fiscal_year=2023&format=pdf").status == 400
        # anonymous: no report
        assert Browser(srv.base).get("/console/report/download?fiscal_year=2023&format=text").status == 303


def test_docx_download_is_a_word_file(sqlite_url, tmp_path):
    setup_council(sqlite_url)
    with ServeProcess(sqlite_url, tmp_path / "serve.log") as srv:
        b = Browser(srv.base)
        assert b.login("clerk", CLERK_PW).status == 303
        import http.client
        from urllib.parse import urlsplit

        u = urlsplit(srv.base)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
        conn.request("GET", "/console/report/download?fiscal_year=2023&format=docx",
                     headers={"Cookie": "; ".join(f"{k}={v}" for k, v in b.cookies.items())})
        data = conn.getresponse().read()
        assert "word/document.xml" in zipfile.ZipFile(io.BytesIO(data)).namelist()


def test_private_feed_tokens(db, tmp_path):
    import re

    setup_council(db)
    with ServeProcess(db, tmp_path / "serve.log") as srv:
        b = Browser(srv.base)
        assert b.login("clerk", CLERK_PW).status == 303
        page = b.get("/console/tokens")
        assert page.status == 200
        csrf = page.csrf()
        before = count_events(db)
        r = b.post("/console/tokens/issue", {"csrf_token": csrf, "member": "名古屋", "label": "総務課"})
        assert r.status == 400 and 'id="e-member">会員団体「名古屋」が見つかりません' in r.text and 'value="総務課"' in r.text
        assert count_events(db) == before
        r = b.post("/console/tokens/issue", {"csrf_token": csrf, "member": "名古屋市", "label": "総務課"})
        assert r.status == 200 and "今だけ表示されます" in r.text and r.headers["cache-control"] == "no-store"
        url = re.search(r'id="issued-url">([^<]+)<', r.text).group(1)
        assert url.startswith(srv.base + "/private/") and url.endswith("/calendar.ics")
        feed = Browser(srv.base).get(url[len(srv.base):])
        assert feed.status == 200 and "BEGIN:VCALENDAR" in feed.text
        # shown once: the list never holds the secret
        token = url.split("/")[-2]
        listing = b.get("/console/tokens")
        assert token not in listing.text and "名古屋市" in listing.text and "総務課" in listing.text
        with Kyogikai(db, actor="t") as app:
            issued = [e for _, e in app.log() if type(e).__name__ == "FeedTokenIssued"]
        assert issued[-1].actor == "clerk"
        tid = str(issued[-1].originator_id)
        # revoking needs the confirmation box
        assert b.post(f"/console/tokens/{tid}/revoke", {"csrf_token": csrf, "reason": "異動"}).status == 400
        assert b.post(f"/console/tokens/{tid}/revoke", {"csrf_token": csrf, "reason": "異動",
                                                        "confirm": "yes"}).status == 303
        assert Browser(srv.base).get(url[len(srv.base):]).status == 404
        r = b.post(f"/console/tokens/{tid}/revoke", {"csrf_token": csrf, "confirm": "yes"})
        assert r.status == 400 and "すでに無効です" in r.text


def test_programmes_bodies_members_and_rosters(db, tmp_path):
    import re

    setup_council(db)
    with ServeProcess(db, tmp_path / "serve.log") as srv:
        b = Browser(srv.base)
        assert b.login("clerk", CLERK_PW).status == 303
        page = b.get("/console/organisation")
        assert page.status == 200 and "会議運営" in page.text and "幹事会" in page.text
        csrf = page.csrf()
        before = count_events(db)
        # errors beside their fields, nothing written
        r = b.post("/console/programmes/new", {"csrf_token": csrf, "name": "会議運営", "section": "all", "order": "2"})
        assert r.status == 400 and 'id="programme-e-name">事業「会議運営」はすでにあります。' in r.text
        r = b.post("/console/programmes/new", {"csrf_token": csrf, "name": "研修事業", "section": "all", "order": "x"})
        assert r.status == 400 and 'id="programme-e-order">1から9999までの整数' in r.text and 'value="研修事業"' in r.text
        assert count_events(db) == before
        r = b.post("/console/programmes/new", {"csrf_token": csrf, "name": "情報セキュリティ対策事業",
                                               "section": "participating", "order": "2"})
        assert r.status == 303
        prog = r.headers["location"].split("/")[3].split("?")[0]
        r = b.post("/console/bodies/new", {"csrf_token": csrf, "name": "情報セキュリティ研究会",
                                           "parent": "情報セキュリティ対策事業", "kind": "study_group"})
        assert r.status == 303
        sec = r.headers["location"].split("/")[3].split("?")[0]
        r = b.post("/console/bodies/new", {"csrf_token": csrf, "name": "セキュリティ監査グループ",
                                           "parent": "情報セキュリティ対策事業/情報セキュリティ研究会", "kind": "group",
                                           "non_public": "yes"})
        assert r.status == 303
        group = r.headers["location"].split("/")[3].split("?")[0]
        page = b.get(f"/console/bodies/{group}")
        assert "非公開" in page.text and "情報セキュリティ対策事業/情報セキュリティ研究会/セキュリティ監査グループ" in page.text

        # rosters: join, a second join refused beside the field, leave
        page = b.get(f"/console/bodies/{sec}")
        v = page.version()
        assert b.post(f"/console/bodies/{sec}/join", {"csrf_token": csrf, "version": v, "member": "名古屋市",
                                                      "since": "令和5年4月1日"}).status == 303
        v = b.get(f"/console/bodies/{sec}").version()
        r = b.post(f"/console/bodies/{sec}/join", {"csrf_token": csrf, "version": v, "member": "名古屋市",
                                                   "since": "令和5年5月1日"})
        assert r.status == 400 and 'id="join-e-member">この会員団体は2023-04-01から名簿に入っています。' in r.text
        assert b.post(f"/console/bodies/{sec}/leave", {"csrf_token": csrf, "version": v, "member": "名古屋市",
                                                       "since": "令和6年3月31日"}).status == 303
        page = b.get(f"/console/bodies/{sec}")
        assert "令和5年4月1日（土）" in page.text and "令和6年3月31日（日）" in page.text
        # programme roster (participating programme), rename, describe
        v = b.get(f"/console/programmes/{prog}").version()
        assert b.post(f"/console/programmes/{prog}/join", {"csrf_token": csrf, "version": v, "member": "豊橋市",
                                                           "since": "R5.4.1"}).status == 303
        v = b.get(f"/console/programmes/{prog}").version()
        assert b.post(f"/console/programmes/{prog}/rename", {"csrf_token": csrf, "version": v,
                                                             "new_name": "情報セキュリティ事業"}).status == 303
        v = b.get(f"/console/bodies/{sec}").version()
        assert b.post(f"/console/bodies/{sec}/describe", {"csrf_token": csrf, "version": v,
                                                          "description": "自治体の情報セキュリティを研究する。"}).status == 303
        v = b.get(f"/console/bodies/{sec}").version()
        assert b.post(f"/console/bodies/{sec}/visibility", {"csrf_token": csrf, "version": v,
                                                            "visibility": "non-public"}).status == 303
        # dissolve: the confirmation page first, nothing written; then dissolved
        v = b.get(f"/console/bodies/{group}").version()
        before = count_events(db)
        r = b.post(f"/console/bodies/{group}/dissolve", {"csrf_token": csrf, "version": v, "on": "令和7年3月31日"})
        assert r.status == 200 and "廃止の確認" in r.text and "令和7年3月31日（月）" in r.text
        assert count_events(db) == before
        assert b.post(f"/console/bodies/{group}/dissolve", {"csrf_token": csrf, "version": v, "on": "令和7年3月31日",
                                                            "confirm": "yes"}).status == 303
        page = b.get(f"/console/bodies/{group}")
        assert "廃止" in page.text and 'action="/console/bodies/' + group + '/rename"' not in page.text

        # members: add (code check beside the field), rename with a date, dissolve with confirmation
        r = b.post("/console/members/new", {"csrf_token": csrf, "name": "岡崎市", "kind": "city", "code": "232020"})
        assert r.status == 400 and 'id="e-code">団体コード「232020」の検査数字が合いません。' in r.text
        r = b.post("/console/members/new", {"csrf_token": csrf, "name": "岡崎市", "kind": "city", "code": "232025"})
        assert r.status == 303
        mid = r.headers["location"].split("/")[3].split("?")[0]
        v = b.get(f"/console/members/{mid}").version()
        assert b.post(f"/console/members/{mid}/rename", {"csrf_token": csrf, "version": v, "new_name": "新岡崎市",
                                                         "on": "令和8年1月1日"}).status == 303
        v = b.get(f"/console/members/{mid}").version()
        r = b.post(f"/console/members/{mid}/dissolve", {"csrf_token": csrf, "version": v, "on": "令和9年3月31日"})
        assert r.status == 200 and "解散の確認" in r.text
        assert b.post(f"/console/members/{mid}/dissolve", {"csrf_token": csrf, "version": v, "on": "令和9年3月31日",
                                                           "confirm": "yes"}).status == 303
        page = b.get(f"/console/members/{mid}")
        assert "新岡崎市" in page.text and "岡崎市" in page.text and "解散" in page.text
        # a stale form on a body: refused, nothing written
        before = count_events(db)
        r = b.post(f"/console/bodies/{sec}/rename", {"csrf_token": csrf, "version": "1", "new_name": "別名"})
        assert r.status == 409 and 'value="別名"' in r.text
        assert count_events(db) == before
        with Kyogikai(db, actor="t") as app:
            actors = {e.actor for _, e in app.log()[before - 20 if before > 20 else 0:]
                      if re.match(r"(Programme|Body|Member)", type(e).__name__)}
        assert "clerk" in actors
        listing = b.get("/console/members")
        assert "新岡崎市" in listing.text


def test_import_a_past_report(db, tmp_path):
    from importlib import resources

    text = resources.files("kyogikai").joinpath("data", "demo_fy2023_report.txt").read_text(encoding="utf-8")
    setup_council(db)
    with ServeProcess(db, tmp_path / "serve.log") as srv:
        b = Browser(srv.base)
        assert b.login("clerk", CLERK_PW).status == 303
        page = b.get("/console/import")
        assert page.status == 200 and 'enctype="multipart/form-data"' in page.text
        csrf = page.csrf()
        before = count_events(db)
        # a file with lines that cannot be placed: every one listed with its number, nothing imported
        lines = text.splitlines()
        broken = "\n".join(lines[:5] + ["・"] + lines[5:12] + ["これはどこにも属さない謎の行です ###"] + lines[12:])
        r = b.upload("/console/import/preview", {"csrf_token": csrf}, "file", "broken.txt", broken.encode())
        assert r.status == 400 and "何も取り込んでいません" in r.text
        assert "<td data-label=\"行\">6</td>" in r.text and "「・」の後に何もありません" in r.text
        assert 'name="upload"' not in r.text
        # not UTF-8; no file; no CSRF
        r = b.upload("/console/import/preview", {"csrf_token": csrf}, "file", "bad.txt", b"\xff\xfe\x00garbage")
        assert r.status == 400 and "UTF-8またはシフトJISのテキストファイルではありません" in r.text
        assert b.upload("/console/import/preview", {}, "file", "r.txt", text.encode()).status == 403
        assert count_events(db) == before
        # a clean file: the preview, then one import
        r = b.upload("/console/import/preview", {"csrf_token": csrf}, "file", "fy2023.txt",
                     b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
        assert r.status == 200 and "令和5年度" in r.text and "取り込む" in r.text
        upload = re.search(r'name="upload" value="([^"]+)"', r.text).group(1)
        assert count_events(db) == before
        r = b.post("/console/import/run", {"csrf_token": csrf, "upload": upload})
        assert r.status == 200 and "を取り込みました" in r.text
        after = count_events(db)
        assert after > before
        with Kyogikai(db, actor="t") as app:
            new = [e for _, e in app.log()][before:]
        assert {e.actor for e in new} == {"clerk"}
        # the same upload id is gone; the same file again writes nothing and says so
        assert b.post("/console/import/run", {"csrf_token": csrf, "upload": upload}).status == 400
        r = b.upload("/console/import/preview", {"csrf_token": csrf}, "file", "fy2023.txt", text.encode())
        upload = re.search(r'name="upload" value="([^"]+)"', r.text).group(1)
        r = b.post("/console/import/run", {"csrf_token": csrf, "upload": upload})
        assert r.status == 200 and "何も書き込んでいません" in r.text
        assert count_events(db) == after
        report = b.get("/console/report?fiscal_year=2023")
        assert report.status == 200 and "第1回" in report.text


def test_activities_participants_and_drill_results(db, tmp_path):
    setup_council(db)
    with Kyogikai(db, actor="鈴木") as app:
        app.create_programme("標的型攻撃メール対策訓練", "all", 2)
    with ServeProcess(db, tmp_path / "serve.log") as srv:
        b = Browser(srv.base)
        assert b.login("clerk", CLERK_PW).status == 303
        page = b.get("/console/activities/new")
        assert page.status == 200
        csrf = page.csrf()
        before = count_events(db)
        r = b.post("/console/activities/new", {"csrf_token": csrf, "kind": "lecture", "programme": "標的型攻撃メール対策訓練",
                                               "title": "最新の情報セキュリティ状況について", "date": "令和8年2月9日"})
        assert r.status == 400 and 'id="e-speaker">講演には講師の団体を入力してください。' in r.text
        assert count_events(db) == before
        r = b.post("/console/activities/new", {"csrf_token": csrf, "kind": "drill", "programme": "標的型攻撃メール対策訓練",
                                               "ordinal": "1", "title": "訓練", "date": "令和8年7月20日～8月4日"})
        assert r.status == 303
        mid = r.headers["location"].split("/")[3].split("?")[0]
        page = b.get(f"/console/meetings/{mid}")
        assert "令和8年7月20日（月）～令和8年8月4日（火）" in page.text and "訓練結果" in page.text
        with Kyogikai(db, actor="t") as app:
            nagoya = app.member("名古屋市")["id"]
        assert b.post(f"/console/meetings/{mid}/participants", {"csrf_token": csrf, "version": page.version(),
                                                               "took_part": [nagoya]}).status == 303
        page = b.get(f"/console/meetings/{mid}")
        r = b.post(f"/console/meetings/{mid}/result", {"csrf_token": csrf, "version": page.version(),
                                                       "member": "名古屋市", "mails_sent": "10", "links_opened": "12"})
        assert r.status == 400 and "リンクを開いた数（12）が送信数（10）を超えています。" in r.text and 'value="12"' in r.text
        r = b.post(f"/console/meetings/{mid}/result", {"csrf_token": csrf, "version": page.version(),
                                                       "member": "名古屋市", "mails_sent": "10", "links_opened": "3",
                                                       "reported": "5"})
        assert r.status == 303
        page = b.get(f"/console/meetings/{mid}")
        assert '<td data-label="開封数">3</td>' in page.text and "名古屋市" in page.text
        with Kyogikai(db, actor="t") as app:
            kinds = {(type(e).__name__, e.actor) for e in app.history(mid)}
        assert kinds == {("MeetingScheduled", "clerk"), ("ParticipationRecorded", "clerk"),
                         ("DrillResultRecorded", "clerk")}


def test_application_errors_find_their_field_when_the_server_speaks_japanese(db, tmp_path, monkeypatch):
    """The application's messages are rendered in the server's language; the console still places
    them beside their field (it matches their English), e.g. an unknown member on the token form."""
    setup_council(db)
    monkeypatch.setenv("KYOGIKAI_LANG", "ja")
    with ServeProcess(db, tmp_path / "serve.log") as srv:
        b = Browser(srv.base)
        assert b.login("clerk", CLERK_PW).status == 303
        csrf = b.get("/console/tokens").csrf()
        before = count_events(db)
        r = b.post("/console/tokens/issue", {"csrf_token": csrf, "member": "名古屋", "label": "総務課"})
        assert r.status == 400 and 'id="e-member">会員団体「名古屋」が見つかりません' in r.text
        assert "候補: 名古屋市" in r.text and count_events(db) == before


def test_members_import_from_the_console(db, tmp_path):
    """The members CSV in the console: the same application command as ``kyogikai members import``."""
    setup_council(db)
    good = "団体名,種別,団体コード,区分\n名古屋市,市,231002,会員\n瀬戸市,市,232041,会員\n".encode()
    bad = "団体名,種別,団体コード,区分\n瀬戸市,市,23204,会員\n".encode()
    with ServeProcess(db, tmp_path / "serve.log") as srv:
        b = Browser(srv.base)
        assert b.login("clerk", CLERK_PW).status == 303
        csrf = b.get("/console/members").csrf()
        before = count_events(db)
        r = b.upload("/console/members/import", {"csrf_token": csrf}, "file", "bad.csv", bad)
        assert r.status == 400 and 'id="e-file">' in r.text and "2行目" in r.text and count_events(db) == before
        r = b.upload("/console/members/import", {"csrf_token": csrf}, "file", "members.csv", good)
        assert r.status == 200 and "登録 1件" in r.text and "変更なし 1件" in r.text and ">瀬戸市</a>" in r.text
        assert count_events(db) == before + 1
        r = b.upload("/console/members/import", {"csrf_token": csrf}, "file", "members.csv", good)
        assert r.status == 200 and "変更はありません" in r.text and count_events(db) == before + 1
        assert b.upload("/console/members/import", {}, "file", "members.csv", good).status == 403
    with Kyogikai(db, actor="t") as app:
        assert app.history("瀬戸市")[0].actor == "clerk"
