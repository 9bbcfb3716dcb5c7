"""Render a ReportDoc as the canonical report text (and as Markdown).

``render_text`` follows the reference report's layout: the title ``令和5年度事業報告``, blocks
separated by one blank line, numbering computed from position (section numbers are the stored
ones): ``1``, ``(1)``, ``ア`` (gojūon order), ``(ア)``, ``【…】`` for depth 3 and deeper.
Paragraphs are printed verbatim.  Consecutive entries form one block of ``・`` lines:

* ``・第1回幹事会（令和5年5月24日、Web会議）`` — ``（date、format、venue）``, each part when
  present; an IN_PERSON format without a label of its own is implied by the venue and not printed;
* lecture ``・愛知県警による講演「…」（…）``, reference ``・第2回ワーキンググループの一部議題に係る採決（…）``,
  series ``・先進事例研究・意見交換会 第2部 第1回（…）``, and a series entry with the same series,
  part and label as the entry before it as the continuation line ``第2回（…）`` (no bullet);
* a cancelled entry ends in ``【中止】``;
* an entry with agenda items: its line without bullet, then ``〔審議事項〕`` and the ``・item`` lines,
  each a block of its own (as the reference prints the 総会);
* entries of ``inline`` child bodies are merged into their parent's list by start date (their
  headings, paragraphs and children are not printed) — the parser reads them back as the
  parent's entries.

``parse_report(render_text(doc)).doc == doc`` for every document the parser produces.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from kyogikai.dates import format_fiscal_year, format_period
from kyogikai.domain.formats import Format, label_of
from kyogikai.domain.naming import item_label, ordinal_text
from kyogikai.report.document import BodyNode, Entry, ReportDoc
from kyogikai.report.parse import LETTERS


def title_of(doc: ReportDoc) -> str:
    return f"{format_fiscal_year(doc.fiscal_year)}事業報告"


def _letter(i: int) -> str:
    return LETTERS[i] if i < len(LETTERS) else str(i + 1)


def _continues(e: Entry, prev: Entry | None) -> bool:
    return (prev is not None and e.series is not None and e.ordinal is not None and e.period is not None
            and (prev.series, prev.part, prev.label) == (e.series, e.part, e.label)
            and e.refers_to is None and e.speaker is None and e.kind != "lecture")


def entry_text(e: Entry, prev: Entry | None = None) -> str:
    """The entry as one line without bullet; ``第N回（…）`` when it continues ``prev``'s series."""
    if _continues(e, prev):
        head = ordinal_text(e.ordinal)
    else:
        head = item_label(kind="lecture" if e.speaker else e.kind, ordinal=e.ordinal, part=e.part, series=e.series,
                          title=e.label, body_name=None, speaker=e.speaker,
                          refers_to_label=f"{ordinal_text(e.refers_to[0])}{e.refers_to[1]}" if e.refers_to else None)
    parts = [format_period(e.period)] if e.period else []
    if e.format is not None and not (e.format is Format.IN_PERSON and e.venue and not e.format_label):
        parts.append(label_of(e.format, e.format_label))
    if e.venue:
        parts.append(e.venue)
    paren = f"（{'、'.join(parts)}）" if parts else ""
    return head + paren + ("【中止】" if e.cancelled else "")


def _listed(entries: list[Entry], children: list[BodyNode]) -> list[Entry]:
    inline = [e for c in children if c.inline for e in c.entries]
    if not inline:
        return list(entries)
    return sorted([*entries, *inline], key=lambda e: (e.period is None, e.period.start if e.period else 0))


def _entry_blocks(entries: list[Entry]) -> list[list[str]]:
    blocks: list[list[str]] = []
    run: list[str] = []
    prev = None
    for e in entries:
        text = entry_text(e, prev)
        if e.agenda:  # the parser needs the bullet on an undated entry
            if run:
                blocks.append(run)
                run = []
            blocks += [[text if e.period else "・" + text], ["〔審議事項〕"], ["・" + a for a in e.agenda]]
        else:
            run.append(text if _continues(e, prev) else "・" + text)
        prev = e
    return blocks + ([run] if run else [])


def _body_blocks(body: BodyNode, depth: int, index: int) -> list[list[str]]:
    name = body.name
    heading = f"{_letter(index)} {name}" if depth == 1 else f"({_letter(index)}) {name}" if depth == 2 else f"【{name}】"
    blocks = [[heading], *([p] for p in body.paragraphs), *_entry_blocks(_listed(body.entries, body.children))]
    shown = [c for c in body.children if not c.inline]
    for i, child in enumerate(shown):
        blocks += _body_blocks(child, depth + 1, i)
    return blocks


def render_text(doc: ReportDoc) -> str:
    """The canonical report text (see the module docstring)."""
    blocks: list[list[str]] = [[title_of(doc)]]
    for section in doc.sections:
        blocks.append([f"{section.number} {section.title}"])
        for i, programme in enumerate(section.programmes, 1):
            blocks += [[f"({i}) {programme.title}"], *([p] for p in programme.paragraphs)]
            blocks += _entry_blocks(_listed(programme.entries, programme.bodies))
            for j, body in enumerate(b for b in programme.bodies if not b.inline):
                blocks += _body_blocks(body, 1, j)
    return "\n\n".join("\n".join(b) for b in blocks) + "\n"


