"""Hostile input (issue 7, item 3): property-based tests (hypothesis) over the CLI and the importer.

Every generated input is invalid by construction (an oracle — the parser itself, the store's
names — filters out the rare accident that is valid).  Each must give exit code 2, an error on
stderr that is exactly ONE line starting with ``error:`` (for ``import-report``: the unplaceable
lines as ``FILE:LINE: reason: text`` and then one final ``error:`` line), nothing on stdout, no
traceback, no "internal error" — and zero new events.

Each test runs twice: a quick size in the default suite, a large one in the slow suite
(``pytest -m slow``, run by ``.ci/run``).  The counts of inputs tried are asserted, not assumed.
"""

from __future__ import annotations

import os
import random
import shutil
import sqlite3
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from kyogikai import dates
from kyogikai.domain.formats import FormatError, parse_format

from .conftest import CLI
from .dbtools import count_events, scenario_store
from .scenario import run_scenario

TRIED: dict[str, int] = {}


def sizes(quick: int, many: int) -> list:
    return [pytest.param(quick, id=f"{quick}"), pytest.param(many, id=f"{many}", marks=pytest.mark.slow)]


class Harness:
    """Runs the real CLI in-process and checks the refusal; counts the inputs it was given."""

    def __init__(self, db: str, name: str) -> None:
        self.db, self.name, self.tried = db, name, 0
        self.base = self.count()

    def count(self) -> int:
        if self.db.startswith("postgresql://"):
            return count_events(self.db)
        conn = sqlite3.connect(self.db)
        try:
            return conn.execute("SELECT COUNT(*) FROM stored_events").fetchone()[0]
        except sqlite3.OperationalError:
            return 0
        finally:
            conn.close()

    def run(self, *args: str) -> tuple[int, str, str]:
        from click.testing import CliRunner

        from kyogikai.cli import run

        with CliRunner().isolation() as (out, err, *_):
            code = run(["--db", self.db, "--actor", "攻撃者", *args])
            return code, out.getvalue().decode(errors="replace"), err.getvalue().decode(errors="replace")

    def refuse(self, *args: str, problem_prefix: str | None = None, code: int = 2) -> str:
        self.tried += 1
        got, out, err = self.run(*args)
        shown = f"kyogikai {' '.join(a[:80] for a in args)!r}\nexit {got}\nstdout {out[:300]!r}\nstderr {err[:600]!r}"
        assert got == code, shown
        assert "Traceback" not in out + err and "internal error" not in err, shown
        assert out == "", shown
        assert err.endswith("\n"), shown
        lines = err[:-1].split("\n")
        assert lines[-1].startswith("error: "), shown
        if problem_prefix is None:
            assert len(lines) == 1, shown
        else:
            assert all(line.startswith(problem_prefix) for line in lines[:-1]), shown
        assert self.count() == self.base, "events were written\n" + shown
        return lines[-1]

    def done(self, expected: int) -> None:
        assert self.tried >= expected, f"{self.name}: only {self.tried} of {expected} inputs tried"
        TRIED[self.name] = TRIED.get(self.name, 0) + self.tried
        print(f"[hostile] {self.name}: {self.tried} invalid inputs refused cleanly, no event written")


SETTINGS = dict(deadline=None, database=None, suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> dict:
    d = tmp_path_factory.mktemp("hostile")
    db = str(d / "template.sqlite")
    cli = CLI(db)
    ids = run_scenario(cli)
    for name, code in (("名古屋市", "231002"), ("豊橋市", "232017")):
        cli("member", "create", name, "--kind", "city", "--code", code)
    cli("activity", "schedule", "--kind", "drill", "--programme", "共同セキュリティ監査", "--ordinal", "1",
        "--title", "訓練", "--date", "令和5年7月20日～8月4日")
    meetings = cli("meetings", "--json").json()
    return {"db": db, "ids": ids, "all_ids": [m["id"] for m in meetings],
            "drill": next(m["id"] for m in meetings if m["kind"] == "drill")}


@pytest.fixture
def store(template, tmp_path) -> dict:
    db = str(tmp_path / "store.sqlite")
    a, b = sqlite3.connect(template["db"]), sqlite3.connect(db)
    a.backup(b)
    a.close()
    b.close()
    return {**template, "db": db}


# --- strategies ----------------------------------------------------------------------------------

def parses(fn, text: str) -> bool:
    try:
        fn(text)
        return True
    except (ValueError, dates.DateError, FormatError):
        return False


# control characters that are not whitespace: refused in any text (whitespace ones — TAB, LF, VT, FF, CR,
# FS…US, NEL — are folded into one space in single-line texts such as names and titles)
CONTROL = st.sampled_from([chr(c) for c in [*range(0, 32), *range(127, 160)] if not chr(c).isspace()])
ERAS = ["明治", "大正", "昭和", "平成", "令和", "R", "H", "S"]


def junk(max_size: int = 40) -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(max_size=max_size),
        st.text(alphabet=string.printable, max_size=max_size),
        st.text(alphabet="０１２３４５６７８９年月日～〜~-./元令和平成 ", max_size=max_size),
    )


