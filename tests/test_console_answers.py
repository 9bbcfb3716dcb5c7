"""The clerk's side of members' answers in the console, over real HTTP against ``kyogikai serve``:
the section 「出欠回答・書面表決」 on ``/console/meetings/<id>`` (the list of ``meeting answers``, the
forms of ``meeting answer`` and ``meeting vote``, the CSV), on SQLite and PostgreSQL.

Dates are relative to today (Asia/Tokyo), since the rules (deadline, past) read the clock.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

from kyogikai import answers as ans
from kyogikai.app import Kyogikai
from kyogikai.dates import Period
from kyogikai.domain.formats import Format

from .console_support import CLERK_PW, Browser, count_events, setup_council
from .test_console_browser import WIDTHS, check_page, chromium  # noqa: F401 (the fixture)
from .test_feeds_support import ServeProcess


def _day(n: int) -> dt.date:
    return ans.tokyo_today() + dt.timedelta(days=n)


def _setup(db: str) -> tuple[str, str]:
    """幹事会 (名古屋市, 豊橋市 on its roster; 瀬戸市 not), a web meeting and a written deliberation to come."""
    setup_council(db)
    with Kyogikai(db, actor="鈴木") as app:
        app.create_member("瀬戸市", "city", code="232041")
        web = app.schedule(body="幹事会", period=Period(_day(20), _day(20)), ordinal=1, format=Format.WEB,
                           format_label=None, agenda=["令和7年度事業計画について"])
        written = app.schedule(body="幹事会", period=Period(_day(10), _day(17)), ordinal=2, format=Format.WRITTEN,
                               format_label=None, agenda=["規約の改正について", "役員の選任について"])
    return str(web.id), str(written.id)


def _last(db: str, name: str):
    with Kyogikai(db, actor="t") as app:
        return [e for _, e in app.log() if type(e).__name__ == name][-1]


def test_answers_section_list_forms_refusals_and_csv(db, tmp_path, cli):
    web, written = _setup(db)
    cli("meeting", "answer", web[:8], "--member", "名古屋市", "--answer", "present", "--comment", "課長が出席します")
    with ServeProcess(db, tmp_path / "serve.log") as srv:
        b = Browser(srv.base)
        assert b.login("clerk", CLERK_PW).status == 303
        page = b.get(f"/console/meetings/{web}")
        assert page.status == 200 and "出欠回答・書面表決" in page.text
        # the CLI's answer is listed: answer, comment, who; the count of 未回答
        row = re.search(r"<tr><td data-label=\"会員団体\">名古屋市</td>.*?</tr>", page.text).group(0)
        assert "出席" in row and "課長が出席します" in row and "事務局A" in row
        assert "未回答 1" in page.text and 'action="/console/meetings/%s/answer"' % web in page.text
        csrf, version = page.csrf(), page.version()

        # recorded on the member's behalf: one event, the clerk as actor
        before = count_events(db)
        r = b.post(f"/console/meetings/{web}/answer", {"csrf_token": csrf, "version": version, "member": "232017",
                                                        "answer": "proxy", "proxy": "情報政策課 山田", "comment": ""})
        assert r.status == 303 and r.headers["location"].endswith("done=answer#answer")
        assert count_events(db) == before + 1
        e = _last(db, "AttendanceAnswered")
        assert (e.actor, e.answer.value, e.proxy, e.via.value) == ("clerk", "proxy", "情報政策課 山田", "clerk")
        page = b.get(f"/console/meetings/{web}?done=answer")
        assert "出欠回答を記録しました。" in page.text and "代理出席（情報政策課 山田）" in page.text
        assert "未回答 0" in page.text

        # refused, beside the field, input kept, nothing written
        before = count_events(db)
        r = b.post(f"/console/meetings/{web}/answer", {"csrf_token": csrf, "version": version, "member": "瀬戸市",
                                                        "answer": "present", "comment": "よろしく"})
        assert r.status == 400 and 'id="answer-e-member">この会員団体は、会議の日にこの会議体の構成団体ではない' in r.text
        assert 'value="よろしく"' in r.text and '<option value="瀬戸市" selected>' in r.text
        r = b.post(f"/console/meetings/{web}/answer", {"csrf_token": csrf, "version": version, "member": "名古屋市",
                                                        "answer": "proxy", "proxy": ""})
        assert r.status == 400 and 'id="answer-e-proxy">代理出席の場合は、代理出席者の氏名を入力してください。' in r.text
        # a vote on a meeting not held in writing
        r = b.post(f"/console/meetings/{web}/vote", {"csrf_token": csrf, "version": version, "item": "1",
                                                      "member": "名古屋市", "vote": "for"})
        assert r.status == 400 and "この会議は書面開催ではないため、書面表決は記録できません。" in r.text
        # without csrf_token: 403
        r = b.post(f"/console/meetings/{web}/answer", {"version": version, "member": "名古屋市", "answer": "absent"})
        assert r.status == 403
        assert count_events(db) == before

        # the CSV, as `meeting answers --csv`, only with a session
        r = b.get(f"/console/meetings/{web}/answers.csv")
        assert r.status == 200 and r.headers["content-type"].startswith("text/csv")
        assert r.headers["content-disposition"].startswith("attachment;") and r.text.startswith("\ufeff")
        table = list(csv.reader(io.StringIO(r.text.lstrip("\ufeff"))))
        assert table[0][:3] == ["団体コード", "団体名", "回答"]
        assert [t[1:4] for t in table[1:]] == [["名古屋市", "出席", ""], ["豊橋市", "代理出席（情報政策課 山田）", "情報政策課 山田"]]
        assert Browser(srv.base).get(f"/console/meetings/{web}/answers.csv").status == 303

        # the written deliberation: a vote per item through the form, the tally
        page = b.get(f"/console/meetings/{written}")
        assert page.status == 200 and "議案ごとの集計" in page.text and "集計中" in page.text
        csrf, version = page.csrf(), page.version()
        before = count_events(db)
        r = b.post(f"/console/meetings/{written}/vote", {"csrf_token": csrf, "version": version, "item": "2",
                                                          "member": "名古屋市", "vote": "against"})
        assert r.status == 303 and count_events(db) == before + 1
        e = _last(db, "WrittenVoteCast")
        assert (e.actor, e.vote.value, e.via.value) == ("clerk", "against", "clerk")
        page = b.get(f"/console/meetings/{written}")
        assert "表決 2:反対" in page.text
        assert re.search(r'data-label="議案">2\. 役員の選任について</td><td data-label="構成団体">2</td>'
                         r'<td data-label="賛成">0</td><td data-label="反対">1</td><td data-label="棄権">0</td>'
                         r'<td data-label="未回答">1</td>', page.text)
        before = count_events(db)
        r = b.post(f"/console/meetings/{written}/vote", {"csrf_token": csrf, "version": version, "item": "1",
                                                          "member": "瀬戸市", "vote": "for"})
        assert r.status == 400 and 'id="vote-e-member">この会員団体は' in r.text
        r = b.post(f"/console/meetings/{written}/vote", {"csrf_token": csrf, "version": version, "item": "3",
                                                          "member": "豊橋市", "vote": "for"})
        assert r.status == 400 and 'id="vote-e-item">議案3はありません（議案は1～2です）。' in r.text
        assert count_events(db) == before

        # a cancelled meeting takes no answers: no form, and a POST is refused
        with Kyogikai(db, actor="鈴木") as app:
            app.cancel(web, "都合により")
        page = b.get(f"/console/meetings/{web}")
        assert "中止されたため、回答・表決は記録できません" in page.text
        assert f'action="/console/meetings/{web}/answer"' not in page.text
        before = count_events(db)
        r = b.post(f"/console/meetings/{web}/answer", {"csrf_token": csrf, "version": page.version(),
                                                        "member": "名古屋市", "answer": "absent"})
        assert r.status == 400 and "この会議は中止されたため、回答・表決を記録できません。" in r.text
        assert count_events(db) == before


def test_answers_section_in_chromium_on_a_phone(chromium, tmp_path):
    """At 390 px: the section fits without sideways scrolling, its controls are labelled; a refused form
    comes back with the error beside the field.  Screenshots of the section go to the test's folder."""
    db = str(tmp_path / "k.sqlite")
    web, written = _setup(db)
    with Kyogikai(db, actor="事務局A") as app:
        ans.record_answer(app, web, "proxy", member="名古屋市", proxy="情報政策課 山田", comment="資料は紙で")
        ans.cast_vote(app, written, 1, "for", member="豊橋市")
    with ServeProcess(db, tmp_path / "serve.log") as srv:
        ctx = chromium.new_context(viewport=WIDTHS["phone"], locale="ja-JP")
        page = ctx.new_page()
        page.goto(srv.base + "/console/login")
        page.get_by_label("ログイン名（必須）").fill("clerk")
        page.get_by_label("パスワード（必須）").fill(CLERK_PW)
        page.get_by_role("button", name="ログイン").click()
        page.wait_for_url(srv.base + "/console/")
        page.goto(srv.base + f"/console/meetings/{web}")
        check_page(page, "answers-web")
        page.locator("#answer-f-member").select_option(label="豊橋市")
        page.get_by_label("代理出席", exact=True).check()
        page.get_by_label("連絡事項", exact=True).fill("後日連絡します")
        page.get_by_role("button", name="出欠回答を記録する").click()
        page.wait_for_load_state()
        assert page.locator("#answer-e-proxy").inner_text().startswith("代理出席の場合は")
        assert page.get_by_label("連絡事項", exact=True).input_value() == "後日連絡します"
        check_page(page, "answers-error")
        page.locator("#answers").screenshot(path=str(tmp_path / "console-answers-error-phone.png"))
        page.goto(srv.base + f"/console/meetings/{written}")
        check_page(page, "answers-written")
        page.locator("#answers").screenshot(path=str(tmp_path / "console-answers-written-phone.png"))
        ctx.close()
