"""SIGKILL trials: kill a real ``kyogikai`` process at a random moment, then check nothing was lost.

Used by ``tests/test_crash.py`` (a few trials) and ``scripts/crash_trials.py`` (as many as asked).

``import``  — ``kyogikai import-report`` of the packaged FY2023 sample into a fresh store, killed after
              a seeded random delay.  Then: the store holds none or all of the import's events (the
              import is one transaction); importing again gives exactly the events of an
              uninterrupted run (none lost, none twice), a third import writes nothing; no meeting
              appears twice by its natural key; the report equals the uninterrupted run's.
``rebuild`` — a store of thousands of events (generated with the domain aggregates, appended in
              batches); even trials kill ``kyogikai rebuild``, odd trials kill ``kyogikai sync``
              catching up a thousand events appended behind the read models.  Then: no event lost.
Both       — the read models a fresh process sees after its catch-up equal a full rebuild
              (``Runtime.dump()``), and ``verify`` finds the hash chain intact.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from kyogikai.app import Kyogikai

ROOT = Path(__file__).resolve().parents[1]
NATURAL_KEY = "body_id, programme_id, kind, fiscal_year, ordinal, part, series, title, speaker, refers_to"
_CACHE: dict[str, Any] = {}


def report_text() -> str:
    return resources.files("kyogikai").joinpath("data", "demo_fy2023_report.txt").read_text(encoding="utf-8")


def report_path(work: Path) -> Path:
    p = work / "fy2023.txt"
    if not p.exists():
        p.write_text(report_text(), encoding="utf-8")
    return p


def cli(db: str, *args: str) -> tuple[int, str, str]:
    """The real CLI, in this process: (exit code, stdout, stderr)."""
    from click.testing import CliRunner

    from kyogikai.cli import run

    with CliRunner().isolation() as (out, err, *_):
        code = run(["--db", db, "--actor", "crash-trial", *args])
        return code, out.getvalue().decode(), err.getvalue().decode()


def reference(work: Path) -> dict[str, Any]:
    """The uninterrupted import: its event count and its report."""
    if "reference" not in _CACHE:
        db = str(work / "reference.sqlite")
        Kyogikai(db, actor="t").close()                # the store exists before the import (kyogikai init)
        code, out, err = cli(db, "import-report", str(report_path(work)))
        assert code == 0, err
        with Kyogikai(db, actor="t") as k:
            events = k.store.max_position()
        _CACHE["reference"] = {"events": events, "report": cli(db, "report", "--fiscal-year", "2023")[1]}
    return _CACHE["reference"]


# --- stores ----------------------------------------------------------------------------------------

def pg_schema_url(pg_url: str, suffix: str) -> str:
    base, _, query = pg_url.partition("?schema=")
    return f"{base}?schema={query}_{suffix}"


def drop_pg_schema(url: str) -> None:
    import psycopg

    base, _, schema = url.partition("?schema=")
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def generate_events(n: int, seed: int) -> list:
    """About ``n`` events of a plausible log: organisation, members, meetings and their lifecycle."""
    import datetime as dt

    from kyogikai.dates import Period
    from kyogikai.domain.formats import Format
    from kyogikai.domain.meeting import Attendance, Kind, Meeting
    from kyogikai.domain.organisation import Body, BodyKind, Member, MemberClass, MemberKind, Programme, Section

    rng = random.Random(seed)
    actor = "generator"
    prog = Programme.create("会議運営", Section.ALL, 8, None, actor)
    bodies = [Body.create(name=f"作業部会{i}", kind=BodyKind.WORKING_GROUP, programme=prog, parent=None, order=i,
                          inline=False, public=i != 3, description=None, actor=actor) for i in range(1, 6)]
    members = [Member.create(f"団体{i:02d}", MemberKind.CITY, MemberClass.MEMBER, None, actor) for i in range(12)]
    for b in bodies:
        for m in members[:8]:
            b.join(m.id, dt.date(2015, 4, 1), actor)
    events = [e for a in [prog, *bodies, *members] for e in a.collect()]
    day = dt.date(2015, 4, 6)
    while len(events) < n:
        b = rng.choice(bodies)
        day += dt.timedelta(days=rng.randint(0, 3))
        m = Meeting.schedule(kind=Kind.MEETING, programme_id=prog.id, body_id=b.id, period=Period.of(day),
                             title=f"打合せ{len(events)}", format=rng.choice(list(Format)), actor=actor,
                             agenda=[f"議題{j}" for j in range(rng.randint(0, 3))])
        roll = rng.random()
        if roll < 0.2:
            m.reschedule(Period.of(day + dt.timedelta(days=7)), None, None, actor, "都合により")
        elif roll < 0.3:
            m.cancel("中止", actor)
        elif roll < 0.8:
            for member in members[:8]:
                m.record_attendance(member.id, rng.choice([Attendance.PRESENT, Attendance.ABSENT]), actor)
            m.hold(None, None, None, actor)
        events += m.collect()
    return events


def build_store(db: str, events: list, sync_upto: int | None = None) -> None:
    """Append ``events`` in batches; catch the read models up to ``sync_upto`` events (all when None)."""
    upto = len(events) if sync_upto is None else sync_upto
    with Kyogikai(db, actor="t") as k:
        for i in range(0, upto, 2000):
            k.store.append(events[i:min(i + 2000, upto)])
        k.sync()
        for i in range(upto, len(events), 2000):
            k.store.append(events[i:i + 2000])


def copy_sqlite(src: str, dst: str) -> None:
    a, b = sqlite3.connect(src), sqlite3.connect(dst)
    try:
        a.backup(b)
    finally:
        a.close()
        b.close()


# --- a trial -----------------------------------------------------------------------------------------

def spawn(db: str, *args: str) -> subprocess.Popen:
    env = {**os.environ, "KYOGIKAI_ACTOR": "crash-trial"}
    env.pop("KYOGIKAI_DEBUG", None)
    # the trial's own temporary folder: a killed process must leave nothing there (checked after each trial)
    env["TMPDIR"] = os.environ.get("KYOGIKAI_TRIAL_TMP", tempfile.gettempdir())
    return subprocess.Popen([sys.executable, "-m", "kyogikai", "--db", db, *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def kill_after(proc: subprocess.Popen, delay: float) -> bool:
    """SIGKILL ``proc`` after ``delay`` seconds; True when it was still running (a real crash)."""
    deadline = time.monotonic() + delay
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        time.sleep(0.005)
    if proc.poll() is not None:
        return False
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return True


def timed_run(db: str, *args: str) -> float:
    t = time.monotonic()
    proc = spawn(db, *args)
    _, err = proc.communicate()
    assert proc.returncode == 0, err.decode()
    return time.monotonic() - t


def settle(db: str) -> list[str]:
    """Problems with the store after a crash: read models vs rebuild, chain, duplicates."""
    problems = []
    with Kyogikai(db, actor="t") as k:
        k.sync()
        live = k.runtime.dump()
        dups = k.query(f"SELECT {NATURAL_KEY}, COUNT(*) FROM rm_meetings GROUP BY {NATURAL_KEY} HAVING COUNT(*) > 1")
        if dups:
            problems.append(f"{len(dups)} meeting(s) twice by natural key")
        k.rebuild()
        if k.runtime.dump() != live:
            problems.append("read models after catch-up differ from a rebuild")
    code, out, err = cli(db, "verify")
    if code != 0:
        problems.append(f"verify failed: {out.strip()} {err.strip()}")
    return problems


@dataclass
class Outcome:
    what: str
    backend: str
    trials: int = 0
    killed: int = 0                  # still running when SIGKILL came
    events_lost: int = 0
    events_doubled: int = 0
    failures: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"{self.what}/{self.backend}: {self.trials} trials, {self.killed} killed mid-run, "
                f"{self.events_lost} events lost, {self.events_doubled} written twice, {len(self.failures)} failures")


def _count(k: Kyogikai) -> int:
    n = 0
    for _ in k.store.iter_all():
        n += 1
    return n


def events_in(db: str) -> int:
    with Kyogikai(db, actor="t") as k:
        return _count(k)


def run_trials(what: str, backend: str, trials: int, seed: int, work: Path, pg_url: str | None = None,
               size: int = 3000, log: Any = None) -> Outcome:
    rng = random.Random(seed)
    out = Outcome(what, backend)
    say = log or (lambda _msg: None)
    work.mkdir(parents=True, exist_ok=True)

    def fresh(i: int) -> str:
        if backend == "sqlite":
            return str(work / f"{what}-{i}-{uuid.uuid4().hex[:6]}.sqlite")
        assert pg_url, "PostgreSQL trials need pg_url"
        return pg_schema_url(pg_url, f"{what}{i}_{uuid.uuid4().hex[:6]}")

    made: list[str] = []
    scratch = work / "tmp"
    scratch.mkdir(exist_ok=True)
    os.environ["KYOGIKAI_TRIAL_TMP"] = str(scratch)
    try:
        if what == "import":
            ref = reference(work)
            path = str(report_path(work))
            probe = fresh(0)
            made.append(probe)
            Kyogikai(probe, actor="t").close()             # the store exists before the process starts
            full = timed_run(probe, "import-report", path)
            for i in range(1, trials + 1):
                db = fresh(i)
                made.append(db)
                Kyogikai(db, actor="t").close()        # the store exists before the process starts
                delay = rng.uniform(0.25, 0.9 * full)
                killed = kill_after(spawn(db, "import-report", path), delay)
                out.killed += killed
                left = sorted(p.name for p in scratch.iterdir())
                if left:
                    out.failures.append(f"trial {i}: the killed import left {left} in the temporary folder")
                    for p in scratch.iterdir():
                        shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink()
                n0 = events_in(db)
                if n0 not in (0, ref["events"]):
                    out.failures.append(f"trial {i}: a killed import left {n0} of {ref['events']} events")
                code, _, err = cli(db, "import-report", path)
                if code != 0:
                    out.failures.append(f"trial {i}: re-import failed: {err.strip()}")
                n1 = events_in(db)
                out.events_lost += max(0, ref["events"] - n1)
                out.events_doubled += max(0, n1 - ref["events"])
                if n1 != ref["events"]:
                    out.failures.append(f"trial {i}: {n1} events after re-import, {ref['events']} expected")
                code, stdout, _ = cli(db, "import-report", path)
                if code != 0 or "nothing to import" not in stdout or events_in(db) != n1:
                    out.failures.append(f"trial {i}: a third import was not a no-op")
                if cli(db, "report", "--fiscal-year", "2023")[1] != ref["report"]:
                    out.failures.append(f"trial {i}: the report differs from the uninterrupted run's")
                out.failures += [f"trial {i}: {p}" for p in settle(db)]
                out.trials += 1
                say(f"trial {i}: delay {delay:.2f}s of {full:.2f}s, killed={killed}, events {n0} -> {n1}")
        elif what == "rebuild":
            events = generate_events(size, seed)
            template = str(work / f"template-{uuid.uuid4().hex[:6]}.sqlite")
            made.append(template)
            build_store(template, events, sync_upto=len(events) - 1000)
            base = events[: len(events) - 1000]
            times: dict[str, float] = {}
            for i in range(1, trials + 1):
                mode = "rebuild" if i % 2 else "sync"
                db = fresh(i)
                made.append(db)
                if backend == "sqlite":
                    copy_sqlite(template, db)
                else:
                    build_store(db, events, sync_upto=len(base))
                if mode not in times:
                    probe = fresh(100 + i)
                    made.append(probe)
                    if backend == "sqlite":
                        copy_sqlite(template, probe)
                    else:
                        build_store(probe, events, sync_upto=len(base))
                    times[mode] = timed_run(probe, mode)
                delay = rng.uniform(0.25, 0.9 * times[mode])
                killed = kill_after(spawn(db, mode), delay)
                out.killed += killed
                n = events_in(db)
                out.events_lost += max(0, len(events) - n)
                out.events_doubled += max(0, n - len(events))
                if n != len(events):
                    out.failures.append(f"trial {i}: {n} events after a killed {mode}, {len(events)} expected")
                out.failures += [f"trial {i}: {p}" for p in settle(db)]
                out.trials += 1
                say(f"trial {i}: {mode} killed after {delay:.2f}s of {times[mode]:.2f}s, killed={killed}, events {n}")
        else:
            raise ValueError(what)
    finally:
        import shutil

        shutil.rmtree(scratch, ignore_errors=True)
        for db in made:
            if db.startswith("postgresql://"):
                drop_pg_schema(db)
            else:
                for suffix in ("", "-wal", "-shm"):
                    Path(db + suffix).unlink(missing_ok=True)
    return out
