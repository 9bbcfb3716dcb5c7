"""The write path (issue 15) and its guarantees (issue 16 items 1, 9 and 11), on SQLite and PostgreSQL.

- a command is ONE transaction: events, chain records and read-model rows commit together, or
  nothing does;
- ``import-report`` applies each event to the read models once, all or nothing, with no scratch copy;
- ``rebuild`` fills fresh tables and swaps them in: a reader during a rebuild sees the old read
  models complete, then the new ones; a killed rebuild leaves the old ones intact; renderings
  cached on the log's state are dropped when read models are replaced (the generation).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from kyogikai.app import Kyogikai
from kyogikai.domain.meeting import MeetingHeld
from kyogikai.projections import schedule
from kyogikai.projections.runtime import Dispatch

from . import crashkit
from .conftest import CLI
from .dbtools import after_each_commit, count_events, execute, is_sqlite, scenario_store


class Boom(Exception):
    pass


def state(db: str) -> tuple:
    """Everything a command may write: events, chain records, read models, positions."""
    with Kyogikai(db, actor="t") as k:
        models = {t.name: k.rows(t) for p in k.runtime.projections for t in p.TABLES}
    return (count_events(db), execute(db, "SELECT COUNT(*), MAX(position) FROM kyogikai_chain")[0],
            execute(db, "SELECT projection, position FROM rm_positions ORDER BY projection"), models)


# --- a command is one transaction ------------------------------------------------------------------

@pytest.mark.parametrize("where", ["projection", "chain", "positions"])
def test_a_failure_inside_a_command_leaves_neither_events_nor_chain_nor_read_models(db, monkeypatch, where):
    ids = scenario_store(db)
    before = state(db)
    if where == "projection":           # after the events were inserted, while the read models are applied
        original = schedule.HANDLERS[MeetingHeld]

        def held(event, rows):
            original(event, rows)
            raise Boom()
        monkeypatch.setitem(schedule.HANDLERS, MeetingHeld, held)
    with Kyogikai(db, actor="t") as k:
        if where == "chain":          # after the read models were applied, as the chain records are stored
            def store_links(cur, links):
                raise Boom()
            monkeypatch.setattr(k.runtime.ledger, "store_links", store_links)
        else:                           # the very last statements before the commit
            runtime = k.runtime

            def write(stored, events=None):
                with runtime.reads.transaction():   # the command's transaction, failing after all its work
                    runtime.write(stored, events)
                    raise Boom()
            k.store.writer = write
        with pytest.raises(Boom):
            k.hold(ids["第1回幹事会"][:8])
    monkeypatch.undo()
    assert state(db) == before
    CLI(db)("meeting", "hold", ids["第1回幹事会"][:8])      # and the same command then works, chained
    assert count_events(db) == before[0] + 1
    assert "intact" in CLI(db)("verify").out


def test_a_command_applies_its_events_without_a_catch_up(db, monkeypatch):
    """The command's own transaction leaves the read models current: no catch-up runs after it."""
    ids = scenario_store(db)
    with Kyogikai(db, actor="t") as k:
        k.sync()
        calls = []
        monkeypatch.setattr(type(k.runtime), "catch_up", lambda self, progress=None: calls.append(1) or 0)
        # on PostgreSQL the freshness check shares a round trip with the name's lookup (fresh_read):
        # it checks the answer itself and calls catch_up only when the read models are behind
        is_behind = type(k.runtime)._is_behind
        monkeypatch.setattr(type(k.runtime), "_is_behind", lambda self, found: calls.append(1) or is_behind(self, found))
        k.hold(ids["第1回幹事会"][:8])
        checks = len(calls)
        assert k.rows(schedule.MEETINGS, id=ids["第1回幹事会"])[0]["status"] == "held"
        assert not k.runtime.behind()
        assert checks == 1          # the freshness check before deciding, none after writing
    positions = execute(db, "SELECT DISTINCT position FROM rm_positions WHERE projection < '~'")
    assert positions == [(execute(db, "SELECT MAX(position) FROM kyogikai_chain")[0][0],)]


