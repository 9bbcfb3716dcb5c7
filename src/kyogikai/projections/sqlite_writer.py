"""A SQLite rebuild's writes, in a process of their own.

A rebuild on SQLite was half SQLite's own work (inserting rows at random places of large tables,
committing every piece) and half Python (decoding events, applying them), one after the other on
one core.  Here the rebuild hands each piece's statements to a writer process, which runs them on
its own connection while the rebuild goes on decoding and applying the next batch: two cores, and
Python's lock is not shared (a thread would need it for every row it binds).

The writer is this file run as a script (``python -I sqlite_writer.py PATH TIMEOUT``, standard library
only, so it starts in a few milliseconds): it reads pickled
requests on stdin and answers some of them on stdout.  Writes and BEGIN are not answered
(nothing waits for them); a read is, after every request sent before it (so it sees them, in the
same transaction), and so is a COMMIT, whose answer is read only when the rebuild needs that
piece committed (:meth:`SQLiteWriter.wait_committed`); the first error is kept and given as the
answer to every later read, sync or COMMIT, and every later write is skipped.  When its stdin closes (the rebuild finished,
failed, or was killed, SIGKILL included) the writer rolls back what it has not committed and exits;
a rebuild killed half-way leaves its fresh tables, which the next rebuild drops.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from typing import Any, Iterable, Sequence

# pickle, subprocess and signal are imported where used: every CLI process imports this module
# (through the runtime), and only a rebuild needs them

WRITES = ("INSERT", "UPDATE", "DELETE")
LEASE_LOST = "lease lost"   # the answer when a lease renewal found no lease row


class WriterFailed(Exception):
    """A request the writer could not run (its message), or the writer gone."""


def serve(path: str, timeout: float, inp: Any, out: Any) -> None:
    """The writer's loop: requests from ``inp`` until ``close`` or its end."""
    import pickle

    error: str | None = None
    try:
        conn = sqlite3.connect(path, isolation_level=None, timeout=timeout)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
    except sqlite3.Error as exc:   # answered to the first read, sync or COMMIT
        conn, error = sqlite3.connect(":memory:"), f"cannot open {path}: {exc}"
    cur = conn.cursor()

    def answer(message: tuple) -> None:
        pickle.dump(message, out, protocol=pickle.HIGHEST_PROTOCOL)
        out.flush()
    try:
        while True:
            try:
                request = pickle.load(inp)
            except EOFError:
                return
            op = request[0]
            if op == "close":
                return
            if op in ("query", "sync", "commit"):   # answered: rows, "ok", "committed", or the error
                if error is None:
                    try:
                        if op == "query":
                            cur.execute(request[1], request[2])
                            answer(("rows", cur.fetchall()))
                        elif op == "commit":
                            cur.execute("COMMIT")
                            answer(("committed",))
                        else:
                            answer(("ok",))
                        continue
                    except Exception as exc:
                        error = f"{type(exc).__name__}: {exc}"
                answer(("error", error))
                continue
            if error is not None:
                continue
            try:
                if op == "many":
                    cur.executemany(request[1], request[2])
                elif op == "exec":
                    cur.execute(request[1], request[2])
                elif op == "lease":   # an UPDATE of the lease row, which must still be there
                    cur.execute(request[1], request[2])
                    if cur.rowcount != 1:
                        error = LEASE_LOST
                elif op == "begin":
                    cur.execute("BEGIN IMMEDIATE")
                else:
                    error = f"unknown request {op!r}"
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"
    finally:
        if conn.in_transaction:
            conn.rollback()
        conn.close()


