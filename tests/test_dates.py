"""Tests for kyogikai.dates: era dates, periods, fiscal years, rest days."""

from __future__ import annotations

import datetime as dt
import sys

import pytest
from hypothesis import given, strategies as st

from kyogikai.dates import (
    DAY, ERAS, MONTH, WEEKDAYS_JA, DateError, Period, era_of, fiscal_year, fiscal_year_range,
    format_date, format_era_year, format_fiscal_year, format_month, format_period, normalize,
    parse_date, parse_fiscal_year, parse_period, parse_time, rest_day,
)

D = dt.date


# --- normalize ---------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("  令和５年５月２４日\u3000", "令和5年5月24日"),
    ("5月2日～12日", "5月2日～12日"),
    ("5月2日〜12日", "5月2日～12日"),
    ("5月2日~12日", "5月2日～12日"),
    ("5月2日∼12日", "5月2日～12日"),
    ("5月2日〰12日", "5月2日～12日"),
    ("2023-05-02", "2023-05-02"),       # '-' is not a range separator
    ("ＦＹ２０２３", "FY2023"),
])
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected
    assert normalize(expected) == expected


# --- parse_date ----------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("令和5年5月24日", D(2023, 5, 24)),
    ("令和5年6月2日", D(2023, 6, 2)),
    ("令和6年1月10日", D(2024, 1, 10)),
    ("令和 6 年 3 月 12 日", D(2024, 3, 12)),
    ("令和 5 年 5 月 2 日", D(2023, 5, 2)),
    ("令和5年05月02日", D(2023, 5, 2)),
    ("令和５年１０月２０日", D(2023, 10, 20)),
    ("令和元年5月1日", D(2019, 5, 1)),
    ("令和1年5月1日", D(2019, 5, 1)),
    ("平成31年4月30日", D(2019, 4, 30)),
    ("平成元年1月8日", D(1989, 1, 8)),
    ("昭和64年1月7日", D(1989, 1, 7)),
    ("昭和元年12月25日", D(1926, 12, 25)),
    ("大正15年12月24日", D(1926, 12, 24)),
    ("大正元年7月30日", D(1912, 7, 30)),
    ("明治45年7月29日", D(1912, 7, 29)),
    ("明治元年10月23日", D(1868, 10, 23)),
    ("R5.5.24", D(2023, 5, 24)),
    ("R05.05.24", D(2023, 5, 24)),
    ("r5/5/24", D(2023, 5, 24)),
    ("R5-5-24", D(2023, 5, 24)),
    ("H31.4.30", D(2019, 4, 30)),
    ("S64.1.7", D(1989, 1, 7)),
    ("T15.12.24", D(1926, 12, 24)),
    ("M45.7.29", D(1912, 7, 29)),
    ("Ｒ５．５．２４", D(2023, 5, 24)),
    ("2023-05-24", D(2023, 5, 24)),
    ("2023/5/24", D(2023, 5, 24)),
    ("２０２３－０５－２４", D(2023, 5, 24)),
    (" 2024-02-29 ", D(2024, 2, 29)),
])
def test_parse_date(text: str, expected: dt.date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize("text, fragment", [
    ("令和5年2月30日", "February 2023 has 28 days"),
    ("令和5年13月1日", "month 13 is out of range"),
    ("令和5年4月0日", "day 0 does not exist"),
    ("2023-02-29", "February 2023 has 28 days"),
    ("令和1年4月1日", "令和 began on 2019-05-01"),
    ("令和元年4月30日", "令和 began on 2019-05-01"),
    ("平成31年5月1日", "平成 ended on 2019-04-30"),
    ("平成32年1月1日", "平成 ended on 2019-04-30"),
    ("昭和64年1月8日", "昭和 ended on 1989-01-07"),
    ("平成元年1月7日", "平成 began on 1989-01-08"),
    ("令和0年5月1日", "令和 year 0 does not exist"),
    ("H32.1.1", "平成 ended"),
])
def test_parse_date_invalid(text: str, fragment: str) -> None:
    with pytest.raises(DateError) as ei:
        parse_date(text)
    msg = str(ei.value)
    assert msg.startswith(f"invalid date '{text}': ") and fragment in msg and "\n" not in msg


@pytest.mark.parametrize("text", [
    "令和五年", "令和五年五月二日", "令和5年5月", "5月24日", "令和5年5月24", "X5.5.24", "R5.5-24",
    "2023-05", "20230524", "", "   ", "令和5年5月24日～31日", "昨日", "2023-05-24T10:00",
])
def test_parse_date_malformed(text: str) -> None:
    with pytest.raises(DateError, match=r"^malformed date .*expected an era date such as "
                                        r"令和5年5月24日 or ISO 2023-05-24$"):
        parse_date(text)


def test_parse_date_error_is_value_error_and_one_line() -> None:
    with pytest.raises(ValueError):
        parse_date("令和5年\n5月")
    with pytest.raises(DateError) as ei:
        parse_date("令和5年\n5月")
    assert "\n" not in str(ei.value)
    with pytest.raises(DateError):
        parse_date(None)  # type: ignore[arg-type]


# --- parse_period ----------------------------------------------------------------------------

@pytest.mark.parametrize("text, start, end", [
    # exact strings from the reference report
    ("令和5年6月21日～7月6日", D(2023, 6, 21), D(2023, 7, 6)),
    ("令和6年1月10日", D(2024, 1, 10), D(2024, 1, 10)),
    ("令和5年10月30日～31日", D(2023, 10, 30), D(2023, 10, 31)),
    ("令和5年11月7日", D(2023, 11, 7), D(2023, 11, 7)),
    ("令和5年7月20日～8月4日", D(2023, 7, 20), D(2023, 8, 4)),
    ("令和5年10月16日～19日", D(2023, 10, 16), D(2023, 10, 19)),
    ("令和6年3月21日～26日", D(2024, 3, 21), D(2024, 3, 26)),
    ("令和5年9月28日～10月5日", D(2023, 9, 28), D(2023, 10, 5)),
    ("令和5年8月1日～10日", D(2023, 8, 1), D(2023, 8, 10)),
    ("令和5年12月25日～令和6年1月10日", D(2023, 12, 25), D(2024, 1, 10)),
    ("令和6年2月14日～19日", D(2024, 2, 14), D(2024, 2, 19)),
    ("令和 5 年 5 月 2 日～12 日", D(2023, 5, 2), D(2023, 5, 12)),
    ("令和 5 年 9 月 26 日～10 月 3 日", D(2023, 9, 26), D(2023, 10, 3)),
    ("令和 6 年 3 月 12 日", D(2024, 3, 12), D(2024, 3, 12)),
    ("令和 5 年 10 月 4 日～10 月 16 日", D(2023, 10, 4), D(2023, 10, 16)),
    ("令和 5 年 4 月 27 日～5 月 11 日", D(2023, 4, 27), D(2023, 5, 11)),
    ("令和5年11月22日～12月1日", D(2023, 11, 22), D(2023, 12, 1)),
    ("令和6年3月1日～3月8日", D(2024, 3, 1), D(2024, 3, 8)),
    # other forms
    ("令和5年5月2日 〜 12日", D(2023, 5, 2), D(2023, 5, 12)),
    ("令和5年5月2日~12日", D(2023, 5, 2), D(2023, 5, 12)),
    ("令和５年５月２日∼１２日", D(2023, 5, 2), D(2023, 5, 12)),
    ("令和5年5月2日～2023-05-12", D(2023, 5, 2), D(2023, 5, 12)),
    ("令和5年5月2日～5月2日", D(2023, 5, 2), D(2023, 5, 2)),
    ("R5.12.25～R6.1.10", D(2023, 12, 25), D(2024, 1, 10)),
    ("2023-05-02～2023-05-12", D(2023, 5, 2), D(2023, 5, 12)),
    ("2023-05-02/2023-05-12", D(2023, 5, 2), D(2023, 5, 12)),
    ("2023-05-02..2023-05-12", D(2023, 5, 2), D(2023, 5, 12)),
    ("2023/5/24", D(2023, 5, 24), D(2023, 5, 24)),
    ("平成31年4月25日～令和元年5月10日", D(2019, 4, 25), D(2019, 5, 10)),
    ("昭和64年1月5日～平成元年1月10日", D(1989, 1, 5), D(1989, 1, 10)),
])
def test_parse_period_days(text: str, start: dt.date, end: dt.date) -> None:
    p = parse_period(text)
    assert p == Period(start, end, DAY)
    assert p.precision == DAY


@pytest.mark.parametrize("text, start, end", [
    ("令和5年7月～11月", D(2023, 7, 1), D(2023, 11, 30)),
    ("令和5年7月", D(2023, 7, 1), D(2023, 7, 31)),
    ("令和5年12月～令和6年2月", D(2023, 12, 1), D(2024, 2, 29)),
    ("令和5年7月～令和5年11月", D(2023, 7, 1), D(2023, 11, 30)),
    ("令和 5 年 7 月 〜 11 月", D(2023, 7, 1), D(2023, 11, 30)),
    ("2023-07", D(2023, 7, 1), D(2023, 7, 31)),
    ("2023-07～2023-11", D(2023, 7, 1), D(2023, 11, 30)),
    ("2023-07..2023-11", D(2023, 7, 1), D(2023, 11, 30)),
    ("平成元年1月～3月", D(1989, 1, 1), D(1989, 3, 31)),   # era as written, not of the 1st
    ("昭和64年1月", D(1989, 1, 1), D(1989, 1, 31)),
    ("平成31年4月～令和元年6月", D(2019, 4, 1), D(2019, 6, 30)),
])
def test_parse_period_months(text: str, start: dt.date, end: dt.date) -> None:
    assert parse_period(text) == Period(start, end, MONTH)


@pytest.mark.parametrize("text, fragment", [
    ("令和5年12月25日～1月10日", "end 2023-01-10 is before start 2023-12-25"),
    ("令和5年10月30日～29日", "end 2023-10-29 is before start 2023-10-30"),
    ("令和6年2月～令和5年12月", "is before start"),
    ("2023-05-12/2023-05-02", "is before start"),
    ("令和5年7月1日～11月", "start is a day but the end is a month"),
    ("令和5年7月～11月5日", "start is a month but the end is a day"),
    ("令和5年10月30日～32日", "October 2023 has 31 days"),
    ("令和5年2月30日", "February 2023 has 28 days"),
    ("平成31年4月25日～5月10日", "平成 ended on 2019-04-30"),   # short end keeps the era
    ("平成31年4月～6月", "平成 ended on 2019-04-30"),
    ("平成32年4月", "平成 ended"),
])
def test_parse_period_invalid(text: str, fragment: str) -> None:
    with pytest.raises(DateError) as ei:
        parse_period(text)
    assert str(ei.value).startswith(f"invalid period '{text}': ")
    assert fragment in str(ei.value)


@pytest.mark.parametrize("text", [
    "", "令和5年～", "～令和5年5月2日", "令和5年5月2日～12日～15日", "令和5年5月2日-12日",
    "2023-05-02-2023-05-12", "令和5年", "令和五年七月", "いつか",
])
def test_parse_period_malformed(text: str) -> None:
    with pytest.raises(DateError, match="^malformed period"):
        parse_period(text)


# --- Period -----------------------------------------------------------------------------------

def test_period_basics() -> None:
    p = Period.of(D(2023, 9, 28), D(2023, 10, 5))
    assert p.days == 8 and not p.is_single_day and p.precision == DAY
    one = Period.of(D(2023, 5, 24))
    assert one.is_single_day and one.days == 1 and one.end == one.start
    assert Period.of(D(2024, 3, 31)).fiscal_year == 2023
    assert Period.of(D(2023, 7, 15), D(2023, 11, 3), MONTH) == Period(D(2023, 7, 1), D(2023, 11, 30), MONTH)
    m = Period.month(2023, 7)
    assert m == Period(D(2023, 7, 1), D(2023, 7, 31), MONTH) and not m.is_single_day
    assert Period.month(2023, 12, 2024, 2).end == D(2024, 2, 29)
    assert Period.month(2023, 7, end_month=11).days == 153
    assert Period.month(2024, 2).is_single_day is False
    assert sorted([Period.of(D(2023, 6, 1)), Period.of(D(2023, 5, 1))])[0].start == D(2023, 5, 1)
    with pytest.raises(AttributeError):
        p.start = D(2020, 1, 1)  # type: ignore[misc]


def test_period_validation() -> None:
    with pytest.raises(DateError, match="^end 2023-01-10 is before start 2023-12-25$"):
        Period(D(2023, 12, 25), D(2023, 1, 10))
    with pytest.raises(DateError, match="precision"):
        Period(D(2023, 1, 1), D(2023, 1, 2), "week")
    with pytest.raises(DateError, match="month"):
        Period(D(2023, 7, 2), D(2023, 7, 31), MONTH)
    with pytest.raises(DateError, match="month"):
        Period(D(2023, 7, 1), D(2023, 7, 30), MONTH)
    with pytest.raises(DateError):
        Period.month(2023, 13)
    with pytest.raises(TypeError):
        Period(dt.datetime(2023, 1, 1), D(2023, 1, 2))  # type: ignore[arg-type]


# --- weekdays written after a date ----------------------------------------------------------------

@pytest.mark.parametrize("text", ["令和5年6月1日（木）", "令和5年6月1日(木)", "令和5年6月1日 （木）", "令和5年6月1日木曜日",
                                  "令和5年6月1日(木曜)", "令和5年6月1日(木曜日)", "R5.6.1(木)", "2023-06-01（木）",
                                  "2023/6/1(木)"])
def test_weekday_suffix_accepted(text: str) -> None:
    assert parse_date(text) == D(2023, 6, 1)


@pytest.mark.parametrize("text, right", [("令和5年6月1日（金）", "木曜日"), ("令和5年6月2日(木)", "金曜日"),
                                         ("R5.6.1 水曜日", "木曜日"), ("2023-06-04（土）", "日曜日")])
def test_wrong_weekday_names_the_right_one(text: str, right: str) -> None:
    with pytest.raises(DateError, match=f"is a {right}"):
        parse_date(text)


def test_weekday_suffix_in_periods() -> None:
    assert parse_period("令和5年9月28日（木）～10月5日（木）") == Period(D(2023, 9, 28), D(2023, 10, 5))
    assert parse_period("令和5年9月28日(木)～30日(土)") == Period(D(2023, 9, 28), D(2023, 9, 30))
    assert parse_period("令和5年12月25日（月）～令和6年1月10日（水）") == Period(D(2023, 12, 25), D(2024, 1, 10))
    with pytest.raises(DateError, match="is a 木曜日, not a 金曜日"):
        parse_period("令和5年9月28日（木）～10月5日（金）")
    with pytest.raises(DateError, match="is a 木曜日, not a 水曜日"):
        parse_period("令和5年9月28日（水）～10月5日")
    with pytest.raises(DateError):
        parse_period("令和5年9月28日（木）（木）")


# --- parse_time --------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("14:00", dt.time(14, 0)), ("9:30", dt.time(9, 30)), ("09:05", dt.time(9, 5)),
    ("14時", dt.time(14)), ("14時30分", dt.time(14, 30)), ("１４：３０", dt.time(14, 30)),
    ("１０時", dt.time(10)), (" 0:00 ", dt.time(0, 0)), ("14 時 5 分", dt.time(14, 5)),
    ("14時半", dt.time(14, 30)), ("午後2時", dt.time(14)), ("午後２時３０分", dt.time(14, 30)),
    ("午前10時", dt.time(10)), ("午前9時半", dt.time(9, 30)), ("午後2:30", dt.time(14, 30)),
    ("午前0時", dt.time(0)), ("午後0時", dt.time(12)), ("午後12時", dt.time(12)), ("午前12時", dt.time(0)),
])
def test_parse_time(text: str, expected: dt.time) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize("text", ["24:00", "9:60", "14時61分", "9:5", "14", "", "午後13時", "午後2時60分",
                                  "正午", "14時半30分", "後2時"])
