"""Issue 3: the annual report from events, the importer of past reports, the round trip."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from kyogikai.app import Kyogikai
from kyogikai.report.parse import parse_report
from kyogikai.report.text import entry_text

from .conftest import CLI
from .scenario import run_scenario


def headings(doc) -> list[str]:
    return doc.headings()


def paragraphs(doc) -> list[str]:
    return doc.paragraphs()


def imported(cli: CLI, tmp_path: Path, text: str, name: str = "report.txt") -> str:
    f = tmp_path / name
    f.write_text(text, encoding="utf-8")
    return cli("import-report", str(f)).out


def test_reference_round_trips_every_fact(cli, tmp_path, reference_text):
    out = imported(cli, tmp_path, reference_text)
    assert "70 items created" in out
    rendered = cli("report", "--fiscal-year", "2023").out
    ref = parse_report(reference_text)
    got = parse_report(rendered)
    assert ref.problems == [] and got.problems == []
    assert rendered.startswith("令和5年度事業報告\n")
    ref_entries, got_entries = ref.doc.entries(), got.doc.entries()
    # every dated entry: same date or period, same format, same title text
    assert len(ref_entries) == len(got_entries) == 70
    assert [(e.period, e.format, e.format_label, entry_text(e).split("（")[0]) for e in ref_entries] == \
           [(e.period, e.format, e.format_label, entry_text(e).split("（")[0]) for e in got_entries]
    # the agenda items (審議事項) in order: the reference lists 12 (2 + 6 + 4)
    ref_agenda = [a for e in ref_entries for a in e.agenda]
    assert len(ref_agenda) == 12 and ref_agenda == [a for e in got_entries for a in e.agenda]
    # every narrative paragraph verbatim, every heading in order
    lines = {line.strip() for line in reference_text.splitlines()}
    assert len(paragraphs(got.doc)) == 34 and all(p in lines for p in paragraphs(got.doc))
    assert paragraphs(got.doc) == paragraphs(ref.doc)
    assert len(headings(got.doc)) == 36 and headings(got.doc) == headings(ref.doc)
    assert got.doc == ref.doc


def facts(db: str) -> dict:
    with Kyogikai(db, actor="t") as k:
        meetings = [{key: m[key] for key in ("kind", "body_path", "programme", "label", "ordinal", "part", "series",
                                             "title", "start", "end", "precision", "format", "format_label", "venue",
                                             "status")} for m in k.meetings()]
        agenda = sorted(r for r in k.query("SELECT m.fiscal_year, a.pos, a.text FROM rm_agenda a JOIN rm_meetings m ON m.id = a.meeting_id"))
        narratives = sorted((r[0], r[1]) for r in k.query("SELECT fiscal_year, paragraphs FROM rm_narratives"))
        bodies = sorted("/".join(p) for p in k.body_paths().values())
        return {"meetings": sorted(meetings, key=str), "agenda": agenda, "narratives": narratives, "bodies": bodies}


def test_import_of_rendered_report_is_a_fixed_point(cli, tmp_path, reference_text, sqlite_url):
    imported(cli, tmp_path, reference_text)
    first = cli("report", "--fiscal-year", "2023").out
    second_db = CLI(str(tmp_path / "second.sqlite"))
    imported(second_db, tmp_path, first, "rendered.txt")
    assert facts(second_db.db) == facts(cli.db)
    assert second_db("report", "--fiscal-year", "2023").out == first


def test_import_twice_changes_nothing_and_says_so(reference_db, tmp_path, reference_text):
    cli = CLI(reference_db)                      # holds the reference, imported once (see conftest)
    before = cli("log", "--json").json()
    out = imported(cli, tmp_path, reference_text)
    assert "nothing to import" in out and "70 items unchanged" in out
    assert cli("log", "--json").json() == before


def test_import_tolerates_pdf_and_word_artefacts(tmp_path, reference_text):
    import re

    clean = parse_report(reference_text).doc
    fw = str.maketrans("0123456789", "０１２３４５６７８９")
    messy_lines = []
    for line in reference_text.splitlines():
        if line.startswith("- ・"):
            line = line.replace("～", "〜") if len(messy_lines) % 2 else line.replace("～", " ~ ")
            line = re.sub(r"^- ・", "・・" if len(messy_lines) % 3 == 0 else "", line)
            if "回" in line:  # entry lines (agenda items are kept verbatim, so leave their digits)
                line = line.translate(fw)
        messy_lines.append(line)
    messy = "\ufeff" + "\r\n".join(messy_lines)
    db = CLI(str(tmp_path / "messy.sqlite"))
    imported(db, tmp_path, messy, "messy.txt")
    assert parse_report(db("report", "--fiscal-year", "2023").out).doc == clean


def test_lines_that_cannot_be_placed_are_listed_and_nothing_is_written(cli, tmp_path, reference_text):
    lines = reference_text.splitlines()
    lines.insert(20, "@@@ garbage 12")
    lines.insert(100, "・第9回幹事会（令和5年2月30日、Web会議）")
    f = tmp_path / "bad.txt"
    f.write_text("\n".join(lines), encoding="utf-8")
    r = cli("import-report", str(f), expect=2)
    assert f"{f}:21:" in r.err and "garbage" in r.err
    assert f"{f}:101:" in r.err and "28 days" in r.err
    assert r.err.strip().splitlines()[-1].startswith("error: 2 line(s) cannot be placed, nothing imported")
    assert cli("log", "--json").json() == []
    out = cli("import-report", str(f), "--skip-problems").out
    assert "70 items created" in out


def test_report_from_cli_logged_events_has_the_reports_structure(cli):
    run_scenario(cli)
    cli("narrative", "set", "--fiscal-year", "2023", "--body", "幹事会", "幹事会を3回開催した。")
    text = cli("report", "--fiscal-year", "令和5年度").out
    doc = parse_report(text).doc
    assert parse_report(text).problems == []
    assert headings(doc) == ["全団体事業", "会議運営", "総会", "運営委員会", "幹事会"]
    first = {}
    for e in doc.entries():
        first.setdefault(e.label, e)
    assert [e.ordinal for e in doc.entries() if e.label == "幹事会"] == [1, 2, 3, 4]
    assert first["定期総会"].agenda == ["令和4年度事業報告", "令和4年度収支決算及び監査報告"]
    assert "・第2回幹事会（令和5年10月18日、Web会議）" in text
    assert "・第4回幹事会（令和6年3月15日、書面開催）【中止】" in text
    assert "第1回定期総会（令和5年6月2日、Web会議）\n\n〔審議事項〕" in text
    assert "幹事会を3回開催した。" in text
    md = cli("report", "--fiscal-year", "2023", "--format", "markdown").out
    assert "幹事会" in md and md.count("#") >= 5


def test_as_of_shows_what_was_known_at_the_end_of_that_day(db):
    from kyogikai.dates import Period
    from kyogikai.domain.formats import Format
    from kyogikai.domain.meeting import Kind, Meeting

    from kyogikai.domain.organisation import Body, BodyKind, Programme, Section

    jst = dt.timezone(dt.timedelta(hours=9))
    at = dt.datetime(2023, 4, 1, 9, tzinfo=jst)

    def backdated(agg):
        agg.pending = [e.model_copy(update={"timestamp": at}) for e in agg.pending]
        return agg

    with Kyogikai(db, actor="t") as k:
        p = backdated(Programme.create("会議運営", Section.ALL, 8, None, "t"))
        body = backdated(Body.create(name="幹事会", kind=BodyKind.BOARD, programme=p, parent=None, order=1, inline=False,
                                     public=True, description=None, actor="t"))
        k.store.save(p, body)
        b = {"id": body.id, "programme_id": p.id}
        m = Meeting.schedule(kind=Kind.MEETING, programme_id=b["programme_id"], body_id=b["id"], ordinal=1,
                             period=Period.of(dt.date(2023, 5, 24)), format=Format.WEB, actor="t")
        # recorded on 2023-05-01 (JST); moved on 2023-05-20 23:30 JST; cancelled on 2023-05-22 00:10 JST
        m.pending[0] = m.pending[0].model_copy(update={"timestamp": dt.datetime(2023, 5, 1, 10, tzinfo=jst)})
        m.reschedule(Period.of(dt.date(2023, 5, 31)), None, None, "t")
        m.pending[-1] = m.pending[-1].model_copy(update={"timestamp": dt.datetime(2023, 5, 20, 23, 30, tzinfo=jst)})
        m.cancel(None, "t")
        m.pending[-1] = m.pending[-1].model_copy(update={"timestamp": dt.datetime(2023, 5, 22, 0, 10, tzinfo=jst)})
        k.store.save(m)
    cli = CLI(db)
    assert "・第1回幹事会（令和5年5月24日、Web会議）\n" in cli("report", "--fiscal-year", "2023", "--as-of", "2023-05-19").out
    assert "・第1回幹事会（令和5年5月31日、Web会議）\n" in cli("report", "--fiscal-year", "2023", "--as-of", "令和5年5月21日").out
    assert "【中止】" in cli("report", "--fiscal-year", "2023", "--as-of", "2023-05-22").out
    assert "幹事会" not in cli("report", "--fiscal-year", "2023", "--as-of", "2023-03-31").out
    assert "幹事会" not in cli("report", "--fiscal-year", "2023", "--as-of", "2023-04-30").out  # created, nothing to say
    assert "・第1回幹事会（令和5年5月31日、Web会議）【中止】" in cli("report", "--fiscal-year", "2023").out


def test_report_reads_its_read_model_not_the_log(reference_db, monkeypatch):
    cli = CLI(reference_db)
    expected = cli("report", "--fiscal-year", "2023").out
    from kyogikai.store import EventStore

    def no_log(*_a, **_k):
        raise AssertionError("the report read the event log")

    monkeypatch.setattr(EventStore, "iter_all", no_log)
    monkeypatch.setattr(EventStore, "load", no_log)
    monkeypatch.setattr(EventStore, "read", lambda self, after=0, limit=1000, upto=None: [])
    assert cli("report", "--fiscal-year", "2023").out == expected


def test_era_boundary_in_report(cli):
    cli("programme", "create", "会議運営", "--section", "all", "--order", "1")
    cli("body", "create", "幹事会", "--programme", "会議運営")
    cli("meeting", "schedule", "--body", "幹事会", "--ordinal", "1", "--date", "平成31年4月25日～令和元年5月10日",
        "--format", "書面開催")
    cli("meeting", "schedule", "--body", "幹事会", "--ordinal", "2", "--date", "2019-05-01", "--format", "web")
    text = cli("report", "--fiscal-year", "2019").out
    assert text.startswith("平成31年度事業報告")
    assert "・第1回幹事会（平成31年4月25日～令和元年5月10日、書面開催）" in text
    assert "・第2回幹事会（令和元年5月1日、Web会議）" in text


def test_import_reads_excel_and_windows_shift_jis(cli, db, tmp_path, reference_text) -> None:
    """A report saved by Word or Notepad in Shift_JIS (CP932) is read as such, with a note."""
    from .dbtools import count_events

    path = tmp_path / "sjis.txt"
    path.write_bytes(reference_text.encode("cp932"))
    r = cli("import-report", str(path))
    assert "Shift_JIS" in r.err and count_events(db) > 100
    utf8 = tmp_path / "utf8.txt"
    utf8.write_text(reference_text, encoding="utf-8")
    r = cli("import-report", str(utf8))                         # the same facts: nothing new
    assert "nothing to import" in r.out and "Shift_JIS" not in r.err


def test_imported_entries_are_held_or_cancelled(reference_db, reference_text) -> None:
    """A report records what took place: its entries become held meetings (【中止】 ones cancelled),
    so listings, feeds and participation stop calling them 予定."""
    cli = CLI(reference_db)
    rows = cli("meetings", "--fiscal-year", "2023", "--json").json()
    statuses = {r["status"] for r in rows}
    cancelled = reference_text.count("【中止】")
    assert statuses <= {"held", "cancelled"} and sum(r["status"] == "cancelled" for r in rows) == cancelled
    assert "予定" not in cli("meetings", "--fiscal-year", "2023").out
    # the actual times can still be recorded: a correction of what was held, as a new event
    held = next(r for r in rows if r["status"] == "held" and r["start"] == r["end"])
    cli("meeting", "hold", held["id"][:8], "--date", held["start"], "--start-time", "14:00", "--end-time", "15:30")
    again = next(r for r in cli("meetings", "--fiscal-year", "2023", "--json").json() if r["id"] == held["id"])
    assert (again["status"], again["start_time"]) == ("held", "14:00")
    r = cli("meeting", "hold", held["id"][:8], "--date", held["start"], "--start-time", "14:00", "--end-time", "15:30",
            expect=2)
    assert "already recorded as held" in r.err
