"""Japanese era dates, periods, fiscal years and rest days (pure functions, no I/O).

Decisions:

* Eras (``ERAS``) start on their real Gregorian dates: 明治 1868-10-23, 大正 1912-07-30,
  昭和 1926-12-25, 平成 1989-01-08, 令和 2019-05-01; an era ends the day before the next one
  starts.  All dates are proleptic Gregorian (明治1-5年 are *not* converted from the old
  lunisolar calendar).  Year 1 is written 元年 and 1 is accepted when parsing.  An era date
  outside its era (平成32年, 令和1年4月1日) is an error, never silently converted.
* An era *month* (平成元年1月, 昭和64年1月) is valid when any day of it lies in the era;
  formatting uses the era in force on the 1st of the month.
* A fiscal year (年度) runs 1 April to 31 March and is named after the year it starts in.
  ``format_fiscal_year`` and ``format_era_year(int)`` use the era in force on 1 April, so
  2019 is 平成31年度 (not 令和元年度).  ``parse_fiscal_year`` accepts both names for FY2019.
* Periods are inclusive.  A short period end repeats only what changed (``～31日``,
  ``～10月5日``) and takes the era and era-year as *written* in the start.  A short end that
  falls before the start is an error: no year roll-over is guessed.
* ``-`` is never a range separator (it is the ISO date separator); ISO periods use ``～``,
  ``/`` or ``..`` between two ISO dates.
* ``rest_day`` knows Saturdays, Sundays and national holidays (the maintained ``jpholiday`` package, Japanese
  names); a holiday wins over the weekday name.  Office closures (年末年始) are not included.
"""

from __future__ import annotations

import calendar
import datetime
import re
import unicodedata
from dataclasses import dataclass
from typing import NamedTuple

from .i18n import N_, M

__all__ = [
    "DAY", "ERAS", "FAR_FISCAL_YEARS", "MONTH", "WEEKDAYS_JA", "DateError", "Era", "Period", "era_of", "far_from_today",
    "fiscal_year", "fiscal_year_range", "format_date", "format_era_year", "format_fiscal_year",
    "format_month", "format_period", "normalize", "parse_date", "parse_fiscal_year",
    "parse_period", "parse_time", "rest_day",
]

DAY = "day"
MONTH = "month"
WEEKDAYS_JA = "月火水木金土日"
_MONTH_NAMES = ("", N_("January"), N_("February"), N_("March"), N_("April"), N_("May"), N_("June"), N_("July"),
                N_("August"), N_("September"), N_("October"), N_("November"), N_("December"))


class DateError(ValueError):
    """A date, period, time or fiscal year that cannot be parsed or is invalid."""


class Era(NamedTuple):
    name: str
    start: datetime.date
    letter: str


ERAS: tuple[Era, ...] = (
    Era("明治", datetime.date(1868, 10, 23), "M"),
    Era("大正", datetime.date(1912, 7, 30), "T"),
    Era("昭和", datetime.date(1926, 12, 25), "S"),
    Era("平成", datetime.date(1989, 1, 8), "H"),
    Era("令和", datetime.date(2019, 5, 1), "R"),
)
_BY_KEY = {e.name: e for e in ERAS} | {e.letter: e for e in ERAS}


class _Invalid(Exception):
    """Internal: the reason a well-formed text is not a valid date."""


def _q(text: object) -> str:
    s = repr(text)
    return s if len(s) <= 80 else s[:77] + "...'"


def _era_end(era: Era) -> datetime.date | None:
    i = ERAS.index(era)
    return ERAS[i + 1].start - datetime.timedelta(days=1) if i + 1 < len(ERAS) else None


# the last year a date may fall in: far enough for any plan, and far from the calendar's end (9999),
# so that the day after, a fiscal year's end or a holiday look-up never overflows
LAST_YEAR = 2999


def _ymd(y: int, m: int, d: int) -> datetime.date:
    if not 1 <= y <= LAST_YEAR:
        raise _Invalid(M("year {year} is out of range (days up to {last}-12-31)", year=y, last=LAST_YEAR))
    if not 1 <= m <= 12:
        raise _Invalid(M("month {month} is out of range 1-12", month=m))
    n = calendar.monthrange(y, m)[1]
    if not 1 <= d <= n:
        raise _Invalid(M("{month_name} {year} has {days} days", month_name=M(_MONTH_NAMES[m]), year=y, days=n) if d > n
                       else M("day {day} does not exist", day=d))
    return datetime.date(y, m, d)


def _month_end(d: datetime.date) -> datetime.date:
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