def test_parse_time_errors(text: str) -> None:
    with pytest.raises(DateError):
        parse_time(text)


# --- eras and formatting --------------------------------------------------------------------------

def test_eras_data() -> None:
    assert [e.name for e in ERAS] == ["明治", "大正", "昭和", "平成", "令和"]
    assert [e.letter for e in ERAS] == list("MTSHR")
    assert [e.start for e in ERAS] == sorted(e.start for e in ERAS)
    name, start, letter = ERAS[-1]
    assert (name, start, letter) == ("令和", D(2019, 5, 1), "R")


@pytest.mark.parametrize("d, era, text", [
    (D(2019, 4, 30), ("平成", 31), "平成31年4月30日"),
    (D(2019, 5, 1), ("令和", 1), "令和元年5月1日"),
    (D(1989, 1, 7), ("昭和", 64), "昭和64年1月7日"),
    (D(1989, 1, 8), ("平成", 1), "平成元年1月8日"),
    (D(1926, 12, 24), ("大正", 15), "大正15年12月24日"),
    (D(1926, 12, 25), ("昭和", 1), "昭和元年12月25日"),
    (D(1912, 7, 29), ("明治", 45), "明治45年7月29日"),
    (D(1912, 7, 30), ("大正", 1), "大正元年7月30日"),
    (D(2023, 5, 24), ("令和", 5), "令和5年5月24日"),
])
def test_era_boundaries(d: dt.date, era: tuple[str, int], text: str) -> None:
    assert era_of(d) == era
    assert format_date(d) == text
    assert parse_date(text) == d
    assert format_era_year(d) == text[: text.index("年") + 1]


