"""Issue 14, item 5 (and the report part of 1 and 6): the Word report fit to hand out, and its PDF
through LibreOffice, on the reference import.  The first PDF page is kept as a PNG under
tests/artifacts/ for a person to look at."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn

from .artifacts import artifacts
from .conftest import CLI, IN_CI

NAME = "あいち電子自治体推進協議会"


def missing(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"CI requires it: {reason}")
    pytest.skip(reason)


@pytest.fixture
def imported(reference_db):
    cli = CLI(reference_db)
    cli("council", "set", "--name", NAME)
    return cli


def test_word_report_fonts_bullets_footer_page_and_properties(imported, tmp_path):
    cli = imported
    before = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    cli("report", "--fiscal-year", "2023", "--format", "docx", "-o", str(tmp_path / "r.docx"))
    word = Document(tmp_path / "r.docx")
    props = word.core_properties
    assert (props.title, props.subject, props.author, props.last_modified_by) == ("令和5年度事業報告", "事業報告", NAME, NAME)
    assert props.comments == "" and "python-docx" not in (props.keywords + props.category)
    created = props.created if props.created.tzinfo else props.created.replace(tzinfo=dt.timezone.utc)
    assert before <= created <= dt.datetime.now(dt.timezone.utc) and props.modified == props.created
    with zipfile.ZipFile(tmp_path / "r.docx") as z:
        names = z.namelist()
        app_xml = z.read("docProps/app.xml").decode()
        blob = b"".join(z.read(n) for n in names)
    assert not any("thumbnail" in n for n in names) and b"python-docx" not in blob
    assert "<Application>kyogikai</Application>" in app_xml and f"<Company>{NAME}</Company>" in app_xml
    assert "Macintosh" not in app_xml
    # A4, margins of Japanese official documents, page numbers in the footer
    s = word.sections[0]
    assert (round(s.page_width.mm), round(s.page_height.mm)) == (210, 297)
    assert [round(x.mm) for x in (s.top_margin, s.bottom_margin, s.left_margin, s.right_margin)] == [35, 30, 30, 30]
    footer = s.footer.paragraphs[0]._p.xml
    assert "PAGE" in footer and 'w:fldCharType="begin"' in footer
    # items are 「・」 text, never Word list numbering
    paragraphs = [(p.style.name, p.text) for p in word.paragraphs]
    entries = [t for st, t in paragraphs if st == "報告項目"]
    assert len(entries) == 70 and all(t.startswith("・") for t in entries)
    assert "・第1回研究会（令和5年5月30日、Web会議）" in entries                 # the report's own labels
    assert not any(p._p.pPr is not None and p._p.pPr.numPr is not None for p in word.paragraphs)
    assert not any(st.startswith("List") for st, _ in paragraphs)
    assert paragraphs[0] == ("Title", "令和5年度事業報告") and paragraphs[1] == ("発行者", NAME)
    # fonts a Japanese Windows and Word have: 游明朝 / 游ゴシック by default …
    def east_asia(doc, style):
        return doc.styles[style].element.rPr.find(qn("w:rFonts")).get(qn("w:eastAsia"))
    assert (east_asia(word, "Normal"), east_asia(word, "Heading 1"), east_asia(word, "報告項目")) == ("游明朝", "游ゴシック", "游明朝")
    # … ＭＳ 明朝 / ＭＳ ゴシック by --font or by the council's setting
    cli("report", "--fiscal-year", "2023", "--format", "docx", "-o", str(tmp_path / "ms.docx"), "--font", "ms")
    ms = Document(tmp_path / "ms.docx")
    assert (east_asia(ms, "Normal"), east_asia(ms, "Heading 2")) == ("ＭＳ 明朝", "ＭＳ ゴシック")
    cli("council", "set", "--document-font", "ms")
    cli("report", "--fiscal-year", "2023", "--format", "docx", "-o", str(tmp_path / "ms2.docx"))
    assert east_asia(Document(tmp_path / "ms2.docx"), "Normal") == "ＭＳ 明朝"


def test_html_report_uses_nakaguro_and_names_the_council(imported):
    html = imported("report", "--fiscal-year", "2023", "--format", "html").out
    assert f"<title>令和5年度事業報告｜{NAME}</title>" in html and f'<p class="issuer">{NAME}</p>' in html
    assert '<span class="entry">・第1回幹事会（令和5年5月24日、Web会議）</span>' in html
    assert "list-style: none" in html
    text = imported("report", "--fiscal-year", "2023").out
    assert text.startswith("令和5年度事業報告\n\n1 全団体事業")  # the text keeps the reference's title line


def test_pdf_without_libreoffice_is_a_clear_error(imported, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    r = imported("report", "--fiscal-year", "2023", "--format", "pdf", "-o", str(tmp_path / "r.pdf"), expect=2)
    assert r.err.startswith("error: --format: pdf needs LibreOffice") and r.err.count("\n") == 1
    assert not (tmp_path / "r.pdf").exists()


@pytest.mark.libreoffice
def test_pdf_through_libreoffice_text_and_page_count(imported, tmp_path):
    if not (shutil.which("soffice") or shutil.which("libreoffice")):
        missing("LibreOffice is not installed (apt-get install libreoffice-writer-nogui)")
    if not (shutil.which("pdftotext") and shutil.which("pdfinfo") and shutil.which("pdftoppm")):
        missing("poppler-utils is not installed")
    pdf = tmp_path / "r.pdf"
    imported("report", "--fiscal-year", "2023", "--format", "pdf", "-o", str(pdf))
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    assert re.search(r"^Title:\s+令和5年度事業報告$", info, re.M) and re.search(rf"^Author:\s+{NAME}$", info, re.M)
    assert "595.3" in info and "841.89" in info  # A4
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    flat = "".join(text.split())
    for expected in ["令和5年度事業報告", NAME, "1全団体事業", "・第1回幹事会（令和5年5月24日、Web会議）",
                     "・第1回研究会（令和5年5月30日、Web会議）", "〔審議事項〕", "・第8回検討会（令和6年3月1日～8日、書面開催）"]:
        assert expected in flat, expected
    # a page number in every page's footer: - 1 - … - N -
    numbers = [int(n) for n in re.findall(r"^\s*-\s*(\d+)\s*-\s*$", text, re.M)]
    assert numbers == list(range(1, pages + 1)), numbers
    assert 4 <= pages <= 12, pages
    out = artifacts()
    subprocess.run(["pdftoppm", "-r", "80", "-f", "1", "-l", "1", "-png", "-singlefile", str(pdf),
                    str(out / "report-pdf-page1")], check=True)
    shutil.copy(pdf, out / "report.pdf")
    print(f"\nPDF: {pages} pages; first page {out / 'report-pdf-page1.png'}")
