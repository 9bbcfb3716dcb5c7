"""Member organisations (団体) from a CSV file: ``kyogikai members import FILE.csv``.

This module reads and checks the file and plans the events; the command that saves them is
:meth:`kyogikai.application.members.Members.import_members` (``Kyogikai.import_members``).

The file:

- UTF-8, with or without a BOM (Excel's "CSV UTF-8"); CRLF or LF line ends.  Any other encoding is
  refused with a hint (Excel's plain "CSV" saves Shift_JIS).
- A header row naming the columns, in any order: ``name,kind,code,class`` or the Japanese
  ``団体名,種別,団体コード,区分``.  A missing or unknown column is an error.  Blank lines are skipped.
- ``kind``: ``prefecture, city, town, village, other`` or ``県 (都 道 府), 市, 町, 村, その他``.
- ``class``: ``member, associate`` or ``会員, 準会員``.
- ``code``: the 全国地方公共団体コード, exactly 6 digits including the check digit (full-width digits
  are accepted).  Five digits are refused here, although the CLI accepts them elsewhere: in a
  spreadsheet a lost leading zero (``011002`` → ``11002``) would otherwise turn into another valid
  code.  A prefecture, city, town or village needs a code; ``other`` (an associate public body)
  may leave it empty.  A prefecture's code is ``NN000C`` and a municipality's is not.

Import (idempotent, all or nothing):

- Every row is checked first against the file and the current members; if any row is bad, the
  error names each bad row's line and field (one line, at most ten rows shown) and **nothing is
  written**.
- A row matches an existing member by its code, or by its name when it has no code.  A new row
  creates the member; a changed name for an existing code records a rename (``MemberRenamed``,
  e.g. a municipal merger keeps the organisation's history); a changed class records a
  reclassification.  A changed kind is refused (there is no event for it: record a new member).
- Members absent from the file are left alone (the file is not a list of deletions).
- The events are saved in one transaction, so a concurrent change elsewhere makes the whole import
  fail with a conflict (exit 3) rather than half-apply.  Re-importing the same file writes nothing
  and says so.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass, field
from uuid import UUID

from .app import Kyogikai, UserError
from .i18n import M
from .domain import organisation as org
from .domain.events import DomainError
from .domain.text import TextError, one_line
from .projections import organisation as org_rm

COLUMNS = {
    "name": "name", "団体名": "name",
    "kind": "kind", "種別": "kind",
    "code": "code", "団体コード": "code",
    "class": "class", "区分": "class",
}
REQUIRED = ("name", "kind", "code", "class")
JA_HEADER = {"name": "団体名", "kind": "種別", "code": "団体コード", "class": "区分"}

KINDS = {k.value: k for k in org.MemberKind} | {
    "県": org.MemberKind.PREFECTURE, "都": org.MemberKind.PREFECTURE, "道": org.MemberKind.PREFECTURE,
    "府": org.MemberKind.PREFECTURE, "市": org.MemberKind.CITY, "町": org.MemberKind.TOWN,
    "村": org.MemberKind.VILLAGE, "その他": org.MemberKind.OTHER,
}
CLASSES = {c.value: c for c in org.MemberClass} | {"会員": org.MemberClass.MEMBER, "準会員": org.MemberClass.ASSOCIATE}
LOCAL_GOVERNMENTS = {org.MemberKind.PREFECTURE, org.MemberKind.CITY, org.MemberKind.TOWN, org.MemberKind.VILLAGE}
MAX_SHOWN = 10


class MembersCSVError(UserError):
    """The file cannot be imported; the message names each bad line and field."""


@dataclass(frozen=True)
class MemberRow:
    line: int
    name: str
    kind: org.MemberKind
    code: str | None
    member_class: org.MemberClass


@dataclass
class ImportResult:
    created: list[str] = field(default_factory=list)
    renamed: list[tuple[str, str]] = field(default_factory=list)       # (old, new)
    reclassified: list[tuple[str, str]] = field(default_factory=list)  # (name, new class)
    unchanged: int = 0
    events: int = 0
    dry_run: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.created or self.renamed or self.reclassified)

    def summary(self) -> str:
        total = len(self.created) + len(self.renamed) + len(self.reclassified) + self.unchanged
        if not self.changed:
            return M("nothing to import: all {total} member organisation(s) in the file are already recorded as given",
                     total=total).render()
        counts = dict(events=self.events, created=len(self.created), renamed=len(self.renamed),
                      reclassified=len(self.reclassified), unchanged=self.unchanged)
        if self.dry_run:
            return M("would write {events} event(s): {created} created, {renamed} renamed, {reclassified} reclassified, "
                     "{unchanged} unchanged", **counts).render()
        return M("wrote {events} event(s): {created} created, {renamed} renamed, {reclassified} reclassified, "
                 "{unchanged} unchanged", **counts).render()

    def details(self) -> list[str]:
        out = [M("created {name}", name=n).render() for n in self.created]
        out += [M("renamed {name} to {new_name}", name=a, new_name=b).render() for a, b in self.renamed]
        out += [M("reclassified {name} as {member_class}", name=n, member_class=c).render() for n, c in self.reclassified]
        return out


def _clean(value: str | None) -> str:
    return " ".join((value or "").split())


def decode(data: bytes, source: str = "file") -> str:
    """UTF-8 (Excel's 「CSV UTF-8」) or Shift_JIS (Excel's plain 「CSV (コンマ区切り)」), see files.decode_text."""
    from .files import decode_text

    try:
        return decode_text(data, option=source)[0]
    except UserError as exc:
        raise MembersCSVError(str(exc)) from None


def parse(text: str, source: str = "file") -> list[MemberRow]:
    """Rows of a members CSV; every bad row is reported at once (one line), nothing half-parsed."""
    text = text.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    errors: list[M] = []
    rows: list[MemberRow] = []       # a csv.Error in the header leaves it empty (reported below)
    try:
        header = next(reader, None)
        while header is not None and not any(c.strip() for c in header):
            header = next(reader, None)
        if header is None:
            raise MembersCSVError(M("{source}: empty file; expected a header row name,kind,code,class (or 団体名,種別,団体コード,区分)",
                                     source=source))
        hline = reader.line_num
        cols: dict[str, int] = {}
        for i, raw in enumerate(header):
            key = _clean(unicodedata.normalize("NFKC", raw)).lower()
            if key not in COLUMNS:
                raise MembersCSVError(M("{source} line {line}: header: unknown column {column!r} (expected name, kind, code, "
                                        "class or 団体名, 種別, 団体コード, 区分)", source=source, line=hline,
                                        column=raw.strip()))
            if COLUMNS[key] in cols:
                raise MembersCSVError(M("{source} line {line}: header: column {column!r} appears twice", source=source,
                                        line=hline, column=raw.strip()))
            cols[COLUMNS[key]] = i
        missing = [c for c in REQUIRED if c not in cols]
        if missing:
            raise MembersCSVError(M("{source} line {line}: header: missing column(s) {columns}", source=source, line=hline,
                                    columns=", ".join(f"{c} ({JA_HEADER[c]})" for c in missing)))
        for record in reader:
            line = reader.line_num
            if not any(c.strip() for c in record):
                continue
            if len(record) != len(header):
                errors.append(M("line {line}: has {count} field(s), the header has {header}", line=line, count=len(record),
                                header=len(header)))
                continue
            row, problem = _row(line, {k: record[i] for k, i in cols.items()})
            if problem:
                errors.append(problem)
            elif row is not None:
                rows.append(row)
    except csv.Error as exc:
        errors.append(M("line {line}: {problem}", line=reader.line_num, problem=str(exc)))
    seen_code: dict[str, int] = {}
    seen_name: dict[str, int] = {}
    for r in rows:
        if r.code and r.code in seen_code:
            errors.append(M("line {line}: code: {code} is already on line {other}", line=r.line, code=r.code,
                             other=seen_code[r.code]))
        if r.name in seen_name:
            errors.append(M("line {line}: name: {name!r} is already on line {other}", line=r.line, name=r.name,
                             other=seen_name[r.name]))
        if r.code:
            seen_code.setdefault(r.code, r.line)
        seen_name.setdefault(r.name, r.line)
    _raise(errors, source)
    if not rows:
        raise MembersCSVError(M("{source}: no member rows after the header", source=source))
    return rows


def _row(line: int, cells: dict[str, str]) -> tuple[MemberRow | None, M | None]:
    try:
        name = one_line(cells["name"], "name")
    except TextError as exc:
        return None, M("line {line}: {problem}", line=line, problem=exc)
    if not name:
        return None, M("line {line}: name: empty", line=line)
    if len(name) > 200:
        return None, M("line {line}: name: longer than {limit} characters", line=line, limit=200)
    kind_text = _clean(unicodedata.normalize("NFKC", cells["kind"]))
    kind = KINDS.get(kind_text) or KINDS.get(kind_text.lower())
    if kind is None:
        return None, M("line {line}: kind: {kind!r} is not one of 県, 市, 町, 村, その他 (or prefecture, city, town, village, "
                       "other)", line=line, kind=kind_text)
    class_text = _clean(unicodedata.normalize("NFKC", cells["class"]))
    mclass = CLASSES.get(class_text) or CLASSES.get(class_text.lower())
    if mclass is None:
        return None, M("line {line}: class: {member_class!r} is not one of 会員, 準会員 (or member, associate)", line=line,
                        member_class=class_text)
    code_text = _clean(unicodedata.normalize("NFKC", cells["code"]))
    code: str | None = None
    if code_text:
        if not (code_text.isascii() and code_text.isdigit() and len(code_text) == 6):
            if code_text.isdigit() and len(code_text) == 5:
                return None, M("line {line}: code: {code!r} must be 6 digits including the check digit (a leading zero "
                               "lost in a spreadsheet?)", line=line, code=code_text)
            return None, M("line {line}: code: {code!r} must be 6 digits including the check digit", line=line, code=code_text)
        try:
            code = org.check_lg_code(code_text)
        except DomainError as exc:
            return None, M("line {line}: code: {problem}", line=line, problem=exc)
        is_pref_code = code[2:5] == "000"
        if kind is org.MemberKind.PREFECTURE and not is_pref_code:
            return None, M("line {line}: code: {code} is a municipality's code, but the kind is prefecture", line=line, code=code)
        if kind in LOCAL_GOVERNMENTS - {org.MemberKind.PREFECTURE} and is_pref_code:
            return None, M("line {line}: code: {code} is a prefecture's code, but the kind is {kind}", line=line, code=code,
                           kind=kind.value)
    elif kind in LOCAL_GOVERNMENTS:
        return None, M("line {line}: code: empty; a {kind} needs its 全国地方公共団体コード", line=line, kind=kind.value)
    return MemberRow(line, name, kind, code, mclass), None


def _raise(errors: list[M], source: str) -> None:
    if not errors:
        return
    shown = "; ".join(str(e) for e in errors[:MAX_SHOWN])
    more = M("; and {count} more", count=len(errors) - MAX_SHOWN) if len(errors) > MAX_SHOWN else ""
    raise MembersCSVError(M("{source}: {count} bad row(s), nothing imported — {shown}{more}", source=source,
                            count=len(errors), shown=shown, more=more))


def plan(app: Kyogikai, rows: list[MemberRow], source: str = "file") -> tuple[list[org.Member], ImportResult]:
    """Aggregates with pending events for what the file changes; raises (nothing written) on any bad row."""
    app.sync()
    existing = app.rows(org_rm.MEMBERS)
    by_code = {m["code"]: m for m in existing if m["code"]}
    by_id = {m["id"]: m for m in existing}
    names = {m["name"]: m for m in existing}
    result, aggs, errors = ImportResult(), [], []
    for r in rows:
        current = by_code.get(r.code) if r.code else by_id.get(str(org.Member.id_for(r.name, None)))
        if current is None:
            clash = names.get(r.name)
            if clash is not None:
                errors.append(f"line {r.line}: name: {r.name!r} is already the name of another member"
                              + (f" (code {clash['code']})" if clash["code"] else "")
                              + (f", not code {r.code}" if r.code else ""))
                continue
            try:
                aggs.append(org.Member.create(r.name, r.kind, r.member_class, r.code, app.actor))
            except DomainError as exc:
                errors.append(f"line {r.line}: name: {exc}")
                continue
            result.created.append(r.name)
            continue
        if current["kind"] != r.kind.value:
            errors.append(f"line {r.line}: kind: {current['name']} ({current['code'] or 'no code'}) is recorded as "
                          f"{current['kind']}, not {r.kind.value}; a kind cannot change (record a new member)")
            continue
        renamed = current["name"] != r.name
        reclassified = current["member_class"] != r.member_class.value
        if not (renamed or reclassified):
            result.unchanged += 1
            continue
        if current["dissolved_on"]:
            errors.append(f"line {r.line}: name: member {current['name']!r} was dissolved on {current['dissolved_on']}")
            continue
        if renamed and r.name in names and names[r.name]["id"] != current["id"]:
            errors.append(f"line {r.line}: name: {r.name!r} is already the name of another member")
            continue
        agg = app.store.get(org.Member, UUID(current["id"]))
        if agg is None:  # pragma: no cover - the read model and the store disagree
            errors.append(f"line {r.line}: code: member {current['name']!r} is in the read model but not in the store")
            continue
        try:
            if renamed:
                agg.rename(r.name, None, app.actor)
                result.renamed.append((current["name"], r.name))
            if reclassified:
                agg.reclassify(r.member_class, app.actor)
                result.reclassified.append((r.name, r.member_class.value))
        except DomainError as exc:
            errors.append(f"line {r.line}: name: {exc}")
            continue
        aggs.append(agg)
    _raise(errors, source)
    result.events = sum(len(a.pending) for a in aggs)
    return aggs, result


MAX_CSV_BYTES = 1_000_000  # a member list is a few hundred rows (tens of kB); refuse anything absurd unread
