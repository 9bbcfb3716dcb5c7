"""Messages in the user's language, English or Japanese: gettext catalogues managed with Babel.

**Which language.** ``KYOGIKAI_LANG`` when set; otherwise the first of ``LC_ALL``, ``LC_MESSAGES``
and ``LANG`` that is set (the POSIX order).  A value starting with ``ja`` means Japanese, whether
or not that locale is installed on the machine; anything else means English.  The language is read
on every call, so one process (a test, say) can switch by changing the environment.

**The catalogue.** English is the source text (the msgid); ``locale/ja/LC_MESSAGES/kyogikai.po``
holds the Japanese, and ``kyogikai.mo`` beside it is what runs (compiled by Babel; a test checks
that it matches the ``.po``).  What is translated: every text wrapped in :func:`gettext` (``_``)
or :func:`ngettext` in the package, the CLI's help texts (command docstrings and option helps,
looked up when help is shown), and click's own texts (usage lines, "No such option", …), which
click takes from the same catalogue through :func:`setup_click`.  ``scripts/i18n.py`` extracts,
updates and compiles; ``tests/test_i18n.py`` fails when a message lacks its Japanese.

**Messages of errors and results** are built where the rule is (the domain, the application),
which must not depend on who reads them, so they are :class:`M` objects: the English template and
its values, rendered in the reader's language only when shown (``str(message)``)::

    raise DomainError(M("it starts on {day}, after today ({today})", day=…, today=…))

Values may be ``M`` themselves (a reason inside a message) and are rendered in the same language.
A place that words messages its own way (the web console's forms) renders them with a *context*
(``m.render("ja", context="console")``): the catalogue's ``msgctxt`` entry when it has one (marked in
the code with :func:`NC_`), else the message's usual translation; values that are ``M`` are rendered
in the same context (a suggestion or a reason inside a message is worded the same way).
Templates use ``str.format`` fields so a translation can put them where Japanese wants them.  The
CLI shows messages in the language of the environment; a web page fixes its own language with
``with i18n.use("ja"):`` (a context variable, so concurrent requests do not disturb each other).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import gettext as _gettext
import os
from pathlib import Path
from typing import Any, Iterator, Mapping

DOMAIN = "kyogikai"
LOCALE_DIR = Path(__file__).with_name("locale")
LANGUAGES = ("en", "ja")


_FIXED: contextvars.ContextVar[str | None] = contextvars.ContextVar("kyogikai_language", default=None)


@contextlib.contextmanager
def use(lang: str) -> Iterator[None]:
    """Render messages in ``lang`` ('ja' or 'en') inside the block, whatever the environment says."""
    if lang not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, not {lang!r}")
    token = _FIXED.set(lang)
    try:
        yield
    finally:
        _FIXED.reset(token)


def language(env: Mapping[str, str] | None = None) -> str:
    """'ja' or 'en': a language fixed with :func:`use`, else from KYOGIKAI_LANG, else from LC_ALL,
    LC_MESSAGES, LANG (the first that is set)."""
    if env is None and (fixed := _FIXED.get()) is not None:
        return fixed
    env = os.environ if env is None else env
    value = env.get("KYOGIKAI_LANG") or next((env[k] for k in ("LC_ALL", "LC_MESSAGES", "LANG") if env.get(k)), "")
    return "ja" if value.strip().lower().startswith("ja") else "en"


@functools.cache
def catalogue(lang: str) -> _gettext.NullTranslations:
    """The translations of a language ('en' is the source text itself)."""
    if lang == "en":
        return _gettext.NullTranslations()
    return _gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang])


def gettext(message: str) -> str:
    """``message`` in the user's language."""
    return catalogue(language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return catalogue(language()).ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """``message`` as worded for ``context`` (a ``msgctxt`` of the catalogue), else as :func:`gettext` has it."""
    found = catalogue(language()).pgettext(context, message)
    return found if found != message else gettext(message)


def N_(message: str) -> str:
    """Marks a text for the catalogue where it is defined; translated later with ``_``."""
    return message


def NC_(context: str, message: str) -> str:
    """Marks ``message`` for the catalogue under ``context`` (a wording of its own there, see :func:`pgettext`)."""
    return message


_ = gettext


class M:
    """A message: an English template (the msgid) and its values, rendered when shown.

    ``str(m)`` and ``f"{m}"`` give it in the reader's language (see :func:`language`).
    """

    __slots__ = ("template", "values")

    def __init__(self, template: str, /, **values: Any) -> None:
        self.template, self.values = template, values

    def render(self, lang: str | None = None, context: str | None = None) -> str:
        """The message in ``lang`` (default: the reader's); with ``context``, in that context's wording
        where the catalogue has one — and so are its values that are messages themselves."""
        if lang is not None:
            with use(lang):
                return self.render(context=context)
        template = gettext(self.template) if context is None else pgettext(context, self.template)
        if not self.values:
            return template                                                     # a plain label: shown as it is
        values = self.values if context is None else {
            k: v.render(context=context) if isinstance(v, M) else v for k, v in self.values.items()}
        return template.format(**values)

    def __str__(self) -> str:
        return self.render()

    def __format__(self, spec: str) -> str:
        return format(self.render(), spec)

    def __repr__(self) -> str:
        return f"M({self.template!r}, **{self.values!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, M) and (self.template, self.values) == (other.template, other.values)

    def __hash__(self) -> int:
        return hash(self.template)


def setup_click() -> None:
    """Make click's own texts (usage, errors, help headings) come from our catalogue.

    Click's modules call ``gettext``/``ngettext`` imported from the standard library under the
    names ``_`` and ``ngettext``; pointing those names at ours gives them the user's language.
    """
    import importlib

    for name in ("core", "decorators", "exceptions", "formatting", "parser", "termui", "types", "utils",
                 "_termui_impl", "shell_completion"):
        try:
            module = importlib.import_module(f"click.{name}")
        except ImportError:  # pragma: no cover - a click without that module
            continue
        if hasattr(module, "_"):
            module._ = gettext  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = ngettext  # type: ignore[attr-defined]
