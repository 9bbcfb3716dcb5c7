"""Schema evolution (issue 7, item 8): ``MeetingRescheduled`` v2 gained ``reason``.

Events stored in the v1 shape (no ``reason``; the old mapper's sorted compact JSON) are inserted
directly into ``stored_events`` and must load through ``upcast_v1_v2`` everywhere: read models,
history, the aggregate that decides the next command, rebuild, verify, export/import.
"""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from kyogikai.app import Kyogikai
from kyogikai.domain.meeting import MeetingRescheduled

from .conftest import CLI
from .dbtools import count_events, execute, insert_raw_event, scenario_store

V1_STATE = {"actor": "旧版の事務局", "end": "2023-05-26", "end_time": None, "precision": "day", "start": "2023-05-26",
            "start_time": None, "timestamp": "2023-05-01T01:02:03.000004Z"}


def v1_bytes(state: dict) -> bytes:
    return json.dumps(state, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def insert_v1_reschedule(db: str, meeting_id: str, state: dict = V1_STATE, topic_version: int = 1) -> None:
    with Kyogikai(db, actor="t") as k:
        version = len(k.store.load(__import__("uuid").UUID(meeting_id)))
    insert_raw_event(db, meeting_id, version + 1, f"kyogikai:MeetingRescheduled:v{topic_version}", v1_bytes(state))
    chain_new_events(db)   # as the older kyogikai that wrote it chained it


def chain_new_events(db: str) -> None:
    """Chain the stored events after the chain head (what kyogikai does in the transaction that stores them)."""
    from kyogikai.ledger import GENESIS, event_digest, link

    from .dbtools import pos_col

    head = execute(db, "SELECT position, hash FROM kyogikai_chain ORDER BY position DESC LIMIT 1")
    pos, prev = head[0] if head else (0, GENESIS)
    for p, oid, v, topic, st in execute(db, f"SELECT {pos_col(db)}, originator_id, originator_version, topic, state "
                                            f"FROM stored_events WHERE {pos_col(db)} > ? ORDER BY {pos_col(db)}", (pos,)):
        digest = event_digest(oid, v, topic, bytes(st))
        prev = link(prev, p, digest)
        execute(db, "INSERT INTO kyogikai_chain (position, event_hash, hash) VALUES (?, ?, ?)", (p, digest, prev))


def test_v1_shape_needs_the_upcaster():
    with pytest.raises(ValidationError):
        MeetingRescheduled(originator_id="00000000-0000-4000-8000-000000000001", originator_version=2, **V1_STATE)
    up = MeetingRescheduled.upcast_v1_v2(dict(V1_STATE))
    e = MeetingRescheduled(originator_id="00000000-0000-4000-8000-000000000001", originator_version=2, **up)
    assert e.reason is None and e.start.isoformat() == "2023-05-26"
    assert MeetingRescheduled.class_version == 2


def test_event_stored_in_the_old_shape_still_loads(cli, db, tmp_path):
    ids = scenario_store(db)
    mid = ids["第1回幹事会"]
    insert_v1_reschedule(db, mid)
    # the read models apply it
    item = next(m for m in cli("meetings", "--json").json() if m["id"] == mid)
    assert (item["start"], item["end"]) == ("2023-05-26", "2023-05-26")
    # history and log show it, with no reason
    hist = cli("history", mid, "--json").json()
    assert hist[-1]["event"] == "MeetingRescheduled" and hist[-1]["actor"] == "旧版の事務局"
    assert hist[-1]["data"]["reason"] is None
    # the aggregate replays it and decides the next command on top of it
    cli("meeting", "reschedule", mid[:8], "--date", "令和5年5月30日", "--reason", "会場の都合により")
    hist = cli("history", mid, "--json").json()
    assert [h["data"].get("reason") for h in hist[-2:]] == [None, "会場の都合により"]
    assert "reason=会場の都合により" in cli("log").out
    assert "the new date is the same" in cli("meeting", "reschedule", mid[:8], "--date", "令和5年5月30日", expect=2).err
    topics = [r[0] for r in execute(db, "SELECT topic FROM stored_events WHERE topic LIKE ?", ("%MeetingRescheduled%",))]
    assert sorted(topics) == ["kyogikai:MeetingRescheduled:v1", "kyogikai:MeetingRescheduled:v2",
                              "kyogikai:MeetingRescheduled:v2"]
    # a rebuild reads it the same way; the chain covers it; a backup keeps its old shape
    with Kyogikai(db, actor="t") as k:
        live = k.runtime.dump()
        k.rebuild()
        assert k.runtime.dump() == live
    assert "intact" in cli("verify").out
    f = tmp_path / "log.jsonl"
    cli("export-log", str(f))
    target = str(tmp_path / "restored.sqlite")
    CLI(target)("import-log", str(f))
    old = execute(target, "SELECT state FROM stored_events WHERE topic = 'kyogikai:MeetingRescheduled:v1'")
    assert [bytes(r[0]) for r in old] == [v1_bytes(V1_STATE)]
    assert CLI(target)("meetings", "--json").json() == cli("meetings", "--json").json()


def test_event_from_a_newer_version_is_a_clear_store_error(cli, db):
    ids = scenario_store(db)
    before = count_events(db)
    insert_v1_reschedule(db, ids["第3回幹事会"], {**V1_STATE, "reason": "x", "new_field": 1}, topic_version=3)
    r = cli("meetings", expect=4)
    assert r.err.count("\n") == 1 and "written by a newer kyogikai" in r.err and "position" in r.err
    assert "Traceback" not in r.err
    r = cli("meeting", "cancel", ids["第3回幹事会"][:8], expect=4)
    assert "newer kyogikai" in r.err
    assert count_events(db) == before + 1
