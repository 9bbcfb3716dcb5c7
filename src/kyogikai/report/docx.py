"""Render a ReportDoc as a Word document (python-docx).

Follows ``text.outline``: the title in style 'Title', sections … groups in 'Heading 1' … 'Heading 5'
(with the report's numbering), paragraphs in 'Normal', entries in 'List Bullet' (each entry's full
``entry_text``, cancelled ones ending in ``【中止】``), an entry's agenda under a ``〔審議事項〕`` line
('List Continue') in 'List Bullet 2'.

A4.  Every style used gets a Japanese font for every script, East Asian included (``w:eastAsia``;
the template's theme fonts, which would win over names, are removed) and ``w:lang
w:eastAsia="ja-JP"``: headings in Gothic, the rest in Mincho (Noto CJK JP from fonts-noto-cjk),
black text, justified paragraphs.  (Word's and LibreOffice's quarter-em gap between kanji and digits
is left on: text extracted from a PDF reads ``令和 5 年度``.)
"""

from __future__ import annotations

from typing import IO

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from kyogikai.report.document import ReportDoc
from kyogikai.report.text import entry_text, outline, title_of

SERIF, SANS = "Noto Serif CJK JP", "Noto Sans CJK JP"
HEADINGS = {"Title": 18, "Heading 1": 14, "Heading 2": 12, "Heading 3": 11, "Heading 4": 10.5, "Heading 5": 10.5}
TEXT_STYLES = ("Normal", "List Bullet", "List Bullet 2", "List Continue")


def _japanese(rpr, font: str) -> None:
    """Set ``font`` for every script of a ``w:rPr`` and mark its East Asian text as Japanese."""
    fonts = rpr.get_or_add_rFonts()
    for script, theme in (("ascii", "asciiTheme"), ("hAnsi", "hAnsiTheme"), ("eastAsia", "eastAsiaTheme"),
                          ("cs", "cstheme")):
        fonts.attrib.pop(qn(f"w:{theme}"), None)
        fonts.set(qn(f"w:{script}"), font)
    if (lang := rpr.find(qn("w:lang"))) is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)  # nothing that must follow it is set on these styles
    lang.set(qn("w:eastAsia"), "ja-JP")


def _setup(document) -> None:
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin = section.bottom_margin = section.left_margin = section.right_margin = Mm(20)
    styles = document.styles
    _japanese(styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr")), SERIF)
    for name in (*TEXT_STYLES, *HEADINGS):
        style = styles[name]
        _japanese(style.element.get_or_add_rPr(), SANS if name in HEADINGS else SERIF)
        style.font.size = Pt(HEADINGS.get(name, 10.5))
        if name in HEADINGS:
            style.font.color.rgb, style.font.italic = RGBColor(0, 0, 0), False
            style.paragraph_format.first_line_indent = Pt(0)
        else:
            style.paragraph_format.space_after = Pt(3)
    normal = styles["Normal"].paragraph_format
    normal.first_line_indent, normal.alignment = Pt(10.5), WD_ALIGN_PARAGRAPH.JUSTIFY
    styles["List Continue"].paragraph_format.first_line_indent = Pt(0)  # the list styles: the bullet's
    title = styles["Title"]
    title.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if (border := title.element.pPr.find(qn("w:pBdr"))) is not None:  # the template's blue rule
        title.element.pPr.remove(border)


def render_docx(doc: ReportDoc, path_or_stream: str | IO[bytes]) -> None:
    document = Document()
    _setup(document)
    props = document.core_properties
    props.title, props.subject, props.language = title_of(doc), "事業報告", "ja-JP"
    for block in outline(doc):
        if block.kind == "heading":
            document.add_paragraph(block.text, "Title" if block.level == 1 else f"Heading {block.level - 1}")
        elif block.kind == "paragraph":
            document.add_paragraph(block.text, "Normal")
        else:
            for e in block.entries:
                document.add_paragraph(entry_text(e), "List Bullet").paragraph_format.keep_together = True
                if e.agenda:
                    document.add_paragraph("〔審議事項〕", "List Continue").paragraph_format.keep_with_next = True
                    for item in e.agenda:
                        document.add_paragraph(item, "List Bullet 2")
    document.save(path_or_stream)
