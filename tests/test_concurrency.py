"""Concurrency (issue 7, item 2, commands): four processes against the same meetings; conflicts
retried where that is safe (``app.retry_on_conflict``) and reported (exit 3) where it is not.
"""

from __future__ import annotations

import multiprocessing as mp
import random
import re
from uuid import UUID

import pytest

from kyogikai.app import CONFLICT_ATTEMPTS, Kyogikai
from kyogikai.domain.meeting import Meeting
from kyogikai.store import ConflictError, EventStore

from .conftest import CLI
from .dbtools import count_events, execute, is_sqlite, scenario_store

MEMBERS = ["名古屋市", "豊橋市", "岡崎市"]


def setup_store(cli: CLI) -> dict[str, str]:
    return scenario_store(cli.db, tuple(MEMBERS))


class Interleave:
    """Before the first ``n`` appends of the patched store, another process's change lands first."""

    def __init__(self, monkeypatch, db: str, change, times: int = 1) -> None:
        self.db, self.change, self.left, self.busy = db, change, times, False
        original = EventStore.append

        def append(store, events):
            if self.left and not self.busy:
                self.left -= 1
                self.busy = True
                try:
                    with Kyogikai(db, actor="他の職員") as other:
                        self.change(other)
                finally:
                    self.busy = False
            return original(store, events)

        monkeypatch.setattr(EventStore, "append", append)


def test_safe_command_is_retried_on_conflict(db, monkeypatch):
    cli = CLI(db)
    ids = setup_store(cli)
    mid = ids["第1回定期総会"]
    before = count_events(db)
    Interleave(monkeypatch, db, lambda other: other.add_agenda(mid, ["他の職員の議題"]))
    r = cli("meeting", "agenda", "add", mid[:8], "役員の選任について")
    assert "1 event" in r.out
    monkeypatch.undo()
    agenda = [h["data"]["text"] for h in cli("history", mid, "--json").json() if h["event"] == "AgendaItemAdded"]
    assert agenda[-2:] == ["他の職員の議題", "役員の選任について"]      # neither lost
    assert count_events(db) == before + 2


def test_retried_command_rechecks_its_rules(db, monkeypatch):
    """The retry re-makes the decision: the same item added meanwhile is now a clear rule error."""
    cli = CLI(db)
    ids = setup_store(cli)
    mid = ids["第1回定期総会"]
    before = count_events(db)
    Interleave(monkeypatch, db, lambda other: other.add_agenda(mid, ["役員の選任について"]))
    r = cli("meeting", "agenda", "add", mid[:8], "役員の選任について", expect=2)
    assert "already on the agenda" in r.err and r.err.count("\n") == 1
    assert count_events(db) == before + 1


def test_unsafe_command_reports_the_conflict(db, monkeypatch):
    cli = CLI(db)
    ids = setup_store(cli)
    mid = ids["第1回幹事会"]
    before = count_events(db)
    Interleave(monkeypatch, db, lambda other: other.cancel(mid, "重複"))
    r = cli("meeting", "reschedule", mid[:8], "--date", "令和5年5月31日", expect=3)
    assert r.err.startswith("error: conflict:") and r.err.count("\n") == 1 and "try again" in r.err
    monkeypatch.undo()
    assert count_events(db) == before + 1                     # only the other clerk's cancellation
    # looking again, the user sees why: the meeting was cancelled
    assert "cancelled" in cli("meeting", "reschedule", mid[:8], "--date", "令和5年5月31日", expect=2).err


def test_persistent_conflict_is_reported_after_the_retries(db, monkeypatch):
    cli = CLI(db)
    ids = setup_store(cli)
    mid = ids["第1回定期総会"]
    n = [0]

    def change(other):
        n[0] += 1
        other.add_agenda(mid, [f"割込み{n[0]}"])

    Interleave(monkeypatch, db, change, times=CONFLICT_ATTEMPTS)
    r = cli("meeting", "agenda", "add", mid[:8], "役員の選任について", expect=3)
    assert "conflict" in r.err and n[0] == CONFLICT_ATTEMPTS


def test_which_commands_retry():
    safe = {"create_programme", "create_body", "create_member", "join", "schedule", "add_agenda",
            "record_attendance", "record_participation", "record_drill_result"}
    flagged = {name for name in dir(Kyogikai) if getattr(getattr(Kyogikai, name), "retries_conflicts", False)}
    assert flagged == safe
    for unsafe in ("reschedule", "cancel", "reinstate", "hold", "change_details", "record_outcome",
                   "withdraw_agenda", "write_narrative"):
        assert unsafe not in flagged


