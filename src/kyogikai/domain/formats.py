"""Meeting formats (開催形式): the closed list, the report's canonical labels and the words users type.

A format is one of the :class:`Format` values.  What the report prints is the canonical label
(``LABELS``), unless an event carries a ``format_label`` of its own: the wording as written when it
differs from the canonical label (``書面審議``, ``Web開催``).  Spacing inside labels is not wording
(a PDF extraction artefact), so ``Web 会議`` and ``web会議`` normalise to the canonical ``Web会議``.
"""

from __future__ import annotations

import re
import unicodedata
from enum import Enum

from ..i18n import M


class Format(str, Enum):
    WEB = "web"
    WRITTEN = "written"          # 書面開催 / 書面審議: written deliberation, usually a period
    IN_PERSON = "in_person"      # 対面: usually only the venue is written
    HYBRID = "hybrid"            # Web及び対面開催
    VIDEO = "video"              # 動画配信
    DOCUMENTS = "documents"      # 資料配布
    OTHER = "other"              # a free label (format_label carries it)


LABELS: dict[Format, str] = {
    Format.WEB: "Web会議",
    Format.WRITTEN: "書面開催",
    Format.IN_PERSON: "対面開催",
    Format.HYBRID: "Web及び対面開催",
    Format.VIDEO: "動画配信",
    Format.DOCUMENTS: "資料配布",
    Format.OTHER: "その他",
}

# Japanese wordings (after normalise_label) and English names that mean each format.  One table
# serves both the importer (which keeps a wording as the item's label) and ``--format`` (which
# accepts every wording the importer keeps), so the two can never disagree.
_WORDS: dict[str, Format] = {
    "web会議": Format.WEB, "web開催": Format.WEB, "オンライン会議": Format.WEB, "オンライン開催": Format.WEB,
    "ウェブ会議": Format.WEB, "ウェブ開催": Format.WEB, "ウエブ会議": Format.WEB, "オンライン": Format.WEB,
    "リモート会議": Format.WEB, "リモート開催": Format.WEB, "テレビ会議": Format.WEB, "web形式": Format.WEB,
    "書面開催": Format.WRITTEN, "書面審議": Format.WRITTEN, "書面会議": Format.WRITTEN, "書面": Format.WRITTEN,
    "書面表決": Format.WRITTEN, "書面決議": Format.WRITTEN, "書面による開催": Format.WRITTEN,
    "持ち回り開催": Format.WRITTEN, "持ち回り決議": Format.WRITTEN,
    "対面開催": Format.IN_PERSON, "対面": Format.IN_PERSON, "対面会議": Format.IN_PERSON,
    "対面形式": Format.IN_PERSON, "集合開催": Format.IN_PERSON, "参集開催": Format.IN_PERSON,
    "web及び対面開催": Format.HYBRID, "ハイブリッド": Format.HYBRID, "ハイブリッド開催": Format.HYBRID,
    "オンライン形式と対面形式を組み合わせたハイブリッド型": Format.HYBRID,
    "動画配信": Format.VIDEO, "動画配信形式": Format.VIDEO,
    "資料配布": Format.DOCUMENTS,
}
_ENGLISH: dict[str, Format] = {
    "web": Format.WEB, "online": Format.WEB, "written": Format.WRITTEN, "in-person": Format.IN_PERSON,
    "in_person": Format.IN_PERSON, "inperson": Format.IN_PERSON, "hybrid": Format.HYBRID,
    "video": Format.VIDEO, "documents": Format.DOCUMENTS, "other": Format.OTHER,
}


class FormatError(ValueError):
    pass


def normalise_label(text: str) -> str:
    """NFKC, no spaces; ``web``/``WEB`` written as ``Web``."""
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))
    return re.sub(r"(?i)web", "Web", text)


def match_label(text: str) -> Format | None:
    """The format a Japanese wording means, or None when it is not a known format wording."""
    return _WORDS.get(normalise_label(text).lower())


def parse_format(text: str) -> tuple[Format, str | None]:
    """Parse what a user typed: an English name or a Japanese label.

    Returns the format and the label to keep (None when the canonical label says the same).
    Raises FormatError naming the accepted values.
    """
    raw = text.strip()
    if not raw:
        raise FormatError(M("format is empty"))
    english = _ENGLISH.get(raw.lower())
    if english is not None:
        return english, None
    fmt = match_label(raw)
    if fmt is None:
        accepted = M("{names} or {labels}", names=", ".join(f.value for f in Format),
                     labels="、".join(LABELS[f] for f in Format if f is not Format.OTHER))
        raise FormatError(M("unknown format {raw!r}: use one of {accepted}", raw=raw, accepted=accepted))
    label = normalise_label(raw)
    return fmt, (None if label == LABELS[fmt] else label)


def label_of(fmt: Format | str | None, label: str | None = None) -> str | None:
    """What to print for a format: the kept label, else the canonical one (None for no format)."""
    if label:
        return label
    if fmt is None:
        return None
    return LABELS[Format(fmt)]
