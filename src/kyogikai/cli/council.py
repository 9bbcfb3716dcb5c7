"""``council set`` and ``council show``: the council's own settings, recorded as events."""

from __future__ import annotations

import click

from ..app import UserError
from ..i18n import M
from ..domain.council import DOCUMENT_FONTS
from .base import State, cli, dump_json, json_option, pass_app, result_json, wants_json, warn

FONT_LABELS = {"yu": "游明朝・游ゴシック", "ms": "ＭＳ 明朝・ＭＳ ゴシック"}


@cli.group("council")
def council() -> None:
    """The council's name, short name, public base URL and document fonts."""


@council.command("set")
@json_option
@click.option("--name", help="The council's full name (page titles, feed names, the report, Word properties).")
@click.option("--short", "short_name", help="A short name.")
@click.option("--base-url", "base", metavar="URL",
              help="Where the public reaches the site (used by serve, export-feeds and token issue unless overridden).")
@click.option("--document-font", type=click.Choice(DOCUMENT_FONTS),
              help="Fonts of the Word report: yu (游明朝/游ゴシック) or ms (ＭＳ 明朝/ＭＳ ゴシック).")
@click.option("--clear-short", is_flag=True, help="Remove the short name.")
@click.option("--clear-base-url", is_flag=True, help="Remove the stored base URL.")
@pass_app
def council_set(s: State, name: str | None, short_name: str | None, base: str | None, document_font: str | None,
                clear_short: bool, clear_base_url: bool) -> None:
    """Record new settings (one event; what is not given stays as it was)."""
    if clear_short and short_name is not None:
        raise UserError(M("--short: give either --short or --clear-short"))
    if clear_base_url and base is not None:
        raise UserError(M("--base-url: give either --base-url or --clear-base-url"))
    if not any([name, short_name, base, document_font, clear_short, clear_base_url]):
        raise UserError(M("council set: give at least one of --name, --short, --base-url, --document-font"))
    clear = [f for f, on in (("short_name", clear_short), ("base_url", clear_base_url)) if on]
    r = s.app.set_council(name=name, short_name=short_name, base_url=base, document_font=document_font, clear=clear)
    if wants_json():
        what = M("council settings recorded") if r.events else M("unchanged")
        dump_json(result_json(r, what, council=s.app.council()))
        return
    for w in r.warnings:
        warn(w)
    if r.events:
        c = s.app.council()
        name = c["name"] + (f"（{c['short_name']}）" if c["short_name"] else "")
        click.echo(M("council settings recorded: {name}, base URL {url}", name=name, url=c["base_url"]) if c["base_url"]
                   else M("council settings recorded: {name}", name=name))


@council.command("show")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def council_show(s: State, as_json: bool) -> None:
    """The current settings and every change (who, when)."""
    c = s.app.council()
    history = [{"at": e.timestamp.isoformat(), "actor": e.actor, **e.payload()} for e in s.app.council_history()]
    if as_json:
        dump_json({"name": c["name"], "short_name": c["short_name"], "base_url": c["base_url"],
                   "document_font": c["document_font"], "named": c["named"], "history": history})
        return
    click.echo(f"名称: {c['name']}" + ("" if c["named"] else "（未設定: kyogikai council set --name …）"))
    click.echo(f"略称: {c['short_name'] or '-'}")
    click.echo(f"公開URL: {c['base_url'] or '-'}")
    click.echo(f"文書の書体: {FONT_LABELS[c['document_font']]}")
    for h in history:
        click.echo(f"  {h['at'][:19]}Z {h['actor']}: {h['name']} / {h['short_name'] or '-'} / {h['base_url'] or '-'}"
                   f" / {h['document_font']}")