@st.composite
def bad_date_like(draw) -> str:
    """Dates that look right and are not: impossible days and months, outside their era, reversed."""
    kind = draw(st.integers(0, 6))
    y, m, d = draw(st.integers(0, 99)), draw(st.integers(0, 99)), draw(st.integers(0, 99))
    era = draw(st.sampled_from(ERAS))
    if kind == 0:
        text = f"{era}{y}年{m}月{d}日"
    elif kind == 1:
        text = f"{draw(st.integers(0, 9999)):04d}-{m:02d}-{d:02d}"
    elif kind == 2:
        text = f"{era}{y}.{m}.{d}"
    elif kind == 3:                                   # reversed period
        text = f"令和5年{draw(st.integers(2, 12))}月{draw(st.integers(2, 28))}日～令和5年1月1日"
    elif kind == 4:                                   # control character inside a good date
        good = "令和5年5月24日"
        i = draw(st.integers(0, len(good)))
        text = good[:i] + draw(CONTROL) + good[i:]
    elif kind == 5:                                   # oversized
        text = "令和5年5月24日" * draw(st.integers(50, 3000))
    else:
        text = f"{era}{y}年{m}月～{draw(st.integers(0, 99))}月{d}日"
    return text


def bad_periods() -> st.SearchStrategy[str]:
    return st.one_of(junk(), bad_date_like()).filter(lambda t: not parses(dates.parse_period, t))


def bad_dates() -> st.SearchStrategy[str]:
    return st.one_of(junk(), bad_date_like()).filter(lambda t: not parses(dates.parse_date, t))


def bad_times() -> st.SearchStrategy[str]:
    structured = st.builds(lambda h, m, sep: f"{h}{sep}{m:02d}", st.integers(24, 999), st.integers(0, 99),
                           st.sampled_from([":", "時", "："]))
    minutes = st.builds(lambda h, m: f"{h}:{m}", st.integers(0, 23), st.integers(60, 999))
    return st.one_of(junk(12), structured, minutes).filter(lambda t: not parses(dates.parse_time, t))


def bad_formats() -> st.SearchStrategy[str]:
    return junk(30).filter(lambda t: not parses(parse_format, t))


def bad_fiscal_years() -> st.SearchStrategy[str]:
    structured = st.one_of(
        st.builds(lambda n: f"令和{n}年度", st.integers(60, 999)),
        st.builds(lambda n: f"R{n}", st.integers(100, 999)),
        st.builds(lambda n: f"明治{n}年度", st.integers(46, 99)),
        st.builds(lambda n: str(n), st.integers(10000, 10**12)),
    )
    return st.one_of(junk(16), structured).filter(lambda t: not parses(dates.parse_fiscal_year, t))


def bad_ints(lo: int = 1, hi: int = 9999) -> st.SearchStrategy[str]:
    return st.one_of(
        st.integers(max_value=lo - 1).map(str),
        st.integers(min_value=hi + 1).map(str),
        st.text(alphabet=string.ascii_letters + "+-.,e ", min_size=1, max_size=10),
        st.text(max_size=8).filter(lambda t: not t.strip().lstrip("+-").isdigit()),
    ).filter(lambda t: not t.startswith("-") or t[1:].strip().isdigit() or True)


def unknown_names(known: list[str]) -> st.SearchStrategy[str]:
    norm = {"".join(n.split()).lower() for n in known}
    return st.one_of(st.text(min_size=0, max_size=30), st.builds(lambda a, b: f"{a}/{b}", st.text(max_size=10),
                                                                    st.text(max_size=10))).filter(
        lambda t: "".join(t.split()).lower() not in norm and not t.startswith("-"))


