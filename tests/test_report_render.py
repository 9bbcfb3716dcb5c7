"""The report's rich renderings: HTML (``report.html.render_html``) and Word (``report.docx.render_docx``).

Documents: the real FY2023 report parsed from ../shared (skipped when absent, failed under CI) and a
small hand-made one with a cancelled entry, an agenda, sub-bodies, a group, an inline body and text
that must be escaped.  Expected headings come from ``render_markdown`` ('#' count = level), expected
entry lines from ``entry_text``.  One LibreOffice conversion checks that the DOCX prints Japanese.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn

from kyogikai.dates import Period
from kyogikai.domain.formats import Format
from kyogikai.report.document import BodyNode, Entry, ProgrammeNode, ReportDoc, SectionNode
from kyogikai.report.docx import render_docx
from kyogikai.report.html import render_html
from kyogikai.report.parse import parse_report
from kyogikai.report.text import entry_text, render_markdown

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "fy2023-annual-report.txt"
IN_CI = bool(os.environ.get("CI"))
EVIL = "<script>alert(1)</script> & co"


def missing(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"CI requires it: {reason}")
    pytest.skip(reason)


def day(m: int, d: int, y: int = 2023) -> Period:
    return Period(date(y, m, d), date(y, m, d))


def handmade() -> ReportDoc:
    meeting = lambda n, when, **kw: Entry("meeting", "幹事会", ordinal=n, period=when, format=Format.WEB, **kw)  # noqa: E731
    return ReportDoc(2023, [SectionNode(1, "全団体事業", [
        ProgrammeNode(f"試験 {EVIL}", [f"段落 {EVIL}。"], [Entry("activity", f"説明会 {EVIL}", period=day(6, 1))]),
        ProgrammeNode("会議運営", bodies=[
            BodyNode("幹事会", ["幹事会を開催した。"], [
                meeting(1, day(5, 24), agenda=["令和4年度事業報告", "<b>予算</b> & 決算"]),
                meeting(2, day(10, 18), cancelled=True),
            ], children=[BodyNode("臨時会", entries=[meeting(3, day(3, 1, 2024))], inline=True)]),
            BodyNode("研究会", children=[
                BodyNode("情報セキュリティ研究会", ["研究を行った。"], children=[
                    BodyNode("セキュリティ監査グループ", entries=[
                        Entry("meeting", "研究会", ordinal=1, period=day(8, 21), venue="県自治センター")]),
                ]),
            ]),
        ]),
    ])])


@pytest.fixture(scope="module", params=["reference", "handmade"])
def doc(request) -> ReportDoc:
    if request.param == "handmade":
        return handmade()
    if not REFERENCE.exists():
        missing(f"reference report not found at {REFERENCE} (../shared is absent)")
    result = parse_report(REFERENCE.read_text(encoding="utf-8"))
    assert result.problems == []
    return result.doc


def unescape(md: str) -> str:
    """The text of a line of render_markdown (its CommonMark backslash escapes removed)."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", md)


def headings(doc: ReportDoc) -> list[tuple[int, str]]:
    """(level, text): 1 title, 2 section, 3 programme, 4 body, 5 sub-body, 6 group."""
    return [(len(m[1]), unescape(m[2])) for m in re.finditer(r"^(#+) (.*)$", render_markdown(doc), re.M)]


def paragraphs_of(doc: ReportDoc) -> list[str]:
    return [unescape(ln) for ln in render_markdown(doc).splitlines() if ln and not ln.startswith(("#", "- ", "  - "))]


def entry_lines(doc: ReportDoc) -> list[str]:
    return [entry_text(e) for e in doc.entries()]  # listing order too: no inline entry is out of date order


# -- HTML --------------------------------------------------------------------------------------

