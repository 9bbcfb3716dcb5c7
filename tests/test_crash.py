"""Crashes (issue 7, item 1).

Two kinds of proof:

- **Deterministic**: a crash after every single commit of a rebuild (and of a projection's
  version upgrade) — the process state after any SIGKILL is the state after some number of
  committed transactions, so enumerating them all covers every crash point.  Quick; default suite.
- **SIGKILL trials**: the real ``kyogikai import-report`` and ``kyogikai rebuild`` processes killed
  after a seeded random delay, on SQLite and PostgreSQL (``tests/crashkit.py``; 20 trials in the
  slow suite that ``.ci/run`` also runs, ``scripts/crash_trials.py --trials 100`` standing alone).
"""

from __future__ import annotations


import pytest

from kyogikai.app import Kyogikai

from . import crashkit
from .conftest import CLI
from .dbtools import after_each_commit, count_events, execute
from .scenario import run_scenario


class Crash(BaseException):
    """Stands for SIGKILL: raised right after a commit, nothing after it runs."""


def crash_after(app: Kyogikai, commits: int) -> None:
    """Make ``app`` 'die' right after its ``commits``-th committed write transaction (its read
    store's, or a rebuild's writer process's)."""
    seen = [0]

    def count() -> None:
        seen[0] += 1
        if seen[0] == commits:
            raise Crash()
    after_each_commit(app, count)


@pytest.fixture(scope="module")
def rich_log(tmp_path_factory) -> str:
    """A small but varied log, exported once (restored per test with import-log: quick on PostgreSQL too)."""
    d = tmp_path_factory.mktemp("rich")
    cli = CLI(str(d / "rich.sqlite"))
    ids = run_scenario(cli)
    cli("meeting", "agenda", "add", ids["第1回定期総会"][:8], "役員の選任について", "会費の改定について")
    cli("meeting", "agenda", "withdraw", ids["第1回定期総会"][:8], "1")
    cli("meeting", "hold", ids["第1回幹事会"][:8])
    cli("meeting", "reschedule", ids["第3回幹事会"][:8], "--date", "令和6年3月4日", "--reason", "会場の都合により")
    cli("narrative", "set", "--fiscal-year", "2023", "--body", "幹事会", "幹事会を4回開催した。")
    cli("export-log", str(d / "rich.jsonl"))
    return str(d / "rich.jsonl")


def rich_store(db: str, log: str) -> None:
    CLI(db)("import-log", log)


def caught_up(db: str) -> dict:
    """The read models a fresh process sees after its catch-up."""
    with Kyogikai(db, actor="t") as k:
        k.sync()
        return k.runtime.dump()


def rebuilt(db: str) -> dict:
    with Kyogikai(db, actor="t") as k:
        k.rebuild()
        return k.runtime.dump()


def test_rebuild_survives_a_crash_after_any_commit(db, rich_log):
    rich_store(db, rich_log)
    events = count_events(db)
    expected = rebuilt(db)                         # the log never changes below: one rebuild to compare with
    k_commits = 1
    while True:
        app = Kyogikai(db, actor="t")
        app.runtime.batch = 8                       # many batches, many crash points
        app.runtime.MAX_TRANSACTION = 8
        crash_after(app, k_commits)
        try:
            app.rebuild()
            finished = True
        except Crash:
            finished = False
        finally:
            app.close()
        assert caught_up(db) == expected, f"read models wrong after a crash at commit {k_commits}"
        assert count_events(db) == events
        if finished:
            break
        k_commits += 1
    assert k_commits > 5


def test_projection_upgrade_survives_a_crash_after_any_commit(db, rich_log):
    rich_store(db, rich_log)
    expected = rebuilt(db)                         # the log never changes below: one rebuild to compare with
    k_commits = 1
    while True:
        execute(db, "UPDATE rm_positions SET version = version - 1")   # as if every projection changed
        app = Kyogikai(db, actor="t")
        app.runtime.batch = 8
        app.runtime.MAX_TRANSACTION = 8
        crash_after(app, k_commits)
        try:
            app.sync()
            finished = True
        except Crash:
            finished = False
        finally:
            app.close()
        assert caught_up(db) == expected, f"read models wrong after a crash at commit {k_commits}"
        if finished:
            break
        k_commits += 1


def test_import_report_crash_after_any_command_writes_nothing(tmp_path, monkeypatch):
    """A failure inside the import (here: after the n-th command of it) leaves the store as it was."""
    from kyogikai.report.importer import import_report_text
    from kyogikai.store import EventStore

    text = crashkit.report_text()
    db = str(tmp_path / "s.sqlite")
    Kyogikai(db, actor="t").close()
    original = EventStore.append
    for n in (1, 7, 40):
        calls = [0]

        def append(self, events, n=n):
            calls[0] += 1
            if calls[0] == n:
                raise Crash()
            return original(self, events)

        monkeypatch.setattr(EventStore, "append", append)
        with Kyogikai(db, actor="t") as app, pytest.raises(Crash):
            import_report_text(app, text)
        monkeypatch.setattr(EventStore, "append", original)
        assert count_events(db) == 0
    with Kyogikai(db, actor="t") as app:
        assert import_report_text(app, text).events == crashkit.reference(tmp_path)["events"]
    assert count_events(db) == crashkit.reference(tmp_path)["events"]


@pytest.mark.parametrize("what", ["import", "rebuild"])
def test_sigkill_smoke(what, tmp_path):
    """One real SIGKILL trial of each kind on SQLite in the default suite (the many are in the slow suite)."""
    out = crashkit.run_trials(what, "sqlite", trials=1, seed=7, work=tmp_path, size=1500)
    assert out.failures == [], out.failures
    assert out.events_lost == out.events_doubled == 0


@pytest.mark.slow
@pytest.mark.parametrize("backend, what, trials", [("sqlite", "import", 6), ("sqlite", "rebuild", 6),
                                                    ("postgres", "import", 4), ("postgres", "rebuild", 4)])
def test_sigkill_trials(backend, what, trials, tmp_path, request):
    pg = request.getfixturevalue("pg_url") if backend == "postgres" else None
    out = crashkit.run_trials(what, backend, trials=trials, seed=2024, work=tmp_path, pg_url=pg)
    print(out.summary())
    assert out.failures == [], out.failures
    assert out.trials == trials
