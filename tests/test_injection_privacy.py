"""Injection and private data (issue 7, items 4 and 5), over the real server, in a real browser.

Injection: CR, LF, ``;``, ``,``, ``\\`` in titles, venues and names come back exactly from three
iCalendar parsers (CR/LF are folded into a space by the domain, like every whitespace run in a
one-line text); other control characters are refused with a one-line error; HTML and script in any
text are shown as text in Chromium; CSV cells starting with ``=``, ``+``, ``-``, ``@`` are
neutralised.

Private data: tokens of >= 128 bits from ``secrets``, stored only as a hash, compared in constant
time, revocable, never in logs or outputs; non-public bodies never leak through feeds, pages, error
pages, ETags or Last-Modified; the server binds 127.0.0.1 by default and sends security headers.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import re
import secrets
from pathlib import Path

import pytest

from kyogikai.app import Kyogikai
from kyogikai.dates import parse_period
from kyogikai.domain.formats import Format
from kyogikai.feeds import FeedService
from kyogikai.web import create_app

from .conftest import CLI
from .dbtools import count_events, execute, is_sqlite
from .test_feeds_support import ServeProcess, fetch, icaljs, make_store, need, read_all  # noqa: F401

PROGRAMME = "事業;A,B\\C"
BODY_PUNCT = "研究会,第2;\\班"
BODY_SCRIPT = "<script>window.__pwned=1</script>研究会"
BODY_IMG = '<img src=x onerror="window.__pwned=2">部会'
TITLE_PUNCT = "件名;セミコロン,カンマ\\バックスラッシュ\"引用\""
TITLE_HTML = '"><svg onload="window.__pwned=3"><marquee>動く</marquee>'
VENUE_RAW = "会場\r\n2階;A,B\\C"
VENUE = "会場 2階;A,B\\C"                        # CR LF folded into one space by the domain
AGENDA_HTML = "<b>議題</b>&amp;<i>x</i>"
MEMBER_FORMULA = ["=HYPERLINK(\"http://evil.example\")", "+1+1", "-2+3", "@SUM(A1)"]
HIDDEN_BODY, HIDDEN_GROUP, HIDDEN_AGENDA = "非公開検討部会", "非公開作業班", "非公開の審議事項"


def build(app: Kyogikai) -> dict[str, str]:
    app.create_programme(PROGRAMME, "all", 1)
    app.create_programme("会議運営", "all", 8)
    app.create_body("幹事会", programme="会議運営", kind="board")
    app.create_body(BODY_PUNCT, programme=PROGRAMME, kind="study_group")
    app.create_body(BODY_SCRIPT, programme=PROGRAMME, kind="study_group")
    app.create_body(BODY_IMG, programme=PROGRAMME, kind="group")
    app.create_body(HIDDEN_BODY, programme="会議運営", kind="committee", public=False)
    app.create_body(HIDDEN_GROUP, parent=HIDDEN_BODY, kind="group")
    app.create_member("愛知県", "prefecture")
    app.create_member("名古屋市", "city")
    for name in MEMBER_FORMULA:
        app.create_member(name, "other", "associate")
    since = dt.date(2023, 4, 1)
    app.join("愛知県", body=HIDDEN_BODY, since=since)
    app.join("愛知県", body="幹事会", since=since)
    app.join("名古屋市", body="幹事会", since=since)
    for name in MEMBER_FORMULA:
        app.join(name, body="幹事会", since=since)
    future = (dt.date.today() + dt.timedelta(days=40)).isoformat()
    app.schedule(body=BODY_PUNCT, period=parse_period("令和5年6月6日"), format=Format.IN_PERSON, title=TITLE_PUNCT,
                 venue=VENUE_RAW)
    app.schedule(body=BODY_SCRIPT, period=parse_period(future), format=Format.WEB, title=TITLE_HTML,
                 venue="<marquee>会場</marquee>", agenda=[AGENDA_HTML])
    app.schedule(body=BODY_IMG, period=parse_period(future), format=Format.WEB, ordinal=1)
    app.schedule(body="幹事会", period=parse_period("令和5年5月24日"), format=Format.WEB, ordinal=1)
    app.schedule(body=HIDDEN_BODY, period=parse_period(future), format=Format.WEB, ordinal=1, agenda=[HIDDEN_AGENDA])
    app.schedule(body=HIDDEN_GROUP, period=parse_period("令和5年9月12日"), format=Format.WEB, ordinal=1)
    ids = {m["label"]: m["id"] for m in app.meetings()}
    app.hold(ids["第1回幹事会"])
    app.record_attendance(ids["第1回幹事会"], [(n, "present") for n in ["愛知県", "名古屋市", *MEMBER_FORMULA]])
    return {m["label"]: m["id"] for m in app.meetings()}


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def served(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("inj")
    db, drop = make_store(request.param, tmp)
    with Kyogikai(db, actor="事務局A") as app:
        ids = build(app)
        ref = {n: app.body(n)["id"] for n in (BODY_PUNCT, BODY_SCRIPT, BODY_IMG, HIDDEN_BODY, HIDDEN_GROUP, "幹事会")}
        ref |= {n: app.programme(n)["id"] for n in (PROGRAMME, "会議運営")}
        ref |= {n: app.member(n)["id"] for n in ("愛知県", "名古屋市")}
    with ServeProcess(db, tmp / "serve.log") as proc:
        yield {"db": db, "ids": ids, "ref": ref, "base": proc.base, "log": tmp / "serve.log", "tmp": tmp,
               "port": proc.port}
    drop()


def get(s: dict, path: str, **headers: str):
    return fetch(s["base"] + path, "GET", headers)


def public_paths(s: dict) -> list[str]:
    r = s["ref"]
    return ["/", "/feeds/all.ics", f"/feeds/programme/{r['会議運営']}.ics", f"/feeds/programme/{r[PROGRAMME]}.ics",
            f"/feeds/body/{r['幹事会']}.ics", f"/feeds/member/{r['愛知県']}.ics", f"/feeds/member/{r['名古屋市']}.ics",
            f"/bodies/{r['幹事会']}", f"/programmes/{r['会議運営']}", f"/bodies/{r['幹事会']}/participation?fiscal_year=2023"]


# --- item 4: injection ---------------------------------------------------------------------------

def test_feed_text_comes_back_exactly_from_three_parsers(served, icaljs, tmp_path):
    import icalendar
    import vobject

    r = served["ref"]
    feeds = {p: get(served, p).body for p in ("/feeds/all.ics", f"/feeds/body/{r[BODY_PUNCT]}.ics",
                                               f"/feeds/programme/{r[PROGRAMME]}.ics")}
    views = read_all(feeds, icaljs, tmp_path)          # the three parsers agree on every item
    body_feed = feeds[f"/feeds/body/{r[BODY_PUNCT]}.ics"]
    assert len(views[f"/feeds/body/{r[BODY_PUNCT]}.ics"]) == 1
    cal = icalendar.Calendar.from_ical(body_feed)
    ev = next(iter(cal.walk("VEVENT")))
    assert str(ev["summary"]) == f"{TITLE_PUNCT}（{BODY_PUNCT}）"  # a title without the body's name: named
    assert str(ev["location"]) == VENUE
    cats = ev["categories"]
    assert [str(c) for c in (cats.cats if hasattr(cats, "cats") else cats)] == [PROGRAMME, BODY_PUNCT]
    assert BODY_PUNCT in str(cal["x-wr-calname"])
    vcal = vobject.readOne(body_feed.decode(), validate=True)
    vev = vcal.vevent
    assert vev.summary.value == f"{TITLE_PUNCT}（{BODY_PUNCT}）" and vev.location.value == VENUE
    assert vev.categories.value == [PROGRAMME, BODY_PUNCT]
    # nothing smuggled in: exactly the properties we write, one VEVENT per item
    assert body_feed.count(b"BEGIN:VEVENT") == 1
    assert not re.search(rb"\r\n(ATTENDEE|ORGANIZER|ATTACH|RRULE)", body_feed)
    html = views["/feeds/all.ics"]
    assert any(v["summary"] == f"{TITLE_HTML}（{BODY_SCRIPT}）" for v in html.values())


def test_control_characters_are_refused_in_one_line(served):
    cli = CLI(served["db"])
    before = count_events(served["db"])
    for args in (["meeting", "schedule", "--body", "幹事会", "--date", "令和5年6月6日", "--format", "web",
                  "--title", "議題\x07ベル"],
                 ["meeting", "schedule", "--body", "幹事会", "--date", "令和5年6月6日", "--format", "web",
                  "--venue", "会場\x00"],
                 ["body", "create", "部会\x1b[31m", "--programme", "会議運営"],
                 ["member", "create", "市\x7f", "--kind", "city"]):
        r = cli(*args, expect=2)
        assert r.err.count("\n") == 1 and "control character" in r.err, r.err
    assert count_events(served["db"]) == before


def test_html_and_script_are_shown_as_text_in_the_browser(served, tmp_path):
    from .test_web_browser import ARGS, CHROMIUM, japanese_fonts  # noqa: F401

    need(Path(CHROMIUM).exists(), f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        need(False, "playwright is not installed (pip install '.[test]')")
    r = served["ref"]
    pages = ["/", f"/bodies/{r[BODY_SCRIPT]}", f"/bodies/{r[BODY_IMG]}", f"/programmes/{r[PROGRAMME]}",
             f"/bodies/{r[BODY_SCRIPT]}/participation?fiscal_year=2023"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            for path in pages:
                page = browser.new_page(locale="ja-JP")
                dialogs: list[str] = []
                page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
                resp = page.goto(served["base"] + path)
                assert resp is not None and resp.status == 200, path
                assert page.evaluate("typeof window.__pwned") == "undefined", path
                assert dialogs == []
                for sel in ("script", "img[src='x']", "svg", "marquee", "main b", "main i"):
                    assert page.locator(sel).count() == 0, f"{path}: an injected <{sel}> became an element"
                text = page.inner_text("body")
                shown = {"/": [BODY_SCRIPT, BODY_IMG], f"/bodies/{r[BODY_SCRIPT]}": [BODY_SCRIPT, TITLE_HTML],
                         f"/bodies/{r[BODY_IMG]}": [BODY_IMG], f"/programmes/{r[PROGRAMME]}": [PROGRAMME, BODY_SCRIPT]}
                for literal in shown.get(path, []):
                    assert literal in text, f"{path}: {literal!r} is not shown as text"
                page.screenshot(path=str(tmp_path / (re.sub(r"\W", "_", path) + ".png")), full_page=True)
                page.close()
        finally:
            browser.close()


def test_csv_cells_are_neutralised(served):
    cli = CLI(served["db"])
    for args in (["participation", "--fiscal-year", "2023", "--format", "csv"],
                 ["participation", "--body", "幹事会", "--fiscal-year", "2023", "--format", "csv"],
                 ["participation", "--member", MEMBER_FORMULA[0], "--fiscal-year", "2023", "--format", "csv"]):
        out = cli(*args).out.removeprefix("\ufeff")
        cells = [c for row in csv.reader(io.StringIO(out)) for c in row]
        dangerous = [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
        assert dangerous == [], f"{args}: {dangerous}"
        if args[1] != "--member":                      # (a member's own record does not repeat its name)
            for name in MEMBER_FORMULA:
                assert "'" + name in cells, f"{args}: {name!r} missing or not neutralised"


# --- item 5: private data --------------------------------------------------------------------------

def _token(url: str) -> str:
    return re.search(r"/private/([^/]+)/calendar\.ics", url).group(1)


def test_tokens_are_random_enough_from_secrets_and_never_stored(served, monkeypatch):
    db = served["db"]
    calls: list[int] = []
    real = secrets.token_urlsafe

    def spy(n=None):
        calls.append(n)
        return real(n)

    monkeypatch.setattr(secrets, "token_urlsafe", spy)
    out = CLI(db)("token", "issue", "--member", "愛知県", "--label", "総務課").out
    monkeypatch.undo()
    token = _token(out)
    assert calls and calls[0] >= 16, "the token does not come from secrets with >= 128 bits"
    assert len(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))) * 8 >= 128
    with Kyogikai(db, actor="t") as app:
        svc = FeedService(app, "http://127.0.0.1")
        many = {_token(svc.issue_token("名古屋市", f"端末{i}").subscribe.url) for i in range(20)}
    assert len(many) == 20
    # stored hashed: neither the store nor any read model nor a backup holds the secret
    import hashlib

    digest = hashlib.sha256(token.encode()).hexdigest()
    texts = _everything_stored(db)
    assert token not in texts and digest in texts
    for t in many:
        assert t not in texts


def _everything_stored(db: str) -> str:
    if is_sqlite(db):
        blobs = [Path(db).read_bytes()] + [Path(db + s).read_bytes() for s in ("-wal",) if Path(db + s).exists()]
        return "\n".join(b.decode("utf-8", errors="replace") for b in blobs)
    tables = [r[0] for r in execute(db, "SELECT table_name FROM information_schema.tables WHERE table_schema = "
                                        "current_schema()")]
    out = []
    for t in tables:
        for row in execute(db, f'SELECT * FROM "{t}"'):
            out.append(" ".join(bytes(v).decode("utf-8", "replace") if isinstance(v, (bytes, memoryview)) else str(v)
                                for v in row))
    return "\n".join(out)


def test_tokens_compared_in_constant_time_revocable_and_never_logged(served, monkeypatch, tmp_path):
    db, ref = served["db"], served["ref"]
    cli = CLI(db)
    first = cli("token", "issue", "--member", "愛知県").out
    token, token_id = _token(first), re.search(r"token ([0-9a-f]{8})", first).group(1)
    other = _token(cli("token", "issue", "--member", "愛知県").out)
    private = get(served, f"/private/{token}/calendar.ics")
    assert private.status == 200 and HIDDEN_AGENDA in private.text
    assert private.headers["cache-control"].startswith("private")
    # constant time: the comparison goes through hmac.compare_digest
    import hmac

    import kyogikai.feeds.service as service

    seen: list[tuple] = []
    real = hmac.compare_digest
    monkeypatch.setattr(service.hmac, "compare_digest", lambda a, b: seen.append((a, b)) or real(a, b))
    with Kyogikai(db, actor="t") as app:
        assert FeedService(app, "http://x").private_feed(token) is not None
    monkeypatch.undo()
    assert seen, "the token was not compared with hmac.compare_digest"
    # revocable
    cli("token", "revoke", token_id, "--reason", "異動")
    gone = get(served, f"/private/{token}/calendar.ics")
    assert gone.status == 404
    assert get(served, f"/private/{other}/calendar.ics").status == 200      # the member's other token lives on
    bad = get(served, "/private/" + "A" * 43 + "/calendar.ics")
    assert bad.status == 404 and bad.body == gone.body                     # revoked looks like never issued
    # never written to a log or an output other than 'token issue'
    log = served["log"].read_text(errors="replace")
    assert "/private/[token]" in log
    outputs = [cli("log").out, cli("log", "--json").out, cli("token", "list", "--json").out, cli("history", "愛知県").out]
    f = tmp_path / "backup.jsonl"
    cli("export-log", str(f))
    outputs.append(f.read_text(encoding="utf-8"))
    for t in (token, other):
        assert t not in log
        assert all(t not in o for o in outputs)


def test_non_public_bodies_never_leak(served):
    db, ref = served["db"], served["ref"]
    before = {p: get(served, p) for p in public_paths(served)}
    for path, r in before.items():
        assert r.status == 200, path
        for secret in (HIDDEN_BODY, HIDDEN_GROUP, HIDDEN_AGENDA):
            assert secret not in r.text, f"{path} shows {secret}"
    # a change inside the non-public bodies changes nothing public: not the bytes, the ETag, Last-Modified
    with Kyogikai(db, actor="事務局B") as app:
        hidden = [m for m in app.meetings() if m["body"] in (HIDDEN_BODY, HIDDEN_GROUP)]
        app.reschedule(hidden[0]["id"], parse_period("令和5年9月20日"))
        app.add_agenda(hidden[0]["id"], ["追加の非公開議題"])
        app.cancel(hidden[1]["id"], "非公開の理由")
        app.schedule(body=HIDDEN_GROUP, period=parse_period("令和5年10月3日"), format=Format.WEB, ordinal=2)
        app.rename_body(HIDDEN_GROUP, "改名した非公開作業班")
    private_token = _token(CLI(db)("token", "issue", "--member", "愛知県").out)
    for path, old in before.items():
        new = get(served, path)
        assert new.body == old.body, f"{path} changed after a change to a non-public body"
        for h in ("etag", "last-modified"):
            assert new.headers.get(h) == old.headers.get(h), f"{path}: {h} changed after a non-public change"
        if path.endswith(".ics"):
            assert get(served, path, **{"If-None-Match": old.headers["etag"]}).status == 304
    assert "改名した非公開作業班" in get(served, f"/private/{private_token}/calendar.ics").text
    # the error answers for a non-public body are those of a body that does not exist
    unknown = "00000000-0000-4000-8000-000000000000"
    for hidden_path, unknown_path in [(f"/bodies/{ref[HIDDEN_BODY]}", f"/bodies/{unknown}"),
                                      (f"/bodies/{ref[HIDDEN_GROUP]}", f"/bodies/{unknown}"),
                                      (f"/feeds/body/{ref[HIDDEN_BODY]}.ics", f"/feeds/body/{unknown}.ics"),
                                      (f"/bodies/{ref[HIDDEN_BODY]}/participation", f"/bodies/{unknown}/participation")]:
        a, b = get(served, hidden_path), get(served, unknown_path)
        assert (a.status, a.body) == (b.status, b.body) and a.status == 404, hidden_path
        strip = lambda h: {k: v for k, v in h.items() if k not in ("date", "content-length")}  # noqa: E731
        assert strip(a.headers) == strip(b.headers), hidden_path


def test_server_binds_loopback_and_sends_security_headers(served):
    port = served["port"]
    listening = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            addr, p = local.rsplit(":", 1)
            if int(p, 16) == port and state == "0A":
                listening.append(addr)
    assert listening == ["0100007F"], f"kyogikai serve listens on {listening}, not only 127.0.0.1"
    token = _token(CLI(served["db"])("token", "issue", "--member", "名古屋市").out)
    for path in ["/", "/feeds/all.ics", f"/bodies/{served['ref']['幹事会']}", "/nowhere", f"/private/{token}/calendar.ics",
                 "/private/x/calendar.ics"]:
        r = get(served, path)
        h = r.headers
        assert h.get("x-content-type-options") == "nosniff", path
        assert h.get("referrer-policy") == "no-referrer", path
        assert h.get("x-frame-options") == "DENY", path
        csp = h.get("content-security-policy", "")
        assert "default-src 'none'" in csp and "unsafe-inline" not in csp and "script-src" not in csp, path
        assert "server" not in h or "uvicorn" not in h["server"].lower(), path
    assert get(served, f"/private/{token}/calendar.ics").headers.get("x-robots-tag", "").startswith("noindex")
    # a 304 freshens the stored 200 (RFC 9111 §4.3.4): it carries the validators and caching headers,
    # and the stored response keeps the rest — its security headers included
    r = get(served, "/feeds/all.ics")
    same = get(served, "/feeds/all.ics", **{"If-None-Match": r.headers["etag"]})
    assert same.status == 304 and same.headers["etag"] == r.headers["etag"]
    assert same.headers.get("cache-control") == r.headers.get("cache-control")
