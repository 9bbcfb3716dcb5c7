"""The members import: member organisations (団体) from a CSV file, all or nothing (see
:mod:`kyogikai.members_csv` for the file and the rules; this is the command that saves)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .context import Context, Result

if TYPE_CHECKING:
    from ..members_csv import ImportResult


@dataclass(frozen=True)
class MembersImported:
    report: "ImportResult"   # created, renamed, reclassified, unchanged (what would be written with dry_run)
    result: Result           # the events written (none with dry_run or when nothing changes)


class Members:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def import_members(self, text: str, *, dry_run: bool = False, source: str = "file") -> MembersImported:
        """Import members from CSV text (see :mod:`kyogikai.members_csv`); the whole file or nothing."""
        from ..members_csv import parse, plan

        aggs, report = plan(self.ctx, parse(text, source), source)
        report.dry_run = dry_run
        events = self.ctx._save(*aggs) if report.changed and not dry_run else []
        first = events[0].originator_id if events else None
        return MembersImported(report, Result(first, events, []))  # type: ignore[arg-type]

    def import_members_file(self, path: str | Path, *, dry_run: bool = False) -> MembersImported:
        """Import members from a CSV file (UTF-8, at most ``MAX_CSV_BYTES``)."""
        from ..files import read_input
        from ..members_csv import MAX_CSV_BYTES, decode

        p = Path(path)
        data = read_input(p, option="FILE", limit=MAX_CSV_BYTES)
        return self.import_members(decode(data, p.name), dry_run=dry_run, source=p.name)