def _era_year(era: Era, n: int) -> int:
    if n < 1:
        raise _Invalid(M("{era} year {n} does not exist", era=era.name, n=n))
    return era.start.year + n - 1


def _check_in_era(era: Era, first: datetime.date, last: datetime.date, what: M) -> None:
    end = _era_end(era)
    if last < era.start:
        raise _Invalid(M("{era} began on {start} ({detail})", era=era.name, start=era.start.isoformat(), detail=what))
    if end is not None and first > end:
        raise _Invalid(M("{era} ended on {end} ({detail})", era=era.name, end=end.isoformat(), detail=what))


def _era_day(era: Era, n: int, m: int, d: int) -> datetime.date:
    day = _ymd(_era_year(era, n), m, d)
    _check_in_era(era, day, day, M("{date} is {era_date}", date=day.isoformat(), era_date=format_date(day))
                  if day >= ERAS[0].start else M("{date} is before 明治", date=day.isoformat()))
    return day


def _era_month(era: Era, n: int, m: int) -> tuple[datetime.date, datetime.date]:
    first = _ymd(_era_year(era, n), m, 1)
    _check_in_era(era, first, _month_end(first), M("{month} is outside it", month=first.strftime("%Y-%m")))
    return first, _month_end(first)


def era_of(d: datetime.date) -> tuple[str, int]:
    """The era name and era year of a date: ``era_of(date(2023, 5, 24)) == ('令和', 5)``."""
    for era in reversed(ERAS):
        if d >= era.start:
            return era.name, d.year - era.start.year + 1
    raise DateError(M("date {date!r} is before the 明治 era (1868-10-23)", date=d.isoformat()))


def normalize(text: str) -> str:
    """NFKC (full-width digits, letters and spaces to ASCII), every tilde/wave dash to '～', strip.

    Hyphens are left alone: '-' is a date separator, never a range separator.
    """
    s = unicodedata.normalize("NFKC", text)
    return re.sub(r"[~〜∼〰⁓～]", "～", s).strip()


def _compact(text: object, what: str) -> str:
    if not isinstance(text, str):
        raise DateError(M("malformed {what} {text}: expected a string", what=M(what), text=_q(text)))
    return re.sub(r"\s+", "", normalize(text))


_ERA = "(" + "|".join(e.name for e in ERAS) + r")(元|[0-9]{1,3})年"
_RE = {k: re.compile(v, re.ASCII | re.IGNORECASE) for k, v in {
    "era_day": _ERA + r"([0-9]{1,2})月([0-9]{1,2})日",
    "era_month": _ERA + r"([0-9]{1,2})月",
    "abbr": r"([MTSHR])([0-9]{1,3})([./-])([0-9]{1,2})\3([0-9]{1,2})",
    "iso_day": r"([0-9]{4})([-/])([0-9]{1,2})\2([0-9]{1,2})",
    "iso_month": r"([0-9]{4})-([0-9]{1,2})",
    "iso_range": r"([0-9]{4}-[0-9]{1,2}(?:-[0-9]{1,2})?)(?:/|\.\.)([0-9]{4}-[0-9]{1,2}(?:-[0-9]{1,2})?)",
    "md": r"([0-9]{1,2})月([0-9]{1,2})日",
    "d": r"([0-9]{1,2})日",
    "m": r"([0-9]{1,2})月",
}.items()}


def _num(s: str) -> int:
    return 1 if s == "元" else int(s)


_WEEKDAY = re.compile(r"(.+?)(?:\(([月火水木金土日])(?:曜日?)?\)|([月火水木金土日])曜日)")


def _weekday_split(s: str) -> tuple[str, str | None]:
    """A date text without its weekday suffix (（木）, (木), (木曜), 木曜日), and the weekday written."""
    if w := _WEEKDAY.fullmatch(s):
        return w[1], w[2] or w[3]
    return s, None


def _check_weekday(d: datetime.date, written: str | None) -> datetime.date:
    """A weekday written after a date is checked against it: a wrong one names the right one."""
    if written is not None and written != (actual := WEEKDAYS_JA[d.weekday()]):
        raise _Invalid(M("{era_date} ({date}) is a {actual}曜日, not a {written}曜日", era_date=format_date(d),
                         date=d.isoformat(), actual=actual, written=written))
    return d


def _day(s: str) -> datetime.date | None:
    """A full date in any accepted form, None if ``s`` has no such form.

    A weekday written after the date — ``（木）``, ``(木)``, ``(木曜)``, ``木曜日`` — is checked
    against the date (so a typo in the day shows at once).
    """
    text, written = _weekday_split(s)
    d = _plain_day(text)
    return None if d is None else _check_weekday(d, written)