def oversized(limit: int) -> st.SearchStrategy[str]:
    return st.builds(lambda c, n, pad: (c * (limit + n))[: limit + n] + pad, st.sampled_from(["長", "a", "議題", "漢字テキスト"]),
                     st.integers(1, 3 * limit), st.text(alphabet="あいう", max_size=3))


def with_control() -> st.SearchStrategy[str]:
    return st.builds(lambda a, c, b: a + c + b, st.text(alphabet="会議題名", min_size=1, max_size=10), CONTROL,
                     st.text(alphabet="会議題名", max_size=10))


# --- the CLI ------------------------------------------------------------------------------------

@pytest.mark.parametrize("examples", sizes(60, 300))
def test_bad_dates_and_periods(store, examples):
    h = Harness(store["db"], "dates and periods")
    mid = store["ids"]["第3回幹事会"][:8]

    @settings(max_examples=examples, **SETTINGS)
    @given(bad_periods(), bad_dates(), st.integers(0, 5))
    def prop(period, date, where):
        if where == 0:
            msg = h.refuse("meeting", "schedule", "--body", "幹事会", "--date", period, "--format", "web")
        elif where == 1:
            msg = h.refuse("meeting", "reschedule", mid, "--date", period)
        elif where == 2:
            msg = h.refuse("meeting", "schedule", "--body", "幹事会", "--start", period, "--format", "web")
        elif where == 3:
            msg = h.refuse("programme", "dissolve", "会議運営", "--on", date)
        elif where == 4:
            msg = h.refuse("member", "join", "名古屋市", "--body", "幹事会", "--since", date)
        else:
            msg = h.refuse("report", "--fiscal-year", "2023", "--as-of", date)
        assert any(k in msg for k in ("--date", "--start", "--on", "--since", "--as-of")), msg

    prop()
    h.done(examples)


@pytest.mark.parametrize("examples", sizes(40, 200))
def test_bad_times_formats_and_numbers(store, examples):
    h = Harness(store["db"], "times, formats, ordinals, orders, counts")
    drill = store["drill"][:8]

    @settings(max_examples=examples, **SETTINGS)
    @given(bad_times(), bad_formats(), bad_ints(), bad_ints(0, 1_000_000), st.integers(0, 5))
    def prop(time, fmt, number, count, where):
        base = ["meeting", "schedule", "--body", "幹事会", "--date", "令和5年6月6日"]
        if where == 0:
            h.refuse(*base, "--format", "web", "--start-time", time)
        elif where == 1:
            h.refuse(*base, "--format", fmt)
        elif where == 2:
            h.refuse(*base, "--format", "web", "--ordinal", number)
        elif where == 3:
            h.refuse("programme", "create", "新事業", "--section", "all", "--order", number)
        elif where == 4:
            h.refuse("body", "create", "新部会", "--programme", "会議運営", "--order", number)
        else:
            h.refuse("activity", "result", drill, "名古屋市", "--mails-sent", count, "--links-opened", "0")

    prop()
    h.done(examples)


@pytest.mark.parametrize("examples", sizes(40, 200))
def test_unknown_names_ids_and_fiscal_years(store, examples):
    h = Harness(store["db"], "names, ids, fiscal years")
    from .scenario import ORGANISATION

    names = [c[2] for c in ORGANISATION] + ["名古屋市", "豊橋市", "231002", "232017"]
    ids = store["all_ids"]

    def not_an_id(t: str) -> bool:
        t = t.strip().lower()
        return not (len(t) >= 4 and all(c in "0123456789abcdef-" for c in t) and any(i.startswith(t) for i in ids))

    @settings(max_examples=examples, **SETTINGS)
    @given(unknown_names(names), st.text(max_size=40).filter(not_an_id), bad_fiscal_years(), st.integers(0, 6))
    def prop(name, ref, fy, where):
        if where == 0:
            h.refuse("meeting", "schedule", "--body", name, "--date", "令和5年6月6日", "--format", "web")
        elif where == 1:
            h.refuse("meeting", "cancel", ref)
        elif where == 2:
            h.refuse("meeting", "agenda", "add", ref, "議題")
        elif where == 3:
            h.refuse("report", "--fiscal-year", fy)
        elif where == 4:
            h.refuse("narrative", "set", "--fiscal-year", fy, "--body", "幹事会", "段落。")
        elif where == 5:
            h.refuse("member", "join", name, "--body", "幹事会", "--since", "令和5年4月1日")
        else:
            h.refuse("history", name if name.strip() else "x" + name)

    prop()
    h.done(examples)


