"""The council's own settings: its name, short name, public base URL and document font (no I/O).

One aggregate with a fixed id.  Every change is a :class:`CouncilSettingsChanged` event holding
the complete settings after the change (so one event reads on its own, and ``council show``'s
history says who set what, when).  Nothing is ever edited.

- ``name``: the council's full name (``あいち電子自治体推進協議会``): page titles and headers, feed
  names, the report's title block and the Word file's author.  Without any event the council is
  called ``協議会``.
- ``short_name``: what people call it (``推進協議会``); recorded and shown by ``council show``, and
  given to templates (``council.short_name``) for places where space is short.
- ``base_url``: where the public reaches the site and feeds (checked by the caller: this module
  does not know URLs); ``serve``, ``export-feeds`` and ``token issue`` use it unless overridden.
- ``document_font``: the Word report's fonts, ``yu`` (游明朝 / 游ゴシック) or ``ms`` (ＭＳ 明朝 /
  ＭＳ ゴシック).
"""

from __future__ import annotations

from typing import Any

from ..i18n import M, N_
from .events import Aggregate, DomainError, DomainEvent, stable_id

DEFAULT_NAME = "協議会"
DOCUMENT_FONTS = ("yu", "ms")
MAX_NAME = 100
MAX_URL = 500


class CouncilSettingsChanged(DomainEvent):
    name: str
    short_name: str | None = None
    base_url: str | None = None
    document_font: str = "yu"


_EMPTY = {"--name": N_("--name: is empty"), "--short": N_("--short: is empty"), "--base-url": N_("--base-url: is empty")}
_LONG = {"--name": N_("--name: longer than {limit} characters ({length:,})"),
         "--short": N_("--short: longer than {limit} characters ({length:,})"),
         "--base-url": N_("--base-url: longer than {limit} characters ({length:,})")}


def _text(value: str | None, what: str, limit: int) -> str | None:
    if value is None:
        return None
    value = " ".join(value.split())
    if not value:
        raise DomainError(M(_EMPTY[what]))
    if len(value) > limit:
        raise DomainError(M(_LONG[what], limit=limit, length=len(value)))
    return value


class Council(Aggregate):
    ID = stable_id("council", "settings")

    def __init__(self, id: Any = None) -> None:
        super().__init__(id or self.ID)
        self.name: str | None = None
        self.short_name: str | None = None
        self.base_url: str | None = None
        self.document_font = "yu"

    def settings(self) -> dict[str, Any]:
        return {"name": self.name or DEFAULT_NAME, "short_name": self.short_name, "base_url": self.base_url,
                "document_font": self.document_font, "named": self.name is not None}

    def change(self, actor: str, *, name: str | None = None, short_name: str | None = None,
               base_url: str | None = None, document_font: str | None = None,
               clear: tuple[str, ...] = ()) -> bool:
        """Record new settings (fields not given keep their value; ``clear`` names fields to unset).

        Returns False (and records nothing) when nothing would change.
        """
        new_name = _text(name, "--name", MAX_NAME) or self.name
        if new_name is None:
            raise DomainError(M("--name: the council has no name yet; give --name"))
        new = {"name": new_name,
               "short_name": None if "short_name" in clear else (_text(short_name, "--short", MAX_NAME) or self.short_name),
               "base_url": None if "base_url" in clear else (_text(base_url, "--base-url", MAX_URL) or self.base_url),
               "document_font": document_font or self.document_font}
        if new["document_font"] not in DOCUMENT_FONTS:
            raise DomainError(M("--document-font: {font!r} is not one of {choices}", font=new["document_font"],
                                choices=", ".join(DOCUMENT_FONTS)))
        old = {"name": self.name, "short_name": self.short_name, "base_url": self.base_url,
               "document_font": self.document_font}
        if new == old:
            return False
        self.trigger(CouncilSettingsChanged, actor, **new)
        return True

    def apply_CouncilSettingsChanged(self, e: CouncilSettingsChanged) -> None:
        self.name, self.short_name, self.base_url, self.document_font = e.name, e.short_name, e.base_url, e.document_font
