"""``verify``, ``export-log`` and ``import-log``: tamper evidence, backup and restore.

``verify`` exits 0 when the log is intact and 5 when it is not (each problem on stdout with its
position, one ``error:`` line on stderr); see :mod:`kyogikai.ledger` and :mod:`kyogikai.backup`.
"""

from __future__ import annotations

import click

from ..app import UserError
from ..backup import export_log_file, import_log_file
from ..ledger import parse_anchor
from ..i18n import _
from .base import State, cli, dump_json, json_option, pass_app, wants_json
from .progress import progress

EXIT_TAMPERED = 5


@cli.command("verify")
@click.option("--anchor", metavar="POSITION:HASH",
              help="A chain head printed by an earlier verify and kept elsewhere: proves the log up to it unchanged.")
@pass_app
def verify(s: State, anchor: str | None) -> None:
    """Check the hash chain over the stored events: altered, deleted, reordered or inserted events."""
    try:
        want = parse_anchor(anchor) if anchor is not None else None
    except ValueError as exc:
        raise UserError(f"--anchor: {exc}") from None
    app = s.app
    ledger = app.runtime.ledger
    if ledger is None:  # pragma: no cover - a runtime built without a ledger
        raise UserError("verify: this store has no hash chain")
    with app.snapshot() as rows:   # verify never writes (not even read models)
        rep = ledger.verify(rows.c, want)
    if not rep.ok:
        for p in rep.problems:
            click.echo(str(p))
        first = rep.problems[0]
        click.echo(f"error: the log fails verification: {len(rep.problems)} problem(s), the first at position "
                   f"{first.position} ({first.kind}); see above", err=True)
        raise click.exceptions.Exit(EXIT_TAMPERED)
    head = f"{rep.head[0]}:{rep.head[1]}" if rep.head else "(empty log)"
    click.echo(f"verified {rep.events} event(s): the chain of {rep.chained} is intact"
               + (f"; anchor {anchor} holds" if anchor else ""))
    click.echo(f"head {head}")


@cli.command("export-log")
@click.argument("file", metavar="FILE.jsonl")
@pass_app
def export_log(s: State, file: str) -> None:
    """Write every stored event, in order, as JSON Lines with a count and a digest (FILE or -)."""
    r = export_log_file(s.app, file)
    if file != "-":
        click.echo(f"exported {r.events} event(s) up to position {r.upto} to {file} (sha256 {r.digest[:16]}…)")


@cli.command("import-log")
@click.argument("file", metavar="FILE.jsonl")
@json_option
@pass_app
def import_log(s: State, file: str) -> None:
    """Restore an export into an EMPTY store (ids, versions, topics and states exactly), then build the read models."""
    bar = progress(_("importing"))
    try:
        r = import_log_file(s.app, file, bar)
    finally:
        if bar:
            bar.close()
    if wants_json():   # counts, not the events: a restore may hold millions ('log --json' lists them)
        last = s.app.store.max_position()
        dump_json({"id": None, "message": f"imported {r.events} event(s) from {file}", "events_written": r.events,
                   "positions": [last - r.events + 1, last] if r.events else None, "warnings": []})
        return
    click.echo(f"imported {r.events} event(s) from {file}; read models built")
