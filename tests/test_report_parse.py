"""The report document model, its parser (text → ReportDoc) and its canonical text renderer.

Most tests read the real FY2023 report at ../shared/reference (skipped when absent, failed under CI).
Line numbers below are the reference file's (1-based, as `cat -n` prints them).
"""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path

import pytest

from kyogikai.dates import Period
from kyogikai.domain.formats import Format
from kyogikai.report.document import BodyNode, Entry, ProgrammeNode, ReportDoc, SectionNode
from kyogikai.report.parse import Problem, parse_report
from kyogikai.report.text import render_markdown, render_text

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "fy2023-annual-report.txt"

# Dated entries, counted by hand block by block (line numbers of the entry's first line):
#   1(2) 19-21: 3 | 1(3) 27-28: 2 | 1(4) 34-35: 2 | 1(6) 45: 1 | 1(7) 53-55: 3 (55 = series continuation)
#   ア総会 63, 70: 2 | イ運営委員会 85: 1 | ウ幹事会 98-100: 3 | エ 106: 1 | (ア) 116-119: 4
#   (イ) groups 129-131, 135, 139: 5 | (ウ) 145-149, 151-154, 156-157: 11 (149-150 and 154-155 are one entry each)
#   2(1) 169-172: 4, 178-180: 3, 186: 1 | 2(2) 196-198: 3, 204-209: 6, 215: 1
#   2(3) 229-232: 4, 238-245: 8, 251: 1, 257: 1
#   = 11 + 2 + 1 + 3 + 1 + 4 + 5 + 11 + 8 + 10 + 14 = 70 (the 70 is right).
ENTRY_LINES = [
    19, 20, 21, 27, 28, 34, 35, 45, 53, 54, 55, 63, 70, 85, 98, 99, 100, 106, *range(116, 120),
    129, 130, 131, 135, 139, *range(145, 150), *range(151, 155), 156, 157,
    *range(169, 173), *range(178, 181), 186, *range(196, 199), *range(204, 210), 215,
    *range(229, 233), *range(238, 246), 251, 257,
]
CONTINUATION_LINES = [150, 155]  # the dates of the split entries 149 and 154
# Agenda items: 総会 第1回 67-68 (2), 第2回 74-79 (6), 運営委員会 第1回 89-92 (4) = 12, not the 14.
AGENDA = {63: [67, 68], 70: list(range(74, 80)), 85: list(range(89, 93))}
AGENDA_LINES = [n for lines in AGENDA.values() for n in lines]
# Headings (36 = everything numbered, without the title on line 3): sections 5, 159 (2); programmes
# (1)-(8) and (1)-(3) (11); bodies ア… (5 + 3 + 4 + 5 = 17); sub-bodies (ア)-(ウ) (3); groups 【…】 (3).
HEADING_LINES = [5, 7, 13, 23, 30, 37, 41, 47, 57, 59, 81, 94, 102, 108, 112, 121, 127, 133, 137, 141,
                 159, 161, 165, 174, 182, 188, 192, 200, 211, 217, 221, 225, 234, 247, 253, 259]
HEADING_LEVELS = {"section": 2, "programme": 11, "body": 17, "sub-body": 3, "group": 3}

shared = pytest.mark.shared


@pytest.fixture(scope="module")
def ref_text() -> str:
    if not REFERENCE.exists():
        if os.environ.get("CI"):
            pytest.fail(f"reference report missing at {REFERENCE} (../shared must exist under CI)")
        pytest.skip(f"reference report not found at {REFERENCE}: ../shared beside the repository is absent")
    return REFERENCE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def ref_lines(ref_text: str) -> list[str]:
    return ref_text.split("\n")


@pytest.fixture(scope="module")
def ref_doc(ref_text: str) -> ReportDoc:
    result = parse_report(ref_text)
    assert result.problems == []
    return result.doc


def line(lines: list[str], n: int) -> str:
    return lines[n - 1].strip()


def unbullet(text: str) -> str:
    return re.sub(r"^[-・\s]+", "", text.strip())


