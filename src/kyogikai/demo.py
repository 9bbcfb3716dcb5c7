"""``kyogikai demo``: a fresh store holding a realistic FY2023 sample, and its report.

The sample ships in the package (``data/``): the council's organisation and the year's meetings
and activities as facts (bodies, dates, formats, venues, agenda titles) in the report's text
format, with narrative paragraphs written in our own words, plus the member organisations
(``data/members.csv``: the prefecture and its 54 municipalities).  It is loaded through the same importer and application
commands a clerk uses, then completed with what a report does not carry: meeting times, the
幹事会's roster and attendance, drill participants and results, and the next fiscal year's first
meetings so the calendar feeds have something upcoming.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Callable

from .app import Kyogikai, UserError
from .dates import parse_period, parse_time
from .i18n import M
from .domain.formats import Format
from .report.importer import import_report_text
from .report.service import render, report_doc

DEMO_FISCAL_YEAR = 2023


def data_text(name: str) -> str:
    return resources.files("kyogikai").joinpath("data", name).read_text(encoding="utf-8")


def _find(app: Kyogikai, label: str, fy: int = DEMO_FISCAL_YEAR, body: str | None = None) -> str:
    for m in app.meetings(fy, body):
        if m["label"] == label:
            return m["id"]
    raise LookupError(f"demo data has no {label} in FY{fy}")


# 13 member organisations of the 幹事会 (運営委員長, regional blocks and the associates' representative)
BOARD = ["愛知県", "名古屋市", "豊橋市", "岡崎市", "一宮市", "瀬戸市", "半田市", "春日井市", "豊川市", "刈谷市",
         "豊田市", "安城市", "東郷町"]
ABSENCES = {"第1回幹事会": ["瀬戸市"], "第2回幹事会": ["半田市", "東郷町"], "第3回幹事会": []}


def build_demo(app: Kyogikai, progress: Callable[[str], None] | None = None) -> None:
    say = progress or (lambda _msg: None)
    say("importing the FY2023 sample")
    import_report_text(app, data_text("demo_fy2023_report.txt"))

    say("loading member organisations")
    app.import_members(data_text("members.csv"))

    say("adding times, rosters and attendance")
    # times the report does not print
    for label, body, start, end in [("第1回定期総会", "総会", "14:00", "15:30"), ("第2回定期総会", "総会", "14:00", "15:30"),
                                    ("第1回運営委員会", "運営委員会", "10:00", "11:30"),
                                    ("第1回幹事会", "幹事会", "13:30", "15:00"), ("第2回幹事会", "幹事会", "13:30", "15:00"),
                                    ("第3回幹事会", "幹事会", "13:30", "15:00")]:
        mid = _find(app, label, body=body)
        row = next(m for m in app.meetings(DEMO_FISCAL_YEAR, body) if m["id"] == mid)
        # the import recorded the report's entries as held: the actual times complete that record
        app.hold(mid, parse_period(row["start"]), parse_time(start), parse_time(end))

    # the 幹事会's roster and attendance, the drills' participants and results
    for name in BOARD:
        app.join(name, body="幹事会", since=dt.date(2023, 4, 1))
    for label, absent in ABSENCES.items():
        mid = _find(app, label, body="幹事会")
        app.record_attendance(mid, [(n, "absent" if n in absent else "present") for n in BOARD])
    drills = [m for m in app.meetings(DEMO_FISCAL_YEAR) if m["kind"] == "drill"]
    takers = ["愛知県", "名古屋市", "豊橋市", "岡崎市", "一宮市", "春日井市", "豊田市", "安城市", "東郷町", "飛島村"]
    for round_no, drill in enumerate(drills, start=1):
        app.record_participation(drill["id"], takers)
        for i, name in enumerate(takers):
            sent = 40 + 17 * i
            opened = (sent * (11 - i - 3 * round_no)) // 100 if (11 - i - 3 * round_no) > 0 else i % 2
            app.record_drill_result(drill["id"], name, sent, opened)

    say("scheduling the first meetings of the current fiscal year")
    upcoming = [
        ("幹事会", 1, None, "令和8年5月20日", "13:30", "15:00", Format.WEB, None),
        ("総会", 1, "定期総会", "令和8年6月5日", "14:00", "15:30", Format.WEB, None),
        ("幹事会", 2, None, "令和8年10月21日", "13:30", "15:00", Format.WEB, None),
        ("運営委員会", 1, None, "令和8年10月28日", "10:00", "11:30", Format.WEB, None),
        ("幹事会", 3, None, "令和9年2月24日", "13:30", "15:00", Format.HYBRID, "県自治センター"),
        ("総会", 2, "定期総会", "令和9年3月19日", "14:00", "15:30", Format.WEB, None),
        ("電子申請・届出システム研究会", 1, "研究会", "令和8年12月9日～16日", None, None, Format.WRITTEN, None),
    ]
    for body, ordinal, title, date, start, end, fmt, venue in upcoming:
        app.schedule(body=body, ordinal=ordinal, title=title, period=parse_period(date),
                     start_time=parse_time(start) if start else None, end_time=parse_time(end) if end else None,
                     format=fmt, venue=venue)
    for label in ("第1回幹事会", "第1回定期総会", "第2回幹事会"):
        app.hold(_find(app, label, fy=2026))


@dataclass
class DemoOutput:
    db: str
    report_text: Path
    report_docx: Path


def run_demo(directory: Path, db: str | None = None, progress: Callable[[str], None] | None = None) -> DemoOutput:
    """Build the demo store (fresh) in ``directory`` and write its FY2023 report there."""
    directory.mkdir(parents=True, exist_ok=True)
    if db is None:
        path = directory / "demo.sqlite"
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        db = str(path)
    with Kyogikai(db, actor="demo", create=True) as app:   # the demo makes its own store, even at a new --db
        if app.store.max_position() > 0:
            raise UserError(M("--db: {location} already holds events; the demo needs an empty store",
                              location=app.location.describe()))
        build_demo(app, progress)
        doc = report_doc(app, DEMO_FISCAL_YEAR)
        text_path, docx_path = directory / "report-fy2023.txt", directory / "report-fy2023.docx"
        render(doc, "text", text_path)
        council = app.council()
        render(doc, "docx", docx_path, council=council["name"], font=council["document_font"])
    return DemoOutput(db, text_path, docx_path)
