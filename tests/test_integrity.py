"""Tamper evidence (issue 7, item 7): the hash chain and ``kyogikai verify``.

Every test alters the database directly — as an intruder with SQL access would — BEFORE the first
``verify``, so the chain it checks is the one grown by the ordinary commands' catch-ups.
"""

from __future__ import annotations

import re

from kyogikai.app import Kyogikai

from .conftest import CLI
from .dbtools import (count_events, execute, insert_raw_event, is_sqlite, move_event, pos_col, positions,
                      scenario_store, swap_events)
from .scenario import run_scenario

TAMPERED = 5


def problems(r) -> list[tuple[int, str]]:
    return [(int(m.group(1)), m.group(2)) for m in re.finditer(r"^position (\d+): (\w+): ", r.out, re.M)]


def check_refused(r) -> None:
    assert r.code == TAMPERED
    assert r.err.count("\n") == 1 and r.err.startswith("error: the log fails verification"), r.err
    assert "Traceback" not in r.out + r.err


def test_intact_log_verifies_and_chain_follows_every_command(cli, db):
    ids = run_scenario(cli)
    n = count_events(db)
    chained = execute(db, "SELECT COUNT(*), MAX(position) FROM kyogikai_chain")[0]
    assert chained == (n, positions(db)[-1])          # the commands' catch-ups chained everything
    r = cli("verify")
    assert f"verified {n} event(s): the chain of {n} is intact" in r.out
    head = re.search(r"^head (\d+:[0-9a-f]{64})$", r.out, re.M).group(1)
    cli("meeting", "hold", ids["第1回幹事会"][:8])
    cli("rebuild")                                      # the chain is not a read model
    assert execute(db, "SELECT COUNT(*) FROM kyogikai_chain")[0][0] == n + 1
    r = cli("verify", "--anchor", head)
    assert "anchor" in r.out and "holds" in r.out


def test_altered_event_is_reported_with_its_position(cli, db):
    scenario_store(db)
    pos = positions(db)[5]
    execute(db, f"UPDATE stored_events SET state = ? WHERE {pos_col(db)} = ?",
            (b'{"timestamp":"2023-04-01T00:00:00Z","actor":"x","name":"forged"}', pos))
    r = cli("verify", expect=TAMPERED)
    check_refused(r)
    assert problems(r) == [(pos, "altered")]
    assert f"first at position {pos} (altered)" in r.err


def test_one_changed_byte_in_state_topic_or_version_is_found(cli, db):
    scenario_store(db)
    p = positions(db)
    # a one-character edit of the JSON (the 第2回 meeting moves a day), a topic, a version
    state = execute(db, f"SELECT state FROM stored_events WHERE {pos_col(db)} = ?", (p[3],))[0][0]
    edited = bytes(state).replace(b'"20', b'"19', 1)
    assert edited != bytes(state)
    execute(db, f"UPDATE stored_events SET state = ? WHERE {pos_col(db)} = ?", (edited, p[3]))
    execute(db, f"UPDATE stored_events SET topic = ? WHERE {pos_col(db)} = ?", ("kyogikai:BodyRenamed:v1", p[7]))
    execute(db, f"UPDATE stored_events SET originator_version = originator_version + 100 WHERE {pos_col(db)} = ?", (p[9],))
    r = cli("verify", expect=TAMPERED)
    assert problems(r) == [(p[3], "altered"), (p[7], "altered"), (p[9], "altered")]


def test_deleted_events_including_the_last_are_reported(cli, db):
    scenario_store(db)
    p = positions(db)
    execute(db, f"DELETE FROM stored_events WHERE {pos_col(db)} IN (?, ?)", (p[2], p[-1]))
    r = cli("verify", expect=TAMPERED)
    check_refused(r)
    assert problems(r) == [(p[2], "deleted"), (p[-1], "deleted")]


def test_deleted_last_event_is_found_after_new_events_were_written(cli, db):
    ids = scenario_store(db)
    last = positions(db)[-1]
    execute(db, f"DELETE FROM stored_events WHERE {pos_col(db)} = ?", (last,))
    cli("meeting", "hold", ids["第1回幹事会"][:8])     # never reuses a chained position (SQLite would)
    r = cli("verify", expect=TAMPERED)
    assert problems(r) == [(last, "deleted")]