def walk(doc: ReportDoc):
    """(level, node) in document order."""
    def body(node: BodyNode, depth: int):
        yield ("body", "sub-body", "group")[min(depth, 3) - 1], node
        for child in node.children:
            yield from body(child, depth + 1)

    for section in doc.sections:
        yield "section", section
        for programme in section.programmes:
            yield "programme", programme
            for b in programme.bodies:
                yield from body(b, 1)


def name_of(node) -> str:
    return node.title if isinstance(node, (SectionNode, ProgrammeNode)) else node.name


# -- the reference, parsed ---------------------------------------------------------------------

@shared
def test_reference_parses_without_problems(ref_doc: ReportDoc) -> None:
    assert ref_doc.fiscal_year == 2023
    assert [s.number for s in ref_doc.sections] == [1, 2]


@shared
def test_dated_entries(ref_doc: ReportDoc) -> None:
    entries = ref_doc.entries()
    assert len(entries) == 70
    assert [e.line for e in entries] == ENTRY_LINES
    assert all(e.period is not None for e in entries)
    assert all(date(2023, 4, 1) <= e.period.start <= e.period.end <= date(2024, 3, 31) for e in entries)


@shared
def test_agenda_items(ref_doc: ReportDoc, ref_lines: list[str]) -> None:
    with_agenda = {e.line: e.agenda for e in ref_doc.entries() if e.agenda}
    assert with_agenda == {n: [unbullet(line(ref_lines, i)) for i in items] for n, items in AGENDA.items()}
    flat = [a for e in ref_doc.entries() for a in e.agenda]
    assert len(flat) == 12
    assert flat[0] == "令和4年度事業報告" and flat[-1] == "令和6年度負担金見込額について"


@shared
def test_paragraphs_verbatim(ref_doc: ReportDoc, ref_lines: list[str]) -> None:
    expected = [ln.strip() for ln in ref_lines if ln.strip().endswith("。")]
    assert len(expected) == 34
    got = [p for _, node in walk(ref_doc) if hasattr(node, "paragraphs") for p in node.paragraphs]
    assert got == expected


@shared
def test_headings(ref_doc: ReportDoc, ref_lines: list[str]) -> None:
    headings = list(walk(ref_doc))
    assert len(headings) == 36
    levels: dict[str, int] = {}
    for level, _ in headings:
        levels[level] = levels.get(level, 0) + 1
    assert levels == HEADING_LEVELS
    numbering = re.compile(r"^(?:\d+ |\(\d+\) |[アイウエオ] |\([アイウ]\) )")
    expected = [numbering.sub("", line(ref_lines, n)).strip("【】") for n in HEADING_LINES]
    assert [name_of(node) for _, node in headings] == expected
    assert "協議会 Web システムの運営" in expected
    assert "情報セキュリティ研究会（メンバー全員）" in expected


def wp(start: date, end: date | None = None, precision: str = "day") -> Period:
    return Period(start, end or start, precision)


