"""``--json`` on every command that writes events: ids created or changed, events written, warnings."""

from __future__ import annotations

import click
import pytest

from kyogikai.cli import base

from .dbtools import count_events
from .scenario import run_scenario

# Commands that write no event of their own (they read, serve, check, or write files only).
NOT_WRITING = {
    "bodies", "members list", "meetings", "feed", "serve", "export-feeds", "token list", "verify", "export-log",
    "log", "history", "sync", "rebuild", "follow", "report", "participation", "demo", "init",
}
# Commands that write events but print their own multi-part output; --json still required of them
# once they are converted (listed here so a new command cannot slip through unnoticed).
PENDING: set[str] = set()


def _walk(group: click.Group, prefix: str = ""):
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        path = f"{prefix}{name}"
        if isinstance(cmd, click.Group):
            yield from _walk(cmd, path + " ")
        else:
            yield path, cmd


def test_every_write_command_takes_json() -> None:
    missing = [path for path, cmd in _walk(base.cli)
               if path not in NOT_WRITING | PENDING and not any("--json" in p.opts for p in cmd.params)]
    assert missing == []


def test_schedule_and_cancel_as_json(cli, db) -> None:
    run_scenario(cli)
    before = count_events(db)
    r = cli("meeting", "schedule", "--body", "運営委員会", "--ordinal", "2", "--date", "令和5年5月3日", "--format", "web",
            "--json")
    out = r.json()
    assert r.err == ""                                               # warnings go into the JSON
    assert sorted(e["event"] for e in out["events"]) == ["MeetingScheduled", "OrdinalTaken"]
    assert len(out["events"]) == count_events(db) - before
    assert out["id"] in out["changed"] and out["label"] == "第2回運営委員会" and out["dates"] == "令和5年5月3日"
    assert any("憲法記念日" in w for w in out["warnings"])
    out = cli("meeting", "cancel", out["id"][:8], "--reason", "議題なしのため", "--json").json()
    assert [e["event"] for e in out["events"]] == ["MeetingCancelled"] and out["changed"] == [out["id"]]
    assert out["warnings"] == []
    out = cli("body", "create", "新しい研究会", "--programme", "会議運営", "--kind", "study_group", "--json").json()
    assert out["events"][0]["event"] == "BodyCreated" and out["events"][0]["actor"] == "事務局A"


def test_json_errors_stay_one_line_on_stderr(cli, db) -> None:
    run_scenario(cli)
    before = count_events(db)
    r = cli("meeting", "schedule", "--body", "運営委員会", "--date", "令和5年2月30日", "--format", "web", "--json", expect=2)
    assert r.out == "" and len(r.err.strip().splitlines()) == 1 and count_events(db) == before


def test_narrative_set_as_json(cli, db) -> None:
    run_scenario(cli)
    out = cli("narrative", "set", "--fiscal-year", "R5年度", "--body", "幹事会", "幹事会を3回開催した。", "--json").json()
    assert out["paragraphs"] == 1 and [e["event"] for e in out["events"]] == ["NarrativeWritten"]


def test_new_write_commands_as_json(cli, db) -> None:
    """The council, account and answer commands say what they wrote, too."""
    out = cli("council", "set", "--name", "テスト協議会", "--json").json()
    assert [e["event"] for e in out["events"]] == ["CouncilSettingsChanged"] and out["council"]["name"] == "テスト協議会"
    from click.testing import CliRunner

    from kyogikai.cli import run

    runner = CliRunner()
    with runner.isolation(input="correct horse battery staple\n") as (o, e, *_):
        code = run(["--db", db, "--actor", "事務局A", "user", "add", "suzuki", "--role", "clerk", "--password-stdin",
                    "--json"])
        added = o.getvalue().decode()
    assert code == 0, e.getvalue()
    import json

    added = json.loads(added)
    assert added["user"] == "suzuki" and [ev["event"] for ev in added["events"]] == ["UserAdded"]
    out = cli("user", "role", "suzuki", "admin", "--json").json()
    assert [ev["event"] for ev in out["events"]] == ["UserRoleChanged"] and out["role"] == "admin"


