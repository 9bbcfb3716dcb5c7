"""``kyogikai demo``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..demo import run_demo
from ..files import output_folder
from ..i18n import M
from .base import State, cli, pass_app


@cli.command("demo")
@click.option("--dir", "directory", type=click.Path(), default="kyogikai-demo",
              show_default=True, help="Where the demo store and its report go.")
@pass_app
def demo(s: State, directory: str) -> None:
    """Build a fresh store with a realistic FY2023 sample and write its annual report.

    The store is DIR/demo.sqlite (made anew) unless --db / KYOGIKAI_DB names an empty or new one.
    """
    folder: Path = output_folder(directory, option="--dir")  # "" is refused (Path("") would be ".")
    explicit_db = s.db
    say = (lambda msg: click.echo(f"demo: {msg}", err=True)) if sys.stderr.isatty() else None
    out = run_demo(folder, explicit_db, say)
    db = out.db
    click.echo(M("demo store:   {db}", db=db))
    click.echo(M("report (text): {file}", file=out.report_text))
    click.echo(M("report (docx): {file}", file=out.report_docx))
    click.echo("")
    click.echo(M("next:"))
    click.echo(f"  kyogikai --db {db} meetings --fiscal-year 2023")
    click.echo(f"  kyogikai --db {db} report --fiscal-year 2023 --format html -o report.html")
    click.echo(f"  kyogikai --db {db} serve            "
               + M("# calendar feeds and web page on http://127.0.0.1:8000/").render())
    click.echo(f"  kyogikai --db {db} export-feeds feeds/   " + M("# every public feed as a static .ics file").render())