def _plain_day(s: str) -> datetime.date | None:
    if m := _RE["era_day"].fullmatch(s):
        return _era_day(_BY_KEY[m[1]], _num(m[2]), int(m[3]), int(m[4]))
    if m := _RE["abbr"].fullmatch(s):
        return _era_day(_BY_KEY[m[1].upper()], int(m[2]), int(m[4]), int(m[5]))
    if m := _RE["iso_day"].fullmatch(s):
        return _ymd(int(m[1]), int(m[3]), int(m[4]))
    return None


def _month(s: str) -> tuple[datetime.date, datetime.date, Era, int] | None:
    """A full month (first day, last day, era and era year as written), None if no such form."""
    if m := _RE["era_month"].fullmatch(s):
        era, n = _BY_KEY[m[1]], _num(m[2])
        return (*_era_month(era, n, int(m[3])), era, n)
    if m := _RE["iso_month"].fullmatch(s):
        first = _ymd(int(m[1]), int(m[2]), 1)
        name, n = era_of(first)
        return first, _month_end(first), _BY_KEY[name], n
    return None


def parse_date(text: str) -> datetime.date:
    """Parse 令和5年5月24日, 令和元年5月1日, R5.5.24, H31/4/30, 2023-05-24 or 2023/5/24."""
    s = _compact(text, N_("date"))
    try:
        d = _day(s)
    except _Invalid as e:
        raise DateError(M("invalid date {text}: {reason}", text=_q(text), reason=e.args[0])) from None
    if d is None:
        raise DateError(M("malformed date {text}: expected an era date such as 令和5年5月24日 or ISO 2023-05-24",
                          text=_q(text)))
    return d


@dataclass(frozen=True, order=True)
class Period:
    """An inclusive range of days; MONTH precision spans whole months."""

    start: datetime.date
    end: datetime.date
    precision: str = DAY

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            v = getattr(self, name)
            if not isinstance(v, datetime.date) or isinstance(v, datetime.datetime):
                raise TypeError(f"Period.{name} must be a datetime.date, got {type(v).__name__}")
        if self.precision not in (DAY, MONTH):
            raise DateError(M("invalid precision {precision!r}: expected 'day' or 'month'", precision=self.precision))
        if self.end < self.start:
            raise DateError(M("end {end} is before start {start}", end=self.end.isoformat(), start=self.start.isoformat()))
        if self.precision == MONTH and (self.start.day != 1 or self.end != _month_end(self.end)):
            raise DateError(M("month period {start}..{end} must start on the 1st and end on the last day of a month",
                              start=self.start.isoformat(), end=self.end.isoformat()))

    @classmethod
    def of(cls, start: datetime.date, end: datetime.date | None = None,
           precision: str = DAY) -> Period:
        """A period from ``start`` to ``end`` (default: ``start``).

        With MONTH precision, start is moved to the 1st of its month and end to the last day.
        """
        end = start if end is None else end
        if precision == MONTH:
            start, end = start.replace(day=1), _month_end(end)
        return cls(start, end, precision)

    @classmethod
    def month(cls, year: int, month: int, end_year: int | None = None,
              end_month: int | None = None) -> Period:
        """Whole months from year/month to end_year/end_month (each defaulting to the start)."""
        try:
            first = _ymd(year, month, 1)
            last = _ymd(year if end_year is None else end_year,
                        month if end_month is None else end_month, 1)
        except _Invalid as e:
            raise DateError(M("invalid month period {year}-{month}: {reason}", year=year, month=month,
                              reason=e.args[0])) from None
        return cls(first, _month_end(last), MONTH)

    @property
    def is_single_day(self) -> bool:
        return self.precision == DAY and self.start == self.end

    @property
    def days(self) -> int:
        """Number of days, inclusive."""
        return (self.end - self.start).days + 1

    @property
    def fiscal_year(self) -> int:
        return fiscal_year(self.start)


def _era_key(d: datetime.date) -> tuple[Era, int]:
    name, n = era_of(d)
    return _BY_KEY[name], n


def _split(s: str) -> list[str]:
    if "～" in s:
        return s.split("～")
    if m := _RE["iso_range"].fullmatch(s):
        return [m[1], m[2]]
    return [s]


