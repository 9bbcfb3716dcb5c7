"""What a text of a new event may contain: the one place every name, title and paragraph goes through.

:meth:`Aggregate.trigger <kyogikai.domain.events.Aggregate.trigger>` applies :func:`clean` to every
string of every new event's payload and to its actor (so a new event class is covered without doing
anything); the domain's own helpers (names, one-line texts, paragraphs) call it earlier, before an id is
derived from a name or a length is checked.  Stored events are never re-checked when read.

Refused, naming the field: control characters other than tab, LF and CR; invisible characters that
make two texts look the same or reorder what is shown — bidi controls (U+061C, U+200E/U+200F,
U+202A–U+202E, U+2066–U+2069), zero-width and joiner characters (U+200B–U+200D, U+2060–U+2064,
U+FEFF), deprecated format characters (U+206A–U+206F), tag characters (U+E0000–U+E007F), the line
and paragraph separators U+2028/U+2029, non-characters (U+FDD0–U+FDEF and U+xFFFE/U+xFFFF of every
plane) and lone surrogates (an undecodable byte).  Variation selectors stay allowed: Japanese names
use them for kanji variants (葛󠄀).  Accepted texts are NFC-normalised, so a decomposed が and a
composed が are the same name.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any


from ..i18n import M, N_
from .events import DomainError


class TextError(DomainError):
    """A text holds a character no record may hold. The message is one line and names the field."""


_NONCHARACTERS = "".join(f"{chr(p * 0x10000 + 0xFFFE)}{chr(p * 0x10000 + 0xFFFF)}" for p in range(17))
_FORBIDDEN = re.compile(
    "["
    "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"      # C0 and C1 controls, except tab, LF and CR
    "\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069"   # bidi controls, zero-width space/joiners, LRM/RLM
    "\u2028\u2029"                               # line and paragraph separators
    "\u2060-\u2064\u206a-\u206f\ufeff"           # word joiner, invisible operators, deprecated formats, BOM
    "\ufdd0-\ufdef" + _NONCHARACTERS +           # non-characters
    "\U000e0000-\U000e007f"                      # tag characters
    "\ud800-\udfff"                              # lone surrogates (bytes the locale could not decode)
    "]"
)


def describe(ch: str) -> str:
    """``U+200F (RIGHT-TO-LEFT MARK)``."""
    name = unicodedata.name(ch, "")
    return f"U+{ord(ch):04X}" + (f" ({name})" if name else "")


def problem(value: str) -> M | None:
    """What is wrong with ``value`` (None when nothing is)."""
    m = _FORBIDDEN.search(value)
    if m is None:
        return None
    ch = m.group()
    if unicodedata.category(ch) == "Cc":
        return M("the text contains the control character {character}; remove it", character=describe(ch))
    return M("the text contains the invisible or non-text character {character}; remove it", character=describe(ch))


# the fields named in refusals (M(where)); other names (an event's field, an option) are shown as they are
_WHERE = (N_("programme name"), N_("body name"), N_("member name"), N_("name"), N_("label"), N_("description"),
          N_("actor"))


def clean(value: str, where: str) -> str:
    """``value`` NFC-normalised; :class:`TextError` naming ``where`` when it holds a refused character."""
    why = problem(value)
    if why is not None:
        raise TextError(M("{where}: {why}", where=M(where), why=why))
    return unicodedata.normalize("NFC", value)


_WHITESPACE_CONTROLS = re.compile("[\x0b\x0c\x1c-\x1f\x85]")


def one_line(value: str, where: str) -> str:
    """A single-line text: checked, NFC, whitespace runs (tab, LF, CR, VT, FF …) folded into one space, trimmed.

    U+2028/U+2029 are refused, not folded: they are invisible in most single-line displays.
    """
    return " ".join(clean(_WHITESPACE_CONTROLS.sub(" ", value), where).split())


def block(value: str, where: str) -> str:
    """A text that may have several lines (tab and LF allowed; CRLF and CR become LF)."""
    return clean(value, where).replace("\r\n", "\n").replace("\r", "\n")


def clean_payload(value: Any, where: str) -> Any:
    """Every string inside ``value`` (dicts, lists, tuples) checked and NFC-normalised; other values as they are.

    A dict's keys name the fields (``where`` is the event class for the top level).
    """
    if type(value) is str:
        return clean(value, where)
    if isinstance(value, dict):
        return {k: clean_payload(v, k if where[:1].isupper() else where) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_payload(v, where) for v in value]
    if isinstance(value, tuple):
        return tuple(clean_payload(v, where) for v in value)
    if isinstance(value, str):  # a str enum: its values are ours, but check them the same way
        clean(value, where)
    return value


def short(value: str, limit: int = 40) -> str:
    """A long input quoted in an error message: at most ``limit`` characters and a count of the rest."""
    if len(value) <= limit:
        return repr(value)
    return f"{value[:limit]!r}… ({len(value):,} characters)"
