"""Backup and restore (issue 7, item 6): ``export-log`` / ``import-log``, SQLite → PostgreSQL → SQLite.

The source is the demo store (the FY2023 sample with members, rosters, attendance, drill results,
tokens-free feeds and next year's meetings), so every read model has rows.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from .conftest import CLI
from .dbtools import count_events, execute, insert_raw_event, is_sqlite, pos_col

OUTPUTS = [
    ("report", "--fiscal-year", "2023"),
    ("report", "--fiscal-year", "2023", "--format", "markdown"),
    ("report", "--fiscal-year", "2023", "--format", "html"),
    ("report", "--fiscal-year", "2024"),
    ("meetings", "--json"),
    ("bodies", "--json"),
    ("log", "--json"),
    ("feed",),
    ("feed", "--body", "幹事会"),
    ("feed", "--member", "名古屋市"),
    ("participation", "--fiscal-year", "2023", "--format", "csv"),
    ("participation", "--body", "幹事会", "--fiscal-year", "2023", "--format", "csv"),
]


def outputs(cli: CLI) -> dict[tuple, str]:
    return {args: cli(*args).out for args in OUTPUTS}


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory) -> str:
    d = tmp_path_factory.mktemp("demo")
    db = str(d / "demo.sqlite")
    CLI(db)("demo", "--dir", str(d / "out"))
    return db


def event_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()[1:-1]


def test_sqlite_to_postgres_and_back_gives_identical_reports_and_feeds(demo_store, pg_url, tmp_path):
    src = CLI(demo_store)
    before = outputs(src)
    assert "第1回幹事会" in before[("report", "--fiscal-year", "2023")]
    assert "BEGIN:VEVENT" in before[("feed",)]
    n = count_events(demo_store)

    f1, f2, f3 = tmp_path / "1.jsonl", tmp_path / "2.jsonl", tmp_path / "3.jsonl"
    assert f"exported {n} event(s)" in src("export-log", str(f1)).out
    pg = CLI(pg_url)
    assert f"imported {n} event(s)" in pg("import-log", str(f1)).out
    pg("export-log", str(f2))
    back = CLI(str(tmp_path / "back.sqlite"))
    back("import-log", str(f2))
    back("export-log", str(f3))

    assert event_lines(f1) == event_lines(f2) == event_lines(f3)       # ids, versions, topics, states
    for store in (pg, back):
        got = outputs(store)
        for args, text in before.items():
            assert got[args] == text, f"kyogikai {' '.join(args)} differs after the round trip"
        assert "intact" in store("verify").out
    # the stored bytes themselves
    sql = "SELECT originator_id, originator_version, topic, state FROM stored_events ORDER BY {}"
    rows = [[(str(r[0]).replace("-", ""), r[1], r[2], bytes(r[3])) for r in execute(db, sql.format(pos_col(db)))]
            for db in (demo_store, pg_url, str(tmp_path / "back.sqlite"))]
    assert rows[0] == rows[1] == rows[2]


def test_state_bytes_are_restored_exactly_even_when_not_canonical(db, tmp_path):
    cli = CLI(db)
    cli("programme", "create", "会議運営", "--section", "all", "--order", "8")
    odd = '{ "timestamp": "2023-04-01T00:00:00Z",  "actor": "旧システム", "name": "会議運営（旧）" }'.encode()
    pid = execute(db, "SELECT originator_id FROM stored_events")[0][0]
    pid = str(pid) if not is_sqlite(db) else f"{pid[:8]}-{pid[8:12]}-{pid[12:16]}-{pid[16:20]}-{pid[20:]}"
    insert_raw_event(db, pid, 2, "kyogikai:ProgrammeRenamed:v1", odd)
    f = tmp_path / "odd.jsonl"
    cli("export-log", str(f))
    line = json.loads(event_lines(f)[1])
    assert line["state_text"] == odd.decode() and line["state"]["name"] == "会議運営（旧）"
    target = str(tmp_path / "t.sqlite")
    CLI(target)("import-log", str(f))
    assert bytes(execute(target, "SELECT state FROM stored_events WHERE originator_version = 2")[0][0]) == odd
    assert "会議運営（旧）" in CLI(target)("bodies").out


def _rewrite(lines: list[str], *, redigest: bool) -> str:
    body = lines[1:-1]
    footer = json.loads(lines[-1])
    if redigest:
        footer["events"] = len(body)
        footer["sha256"] = hashlib.sha256("".join(x + "\n" for x in body).encode()).hexdigest()
    return "\n".join([lines[0], *body, json.dumps(footer)]) + "\n"


def _rehash(line: str, **changes) -> str:
    rec = json.loads(line)
    rec.update(changes)
    state = json.dumps(rec["state"], ensure_ascii=False, separators=(",", ":")).encode()
    rec["state_sha256"] = hashlib.sha256(state).hexdigest()
    return json.dumps(rec, ensure_ascii=False, separators=(",", ":"))


def _damage(kind: str, lines: list[str]) -> str:
    body = lines[1:-1]
    if kind == "byte":                       # one character of one state changed
        return "\n".join(lines).replace("幹事会", "幹事回", 1) + "\n"
    if kind == "truncated":
        return "\n".join(lines[:-3]) + "\n"
    if kind == "dropped":                    # an event removed, the footer left as it was
        return "\n".join(lines[:3] + lines[4:]) + "\n"
    if kind == "state-forged":               # a state edited and the footer recomputed, its state hash not
        rec = json.loads(body[0])
        rec["state"]["name"] = "偽"
        return _rewrite([lines[0], json.dumps(rec, ensure_ascii=False), *body[1:], lines[-1]], redigest=True)
    if kind == "unknown-topic":
        return _rewrite([lines[0], _rehash(body[0], topic="kyogikai:NoSuchEvent:v1"), *body[1:], lines[-1]], redigest=True)
    if kind == "bad-shape":
        rec = json.loads(body[0])
        rec["state"]["order"] = "first"
        return _rewrite([lines[0], _rehash(json.dumps(rec, ensure_ascii=False)), *body[1:], lines[-1]], redigest=True)
    if kind == "duplicate":
        return _rewrite([lines[0], body[0], _rehash(body[1], originator_id=json.loads(body[0])["originator_id"],
                                                    version=json.loads(body[0])["version"]), *body[2:], lines[-1]],
                        redigest=True)
    if kind == "line-edited":                # a version changed in place: only the digest can tell
        return "\n".join(lines).replace('"version":1,', '"version":7,', 1) + "\n"
    if kind == "order":
        return _rewrite([lines[0], body[1], body[0], *body[2:], lines[-1]], redigest=True)
    if kind == "newer-format":
        return "\n".join(['{"kyogikai_log":2}', *lines[1:]]) + "\n"
    if kind == "not-a-log":
        return "name,kind\n愛知県,prefecture\n"
    if kind == "empty":
        return ""
    if kind == "binary":
        return "\x00\x01\x02\ufffd"
    raise AssertionError(kind)


KINDS = ["byte", "truncated", "dropped", "line-edited", "state-forged", "unknown-topic", "bad-shape", "duplicate", "order",
         "newer-format", "not-a-log", "empty", "binary"]


@pytest.fixture(scope="module")
def small_export(tmp_path_factory) -> list[str]:
    d = tmp_path_factory.mktemp("small")
    cli = CLI(str(d / "s.sqlite"))
    from .scenario import run_scenario

    run_scenario(cli)
    cli("export-log", str(d / "s.jsonl"))
    return (d / "s.jsonl").read_text(encoding="utf-8").splitlines()


@pytest.mark.parametrize("kind", KINDS)
def test_damaged_or_forged_export_is_refused_whole(small_export, tmp_path, kind):
    f = tmp_path / "x.jsonl"
    f.write_text(_damage(kind, small_export), encoding="utf-8")
    target = str(tmp_path / "t.sqlite")
    r = CLI(target)("import-log", str(f), expect=2)
    assert r.err.count("\n") == 1 and r.err.startswith("error: ") and "nothing imported" in r.err, r.err
    assert "Traceback" not in r.err
    assert count_events(target) == 0


def test_import_into_a_non_empty_store_is_refused(db, small_export, tmp_path):
    f = tmp_path / "s.jsonl"
    f.write_text("\n".join(small_export) + "\n", encoding="utf-8")
    cli = CLI(db)
    cli("programme", "create", "会議運営", "--section", "all", "--order", "8")
    r = cli("import-log", str(f), expect=2)
    assert "not empty" in r.err and "empty store only" in r.err
    assert count_events(db) == 1


def test_export_refuses_a_folder_and_leaves_no_partial_file(tmp_path, small_export):
    f = tmp_path / "s.jsonl"
    f.write_text("\n".join(small_export) + "\n", encoding="utf-8")
    db = str(tmp_path / "t.sqlite")
    cli = CLI(db)
    cli("import-log", str(f))
    assert "is a folder" in cli("export-log", str(tmp_path), expect=2).err
    out = tmp_path / "out.jsonl"
    cli("export-log", str(out))
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    assert event_lines(out) == small_export[1:-1]