def parse_period(text: str) -> Period:
    """Parse a date, a period of days or a period of months (see the module docstring)."""
    s = _compact(text, N_("period"))
    malformed = DateError(M("malformed period {text}: expected a date, a period such as 令和5年9月28日～10月5日, "
                            "or months such as 令和5年7月～11月", text=_q(text)))
    parts = _split(s)
    if len(parts) > 2 or not all(parts):
        raise malformed
    try:
        if (start := _day(parts[0])) is not None:
            if len(parts) == 1:
                return Period(start, start)
            e = parts[1]
            if (end := _day(e)) is None:
                e, written = _weekday_split(e)
                if m := _RE["md"].fullmatch(e):
                    end = _check_weekday(_era_day(*_era_key(start), int(m[1]), int(m[2])), written)
                elif m := _RE["d"].fullmatch(e):
                    end = _check_weekday(_era_day(*_era_key(start), start.month, int(m[1])), written)
                elif _RE["m"].fullmatch(e) or _RE["era_month"].fullmatch(e) \
                        or _RE["iso_month"].fullmatch(e):
                    raise _Invalid(M("the start is a day but the end is a month"))
                else:
                    raise malformed
            return Period(start, end)
        if (first := _month(parts[0])) is not None:
            start, last, sera, sn = first
            if len(parts) == 1:
                return Period(start, last, MONTH)
            e = parts[1]
            if (end_m := _month(e)) is not None:
                last = end_m[1]
            elif m := _RE["m"].fullmatch(e):
                last = _era_month(sera, sn, int(m[1]))[1]
            elif any(_RE[k].fullmatch(e) for k in ("era_day", "abbr", "iso_day", "md", "d")):
                raise _Invalid(M("the start is a month but the end is a day"))
            else:
                raise malformed
            return Period(start, last, MONTH)
        raise malformed
    except (_Invalid, DateError) as e:
        if e is malformed:
            raise
        raise DateError(M("invalid period {text}: {reason}", text=_q(text), reason=e.args[0])) from None


_TIME = re.compile(r"(午前|午後)?(?:([0-9]{1,2}):([0-9]{2})|([0-9]{1,2})時(?:([0-9]{1,2})分|(半))?)", re.ASCII)


def parse_time(text: str) -> datetime.time:
    """Parse '14:00', '9:30', '14時', '14時30分', '14時半', '午後2時', '午前10時30分', '午後2:30'.

    Full-width digits are allowed.  With 午前/午後 the hour is 0-12 on the 12-hour clock
    (午前0時 is midnight, 午後0時 noon; 午後12時 is read as noon too, as people write it, and
    午前12時 as midnight); without, 0-23.
    """
    s = _compact(text, N_("time"))
    m = _TIME.fullmatch(s)
    if not m:
        raise DateError(M("malformed time {text}: expected a time such as 14:00, 14時30分 or 午後2時", text=_q(text)))
    hour = int(m[2] or m[4])
    minute = 30 if m[6] else int(m[3] or m[5] or 0)
    if m[1]:
        if hour > 12 or minute > 59:
            raise DateError(M("invalid time {text}: with 午前/午後 the hour must be 0-12 and minute 0-59", text=_q(text)))
        hour = hour % 12 + (12 if m[1] == "午後" else 0)
    if hour > 23 or minute > 59:
        raise DateError(M("invalid time {text}: hour must be 0-23 and minute 0-59", text=_q(text)))
    return datetime.time(hour, minute)


def _era_year_text(name: str, n: int) -> str:
    return f"{name}{'元' if n == 1 else n}年"


def format_era_year(year_or_date: int | datetime.date) -> str:
    """Era and era year: a date gives its own era ('令和元年' for 2019-05-01); a Gregorian
    year (int) uses the era in force on 1 April of it (fiscal-year convention: 2019 -> '平成31年')."""
    d = year_or_date if isinstance(year_or_date, datetime.date) else datetime.date(year_or_date, 4, 1)
    return _era_year_text(*era_of(d))


def format_date(d: datetime.date) -> str:
    """'令和5年5月24日', '令和元年5月1日', '平成31年4月30日'."""
    return f"{_era_year_text(*era_of(d))}{d.month}月{d.day}日"


def format_month(year: int, month: int) -> str:
    """'令和5年7月'; the era is the one in force on the 1st of the month."""
    if not 1 <= month <= 12:
        raise DateError(M("invalid month {year}-{month}: month {month} is out of range 1-12", year=year, month=month))
    return f"{_era_year_text(*era_of(datetime.date(year, month, 1)))}{month}月"