def test_members_import_and_tokens_as_json(cli, db, tmp_path) -> None:
    """The members import and token issue/revoke are application commands that say what they wrote."""
    csv = tmp_path / "members.csv"
    csv.write_text("団体名,種別,団体コード,区分\n愛知県,県,230006,会員\n名古屋市,市,231002,会員\n", encoding="utf-8")
    cli("council", "set", "--name", "テスト協議会")
    before = count_events(db)
    dry = cli("members", "import", str(csv), "--dry-run", "--json").json()
    assert dry["events"] == [] and dry["id"] is None and dry["would_write"] == 2 and count_events(db) == before
    out = cli("members", "import", str(csv), "--json").json()
    assert sorted(out["created"]) == ["名古屋市", "愛知県"] and len(out["changed"]) == 2
    assert [e["event"] for e in out["events"]] == ["MemberCreated", "MemberCreated"]
    assert len(out["events"]) == count_events(db) - before and out["id"] == out["changed"][0]
    again = cli("members", "import", str(csv), "--json").json()
    assert again["events"] == [] and again["unchanged"] == 2 and "nothing to import" in again["message"]

    before = count_events(db)
    issued = cli("token", "issue", "--member", "名古屋市", "--label", "担当者", "--base-url", "http://127.0.0.1:8000",
                 "--json").json()
    assert [e["event"] for e in issued["events"]] == ["FeedTokenIssued"] and issued["changed"] == [issued["id"]]
    assert issued["url"].endswith("/calendar.ics") and issued["webcal"].startswith("webcal://")
    assert any("loopback" in w for w in issued["warnings"]) and count_events(db) == before + 1
    listed = cli("token", "list", "--json").json()
    assert [t["id"] for t in listed] == [issued["id"]]
    revoked = cli("token", "revoke", issued["id"][:8], "--reason", "異動", "--json").json()
    assert [e["event"] for e in revoked["events"]] == ["FeedTokenRevoked"] and revoked["id"] == issued["id"]
    assert cli("token", "list", "--json").json()[0]["revoked_at"]
    r = cli("token", "revoke", issued["id"][:8], "--json", expect=2)
    assert r.out == "" and "already revoked" in r.err and count_events(db) == before + 2


def test_import_report_and_import_log_as_json(cli, db, tmp_path) -> None:
    """Issue 13: the imports say what they wrote — ids created, events written, counts, warnings."""
    from importlib import resources

    from .conftest import CLI

    text = resources.files("kyogikai").joinpath("data", "demo_fy2023_report.txt").read_text(encoding="utf-8")
    report = tmp_path / "report.txt"
    report.write_text(text + "・この行は置き場所がない\n", encoding="utf-8")
    r = cli("import-report", str(report), "--skip-problems", "--json")
    out = r.json()
    assert r.err == ""                                        # the skipped line is a warning in the JSON
    assert len(out["events"]) == count_events(db) > 100 and out["fiscal_year"] == 2023
    assert out["created"] > 50 and out["updated"] == 0 and out["id"] == out["events"][0]["id"]
    assert any("置き場所がない" in w for w in out["warnings"])
    kinds = {e["event"] for e in out["events"]}
    assert {"ProgrammeCreated", "BodyCreated", "MeetingScheduled", "MeetingHeld"} <= kinds
    first_versions = {e["id"] for e in out["events"] if e["version"] == 1}
    assert set(out["created_ids"]) == first_versions and len(out["created_ids"]) > out["created"]
    again = cli("import-report", str(report), "--skip-problems", "--json").json()
    assert again["events"] == [] and again["created_ids"] == [] and again["id"] is None
    assert again["unchanged"] == out["created"] + out["unchanged"]

    log = tmp_path / "backup.jsonl"
    cli("export-log", str(log))
    target = CLI(str(tmp_path / "restored.sqlite"))
    restored = target("import-log", str(log), "--json")
    assert restored.err == ""
    got = restored.json()
    n = count_events(db)
    assert got["events_written"] == n and got["positions"] == [1, n] and got["warnings"] == []
    assert count_events(target.db) == n
