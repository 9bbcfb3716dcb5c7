"""Messages in both languages: the catalogue is complete, compiled, and chosen from the environment."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kyogikai import i18n

ROOT = Path(__file__).resolve().parents[1]


def _tool():
    pytest.importorskip("babel", reason="Babel (the test extra) manages the catalogues")
    spec = importlib.util.spec_from_file_location("i18n_tool", ROOT / "scripts" / "i18n.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def test_every_message_has_both_languages() -> None:
    """Every text the program shows — ours, our help texts, click's own — has its Japanese."""
    tool = _tool()
    assert tool.missing() == []
    assert len(list(tool.template())) > 150


def test_the_shipped_catalogue_is_the_compiled_po() -> None:
    tool = _tool()
    assert tool.MO.read_bytes() == tool.compiled(), "run: python scripts/i18n.py compile"


def test_placeholders_survive_translation() -> None:
    """A translation uses only the {fields} of its English, so formatting never fails in Japanese (it may
    quote a value its own way: 「{name}」 for the English {name!r})."""
    import re

    tool = _tool()
    names = re.compile(r"\{(\w*)[^{}]*\}|%\((\w+)\)s")
    for m in tool.load():
        if not m.id or not m.string:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        fields = set().union(*(names.findall(i) for i in ids))
        for s in strings:
            assert set(names.findall(s)) <= fields, (m.id, s)


@pytest.mark.parametrize("env, lang", [
    ({"LANG": "ja_JP.UTF-8"}, "ja"), ({"LC_ALL": "ja_JP.eucJP"}, "ja"), ({"LC_MESSAGES": "ja"}, "ja"),
    ({"KYOGIKAI_LANG": "ja", "LANG": "C"}, "ja"), ({"LANG": "en_US.UTF-8"}, "en"), ({}, "en"),
    ({"LANG": "C.UTF-8"}, "en"), ({"LC_ALL": "C", "LANG": "ja_JP.UTF-8"}, "en"),    # POSIX: LC_ALL wins
    ({"KYOGIKAI_LANG": "en", "LANG": "ja_JP.UTF-8"}, "en"),
])
def test_language_from_the_environment(env: dict, lang: str) -> None:
    assert i18n.language(env) == lang


def _run(args: list[str], **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("LANG", "LC_ALL", "LC_MESSAGES", "LANGUAGE", "KYOGIKAI_LANG")}
    return subprocess.run([sys.executable, "-m", "kyogikai", *args], capture_output=True, text=True,
                          env={**clean, **env}, timeout=120)


def test_cli_speaks_japanese_under_a_japanese_locale_even_if_not_installed(tmp_path: Path) -> None:
    db = str(tmp_path / "k.sqlite")
    r = _run(["--db", db, "meeting", "schedule", "--help"], LANG="ja_JP.UTF-8")
    assert r.returncode == 0 and "使い方：" in r.stdout and "会議体の会議を予定する。" in r.stdout
    assert "このメッセージを表示して終了する。" in r.stdout and "Show this message" not in r.stdout
    r = _run(["--db", db, "meeting", "schedule", "--zzz"], LANG="ja_JP.UTF-8")
    assert r.returncode == 2 and r.stderr.strip() == "エラー: オプション '--zzz' はありません。"
    r = _run(["--db", db, "meeting", "schedule", "--zzz"], LANG="en_US.UTF-8")
    assert r.returncode == 2 and r.stderr.strip() == "error: No such option '--zzz'."
    r = _run(["--db", db, "meeting", "schedule", "--help"], KYOGIKAI_LANG="ja", LANG="C.UTF-8")
    assert "会議体の会議を予定する。" in r.stdout


