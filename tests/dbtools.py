"""Direct access to a test store's database (SQLite file or PostgreSQL schema), bypassing kyogikai.

Used by the reliability tests to alter, delete and reorder stored events as an intruder would, to
insert events in an old shape, and to count rows independently of the code under test.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, Sequence

from kyogikai.store import Location


def is_sqlite(db: str) -> bool:
    return Location.parse(db).kind == "sqlite"


def pos_col(db: str) -> str:
    return "rowid" if is_sqlite(db) else "notification_id"


def execute(db: str, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
    """Run one statement (placeholders written as ``?``) in its own committed transaction."""
    loc = Location.parse(db)
    if loc.kind == "sqlite":
        import sqlite3

        conn = sqlite3.connect(loc.path, timeout=30)
        try:
            cur = conn.execute(sql, params)
            rows = cur.fetchall() if cur.description else []
            conn.commit()
            return rows
        finally:
            conn.close()
    import psycopg

    with psycopg.connect(dbname=loc.dbname, host=loc.host, port=loc.port, user=loc.user, password=loc.password,
                         options=f"-c search_path={loc.schema}") as conn:
        cur = conn.execute(sql.replace("?", "%s"), params)
        rows = cur.fetchall() if cur.description else []
        conn.commit()
        return [tuple(r) for r in rows]


def count_events(db: str) -> int:
    return execute(db, "SELECT COUNT(*) FROM stored_events")[0][0]


def positions(db: str) -> list[int]:
    return [r[0] for r in execute(db, f"SELECT {pos_col(db)} FROM stored_events ORDER BY {pos_col(db)}")]


def move_event(db: str, frm: int, to: int) -> None:
    """Give the stored event at position ``frm`` the position ``to`` (which must be free)."""
    execute(db, f"UPDATE stored_events SET {pos_col(db)} = ? WHERE {pos_col(db)} = ?", (to, frm))


def swap_events(db: str, a: int, b: int) -> None:
    free = -1_000_000
    move_event(db, a, free)
    move_event(db, b, a)
    move_event(db, free, b)


def insert_raw_event(db: str, originator_id: str, version: int, topic: str, state: bytes) -> None:
    """Insert a stored event as an old kyogikai would have (the library's column layout)."""
    if is_sqlite(db):
        from uuid import UUID

        execute(db, "INSERT INTO stored_events (originator_id, originator_version, topic, state) VALUES (?,?,?,?)",
                (UUID(originator_id).hex, version, topic, state))
    else:
        execute(db, "INSERT INTO stored_events (originator_id, originator_version, topic, state) VALUES (?,?,?,?)",
                (originator_id, version, topic, state))


_SCENARIOS: dict[str, tuple[str, dict[str, str]]] = {}


def scenario_store(db: str, members: tuple[str, ...] = ()) -> dict[str, str]:
    """The store of ``scenario.run_scenario`` (plus ``members``, cities) in ``db``; returns ids by label.

    Built once per session through the CLI on SQLite, exported, and restored here with import-log:
    the same events, in one transaction — quick on PostgreSQL too.
    """
    import atexit
    import shutil
    import tempfile
    from pathlib import Path

    from .conftest import CLI
    from .scenario import run_scenario

    key = "|".join(members)
    if key not in _SCENARIOS:
        d = Path(tempfile.mkdtemp(prefix="kyogikai-scenario-"))
        atexit.register(shutil.rmtree, d, True)
        cli = CLI(str(d / "s.sqlite"))
        ids = run_scenario(cli)
        for name in members:
            cli("member", "create", name, "--kind", "city")
        cli("export-log", str(d / "s.jsonl"))
        _SCENARIOS[key] = (str(d / "s.jsonl"), ids)
    path, ids = _SCENARIOS[key]
    CLI(db)("import-log", path)
    return dict(ids)


def after_each_commit(app: Any, hook: Callable[[], None]) -> None:
    """Call ``hook`` after each write transaction ``app`` commits: its read store's, and those of a
    rebuild's writer process (SQLite), once the writer has made that COMMIT."""
    reads = app.reads
    original = type(reads).transaction

    @contextmanager
    def transaction(write: bool = True):
        with original(reads, write) as rows:
            yield rows
        if write:
            hook()
    reads.transaction = transaction

    make = app.runtime._writer

    def writer():
        w = make()
        if w is not None:
            commit = w.commit

            def committed() -> None:
                commit()
                w.wait_committed(w.commits_sent)
                hook()
            w.commit = committed
        return w
    app.runtime._writer = writer