@pytest.mark.parametrize("examples", sizes(40, 200))
def test_oversized_and_control_characters_in_text(store, examples):
    h = Harness(store["db"], "oversized text and control characters")
    mid = store["ids"]["第3回幹事会"][:8]

    @settings(max_examples=examples, **SETTINGS)
    @given(oversized(500), oversized(200), oversized(5000), with_control(), st.integers(0, 8))
    def prop(long500, long200, long5000, ctrl, where):
        base = ["meeting", "schedule", "--body", "幹事会", "--date", "令和5年6月6日", "--format", "web"]
        if where == 0:
            msg = h.refuse(*base, "--title", long500)
            assert "500 characters" in msg
        elif where == 1:
            msg = h.refuse(*base, "--venue", long500)
            assert "500 characters" in msg
        elif where == 2:
            msg = h.refuse("meeting", "agenda", "add", mid, long500)
            assert "500 characters" in msg
        elif where == 3:
            msg = h.refuse("body", "create", long200, "--programme", "会議運営")
            assert "200 characters" in msg
        elif where == 4:
            msg = h.refuse("narrative", "set", "--fiscal-year", "2023", "--body", "幹事会", long5000)
            assert "5000 characters" in msg
        elif where == 5:
            msg = h.refuse(*base, "--title", ctrl)
            assert "control character" in msg
        elif where == 6:
            msg = h.refuse("meeting", "cancel", mid, "--reason", ctrl)
            assert "control character" in msg
        elif where == 7:
            msg = h.refuse("programme", "create", ctrl, "--section", "all", "--order", "9")
            assert "control character" in msg
        else:
            msg = h.refuse("body", "create", "新部会", "--programme", "会議運営", "--description", ctrl + "x" * 2000)
            assert "control character" in msg or "2000 characters" in msg

    prop()
    h.done(examples)


@pytest.mark.parametrize("examples", sizes(15, 80))
def test_on_postgres(pg_url, tmp_path, examples):
    """The same refusals on PostgreSQL: names, ids, oversized and control-character text."""
    ids = scenario_store(pg_url)
    h = Harness(pg_url, "PostgreSQL: names, ids, oversized and control characters")
    mid = ids["第3回幹事会"][:8]
    from .scenario import ORGANISATION

    names = [c[2] for c in ORGANISATION]

    @settings(max_examples=examples, **SETTINGS)
    @given(unknown_names(names), oversized(500), with_control(), bad_periods(), st.integers(0, 4))
    def prop(name, long500, ctrl, period, where):
        base = ["meeting", "schedule", "--body", "幹事会", "--date", "令和5年6月6日", "--format", "web"]
        if where == 0:
            h.refuse("meeting", "schedule", "--body", name, "--date", "令和5年6月6日", "--format", "web")
        elif where == 1:
            h.refuse(*base, "--title", long500)
        elif where == 2:
            h.refuse(*base, "--venue", ctrl)
        elif where == 3:
            h.refuse("meeting", "agenda", "add", mid, ctrl)
        else:
            h.refuse("meeting", "reschedule", mid, "--date", period)

    prop()
    h.done(examples)


def test_stated_limits(store, tmp_path):
    """Oversized files are refused unread with the limit named; too many items likewise."""
    h = Harness(store["db"], "stated limits")
    big = tmp_path / "big.txt"
    with open(big, "wb") as f:
        f.truncate(5_000_001)
    assert "the limit is 5,000,000" in h.refuse("import-report", str(big))
    csv_file = tmp_path / "big.csv"
    csv_file.write_bytes(b"name,kind,code,class\n" + b"x" * 1_000_001)
    assert "the limit is 1,000,000" in h.refuse("members", "import", str(csv_file))
    para = tmp_path / "para.txt"
    para.write_bytes(b"a" * 2_000_001)
    assert "the limit is 2,000,000" in h.refuse("narrative", "set", "--fiscal-year", "2023", "--body", "幹事会",
                                               "--file", str(para))
    para.write_bytes(b"\xff\xfe\x00garbage")
    assert "not UTF-8" in h.refuse("narrative", "set", "--fiscal-year", "2023", "--body", "幹事会", "--file", str(para))
    agenda = [x for i in range(201) for x in ("--agenda", f"議題{i}")]
    assert "at most 200" in h.refuse("meeting", "schedule", "--body", "幹事会", "--date", "令和5年6月6日",
                                     "--format", "web", *agenda)
    many = [f"段落{i}。" for i in range(101)]
    assert "at most 100 paragraphs" in h.refuse("narrative", "set", "--fiscal-year", "2023", "--body", "幹事会", *many)
    assert "is not valid UTF-8" in h.refuse("programme", "create", "x\udcff", "--section", "all", "--order", "9")
    h.done(7)