def test_era_before_meiji() -> None:
    with pytest.raises(DateError):
        era_of(D(1868, 10, 22))
    with pytest.raises(DateError):
        format_date(D(1800, 1, 1))


def test_format_era_year_int_uses_1_april() -> None:
    assert format_era_year(2019) == "平成31年"
    assert format_era_year(2020) == "令和2年"
    assert format_era_year(2023) == "令和5年"
    assert format_era_year(1989) == "平成元年"
    assert format_era_year(D(2019, 5, 1)) == "令和元年"


def test_format_month() -> None:
    assert format_month(2023, 7) == "令和5年7月"
    assert format_month(2019, 5) == "令和元年5月"
    assert format_month(2019, 4) == "平成31年4月"
    assert format_month(1989, 1) == "昭和64年1月"
    with pytest.raises(DateError):
        format_month(2023, 13)


@pytest.mark.parametrize("text", [
    "令和5年5月24日", "令和5年10月30日～31日", "令和5年9月28日～10月5日",
    "令和5年12月25日～令和6年1月10日", "令和5年7月", "令和5年7月～11月", "令和5年12月～令和6年2月",
    "平成31年4月25日～令和元年5月10日", "平成31年4月～令和元年6月",
])
def test_format_period_canonical(text: str) -> None:
    assert format_period(parse_period(text)) == text


