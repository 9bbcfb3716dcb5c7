"""Form fields parsed with the CLI's own parsers, each error in Japanese beside its field.

A :class:`Form` holds what was typed (shown again as typed when something is wrong) and the
errors by field name.  The parsing functions are those of the CLI (``dates.parse_period``,
``dates.parse_time``, ``formats.parse_format``), so a form accepts exactly what the command line
accepts: era dates, ``R5.5.24``, ISO, periods such as ``令和5年9月28日～10月5日``, months, full-width
digits, the report's format labels.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable, Mapping, TypeVar

from ... import dates
from ...dates import DateError, Period
from ...domain.formats import LABELS, Format, FormatError, parse_format
from . import messages

T = TypeVar("T")

DATE_HELP = "例: 令和5年5月24日、R5.5.24、2023-05-24、期間は 令和5年9月28日～10月5日"
FORMAT_CHOICES = [LABELS[f] for f in Format if f is not Format.OTHER]


class Form:
    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        self.values: dict[str, str] = {}
        for k, v in (data or {}).items():
            if isinstance(v, str) and k not in ("password", "password2", "current_password", "csrf_token"):
                self.values[k] = v
        self.errors: dict[str, str] = {}
        self.message: str | None = None

    def get(self, name: str) -> str:
        return (self.values.get(name) or "").strip()

    def error(self, field: str | None, text: str) -> None:
        if field:
            self.errors.setdefault(field, text)
        else:
            self.message = text

    def app_error(self, exc: BaseException, default_field: str | None = None, fields: tuple[str, ...] = ()) -> None:
        """An application error: the catalogue's Japanese (see :mod:`.messages`), beside its field when the form has it."""
        field, text = messages.translate(exc)
        if field not in fields:
            field = default_field if default_field in fields else None
        self.error(field, text)

    @property
    def ok(self) -> bool:
        return not self.errors and self.message is None

    def _parse(self, name: str, fn: Callable[[str], T], ja: str, required: bool) -> T | None:
        text = self.get(name)
        if not text:
            if required:
                self.error(name, "入力してください。")
            return None
        try:
            return fn(text)
        except (DateError, FormatError, ValueError):
            self.error(name, ja)
            return None

    def period(self, name: str = "date", required: bool = True) -> Period | None:
        return self._parse(name, dates.parse_period, f"日付を読み取れません（{DATE_HELP}）。", required)

    def time(self, name: str) -> dt.time | None:
        return self._parse(name, dates.parse_time, "時刻を読み取れません（例: 14:00、14時30分）。", False)

    def format(self, name: str = "format", required: bool = True) -> tuple[Format | None, str | None]:
        r = self._parse(name, parse_format, "開催形式を読み取れません（例: " + "、".join(FORMAT_CHOICES) + "）。", required)
        return r if r is not None else (None, None)

    def integer(self, name: str, lo: int, hi: int, required: bool = False) -> int | None:
        def conv(text: str) -> int:
            n = int(dates.normalize(text) if hasattr(dates, "normalize") else text)
            if not lo <= n <= hi:
                raise ValueError
            return n
        return self._parse(name, conv, f"{lo}から{hi}までの整数を入力してください。", required)

    def text(self, name: str, required: bool = False, limit: int = 500) -> str | None:
        t = self.get(name)
        if not t:
            if required:
                self.error(name, "入力してください。")
            return None
        if len(t) > limit:
            self.error(name, f"{limit}文字までにしてください。")
            return None
        return t

    def lines(self, name: str) -> list[str]:
        return [ln.strip() for ln in (self.values.get(name) or "").splitlines() if ln.strip()]


def date_ja(d: dt.date | str | None) -> str:
    """``令和5年5月24日（水）``: the era date with its weekday."""
    if d is None:
        return ""
    if isinstance(d, str):
        d = dt.date.fromisoformat(d)
    return f"{dates.format_date(d)}（{dates.WEEKDAYS_JA[d.weekday()]}）"


def period_ja(start: str, end: str, precision: str) -> str:
    s, e = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    if precision != dates.DAY:
        return dates.format_period(Period(s, e, precision))
    if s == e:
        return date_ja(s)
    return f"{date_ja(s)}～{date_ja(e)}"


def rest_day_warning(period: Period | None, fmt: Format | None) -> str | None:
    """The CLI's warning, in Japanese: a one-day meeting on a weekend or national holiday."""
    if period is None or not period.is_single_day or fmt is Format.WRITTEN:
        return None
    why = dates.rest_day(period.start)
    if why:
        return f"{date_ja(period.start)}は{why}です（土日・祝日）。このまま登録しました。日付に誤りがないか確認してください。"
    return None
