"""ICS bytes from feed read-model rows, with the ``icalendar`` library (pure: no I/O, no clock).

The same rows and base URL give the same bytes: UIDs are the meetings' ids, DTSTAMP and
LAST-MODIFIED come from recorded event times, items are ordered by date, time and id, and the
VTIMEZONE is written out here rather than generated from the machine's tz database.

How items are shown:

- A day or a period of days without a time: an all-day item, ``DTSTART;VALUE=DATE`` and an
  exclusive ``DTEND;VALUE=DATE`` (28 June – 8 July is 20230628 – 20230709).
- Busy or free (:func:`busy`): a meeting on one day or with times is ``TRANSP:OPAQUE``; a period
  of several days, a month-precision item, a written deliberation and a cancelled item are ``TRANSP:TRANSPARENT``.
- A day with times: ``DTSTART;TZID=Asia/Tokyo`` (and ``DTEND`` when an end time was recorded;
  without one the item ends when it starts, as RFC 5545 says — no end is invented).
- A period of whole months (``令和5年7月～11月``, the report's month precision): an all-day,
  transparent item from the first day of the first month to the first day of the month after the
  last one (exclusive end), with the months written in the summary (``技術的診断（令和5年7月～11月）``)
  and a note in the description, so nobody reads it as a five-month meeting or a fixed date.
- Cancelled: kept, ``STATUS:CANCELLED``, summary prefixed ``【中止】``; SEQUENCE rises with every
  change of date, time, place, format, title or status.
- Items of non-public bodies (only in private feeds) carry ``CLASS:PRIVATE`` and no link.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from typing import Any, Iterable, Mapping
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, TimezoneStandard, vDuration

TZID = "Asia/Tokyo"
TOKYO = ZoneInfo(TZID)
COUNCIL = "協議会"
PRODID = "-//kyogikai//calendar feed//JA"
REFRESH = dt.timedelta(hours=1)

KIND_TITLES = {"all": "全体予定", "member": "{name}の予定", "body": "{name}", "programme": "{name}"}


def _utc(text: str) -> dt.datetime:
    """A stored UTC stamp (``2023-05-01T00:00:00.123456Z``) as an aware datetime, to the second."""
    return dt.datetime.strptime(text[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=dt.timezone.utc)


def http_date(text: str | None) -> dt.datetime | None:
    return _utc(text) if text else None


def vtimezone() -> Timezone:
    """Asia/Tokyo: +09:00 without daylight saving since 1952 (a fixed component: same bytes anywhere)."""
    tz = Timezone()
    tz.add("tzid", TZID)
    tz.add("x-lic-location", TZID)
    std = TimezoneStandard()
    std.add("dtstart", dt.datetime(1970, 1, 1))
    std.add("tzoffsetfrom", dt.timedelta(hours=9))
    std.add("tzoffsetto", dt.timedelta(hours=9))
    std.add("tzname", "JST")
    tz.add_component(std)
    return tz


def _time(date: str, hhmm: str) -> dt.datetime:
    h, mi = hhmm.split(":")
    return dt.datetime.combine(dt.date.fromisoformat(date), dt.time(int(h), int(mi)), tzinfo=TOKYO)


def event(item: Mapping[str, Any], base_url: str) -> Event:
    """One VEVENT from an ``rm_feed_items`` row."""
    ev = Event()
    ev.add("uid", item["id"])
    ev.add("dtstamp", _utc(item["modified_at"]))
    ev.add("created", _utc(item["created_at"]))
    ev.add("last-modified", _utc(item["modified_at"]))
    ev.add("sequence", item["sequence"])
    ev.add("status", "CANCELLED" if item["status"] == "cancelled" else "CONFIRMED")
    ev.add("summary", item["summary"])
    if item["start_time"]:
        ev.add("dtstart", _time(item["start_date"], item["start_time"]))
        if item["end_time"]:
            ev.add("dtend", _time(item["start_date"], item["end_time"]))
    else:
        ev.add("dtstart", dt.date.fromisoformat(item["start_date"]))
        ev.add("dtend", dt.date.fromisoformat(item["end_date"]) + dt.timedelta(days=1))
    ev.add("transp", "OPAQUE" if busy(item) else "TRANSPARENT")
    if item["location"]:
        ev.add("location", item["location"])
    categories = json.loads(item["categories"] or "[]")
    if categories:
        ev.add("categories", categories)
    description = item["description"]
    if item["url_path"]:
        url = base_url + item["url_path"]
        ev.add("url", url, parameters={"VALUE": "URI"})
        description += f"\n\n詳細：{url}"
    ev.add("description", description)
    if not item["public"]:
        ev.add("class", "PRIVATE")
    return ev


def busy(item: Mapping[str, Any]) -> bool:
    """Whether the item blocks its attendees' time (``TRANSP:OPAQUE``).

    A timed meeting and a meeting on one day are busy; a period of several days, a month-precision
    item and a written deliberation (書面開催: nobody sits anywhere) leave the time free.
    """
    if item["format"] == "written" or item["status"] == "cancelled":
        return False
    if item["start_time"]:
        return True
    return item["precision"] != "month" and item["start_date"] == item["end_date"]


@functools.lru_cache(maxsize=20000)
def _event_bytes(row: tuple[tuple[str, Any], ...], base_url: str) -> bytes:
    return event(dict(row), base_url).to_ical()


def order(items: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return sorted(items, key=lambda i: (i["start_date"], i["start_time"] or "", i["end_date"], i["id"]))


def calendar_name(kind: str, title: str | None, council: str = COUNCIL) -> str:
    return f"{council} " + KIND_TITLES[kind].format(name=title or "")


def calendar_description(kind: str, title: str | None, council: str = COUNCIL) -> str:
    what = {"all": f"{council}の会議・行事の予定（公開分すべて）",
            "body": f"会議体「{title}」（下部の会議体を含む）の会議予定",
            "programme": f"事業「{title}」の会議・行事の予定",
            "member": f"{title}が属する会議体・参加事業の会議・行事の予定"}[kind]
    return what + "。日程の変更は自動で反映され、中止になった予定も「中止」として残ります。"


def render(kind: str, title: str | None, items: Iterable[Mapping[str, Any]], base_url: str, *,
           feed_url: str | None, page_url: str, private: bool = False, council: str = COUNCIL) -> bytes:
    """A whole VCALENDAR.  ``feed_url`` goes into SOURCE (left out for private feeds); ``council`` is
    the council's name (its settings), which begins the calendar's name."""
    cal = Calendar()
    name = calendar_name(kind, title, council) + ("（非公開分を含む）" if private else "")
    description = calendar_description(kind, title, council)
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("name", name)
    cal.add("x-wr-calname", name)
    cal.add("description", description)
    cal.add("x-wr-caldesc", description)
    cal.add("x-wr-timezone", TZID)
    cal.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", vDuration(REFRESH))
    cal.add("url", page_url, parameters={"VALUE": "URI"})
    if feed_url and not private:
        cal.add("source", feed_url, parameters={"VALUE": "URI"})
    cal.add_component(vtimezone())
    head = cal.to_ical()
    end = b"END:VCALENDAR\r\n"
    assert head.endswith(end)
    events = b"".join(_event_bytes(tuple(sorted(i.items())), base_url) for i in order(items))
    return head[: -len(end)] + events + end
