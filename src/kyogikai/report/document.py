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


@dataclass
class ReportDoc:
    fiscal_year: int
    sections: list[SectionNode] = field(default_factory=list)

    def entries(self) -> list[Entry]:
        """Every entry in document order (programme entries, then bodies depth first)."""
        out: list[Entry] = []

        def walk(body: BodyNode) -> None:
            out.extend(body.entries)
            for child in body.children:
                walk(child)

        for section in self.sections:
            for programme in section.programmes:
                out.extend(programme.entries)
                for body in programme.bodies:
                    walk(body)
        return out
