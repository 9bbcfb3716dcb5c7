"""``report`` and ``import-report``."""

from __future__ import annotations

from pathlib import Path

import click

from ..app import Result, UserError
from ..i18n import M
from ..domain.council import DOCUMENT_FONTS
from ..domain.text import one_line, short
from ..files import decode_text, read_input
from ..report.importer import ImportRefused, import_report_text
from ..report.service import FORMATS, render, report_doc
from ..i18n import _
from .base import (State, cli, date_from, done, dump_json, fiscal_year_from, json_option, pass_app, result_json,
                   wants_json, warn)
from .progress import progress

MAX_REPORT_BYTES = 5_000_000
MAX_NARRATIVE_BYTES = 2_000_000    # 100 paragraphs of 5,000 characters


@cli.command("report")
@click.option("--fiscal-year", required=True, help="2023, 令和5年度, R5.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write to FILE (docx and pdf need it).")
@click.option("--as-of", help="The report as the log stood at the end of this day (Asia/Tokyo).")
@click.option("--font", type=click.Choice(DOCUMENT_FONTS),
              help="Word/PDF fonts: yu (游明朝/游ゴシック) or ms (ＭＳ 明朝/ＭＳ ゴシック); default: the council's setting.")
@pass_app
def report(s: State, fiscal_year: str, fmt: str, output: Path | None, as_of: str | None, font: str | None) -> None:
    """The annual activity report (事業報告) of one fiscal year (pdf: through LibreOffice)."""
    fy = fiscal_year_from(fiscal_year)
    doc = report_doc(s.app, fy, date_from("--as-of", as_of))  # type: ignore[arg-type]
    council = s.app.council()
    out = render(doc, fmt, output, council=council["name"], font=font or council["document_font"])
    if output is None and out is not None:
        click.echo(out, nl=False)
    elif output is not None:
        click.echo(M("wrote {file}", file=output), err=True)


@cli.command("import-report")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--fiscal-year", help="Override the fiscal year read from the title.")
@click.option("--skip-problems", is_flag=True, help="Import what can be placed even when some lines cannot.")
@json_option
@pass_app
def import_report(s: State, file: Path, fiscal_year: str | None, skip_problems: bool) -> None:
    """Turn a past report (the reference's text format) into events."""
    text, note = decode_text(read_input(file, option="file", limit=MAX_REPORT_BYTES), option="file")
    if note is not None and not wants_json():
        warn(note)
    before = s.app.store.max_position()
    bar = progress(_("importing"))
    try:
        result = import_report_text(s.app, text, fiscal_year_from(fiscal_year), skip_problems, bar)
    except ImportRefused as exc:
        if bar:
            bar.close()
        for p in exc.problems:
            click.echo(f"{file}:{p.line}: {p.reason}: {p.text}", err=True)
        raise
    finally:
        if bar:
            bar.close()
    problems = [f"{file}:{p.line}: {p.reason}: {p.text}" if p.line else f"{file}: {p.reason}" for p in result.problems]
    if wants_json():   # the skipped lines and the file's note are its warnings
        import_json(s, before, M("imported {file}", file=file.name), [*([note] if note is not None else []), *problems],
                    fiscal_year=result.fiscal_year, created=result.created, updated=result.updated,
                    unchanged=result.unchanged)
        return
    for line in problems:
        click.echo(line, err=True)
    if result.events == 0:
        click.echo(M("nothing to import: the store already holds every fact of {file} ({unchanged} items unchanged)",
                     file=file.name, unchanged=result.unchanged))
    else:
        click.echo(M("imported {file}: {created} items created, {updated} updated, {unchanged} unchanged, {events} events "
                     "written", file=file.name, created=result.created, updated=result.updated,
                     unchanged=result.unchanged, events=result.events))


def import_json(s: State, before: int, what: str | M, warnings: list, **extra: object) -> None:
    """``import-report --json``: the events written (since log position ``before``: an import is one
    transaction), the ids it created (their first event is among them), counts and warnings."""
    events = [e for _, e in s.app.log(before)]
    out = result_json(Result(events[0].originator_id if events else None, events, warnings),  # type: ignore[arg-type]
                      what, **extra)
    out["id"] = out["id"] if events else None
    out["created_ids"] = list(dict.fromkeys(str(e.originator_id) for e in events if e.originator_version == 1))
    dump_json(out)


@cli.group()
def narrative() -> None:
    """The prose of the annual report, per fiscal year and programme or body."""


@narrative.command("set")
@json_option
@click.option("--fiscal-year", required=True)
@click.option("--programme")
@click.option("--body")
@click.option("--file", "file", type=click.Path(path_type=Path),
              help="Paragraphs from a UTF-8 file, separated by blank lines.")
@click.argument("paragraphs", nargs=-1)
@pass_app
def narrative_set(s: State, fiscal_year: str, programme: str | None, body: str | None, file: Path | None,
                  paragraphs: tuple[str, ...]) -> None:
    """Replace the narrative paragraphs (each argument is one paragraph)."""
    paras = list(paragraphs)
    if file is not None:
        text, note = decode_text(read_input(file, option="--file", limit=MAX_NARRATIVE_BYTES), option="--file")
        if note is not None:
            warn(note)
        # a paragraph's lines are joined; U+2028/U+2029 and other invisible characters are refused first
        paras += [one_line(p, f"--file paragraph {i}")
                  for i, p in enumerate((p for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()), start=1)]
    if not paras:
        raise UserError(M("paragraphs: give at least one paragraph (or --file)"))
    r = s.app.write_narrative(fiscal_year_from(fiscal_year), paras, body=body, programme=programme)  # type: ignore[arg-type]
    done(s.app, r, M("narrative written ({count} paragraph(s))", count=len(paras)), paragraphs=len(paras))