HARD = {
    20: Entry("audit", "技術的診断（オンサイト診断、リモート診断）、インタビュー監査個別報告会",
              period=wp(date(2023, 7, 1), date(2023, 11, 30), "month")),
    28: Entry("audit", "情報セキュリティ内部監査", period=wp(date(2023, 11, 7)), format=Format.IN_PERSON,
              venue="県自治センター"),
    34: Entry("drill", "訓練", ordinal=1, period=wp(date(2023, 7, 20), date(2023, 8, 4))),
    45: Entry("lecture", "最新の情報セキュリティ状況について", speaker="愛知県警", period=wp(date(2024, 2, 9)),
              format=Format.WEB),
    53: Entry("activity", "先進事例研究・意見交換会", series="先進事例研究・意見交換会", part=1,
              period=wp(date(2023, 8, 30)), format=Format.WEB),
    54: Entry("activity", "先進事例研究・意見交換会", series="先進事例研究・意見交換会", part=2, ordinal=1,
              period=wp(date(2023, 10, 13)), format=Format.WEB),
    55: Entry("activity", "先進事例研究・意見交換会", series="先進事例研究・意見交換会", part=2, ordinal=2,
              period=wp(date(2024, 1, 17)), format=Format.WEB),
    63: Entry("meeting", "定期総会", ordinal=1, period=wp(date(2023, 6, 2)), format=Format.WEB,
              agenda=["令和4年度事業報告", "令和4年度収支決算及び監査報告"]),
    85: Entry("meeting", "運営委員会", ordinal=1, period=wp(date(2023, 10, 25)), format=Format.WEB,
              agenda=["令和5年度予算執行状況及び決算見込について", "令和5年度負担金確定額及び後期請求額について",
                      "令和6年度事業計画及び当初予算について", "令和6年度負担金見込額について"]),
    106: Entry("meeting", "委員会", period=wp(date(2024, 2, 21)), format=Format.IN_PERSON, venue="県自治センター"),
    129: Entry("meeting", "研究会", ordinal=1, period=wp(date(2023, 9, 28), date(2023, 10, 5)), format=Format.WRITTEN),
    139: Entry("meeting", "研究会", ordinal=1, period=wp(date(2024, 1, 16)), format=Format.WEB, format_label="Web開催"),
    146: Entry("meeting", "企画提案選定委員会", ordinal=1, period=wp(date(2023, 5, 15)), format=Format.WEB,
               body_hint="企画提案選定委員会"),
    149: Entry("vote", "一部議題に係る採決", refers_to=(2, "ワーキンググループ"),
               period=wp(date(2023, 8, 1), date(2023, 8, 10)), format=Format.WRITTEN),
    154: Entry("redeliberation", "議題に係る再審議", refers_to=(5, "ワーキンググループ"),
               period=wp(date(2023, 12, 25), date(2024, 1, 10)), format=Format.WRITTEN, format_label="書面審議"),
    186: Entry("meeting", "全体会議", period=wp(date(2024, 3, 12)), format=Format.WRITTEN),
    207: Entry("meeting", "検討会", ordinal=4, period=wp(date(2023, 10, 4), date(2023, 10, 16)), format=Format.WRITTEN),
    229: Entry("meeting", "事業部会", ordinal=1, period=wp(date(2023, 4, 27), date(2023, 5, 11)), format=Format.WRITTEN),
    251: Entry("briefing", "全体説明会", period=wp(date(2023, 6, 6)), format=Format.WEB),
}


@shared
@pytest.mark.parametrize("n", sorted(HARD))
def test_hard_entries(ref_doc: ReportDoc, n: int) -> None:
    by_line = {e.line: e for e in ref_doc.entries()}
    assert by_line[n] == HARD[n]


@shared
def test_entries_sit_in_the_right_nodes(ref_doc: ReportDoc) -> None:
    nodes = {name_of(node): node for _, node in walk(ref_doc)}
    assert [e.line for e in nodes["情報セキュリティ研究会（メンバー全員）"].entries] == [129, 130, 131]
    assert [e.line for e in nodes["自治体DX推進支援事業ワーキンググループ"].entries] == [*range(145, 150), *range(151, 155), 156, 157]
    assert [e.line for e in nodes["共同セキュリティ監査"].entries] == [19, 20, 21]
    assert nodes["発注者操作研修会"].entries == []
    hinted = [e.line for e in ref_doc.entries() if e.body_hint]
    assert hinted == [146, 147]


# -- rendering and the fixed point ----------------------------------------------------------------

@shared
def test_fixed_point(ref_doc: ReportDoc) -> None:
    text = render_text(ref_doc)
    again = parse_report(text)
    assert again.problems == []
    assert again.doc == ref_doc
    assert render_text(again.doc) == text