class SQLiteWriter:
    """The rebuild's side: starts the writer, sends it requests, waits for its answers."""

    PIPE_BYTES = 1 << 20   # the pipe to the writer holds a piece's rows (Linux: up to pipe-max-size)

    def __init__(self, path: str, timeout: float) -> None:
        import pickle
        import subprocess

        self._pickle, self._subprocess = pickle, subprocess
        # this file run as a script, isolated (-I): it needs nothing but the standard library
        self.proc = subprocess.Popen([sys.executable, "-I", os.path.abspath(__file__), path, repr(timeout)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        try:
            import fcntl
            fcntl.fcntl(self.proc.stdin.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), self.PIPE_BYTES)
        except (ImportError, OSError):   # pragma: no cover - another system: the default pipe size
            pass
        self.closed = False
        self.commits_sent = self.commits_done = 0
        self.rows: Any = None   # what the rebuild carries from one piece to the next (its row cache)

    def commit(self) -> None:
        """COMMIT the transaction the writer is in; its answer is read when it is waited for."""
        self.send(("commit",))
        self.commits_sent += 1

    def wait_committed(self, n: int) -> None:
        """Wait until the first ``n`` COMMITs sent have been made (raise if one failed)."""
        while self.commits_done < n:
            answer = self._read()
            if answer[0] != "committed":
                raise WriterFailed(answer[1] if answer[0] == "error" else f"unexpected answer {answer[0]!r}")
            self.commits_done += 1

    def send(self, request: tuple) -> None:
        try:
            self.proc.stdin.write(self._pickle.dumps(request, protocol=self._pickle.HIGHEST_PROTOCOL))
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError) as exc:
            raise WriterFailed(f"the rebuild's writer process stopped ({exc})") from None

    def _read(self) -> tuple:
        try:
            return self._pickle.load(self.proc.stdout)
        except (EOFError, OSError, self._pickle.UnpicklingError) as exc:
            raise WriterFailed(f"the rebuild's writer process stopped ({exc or 'no answer'})") from None

    def _answer(self) -> tuple:
        """The answer to the last query or sync (the COMMITs' answers before it are counted); the
        writer's first error is raised."""
        while True:
            answer = self._read()
            if answer[0] == "error":
                raise WriterFailed(answer[1])
            if answer[0] != "committed":
                return answer
            self.commits_done += 1

    def query(self, sql: str, params: Sequence[Any]) -> list[tuple]:
        self.send(("query", sql, list(params)))
        return self._answer()[1]

    def sync(self) -> None:
        """Wait until every request sent so far has run; raise the first that failed."""
        self.send(("sync",))
        self._answer()

    def cursor(self) -> "WriterCursor":
        return WriterCursor(self)

    def close(self) -> None:
        """Stop the writer: what it has not committed is rolled back."""
        if self.closed:
            return
        self.closed = True
        try:
            self.send(("close",))
        except WriterFailed:
            pass
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:   # pragma: no cover
                pass
        try:
            self.proc.wait(timeout=30)
        except self._subprocess.TimeoutExpired:   # pragma: no cover - a writer stuck in the database
            self.proc.kill()
            self.proc.wait()


class WriterCursor:
    """A DB-API cursor over the writer: writes are sent and not waited for; a read waits for its rows."""

    def __init__(self, writer: SQLiteWriter) -> None:
        self.writer = writer
        self.rows: list[tuple] | None = None

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        if sql.lstrip()[:6].upper() in WRITES and "RETURNING" not in sql.upper():
            self.rows = None
            self.writer.send(("exec", sql, list(params)))
        else:
            self.rows = self.writer.query(sql, params)

    def executemany(self, sql: str, seq: Iterable[Sequence[Any]]) -> None:
        self.rows = None
        self.writer.send(("many", sql, seq if isinstance(seq, list) else list(seq)))

    def fetchone(self) -> tuple | None:
        return self.rows.pop(0) if self.rows else None

    def fetchall(self) -> list[tuple]:
        rows, self.rows = self.rows or [], []
        return rows

    @property
    def description(self) -> Any:
        return True if self.rows is not None else None


def main() -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C is the rebuild's to handle: it closes us
    try:
        serve(sys.argv[1], float(sys.argv[2]), sys.stdin.buffer, sys.stdout.buffer)
    except (BrokenPipeError, EOFError, KeyboardInterrupt):   # the rebuild is gone: nothing to tell
        sys.exit(1)
    except Exception as exc:   # the rebuild says the writer stopped; this line says why
        print(f"kyogikai rebuild writer: {type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
