"""How a meeting or activity is named in Japanese output (report entries, lists, feed summaries).

One function serves the report, the CLI listing and the calendar feeds, so an item reads the same
everywhere: ``第1回幹事会``, ``第1回定期総会`` (title instead of the body name),
``先進事例研究・意見交換会 第2部 第1回``, ``第2回ワーキンググループの一部議題に係る採決``,
``愛知県警による講演「最新の情報セキュリティ状況について」``, ``第1回訓練``.
"""

from __future__ import annotations


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
