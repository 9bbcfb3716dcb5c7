"""The row cache a rebuild carries from one piece to the next (:class:`CachedRows`), rows in, rows out.

A rebuild on SQLite hands its writes to a writer process: what a piece wrote may not be committed
yet when the next piece runs.  So a row the current piece did not touch is taken from the piece
before (kept one more piece), and only a row neither touched is read from what was committed —
after waiting (once per piece) for the writer to have committed the pieces before those two.
"""

from __future__ import annotations

import sqlite3

import pytest

from kyogikai.projections.runtime import CachedRows, CommittedRows, Table

pytestmark = pytest.mark.unit

T = Table("rm_t", {"id": "text", "n": "int"}, ("id",))


class Writes:
    """A cursor that only keeps what was sent to it (as the writer process is sent a piece's rows)."""

    def __init__(self) -> None:
        self.sent: list = []

    def execute(self, sql, params=()):
        self.sent.append((sql, list(params)))

    def executemany(self, sql, seq):
        self.sent += [(sql, list(p)) for p in seq]


def committed_store(rows: dict[str, int]) -> sqlite3.Cursor:
    c = sqlite3.connect(":memory:").cursor()
    c.execute("CREATE TABLE rm_t (id TEXT PRIMARY KEY, n INTEGER)")
    c.executemany("INSERT INTO rm_t VALUES (?, ?)", list(rows.items()))
    return c


def test_a_row_of_the_last_piece_is_known_without_asking_and_an_older_one_after_the_wait():
    waits: list[str] = []
    rows = CachedRows(Writes(), "?")
    rows.committed = CommittedRows(committed_store({"old": 1, "b": 0}), "?", {}, lambda: waits.append("waited"))
    rows.put(T, {"id": "a", "n": 1})            # piece 1 (not committed: the committed store lacks it)
    rows.delete(T, "b")
    rows.next_generation()                      # piece 2
    assert rows.get(T, "a") == {"id": "a", "n": 1} and rows.get(T, "b") is None
    assert waits == []                          # known from the last piece: no wait, nothing read
    rows.next_generation()                      # piece 3: "a" was touched in piece 2, so it is still known
    assert rows.get(T, "a") == {"id": "a", "n": 1} and waits == []
    assert rows.get(T, "old") == {"id": "old", "n": 1}
    assert rows.get(T, "new") is None
    assert waits == ["waited"]                  # the first read of an older row waits, once
    rows.next_generation()
    rows.next_generation()                      # two pieces on, untouched rows come from the committed store
    assert rows.get(T, "a") is None             # (which, here, never got "a": a stand-in that shows the source)


def test_the_next_piece_starts_with_the_last_ones_writes_sent():
    w = Writes()
    rows = CachedRows(w, "?")
    rows.put(T, {"id": "a", "n": 1})
    rows.next_generation()
    assert [p for _, p in w.sent] == [["a", 1]]