class Elements(HTMLParser):
    """Every element as [tag, class, parent's class, text (all descendants, whitespace collapsed)]."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.open: list[list] = []
        self.all: list[list] = []
        self.feed(html)
        for el in self.all:
            el[3] = " ".join("".join(el[3]).split())

    def handle_starttag(self, tag, attrs) -> None:
        el = [tag, dict(attrs).get("class") or "", self.open[-1][1] if self.open else "", []]
        self.all.append(el)
        self.open.append(el)

    def handle_endtag(self, tag) -> None:
        while self.open and self.open.pop()[0] != tag:
            pass

    def handle_data(self, data) -> None:
        for el in self.open:
            el[3].append(data)

    def texts(self, tag: str, parent: str | None = None) -> list[str]:
        return [t for g, _, p, t in self.all if g == tag and parent in (None, p)]


def test_html_structure_and_entries(doc: ReportDoc) -> None:
    html = render_html(doc)
    assert html.startswith("<!DOCTYPE html>") and '<html lang="ja">' in html and '<meta charset="utf-8">' in html
    page = Elements(html)
    assert page.texts("title") == ["令和5年度事業報告"]
    got = [(int(g[1]), t) for g, _, _, t in page.all if re.fullmatch(r"h[1-6]", g)]
    assert got == headings(doc)
    expected = ["・" + entry_text(e) + (" 〔審議事項〕 " + " ".join("・" + a for a in e.agenda) if e.agenda else "")
                for e in doc.entries()]
    assert page.texts("li", parent="entries") == [" ".join(t.split()) for t in expected]
    assert page.texts("li", parent="agenda") == ["・" + a for e in doc.entries() for a in e.agenda]
    assert "list-style: none" in html  # 「・」 is text, not a list bullet
    assert page.texts("p") == [" ".join(p.split()) for p in paragraphs_of(doc)]


def test_html_escapes_and_marks_cancelled() -> None:
    html = render_html(handmade())
    assert "<script" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in html and "&lt;b&gt;予算&lt;/b&gt; &amp; 決算" in html
    page = Elements(html)
    assert {tag for tag, *_ in page.all} <= {"html", "head", "meta", "title", "style", "body", "main", "h1", "h2",
                                            "h3", "h4", "h5", "h6", "p", "ul", "li", "span"}
    assert f"(1) 試験 {EVIL}" in page.texts("h3") and f"段落 {EVIL}。" in page.texts("p")
    cancelled = [t for tag, cls, _, t in page.all if tag == "li" and cls == "cancelled"]
    assert cancelled == ["・第2回幹事会（令和5年10月18日、Web会議）【中止】"]
    assert page.texts("span", parent="cancelled") == ["・第2回幹事会（令和5年10月18日、Web会議）", "【中止】"]
    assert "line-through" in html and "@page" in html and "A4" in html and '"Noto Sans CJK JP"' in html
    assert "臨時会" not in html and "第3回幹事会（令和6年3月1日、Web会議）" in html  # inline body: merged


# -- DOCX --------------------------------------------------------------------------------------

def style_for(level: int) -> str:
    return "Title" if level == 1 else f"Heading {level - 1}"


def test_docx_structure_fonts_and_properties(doc: ReportDoc, tmp_path: Path) -> None:
    render_docx(doc, tmp_path / "report.docx")
    word = Document(tmp_path / "report.docx")
    paragraphs = [(p.style.name, p.text) for p in word.paragraphs]
    assert [(s, t) for s, t in paragraphs if s == "Title" or s.startswith("Heading")] == \
        [(style_for(level), text) for level, text in headings(doc)]
    assert [t for s, t in paragraphs if s == "Normal"] == paragraphs_of(doc)
    assert [t for s, t in paragraphs if s == "報告項目"] == ["・" + t for t in entry_lines(doc)]
    assert [t for s, t in paragraphs if s == "審議事項"] == [
        t for e in doc.entries() if e.agenda for t in ["〔審議事項〕", *("・" + a for a in e.agenda)]]
    assert not any(s.startswith("List") for s, _ in paragraphs)  # no Word bullets
    for name in {s for s, _ in paragraphs}:
        rpr = word.styles[name].element.rPr
        fonts, lang = rpr.find(qn("w:rFonts")), rpr.find(qn("w:lang"))
        assert fonts.get(qn("w:eastAsia")) in ("游明朝", "游ゴシック"), name
        assert fonts.get(qn("w:eastAsiaTheme")) is None and lang.get(qn("w:eastAsia")) == "ja-JP", name
    section = word.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    assert (word.core_properties.title, word.core_properties.language) == ("令和5年度事業報告", "ja-JP")


@pytest.mark.libreoffice
def test_docx_prints_japanese_with_libreoffice(tmp_path: Path) -> None:
    """One conversion (a few seconds): the PDF's text layer holds the Japanese, in a Noto CJK font."""
    office = shutil.which("libreoffice") or shutil.which("soffice")
    if not office:
        missing("LibreOffice is not installed (apt-get install libreoffice-writer-nogui)")
    if not (shutil.which("pdftotext") and shutil.which("pdffonts")):
        missing("pdftotext/pdffonts are not installed (apt-get install poppler-utils)")
    render_docx(handmade(), tmp_path / "report.docx")
    subprocess.run([office, f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless",
                    "--convert-to", "pdf", "--outdir", str(tmp_path), str(tmp_path / "report.docx")],
                   check=True, capture_output=True, timeout=180)
    pdf = str(tmp_path / "report.pdf")
    text = "".join(subprocess.run(["pdftotext", pdf, "-"], check=True, capture_output=True, text=True).stdout.split())
    assert "令和5年度事業報告" in text and "第1回幹事会" in text and "【中止】" in text  # without the kanji–digit gaps
    fonts = subprocess.run(["pdffonts", pdf], check=True, capture_output=True, text=True).stdout
    assert "NotoSansCJK" in fonts or "NotoSerifCJK" in fonts  # LibreOffice's stand-in for 游明朝/游ゴシック