@pytest.mark.parametrize("examples", sizes(30, 150))
def test_garbled_members_csv(store, tmp_path_factory, examples):
    h = Harness(store["db"], "members CSV")
    d = tmp_path_factory.mktemp("csv")
    header = st.sampled_from(["name,kind,code,class", "団体名,種別,団体コード,区分", "name,kind,code", ""])
    row = st.tuples(st.text(max_size=12), st.sampled_from(["city", "市", "town", "bogus", ""]),
                    st.one_of(st.text(alphabet="0123456789０１", max_size=8), st.text(max_size=6)),
                    st.sampled_from(["member", "会員", "associate", "x", ""]))
    bad_row = st.tuples(st.text(max_size=12), st.sampled_from(["bogus", "", "県市"]), st.just("123"), st.just("z"))
    n = [0]

    @settings(max_examples=examples, **SETTINGS)
    @given(header, st.lists(row, max_size=6), bad_row, st.integers(0, 6), st.booleans(), st.binary(max_size=30))
    def prop(head, rows, bad, at, binary, noise):
        lines = [head] + [",".join(r) for r in rows]
        lines.insert(min(at, len(lines)) if head else 0, ",".join(bad))
        data = ("\r\n".join(lines)).encode("utf-8")
        if binary:
            data = b"\xff\xfe" + noise + data
        n[0] += 1
        f = d / f"m{n[0]}.csv"
        f.write_bytes(data)
        h.refuse("members", "import", str(f))

    prop()
    h.done(examples)


# --- import-report ----------------------------------------------------------------------------------

def short_report() -> list[str]:
    from importlib import resources

    text = resources.files("kyogikai").joinpath("data", "demo_fy2023_report.txt").read_text(encoding="utf-8")
    return text.splitlines()[:48]


@st.composite
def garbled_report(draw) -> bytes:
    """A report made invalid: garbage lines, impossible dates, rule-breaking entries, binary noise."""
    lines = list(short_report())
    entries = [i for i, line in enumerate(lines) if line.startswith("・") and "（令和" in line]
    kind = draw(st.integers(0, 8))
    if kind == 0:                                      # a line the parser cannot place
        junk_line = "@@@" + draw(st.text(alphabet=string.ascii_letters + string.digits + " #$%&", max_size=30))
        lines.insert(draw(st.integers(1, len(lines))), junk_line)
    elif kind == 1:                                    # a date that does not exist
        i = draw(st.sampled_from(entries))
        lines[i] = lines[i].split("（")[0] + f"（令和5年{draw(st.integers(2, 2))}月{draw(st.integers(30, 31))}日、Web会議）"
    elif kind == 2:                                    # an entry before any section
        lines.insert(1, "・第1回幹事会（令和5年5月24日、Web会議）" + draw(st.text(alphabet="ab", max_size=3)))
    elif kind == 3:                                    # random text, maybe binary
        return draw(st.one_of(st.binary(max_size=200), st.text(alphabet=string.printable, max_size=300).map(str.encode)))
    elif kind == 4:                                    # a title beyond the limit (a rule, after parsing)
        i = draw(st.sampled_from(entries))
        lines[i] = "・" + "長" * draw(st.integers(501, 1500)) + "（令和5年10月30日、Web会議）"
    elif kind == 5:                                    # a control character in a title
        i = draw(st.sampled_from(entries))
        lines[i] = "・研修" + draw(CONTROL) + "会（令和5年10月30日、Web会議）"
    elif kind == 6:                                    # an ordinal beyond the limit
        i = draw(st.sampled_from(entries))
        lines[i] = f"・第{draw(st.integers(10000, 10**12))}回研修（令和5年10月30日、Web会議）"
    elif kind == 7:                                    # not UTF-8
        return "\n".join(lines).encode("utf-8").replace("令和".encode(), b"\x81\x97", 1)
    else:                                              # truncated: the file ends inside an entry line
        i = draw(st.sampled_from(entries))
        return "\n".join(lines[:i] + [lines[i][:draw(st.integers(1, len(lines[i]) - 2))]]).encode("utf-8")
    return ("\n".join(lines) + "\n").encode("utf-8")


