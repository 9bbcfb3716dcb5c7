"""The event log: ``log``, ``history``, ``sync`` and ``rebuild``."""

from __future__ import annotations

import click

from ..domain.events import DomainEvent
from ..projections.runtime import TerminalProgress
from .base import State, cli, dump_json, pass_app


def _record(pos: int | None, e: DomainEvent) -> dict:
    return {"position": pos, "event": type(e).__name__, "id": str(e.originator_id), "version": e.originator_version,
            "recorded_at": e.timestamp.isoformat(), "actor": e.actor, "data": e.payload()}


def _line(pos: int | None, e: DomainEvent) -> str:
    data = ", ".join(f"{k}={v}" for k, v in e.payload().items() if v not in (None, [], ""))
    head = f"{pos:>6}  " if pos is not None else f"v{e.originator_version:<4} "
    return f"{head}{e.timestamp:%Y-%m-%d %H:%M:%S}Z  {e.actor}  {type(e).__name__}  {str(e.originator_id)[:8]}  {data}"


@cli.command("log")
@click.option("--after", type=click.IntRange(0, 2**62), default=0, help="Start after this position.")
@click.option("--limit", type=click.IntRange(1, 10**9), help="At most this many events.")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def log(s: State, after: int, limit: int | None, as_json: bool) -> None:
    """Every recorded event in order, with who recorded it and when (UTC)."""
    events = s.app.log(after, limit)
    if as_json:
        dump_json([_record(p, e) for p, e in events])
    else:
        for p, e in events:
            click.echo(_line(p, e))


@cli.command("history")
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def history(s: State, ref: str, as_json: bool) -> None:
    """The events of one meeting (id), body, programme or member (name)."""
    events = s.app.history(ref)
    if as_json:
        dump_json([_record(None, e) for e in events])
    else:
        for e in events:
            click.echo(_line(None, e))


@cli.command("sync")
@pass_app
def sync(s: State) -> None:
    """Bring every read model up to date with the log."""
    n = s.app.sync(TerminalProgress("sync"))
    click.echo(f"read models current ({n} new event{'s' if n != 1 else ''} applied)")


@cli.command("rebuild")
@pass_app
def rebuild(s: State) -> None:
    """Recreate every read model from the whole log."""
    n = s.app.rebuild(TerminalProgress("rebuild"))
    click.echo(f"rebuilt read models from {n} event{'s' if n != 1 else ''}")


@cli.command("follow")
@click.option("--interval", type=click.FloatRange(0.05, 3600), default=1.0, show_default=True, help="Seconds between polls.")
@click.option("--once", is_flag=True, help="Catch up once and exit (like sync).")
@pass_app
def follow(s: State, interval: float, once: bool) -> None:
    """Keep the read models current while other processes write (polls the log; Ctrl-C stops)."""
    import time

    app = s.app
    while True:
        n = app.sync()
        if n:
            click.echo(f"applied {n} event{'s' if n != 1 else ''} (log position {app.store.max_position()})")
        if once:
            return
        time.sleep(interval)
