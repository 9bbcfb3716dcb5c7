"""The annual report (事業報告) as a document tree: what the report read model produces, what the
text renderer prints and what the importer's parser reads back.

Plain dataclasses with structural equality; lists are Python lists.  ``Entry.line`` (where the
parser found the entry) takes no part in equality, so a parsed document equals the document
parsed from its rendering.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kyogikai.dates import Period
from kyogikai.domain.formats import Format

KINDS = ("meeting", "vote", "redeliberation", "training", "audit", "drill", "lecture",
         "briefing", "debriefing", "activity")


@dataclass
class Entry:
    """One dated line of the report: a meeting, a vote, a training, a drill, an activity …"""

    kind: str
    label: str                               # the name after the ordinal: '幹事会', '一部議題に係る採決'
    ordinal: int | None = None               # 第N回
    part: int | None = None                  # 第N部 of a series
    series: str | None = None                # '先進事例研究・意見交換会'
    period: Period | None = None             # None only for an undated entry
    format: Format | None = None
    format_label: str | None = None          # the wording when it differs from the canonical label
    venue: str | None = None
    refers_to: tuple[int, str] | None = None  # (2, 'ワーキンググループ'): 第2回ワーキンググループの…
    speaker: str | None = None               # lecture: '愛知県警'
    agenda: list[str] = field(default_factory=list)  # 〔審議事項〕 items, in order
    cancelled: bool = False                  # printed as a trailing 【中止】
    body_hint: str | None = None             # the body this entry belongs to when listed under another's heading
    line: int = field(default=0, compare=False)  # 1-based source line (0: not parsed)


@dataclass
class BodyNode:
    """Depth 1 under a programme: body 'ア 総会'; depth 2: sub-body '(ア) …'; depth 3: group '【…】'.

    ``inline``: the body has no heading of its own; the renderer merges its entries into its
    parent's list by date.  The parser never sets it (see ``Entry.body_hint``).
    """

    name: str
    paragraphs: list[str] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    children: list[BodyNode] = field(default_factory=list)
    inline: bool = False


@dataclass
class ProgrammeNode:
    """'(1) あいち電子申請・届出システムの運用'."""

    title: str
    paragraphs: list[str] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    bodies: list[BodyNode] = field(default_factory=list)


@dataclass
class SectionNode:
    """'1 全団体事業'."""

    number: int
    title: str
    programmes: list[ProgrammeNode] = field(default_factory=list)

    def walk(self) -> list[ProgrammeNode | BodyNode]:
        """Its programmes and their bodies in document order (bodies depth first)."""
        out: list[ProgrammeNode | BodyNode] = []

        def body(b: BodyNode) -> None:
            out.append(b)
            for child in b.children:
                body(child)

        for programme in self.programmes:
            out.append(programme)
            for b in programme.bodies:
                body(b)
        return out


@dataclass
class ReportDoc:
    fiscal_year: int
    sections: list[SectionNode] = field(default_factory=list)

    def walk(self) -> list[ProgrammeNode | BodyNode]:
        """Every programme and body node in document order (bodies depth first)."""
        return [node for section in self.sections for node in section.walk()]

    def entries(self) -> list[Entry]:
        """Every entry in document order (programme entries, then bodies depth first)."""
        return [e for node in self.walk() for e in node.entries]

    def paragraphs(self) -> list[str]:
        """Every narrative paragraph in document order."""
        return [p for node in self.walk() for p in node.paragraphs]

    def headings(self) -> list[str]:
        """Section, programme, body, sub-body and group headings in order (without numbering)."""
        return [text for section in self.sections
                for text in [section.title, *(n.title if isinstance(n, ProgrammeNode) else n.name
                                              for n in section.walk())]]