@shared
def test_render_text_lines(ref_doc: ReportDoc) -> None:
    lines = render_text(ref_doc).split("\n")
    assert lines[0] == "令和5年度事業報告"
    for expected in [
        "1 全団体事業", "(5) 協議会 Web システムの運営", "ア 総会", "(イ) 情報セキュリティ研究会",
        "【情報セキュリティ研究会（メンバー全員）】",
        "・全体説明会（令和5年6月21日～7月6日、動画配信）",
        "・技術的診断（オンサイト診断、リモート診断）、インタビュー監査個別報告会（令和5年7月～11月）",
        "・情報セキュリティ内部監査（令和5年11月7日、県自治センター）",
        "・第1回訓練（令和5年7月20日～8月4日）",
        "・愛知県警による講演「最新の情報セキュリティ状況について」（令和6年2月9日、Web会議）",
        "・先進事例研究・意見交換会 第1部（令和5年8月30日、Web会議）",
        "・先進事例研究・意見交換会 第2部 第1回（令和5年10月13日、Web会議）",
        "第2回（令和6年1月17日、Web会議）",
        "・委員会（令和6年2月21日、県自治センター）",
        "・第1回研究会（令和6年1月16日、Web開催）",
        "・第2回ワーキンググループの一部議題に係る採決（令和5年8月1日～10日、書面開催）",
        "・第5回ワーキンググループの議題に係る再審議（令和5年12月25日～令和6年1月10日、書面審議）",
        "・全体会議（令和6年3月12日、書面開催）",
        "・第4回検討会（令和5年10月4日～16日、書面開催）",
    ]:
        assert expected in lines, expected
    i = lines.index("第1回定期総会（令和5年6月2日、Web会議）")
    assert lines[i:i + 6] == ["第1回定期総会（令和5年6月2日、Web会議）", "", "〔審議事項〕", "",
                              "・令和4年度事業報告", "・令和4年度収支決算及び監査報告"]
    assert not any(ln.startswith("- ") for ln in lines)


@shared
def test_render_markdown_has_all_headings(ref_doc: ReportDoc) -> None:
    md = render_markdown(ref_doc)
    headings = [ln for ln in md.split("\n") if ln.startswith("#")]
    assert headings[0] == "# 令和5年度事業報告"
    assert len(headings) == 37
    for _, node in walk(ref_doc):
        assert any(h.endswith(name_of(node)) or h.endswith(f"【{name_of(node)}】") for h in headings)
    assert "###### 【セキュリティ監査グループ】" in headings
    assert "- 第1回幹事会（令和5年5月24日、Web会議）" in md
    assert "  - 令和4年度事業報告" in md
    assert md.count("\n- ") == 70


# -- robustness: what other extractions of the same report look like ----------------------------

def _fullwidth(s: str) -> str:
    return s.translate(str.maketrans("0123456789", "０１２３４５６７８９"))


def _per_line(fn, only=None):
    def apply(text: str) -> str:
        lines = text.split("\n")
        return "\n".join(fn(ln, n) if only is None or n in only else ln for n, ln in enumerate(lines, 1))
    return apply


def _swap_parens(m: re.Match) -> str:
    return f"({m[2]})" if m[1] == "（" else f"（{m[2]}）"


_ENTRYISH = set(ENTRY_LINES) | set(CONTINUATION_LINES)
_BULLETS = ["・・", "-", "・ ", "- ・", "－", "・"]
VARIANTS = {
    "crlf_bom": lambda t: "\ufeff" + t.replace("\n", "\r\n"),
    "cr_only": lambda t: t.replace("\n", "\r"),
    "fullwidth_digits": _per_line(lambda ln, n: _fullwidth(ln), _ENTRYISH | set(HEADING_LINES) | {3}),
    "wave_dash": lambda t: t.replace("～", "〜"),
    "ascii_tilde": lambda t: t.replace("～", " ~ "),
    "bullets_removed": _per_line(lambda ln, n: re.sub(r"^- ・\s*", "", ln)),
    "bullets_varied": _per_line(lambda ln, n: re.sub(r"^- ・\s*", _BULLETS[n % len(_BULLETS)], ln)),
    "paren_swap": _per_line(lambda ln, n: re.sub(r"([（(])(令和[^（）()]*)[）)]", _swap_parens, ln), _ENTRYISH),
    "spaced_digits": _per_line(lambda ln, n: re.sub(r"(\d+)", r" \1 ", ln), _ENTRYISH | {3}),
    "indented": _per_line(lambda ln, n: "\u3000 " + ln + " \t"),
}


@shared
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_variants_give_the_same_doc(ref_text: str, ref_doc: ReportDoc, variant: str) -> None:
    text = VARIANTS[variant](ref_text)
    assert text != ref_text
    result = parse_report(text)
    assert result.problems == []
    assert result.doc == ref_doc
    assert [e.line for e in result.doc.entries()] == ENTRY_LINES


