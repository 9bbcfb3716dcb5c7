"""The command group, global options and input converters shared by every command module."""

from __future__ import annotations

import datetime as dt
import inspect
import json
from typing import Any, Callable, TypeVar

import click

from .. import dates, i18n
from ..app import Kyogikai, Result, UserError
from ..dates import DateError, Period
from ..domain.formats import Format, FormatError, parse_format
from ..i18n import M

T = TypeVar("T")


class State:
    def __init__(self, db: str | None, actor: str | None) -> None:
        self.db, self.actor_name = db, actor
        self._app: Kyogikai | None = None
        self.json = False          # a write command's --json

    @property
    def app(self) -> Kyogikai:
        if self._app is None:
            self._app = open_app(self.db, self.actor_name)
        return self._app

    def close(self) -> None:
        if self._app is not None:
            self._app.close()


def open_app(db: str | None, actor: str | None) -> Kyogikai:
    """The application on an existing store: a --db / KYOGIKAI_DB that does not exist is refused
    (exit 4, nothing created; ``kyogikai init`` creates it); the default location is created on
    first use, with a one-line notice on stderr."""
    app = Kyogikai(db, actor, create=False)
    if app.store.created:
        click.echo(i18n.gettext("note: created a new store at {path} (the default location)").format(
            path=app.location.describe()), err=True)
    from .progress import progress

    app.progress = progress(i18n.gettext("catching up"), delay=1.0)   # a large backlog only (cli/progress.py)
    return app


class Translated:
    """Help texts in the user's language: a command's docstring and its options' helps are looked
    up in the catalogue when help is shown (see :mod:`kyogikai.i18n`; the English is the msgid)."""

    help: str | None
    short_help: str | None

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        original = self.help
        self.help = i18n.gettext(inspect.cleandoc(original)) if original else original
        try:
            super().format_help_text(ctx, formatter)  # type: ignore[misc]
        finally:
            self.help = original

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        params = [p for p in self.get_params(ctx) if getattr(p, "help", None)]  # type: ignore[attr-defined]
        originals = [p.help for p in params]  # type: ignore[attr-defined]
        for p in params:
            p.help = i18n.gettext(p.help)  # type: ignore[attr-defined]
        try:
            super().format_options(ctx, formatter)  # type: ignore[misc]
        finally:
            for p, h in zip(params, originals):
                p.help = h  # type: ignore[attr-defined]

    def get_short_help_str(self, limit: int = 45) -> str:
        if self.short_help or not self.help:
            return super().get_short_help_str(limit)  # type: ignore[misc]
        text = i18n.gettext(inspect.cleandoc(self.help))
        if i18n.language() == "en":
            return click.utils.make_default_short_help(text, limit)
        first = text.split("\n\n")[0].replace("\n", "").split("。")[0]    # the first sentence, no full stop
        return first if len(first) <= 30 else first[:29] + "…"


class TranslatedCommand(Translated, click.Command):
    pass


class TranslatedGroup(Translated, click.Group):
    command_class = TranslatedCommand
    group_class = type


class LazyGroup(Translated, click.Group):
    """Imports a command's module only when that command runs (or when help lists them all).

    ``LAZY`` maps a top-level command name to the module that registers it on ``cli``; keeping the
    report, importer, feeds and server code out of a logging command's start-up.
    """

    LAZY: dict[str, str] = {}
    command_class = TranslatedCommand
    group_class = TranslatedGroup

    def _load(self, name: str) -> None:
        module = self.LAZY.get(name)
        if module and name not in self.commands:
            import importlib

            importlib.import_module(module)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self._load(cmd_name)
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        for name in self.LAZY:
            self._load(name)
        return super().list_commands(ctx)


def lazy(module: str, *names: str) -> None:
    """Register ``names`` as commands defined in ``module`` (imported on first use)."""
    for name in names:
        LazyGroup.LAZY[name] = module


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--db", envvar="KYOGIKAI_DB", metavar="PATH|URL",
              help="SQLite file or postgresql://user@host:port/dbname (default: ~/.local/share/kyogikai/kyogikai.sqlite; env KYOGIKAI_DB).")
@click.option("--actor", envvar="KYOGIKAI_ACTOR", help="Who records the change (env KYOGIKAI_ACTOR, else the login name).")
@click.version_option(package_name="kyogikai")
@click.pass_context
def cli(ctx: click.Context, db: str | None, actor: str | None) -> None:
    """kyogikai: the council's meetings and activities, logged as events."""
    state = State(db, actor)
    ctx.obj = state
    ctx.call_on_close(state.close)


pass_app = click.make_pass_decorator(State)