def format_period(p: Period) -> str:
    """Compact form as in the report; the end repeats only what changed since the start."""
    if p.precision == MONTH:
        s = format_month(p.start.year, p.start.month)
        if (p.start.year, p.start.month) == (p.end.year, p.end.month):
            return s
        if era_of(p.start) == era_of(p.end.replace(day=1)):
            return f"{s}～{p.end.month}月"
        return f"{s}～{format_month(p.end.year, p.end.month)}"
    s = format_date(p.start)
    if p.start == p.end:
        return s
    if era_of(p.start) == era_of(p.end):
        if p.start.month == p.end.month:
            return f"{s}～{p.end.day}日"
        return f"{s}～{p.end.month}月{p.end.day}日"
    return f"{s}～{format_date(p.end)}"


def fiscal_year(d: datetime.date) -> int:
    """The fiscal year (April..March) containing ``d``, named after the year it starts in."""
    return d.year if d.month >= 4 else d.year - 1


def fiscal_year_range(fy: int) -> tuple[datetime.date, datetime.date]:
    return datetime.date(fy, 4, 1), datetime.date(fy + 1, 3, 31)


def format_fiscal_year(fy: int) -> str:
    """2023 -> '令和5年度'; the era is the one in force on 1 April (2019 -> '平成31年度')."""
    return format_era_year(fy) + "度"


def parse_fiscal_year(text: str) -> int:
    """Parse '2023', 'FY2023', '2023年度', '令和5年度', '令和5', 'R5', 'R5年度' (both 平成31年度 and
    令和元年度 give 2019; the fiscal year must overlap the era)."""
    s = _compact(text, N_("fiscal year"))
    if m := re.fullmatch(r"(?:FY)?([0-9]{4})(?:年度?)?", s, re.ASCII | re.IGNORECASE):
        fy = int(m[1])
        if not ERAS[0].start.year <= fy < LAST_YEAR:
            raise DateError(M("invalid fiscal year {text}: fiscal years run from {first} to {last}", text=_q(text),
                              first=ERAS[0].start.year, last=LAST_YEAR - 1))
        return fy
    m = re.fullmatch(_ERA[:-1] + "(?:年度?)?", s, re.ASCII) or re.fullmatch(
        r"([MTSHR])([0-9]{1,3})(?:年度?)?", s, re.ASCII | re.IGNORECASE)
    if not m:
        raise DateError(M("malformed fiscal year {text}: expected 令和5年度, R5, FY2023 or 2023", text=_q(text)))
    era = _BY_KEY[m[1].upper()]
    try:
        fy = _era_year(era, _num(m[2]))
        if fy >= LAST_YEAR:
            raise _Invalid(M("fiscal year {fy} is after {last}", fy=fy, last=LAST_YEAR - 1))
        _check_in_era(era, *fiscal_year_range(fy), M("fiscal year {fy} is outside it", fy=fy))
    except _Invalid as e:
        raise DateError(M("invalid fiscal year {text}: {reason}", text=_q(text), reason=e.args[0])) from None
    return fy


FAR_FISCAL_YEARS = 2


def far_from_today(d: datetime.date, today: datetime.date) -> M | None:
    """A note when ``d`` lies more than FAR_FISCAL_YEARS fiscal years from ``today``'s, naming it
    in both calendars (an era typo — 平成 for 令和 — shows at once); None otherwise."""
    gap = fiscal_year(d) - fiscal_year(today)
    if abs(gap) <= FAR_FISCAL_YEARS:
        return None
    era = format_date(d) if d >= ERAS[0].start else "—"
    fy = format_fiscal_year(fiscal_year(d)) if d >= ERAS[0].start else str(fiscal_year(d))
    template = (N_("{date} ({era_date}) is in {fiscal_year} (FY{fy}), {gap} fiscal years after the current one "
                   "({current})") if gap > 0 else
                N_("{date} ({era_date}) is in {fiscal_year} (FY{fy}), {gap} fiscal years before the current one "
                   "({current})"))
    return M(template, date=d.isoformat(), era_date=era, fiscal_year=fy, fy=fiscal_year(d), gap=abs(gap),
             current=format_fiscal_year(fiscal_year(today)))


def _holiday_name(d: datetime.date) -> str | None:
    import jpholiday  # imported lazily (it is light, ~20 ms, but most commands never need it)

    return jpholiday.is_holiday_name(d)


def rest_day(d: datetime.date) -> str | None:
    """None on a working day, else '土曜日', '日曜日' or the national holiday's Japanese name."""
    name = _holiday_name(d)
    if name:
        return str(name)
    if d.weekday() >= 5:
        return WEEKDAYS_JA[d.weekday()] + "曜日"
    return None