def test_reordered_events_are_reported(cli, db):
    scenario_store(db)
    p = positions(db)
    swap_events(db, p[4], p[6])
    top = p[-1] + 50
    move_event(db, p[1], top)                          # moved to the end, out of its place
    r = cli("verify", expect=TAMPERED)
    check_refused(r)
    assert problems(r) == [(p[1], "reordered"), (p[4], "reordered"), (p[6], "reordered"), (top, "reordered")]
    assert f"position {p[4]}: reordered: the event stored here was chained at position {p[6]}" in r.out


def test_inserted_event_below_the_head_is_reported(cli, db):
    scenario_store(db)
    p = positions(db)
    execute(db, f"DELETE FROM stored_events WHERE {pos_col(db)} = ?", (p[2],))
    execute(db, "DELETE FROM kyogikai_chain WHERE position = ?", (p[2],))   # a careful intruder…
    r = cli("verify", expect=TAMPERED)
    assert problems(r) == [(p[3], "chain")]                                  # …breaks the next link
    # a forged event slipped into the freed position below the head
    execute(db, f"INSERT INTO stored_events (originator_id, originator_version, topic, state, {pos_col(db)}) "
                "VALUES (?, 1, 'kyogikai:ProgrammeRenamed:v1', ?, ?)",
            ("0" * 31 + "1" if is_sqlite(db) else "00000000-0000-4000-8000-000000000001",
             b'{"timestamp":"2023-04-01T00:00:00Z","actor":"x","name":"n"}', p[2]))
    r = cli("verify", expect=TAMPERED)
    assert problems(r) == [(p[2], "inserted"), (p[3], "chain")]


def test_edited_chain_is_reported(cli, db):
    scenario_store(db)
    p = positions(db)
    execute(db, "UPDATE kyogikai_chain SET hash = ? WHERE position = ?", ("f" * 64, p[4]))
    r = cli("verify", expect=TAMPERED)
    assert problems(r) == [(p[4], "chain"), (p[5], "chain")]


def test_rewritten_log_and_chain_fail_against_an_anchor(cli, db):
    """An intruder who also recomputes the chain is caught by a head kept elsewhere."""
    scenario_store(db)
    head = re.search(r"^head (\S+)$", cli("verify").out, re.M).group(1)
    p = positions(db)
    execute(db, f"UPDATE stored_events SET state = ? WHERE {pos_col(db)} = ?",
            (b'{"timestamp":"2023-04-01T00:00:00Z","actor":"x","name":"forged"}', p[0]))
    rechain(db)                                         # the intruder recomputes the whole chain
    assert "intact" in cli("verify").out                 # consistent in itself: nothing to compare with…
    r = cli("verify", "--anchor", head, expect=TAMPERED)  # …except the anchor
    assert problems(r) == [(int(head.split(":")[0]), "chain")]
    assert "rewritten" in r.out
    assert "--anchor" in cli("verify", "--anchor", "12:xyz", expect=2).err


def test_tampered_log_is_not_chained_further(cli, db):
    ids = scenario_store(db)
    p = positions(db)
    execute(db, f"DELETE FROM stored_events WHERE {pos_col(db)} = ?", (p[3],))
    insert_raw_event(db, "00000000-0000-4000-8000-000000000001", 1, "kyogikai:ProgrammeRenamed:v1",
                     b'{"timestamp":"2023-04-01T00:00:00Z","actor":"x","name":"n"}')
    # an event not yet chained when verify runs on a tampered log stays unchained
    with Kyogikai(db, actor="t") as k:
        k.runtime.ledger = None
        k.sync()
    before = execute(db, "SELECT COUNT(*) FROM kyogikai_chain")[0][0]
    cli("verify", expect=TAMPERED)
    assert execute(db, "SELECT COUNT(*) FROM kyogikai_chain")[0][0] == before
    assert ids


def test_events_written_without_catch_up_are_chained_in_their_own_transaction(db):
    with Kyogikai(db, actor="t") as k:
        k.create_programme("会議運営", "all", 8)
        k.create_body("幹事会", programme="会議運営")
    from kyogikai.dates import parse_period
    from kyogikai.domain.formats import Format
    from kyogikai.domain.meeting import Kind, Meeting
    from kyogikai.store import EventStore, Location

    with Kyogikai(db, actor="other") as k:
        b = k.body("幹事会")
    m = Meeting.schedule(kind=Kind.MEETING, programme_id=b["programme_id"], body_id=b["id"], ordinal=1,
                         period=parse_period("令和5年5月24日"), format=Format.WEB, actor="other")
    store = EventStore(Location.parse(db))
    store.save(m)                                         # a bare store: events only, no read models…
    store.close()
    assert execute(db, "SELECT COUNT(*) FROM kyogikai_chain")[0][0] == 3   # …but chained at once
    assert "intact" in CLI(db)("verify").out


