"""Calendar text: what a calendar shows of an item, in Japanese (label, dates, summary, description …).

Rendered into the item's row when a fact it shows changes; the ICS bytes are assembled from these
columns at read time by :mod:`kyogikai.feeds.ics` (which adds the base URL, configuration rather
than a fact).

Names that tell bodies apart: several bodies share a name (each participating-member programme has
its 事業部会, 検討会, 全体会議), and the report's short labels (``第1回研究会``) name a body by its
heading.  A calendar shows items of many bodies side by side, so a SUMMARY names the body when the
label alone would not: a body whose name another body shares gets its programme (and its parent,
when the twin is in the same programme) as its ``qualifier`` — its feed is called
``事業部会（あいち共同利用型施設予約システム事業）`` and its items ``第1回事業部会（…事業）``; an item of
a body with a name of its own whose label does not contain that name gets it
(``第1回研究会（電子申請・届出システム研究会）``); a programme-level item whose label contains a body's
name gets its programme (``全体説明会（共同セキュリティ監査）``).  Labels elsewhere (the report, the
pages' tables, the description's first line) stay as the report writes them.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from typing import Any

from ...dates import MONTH, Period, format_period
from ...domain import meeting as m
from ...domain.formats import label_of
from ...domain.naming import meeting_label
from ..runtime import Rows
from .tables import BODIES, ITEMS, PROGRAMMES

RENDERED = ("label", "when_text", "summary", "description", "location", "categories", "url_path", "public")
MONTH_NOTE = "※月単位の期間です（カレンダーでは各月の初日から末日までの終日予定として表示）。"
STATUS_TEXT = {m.Status.HELD.value: "開催済", m.Status.CANCELLED.value: "中止"}


def item_label(rows: Rows, item: dict) -> str:
    """The item's label as the report writes it (a vote names the meeting it refers to)."""
    def body_name(body_id: str) -> str | None:
        body = rows.get(BODIES, body_id)
        return body["name"] if body else None
    return meeting_label(item, body_name, lambda ref_id: rows.get(ITEMS, ref_id),
                         default=lambda i: m.KIND_LABELS[m.Kind(i["kind"])])


def when_text(item: dict) -> str:
    return _when_text(item["start_date"], item["end_date"], item["precision"], item["start_time"], item["end_time"])


@functools.lru_cache(maxsize=4096)
def _when_text(start: str, end: str, precision: str, start_time: str | None, end_time: str | None) -> str:
    text = format_period(Period(dt.date.fromisoformat(start), dt.date.fromisoformat(end), precision))
    if start_time:
        text += f" {start_time}～{end_time or ''}"
    return text


def qualifier(rows: Rows, body: dict | None, prog: dict | None, label: str) -> str | None:
    """What a calendar title adds to the report's label so that no other body's items read the same."""
    if body is not None:
        if body.get("qualifier"):
            return body["qualifier"]
        return None if body["name"] in label else body["name"]
    if prog is None or prog["name"] in label:
        return None
    return prog["name"] if any(b["name"] in label for b in rows.find(BODIES)) else None


def render(rows: Rows, item: dict) -> dict[str, Any]:
    body = rows.get(BODIES, item["body_id"]) if item["body_id"] else None
    prog = rows.get(PROGRAMMES, item["programme_id"])
    label = item_label(rows, item)
    when = when_text(item)
    fmt = label_of(item["format"], item["format_label"])
    kind = m.Kind(item["kind"])
    cancelled = item["status"] == m.Status.CANCELLED.value
    qualifier_ = qualifier(rows, body, prog, label)
    summary = ("【中止】" if cancelled else "") + label + (f"（{qualifier_}）" if qualifier_ else "") \
        + (f"（{when}）" if item["precision"] == MONTH else "")
    lines = [label, f"日程：{when}"]
    if fmt:
        lines.append(f"開催形式：{fmt}")
    if item["venue"]:
        lines.append(f"会場：{item['venue']}")
    if prog:
        lines.append(f"事業：{prog['name']}")
    if body:
        lines.append(f"会議体：{body['name']}")
    if not kind.is_meeting:
        lines.append(f"区分：{m.KIND_LABELS[kind]}")
    if item["status"] in STATUS_TEXT:
        reason = f"（{item['cancel_reason']}）" if cancelled and item["cancel_reason"] else ""
        lines.append(f"状況：{STATUS_TEXT[item['status']]}{reason}")
    if item["precision"] == MONTH:
        lines.append(MONTH_NOTE)
    agenda = _agenda_lines(item["agenda"] or "[]")
    if agenda:
        lines.append("〔審議事項〕")
        lines += agenda
    categories = [c for c in (prog["name"] if prog else None, body["name"] if body else None,
                              None if kind.is_meeting else m.KIND_LABELS[kind]) if c]
    public = visible(body)
    url_path = None
    if public:
        url_path = f"/bodies/{body['id']}" if body else f"/programmes/{item['programme_id']}"
    return {"label": label, "when_text": when, "summary": summary, "description": "\n".join(lines),
            "location": item["venue"] or fmt, "categories": _categories(tuple(categories)),
            "url_path": url_path, "public": public}


def visible(body: dict | None) -> int:
    """Whether an item of this body (None: of its programme) shows in public feeds and pages."""
    return int(body is None or bool(body["public"]))


@functools.lru_cache(maxsize=1024)
def _agenda_lines(agenda: str) -> tuple[str, ...]:
    """The ``・item（outcome）`` lines of the agenda items not withdrawn."""
    return tuple(f"・{a['text']}" + (f"（{a['outcome']}）" if a["outcome"] else "") for a in json.loads(agenda)
                 if not a["withdrawn"])


@functools.lru_cache(maxsize=1024)
def _categories(names: tuple[str, ...]) -> str:
    return json.dumps(list(dict.fromkeys(names)), ensure_ascii=False)