def test_format_period_normalises() -> None:
    assert format_period(parse_period("令和 5 年 10 月 4 日～10 月 16 日")) == "令和5年10月4日～16日"
    assert format_period(parse_period("2023-07～2023-11")) == "令和5年7月～11月"
    assert format_period(parse_period("2023-05-02/2023-05-12")) == "令和5年5月2日～12日"


_day_strategy = st.dates(min_value=D(1989, 1, 1), max_value=D(2030, 12, 31))


@given(_day_strategy, st.integers(min_value=0, max_value=800))
def test_round_trip_day_periods(start: dt.date, length: int) -> None:
    p = Period.of(start, start + dt.timedelta(days=length))
    assert parse_period(format_period(p)) == p


@given(_day_strategy, st.integers(min_value=0, max_value=30))
def test_round_trip_month_periods(start: dt.date, months: int) -> None:
    index = start.year * 12 + start.month - 1 + months
    p = Period.month(start.year, start.month, index // 12, index % 12 + 1)
    assert parse_period(format_period(p)) == p


@given(st.dates(min_value=D(1868, 10, 23), max_value=D(2200, 12, 31)))
def test_round_trip_dates(d: dt.date) -> None:
    assert parse_date(format_date(d)) == d
    assert parse_date(d.isoformat()) == d


# --- fiscal years ------------------------------------------------------------------------------------

@pytest.mark.parametrize("d, fy", [
    (D(2023, 4, 1), 2023), (D(2024, 3, 31), 2023), (D(2023, 3, 31), 2022),
    (D(2024, 4, 1), 2024), (D(2023, 12, 31), 2023), (D(2024, 1, 1), 2023),
])
def test_fiscal_year(d: dt.date, fy: int) -> None:
    assert fiscal_year(d) == fy


def test_fiscal_year_range_and_format() -> None:
    assert fiscal_year_range(2023) == (D(2023, 4, 1), D(2024, 3, 31))
    assert fiscal_year_range(2023)[1] + dt.timedelta(days=1) == fiscal_year_range(2024)[0]
    assert format_fiscal_year(2023) == "令和5年度"
    assert format_fiscal_year(2019) == "平成31年度"
    assert format_fiscal_year(2020) == "令和2年度"
    assert format_fiscal_year(1989) == "平成元年度"
    assert format_fiscal_year(1988) == "昭和63年度"


@pytest.mark.parametrize("text, fy", [
    ("2023", 2023), ("令和5年度", 2023), ("令和5", 2023), ("令和5年", 2023), ("R5", 2023),
    ("r5", 2023), ("FY2023", 2023), ("fy 2023", 2023), ("２０２３", 2023), ("令和５年度", 2023),
    ("ＦＹ２０２３", 2023), ("2023年度", 2023), ("平成31年度", 2019), ("令和元年度", 2019),
    ("H31", 2019), ("平成元年度", 1989), ("昭和63年度", 1988), ("R5年度", 2023), ("Ｒ５年度", 2023),
    ("r5年", 2023), ("H31年度", 2019),
])
def test_parse_fiscal_year(text: str, fy: int) -> None:
    assert parse_fiscal_year(text) == fy


@pytest.mark.parametrize("text", ["令和五年度", "", "FY23", "平成32年度", "昭和64年度", "令和0年度", "X5", "2023-24"])
def test_parse_fiscal_year_errors(text: str) -> None:
    with pytest.raises(DateError):
        parse_fiscal_year(text)


def test_report_dates_fall_in_fy2023() -> None:
    texts = ["令和5年6月21日～7月6日", "令和5年7月～11月", "令和5年12月25日～令和6年1月10日",
             "令和 6 年 3 月 12 日", "令和6年3月21日～26日"]
    start, end = fiscal_year_range(parse_fiscal_year("令和5年度"))
    for t in texts:
        p = parse_period(t)
        assert start <= p.start and p.end <= end and p.fiscal_year == 2023


# --- rest days -------------------------------------------------------------------------------------------

def test_rest_day() -> None:
    assert rest_day(D(2023, 5, 3)) == "憲法記念日"
    assert rest_day(D(2023, 5, 6)) == "土曜日"
    assert rest_day(D(2023, 5, 7)) == "日曜日"
    assert rest_day(D(2023, 5, 24)) is None
    assert rest_day(D(2023, 1, 2)) == "元日 振替休日"   # jpholiday names the substitute holiday after its day
    assert rest_day(D(2023, 1, 1)) == "元日"          # holiday wins over 日曜日
    assert WEEKDAYS_JA[D(2023, 5, 24).weekday()] == "水"


def test_holidays_not_imported_at_module_import() -> None:
    import importlib
    import subprocess

    code = ("import sys, kyogikai; before = 'jpholiday' in sys.modules; import kyogikai.dates; "
            "print(not before and 'jpholiday' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    assert importlib.import_module("kyogikai.dates").rest_day(D(2023, 5, 3)) == "憲法記念日"