def test_a_whole_id_is_loaded_at_once_and_still_sees_what_others_wrote(db):
    """A command given a meeting's whole id (as the console's forms give it) loads the meeting from
    the log without a read-model lookup first; the read models are still brought up to date when
    another process wrote meanwhile, and any id that is not a meeting's gets the usual answer."""
    import datetime as dt
    from uuid import UUID

    from kyogikai.dates import parse_period
    from kyogikai.domain.formats import Format
    from kyogikai.domain.meeting import Kind, Meeting
    from kyogikai.domain.organisation import Body
    from kyogikai.projections import participation
    from kyogikai.store import EventStore, Location

    ids = scenario_store(db, members=("豊橋市",))
    whole = ids["第1回幹事会"]
    with Kyogikai(db, actor="t") as k:
        k.sync()
        b, member = k.body("幹事会"), k.member("豊橋市")
        # another writer (a bare event store: no read models applied) schedules a meeting
        m = Meeting.schedule(kind=Kind.MEETING, programme_id=b["programme_id"], body_id=b["id"], ordinal=9,
                             period=parse_period("令和5年12月1日"), format=Format.WEB, actor="事務局B")
        bare = EventStore(Location.parse(db))
        bare.save(m)
        k.add_agenda(whole.upper(), ["全体の確認"])
        assert not k.runtime.behind()                      # the other writer's event was applied too
        assert k.rows(schedule.MEETINGS, id=str(m.id))[0]["ordinal"] == 9
        assert [a["text"] for a in k.rows(schedule.AGENDA, meeting_id=whole)][-1] == "全体の確認"
        # then puts 豊橋市 on the 幹事会's roster: the attendance's roster check (read models) sees it
        body = bare.get(Body, UUID(b["id"]))
        body.join(UUID(member["id"]), dt.date(2023, 4, 1), "事務局B")
        bare.save(body)
        bare.close()
        k.record_attendance(whole, [("豊橋市", "present")])   # not a guest: no --guest needed
        assert k.rows(participation.ATTENDANCE, meeting_id=whole, member_id=member["id"])[0]["attendance"] == "present"
    for not_a_meeting in (b["id"], "ffffffff-ffff-ffff-ffff-ffffffffffff"):
        r = CLI(db)("meeting", "agenda", "add", not_a_meeting, "議題", expect=2)
        assert r.err == f"error: no meeting with id '{not_a_meeting}'\n"
    assert count_events(db) == len(execute(db, "SELECT position FROM kyogikai_chain"))


# --- import-report: once, all or nothing, no scratch copy ------------------------------------------

def test_import_applies_each_event_once(db, monkeypatch, reference_text):
    from kyogikai.report.importer import import_report_text

    calls = [0]
    original = Dispatch.apply

    def apply(self, event, rows):       # every event the read models are given, by any path
        calls[0] += 1
        original(self, event, rows)
    monkeypatch.setattr(Dispatch, "apply", apply)
    with Kyogikai(db, actor="t") as k:
        k.sync()
        r = import_report_text(k, reference_text)
    assert r.events == count_events(db) > 100
    assert calls[0] == r.events                         # no second projection of staged events
    assert "intact" in CLI(db)("verify").out


def test_a_refused_import_writes_nothing(db, monkeypatch, reference_text):
    from kyogikai.report.importer import import_report_text

    CLI(db)("meetings")
    before = state(db)
    original = Kyogikai.schedule
    calls = [0]

    def schedule_(self, *a, **kw):   # a rule refusing an entry late in the import
        calls[0] += 1
        if calls[0] == 40:
            raise Boom()
        return original(self, *a, **kw)
    monkeypatch.setattr(Kyogikai, "schedule", schedule_)
    with Kyogikai(db, actor="t") as k, pytest.raises(Boom):
        import_report_text(k, reference_text)
    monkeypatch.setattr(Kyogikai, "schedule", original)
    assert state(db) == before


