"""All-or-nothing batches of commands: run them on a scratch copy, then append their events at once.

A bulk operation such as ``import-report`` issues many application commands, each one normally a
transaction of its own.  Run that way, a rule refusing line 80 of a file, a crash or a SIGKILL
would leave lines 1–79 written.  :func:`run_staged` instead

1. copies the store into a scratch store on a temporary SQLite file — a SQLite store whole, with
   the backup API (events, read models, chain: a consistent snapshot); a PostgreSQL store's events
   (the exact stored bytes), whose read models are then built there;
2. runs the batch against a :class:`~kyogikai.app.Kyogikai` over that scratch store — the same
   commands, rules and read models, so nothing behaves differently;
3. appends the events the batch produced to the real store in ONE transaction of the library's
   recorder (ids, versions, topics and states as produced), then catches the real read models up.

Any error in step 2 leaves the real store untouched; a crash anywhere leaves it untouched or
complete.  If another process changed one of the same aggregates meanwhile, the append conflicts
by key and writes nothing; the batch re-makes its decisions from the new state and tries again (a
batch given to this function must therefore be re-runnable from fresh state — the importer is,
because it matches what the store already holds).

Cost: the copy is proportional to the store, paid once per batch: a file copy for SQLite; for
PostgreSQL, reading the log and projecting it (a few thousand events a second).  The scratch file lives in the system's temporary folder and is removed afterwards (a
SIGKILL can leave one behind there; it holds nothing that is not in the store).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Callable, TypeVar

from eventsourcing.persistence import IntegrityError, StoredEvent

from .app import Kyogikai
from .store import ConflictError

T = TypeVar("T")
ATTEMPTS = 3


def _snapshot_sqlite(source: str, target: Path) -> None:
    """A consistent copy of a whole SQLite store (events, read models, chain) with the backup API."""
    import sqlite3

    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(str(target))
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def _copy(app: Kyogikai, scratch: Kyogikai, upto: int) -> None:
    after = 0
    while after < upto:
        notes = app.store.recorder.select_notifications(start=after, limit=2000, stop=upto, inclusive_of_start=False)
        if not notes:
            break
        scratch.store.recorder.insert_events([
            StoredEvent(originator_id=n.originator_id, originator_version=n.originator_version, topic=n.topic,
                        state=bytes(n.state)) for n in notes])
        after = notes[-1].id


def run_staged(app: Kyogikai, batch: Callable[[Kyogikai], T]) -> T:
    """Run ``batch(scratch_app)`` and append what it wrote to ``app``'s store atomically; returns its result."""
    for attempt in range(1, ATTEMPTS + 1):
        with tempfile.TemporaryDirectory(prefix="kyogikai-staging-") as tmp:
            path = Path(tmp) / "scratch.sqlite"
            if app.location.kind == "sqlite":
                _snapshot_sqlite(app.location.path, path)
            with Kyogikai(str(path), actor=app.actor) as scratch:
                if app.location.kind != "sqlite":
                    _copy(app, scratch, app.store.max_position())
                scratch.sync()
                base = scratch.store.max_position()
                result = batch(scratch)
                new = [StoredEvent(originator_id=n.originator_id, originator_version=n.originator_version,
                                   topic=n.topic, state=bytes(n.state))
                       for n in scratch.store.recorder.select_notifications(
                           start=base, limit=10**9, inclusive_of_start=False)]
        if new:
            try:
                app.store.recorder.insert_events(new)   # one transaction: all or nothing
            except IntegrityError:
                if attempt == ATTEMPTS:
                    raise ConflictError("conflict: others kept changing the same records during the import; "
                                        "nothing was written, try again") from None
                continue
        app.sync()
        return result
    raise AssertionError("unreachable")  # pragma: no cover