def test_verify_on_an_empty_store(tmp_path):
    r = CLI(str(tmp_path / "empty.sqlite"))("verify")
    assert "verified 0 event(s)" in r.out and "(empty log)" in r.out


def rechain(db: str) -> None:
    """What an intruder with SQL access can do: recompute the whole chain over the stored events."""
    from kyogikai.ledger import GENESIS, event_digest, link

    execute(db, "DELETE FROM kyogikai_chain")
    prev = GENESIS
    for pos, oid, v, topic, state in execute(db, f"SELECT {pos_col(db)}, originator_id, originator_version, topic, "
                                                 f"state FROM stored_events ORDER BY {pos_col(db)}"):
        digest = event_digest(oid, v, topic, bytes(state))
        prev = link(prev, pos, digest)
        execute(db, "INSERT INTO kyogikai_chain (position, event_hash, hash) VALUES (?, ?, ?)", (pos, digest, prev))


def test_edited_event_with_its_chain_records_deleted_is_reported(cli, db):
    """Issue 16.9: an edit hidden by deleting the chain from that event on no longer verifies (nor is re-sealed)."""
    scenario_store(db)
    p = positions(db)
    execute(db, f"UPDATE stored_events SET state = ? WHERE {pos_col(db)} = ?",
            (b'{"timestamp":"2023-04-01T00:00:00Z","actor":"x","name":"forged"}', p[5]))
    execute(db, "DELETE FROM kyogikai_chain WHERE position >= ?", (p[5],))
    chain_before = execute(db, "SELECT * FROM kyogikai_chain ORDER BY position")
    for _ in range(2):                                  # and it stays reported: verify re-seals nothing
        r = cli("verify", expect=TAMPERED)
        check_refused(r)
        assert problems(r) == [(q, "unchained") for q in p[5:]]
    assert execute(db, "SELECT * FROM kyogikai_chain ORDER BY position") == chain_before


def test_dropped_chain_table_is_reported(cli, db):
    scenario_store(db)
    execute(db, "DROP TABLE kyogikai_chain")
    r = cli("verify", expect=TAMPERED)
    check_refused(r)
    assert "kyogikai_chain is missing" in r.out
    r = cli("verify", expect=TAMPERED)                   # verify did not create it again
    assert "kyogikai_chain is missing" in r.out


def test_event_row_appended_directly_is_reported(cli, db):
    scenario_store(db)
    insert_raw_event(db, "00000000-0000-4000-8000-000000000001", 1, "kyogikai:ProgrammeRenamed:v1",
                     b'{"timestamp":"2023-04-01T00:00:00Z","actor":"x","name":"n"}')
    top = positions(db)[-1]
    cli("meetings")                                       # an ordinary command does not chain it either
    r = cli("verify", expect=TAMPERED)
    assert problems(r) == [(top, "unchained")]


def test_reordered_rows_are_reported_as_reordered_not_deleted(cli, db):
    scenario_store(db)
    p = positions(db)
    top = p[-1] + 100
    move_event(db, p[2], top)                            # a rotation: 2 → end, 3 → 2's place
    move_event(db, p[3], p[2])
    r = cli("verify", expect=TAMPERED)
    kinds = {k for _, k in problems(r)}
    assert kinds == {"reordered"}, r.out
    assert {q for q, _ in problems(r)} == {p[2], p[3], top}


def test_verify_never_writes(cli, db):
    scenario_store(db)
    execute(db, f"DELETE FROM stored_events WHERE {pos_col(db)} = ?", (positions(db)[1],))
    snapshot = lambda: (execute(db, "SELECT * FROM kyogikai_chain ORDER BY position"),  # noqa: E731
                        execute(db, "SELECT * FROM rm_positions ORDER BY projection"), count_events(db))
    before = snapshot()
    cli("verify", expect=TAMPERED)
    assert snapshot() == before
    execute(db, "DELETE FROM kyogikai_chain")
    execute(db, "UPDATE rm_positions SET position = 0")   # read models behind: verify does not catch up
    before = snapshot()
    cli("verify", expect=TAMPERED)
    assert snapshot() == before