def spawn_import(db: str, tmp: str) -> subprocess.Popen:
    env = {**os.environ, "KYOGIKAI_ACTOR": "kill", "TMPDIR": tmp, "TEMP": tmp, "TMP": tmp}
    return subprocess.Popen([sys.executable, "-m", "kyogikai", "--db", db, "import-report",
                             str(crashkit.report_path(__import__("pathlib").Path(tmp).parent))],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_import_log_is_one_transaction_with_chain_and_read_models(db, tmp_path):
    scenario_store(db)
    CLI(db)("export-log", str(tmp_path / "log.jsonl"))
    other = str(tmp_path / "restored.sqlite") if not is_sqlite(db) else db + ".restored.sqlite"
    CLI(other)("import-log", str(tmp_path / "log.jsonl"))
    with Kyogikai(other, actor="t") as k:
        assert not k.runtime.behind()
        live = k.runtime.dump()
        k.rebuild()
        assert k.runtime.dump() == live
    n = count_events(other)
    assert execute(other, "SELECT COUNT(*) FROM kyogikai_chain")[0][0] == n
    assert f"verified {n} event(s)" in CLI(other)("verify").out


@pytest.mark.parametrize("delay", [0.3, 0.6, 0.9])
def test_a_killed_import_leaves_no_scratch_copy_and_all_or_nothing(db, tmp_path, delay):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    CLI(db)("meetings")
    proc = spawn_import(db, str(tmp))
    time.sleep(delay)
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert list(tmp.iterdir()) == []                  # nothing left in the temporary folder
    if is_sqlite(db):                                 # nor beside the store
        assert {p.name for p in tmp_path.iterdir() if p.name.startswith("kyogikai")} <= \
            {"kyogikai.sqlite", "kyogikai.sqlite-shm", "kyogikai.sqlite-wal"}
    n = count_events(db)
    expected = crashkit.reference(tmp_path)["events"]
    assert n in (0, expected)
    assert "intact" in CLI(db)("verify").out


# --- rebuild: old or new, never a mix --------------------------------------------------------------

def test_readers_see_complete_read_models_throughout_a_rebuild(db):
    scenario_store(db)
    with Kyogikai(db, actor="t") as k:
        k.sync()
        expected = k.runtime.dump()
    reader = Kyogikai(db, actor="reader")
    seen = []

    def look() -> None:
        seen.append(reader.runtime.dump())
    app = Kyogikai(db, actor="t")
    app.runtime.batch = 4
    app.runtime.MAX_TRANSACTION = 4                       # many pieces, each committed
    after_each_commit(app, look)
    gen = app.runtime.generation()
    app.rebuild()
    assert app.runtime.generation() == gen + 1
    app.close()
    reader.close()
    assert len(seen) > 5
    assert all(s == expected for s in seen)               # never a partly built table
    assert tables_left(db) == []


def tables_left(db: str) -> list[str]:
    sql = ("SELECT name FROM sqlite_master WHERE type = 'table'" if is_sqlite(db) else
           "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")
    return sorted(r[0] for r in execute(db, sql) if "__r" in r[0])


class Killed(BaseException):
    pass


def test_a_killed_rebuild_leaves_the_old_read_models_intact(db):
    ids = scenario_store(db)
    with Kyogikai(db, actor="t") as k:
        k.sync()
        expected = k.runtime.dump()
    for at in (1, 3, 6):
        app = Kyogikai(db, actor="t")
        app.runtime.batch = 4
        app.runtime.MAX_TRANSACTION = 4
        n = [0]

        def kill(n=n, at=at) -> None:
            n[0] += 1
            if n[0] == at:
                raise Killed()
        after_each_commit(app, kill)
        app.runtime._drop_shadow = lambda tx, token: None  # type: ignore[method-assign]  # as SIGKILL: no clean-up
        with pytest.raises(Killed):
            app.rebuild()
        app.close()
        with Kyogikai(db, actor="t") as k:                # no catch-up, no command: as it was left
            assert k.runtime.dump() == expected
    assert tables_left(db) != []                          # the killed rebuilds' unfinished tables…
    with Kyogikai(db, actor="t") as k:
        k.runtime.LEASE_SECONDS = 0                        # …taken for dead…
        k.rebuild()
        assert k.runtime.dump() == expected
    assert tables_left(db) == []                          # …are dropped by the next rebuild
    CLI(db)("meeting", "hold", ids["第1回幹事会"][:8])
    assert "intact" in CLI(db)("verify").out


def test_a_new_projection_version_is_swapped_in_whole(db):
    """A changed VERSION rebuilds that projection into fresh tables too (never emptied under readers)."""
    scenario_store(db)
    with Kyogikai(db, actor="t") as k:
        k.sync()
        expected = k.runtime.dump()
        gen = k.runtime.generation()
    execute(db, "UPDATE rm_positions SET version = version - 1 WHERE projection = 'feeds'")
    reader = Kyogikai(db, actor="reader")
    seen = []
    app = Kyogikai(db, actor="t")
    app.runtime.batch = 4
    app.runtime.MAX_TRANSACTION = 4
    after_each_commit(app, lambda: seen.append(reader.runtime.dump()))
    app.sync()
    assert app.runtime.dump() == expected and app.runtime.generation() == gen + 1
    app.close()
    reader.close()
    assert seen and all(s == expected for s in seen)


def test_feed_renderings_are_dropped_when_read_models_are_replaced(db):
    """A rendering cached on the log's state is not served after a rebuild replaced the read models."""
    from kyogikai.feeds.service import FeedService

    scenario_store(db)
    svc = FeedService(Kyogikai(db, actor="web"), "http://127.0.0.1:8000")
    svc.fresh()
    good = svc.feed("all").body
    # read models that went wrong without the log moving (as a rebuild caught half-way used to leave them)
    execute(db, "DELETE FROM rm_feed_entries WHERE item_id IN (SELECT id FROM rm_feed_items WHERE kind = 'meeting')")
    svc._rendered.clear()
    svc.fresh()
    bad = svc.feed("all").body
    assert bad != good
    with Kyogikai(db, actor="t") as k:
        k.rebuild()
    svc.fresh()
    assert svc.feed("all").body == good                  # the generation moved: rendered again
    svc.app.close()


# --- SQLite: a rebuild's writes made by a process of its own ---------------------------------------

def writers_made(monkeypatch) -> list:
    """The writer processes rebuilds start (None where one wrote in its own process)."""
    from kyogikai.projections.runtime import Runtime

    made: list = []
    original = Runtime._writer

    def spy(self):
        made.append(original(self))
        return made[-1]
    monkeypatch.setattr(Runtime, "_writer", spy)
    return made


def test_a_sqlite_rebuild_written_by_its_writer_process_equals_one_written_here(sqlite_url, monkeypatch):
    """Many small pieces, so rows made in one piece are read in later ones: from the piece before
    (kept), from what the writer committed (read here), or by asking the writer (find)."""
    scenario_store(sqlite_url)
    made = writers_made(monkeypatch)
    with Kyogikai(sqlite_url, actor="t") as k:
        k.sync()
        live = k.runtime.dump()
        k.runtime.batch, k.runtime.MAX_TRANSACTION = 2, 4
        k.rebuild()
        assert k.runtime.dump() == live
    assert made[0] is not None and made[0].commits_sent > 5 and made[0].proc.returncode == 0
    monkeypatch.setenv("KYOGIKAI_REBUILD_WRITER", "0")
    with Kyogikai(sqlite_url, actor="t") as k:
        k.runtime.batch, k.runtime.MAX_TRANSACTION = 2, 4
        k.rebuild()
        assert k.runtime.dump() == live
    assert made[1] is None
    assert tables_left(sqlite_url) == []


@pytest.mark.parametrize("trouble", ["lease taken", "writer killed"])
def test_a_sqlite_rebuild_whose_writer_fails_says_why_and_leaves_the_old_read_models(sqlite_url, monkeypatch, trouble):
    """Another process took the rebuild for dead (dropped its lease), or the writer process died:
    the rebuild stops with a one-line reason, and the read models are the old ones, complete."""
    from kyogikai.store import StoreError

    scenario_store(sqlite_url)
    made = writers_made(monkeypatch)
    with Kyogikai(sqlite_url, actor="t") as k:
        k.sync()
        live = k.runtime.dump()
    app = Kyogikai(sqlite_url, actor="t")
    app.runtime.batch, app.runtime.MAX_TRANSACTION = 2, 4
    n = [0]

    def trouble_at_the_second_commit() -> None:
        n[0] += 1
        if n[0] == 2 and trouble == "lease taken":
            execute(sqlite_url, "DELETE FROM rm_positions WHERE projection LIKE '~rebuild%'")
        elif n[0] == 2:
            made[-1].proc.kill()
            made[-1].proc.wait()
    after_each_commit(app, trouble_at_the_second_commit)
    with pytest.raises(StoreError) as err:
        app.rebuild()
    app.close()
    message = str(err.value)
    assert "\n" not in message
    if trouble == "lease taken":
        assert "dropped by another process" in message
    else:
        assert "writer process stopped" in message
    assert made[-1].proc.returncode is not None
    with Kyogikai(sqlite_url, actor="t") as k:
        assert k.runtime.dump() == live
    assert tables_left(sqlite_url) == []


# --- PostgreSQL: one round trip for several statements ---------------------------------------------

def test_a_round_trip_that_fails_raises_psycopgs_error_and_leaves_the_connection_usable(pg_url):
    """``PostgresReadStore.script`` drives libpq's pipeline itself: a failing statement raises the
    error psycopg would (outside a transaction the round trip is one implicit transaction: nothing of
    it stays), a value that cannot be sent raises and nothing of it runs, and either way the next
    round trip works; a statement sent again runs prepared and gives the same rows.  A write
    transaction sent in two parts (``write_script``) commits nothing when its second part fails."""
    import psycopg

    from kyogikai.projections.runtime import PostgresReadStore
    from kyogikai.store import Location

    reads = PostgresReadStore(Location.parse(pg_url))
    try:
        assert reads.script([(b"SELECT 1", None), ("SELECT %s::text, %s::int, %s::text", ["会議", 2, None])]) == \
            [[(1,)], [("会議", 2, None)]]
        assert [reads.script([("SELECT %s::int + 1", [i])]) for i in range(3)] == [[[(1,)]], [[(2,)]], [[(3,)]]]
        assert len(reads._prepared_sql) == 1
        reads.script([(b"CREATE TEMP TABLE t (n int)", None)])
        with pytest.raises(psycopg.errors.DivisionByZero):
            reads.script([("INSERT INTO t VALUES (%s)", [1]), ("SELECT 1 / 0", None), ("INSERT INTO t VALUES (%s)", [2])])
        assert reads.script([("SELECT n FROM t", None)]) == [[]]   # one round trip, one implicit transaction
        with pytest.raises(psycopg.ProgrammingError):
            reads.script([("INSERT INTO t VALUES (%s)", [3]), ("SELECT %s", [object()])])
        assert reads.script([("SELECT count(*) FROM t", None)]) == [[(0,)]]   # nothing of it ran
        # the INSERT's second sighting was after the error: its PREPARE did not happen, and is sent again
        reads.script([("INSERT INTO t VALUES (%s)", [4])])
        reads.script([("INSERT INTO t VALUES (%s)", [5])])
        assert reads.script([("SELECT n FROM t ORDER BY n", None)]) == [[(4,), (5,)]]
        # prepared statements dropped behind its back (a pooler, another library): one round trip fails,
        # the next prepares them again
        reads.conn.execute("DEALLOCATE ALL")
        with pytest.raises(psycopg.errors.InvalidSqlStatementName):
            reads.script([("SELECT %s::int + 1", [7])])
        assert reads.script([("SELECT %s::int + 1", [8])]) == [[(9,)]]
        assert reads.script([("SELECT %s::int + 1", [9])]) == [[(10,)]]
        # a write transaction whose first statements were sent before the rest was made: when making
        # the rest fails, or one of its values cannot be sent, nothing of it is committed
        from kyogikai.projections.runtime import NotCommitted
        with pytest.raises(NotCommitted):
            reads.write_script([("INSERT INTO t VALUES (%s)", [10])], lambda: [("INSERT INTO t VALUES (%s)", [object()])])
        with pytest.raises(NotCommitted):
            reads.write_script([("INSERT INTO t VALUES (%s)", [11])], lambda: [("INSERT INTO t VALUES (%s)", [1 // 0])])
        with pytest.raises(NotCommitted):
            reads.write_script([("INSERT INTO t VALUES (%s)", [12])], lambda: [("SELECT 1 / 0", None)])
        reads.write_script([("INSERT INTO t VALUES (%s)", [13])], lambda: [("INSERT INTO t VALUES (%s)", [14])])
        assert reads.script([("SELECT n FROM t ORDER BY n", None)]) == [[(4,), (5,), (13,), (14,)]]
        assert reads.conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        assert reads.conn.pgconn.pipeline_status == 0
    finally:
        reads.close()


@pytest.mark.parametrize("discard", ["rebuild", "failed command"])
def test_commands_keep_working_after_psycopg_discards_the_connections_prepared_statements(pg_url, discard):
    """A long-lived process (the server, the console) reads through psycopg's cursors, which prepare a
    query run five times; psycopg then answers a ROLLBACK, a DROP or an ALTER it runs with DEALLOCATE
    ALL, which drops the statements the write path prepared too.  The next commands still run."""
    ids = scenario_store(pg_url)
    with Kyogikai(pg_url, actor="t") as app:
        meetings = [r[0] for r in app.query("SELECT id FROM rm_meetings WHERE status = 'scheduled' ORDER BY id")][:2]
        for i in range(3):   # the write path's statements prepared (on their second sighting)
            app.add_agenda(meetings[i % 2], [f"議題{i}"])
        for _ in range(6):   # ... and a read psycopg prepares
            app.query("SELECT COUNT(*) FROM rm_meetings WHERE status = ?", ("held",))
        if discard == "rebuild":   # the swap DROPs and ALTERs through psycopg
            app.rebuild()
        else:   # a command that fails inside its transaction: rolled back through psycopg
            with pytest.raises(Boom), app.atomic():
                app.add_agenda(meetings[0], ["取り消される議題"])
                raise Boom()
        for i in range(4, 8):
            app.add_agenda(meetings[i % 2], [f"議題{i}"])
            app.add_agenda(meetings[i % 2], [f"追加の議題{i}"])
    with Kyogikai(pg_url, actor="t") as app:
        texts = {r[0] for r in app.query("SELECT text FROM rm_agenda")}
    assert {f"議題{i}" for i in (0, 1, 2, 4, 5, 6, 7)} | {f"追加の議題{i}" for i in range(4, 8)} <= texts
    assert "取り消される議題" not in texts and ids
