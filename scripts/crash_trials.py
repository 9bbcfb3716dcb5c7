#!/usr/bin/env python3
"""SIGKILL trials standing alone: ``python scripts/crash_trials.py --trials 100``.

Kills real ``kyogikai import-report``, ``kyogikai rebuild`` and ``kyogikai sync`` processes after a
seeded random delay and checks, after each, that no event was lost or written twice, that the import
repeats idempotently, and that every read model equals a rebuild (see ``tests/crashkit.py``).

The trials are shared between import and rebuild, on SQLite and — when it answers — PostgreSQL
(``--pg``, default ``KYOGIKAI_TEST_PG`` or postgresql://postgres@127.0.0.1:5432/test).  Exit status 0
when every trial passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from tests import crashkit  # noqa: E402


def pg_ok(url: str) -> bool:
    try:
        import psycopg

        with psycopg.connect(url.split("?")[0], connect_timeout=3):
            return True
    except Exception:
        return False


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=100, help="total trials (default 100)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    ap.add_argument("--what", choices=["import", "rebuild", "both"], default="both")
    ap.add_argument("--size", type=int, default=3000, help="events in the rebuild store (default 3000)")
    ap.add_argument("--pg", default=os.environ.get("KYOGIKAI_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test"))
    ap.add_argument("-v", "--verbose", action="store_true", help="one line per trial")
    args = ap.parse_args()

    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    if "postgres" in backends and not pg_ok(args.pg):
        print(f"PostgreSQL does not answer at {args.pg}: SQLite only", file=sys.stderr)
        backends.remove("postgres")
        if not backends:
            return 1
    whats = ["import", "rebuild"] if args.what == "both" else [args.what]
    combos = [(b, w) for b in backends for w in whats]
    share = [args.trials // len(combos) + (1 if i < args.trials % len(combos) else 0) for i in range(len(combos))]

    pg_base = f"{args.pg.split('?')[0]}?schema=crash_{uuid.uuid4().hex[:8]}"
    totals = {"trials": 0, "killed": 0, "lost": 0, "doubled": 0, "failures": 0}
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="kyogikai-crash-") as tmp:
        for (backend, what), n in zip(combos, share):
            if n == 0:
                continue
            out = crashkit.run_trials(what, backend, trials=n, seed=args.seed, work=Path(tmp) / f"{backend}-{what}",
                                      pg_url=pg_base if backend == "postgres" else None, size=args.size,
                                      log=print if args.verbose else None)
            print(out.summary())
            for f in out.failures:
                print(f"  FAIL {f}")
            totals["trials"] += out.trials
            totals["killed"] += out.killed
            totals["lost"] += out.events_lost
            totals["doubled"] += out.events_doubled
            totals["failures"] += len(out.failures)
    print(f"total: {totals['trials']} trials ({totals['killed']} killed mid-run) in {time.monotonic() - started:.0f}s; "
          f"events lost {totals['lost']}, written twice {totals['doubled']}, failures {totals['failures']}")
    return 0 if totals["failures"] == 0 and totals["lost"] == 0 and totals["doubled"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