@shared
def test_junk_lines_are_problems(ref_text: str, ref_doc: ReportDoc) -> None:
    lines = ref_text.split("\n")
    junk = {9: "@@@ garbage 12", 28: "・ ### 99", 67: "@@@ garbage 12", len(lines): "@@@ garbage 12"}
    out, where = [], []
    for n, ln in enumerate(lines, 1):
        out.append(ln)
        if n in junk:
            out.append(junk[n])
            where.append(len(out))
    result = parse_report("\n".join(out))
    assert [(p.line, p.text) for p in result.problems] == [(w, out[w - 1]) for w in where]
    assert result.doc == ref_doc


@shared
def test_fiscal_year_override(ref_text: str) -> None:
    assert parse_report(ref_text, fiscal_year=2030).doc.fiscal_year == 2030


# -- small documents: ambiguities and edge cases ----------------------------------------------------

SMALL = """令和5年度事業報告

1 全団体事業

(1) 事業A

平成16年7月から、何かを運用している。
令和5年度は、何か（括弧つき）を行った。

ア 全体会議

令和 6 年 3 月 12 日 書面開催

イ 委員会

・委員会（令和6年2月21日、県自治センター）
・第2回委員会（令和5年10月18日、Web会議、県自治センター）【中止】
・第3回委員会（令和5年11月1日、対面開催）

ウ 研究会

(ア) 部会

【研究会（メンバー全員）】

・ 第1回研究会（令和5年9月28日～10月5日、書面開催）
"""


def small() -> ReportDoc:
    result = parse_report(SMALL)
    assert result.problems == []
    return result.doc


def test_small_document() -> None:
    doc = small()
    programme = doc.sections[0].programmes[0]
    assert programme.paragraphs == ["平成16年7月から、何かを運用している。", "令和5年度は、何か（括弧つき）を行った。"]
    plenary, committee, study = programme.bodies
    assert plenary.entries == [Entry("meeting", "全体会議", period=wp(date(2024, 3, 12)), format=Format.WRITTEN)]
    assert committee.entries == [
        Entry("meeting", "委員会", period=wp(date(2024, 2, 21)), format=Format.IN_PERSON, venue="県自治センター"),
        Entry("meeting", "委員会", ordinal=2, period=wp(date(2023, 10, 18)), format=Format.WEB,
              venue="県自治センター", cancelled=True),
        Entry("meeting", "委員会", ordinal=3, period=wp(date(2023, 11, 1)), format=Format.IN_PERSON),
    ]
    assert study.children[0].children[0].name == "研究会（メンバー全員）"
    text = render_text(doc)
    assert "・第2回委員会（令和5年10月18日、Web会議、県自治センター）【中止】" in text
    assert "・第3回委員会（令和5年11月1日、対面開催）" in text
    assert parse_report(text).doc == doc


def test_cancelled_round_trip() -> None:
    doc = small()
    doc.sections[0].programmes[0].bodies[0].entries[0].cancelled = True
    text = render_text(doc)
    assert "・全体会議（令和6年3月12日、書面開催）【中止】" in text
    assert parse_report(text).doc == doc


def test_problems_are_reported_with_line_numbers() -> None:
    text = "\n".join([
        "何かの前置き",                               # 1: text before the first section
        "令和5年度事業報告",                           # 2
        "1 全団体事業",                               # 3
        "・第1回幹事会（令和5年5月24日、Web会議）",       # 4: entry outside any programme
        "(1) 事業A",                                  # 5
        "〔審議事項〕",                                # 6: no entry to attach to
        "・第1回幹事会（令和5年2月30日、Web会議）",       # 7: no such date
        "【グループ】",                                # 8: group outside a sub-body
        "@@@ garbage 12",                            # 9
    ])
    result = parse_report(text)
    assert [p.line for p in result.problems] == [1, 4, 6, 7, 8, 9]
    assert all(isinstance(p, Problem) and p.reason for p in result.problems)


def test_missing_title() -> None:
    result = parse_report("1 全団体事業\n(1) 事業A\n・研修（令和6年2月9日、Web会議）\n")
    assert result.doc.fiscal_year == 2023
    assert [p.line for p in result.problems] == [0]
    assert parse_report("1 全団体事業\n", fiscal_year=2024).problems == []


