"""How a meeting or activity is named in Japanese output (report entries, lists, feed summaries).

One function serves the report, the CLI listing and the calendar feeds, so an item reads the same
everywhere (:func:`meeting_label` names a read-model row with it, for the CLI, feeds, answers and
participation pages alike): ``第1回幹事会``, ``第1回定期総会`` (title instead of the body name),
``先進事例研究・意見交換会 第2部 第1回``, ``第2回ワーキンググループの一部議題に係る採決``,
``愛知県警による講演「最新の情報セキュリティ状況について」``, ``第1回訓練``.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping


def ordinal_text(ordinal: int | None) -> str:
    return f"第{ordinal}回" if ordinal else ""


def item_label(*, kind: str, ordinal: int | None, part: int | None, series: str | None, title: str | None,
               body_name: str | None, speaker: str | None = None, refers_to_label: str | None = None) -> str:
    if kind == "lecture":
        who = f"{speaker}による" if speaker else ""
        return f"{who}講演「{title}」" if title else f"{who}講演"
    if refers_to_label:
        return f"{refers_to_label}の{title or ''}"
    name = title or body_name or ""
    if series:
        bits = [series]
        if part:
            bits.append(f"第{part}部")
        if ordinal:
            bits.append(ordinal_text(ordinal))
        return " ".join(bits)
    if part:
        return f"{name} 第{part}部" + (f" {ordinal_text(ordinal)}" if ordinal else "")
    return ordinal_text(ordinal) + name


def meeting_label(m: Mapping[str, Any], body_name: Callable[[str], str | None],
                  referred: Callable[[str], Mapping[str, Any] | None] = lambda _id: None,
                  default: Callable[[Mapping[str, Any]], str] = lambda _m: "") -> str:
    """The label of a meeting or activity row (``kind``, ``ordinal``, ``part``, ``series``, ``title``,
    ``speaker``, ``body_id``, ``refers_to``, as the schedule and feed read models hold them).

    ``body_name`` gives a body's name by id; ``referred`` the row a vote or re-deliberation refers
    to, which is named by its own label (without its reference in turn); ``default`` what a row
    whose label would be empty is called instead.
    """
    ref = referred(m["refers_to"]) if m.get("refers_to") else None
    text = item_label(kind=m["kind"], ordinal=m["ordinal"], part=m["part"], series=m["series"], title=m["title"],
                      body_name=body_name(m["body_id"]) if m.get("body_id") else None, speaker=m.get("speaker"),
                      refers_to_label=meeting_label(ref, body_name, default=default) if ref else None)
    return text or default(m)
