"""The store copies the suite starts from (tests/templates.py) are faithful and independent.

Many tests begin with the FY2023 reference imported; it is imported once per backend and session
and copied.  These checks keep that shortcut honest: a copy holds the same log, chain and read
models as a store that imported the report itself, it works as a store (commands, verify), and a
change to one copy reaches neither the template nor another copy.
"""

from __future__ import annotations

from kyogikai.app import Kyogikai

from .conftest import CLI
from .dbtools import count_events


def state(db: str) -> tuple:
    """The log as kinds and versions (meeting ids are random), and every read model's rows."""
    with Kyogikai(db, actor="t") as k:
        return [(type(e).__name__, e.originator_version) for _, e in k.log()], k.runtime.dump()


def test_a_copy_is_the_imported_store_and_stands_alone(reference_db, reference_text, tmp_path):
    fresh = str(tmp_path / "imported-here.sqlite")
    (tmp_path / "r.txt").write_text(reference_text, encoding="utf-8")
    CLI(fresh)("import-report", str(tmp_path / "r.txt"))
    log, _ = state(fresh)
    copy_log, copy_rows = state(reference_db)
    assert copy_log == log and len(log) > 100
    assert "intact" in CLI(reference_db)("verify").out
    assert CLI(reference_db)("report", "--fiscal-year", "2023").out == CLI(fresh)("report", "--fiscal-year", "2023").out
    # the copy takes commands, and its read models stay what a rebuild from its log gives
    CLI(reference_db)("meeting", "schedule", "--body", "幹事会", "--ordinal", "9", "--date", "2023-12-01", "--format", "web")
    _, rows = state(reference_db)
    CLI(reference_db)("rebuild")
    assert state(reference_db)[1] == rows
    assert count_events(reference_db) == len(log) + 2
    assert "intact" in CLI(reference_db)("verify").out


def test_copies_do_not_share_changes(reference_db, templates, tmp_path):
    CLI(reference_db)("meeting", "schedule", "--body", "幹事会", "--ordinal", "9", "--date", "2023-12-01", "--format", "web")
    for url, _ in templates.built.values():
        assert "第9回幹事会" not in CLI(url)("report", "--fiscal-year", "2023").out
