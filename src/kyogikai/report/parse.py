"""Read an annual report text (事業報告, e.g. extracted from the council's PDF) into a ReportDoc.

``parse_report(text, fiscal_year=None) -> ParseResult(doc, problems)``.  Tolerant: every
non-blank line is placed (title, heading, paragraph, entry, 〔審議事項〕 marker, agenda item) or
reported as a ``Problem`` with its 1-based line number; nothing is dropped silently.

Lines.  A BOM anywhere, CR/CRLF line ends and surrounding whitespace (incl. U+3000) are ignored.
A leading bullet run is stripped: any mix of ``- ・ ･ · • * －`` and spaces (``- ・``, ``・・``,
``-``, or none).  Lines are classified in this order:

1. Title (only before the first section): ``[…]令和5年度事業報告[書]``; gives ``fiscal_year``
   unless the ``fiscal_year`` argument overrides it.  Without either, the fiscal year of the first
   dated entry is used and a Problem with line 0 says so.
2. Headings (never bulleted, never containing '。'; full-width digits/parentheses accepted):
   section ``1 全団体事業`` (its number is kept), programme ``(1) …``, body ``ア …`` (a gojūon
   letter followed by a space: ``オンライン形式…`` is prose), sub-body ``(ア) …`` (needs a body),
   group ``【…】`` (needs a sub-body).  Names are the raw text after the numbering, stripped,
   otherwise verbatim (``協議会 Web システムの運営``).  Programme and body numbers are not kept:
   the renderer numbers by position.
3. ``〔審議事項〕`` marker: opens the agenda of the last entry of the current node.
4. Dated entry (never a line containing '。').  The line is first normalised for matching:
   full-width digits → ASCII, tilde variants → ``～`` (spaces around it dropped) and the PDF's
   stray spaces inside dates and ordinals dropped (``令和 5 年 5 月 2 日``, ``第 1 回``); labels and
   venues are taken from that text and otherwise kept as written (full-width parentheses stay).
   A trailing ``【中止】`` sets ``cancelled``.  Layouts, tried in this order:
   * ``head（date[、slot]）`` — the last parenthesised group that starts with a date (ASCII or
     full-width parentheses; the slot separated by '、', ',' or a space);
   * ``date[ rest]`` — date first, then a space or '、': ``rest`` is a slot alone (``書面開催``:
     label = the heading name of the node), ``label（slot）`` or a bare label.  The date must be
     followed by a separator, so ``平成16年7月から、…`` (and anything with '。') is no entry;
   * ``head date`` — date last, after a space (``第1回訓練 令和5年7月20日～8月4日``).
   A slot is split at '、'/','; the first piece that is a format wording (``formats.match_label``)
   is the format (``format_label`` None when it normalises to the canonical label), the other
   pieces, joined by '、', are the venue; a venue without a format means IN_PERSON.
   The head is read as (first match wins): lecture ``[X]による講演「T」`` (speaker X, label T);
   reference ``第N回Xの…採決|再審議…`` (refers_to (N, X) at the first 'の' that leaves the keyword
   in the label); series ``S 第N部[ 第M回]`` or ``S 第M回`` (label = series = S); ``第N回label``;
   a bare ``第N回`` continues the previous entry of the node when that one has a series (same
   series, part and label — the reference's line 55), else takes the node's name; an empty head
   takes the node's name; anything else is the label, no ordinal.
5. Split entry: a line that is no entry but whose next non-blank line is a parenthesised date
   alone (``(令和5年8月1日～10日、書面開催)``) is joined with it (lines 149-150, 154-155).
6. Paragraph: an unbulleted line containing kana/kanji and ending with '。' (or '。' and closing
   brackets); kept verbatim.  It also closes an open agenda.
7. Agenda item: after a marker, every other line with kana/kanji (bulleted or not) until the next
   heading, entry or paragraph; kept verbatim without its bullet.
8. Undated entry: any other bulleted line with kana/kanji and no '。' (head read as above, an
   optional trailing ``（slot）``).  The reference has none.
9. Anything else is a Problem (e.g. ``@@@ garbage 12``, text before the first section, an entry or
   paragraph outside any programme, a group outside a sub-body, a date that does not exist).

Kind (picked from the label, first match wins): lecture pattern → lecture; 訓練 → drill;
研修 → training; 監査 or 診断 → audit; 説明会 → briefing; 報告会 → debriefing; 採決 → vote;
再審議 → redeliberation; otherwise 'activity' directly under a programme, 'meeting' under a body.

``body_hint``: in a body whose meetings carry more than one label, the entries whose label is not
the most frequent one (first on ties) get ``body_hint = label`` — the reference lists the
企画提案選定委員会's meetings under the working group's heading; the importer decides.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from kyogikai.dates import DateError, fiscal_year as fiscal_year_of, parse_fiscal_year, parse_period
from kyogikai.i18n import M
from kyogikai.domain.formats import LABELS, Format, match_label, normalise_label
from kyogikai.report.document import BodyNode, Entry, ProgrammeNode, ReportDoc, SectionNode

LETTERS = "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワヲン"


@dataclass(frozen=True)
class Problem:
    line: int      # 1-based; 0 for the document as a whole
    text: str
    reason: str | M


@dataclass
class ParseResult:
    doc: ReportDoc
    problems: list[Problem] = field(default_factory=list)


_LINE_ENDS = re.compile(r"\r\n|\r|\n")
_FW = str.maketrans("０１２３４５６７８９（）\u3000", "0123456789() ")
# a written vote's tally printed after an agenda item (書面表決：賛成29、反対0、未回答5): not part of the item
_WRITTEN_TALLY = re.compile(r"（書面表決：[^）]*）$")
_BULLET = re.compile(r"^(?:[-‐－―−*＊•・･·]\s*)+")
_PROSE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
_PARAGRAPH_END = re.compile(r"。[」』）)]*$")

_TITLE = re.compile(r"^[^。]*?((?:令和|平成)\s*(?:\d+|元)\s*年度)\s*事業報告書?$")
_SECTION = re.compile(r"^([1-9]\d?)(?:\s+|[.．、]\s*)(?P<name>\S.*)$")   # sections are numbered from 1
_PROGRAMME = re.compile(r"^\(\s*\d{1,2}\s*\)\s*(?P<name>\S.*)$")
_SUB_BODY = re.compile(rf"^\(\s*[{LETTERS}]\s*\)\s*(?P<name>\S.*)$")
_BODY = re.compile(rf"^[{LETTERS}]\s+(?P<name>\S.*)$")
_GROUP = re.compile(r"^【(?P<name>[^【】]+)】$")
_MARKER = re.compile(r"^[〔［\[]\s*審議事項\s*[〕］\]]$")

_ERA = r"(?:令和|平成)(?:\d{1,2}|元)年"
_PERIOD = rf"{_ERA}\d{{1,2}}月(?:\d{{1,2}}日)?(?:～(?=[\d令平])(?:{_ERA})?(?:\d{{1,2}}月)?(?:\d{{1,2}}日)?)?"
_PAREN_FORM = re.compile(rf"^(?P<head>.*)[（(](?P<period>{_PERIOD})(?:[、,，\s]\s*(?P<slot>[^（）()]*))?[）)]$")
_FIRST_FORM = re.compile(rf"^(?P<period>{_PERIOD})(?:[、,，\s]\s*(?P<rest>.+))?$")
_LAST_FORM = re.compile(rf"^(?P<head>.+?)\s+(?P<period>{_PERIOD})$")
_BARE_PAREN = re.compile(rf"^[（(]{_PERIOD}(?:[、,，\s][^（）()]*)?[）)](?:【中止】)?$")
_TRAILING_PAREN = re.compile(r"^(?P<head>.*?)\s*[（(](?P<slot>[^（）()]*)[）)]$")
_CANCELLED = re.compile(r"\s*【中止】$")

_LECTURE = re.compile(r"^(?:(?P<speaker>.+?)による)?講演「(?P<label>.+)」$")
_REFERS = re.compile(r"^第(?P<n>\d+)回(?P<ref>.+?)の(?P<label>.*(?:採決|再審議).*)$")
_SERIES = re.compile(r"^(?P<series>.+?)\s+(?:第(?P<part>\d+)部(?:\s*第(?P<n>\d+)回)?|第(?P<n2>\d+)回)$")
_ORDINAL = re.compile(r"^第(?P<n>\d+)回\s*(?P<label>.*)$")


def normalize_entry_text(s: str) -> str:
    """The matching form of an entry line (see the module docstring)."""
    s = s.translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    s = re.sub(r"\s*[~〜∼〰⁓～]\s*", "～", s)
    s = re.sub(r"(?:(?<=令和)|(?<=平成)|(?<=第))\s+(?=[\d元])", "", s)
    s = re.sub(r"(?<=[\d元])\s+(?=[年月日回部])", "", s)
    return re.sub(r"(?<=[年月日])\s+(?=\d)", "", s)


_KIND_WORDS = ((("訓練",), "drill"), (("研修",), "training"), (("監査", "診断"), "audit"),
               (("説明会",), "briefing"), (("報告会",), "debriefing"), (("採決",), "vote"),
               (("再審議",), "redeliberation"))


def infer_kind(label: str, *, lecture: bool = False, under_body: bool = True) -> str:
    """The entry kind the label suggests (see the module docstring)."""
    if lecture:
        return "lecture"
    for words, kind in _KIND_WORDS:
        if any(w in label for w in words):
            return kind
    return "meeting" if under_body else "activity"


def _slot(slot: str | None) -> dict:
    """Format, format label and venue from the text after the date."""
    fmt = label = None
    venue: list[str] = []
    for piece in (p.strip() for p in re.split(r"[、,，]", slot or "")):
        if not piece:
            continue
        found = match_label(piece) if fmt is None else None
        if found is None:
            venue.append(piece)
        else:
            fmt, norm = found, normalise_label(piece)
            label = None if norm == LABELS[found] else norm
    if venue and fmt is None:
        fmt = Format.IN_PERSON
    return {"format": fmt, "format_label": label, "venue": "、".join(venue) or None}


def _is_slot(text: str) -> bool:
    return match_label(re.split(r"[、,，]", text)[0]) is not None


def _label_and_slot(rest: str) -> tuple[str, str | None]:
    """Split 'label（slot）', 'slot' or 'label'."""
    if _is_slot(rest):
        return "", rest
    m = _TRAILING_PAREN.match(rest)
    if m and _is_slot(m["slot"]):
        return m["head"], m["slot"]
    return rest, None


def _split_entry(s: str) -> tuple[str, str | None, str | None] | None:
    """(head, period text, slot) of a dated entry line, None when the line is no dated entry."""
    if m := _PAREN_FORM.match(s):
        return m["head"].strip(), m["period"], m["slot"]
    if m := _FIRST_FORM.match(s):
        head, slot = _label_and_slot((m["rest"] or "").strip())
        return head, m["period"], slot
    if m := _LAST_FORM.match(s):
        return m["head"].strip(), m["period"], None
    return None


# C0 and C1 controls that are not white space (tab, VT, FF, FS…US and NEL fold into a space later)
_CONTROL = re.compile("[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f]")


class _Parser:
    def __init__(self, text: str, fiscal_year: int | None):
        # lines end at CR, LF or CRLF only: str.splitlines() would also break at VT, FF, FS…US, NEL and
        # U+2028/9, turning a control character inside an entry into two plausible lines
        self.lines = [ln.replace("\ufeff", "").strip() for ln in _LINE_ENDS.split(text.removesuffix("\n"))]
        self.fiscal_year = fiscal_year
        self.title_seen = False
        self.problems: list[Problem] = []
        self.sections: list[SectionNode] = []
        self.programme: ProgrammeNode | None = None
        self.path: list[BodyNode] = []
        self.agenda_of: Entry | None = None

    def problem(self, no: int, reason: str | M) -> None:
        self.problems.append(Problem(no, self.lines[no - 1], reason))

    @property
    def node(self) -> ProgrammeNode | BodyNode | None:
        return self.path[-1] if self.path else self.programme

    def run(self) -> ParseResult:
        skip: set[int] = set()
        for i, raw in enumerate(self.lines):
            no = i + 1
            if not raw or i in skip:
                continue
            if bad := _CONTROL.search(raw):       # no text of a report holds one: the line cannot be placed
                character = "U+%04X" % ord(bad.group())
                self.problem(no, M("control character {character} in the line", character=character))
                continue
            body = _BULLET.sub("", raw)
            bulleted = body != raw
            if not body:
                self.problem(no, M("a bullet with nothing after it"))
            elif not bulleted and self.heading(no, raw):
                self.agenda_of = None
            elif not bulleted and _MARKER.match(raw.translate(_FW)):
                self.marker(no)
            elif "。" not in body and self.entry(no, body, dated=True):
                self.agenda_of = None
            elif "。" not in body and _PROSE.search(body) and (j := self.continuation(i)) is not None:
                skip.add(j)
                if not self.entry(no, body + self.lines[j], dated=True):
                    self.problem(no, M("a split entry that cannot be read"))
                self.agenda_of = None
            elif not bulleted and _PROSE.search(body) and _PARAGRAPH_END.search(body):
                self.agenda_of = None
                self.paragraph(no, raw)
            elif self.agenda_of is not None and _PROSE.search(body):
                self.agenda_of.agenda.append(_WRITTEN_TALLY.sub("", body))
            elif bulleted and "。" not in body and _PROSE.search(body):
                self.entry(no, body, dated=False)
            else:
                self.problem(no, M("not a heading, paragraph, entry or agenda item"))
        return ParseResult(self.finish(), self.problems)

    # -- headings ---------------------------------------------------------------------------
    def heading(self, no: int, raw: str) -> bool:
        h = raw.translate(_FW)
        if "。" in h:
            return False
        if not self.title_seen and not self.sections and (m := _TITLE.match(h)):
            self.title_seen = True
            if self.fiscal_year is None:
                try:
                    self.fiscal_year = parse_fiscal_year(m[1])
                except DateError as e:
                    self.problem(no, M("title: {problem}", problem=e.args[0]))
            return True
        for rx, place in ((_PROGRAMME, self.add_programme), (_SUB_BODY, self.add_sub_body),
                          (_SECTION, self.add_section), (_BODY, self.add_body), (_GROUP, self.add_group)):
            if m := rx.match(h):
                if (reason := place(raw[m.start("name"):m.end("name")].strip(), m)) is not None:
                    self.problem(no, reason)
                return True
        return False

    def add_section(self, name: str, m: re.Match) -> M | None:
        self.sections.append(SectionNode(int(m[1]), name))
        self.programme, self.path = None, []
        return None

    def add_programme(self, name: str, m: re.Match) -> M | None:
        if not self.sections:
            return M("programme heading before any section")
        self.programme = ProgrammeNode(name)
        self.sections[-1].programmes.append(self.programme)
        self.path = []
        return None

    def add_body(self, name: str, m: re.Match) -> M | None:
        if self.programme is None:
            return M("body heading outside any programme")
        self.path = [BodyNode(name)]
        self.programme.bodies.append(self.path[0])
        return None

    def add_sub_body(self, name: str, m: re.Match) -> M | None:
        if not self.path:
            return M("sub-body heading outside any body")
        self.path = [self.path[0], BodyNode(name)]
        self.path[0].children.append(self.path[1])
        return None

    def add_group(self, name: str, m: re.Match) -> M | None:
        if len(self.path) < 2:
            return M("group heading outside any sub-body")
        self.path = [*self.path[:2], BodyNode(name)]
        self.path[1].children.append(self.path[2])
        return None

    # -- content ----------------------------------------------------------------------------
    def marker(self, no: int) -> None:
        node = self.node
        if node is None or not node.entries:
            self.problem(no, M("〔審議事項〕 without a preceding entry"))
            self.agenda_of = None
        else:
            self.agenda_of = node.entries[-1]

    def paragraph(self, no: int, raw: str) -> None:
        if self.node is None:
            self.problem(no, M("paragraph outside any programme"))
        else:
            self.node.paragraphs.append(raw)

    def continuation(self, i: int) -> int | None:
        """Index of the next non-blank line when it is a parenthesised date alone."""
        for j in range(i + 1, len(self.lines)):
            if self.lines[j]:
                return j if _BARE_PAREN.match(normalize_entry_text(self.lines[j])) else None
        return None

    def entry(self, no: int, text: str, *, dated: bool) -> bool:
        """Read an entry line into the current node; False when it is no (dated) entry."""
        s = normalize_entry_text(text)
        cancelled = bool(_CANCELLED.search(s))
        s = _CANCELLED.sub("", s)
        if dated:
            if (parts := _split_entry(s)) is None:
                return False
            head, period_text, slot = parts
        else:
            (head, slot), period_text = _label_and_slot(s), None
        node = self.node
        if node is None:
            self.problem(no, M("entry outside any programme"))
            return True
        try:
            period = parse_period(period_text) if period_text else None
        except DateError as e:
            self.problem(no, M("entry date: {problem}", problem=e.args[0]))
            return True
        under_body = isinstance(node, BodyNode)
        name = node.name if under_body else node.title
        fields = self.head(head.strip(), name, node.entries[-1] if node.entries else None)
        lecture = fields.pop("lecture")
        fields["kind"] = infer_kind(fields["label"], lecture=lecture, under_body=under_body)
        node.entries.append(Entry(**fields, period=period, **_slot(slot), cancelled=cancelled, line=no))
        return True

    @staticmethod
    def head(head: str, name: str, previous: Entry | None) -> dict:
        f: dict = {"label": head or name, "lecture": False}
        if m := _LECTURE.match(head):
            f.update(label=m["label"], speaker=m["speaker"], lecture=True)
        elif m := _REFERS.match(head):
            f.update(label=m["label"], refers_to=(int(m["n"]), m["ref"]))
        elif m := _SERIES.match(head):
            n = m["n"] or m["n2"]
            f.update(label=m["series"], series=m["series"], part=m["part"] and int(m["part"]),
                     ordinal=n and int(n))
        elif m := _ORDINAL.match(head):
            f.update(ordinal=int(m["n"]), label=m["label"] or name)
            if not m["label"] and previous is not None and previous.series:
                f.update(label=previous.label, series=previous.series, part=previous.part)
        return f

    # -- end --------------------------------------------------------------------------------
    def finish(self) -> ReportDoc:
        doc = ReportDoc(self.fiscal_year or 0, self.sections)
        if self.fiscal_year is None:
            dated = [e.period for e in doc.entries() if e.period]
            doc.fiscal_year = fiscal_year_of(dated[0].start) if dated else 0
            self.problems.insert(0, Problem(0, "", M("no title line (令和N年度事業報告): fiscal year {fy} taken from the first date",
                                                     fy=doc.fiscal_year or "?")))
        for section in doc.sections:
            for programme in section.programmes:
                for body in programme.bodies:
                    _hint_bodies(body)
        return doc


def _hint_bodies(body: BodyNode) -> None:
    meetings = [e for e in body.entries if e.kind == "meeting" and e.refers_to is None]
    counts = Counter(e.label for e in meetings)
    if len(counts) > 1:
        usual = counts.most_common(1)[0][0]
        for e in meetings:
            if e.label != usual:
                e.body_hint = e.label
    for child in body.children:
        _hint_bodies(child)


def parse_report(text: str, fiscal_year: int | None = None) -> ParseResult:
    """Parse a report text; ``fiscal_year`` overrides the title's."""
    return _Parser(text, fiscal_year).run()
