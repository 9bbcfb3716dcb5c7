"""The README's main job: ``kyogikai demo`` builds a fresh store and writes the FY2023 report."""

from __future__ import annotations

from pathlib import Path

from docx import Document

from kyogikai.app import Kyogikai
from kyogikai.report.parse import parse_report

from .conftest import CLI


def run_demo(out_dir: Path, capsys) -> str:
    from kyogikai.cli import run

    assert run(["--actor", "demo", "demo", "--dir", str(out_dir)]) == 0
    return capsys.readouterr().out


def test_demo_builds_a_fresh_store_and_writes_the_report(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.delenv("KYOGIKAI_DB", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))  # never touch the user's own store
    out_dir = tmp_path / "demo"
    first = run_demo(out_dir, capsys)
    assert f"demo store:   {out_dir / 'demo.sqlite'}" in first and "serve" in first
    text = (out_dir / "report-fy2023.txt").read_text(encoding="utf-8")
    parsed = parse_report(text)
    assert parsed.problems == [] and text.startswith("令和5年度事業報告")
    assert len(parsed.doc.entries()) == 70
    assert sum(len(e.agenda) for e in parsed.doc.entries()) == 12
    headings = [p.style.name for p in Document(str(out_dir / "report-fy2023.docx")).paragraphs
                if p.style.name.startswith(("Title", "Heading"))]
    assert headings[0] == "Title" and len(headings) == 37
    with Kyogikai(str(out_dir / "demo.sqlite"), actor="t") as app:
        assert len(app.rows(__import__("kyogikai.projections.organisation", fromlist=["MEMBERS"]).MEMBERS)) == 57
        upcoming = [m for m in app.meetings(2026) if m["status"] == "scheduled"]
        assert len(upcoming) >= 3
    # running it again starts afresh: same report, not doubled
    run_demo(out_dir, capsys)
    assert (out_dir / "report-fy2023.txt").read_text(encoding="utf-8") == text
    assert not (tmp_path / "xdg").exists()
    board = CLI(str(out_dir / "demo.sqlite"))("participation", "--body", "幹事会", "--fiscal-year", "2023",
                                              "--format", "json").json()
    assert board  # the 幹事会 has a roster and attendance in the demo


def test_demo_narratives_are_our_own_words(reference_text: str):
    from kyogikai.demo import data_text

    ours = parse_report(data_text("demo_fy2023_report.txt")).doc
    ref = parse_report(reference_text).doc
    ref_paragraphs = set(ref.paragraphs())
    sample = data_text("demo_fy2023_report.txt")
    assert not any(p in sample for p in ref_paragraphs)
    # the facts are the year's facts
    assert [(e.period, e.format, e.label) for e in ours.entries()] == [(e.period, e.format, e.label) for e in ref.entries()]
