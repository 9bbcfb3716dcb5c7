"""The feed server over real HTTP: ``kyogikai serve`` in its own process on a free loopback port,
on a real SQLite file and on the real PostgreSQL (one server per backend for the module).

Writes come from this test process — another process than the server — through the CLI and the
application, so the server must pick them up from the shared store without a restart.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import uuid
from contextlib import nullcontext
from email.utils import format_datetime, parsedate_to_datetime

import pytest
from starlette.requests import Request
from starlette.routing import Route

from kyogikai.app import Kyogikai
from kyogikai.dates import parse_period
from kyogikai.domain.formats import Format
from kyogikai.web import Site, create_app

from .conftest import CLI
from .test_feeds_support import (HIDDEN, ServeProcess, ThreadServer, build_rich, fetch, make_store,
                                 read_icalendar)

SECURITY = {"x-content-type-options": "nosniff", "referrer-policy": "no-referrer", "x-frame-options": "DENY"}


class Served:
    def __init__(self, db: str, ids: dict[str, str], proc: ServeProcess) -> None:
        self.db, self.ids, self.proc, self.base = db, ids, proc, proc.base
        self.app = Kyogikai(db, actor="事務局C")

    def id(self, kind: str, name: str) -> str:
        self.app.sync()
        return {"body": self.app.body, "programme": self.app.programme, "member": self.app.member}[kind](name)["id"]

    def get(self, path: str, method: str = "GET", **headers: str):
        return fetch(self.base + path, method, headers)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def server(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("served")
    db, drop = make_store(request.param, tmp)
    with Kyogikai(db, actor="事務局A") as app:
        ids = build_rich(app)
    with ServeProcess(db, tmp / "serve.log") as proc:
        s = Served(db, ids, proc)
        yield s
        s.app.close()
    drop()


def test_feed_answers_calendar_with_strong_etag_last_modified_and_head(server):
    r = server.get("/feeds/all.ics")
    assert r.status == 200
    assert r.headers["content-type"] == "text/calendar; charset=utf-8"
    assert r.headers["etag"] == '"' + hashlib.sha256(r.body).hexdigest()[:40] + '"' and not r.headers["etag"].startswith("W/")
    assert parsedate_to_datetime(r.headers["last-modified"]) <= dt.datetime.now(dt.timezone.utc)
    assert int(r.headers["content-length"]) == len(r.body)
    assert "X-WR-CALNAME:協議会 全体予定" in r.text and read_icalendar(r.body)
    assert all(r.headers[k] == v for k, v in SECURITY.items())
    assert "script-src" not in r.headers["content-security-policy"] and "default-src 'none'" in r.headers["content-security-policy"]
    assert not re.search(r"[0-9]", r.headers.get("server", ""))  # no version advertised
    head = server.get("/feeds/all.ics", "HEAD")
    assert head.status == 200 and head.body == b""
    assert {k: head.headers[k] for k in ("etag", "last-modified", "content-type", "content-length")} == \
        {k: r.headers[k] for k in ("etag", "last-modified", "content-type", "content-length")}
    assert server.get("/feeds/all.ics", "POST").status == 405
    assert server.get(f"/feeds/body/{uuid.uuid4()}.ics").status == 404
    assert server.get("/feeds/body/not-a-uuid.ics").status == 404


def test_conditional_requests(server):
    r = server.get("/feeds/all.ics")
    etag, lm = r.headers["etag"], r.headers["last-modified"]
    for headers, status in [
        ({"If-None-Match": etag}, 304),
        ({"If-None-Match": f'"nope", {etag}'}, 304),
        ({"If-None-Match": "W/" + etag}, 304),          # If-None-Match compares weakly
        ({"If-None-Match": "*"}, 304),
        ({"If-None-Match": '"nope"'}, 200),
        ({"If-Modified-Since": lm}, 304),
        ({"If-Modified-Since": format_datetime(parsedate_to_datetime(lm) - dt.timedelta(seconds=1), usegmt=True)}, 200),
        ({"If-Modified-Since": "not a date"}, 200),
        ({"If-None-Match": '"nope"', "If-Modified-Since": lm}, 200),  # If-None-Match wins
    ]:
        a = server.get("/feeds/all.ics", **headers)
        assert a.status == status, headers
        if status == 304:
            assert a.body == b"" and a.headers["etag"] == etag and a.headers["last-modified"] == lm
    assert server.get("/feeds/all.ics", "HEAD", **{"If-None-Match": etag}).status == 304


def test_events_from_another_process_show_without_restart_and_etag_follows_content(server):
    path = f"/feeds/body/{server.id('body', '運営委員会')}.ics"
    first = server.get(path)
    etag, lm = first.headers["etag"], first.headers["last-modified"]
    cli = CLI(server.db)
    # changes that do not touch this feed's content leave its ETag alone
    cli("meeting", "attendance", server.ids["第1回幹事会"][:8], "--present", "名古屋市")
    cli("meeting", "agenda", "add", server.ids["第2回幹事会"][:8], "規約の改正について")
    assert "規約の改正について" in server.get("/feeds/all.ics").text   # picked up …
    same = server.get(path, **{"If-None-Match": etag})
    assert same.status == 304 and same.headers["etag"] == etag          # … and this feed did not change
    # a meeting logged by another process shows up in the running server
    cli("meeting", "schedule", "--body", "運営委員会", "--ordinal", "3", "--date", "令和6年2月5日", "--format", "web")
    changed = server.get(path, **{"If-None-Match": etag})
    assert changed.status == 200 and changed.headers["etag"] != etag
    assert "第3回運営委員会" in changed.text
    assert parsedate_to_datetime(changed.headers["last-modified"]) >= parsedate_to_datetime(lm)
    # reschedule: same UID, higher SEQUENCE; cancel: kept with STATUS:CANCELLED
    mid = next(m["id"] for m in cli("meetings", "--json").json() if m["label"] == "第3回運営委員会")
    cli("meeting", "reschedule", mid[:8], "--date", "令和6年2月6日")
    moved = read_icalendar(server.get(path).body)[mid]
    assert (moved["start"], moved["sequence"]) == ("2024-02-06", 1)
    cli("meeting", "cancel", mid[:8])
    after = server.get(path)
    assert read_icalendar(after.body)[mid]["status"] == "CANCELLED" and read_icalendar(after.body)[mid]["sequence"] == 2
    assert server.get(path, **{"If-None-Match": after.headers["etag"]}).status == 304


def test_pages_list_public_bodies_link_their_feeds_and_hide_non_public(server):
    page = server.get("/")
    assert page.status == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
    html = page.text
    assert '<html lang="ja">' in html and "今後の予定" in html and "会議体・事業ごとのカレンダー" in html
    for name in ["総会", "運営委員会", "幹事会", "研究会", "情報セキュリティ研究会", "セキュリティ監査グループ", "事業部会", "検討会"]:
        assert f">{name}</a>" in html, name
    assert not any(h in html for h in HIDDEN)
    assert "第9回幹事会" in html  # the upcoming schedule
    links = {u for u in re.findall(r'href="([^"]+)"', html) if u.startswith(server.base + "/feeds/")}  # ours only
    assert f"{server.base}/feeds/all.ics" in links and len(links) >= 17
    for link in links:
        r = fetch(link)
        assert r.status == 200 and r.headers["content-type"].startswith("text/calendar"), link
        assert not any(h in r.text for h in HIDDEN), link
    pages = {u for u in re.findall(r'href="([^"]+)"', html) if re.match(re.escape(server.base) + r"/(bodies|programmes)/", u)}
    assert len(pages) >= 13  # 8 public bodies and 5 programmes
    for link in pages:
        r = fetch(link)
        assert r.status == 200 and not any(h in r.text for h in HIDDEN), link
    kanji = server.get(f"/bodies/{server.id('body', '幹事会')}")
    assert kanji.status == 200
    upcoming, past = kanji.text.split('id="upcoming"')[1].split('id="past"')
    assert "第9回幹事会" in upcoming and "第1回幹事会" in past and "第1回幹事会" not in upcoming
    assert '<span class="badge cancelled">中止</span>' in past
    prog = server.get(f"/programmes/{server.id('programme', '共同セキュリティ監査')}")
    assert prog.status == 200 and "技術的診断" in prog.text and "令和5年7月～11月" in prog.text
    for hidden in HIDDEN:
        r = server.get(f"/bodies/{server.id('body', hidden)}")
        assert r.status == 404 and "ページが見つかりません" in r.text
        assert server.get(f"/feeds/body/{server.id('body', hidden)}.ics").status == 404
    assert server.get(f"/bodies/{uuid.uuid4()}").status == 404
    assert server.get("/nothing-here").status == 404


def test_private_feed_token_works_until_revoked_and_is_never_logged(server):
    cli = CLI(server.db)
    r = cli("token", "issue", "--member", "愛知県", "--base-url", server.base)
    url = re.search(r"^  (http://\S+/calendar\.ics)$", r.out, re.M).group(1)
    token = url.split("/private/")[1].split("/")[0]
    a = fetch(url)
    assert a.status == 200 and a.headers["content-type"] == "text/calendar; charset=utf-8"
    assert "private" in a.headers["cache-control"] and "noindex" in a.headers["x-robots-tag"]
    items = read_icalendar(a.body)
    assert server.ids["第1回非公開検討部会"] in items and server.ids["第1回非公開作業班"] in items
    assert fetch(url, headers={"If-None-Match": a.headers["etag"]}).status == 304
    assert fetch(url.replace(token, token[::-1])).status == 404
    tid = next(t["id"] for t in cli("token", "list", "--json").json() if t["member"] == "愛知県" and not t["revoked_at"])
    cli("token", "revoke", tid[:8])
    assert fetch(url).status == 404
    assert fetch(url, headers={"If-None-Match": a.headers["etag"]}).status == 404
    log = server.proc.log.read_text(encoding="utf-8", errors="replace")
    assert "/private/[token]/calendar.ics" in log and token not in log


def test_extra_routes_templates_and_token_lookup_for_other_pages(tmp_path):
    """How other read models add pages: extra routes, their own templates, the shared site."""
    db = str(tmp_path / "k.sqlite")
    with Kyogikai(db, actor="事務局A") as app:
        app.create_programme("会議運営", "all", 8)
        app.create_body("幹事会", programme="会議運営", kind="board")
        app.create_member("名古屋市", "city")
        app.schedule(body="幹事会", ordinal=1, period=parse_period("令和5年5月24日"), format=Format.WEB)
    from kyogikai.feeds import FeedService

    with Kyogikai(db, actor="事務局A") as app:
        token = FeedService(app, "http://x").issue_token("名古屋市").token
    (tmp_path / "tpl").mkdir()
    (tmp_path / "tpl" / "extra.html").write_text(
        '{% extends "web_base.html" %}{% block main %}<h2>追加ページ {{ count }}件 {{ who }}</h2>{% endblock %}',
        encoding="utf-8")

    def extra(request: Request):
        site: Site = request.app.state.site
        count = site.read(lambda f: f.app.query("SELECT count(*) FROM rm_meetings")[0][0])
        return site.render(request, "extra.html", count=count, who="<script>")

    def mine(request: Request):
        site: Site = request.app.state.site
        member = site.member_for_token(request.path_params["token"])
        if member is None:
            return site.not_found(request)
        return site.render(request, "extra.html", count=0, who=member["name"])

    routes = [Route("/extra", extra), Route("/private/{token}/", mine)]
    asgi = create_app(lambda: Kyogikai(db, actor="web"), base_url="http://127.0.0.1", extra_routes=routes,
                      template_dirs=[str(tmp_path / "tpl")], today=lambda: dt.date(2023, 5, 1))
    with ThreadServer(asgi) as srv:
        r = fetch(srv.base + "/extra")
        assert r.status == 200 and "追加ページ 1件 &lt;script&gt;" in r.text   # autoescaped
        assert r.headers["referrer-policy"] == "no-referrer"
        assert "第1回幹事会" in fetch(srv.base + "/").text                     # upcoming as of the given day
        assert "名古屋市" in fetch(srv.base + f"/private/{token}/").text
        assert fetch(srv.base + f"/private/{'x' * 43}/").status == 404
        with Kyogikai(db, actor="事務局A") as app, nullcontext(FeedService(app, "http://x")) as f:
            f.revoke_token(token)
        assert fetch(srv.base + f"/private/{token}/").status == 404
        assert fetch(srv.base + "/healthz").text == "ok"


def test_serve_refuses_bad_input_in_one_line(tmp_path):
    r = CLI(str(tmp_path / "k.sqlite"))("serve", "--base-url", "localhost:8000", expect=2)
    assert r.err.startswith("error: --base-url:") and r.err.count("\n") == 1
    r = CLI(str(tmp_path / "k.sqlite"))("serve", "--port", "70000", expect=2)
    assert "--port" in r.err and r.err.count("\n") == 1
