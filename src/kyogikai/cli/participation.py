"""The ``participation`` command: participation records."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .. import participation as pt
from ..files import write_output
from ..i18n import M
from .base import State, cli, fiscal_year_from, pass_app


@cli.command("participation")
@click.option("--member", help="One member organisation's record (name, former name or code), with its drill results.")
@click.option("--body", help="One body's roster-by-meeting matrix (name or path).")
@click.option("--fiscal-year", help="2023, 令和5年度, R5 (default: the current fiscal year).")
@click.option("--format", "fmt", type=click.Choice(list(pt.FORMATS)), default="table", show_default=True)
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write to this file instead of stdout.")
@pass_app
def participation(s: State, member: str | None, body: str | None, fiscal_year: str | None, fmt: str,
                  output: Path | None) -> None:
    """Participation records: per member organisation, per body, or (neither) every member in one table.

    Meetings count when held (not cancelled; held or already over) while the member was on the
    body's roster; replies to a written deliberation count as attended; attendance not recorded is
    shown apart and left out of the rate.  CSV is UTF-8 with a BOM for Excel.
    """
    rep = pt.report(s.app, fiscal_year=fiscal_year_from(fiscal_year), member=member, body=body)
    data = pt.render(rep, fmt)
    if output is not None:
        write_output(output, data, option="--output")
        click.echo(M("wrote {file}", file=output))
        return
    out = sys.stdout
    buffer = getattr(out, "buffer", None)
    if buffer is None:  # a text-only stream: let it encode
        out.write(data.decode("utf-8"))
    else:
        out.flush()
        buffer.write(data)
        buffer.flush()
