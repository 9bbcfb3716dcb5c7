"""Round trips and statements of a command and of the reference import on PostgreSQL (libpq trace).

    python benchmarks/pg_roundtrips.py [--pg URL] [--commands K]

Every connection the process opens is traced by libpq (``PGconn.trace``); a round trip is a message
after which the client waits for the server: a simple Query, an extended-protocol Sync, or a Flush
request in pipeline mode (not one right after a Sync: psycopg sends that pair at the end of a
pipeline, and the client waits once).  Statements are simple Queries and extended-protocol Binds (a simple Query
holding several statements counts once).  Prints the figures per command (``meeting agenda add`` on
a 3,000-event store, after warming up) and for ``import-report`` of the FY2023 reference.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import psycopg  # noqa: E402

from workload import generate  # noqa: E402

from kyogikai.app import Kyogikai  # noqa: E402
from kyogikai.store import EventStore, Location  # noqa: E402

REFERENCE = Path(os.environ.get("KYOGIKAI_REFERENCE") or HERE.parent.parent / "shared" / "reference" / "fy2023-annual-report.txt")
_traces: list[tuple[psycopg.Connection, Path]] = []
_connect = psycopg.Connection.connect.__func__  # type: ignore[attr-defined]


def _traced_connect(cls, *args, **kwargs):   # every connection, the library's pool's too
    conn = _connect(cls, *args, **kwargs)
    fd, name = tempfile.mkstemp(prefix="pgtrace")
    conn.pgconn.trace(fd)
    conn.pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS)
    _traces.append((conn, Path(name)))
    return conn


def count(files: list[Path], start_marker: str | None = None, end_marker: str | None = None) -> tuple[int, int]:
    trips = statements = 0
    for path in files:
        on = start_marker is None
        previous = ""
        for line in path.read_text(errors="replace").splitlines():
            parts = line.split("\t")
            if len(parts) < 3 or parts[0] != "F":
                continue
            if start_marker and start_marker in line:
                on = True
                continue
            if end_marker and end_marker in line:
                on = False
            if not on:
                continue
            if parts[2] in ("Query", "Sync") or (parts[2] == "Flush" and previous != "Sync"):
                trips += 1      # psycopg follows a pipeline's Sync with a Flush: one wait, not two
            previous = parts[2]
            if parts[2] in ("Query", "Bind"):
                statements += 1
    return trips, statements


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pg", default=os.environ.get("KYOGIKAI_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test"))
    ap.add_argument("--commands", type=int, default=20)
    args = ap.parse_args()
    schema = "rt_" + uuid.uuid4().hex[:8]
    db = f"{args.pg}?schema={schema}"
    try:
        store = EventStore(Location.parse(db), create=True)
        events = list(generate(1, 3000))
        for i in range(0, len(events), 1000):
            store.append(events[i:i + 1000])
        store.close()
        psycopg.Connection.connect = classmethod(_traced_connect)  # type: ignore[method-assign]
        psycopg.connect = psycopg.Connection.connect  # type: ignore[misc]
        k = args.commands
        with Kyogikai(db, actor="bench") as app:
            app.sync()
            ids = [r[0] for r in app.query("SELECT id FROM rm_meetings WHERE status = 'held' AND kind = 'meeting' "
                                           "ORDER BY id LIMIT ?", (k + 3,))]
            for i in range(3):
                app.add_agenda(ids[i], [f"warm-up {i}"])
            for conn, _ in _traces:
                if not conn.closed:
                    conn.execute("SELECT 'rt-start'")
            for i in range(k):
                app.add_agenda(ids[3 + i][:8], [f"measured {i}"])
            for conn, _ in _traces:
                if not conn.closed:
                    conn.execute("SELECT 'rt-end'")
        trips, stmts = count([p for _, p in _traces], "rt-start", "rt-end")
        print(f"command (meeting agenda add): {trips / k:.1f} round trips, {stmts / k:.1f} statements")
        if REFERENCE.exists():
            from kyogikai.report.importer import import_report_text

            imp = f"{args.pg}?schema={schema}_imp"
            with Kyogikai(imp, actor="bench") as app:
                app.meetings()
            del _traces[:]
            with Kyogikai(imp, actor="bench") as app:
                n = import_report_text(app, REFERENCE.read_text(encoding="utf-8")).events
            trips, stmts = count([p for _, p in _traces])
            print(f"import-report of the reference ({n} events): {trips} round trips, {stmts} statements")
    finally:
        for conn, path in _traces:
            path.unlink(missing_ok=True)
        with psycopg.connect(args.pg, autocommit=True) as c:
            for s in (schema, schema + "_imp"):
                c.execute(f'DROP SCHEMA IF EXISTS "{s}" CASCADE')


if __name__ == "__main__":
    main()
