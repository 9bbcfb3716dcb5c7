"""Build one fiscal year's :class:`ReportDoc` from the read models (never from the event log).

Reads the organisation, schedule and narratives read models through ``Rows`` — the stored ones,
or the in-memory ones that ``--as-of`` projects from the events recorded up to a moment.  The
meetings are one indexed query on ``fiscal_year``, so the cost does not grow with other years.

What appears: every programme and body not dissolved before the fiscal year starts and that has
something to say that year (a narrative paragraph or an item, itself or below it).  Items are
ordered by the organisation's display order, then by date.  A cancelled meeting stays in the report
with 【中止】 after it: the report records what was decided, and a cancellation is part of it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from typing import Any

from ..answers import tallies_for
from ..dates import Period, fiscal_year_range
from ..domain.bodytree import BodyTree
from ..domain.formats import Format
from ..domain.organisation import SECTION_TITLES, Section
from ..projections.narratives import NARRATIVES
from ..projections.organisation import BODIES, PROGRAMMES
from ..projections.schedule import AGENDA, MEETINGS
from .document import BodyNode, Entry, ProgrammeNode, ReportDoc, SectionNode


def _alive(row: dict[str, Any], fy_start: dt.date) -> bool:
    return not row["dissolved_on"] or dt.date.fromisoformat(row["dissolved_on"]) >= fy_start


def build_report(rows: Any, fiscal_year: int) -> ReportDoc:
    fy_start, _ = fiscal_year_range(fiscal_year)
    programmes = [p for p in rows.find(PROGRAMMES, order=("ord", "name")) if _alive(p, fy_start)]
    bodies = [b for b in rows.find(BODIES, order=("ord", "name")) if _alive(b, fy_start)]
    meetings = rows.find(MEETINGS, order=("start_date", "end_date", "ordinal", "created_at"), fiscal_year=fiscal_year)
    agenda: dict[str, list[str]] = defaultdict(list)
    tallies = tallies_for(rows, meetings)  # written votes: 「（書面表決：賛成29、反対0、未回答5）」 beside the item
    for m in meetings:
        if m["kind"] in ("meeting", "vote", "redeliberation"):
            for item in rows.find(AGENDA, order=("pos",), meeting_id=m["id"]):
                if not item["withdrawn"]:
                    note = tallies.get(m["id"], {}).get(item["item_id"])
                    agenda[m["id"]].append(item["text"] + (f"（{note}）" if note else ""))
    prose = {n["target_id"]: json.loads(n["paragraphs"]) for n in rows.find(NARRATIVES, fiscal_year=fiscal_year)}
    body_by_id = {b["id"]: b for b in bodies}
    all_meetings = {m["id"]: m for m in meetings}

    def ref_meeting(mid: str) -> dict[str, Any] | None:
        if mid in all_meetings:
            return all_meetings[mid]
        found = rows.find(MEETINGS, id=mid)
        return found[0] if found else None

    def entry(m: dict[str, Any]) -> Entry:
        body = body_by_id.get(m["body_id"]) if m["body_id"] else None
        label = m["title"] or (body["name"] if body else "")
        refers = None
        if m["refers_to"]:
            ref = ref_meeting(m["refers_to"])
            if ref is not None:
                ref_body = body_by_id.get(ref["body_id"])
                refers = (ref["ordinal"], ref["title"] or (ref_body["name"] if ref_body else ""))
        if m["series"]:
            label = m["series"]
        return Entry(
            kind=m["kind"], label=label, ordinal=m["ordinal"], part=m["part"], series=m["series"],
            period=Period(dt.date.fromisoformat(m["start_date"]), dt.date.fromisoformat(m["end_date"]), m["precision"]),
            format=Format(m["format"]) if m["format"] else None, format_label=m["format_label"], venue=m["venue"],
            refers_to=refers, speaker=m["speaker"], agenda=agenda.get(m["id"], []),
            cancelled=m["status"] == "cancelled")

    by_owner: dict[str, list[Entry]] = defaultdict(list)
    for m in meetings:
        owner = m["body_id"] or m["programme_id"]
        by_owner[owner].append(entry(m))

    children = BodyTree(bodies).children

    def body_node(b: dict[str, Any]) -> BodyNode | None:
        kids = [n for n in (body_node(c) for c in children(b["id"])) if n is not None]
        node = BodyNode(name=b["name"], paragraphs=prose.get(b["id"], []), entries=by_owner.get(b["id"], []),
                        children=kids, inline=bool(b["inline"]))
        return node if (node.paragraphs or node.entries or node.children) else None

    sections = []
    for number, section in enumerate(Section, start=1):
        nodes = []
        for p in (p for p in programmes if p["section"] == section.value):
            bnodes = [n for n in (body_node(b) for b in children(p["id"])) if n is not None]
            node = ProgrammeNode(title=p["name"], paragraphs=prose.get(p["id"], []), entries=by_owner.get(p["id"], []),
                                 bodies=bnodes)
            if node.paragraphs or node.entries or node.bodies:
                nodes.append(node)
        if nodes:
            sections.append(SectionNode(number=number, title=SECTION_TITLES[section], programmes=nodes))
    return ReportDoc(fiscal_year=fiscal_year, sections=sections)