# -- Markdown: escaped for CommonMark (issue 16, item 10) ---------------------------------------

MD_PIECES = ["#", "# ", "*", "**", "_", "[", "]", "(", ")", "<", ">", "!", "&", "`", "~", "|", "-", "- ", "+ ", "=", "===",
             "---", ".", "1.", "1)", ":", "/", "\\", '"', "'", " ", "    ", "\n", "\n\n", "a", "あ", "議題",
             "javascript:alert(1)", "<script>", "</script>", "&amp;", "&lt;", "https://x.example", "<img src=x>",
             "<!--", "-->", "[x](javascript:alert(1))", "![i](x)", "<https://x>", "> ", "\t"]
ALLOWED_BLOCKS = {"heading_open", "heading_close", "paragraph_open", "paragraph_close", "inline",
                  "bullet_list_open", "bullet_list_close", "list_item_open", "list_item_close"}


def md_blocks(md: str) -> list[tuple[str, str]]:
    """(block, text) of every inline in a CommonMark rendering; fails on any tag, link, code, quote or break."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").parse(md)
    out, kind, in_item = [], "", 0
    for t in tokens:
        assert t.type in ALLOWED_BLOCKS, (t.type, md)
        in_item += {"list_item_open": 1, "list_item_close": -1}.get(t.type, 0)
        if t.type in ("heading_open", "paragraph_open"):
            kind = "li" if in_item else t.tag
        if t.type == "inline":
            assert {c.type for c in t.children or []} <= {"text", "text_special", "softbreak"}, (t.children, md)
            out.append((kind, one("".join(" " if c.type == "softbreak" else c.content for c in t.children or []))))
    return out


def one(text: str) -> str:
    return " ".join(text.split())


def hostile_doc(title: str, name: str, para: str, label: str, venue: str, agenda: str) -> ReportDoc:
    return ReportDoc(2023, [SectionNode(1, "全団体事業", [
        ProgrammeNode(title, [para], [Entry("activity", label, period=day(6, 1), venue=venue)], bodies=[
            BodyNode(name, [para], [Entry("meeting", name, ordinal=1, period=day(5, 24), format=Format.WEB,
                                          venue=venue, agenda=[agenda])])]),
    ])])


def test_markdown_shows_hostile_text_literally_in_commonmark() -> None:
    """10 <script> tags and a javascript: link came through before; now every text is literal."""
    evil = "<script>alert(1)</script> [x](javascript:alert(1)) # h"
    doc = hostile_doc(f"題{evil}", f"会{evil}", f"段落{evil}\n# 見出し\n\n    code\n- item\n===",
                      f"説明会{evil}", f"会場{evil}", f"<b>予算</b>{evil}")
    md = render_markdown(doc)
    html = __import__("markdown_it").MarkdownIt("commonmark").render(md)
    assert "<script" not in html and "<a " not in html and "<b>" not in html and "<code>" not in html
    assert html.count("<h") == 4 and "&lt;script&gt;" in html  # the title, section, programme, body only
    blocks = md_blocks(md)
    entries = doc.entries()
    assert blocks == [("h1", "令和5年度事業報告"), ("h2", "1 全団体事業"), ("h3", f"(1) 題{evil}"),
                      ("p", one(doc.sections[0].programmes[0].paragraphs[0])), ("li", entry_text(entries[0])),
                      ("h4", f"ア 会{evil}"), ("p", one(doc.sections[0].programmes[0].paragraphs[0])),
                      ("li", entry_text(entries[1])), ("li", f"<b>予算</b>{evil}")]


@pytest.mark.parametrize("examples", [pytest.param(60, id="60"), pytest.param(1500, id="1500", marks=pytest.mark.slow)])
def test_markdown_escaping_property(examples: int) -> None:
    """Any text of markdown-significant pieces renders (markdown-it, CommonMark) as exactly itself."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    text = st.lists(st.sampled_from(MD_PIECES), min_size=1, max_size=12).map("".join).filter(lambda t: t.strip())
    line = text.map(one)

    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(line, line, text, line, line, line)
    def prop(title, name, para, label, venue, agenda):
        doc = hostile_doc(title, name, para, label, venue, agenda)
        entries = doc.entries()
        assert md_blocks(render_markdown(doc)) == [
            ("h1", "令和5年度事業報告"), ("h2", "1 全団体事業"), ("h3", f"(1) {title}"), ("p", one(para)),
            ("li", entry_text(entries[0])), ("h4", f"ア {name}"), ("p", one(para)), ("li", entry_text(entries[1])),
            ("li", agenda)]

    prop()
