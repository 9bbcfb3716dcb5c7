"""The event log: ``log``, ``history``, ``sync`` and ``rebuild``."""

from __future__ import annotations

import json
import re
from typing import Any, Iterable

import click

from ..domain.events import DomainEvent
from ..i18n import M, _
from .base import State, cli, dump_json, format_time, local_time, pass_app
from .progress import progress


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
UTC_OPTION = click.option("--utc", is_flag=True, help="Times in UTC instead of Japan time (JST).")


def _ids(events: Iterable[DomainEvent]) -> set[str]:
    found: set[str] = set()
    for e in events:
        found.add(str(e.originator_id))
        found.update(_UUID.findall(json.dumps(e.payload(), default=str)))
    return found


def _named(value: Any, names: dict[str, str]) -> Any:
    """A payload value with every id that names something replaced by that name."""
    if isinstance(value, str):
        return names.get(value, value)
    if isinstance(value, list):
        return [_named(v, names) for v in value]
    if isinstance(value, dict):
        return {k: _named(v, names) for k, v in value.items()}
    return value


def _record(pos: int | None, e: DomainEvent, utc: bool, names: dict[str, str]) -> dict:
    rec = {"position": pos, "event": type(e).__name__, "id": str(e.originator_id), "version": e.originator_version,
           "recorded_at": local_time(e.timestamp, utc).isoformat(), "actor": e.actor, "data": e.payload()}
    if (name := names.get(str(e.originator_id))) is not None:
        rec["name"] = name
    rec["names"] = {i: names[i] for i in sorted(_ids([e]) - {str(e.originator_id)}) if i in names}
    return rec


def _line(pos: int | None, e: DomainEvent, utc: bool, names: dict[str, str]) -> str:
    data = ", ".join(f"{k}={_named(v, names)}" for k, v in e.payload().items() if v not in (None, [], ""))
    head = f"{pos:>6}  " if pos is not None else f"v{e.originator_version:<4} "
    what = names.get(str(e.originator_id), str(e.originator_id)[:8])
    return f"{head}{format_time(e.timestamp, utc)}  {e.actor}  {type(e).__name__}  {what}  {data}"


@cli.command("log")
@click.option("--after", type=click.IntRange(0, 2**62), default=0, help="Start after this position.")
@click.option("--limit", type=click.IntRange(1, 10**9), help="At most this many events.")
@click.option("--json", "as_json", is_flag=True)
@UTC_OPTION
@pass_app
def log(s: State, after: int, limit: int | None, as_json: bool, utc: bool) -> None:
    """Every recorded event in order, with who recorded it and when (Japan time unless --utc)."""
    events = s.app.log(after, limit)
    names = s.app.display_names(_ids(e for _, e in events))
    if as_json:
        dump_json([_record(p, e, utc, names) for p, e in events])
    else:
        for p, e in events:
            click.echo(_line(p, e, utc, names))


@cli.command("history")
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True)
@UTC_OPTION
@pass_app
def history(s: State, ref: str, as_json: bool, utc: bool) -> None:
    """The events of one meeting (id), body, programme or member (name), with who and when."""
    events = s.app.history(ref)
    names = s.app.display_names(_ids(events))
    if as_json:
        dump_json([_record(None, e, utc, names) for e in events])
    else:
        for e in events:
            click.echo(_line(None, e, utc, names))


@cli.command("sync")
@pass_app
def sync(s: State) -> None:
    """Bring every read model up to date with the log."""
    n = s.app.sync(progress(_("catching up")))
    click.echo(M("read models current ({count} new event(s) applied)", count=n))


@cli.command("rebuild")
@pass_app
def rebuild(s: State) -> None:
    """Recreate every read model from the whole log."""
    n = s.app.rebuild(progress(_("rebuilding")))
    click.echo(M("rebuilt read models from {count} event(s)", count=n))


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
            click.echo(M("applied {count} event(s) (log position {position})", count=n, position=app.store.max_position()))
        if once:
            return
        time.sleep(interval)