def test_in_process_switching(cli, monkeypatch) -> None:
    """The language is read at each message, so one process can serve both."""
    monkeypatch.setenv("LANG", "ja_JP.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    monkeypatch.delenv("KYOGIKAI_LANG", raising=False)
    r = cli("meetings", "--nope", expect=2)
    assert r.err.startswith("エラー: ")
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    r = cli("meetings", "--nope", expect=2)
    assert r.err.startswith("error: ")


def test_rule_messages_in_japanese(cli, db, monkeypatch) -> None:
    """A mistake is explained in the clerk's language: the date rules as an example."""
    from .dbtools import count_events
    from .scenario import run_scenario

    run_scenario(cli)
    before = count_events(db)
    monkeypatch.setenv("KYOGIKAI_LANG", "ja")
    r = cli("meeting", "schedule", "--body", "運営委員会", "--date", "令和5年2月30日", "--format", "web", expect=2)
    assert r.err.strip() == "エラー: --date：期間 '令和5年2月30日' が正しくありません：2023年2月は28日までです"
    r = cli("meeting", "schedule", "--body", "運営委員会", "--date", "令和5年6月1日（金）", "--format", "web", expect=2)
    assert "令和5年6月1日（2023-06-01）は木曜日です（金曜日ではありません）" in r.err
    assert count_events(db) == before
    r = cli("meeting", "schedule", "--body", "運営委員会", "--ordinal", "2", "--date", "令和5年5月3日", "--format", "web")
    assert "警告: 令和5年5月3日（2023-05-03）は憲法記念日（土日または祝日）です。このまま予定しました" in r.err


def test_a_context_words_a_message_its_own_way_else_as_usual() -> None:
    """The console and the member page word the application's messages their own way (msgctxt);
    where the catalogue has no such wording, the message's usual translation is shown."""
    from kyogikai.i18n import M

    m = M("the narrative is unchanged")
    assert m.render("en") == m.render("en", context="console") == "the narrative is unchanged"
    assert m.render("ja") == "文章に変更がありません"
    assert m.render("ja", context="console") == "文章に変更がありません。"
    held = M("cannot cancel: it was already held")
    assert held.render("ja", context="member page") == held.render("ja") == "中止にできません：すでに開催済みです"
    nested = M("{where}: {why}", where=M("title"), why=M("the text contains the control character {character}; remove it",
                                                        character="U+0007"))
    assert str(nested) == "title: the text contains the control character U+0007; remove it"
    assert nested.render("ja") == "名称：文字列に制御文字 U+0007 が含まれています。取り除いてください"
    # a context words the messages inside a message its own way too (here the reason, not just "{where}: {why}")
    assert nested.render("ja", context="console") == "入力に制御文字（U+0007）が含まれています。取り除いてください。"
    assert nested.render("en", context="console") == str(nested)


def test_the_console_words_application_messages_beside_their_fields() -> None:
    """The console's wording of the application's messages comes from the catalogue ("console" context),
    messages inside them (a suggestion, a base URL's reason) included; a plain text is shown as it is."""
    from kyogikai.application.context import UserError
    from kyogikai.feeds.urls import BaseURLError, base_url
    from kyogikai.i18n import M
    from kyogikai.web.console.messages import translate

    hint = M(" (did you mean {names}?)", names="名古屋市, 名古屋港管理組合")
    assert translate(M("unknown member {name!r}{suggestion}", name="名古屋", suggestion=hint)) == (
        "member", "会員団体「名古屋」が見つかりません。候補: 名古屋市, 名古屋港管理組合")
    assert translate(M("unknown body {name!r}{suggestion}", name="監査会", suggestion="")) == (
        "body", "会議体「監査会」が見つかりません。")
    assert translate(UserError(M("body {name!r} is ambiguous: {count} bodies fit — {candidates}", name="幹事会",
                                 count=2, candidates="A/幹事会; B/幹事会"))) == (
        "body", "会議体「幹事会」に当てはまるものが2件あります。「上位の会議体/会議体名」の形で指定してください（候補: A/幹事会; B/幹事会）。")
    with pytest.raises(BaseURLError) as refused:
        base_url("https://x/<y>")
    assert translate(UserError(M("--base-url: {reason}", reason=refused.value.args[0]))) == (
        "base_url", "公開URLに「<」は使えません（引用符・山かっこ・円記号・日本語などは使えません。日本語のドメインは xn-- "
                    "で始まる形で、ほかの文字は %-エスケープで書いてください）。")
    ordinal = M("{label} in {fiscal_year}", label="第1回幹事会", fiscal_year="令和8年度")
    assert translate(M("duplicate ordinal: {label} already exists (meeting {id})", label=ordinal, id="0123abcd")) == (
        "ordinal", "第1回幹事会（令和8年度）はすでに登録されています（会議ID 0123abcd）。回数を確認してください。")
    assert translate(ValueError("plain  text")) == (None, "plain text")
