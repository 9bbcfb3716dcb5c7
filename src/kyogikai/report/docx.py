"""Render a ReportDoc as a Word document (python-docx) fit to hand out in a Japanese office.

Follows ``text.outline``: the title in style 'Title' with the council's name on the line below it
(right-aligned, as a Japanese document names its issuer), sections … groups in 'Heading 1' …
'Heading 5' (with the report's numbering), paragraphs in 'Normal'.  Entries are written as text
beginning with 「・」, as the council's report prints them — not as Word list bullets, which change
with the reader's numbering settings and are lost when the text is copied: style 「報告項目」 (a
hanging indent, so a wrapped line starts under the text); an entry's agenda under a 〔審議事項〕 line,
each item 「・…」 in style 「審議事項」 (indented one step more).

Page: A4 portrait with Word's Japanese default margins, which Japanese official documents keep
(top 35 mm, bottom 30 mm, left and right 30 mm), 10.5 pt text, the page number centred in the
footer (``- 1 -``, a PAGE field, so Word and LibreOffice number every page).

Fonts: what a Japanese Windows and Word have — ``yu`` 游明朝 (text) / 游ゴシック (headings), or ``ms``
ＭＳ 明朝 / ＭＳ ゴシック (the council's ``document_font`` setting or ``report --font``).  Every style
used names the font for every script, East Asian included (``w:eastAsia``; the template's theme
fonts, which would win over names, are removed), with ``w:lang w:eastAsia="ja-JP"``.  Where the fonts
are missing (Linux) LibreOffice substitutes a Japanese font (Noto CJK from fonts-noto-cjk).

Properties: title (``令和5年度事業報告``), subject, author and last editor (the council's name),
created and modified now, revision 1, language ja-JP — and none of the template's: no generator
comment, no thumbnail of another document, an ``app.xml`` naming the council as company.
"""

from __future__ import annotations

import datetime as dt
from typing import IO
from xml.sax.saxutils import escape

from docx import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from kyogikai.domain.council import DEFAULT_NAME
from kyogikai.report.document import ReportDoc
from kyogikai.report.text import entry_text, outline, title_of

FONTS = {"yu": ("游明朝", "游ゴシック"), "ms": ("ＭＳ 明朝", "ＭＳ ゴシック")}
HEADINGS = {"Title": 16, "Heading 1": 12, "Heading 2": 11, "Heading 3": 10.5, "Heading 4": 10.5, "Heading 5": 10.5}
ENTRY, AGENDA, ISSUER = "報告項目", "審議事項", "発行者"
TEXT_STYLES = ("Normal", ENTRY, AGENDA, ISSUER)
MARGINS_MM = {"top": 35, "bottom": 30, "left": 30, "right": 30}
BODY_PT = 10.5


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


def _paragraph_style(document, name: str, left_pt: float, hanging_pt: float) -> None:
    style = document.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    style.base_style = document.styles["Normal"]
    pf = style.paragraph_format
    pf.left_indent, pf.first_line_indent = Pt(left_pt), Pt(-hanging_pt)
    pf.alignment = WD_ALIGN_PARAGRAPH.LEFT
    pf.space_after = Pt(0)


def _setup(document, font: str) -> None:
    serif, sans = FONTS[font]
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(MARGINS_MM["top"]), Mm(MARGINS_MM["bottom"])
    section.left_margin, section.right_margin = Mm(MARGINS_MM["left"]), Mm(MARGINS_MM["right"])
    section.header_distance, section.footer_distance = Mm(15), Mm(15)
    _paragraph_style(document, ENTRY, BODY_PT * 2, BODY_PT)       # 「・」 hangs one character
    _paragraph_style(document, AGENDA, BODY_PT * 3, BODY_PT)
    _paragraph_style(document, ISSUER, 0, 0)
    document.styles[ISSUER].paragraph_format.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    document.styles[ISSUER].paragraph_format.space_after = Pt(BODY_PT * 2)
    styles = document.styles
    _japanese(styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr")), serif)
    for name in (*TEXT_STYLES, *HEADINGS, "Footer"):
        style = styles[name]
        _japanese(style.element.get_or_add_rPr(), sans if name in HEADINGS else serif)
        style.font.size = Pt(HEADINGS.get(name, BODY_PT))
        if name in HEADINGS:
            style.font.color.rgb, style.font.italic = RGBColor(0, 0, 0), False
            style.paragraph_format.first_line_indent = Pt(0)
            style.paragraph_format.space_before, style.paragraph_format.space_after = Pt(8), Pt(2)
        elif name == "Normal":
            style.paragraph_format.space_after = Pt(2)
    normal = styles["Normal"].paragraph_format
    normal.first_line_indent, normal.alignment = Pt(BODY_PT), WD_ALIGN_PARAGRAPH.JUSTIFY
    title = styles["Title"]
    title.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.paragraph_format.space_after = Pt(4)
    if (border := title.element.pPr.find(qn("w:pBdr"))) is not None:  # the template's blue rule
        title.element.pPr.remove(border)
    _page_numbers(section)


def _page_numbers(section) -> None:
    """``- N -`` centred in the footer, N a PAGE field."""
    footer = section.footer
    p = footer.paragraphs[0] if footer.paragraphs else footer.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.paragraph_format.first_line_indent = Pt(0)
    p.add_run("- ")
    run = p.add_run()
    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "1"), ("end", None)):
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        elif text.strip() == "PAGE":
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
        else:
            el = OxmlElement("w:t")
            el.text = text
        run._r.append(el)
    p.add_run(" -")


def _properties(document, title: str, council: str, now: dt.datetime) -> None:
    props = document.core_properties
    props.title, props.subject, props.language = title, "事業報告", "ja-JP"
    props.author = props.last_modified_by = council
    props.comments = props.keywords = props.category = props.content_status = props.identifier = ""
    props.created = props.modified = now.replace(microsecond=0, tzinfo=None)
    props.revision = 1
    package = document.part.package
    for rid, rel in list(package.rels.items()):  # the template's thumbnail shows another document
        if rel.reltype == RT.THUMBNAIL:
            package.rels.pop(rid)
    for part in package.iter_parts():
        if str(part.partname) == "/docProps/app.xml":
            part._blob = (
                "<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
                '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" '
                'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
                f"<Application>kyogikai</Application><DocSecurity>0</DocSecurity><Company>{escape(council)}</Company>"
                "<LinksUpToDate>false</LinksUpToDate><SharedDoc>false</SharedDoc></Properties>").encode("utf-8")


def render_docx(doc: ReportDoc, path_or_stream: str | IO[bytes], *, council: str = DEFAULT_NAME, font: str = "yu",
                now: dt.datetime | None = None) -> None:
    document = Document()
    _setup(document, font)
    title = title_of(doc)
    _properties(document, title, council, now or dt.datetime.now(dt.timezone.utc))
    for block in outline(doc):
        if block.kind == "heading":
            if block.level == 1:
                document.add_paragraph(block.text, "Title")
                document.add_paragraph(council, ISSUER)
            else:
                document.add_paragraph(block.text, f"Heading {block.level - 1}")
        elif block.kind == "paragraph":
            document.add_paragraph(block.text, "Normal")
        else:
            for e in block.entries:
                p = document.add_paragraph("・" + entry_text(e), ENTRY)
                p.paragraph_format.keep_together = True
                if e.agenda:
                    p.paragraph_format.keep_with_next = True
                    document.add_paragraph("〔審議事項〕", AGENDA).paragraph_format.keep_with_next = True
                    for item in e.agenda:
                        document.add_paragraph("・" + item, AGENDA)
    document.save(path_or_stream)
