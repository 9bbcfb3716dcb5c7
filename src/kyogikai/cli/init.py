"""``kyogikai init``: create a store (issue 13, point 6).

Every other command refuses a store named with --db / KYOGIKAI_DB that does not exist (exit 4,
nothing created) so that a mistyped path never starts an empty second log; ``init`` is how one is
made.  A SQLite path gets its file (and missing folders); a PostgreSQL URL gets its schema and
tables.  On an existing store it changes nothing and says so (exit 0).
"""

from __future__ import annotations

import click

from ..app import Kyogikai
from ..i18n import _
from .base import State, cli, pass_app


@cli.command("init")
@click.option("--db", "target", metavar="PATH|URL",
              help="Where to create the store (else the global --db, KYOGIKAI_DB or the default location).")
@pass_app
def init(s: State, target: str | None) -> None:
    """Create a store (a SQLite file or a PostgreSQL schema); an existing one is left as it is."""
    with Kyogikai(target or s.db, s.actor_name, create=True) as app:
        app.sync()   # the read models' tables too
        where, created = app.location.describe(), app.store.created
    if created:
        click.echo(_("created a store at {where}").format(where=where))
    else:
        click.echo(_("a store already exists at {where}; nothing changed").format(where=where))