def test_undated_entry_round_trips() -> None:
    doc = ReportDoc(2023, [SectionNode(1, "全団体事業", [ProgrammeNode("事業A", bodies=[BodyNode("幹事会", entries=[
        Entry("meeting", "幹事会", ordinal=4),
        Entry("meeting", "幹事会", ordinal=5, format=Format.WEB, agenda=["議題A"]),
    ])])])])
    text = render_text(doc)
    assert "・第4回幹事会\n\n・第5回幹事会（Web会議）\n\n〔審議事項〕\n\n・議題A\n" in text
    assert parse_report(text).doc == doc


def test_inline_body_entries_are_merged_by_date() -> None:
    wg = BodyNode("ワーキンググループ", entries=[
        Entry("meeting", "ワーキンググループ", ordinal=1, period=wp(date(2023, 5, 15)), format=Format.WEB),
        Entry("meeting", "ワーキンググループ", ordinal=2, period=wp(date(2023, 7, 25)), format=Format.WEB),
    ], children=[BodyNode("企画提案選定委員会", inline=True, entries=[
        Entry("meeting", "企画提案選定委員会", ordinal=1, period=wp(date(2023, 6, 8)), format=Format.WEB),
    ])])
    doc = ReportDoc(2023, [SectionNode(1, "全団体事業", [ProgrammeNode("事業A", bodies=[wg])])])
    text = render_text(doc)
    assert ("・第1回ワーキンググループ（令和5年5月15日、Web会議）\n"
            "・第1回企画提案選定委員会（令和5年6月8日、Web会議）\n"
            "・第2回ワーキンググループ（令和5年7月25日、Web会議）") in text
    assert "企画提案選定委員会\n" not in text
    parsed = parse_report(text).doc
    assert [e.body_hint for e in parsed.entries()] == [None, "企画提案選定委員会", None]


def test_date_first_layouts() -> None:
    text = "令和5年度事業報告\n1 全団体事業\n(1) 事業A\nア 全体会議\n令和6年3月12日、書面開催\n令和６年３月１３日\n平成16年7月から、運用\n"
    result = parse_report(text)
    assert [p.line for p in result.problems] == [7]
    assert result.doc.entries() == [
        Entry("meeting", "全体会議", period=wp(date(2024, 3, 12)), format=Format.WRITTEN),
        Entry("meeting", "全体会議", period=wp(date(2024, 3, 13))),
    ]


@pytest.mark.parametrize("wording, fmt", [("ウェブ会議", Format.WEB), ("Web開催", Format.WEB), ("オンライン会議", Format.WEB),
                                          ("書面審議", Format.WRITTEN), ("書面表決", Format.WRITTEN),
                                          ("持ち回り決議", Format.WRITTEN), ("ハイブリッド開催", Format.HYBRID),
                                          ("対面形式", Format.IN_PERSON)])
def test_every_wording_the_importer_keeps_is_a_format_option(wording: str, fmt: Format) -> None:
    """What the importer keeps as a label is what `--format` accepts: one table serves both."""
    from kyogikai.domain.formats import label_of, parse_format

    text = f"令和5年度事業報告\n1 全団体事業\n(1) 会議運営\nア 幹事会\n・第1回幹事会（令和5年5月24日、{wording}）\n"
    result = parse_report(text)
    assert result.problems == []
    entry = result.doc.sections[0].programmes[0].bodies[0].entries[0]
    assert (entry.format, entry.venue) == (fmt, None)
    parsed, label = parse_format(wording)
    assert parsed == fmt == entry.format and label == entry.format_label
    assert label_of(parsed, label) == wording


def test_a_line_with_a_control_character_is_a_problem() -> None:
    """'0<TAB><NUL>' once read as a section numbered 0 titled NUL, so a garbled file imported nothing
    and said it had nothing to import; now the line is listed like any line that cannot be placed."""
    result = parse_report("令和5年度事業報告\n1 全団体事業\n0\t\x00\n")
    assert [(p.line, str(p.reason)) for p in result.problems] == [(3, "control character U+0000 in the line")]
