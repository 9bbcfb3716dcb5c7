"""The message catalogues (gettext, managed with Babel): extract, update, compile, check.

    python scripts/i18n.py update     # extract every message, merge into locale/ja/…/kyogikai.po
    python scripts/i18n.py compile    # kyogikai.po -> kyogikai.mo (what runs)
    python scripts/i18n.py check      # exit 1 listing every message without its Japanese

Messages come from three places: texts wrapped in ``_``/``N_``/``M``/``ngettext`` (and ``NC_``/``pgettext``
with a context) in the package (Babel's Python extractor), click's own texts (the same extractor over the
installed click package), and the CLI's help texts (command docstrings and option helps, read from the command
tree).  Needs Babel
(in the ``test`` extra).
"""

from __future__ import annotations

import inspect
import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

import click

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "kyogikai"
PO = PACKAGE / "locale" / "ja" / "LC_MESSAGES" / "kyogikai.po"
MO = PO.with_suffix(".mo")
KEYWORDS = {"_": None, "N_": None, "M": None, "gettext": None, "ngettext": (1, 2), "NC_": ((1, "c"), 2),
            "pgettext": ((1, "c"), 2)}
# texts click translates from a variable (so no extractor sees them)
CLICK_RUNTIME = ["required"]


def _help_texts() -> list[str]:
    from kyogikai.cli import base

    ctx = click.Context(base.cli)
    found: list[str] = []

    def walk(cmd: click.Command) -> None:
        if cmd.help:
            found.append(inspect.cleandoc(cmd.help))
        for p in cmd.params:
            if getattr(p, "help", None):
                found.append(p.help)  # type: ignore[attr-defined]
        if isinstance(cmd, click.Group):
            for name in cmd.list_commands(ctx):
                sub = cmd.get_command(ctx, name)
                if sub is not None:
                    walk(sub)

    walk(base.cli)
    return found


def template() -> Catalog:
    """Every message the program can show, as a catalogue without translations."""
    cat = Catalog(project="kyogikai", domain="kyogikai")
    for directory in (PACKAGE, Path(click.__file__).parent):
        for _file, _line, message, comments, context in extract_from_dir(
                directory, keywords=KEYWORDS, method_map=[("**.py", "python")]):
            if message and message != "d":           # click's one-letter 'd' (a debug key), not a text
                cat.add(message, auto_comments=comments, context=context)
    for text in [*_help_texts(), *CLICK_RUNTIME]:
        cat.add(text)
    return cat


def load() -> Catalog:
    with PO.open("rb") as f:
        return read_po(f, locale="ja", domain="kyogikai")


def update() -> None:
    tmpl = template()
    cat = load() if PO.exists() else Catalog(locale="ja", domain="kyogikai")
    cat.update(tmpl, no_fuzzy_matching=True)
    cat.obsolete.clear()
    PO.parent.mkdir(parents=True, exist_ok=True)
    with PO.open("wb") as f:
        write_po(f, cat, width=100, omit_header=False, sort_output=True, no_location=True)
    compile_()                         # the .mo that runs always matches the .po


def compiled() -> bytes:
    buf = io.BytesIO()
    write_mo(buf, load(), use_fuzzy=False)
    return buf.getvalue()


def compile_() -> None:
    MO.write_bytes(compiled())


def missing() -> list[str]:
    """Messages the program shows that have no Japanese in the catalogue."""
    cat = load()
    out = []
    for m in template():
        if not m.id:
            continue
        t = cat.get(m.id, context=m.context)
        strings = t.string if t is not None else None
        if t is None or t.fuzzy or not (all(strings) if isinstance(strings, tuple) else strings):
            out.append(m.id if isinstance(m.id, str) else m.id[0])
    return out


if __name__ == "__main__":
    action = sys.argv[1] if len(sys.argv) > 1 else ""
    if action == "update":
        update()
    elif action == "compile":
        compile_()
    elif action == "check":
        gaps = missing()
        for g in gaps:
            print(g)
        sys.exit(1 if gaps else 0)
    else:
        print(__doc__)
        sys.exit(2)