@pytest.mark.parametrize("examples", sizes(40, 300))
def test_garbled_report_files(store, tmp_path_factory, examples):
    h = Harness(store["db"], "import-report files")
    d = tmp_path_factory.mktemp("reports")
    n = [0]

    @settings(max_examples=examples, **SETTINGS)
    @given(garbled_report())
    def prop(data):
        n[0] += 1
        f = d / f"r{n[0]}.txt"
        f.write_bytes(data)
        h.refuse("import-report", str(f), problem_prefix=f"{f}:")

    prop()
    h.done(examples)


def test_truncated_report_is_refused_whole(store, tmp_path):
    """A file cut inside an entry line (at every position of every entry) cannot be placed: refused whole."""
    from kyogikai.report.importer import ImportRefused, import_report_text

    lines = short_report()
    entries = [i for i, line in enumerate(lines) if line.startswith("・") and "（令和" in line]
    tried = 0
    from kyogikai.app import Kyogikai

    with Kyogikai(store["db"], "攻撃者") as app:
        before = app.store.max_position()
        for i in entries:
            for cut in range(1, len(lines[i]) - 1):
                with pytest.raises(ImportRefused) as refused:
                    import_report_text(app, "\n".join(lines[:i] + [lines[i][:cut]]))
                assert refused.value.problems[-1].line == i + 1
                tried += 1
        assert app.store.max_position() == before
    assert tried > 200
    f = tmp_path / "cut.txt"
    f.write_text("\n".join(lines[:entries[-1]] + [lines[entries[-1]][:12]]), encoding="utf-8")
    h = Harness(store["db"], "truncated report files")
    assert "undated entry (a line cut short?)" in h.refuse("import-report", str(f), problem_prefix=f"{f}:")
    TRIED["truncated report files"] = tried + 1


def test_only_cr_and_lf_end_report_lines(store, tmp_path):
    """A separator control character inside an entry (FS, VT, NEL, U+2028 — line breaks to Python's
    splitlines) neither splits the line into two plausible entries nor reaches the store raw: the
    whitespace controls fold into a space, U+2028/U+2029 (invisible in one-line texts) are refused."""
    lines = short_report()
    i = next(i for i, line in enumerate(lines) if line.startswith("・") and "（令和" in line)
    for sep in ("\u2028", "\u2029"):
        lines[i] = f"・研修{sep}会（令和5年10月30日、Web会議）"
        f = tmp_path / "r.txt"
        f.write_text("\n".join(lines) + "\n", encoding="utf-8")
        db = str(tmp_path / f"s{ord(sep)}.sqlite")
        r = CLI(db)("import-report", str(f), expect=2)
        assert f"U+{ord(sep):04X}" in r.err and r.err.splitlines()[-1].startswith("error: "), r.err
        assert Harness(db, "separators").count() == 0
    for sep in ("\x1c", "\x0b", "\x85"):
        lines[i] = f"・研修{sep}会（令和5年10月30日、Web会議）"
        f = tmp_path / "r.txt"
        f.write_text("\n".join(lines) + "\n", encoding="utf-8")
        db = str(tmp_path / f"s{ord(sep)}.sqlite")
        r = CLI(db)("import-report", str(f))
        assert r.err == "", r.err
        titles = {m["title"] for m in CLI(db)("meetings", "--json").json()}
        assert "研修 会" in titles and "会" not in titles and "研修" not in titles


@pytest.mark.parametrize("examples", sizes(30, 150))
def test_garbled_log_files(tmp_path_factory, examples):
    d = tmp_path_factory.mktemp("logs")
    db = str(d / "empty.sqlite")
    CLI(db)("log")                      # an empty store
    h = Harness(db, "import-log files")
    n = [0]

    @settings(max_examples=examples, **SETTINGS)
    @given(st.one_of(st.binary(max_size=300), st.lists(st.text(max_size=60), max_size=5).map(
        lambda xs: "\n".join(['{"kyogikai_log":1}', *xs]).encode())))
    def prop(data):
        n[0] += 1
        f = d / f"l{n[0]}.jsonl"
        f.write_bytes(data)
        h.refuse("import-log", str(f))

    prop()
    h.done(examples)


def test_zz_inputs_tried(request):
    """The count of inputs this run tried (printed with -s); every property test ran its full size."""
    print(f"hostile inputs tried: {sum(TRIED.values())} — " + ", ".join(f"{k}: {v}" for k, v in TRIED.items()))