# CommonMark: every character that can start inline markup (emphasis, code, links, images, raw HTML,
# entities, autolinks) is backslash-escaped wherever it is; '#' too (an ATX heading inside a list item)
_MD_INLINE = re.compile(r"([\\`*_\[\]<>&!~|#])")
# what only means something at the start of a line: block quotes, list markers, setext underlines,
# thematic breaks, ordered-list numbers ("1." / "1)")
_MD_LINE_START = re.compile(r"^([-+=>])|^(\d{1,9})([.)])")


def md_text(text: str) -> str:
    """User text as CommonMark that renders as exactly that text: no tag, link, heading or list comes out.

    Each line is trimmed (no indented code block) and blank lines are dropped (the text stays one
    paragraph or one list item); lines after the first are soft line breaks.
    """
    lines = [ln.strip() for ln in text.replace("\r", "\n").split("\n")]
    out = []
    for ln in (x for x in lines if x):
        ln = _MD_INLINE.sub(r"\\\1", ln)
        out.append(_MD_LINE_START.sub(lambda m: "\\" + m[1] if m[1] else m[2] + "\\" + m[3], ln))
    return "\n".join(out)


def _md_entries(entries: list[Entry]) -> list[str]:
    lines = []
    for e in entries:
        lines.append("- " + md_text(entry_text(e)))
        lines += [f"  - {md_text(a)}" for a in e.agenda]
    return lines


def _md_body(body: BodyNode, depth: int, index: int) -> list[str]:
    number = f"{_letter(index)} " if depth == 1 else f"({_letter(index)}) " if depth == 2 else ""
    name = body.name if depth < 3 else f"【{body.name}】"
    out = ["", "#" * min(depth + 3, 6) + f" {number}{md_text(name)}"]
    out += [line for p in body.paragraphs for line in ("", md_text(p))]
    if (listed := _md_entries(_listed(body.entries, body.children))):
        out += ["", *listed]
    for i, child in enumerate(c for c in body.children if not c.inline):
        out += _md_body(child, depth + 1, i)
    return out


def render_markdown(doc: ReportDoc) -> str:
    """Markdown: title '#', section '##', programme '###', body '####', sub-body '#####', group
    '######'; paragraphs; entries as '- ' items with their agenda as a nested list.  Not parsed back.

    Every text is escaped for CommonMark (:func:`md_text`): a renderer shows it literally."""
    out = [f"# {md_text(title_of(doc))}"]
    for section in doc.sections:
        out += ["", f"## {section.number} {md_text(section.title)}"]
        for i, programme in enumerate(section.programmes, 1):
            out += ["", f"### ({i}) {md_text(programme.title)}"]
            out += [line for p in programme.paragraphs for line in ("", md_text(p))]
            if (listed := _md_entries(_listed(programme.entries, programme.bodies))):
                out += ["", *listed]
            for j, body in enumerate(b for b in programme.bodies if not b.inline):
                out += _md_body(body, 1, j)
    return "\n".join(out) + "\n"


class Block(NamedTuple):
    """One block of the report for the rich renderers (HTML, DOCX): a heading (``level`` 1 title,
    2 section, 3 programme, 4 body, 5 sub-body, 6 group and deeper), a paragraph, or a list of
    entries (``entries``, in listing order: inline bodies merged by date)."""

    kind: str                       # 'heading' | 'paragraph' | 'entries'
    text: str = ""
    level: int = 0
    entries: tuple[Entry, ...] = ()


def outline(doc: ReportDoc) -> list[Block]:
    """The report as a flat list of blocks, numbered and ordered as ``render_text`` prints it."""
    out = [Block("heading", title_of(doc), 1)]

    def content(level: int, heading: str, paragraphs: list[str], entries: list[Entry],
                children: list[BodyNode]) -> None:
        out.append(Block("heading", heading, level))
        out.extend(Block("paragraph", p) for p in paragraphs)
        if (listed := _listed(entries, children)):
            out.append(Block("entries", entries=tuple(listed)))
        for i, child in enumerate(c for c in children if not c.inline):
            depth = level - 2  # of the child: 1 body, 2 sub-body, 3+ group
            name = (f"{_letter(i)} {child.name}" if depth == 1 else f"({_letter(i)}) {child.name}"
                    if depth == 2 else f"【{child.name}】")
            content(min(level + 1, 6), name, child.paragraphs, child.entries, child.children)

    for section in doc.sections:
        out.append(Block("heading", f"{section.number} {section.title}", 2))
        for i, programme in enumerate(section.programmes, 1):
            content(3, f"({i}) {programme.title}", programme.paragraphs, programme.entries, programme.bodies)
    return out