# --- four processes ----------------------------------------------------------------------------

def _worker(db: str, name: str, meetings: list[str], n: int, seed: int, barrier, results) -> None:
    from click.testing import CliRunner

    from kyogikai.cli import run

    rng = random.Random(seed)
    log = []
    barrier.wait(timeout=120)
    for i in range(n):
        mid = rng.choice(meetings)[:8]
        roll = rng.random()
        if roll < 0.35:
            args = ["meeting", "agenda", "add", mid, f"{name}の議題{i}"]
        elif roll < 0.55:
            args = ["meeting", "attendance", mid, rng.choice(["--present", "--absent"]), rng.choice(MEMBERS)]
        elif roll < 0.8:
            args = ["meeting", "reschedule", mid, "--date", f"2023-06-{rng.randint(1, 28):02d}"]
        elif roll < 0.9:
            args = ["meeting", "cancel", mid]
        else:
            args = ["meeting", "reinstate", mid]
        with CliRunner().isolation() as (out, err, *_):
            code = run(["--db", db, "--actor", name, *args])
            log.append((args, code, out.getvalue().decode(), err.getvalue().decode()))
    results.put((name, log))


def test_four_processes_same_meetings_nothing_lost(db):
    per_process = 24 if is_sqlite(db) else 14
    cli = CLI(db)
    ids = setup_store(cli)
    meetings = [ids["第1回定期総会"], ids["第1回幹事会"], ids["第1回運営委員会"]]
    base = count_events(db)
    ctx = mp.get_context("spawn")
    barrier, results = ctx.Barrier(4), ctx.Queue()
    names = [f"職員{i}" for i in range(1, 5)]
    procs = [ctx.Process(target=_worker, args=(db, name, meetings, per_process, 100 + i, barrier, results))
             for i, name in enumerate(names)]
    for p in procs:
        p.start()
    logs = dict(results.get(timeout=600) for _ in procs)
    for p in procs:
        p.join(60)
        assert p.exitcode == 0

    outcomes = {0: 0, 2: 0, 3: 0}
    added: dict[str, list[str]] = {m: [] for m in meetings}
    by_actor = {}
    for name, log in logs.items():
        written = 0
        for args, code, out, err in log:
            assert code in (0, 2, 3), (args, code, out, err)
            outcomes[code] += 1
            assert "Traceback" not in out + err
            if code == 0:
                written += int(re.search(r"\(id [0-9a-f]{8}, (\d+) events?\)", out).group(1))
                if args[1] == "agenda":
                    added[next(m for m in meetings if m.startswith(args[3]))].append(args[4])
            else:
                assert err.count("\n") == 1 and err.startswith("error: "), err
                if code == 3:
                    assert "conflict" in err and args[1] in ("reschedule", "cancel", "reinstate", "agenda",
                                                            "attendance")
        by_actor[name] = written
    # every successful command's events are in the log, and nothing else was written
    total = count_events(db)
    assert total == base + sum(by_actor.values())
    with Kyogikai(db, actor="t") as k:
        per_actor = {}
        for _, e in k.store.iter_all():
            per_actor[e.actor] = per_actor.get(e.actor, 0) + 1
        assert {n: per_actor.get(n, 0) for n in names} == by_actor
        # no lost update: the final state is the replay of the log, in the read models too
        for mid in meetings:
            agg = k.store.get(Meeting, UUID(mid))
            row = k.rows(__import__("kyogikai.projections.schedule", fromlist=["MEETINGS"]).MEETINGS, id=mid)[0]
            assert (row["status"], row["start_date"]) == (agg.status.value, agg.period.start.isoformat())
            texts = [v["text"] for v in agg.agenda.values()]
            assert all(t in texts for t in added[mid]), "an added agenda item was lost"
            rm = [r[0] for r in k.query("SELECT text FROM rm_agenda WHERE meeting_id = ?", (mid,))]
            assert sorted(rm) == sorted(texts)
        live = k.runtime.dump()
        k.rebuild()
        assert k.runtime.dump() == live
    assert "intact" in cli("verify").out
    assert execute(db, "SELECT COUNT(*) FROM kyogikai_chain")[0][0] == total
    print(f"4 processes x {per_process} commands: {outcomes[0]} ok, {outcomes[2]} refused by a rule, "
          f"{outcomes[3]} conflicts reported")
    assert outcomes[0] > 0
