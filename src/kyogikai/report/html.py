"""Render a ReportDoc as a printable HTML page (Jinja2 template ``templates/report.html``).

The page follows ``text.outline``: headings h1 (title) … h6 (groups) with the report's numbering,
paragraphs as ``<p>``, entries as ``<ul><li>`` whose text begins with 「・」 as the council's report
prints them (the lists show no bullets of their own; each entry's full ``entry_text``; a cancelled
entry's ``【中止】`` marked and the rest struck through), an entry's agenda as a nested list of 「・」
items under ``〔審議事項〕``.  With the council's name: ``<title>`` ends with it and a right-aligned
issuer line follows the title.  Autoescaping is on: every text from the document is escaped.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache

from jinja2 import Environment, PackageLoader, Template, select_autoescape

from kyogikai.report.document import ReportDoc
from kyogikai.report.text import entry_text, outline, title_of


@cache
def _template() -> Template:
    env = Environment(loader=PackageLoader("kyogikai", "templates"), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    return env.get_template("report.html")


def render_html(doc: ReportDoc, council: str | None = None) -> str:
    blocks = [
        {"kind": b.kind, "text": b.text, "level": b.level,
         "entries": [{"text": entry_text(replace(e, cancelled=False)), "cancelled": e.cancelled,
                      "agenda": e.agenda} for e in b.entries]}
        for b in outline(doc)
    ]
    return _template().render(title=title_of(doc), council=council, blocks=blocks)