def convert(option: str, fn: Callable[[str], T], value: str | None) -> T | None:
    """Run a converter; its error becomes a one-line message naming the option."""
    if value is None:
        return None
    try:
        return fn(value)
    except (DateError, FormatError, ValueError) as exc:
        raise UserError(M("{option}: {problem}", option=option, problem=exc.args[0] if exc.args else exc)) from None


def period_from(date: str | None, start: str | None, end: str | None, required: bool = True) -> Period | None:
    """``--date A～B`` or ``--start A [--end B]``."""
    if date and (start or end):
        raise UserError(M("--date: give either --date or --start/--end, not both"))
    if date:
        return convert("--date", dates.parse_period, date)
    if start:
        s = convert("--start", dates.parse_period, start)
        e = convert("--end", dates.parse_period, end) if end else None
        assert s is not None
        if e is None:
            return s
        if s.precision != e.precision:
            raise UserError(M("--end: --start and --end must both be days or both be months"))
        try:
            return Period(s.start, e.end, s.precision)
        except DateError as exc:
            raise UserError(M("{option}: {problem}", option="--end", problem=exc.args[0])) from None
    if end:
        raise UserError(M("--end: needs --start"))
    if required:
        raise UserError(M("--date: missing (give --date DATE_OR_PERIOD or --start/--end)"))
    return None


def time_from(option: str, value: str | None) -> dt.time | None:
    return convert(option, dates.parse_time, value)


def format_from(value: str | None) -> tuple[Format | None, str | None]:
    if value is None:
        return None, None
    parsed = convert("--format", parse_format, value)
    assert parsed is not None
    return parsed


def fiscal_year_from(value: str | None) -> int | None:
    return convert("--fiscal-year", dates.parse_fiscal_year, value)


def date_from(option: str, value: str | None) -> dt.date | None:
    return convert(option, dates.parse_date, value)


def warn(message: object) -> None:
    """One warning line on stderr, in the user's language ('warning: …' / '警告: …')."""
    click.echo(i18n.gettext("warning: {message}").format(message=message), err=True)


def _want_json(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        ctx.find_object(State).json = True


json_option = click.option(
    "--json", is_flag=True, expose_value=False, callback=_want_json,
    help="Print the result as JSON: the ids created or changed, the events written and the warnings.")
"""Every command that writes events takes ``--json`` (a test walks the command tree to keep it so)."""


def result_json(result: Result, what: str | M, **extra: Any) -> dict[str, Any]:
    """What a write command did, for scripts: ids, events (name, id, version, time), warnings."""
    changed = list(dict.fromkeys(str(e.originator_id) for e in result.events))
    return {"id": str(result.id) if result.id is not None else None, "message": str(what), "changed": changed,
            "events": [{"event": type(e).__name__, "id": str(e.originator_id), "version": e.originator_version,
                        "recorded_at": e.timestamp.isoformat(), "actor": e.actor} for e in result.events],
            "warnings": [str(w) for w in result.warnings], **extra}


def written_since(app: Kyogikai, position: int, what: str | M, **extra: Any) -> bool:
    """For a write command whose application call returns no :class:`Result`: with ``--json``,
    print the events written since ``position`` (this process's; a command is one transaction) and
    return True; else return False and let the command print its own line."""
    if not wants_json():
        return False
    events = [e for _, e in app.log(position)]
    first = str(events[0].originator_id) if events else None
    dump_json(result_json(Result(first, events, []), what, **extra))  # type: ignore[arg-type]
    return True


def wants_json() -> bool:
    ctx = click.get_current_context(silent=True)
    state = ctx.find_object(State) if ctx else None
    return bool(state and state.json)


def done(app: Kyogikai, result: Result, what: str | M, **extra: Any) -> None:
    if wants_json():
        dump_json(result_json(result, what, **extra))
        return
    for w in result.warnings:
        warn(w)
    n = len(result.events)
    click.echo((M("{what} (id {id}, 1 event)", what=what, id=str(result.id)[:8]) if n == 1 else
                M("{what} (id {id}, {count} events)", what=what, id=str(result.id)[:8], count=n)).render())


JST = dt.timezone(dt.timedelta(hours=9), "JST")


def local_time(when: dt.datetime | str, utc: bool = False) -> dt.datetime:
    """A recorded time (aware, naive UTC, or ISO text) in Japan time, or in UTC with ``utc``."""
    if isinstance(when, str):
        when = dt.datetime.fromisoformat(when.replace("Z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return when.astimezone(dt.timezone.utc if utc else JST)


def format_time(when: dt.datetime | str, utc: bool = False) -> str:
    """'2026-12-04 21:05:09 JST' (or '… UTC'), for listings people read."""
    return local_time(when, utc).strftime("%Y-%m-%d %H:%M:%S ") + ("UTC" if utc else "JST")


def dump_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))
