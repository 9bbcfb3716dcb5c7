"""Issue 13, point 6: an explicit store that does not exist is refused (exit 4, saying how to create
one) and nothing is created; ``kyogikai init`` creates one; the default location is created on
first use with a one-line notice.  SQLite and PostgreSQL, English and Japanese."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from .conftest import PG_DSN, need_postgres


def run(argv: list[str]) -> tuple[int, str, str]:
    """The real CLI in-process, WITHOUT the test helper's automatic init (see conftest.CLI)."""
    from click.testing import CliRunner

    from kyogikai.cli import run as cli_run

    with CliRunner().isolation() as (out, err, *_):
        code = cli_run(argv)
        return code, out.getvalue().decode(), err.getvalue().decode()


COMMANDS = [("meetings",), ("body", "create", "幹事会", "--programme", "会議運営", "--kind", "board"),
            ("verify",), ("rebuild",), ("report", "--fiscal-year", "2023")]


@pytest.fixture
def fresh_schema():
    need_postgres()
    import psycopg

    schema = "t_" + uuid.uuid4().hex[:12]
    yield schema
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def schema_exists(schema: str) -> bool:
    import psycopg

    with psycopg.connect(PG_DSN) as conn:
        return conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone() is not None


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_a_missing_sqlite_path_is_refused_and_nothing_is_created(tmp_path, monkeypatch, lang):
    monkeypatch.setenv("KYOGIKAI_LANG", lang)
    target = tmp_path / "sub" / "council.sqlite"
    log = tmp_path / "backup.jsonl"
    log.write_text("x\n")
    report = tmp_path / "report.txt"
    report.write_text("令和5年度事業報告\n")
    for args in [*COMMANDS, ("import-report", str(report)), ("import-log", str(log))]:
        code, out, err = run(["--db", str(target), *args])
        assert code == 4, (args, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1 and out == "" and "Traceback" not in err, (args, err)
        assert str(target) in lines[0] and f"kyogikai init --db {target}" in lines[0], lines[0]
        assert lines[0].startswith("エラー: " if lang == "ja" else "error: no kyogikai store at "), lines[0]
        assert not (tmp_path / "sub").exists()
    # KYOGIKAI_DB is as explicit as --db
    monkeypatch.setenv("KYOGIKAI_DB", str(target))
    assert run(["meetings"])[0] == 4 and not (tmp_path / "sub").exists()


@pytest.mark.parametrize("where", ["option", "global"])
def test_init_creates_a_store_that_commands_then_use(tmp_path, where):
    target = tmp_path / "sub" / "council.sqlite"
    argv = ["init", "--db", str(target)] if where == "option" else ["--db", str(target), "init"]
    code, out, err = run(argv)
    assert code == 0 and err == "" and out.strip() == f"created a store at {target}"
    assert target.is_file()
    assert run(["--db", str(target), "programme", "create", "会議運営", "--section", "all", "--order", "1"])[0] == 0
    code, out, _ = run(argv)           # again: nothing changes, the events stay
    assert code == 0 and out.strip() == f"a store already exists at {target}; nothing changed"
    assert "会議運営" in run(["--db", str(target), "log"])[1]


def test_init_refuses_what_cannot_be_a_store(tmp_path):
    (tmp_path / "folder").mkdir()
    code, _, err = run(["init", "--db", str(tmp_path / "folder")])
    assert code == 4 and len(err.strip().splitlines()) == 1 and "folder" in err


def test_the_default_location_is_created_on_first_use_with_a_notice(tmp_path, monkeypatch):
    monkeypatch.delenv("KYOGIKAI_DB", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    default = tmp_path / "data" / "kyogikai" / "kyogikai.sqlite"
    code, out, err = run(["programme", "create", "会議運営", "--section", "all", "--order", "1"])
    assert code == 0 and "created programme" in out
    assert err.strip().splitlines() == [f"note: created a new store at {default} (the default location)"]
    assert default.is_file()
    code, out, err = run(["meetings"])
    assert code == 0 and err == ""            # the notice comes once


def test_a_postgres_schema_without_a_store_is_refused_until_init(fresh_schema):
    url = f"{PG_DSN}?schema={fresh_schema}"
    for args in COMMANDS:
        code, out, err = run(["--db", url, *args])
        assert code == 4 and len(err.strip().splitlines()) == 1 and "kyogikai init --db" in err, (args, err)
    assert not schema_exists(fresh_schema)      # nothing created: not even the schema
    code, out, err = run(["init", "--db", url])
    assert code == 0 and out.startswith("created a store at postgresql://") and schema_exists(fresh_schema)
    assert run(["--db", url, "programme", "create", "会議運営", "--section", "all", "--order", "1"])[0] == 0
    code, out, _ = run(["init", "--db", url])
    assert code == 0 and "already exists" in out


def test_demo_creates_its_own_store_even_at_an_explicit_path(tmp_path: Path):
    """``demo`` builds a fresh store: an explicit --db that does not exist yet is created (not refused)."""
    target = tmp_path / "mine.sqlite"
    code, out, err = run(["--db", str(target), "demo", "--dir", str(tmp_path / "out")])
    assert code == 0, err
    assert f"demo store:   {target}" in out and target.is_file()
