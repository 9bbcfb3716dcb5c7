"""Shared fixtures: a fresh store on SQLite (a real file) and on PostgreSQL (a fresh schema).

PostgreSQL tests skip with the reason when the server is absent — except under CI (``CI`` set),
where its absence fails them.  Tests that read ``../shared`` behave the same way.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

PG_DSN = os.environ.get("KYOGIKAI_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
REFERENCE = SHARED / "reference" / "fy2023-annual-report.txt"
IN_CI = bool(os.environ.get("CI"))


def _pg_available() -> str | None:
    try:
        import psycopg

        with psycopg.connect(PG_DSN.split("?")[0], connect_timeout=3):
            return None
    except Exception as exc:  # pragma: no cover - depends on the machine
        return f"PostgreSQL not reachable at {PG_DSN}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"


_PG_REASON = _pg_available()


def need_postgres() -> None:
    if _PG_REASON:
        if IN_CI:
            pytest.fail(f"CI requires PostgreSQL: {_PG_REASON}")
        pytest.skip(_PG_REASON)


@pytest.fixture(autouse=True)
def _english_by_default(monkeypatch):
    """Tests read English messages unless they choose Japanese (whatever the developer's locale)."""
    monkeypatch.setenv("KYOGIKAI_LANG", "en")


@pytest.fixture
def reference_text() -> str:
    if not REFERENCE.exists():
        if IN_CI:
            pytest.fail(f"CI requires {REFERENCE}")
        pytest.skip(f"reference report not found at {REFERENCE} (../shared is absent)")
    return REFERENCE.read_text(encoding="utf-8")


def init_store(db: str) -> str:
    """Create the store with ``kyogikai init``, as a user must before naming it with --db: the CLI
    refuses a store that does not exist (issue 13, point 6).  Fixtures and :class:`CLI` call this,
    so a test's fresh --db is a real, empty store; tests of the refusal use a path of their own."""
    from click.testing import CliRunner

    from kyogikai.cli import run

    with CliRunner().isolation() as (_out, err, *_):
        code = run(["--db", db, "init"])
        assert code == 0, f"kyogikai --db {db} init exited {code}: {err.getvalue().decode()}"
    return db


@pytest.fixture
def pg_url():
    need_postgres()
    import psycopg

    schema = "t_" + uuid.uuid4().hex[:12]
    yield init_store(f"{PG_DSN}?schema={schema}")
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return init_store(str(tmp_path / "kyogikai.sqlite"))


@pytest.fixture(params=["sqlite", "postgres"])
def db(request, tmp_path: Path):
    """A database URL for a fresh, empty store (created by ``kyogikai init``), once per backend."""
    if request.param == "sqlite":
        yield init_store(str(tmp_path / "kyogikai.sqlite"))
    else:
        yield request.getfixturevalue("pg_url")


class CLI:
    """Runs the real ``kyogikai`` command in-process (same code path as the console script)."""

    def __init__(self, db: str, actor: str = "事務局A") -> None:
        self.db, self.actor = db, actor
        if "://" not in db and not os.path.lexists(db):   # a new SQLite path: create it as a user would
            init_store(db)

    def __call__(self, *args: str, actor: str | None = None, expect: int = 0) -> "Run":
        from click.testing import CliRunner

        from kyogikai.cli import run

        runner = CliRunner()
        argv = ["--db", self.db, "--actor", actor or self.actor, *args]
        holder: dict = {}

        def invoke() -> None:
            holder["code"] = run(argv)

        with runner.isolation() as (out, err, *_):
            invoke()
            stdout, stderr = out.getvalue().decode(), err.getvalue().decode()
        r = Run(holder["code"], stdout, stderr)
        assert r.code == expect, f"kyogikai {' '.join(args)} exited {r.code}, expected {expect}\n{stdout}\n{stderr}"
        return r


class Run:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def json(self):
        import json

        return json.loads(self.out)


@pytest.fixture
def cli(db) -> CLI:
    return CLI(db)


# --- stores built once per session and backend, then copied (tests/templates.py) ------------------

@pytest.fixture(scope="session", autouse=True)
def templates(tmp_path_factory):
    from . import templates as module

    t = module.SESSION = module.Templates(tmp_path_factory.mktemp("templates"), PG_DSN)
    yield t
    module.SESSION = None
    t.close()


@pytest.fixture
def reference_db(db, templates, reference_text, tmp_path_factory) -> str:
    """``db`` holding the FY2023 reference report as ``kyogikai import-report`` records it (imported
    once per backend and session, copied for each test)."""
    def build(url: str) -> str:
        path = tmp_path_factory.mktemp("reference") / "fy2023.txt"
        path.write_text(reference_text, encoding="utf-8")
        return CLI(url)("import-report", str(path)).out

    out = templates.copy("reference", build, db)
    assert "70 items created" in out
    return db
