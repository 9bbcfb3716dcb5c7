"""Issue 5: participation records per member organisation and per body, on SQLite and PostgreSQL.

The scenario: the FY2023 幹事会 (13 member organisations at every meeting: 刈谷市 leaves on
30 September and 豊田市 joins on 1 October) with three meetings and known absences, a fourth
meeting cancelled after replies were recorded, a participating-member programme 瀬戸市 joins in
October, an audit, a training (and a cancelled one), two drills with results, and 碧南市 renamed by
a re-import of the members file.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import uuid
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from urllib.parse import quote

import pytest

from kyogikai import participation as pt
from kyogikai.app import Kyogikai

from .conftest import CLI
from .scenario import run_scenario
from .test_feeds_support import ThreadServer, fetch, make_store

MEMBERS_CSV = resources.files("kyogikai").joinpath("data", "members.csv")
BOARD = ["愛知県", "名古屋市", "豊橋市", "岡崎市", "一宮市", "瀬戸市", "半田市", "春日井市", "豊川市", "津島市", "碧南市",
         "刈谷市", "公益財団法人愛知県市町村振興協会"]
FACILITY = "あいち共同利用型施設予約システム事業"


def count_events(db: str) -> int:
    with Kyogikai(db, actor="t") as k:
        return k.store.max_position()


def attendance(cli: CLI, mid: str, guest: bool = False, **by_status: list[str]) -> None:
    argv = ["meeting", "attendance", mid[:8]] + (["--guest"] if guest else [])
    for status, names in by_status.items():
        for n in names:
            argv += [f"--{status.replace('_', '-')}", n]
    cli(*argv)


def activity(cli: CLI, *args: str) -> str:
    out = cli("activity", "schedule", *args).out
    return out.rsplit("(id ", 1)[1][:8]


def build(cli: CLI, tmp_path: Path) -> dict[str, str]:
    ids = run_scenario(cli)
    assert "57 created" in cli("members", "import", str(MEMBERS_CSV)).out
    # the 幹事会: 13 at every meeting
    for name in BOARD:
        cli("member", "join", name, "--body", "幹事会", "--since", "令和5年4月1日")
    cli("member", "leave", "刈谷市", "--body", "幹事会", "--on", "令和5年9月30日")
    cli("member", "join", "豊田市", "--body", "幹事会", "--since", "令和5年10月1日")
    m1, m2, m3, m4 = (ids[f"第{i}回幹事会"] for i in (1, 2, 3, 4))
    present = lambda *absent: [n for n in BOARD + ["豊田市"] if n not in absent]  # noqa: E731
    attendance(cli, m1, present=present("津島市", "碧南市", "豊田市"), absent=["津島市", "碧南市"])
    # 瀬戸市 not recorded; 刈谷市 (no longer on the roster) recorded present as a guest: counted nowhere
    attendance(cli, m2, guest=True, present=present("半田市", "瀬戸市"), absent=["半田市"])
    attendance(cli, m3, present=present("豊川市", "豊田市", "碧南市", "刈谷市"), absent=["豊川市", "豊田市", "碧南市"])
    # replies to the written 第4回, then it is cancelled: it counts for nobody
    cli("meeting", "reinstate", m4[:8])
    attendance(cli, m4, guest=True, replied=present("刈谷市"))
    cli("meeting", "cancel", m4[:8], "--reason", "議題なしのため")

    # a participating-member programme: 瀬戸市 joins in October; its 事業部会 has no roster of its own
    cli("member", "join", "豊橋市", "--programme", FACILITY, "--since", "令和5年4月1日")
    cli("member", "join", "岡崎市", "--programme", FACILITY, "--since", "令和5年4月1日")
    cli("member", "join", "瀬戸市", "--programme", FACILITY, "--since", "令和5年10月1日")
    for ordinal, date, fmt in (("1", "令和5年5月2日～12日", "書面開催"), ("2", "令和5年11月20日", "web"),
                               ("3", "令和6年2月14日～19日", "書面審議")):
        cli("meeting", "schedule", "--body", "事業部会", "--ordinal", ordinal, "--date", date, "--format", fmt)
    sub = {m["ordinal"]: m["id"] for m in cli("meetings", "--body", "事業部会", "--json").json()}
    attendance(cli, sub[1], guest=True, replied=["豊橋市", "瀬戸市"], no_reply=["岡崎市"])  # 瀬戸市 was not in yet
    attendance(cli, sub[2], present=["豊橋市", "岡崎市"], absent=["瀬戸市"])
    attendance(cli, sub[3], replied=["豊橋市", "岡崎市", "瀬戸市"])

    # activities: an audit, a training, a cancelled training, two drills with results
    cli("programme", "create", "標的型攻撃メール対策訓練", "--section", "all", "--order", "4")
    audit = activity(cli, "--kind", "audit", "--programme", "共同セキュリティ監査", "--title", "脆弱性診断",
                     "--date", "令和5年7月～11月", "--mode", "on_site", "--mode", "remote")
    cli("activity", "participants", audit, "瀬戸市", "半田市", "豊川市")
    training = activity(cli, "--kind", "training", "--programme", "共同セキュリティ監査", "--title", "情報セキュリティ監査研修",
                        "--date", "令和5年10月30日～31日", "--format", "web")
    cli("activity", "participants", training, "豊橋市", "瀬戸市")
    dropped = activity(cli, "--kind", "training", "--programme", "共同セキュリティ監査", "--title", "内部監査研修",
                       "--date", "令和5年12月1日", "--format", "web")
    cli("activity", "participants", dropped, "豊橋市")
    cli("activity", "cancel", dropped)
    d1 = activity(cli, "--kind", "drill", "--programme", "標的型攻撃メール対策訓練", "--ordinal", "1", "--title", "訓練",
                  "--date", "令和5年7月20日～8月4日")
    d2 = activity(cli, "--kind", "drill", "--programme", "標的型攻撃メール対策訓練", "--ordinal", "2", "--title", "訓練",
                  "--date", "令和5年10月16日～19日")
    cli("activity", "participants", d1, "瀬戸市")
    cli("activity", "result", d1, "豊橋市", "--mails-sent", "120", "--links-opened", "9", "--reported", "31")
    cli("activity", "result", d1, "瀬戸市", "--mails-sent", "60", "--links-opened", "6")
    cli("activity", "result", d2, "豊橋市", "--mails-sent", "120", "--links-opened", "3", "--reported", "40")

    # a municipal merger: the re-imported members file carries 碧南市's new name under the same code
    renamed = tmp_path / "members-2024.csv"
    renamed.write_text(MEMBERS_CSV.read_text(encoding="utf-8").replace("碧南市,", "新碧南市,"), encoding="utf-8")
    assert "1 renamed" in cli("members", "import", str(renamed)).out
    return ids


@dataclass
class Built:
    db: str
    cli: CLI
    ids: dict[str, str]
    tmp: Path


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def built(request, tmp_path_factory):
    """The scenario built once per backend — a real SQLite file, a fresh PostgreSQL schema, as the
    ``db`` fixture gives — for the tests below, which only read it or add what changes none of its
    numbers (building it takes ~80 commands)."""
    tmp = tmp_path_factory.mktemp(f"participation-{request.param}")
    url, drop = make_store(request.param, tmp)
    cli = CLI(url)
    yield Built(url, cli, build(cli, tmp), tmp)
    drop()


BOARD_ROWS = [  # name, cells (第1回, 第2回, 第3回), held, attended, absent, unknown, rate
    ("愛知県", ["present", "present", "present"], 3, 3, 0, 0, 100.0),
    ("名古屋市", ["present", "present", "present"], 3, 3, 0, 0, 100.0),
    ("豊橋市", ["present", "present", "present"], 3, 3, 0, 0, 100.0),
    ("岡崎市", ["present", "present", "present"], 3, 3, 0, 0, 100.0),
    ("一宮市", ["present", "present", "present"], 3, 3, 0, 0, 100.0),
    ("瀬戸市", ["present", "unknown", "present"], 3, 2, 0, 1, 100.0),
    ("半田市", ["present", "absent", "present"], 3, 2, 1, 0, 66.7),
    ("春日井市", ["present", "present", "present"], 3, 3, 0, 0, 100.0),
    ("豊川市", ["present", "present", "absent"], 3, 2, 1, 0, 66.7),
    ("津島市", ["absent", "present", "present"], 3, 2, 1, 0, 66.7),
    ("新碧南市", ["absent", "present", "absent"], 3, 1, 2, 0, 33.3),
    ("刈谷市", ["present", None, None], 1, 1, 0, 0, 100.0),
    ("豊田市", [None, "present", "absent"], 2, 1, 1, 0, 50.0),
    ("公益財団法人愛知県市町村振興協会", ["present", "present", "present"], 3, 3, 0, 0, 100.0),
]


def test_board_matrix_rates_per_member_and_per_meeting(built):
    cli = built.cli
    rep = cli("participation", "--body", "幹事会", "--fiscal-year", "令和5年度", "--format", "json").json()
    assert rep["body"]["path"] == "会議運営/幹事会" and rep["roster"] == {"source": "own"}
    assert [(m["label"], m["start"]) for m in rep["meetings"]] == [
        ("第1回幹事会", "2023-05-24"), ("第2回幹事会", "2023-10-18"), ("第3回幹事会", "2024-03-01")]
    assert [(e["label"], e["reason"]) for e in rep["excluded"]] == [("第4回幹事会", "cancelled")]
    got = [(r["name"], r["cells"], r["held"], r["attended"], r["absent"], r["unknown"], r["rate"]) for r in rep["members"]]
    assert got == BOARD_ROWS
    assert [sum(c is not None for c in col) for col in zip(*(r["cells"] for r in rep["members"]))] == [13, 13, 13]
    per_meeting = [(m["expected"], m["attended"], m["absent"], m["unknown"], m["rate"]) for m in rep["meetings"]]
    assert per_meeting == [(13, 11, 2, 0, 84.6), (13, 11, 1, 1, 91.7), (13, 10, 3, 0, 76.9)]
    assert rep["totals"] == {"expected": 39, "attended": 32, "absent": 6, "unknown": 1, "rate": 84.2}
    assert "mails_sent" not in json.dumps(rep) and "drill_results" not in rep
    # the renamed organisation keeps its history, under its new name and its former one
    assert rep["members"][10]["former_names"] == ["碧南市"]
    for name in ("新碧南市", "碧南市", "232092"):
        rec = cli("participation", "--member", name, "--fiscal-year", "2023", "--format", "json").json()
        assert rec["member"]["name"] == "新碧南市"
        assert (rec["totals"]["held"], rec["totals"]["attended"], rec["totals"]["rate"]) == (3, 1, 33.3)

    table = cli("participation", "--body", "幹事会", "--fiscal-year", "2023").out
    assert "会議運営/幹事会 令和5年度 出欠表" in table
    assert "84.6%" in table and "91.7%" in table and "76.9%" in table and "84.2%" in table
    assert "集計対象外: 第4回幹事会（令和6年3月15日、中止）" in table


def test_member_records_mid_year_joiners_activities_and_drill_results(built):
    cli = built.cli

    def record(name: str) -> dict:
        return cli("participation", "--member", name, "--fiscal-year", "R5", "--format", "json").json()

    toyota = record("豊田市")  # joined the 幹事会 on 1 October: 2 of the 3 meetings
    assert [(b["name"], b["spans"], b["held"], b["attended"], b["absent"], b["rate"]) for b in toyota["bodies"]] == [
        ("幹事会", [["2023-10-01", None]], 2, 1, 1, 50.0)]
    kariya = record("刈谷市")  # left on 30 September: its later "present" counts nowhere
    assert [(b["spans"], b["held"], b["attended"], b["rate"]) for b in kariya["bodies"]] == [
        ([["2023-04-01", "2023-09-30"]], 1, 1, 100.0)]

    seto = record("瀬戸市")  # joined the programme in October: its 事業部会 counts from then
    assert seto["programmes"] == [{"id": seto["programmes"][0]["id"], "name": FACILITY, "since": "2023-10-01", "until": None}]
    assert [(b["path"], b["via_programme"], b["held"], b["attended"], b["absent"], b["unknown"], b["rate"])
            for b in seto["bodies"]] == [
        ("会議運営/幹事会", None, 3, 2, 0, 1, 100.0),
        (f"{FACILITY}/事業部会", FACILITY, 2, 1, 1, 0, 50.0),
        (f"{FACILITY}/検討会", FACILITY, 0, 0, 0, 0, None),
    ]
    assert seto["totals"] == {"held": 5, "attended": 3, "absent": 1, "unknown": 1, "rate": 75.0}
    assert [(m["label"], m["attendance"]) for m in seto["meetings"]] == [
        ("第1回幹事会", "present"), ("第2回幹事会", "unknown"), ("第2回事業部会", "absent"), ("第3回事業部会", "replied"),
        ("第3回幹事会", "present")]
    assert [(a["kind"], a["label"]) for a in seto["activities"]] == [
        ("audit", "脆弱性診断"), ("drill", "第1回訓練"), ("training", "情報セキュリティ監査研修")]
    assert {k: n for k, n in seto["activity_counts"].items() if n} == {"training": 1, "audit": 1, "drill": 1}
    assert [(d["label"], d["mails_sent"], d["links_opened"], d["open_rate"], d["reported"]) for d in seto["drill_results"]] == [
        ("第1回訓練", 60, 6, 10.0, None)]

    toyohashi = record("豊橋市")  # replies to written deliberations count as attended; the cancelled training does not
    assert [(b["name"], b["held"], b["attended"], b["rate"]) for b in toyohashi["bodies"]] == [
        ("幹事会", 3, 3, 100.0), ("事業部会", 3, 3, 100.0), ("検討会", 0, 0, None)]
    assert [a["label"] for a in toyohashi["activities"]] == ["第1回訓練", "第2回訓練", "情報セキュリティ監査研修"]
    assert [(d["label"], d["mails_sent"], d["links_opened"], d["open_rate"], d["reported"])
            for d in toyohashi["drill_results"]] == [("第1回訓練", 120, 9, 7.5, 31), ("第2回訓練", 120, 3, 2.5, 40)]
    okazaki = record("岡崎市")  # no reply to the written 第1回事業部会 is not attended
    assert [(b["name"], b["held"], b["attended"], b["absent"], b["rate"]) for b in okazaki["bodies"]] == [
        ("幹事会", 3, 3, 0, 100.0), ("事業部会", 3, 2, 1, 66.7), ("検討会", 0, 0, 0, None)]
    assert okazaki["drill_results"] == []

    sub = cli("participation", "--body", "事業部会", "--fiscal-year", "2023", "--format", "json").json()
    assert sub["roster"] == {"source": "programme", "programme": FACILITY}
    assert [(r["name"], r["cells"]) for r in sub["members"]] == [
        ("豊橋市", ["replied", "present", "replied"]), ("岡崎市", ["no_reply", "present", "replied"]),
        ("瀬戸市", [None, "absent", "replied"])]
    assert [(m["expected"], m["attended"], m["rate"]) for m in sub["meetings"]] == [(2, 1, 50.0), (3, 2, 66.7), (3, 3, 100.0)]
    assert sub["totals"]["rate"] == 75.0
    # a body without a roster counts nobody
    assembly = cli("participation", "--body", "総会", "--fiscal-year", "2023", "--format", "json").json()
    assert assembly["roster"] == {"source": "none"} and assembly["members"] == [] and assembly["totals"]["expected"] == 0

    # drill results only in the member's own record
    summary = cli("participation", "--fiscal-year", "2023", "--format", "json").json()
    assert "mails_sent" not in json.dumps(summary)
    rows = {r["name"]: r for r in summary["members"]}
    assert len(rows) == 57
    assert (rows["瀬戸市"]["bodies"], rows["瀬戸市"]["held"], rows["瀬戸市"]["attended"], rows["瀬戸市"]["unknown"],
            rows["瀬戸市"]["rate"]) == (3, 5, 3, 1, 75.0)
    assert (rows["半田市"]["activity_counts"]["audit"], rows["豊橋市"]["activity_counts"]["drill"]) == (1, 2)
    assert rows["飛島村"]["held"] == 0 and rows["飛島村"]["rate"] is None
    text = cli("participation", "--member", "豊橋市", "--fiscal-year", "2023").out
    assert "訓練結果" in text and "7.5%" in text
    for other in (cli("participation", "--body", "幹事会", "--fiscal-year", "2023").out,
                  cli("participation", "--fiscal-year", "2023").out):
        assert "訓練結果" not in other and "送信数" not in other


def test_not_yet_held_meetings_wait_until_held_or_past(built):
    with Kyogikai(built.db, actor="t") as k:
        early = pt.report(k, fiscal_year=2023, body="幹事会", today=dt.date(2023, 10, 20))
        assert [m["label"] for m in early["meetings"]] == ["第1回幹事会", "第2回幹事会"]
        assert [(e["label"], e["reason"]) for e in early["excluded"]] == [("第3回幹事会", "upcoming"), ("第4回幹事会", "cancelled")]
        assert early["totals"] == {"expected": 26, "attended": 22, "absent": 3, "unknown": 1, "rate": 88.0}
        # a written deliberation still running on "today" is not counted yet
        seto = pt.report(k, fiscal_year=2023, member="瀬戸市", today=dt.date(2024, 2, 19))
        assert [b["held"] for b in seto["bodies"]] == [2, 1, 0]
        assert pt.report(k, fiscal_year=2024, body="幹事会")["meetings"] == []
        with k.reads.transaction(write=False) as rows:
            data = pt.load_year(rows, 2023, today=dt.date(2023, 10, 20))
    # recorded as held, a meeting counts even before its date has passed
    third = next(m for m in data.meetings.values() if m["id"] == built.ids["第3回幹事会"])
    third["status"] = "held"
    held = pt.body_matrix(data, third["body_id"])
    assert [m["label"] for m in held["meetings"]] == ["第1回幹事会", "第2回幹事会", "第3回幹事会"]
    assert held["totals"]["rate"] == 84.2


def test_csv_reads_back_as_the_matrix(built):
    cli = built.cli
    out = built.tmp / "幹事会.csv"
    cli("participation", "--body", "幹事会", "--fiscal-year", "2023", "--format", "csv", "-o", str(out))
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw and raw.count(b"\n") == raw.count(b"\r\n")
    with out.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["団体コード", "団体名", "第1回幹事会（令和5年5月24日）", "第2回幹事会（令和5年10月18日）",
                       "第3回幹事会（令和6年3月1日）", "開催", "出席", "欠席", "未記録", "出席率(%)"]
    ja = {"present": "出席", "absent": "欠席", "unknown": "未記録", None: "－"}
    body = rows[1:15]
    assert [r[1] for r in body] == [r[0] for r in BOARD_ROWS]
    assert body[0][0] == "230006" and body[-1][0] == ""
    for got, (name, cells, held, att, absent, unknown, rate) in zip(body, BOARD_ROWS):
        assert got[2:5] == [ja[c] for c in cells]
        assert got[5:] == [str(held), str(att), str(absent), str(unknown), f"{rate:.1f}"]
    assert rows[15:] == [
        ["", "対象", "13", "13", "13", "39", "", "", "", ""],
        ["", "出席", "11", "11", "10", "", "32", "", "", ""],
        ["", "欠席", "2", "1", "3", "", "", "6", "", ""],
        ["", "未記録", "0", "1", "0", "", "", "", "1", ""],
        ["", "出席率(%)", "84.6", "91.7", "76.9", "", "", "", "", "84.2"],
    ]
    # stdout carries the same bytes
    r = cli("participation", "--body", "幹事会", "--fiscal-year", "2023", "--format", "csv")
    assert r.out.encode("utf-8") == raw
    member = cli("participation", "--member", "豊橋市", "--fiscal-year", "2023", "--format", "csv").out
    rows = list(csv.reader(io.StringIO(member.removeprefix("\ufeff"))))
    assert rows[0][:5] == ["区分", "会議体・事業", "名称", "日付", "出欠・参加"]
    drills = [r for r in rows if r[0] == "訓練"]
    assert [(r[2], r[10], r[11], r[12], r[13]) for r in drills] == [
        ("第1回訓練", "120", "9", "7.5", "31"), ("第2回訓練", "120", "3", "2.5", "40")]
    assert ["会議計", "", "", "", "", "6", "6", "0", "0", "100.0", "", "", "", ""] in rows


def test_rebuilt_read_model_equals_incremental(built):
    cli, db = built.cli, built.db
    args = ("participation", "--body", "幹事会", "--fiscal-year", "2023", "--format", "json")
    before = cli(*args).out
    member_before = cli("participation", "--member", "瀬戸市", "--fiscal-year", "2023", "--format", "json").out
    with Kyogikai(db, actor="t") as k:
        k.sync()
        live = k.runtime.dump()
    assert len(live["rm_attendance"]) == 13 * 4 + 3 * 3
    assert len(live["rm_participation"]) == 3 + 2 + 1 + 1 and len(live["rm_drill_results"]) == 3
    assert "rebuilt read models from" in cli("rebuild").out
    with Kyogikai(db, actor="t") as k:
        assert k.runtime.dump() == live
    assert cli(*args).out == before
    assert cli("participation", "--member", "瀬戸市", "--fiscal-year", "2023", "--format", "json").out == member_before


def test_csv_cells_cannot_inject_formulas(cli, tmp_path):
    # full-width ＝＋－＠ (a Japanese IME types them; spreadsheets may read them as the ASCII ones) too
    names = ("=1+2", "+SUM(A1)", "-3+3", "@cmd", "＝1+2", "＋SUM(A1)", "－3+3", "＠cmd", "﹦1", "\u22121", "普通の団体")
    for name in names:
        cli("member", "create", "--kind", "other", "--class", "associate", "--", name)
    r = cli("participation", "--fiscal-year", "2023", "--format", "csv")
    rows = list(csv.reader(io.StringIO(r.out.removeprefix("\ufeff"))))
    assert sorted(row[1] for row in rows[1:]) == sorted("'" + n if n != "普通の団体" else n for n in names)
    assert pt.safe_cell("\tx") == "'\tx" and pt.safe_cell(-1) == -1 and pt.safe_cell(None) == ""
    assert pt.safe_cell("\nx") == "'\nx" and pt.safe_cell("a=b") == "a=b" and pt.safe_cell("") == ""


# == members import ===============================================================================

def write(tmp_path: Path, text: str, name: str = "members.csv", encoding: str = "utf-8") -> str:
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return str(p)


def test_members_import_japanese_and_english_idempotent(cli, db, tmp_path):
    ja = "\ufeff団体名,種別,団体コード,区分\r\n愛知県,県,230006,会員\r\n名古屋市,市,２３１００２,会員\r\n\r\n飛島村,村,234273,会員\r\n" \
         "愛知県市町村職員共済組合,その他,,準会員\r\n"
    out = cli("members", "import", write(tmp_path, ja), "-v").out
    assert "created 名古屋市" in out and "wrote 4 event(s): 4 created, 0 renamed, 0 reclassified, 0 unchanged" in out
    before = count_events(db)
    assert "nothing to import: all 4" in cli("members", "import", write(tmp_path, ja)).out
    assert count_events(db) == before
    en = "class,code,name,kind\nmember,230006,愛知県,prefecture\nmember,231002,名古屋市,city\nmember,232017,豊橋市,city\n" \
         "member,234273,飛島村,village\nmember,,愛知県市町村職員共済組合,other\n"
    out = cli("members", "import", write(tmp_path, en, "en.csv")).out
    assert "wrote 2 event(s): 1 created, 0 renamed, 1 reclassified, 3 unchanged" in out
    listed = {m["name"]: m for m in cli("members", "--json").json()}
    assert listed["名古屋市"]["code"] == "231002" and listed["飛島村"]["kind"] == "village"
    assert listed["愛知県市町村職員共済組合"]["member_class"] == "member"
    assert [m["name"] for m in cli("members", "list", "--json").json()] == [m["name"] for m in cli("members", "--json").json()]
    assert "230006  愛知県  prefecture/member" in cli("members").out
    # a changed name for a known code is a rename: the history stays with the organisation
    out = cli("members", "import", write(tmp_path, en.replace("飛島村", "とびしま村"), "renamed.csv"), "-v").out
    assert "renamed 飛島村 to とびしま村" in out and "1 renamed" in out
    hist = cli("history", "飛島村", "--json").json()
    assert [h["event"] for h in hist] == ["MemberCreated", "MemberRenamed"]
    dry = cli("members", "import", write(tmp_path, en.replace("飛島村", "とびしま村").replace("豊橋市", "新豊橋市"), "dry.csv"), "--dry-run").out
    assert "would write 1 event(s)" in dry
    assert count_events(db) == before + 3


@pytest.mark.parametrize("text, message", [
    ("name,kind,code,class\n愛知県,県,230007,会員\n", "line 2: code: local government code '230007' has a wrong check digit (expected 6)"),
    ("name,kind,code,class\n名古屋市,市,31002,会員\n", "line 2: code: '31002' must be 6 digits including the check digit (a leading zero lost"),
    ("name,kind,code,class\n名古屋市,区,231002,会員\n", "line 2: kind: '区' is not one of 県, 市, 町, 村, その他"),
    ("name,kind,code,class\n名古屋市,市,231002,正会員\n", "line 2: class: '正会員' is not one of 会員, 準会員"),
    ("name,kind,code,class\n,市,231002,会員\n", "line 2: name: empty"),
    ("name,kind,code,class\n名古屋市,市,,会員\n", "line 2: code: empty; a city needs its 全国地方公共団体コード"),
    ("name,kind,code,class\n名古屋市,市,230006,会員\n", "line 2: code: 230006 is a prefecture's code, but the kind is city"),
    ("name,kind,code,class\n名古屋市,市,231002,会員\n名古屋市,市,232017,会員\n", "line 3: name: '名古屋市' is already on line 2"),
    ("name,kind,code,class\n名古屋市,市,231002,会員\n豊橋市,市,231002,会員\n", "line 3: code: 231002 is already on line 2"),
    ("name,kind,code,class\n名古屋市,市,231002\n", "line 2: has 3 field(s), the header has 4"),
    ("団体名,種類,団体コード,区分\n名古屋市,市,231002,会員\n", "line 1: header: unknown column '種類'"),
    ("name,kind,class\n名古屋市,市,会員\n", "line 1: header: missing column(s) code (団体コード)"),
    ("", "empty file"),
    ("name,kind,code,class\n", "no member rows"),
])
def test_members_import_bad_rows_write_nothing(cli, db, tmp_path, text, message):
    r = cli("members", "import", write(tmp_path, text), expect=2)
    assert r.err.startswith("error: members.csv") and r.err.count("\n") == 1, r.err
    assert message in r.err
    assert "Traceback" not in r.err + r.out
    assert count_events(db) == 0


def test_members_import_reports_every_bad_row_and_checks_the_store(cli, db, tmp_path):
    text = "name,kind,code,class\n愛知県,県,230006,会員\n瀬戸市,市,232040,会員\n半田市,まち,232050,会員\n春日井市,市,232068,会員\n"
    r = cli("members", "import", write(tmp_path, text), expect=2)
    assert "2 bad row(s), nothing imported — line 3: code:" in r.err and "line 4: kind:" in r.err
    assert count_events(db) == 0
    r = cli("members", "import", write(tmp_path, "bogus\nfoo\n", "bogus.csv"), expect=2)
    assert "bogus.csv line 1: header: unknown column 'bogus'" in r.err
    r = cli("members", "import", write(tmp_path, "団体名,種別,団体コード,区分\n愛知県,県,230006,会員\n", "sjis.csv", "cp932"))
    assert count_events(db) == 1                          # Excel's Shift_JIS CSV is read as such
    (tmp_path / "bad.csv").write_bytes(b"name,kind\n\xff\xfe\x00")
    r = cli("members", "import", str(tmp_path / "bad.csv"), expect=2)
    assert "bad.csv: line 2: the file is neither UTF-8 nor Shift_JIS text" in r.err
    cli("members", "import", write(tmp_path, "name,kind,code,class\n愛知県,県,230006,会員\n名古屋市,市,231002,会員\n"))
    before = count_events(db)
    # kind cannot change; a new name may not take another member's
    r = cli("members", "import", write(tmp_path, "name,kind,code,class\n名古屋市,町,231002,会員\n"), expect=2)
    assert "line 2: kind: 名古屋市 (231002) is recorded as city, not town" in r.err
    r = cli("members", "import", write(tmp_path, "name,kind,code,class\n愛知県,市,232017,会員\n"), expect=2)
    assert "line 2: name: '愛知県' is already the name of another member (code 230006), not code 232017" in r.err
    r = cli("members", "import", write(tmp_path, "name,kind,code,class\n愛知県,市,231002,会員\n"), expect=2)
    assert "line 2: name: '愛知県' is already the name of another member" in r.err
    r = cli("members", "import", str(tmp_path / "missing.csv"), expect=2)
    assert "cannot read" in r.err
    assert count_events(db) == before


def test_packaged_members_file_is_aichi():
    from kyogikai.domain.organisation import check_lg_code
    from kyogikai.members_csv import parse

    rows = parse(MEMBERS_CSV.read_text(encoding="utf-8"))
    kinds = [r.kind.value for r in rows if r.member_class.value == "member"]
    assert (kinds.count("prefecture"), kinds.count("city"), kinds.count("town"), kinds.count("village")) == (1, 38, 14, 2)
    assert rows[0].name == "愛知県" and rows[0].code == "230006"
    assert all(check_lg_code(r.code) == r.code for r in rows if r.code)
    assert all(r.code.startswith("23") for r in rows if r.code)
    assert [r.name for r in rows if r.member_class.value == "associate"] and all(
        r.code is None for r in rows if r.member_class.value == "associate")


def test_html_pages_show_drill_results_only_in_the_member_page_and_escape(built):
    with Kyogikai(built.db, actor="t") as k:
        matrix = pt.report(k, fiscal_year=2023, body="幹事会")
        record = pt.report(k, fiscal_year=2023, member="豊橋市")
    body_page, member_page = pt.render_body_html(matrix), pt.render_member_html(record)
    assert "84.6%" in body_page and "91.7%" in body_page and "76.9%" in body_page and "84.2%" in body_page
    assert body_page.count('<tr data-member-id="') == 14 and "新碧南市" in body_page and "（旧: 碧南市）" in body_page
    assert "訓練結果" not in body_page and "送信数" not in body_page
    assert "訓練結果" in member_page and "7.5%" in member_page and "<style>" in member_page
    matrix["members"][0]["name"] = record["member"]["name"] = "<script>alert(1)</script>"
    for page in (pt.render_body_html(matrix), pt.render_member_html(record)):
        assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# == the web pages, over real HTTP ================================================================

def test_web_body_matrix_public_only_and_member_record_behind_its_token(built):
    from kyogikai.feeds import FeedService
    from kyogikai.web import create_app
    from kyogikai.web.participation import routes

    cli = built.cli
    cli("body", "create", "非公開検討会", "--programme", "会議運営", "--non-public")
    cli("body", "create", "作業部会", "--parent", "非公開検討会")
    with Kyogikai(built.db, actor="t") as k:
        board, hidden, under = (k.body(n)["id"] for n in ("幹事会", "非公開検討会", "作業部会"))
        feeds = FeedService(k, "http://x")
        toyohashi, seto = feeds.issue_token("豊橋市").token, feeds.issue_token("瀬戸市").token
        revoked = feeds.issue_token("岡崎市")
        feeds.revoke_token(revoked.id)

    def asgi(base: str):
        return create_app(lambda: Kyogikai(built.db, actor="web"), base_url=base, extra_routes=routes,
                          today=lambda: dt.date(2024, 5, 1))

    with ThreadServer(asgi) as srv:
        page = fetch(srv.base + f"/bodies/{board}/participation?fiscal_year=2023")
        assert page.status == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
        assert page.headers["x-content-type-options"] == "nosniff" and "default-src 'none'" in page.headers["content-security-policy"]
        html = page.text
        assert "幹事会 令和5年度 出欠表" in html and html.count('<tr data-member-id="') == 14
        for rate in ("84.6%", "91.7%", "76.9%", "84.2%", "33.3%", "50.0%"):
            assert rate in html
        assert "集計対象外: 第4回幹事会（令和6年3月15日、中止）" in html
        assert "訓練結果" not in html and "送信数" not in html
        assert fetch(srv.base + f"/bodies/{board}/participation?fiscal_year=" + quote("令和5年度")).text == html
        assert fetch(srv.base + f"/bodies/{board}/participation").text.count("令和6年度") >= 1   # 1 May 2024: FY2024
        assert fetch(srv.base + f"/bodies/{board}/participation?fiscal_year=bogus").status == 400
        for body_id in (hidden, under, str(uuid.uuid4())):
            assert fetch(srv.base + f"/bodies/{body_id}/participation?fiscal_year=2023").status == 404
        assert fetch(srv.base + "/bodies/not-a-uuid/participation").status == 404

        mine = fetch(srv.base + f"/private/{toyohashi}/participation?fiscal_year=2023")
        assert mine.status == 200
        assert mine.headers["cache-control"] == "private, no-store" and mine.headers["x-robots-tag"] == "noindex, nofollow"
        assert "豊橋市（232017） 令和5年度 参加記録" in mine.text
        assert "訓練結果" in mine.text and "7.5%" in mine.text and "2.5%" in mine.text and "10.0%" not in mine.text
        theirs = fetch(srv.base + f"/private/{seto}/participation?fiscal_year=R5").text
        assert "瀬戸市（232041）" in theirs and "10.0%" in theirs and "7.5%" not in theirs and "豊橋市（" not in theirs
        assert "75.0%" in theirs and "あいち共同利用型施設予約システム事業/事業部会 <small>（事業の参加団体として）</small>" in theirs
        for bad in (revoked.token, "x" * 43, "short"):
            assert fetch(srv.base + f"/private/{bad}/participation?fiscal_year=2023").status == 404


def test_participation_bad_input_one_line_nothing_written(built):
    cli = built.cli
    before = count_events(built.db)
    for args, message in [
        (["--member", "豊橋市", "--body", "幹事会"], "--member/--body: give one of them, not both"),
        (["--member", "豊橋巿"], "unknown member '豊橋巿'"),
        (["--body", "幹事"], "unknown body '幹事'"),
        (["--fiscal-year", "令和五年度"], "--fiscal-year:"),
        (["--format", "xlsx"], "--format"),
    ]:
        r = cli("participation", *args, expect=2)
        assert r.err.startswith("error: ") and r.err.count("\n") == 1 and message in r.err, r.err
    # a missing folder is a file system refusal (exit 4), never created
    r = cli("participation", "--body", "幹事会", "--format", "csv", "-o", str(built.tmp / "no-such-dir" / "x.csv"), expect=4)
    assert r.err.startswith("error: --output: the folder ") and r.err.count("\n") == 1, r.err
    assert not (built.tmp / "no-such-dir").exists()
    assert count_events(built.db) == before
