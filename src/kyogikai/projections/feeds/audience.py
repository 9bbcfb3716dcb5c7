"""Who sees what: which feeds hold an item, and when a feed's content last changed.

Rows of ``rm_feed_entries`` (feed key → item) and ``rm_feed_feeds`` (one per feed: title,
visibility, change times), decided from the organisation mirror:

- ``all``: every item.  ``programme:<P>``: every item of programme P.
- ``body:<B>``: the items of B and of every body under it (sub-bodies, groups, inline bodies).
- ``member:<M>`` (the member organisation's calendar — "everything its bodies and programmes
  hold"): an item when M was not dissolved before the item starts and one of these holds —
  the item is of a body M is on (or of a body under it) and M's membership overlaps the item's
  dates; the item is of a participating-member programme M took part in at the time; or the item
  belongs to every member: a programme-level activity of an all-member programme (説明会, 研修 …)
  or a meeting of a general assembly (総会).
"""

from __future__ import annotations

from typing import Iterable

from ...domain import organisation as o
from ..runtime import Rows
from .mirror import chain, subtree
from .tables import ALL, BODIES, ENTRIES, FEEDS, ITEMS, MEMBERS, PROGRAMMES, ROSTER, key


def touch(rows: Rows, keys: Iterable[str], at: str, public: bool = True) -> None:
    """Record that the content of these feeds changed at ``at`` (never moving a time back).

    ``public_changed_at`` (a public read's Last-Modified) moves only for a change a public reader
    can see: an entry of a non-public item moves ``changed_at`` (private reads) alone, so neither
    the bytes, the ETag nor the Last-Modified of a public feed reveal activity in non-public bodies.
    """
    for k in sorted(set(keys)):
        row = rows.get(FEEDS, k)
        if row is None:
            continue
        moved = False
        if (row["changed_at"] or "") < at:
            row["changed_at"], moved = at, True
        if public and (row.get("public_changed_at") or "") < at:
            row["public_changed_at"], moved = at, True
        if moved:
            rows.put(FEEDS, row)


def feed(rows: Rows, kind: str, ref_id: str | None, title: str | None, public: int, at: str) -> None:
    """The feed's row: created, or its title or visibility changed."""
    k = key(kind, ref_id)
    row = rows.get(FEEDS, k)
    if row is None:
        rows.put(FEEDS, {"key": k, "kind": kind, "ref_id": ref_id, "title": title, "public": public, "changed_at": at,
                         "public_changed_at": at})
    elif (row["title"], row["public"]) != (title, public):
        row.update(title=title, public=public, changed_at=max(row["changed_at"] or "", at),
                   public_changed_at=max(row["public_changed_at"] or "", at))
        rows.put(FEEDS, row)


def feed_keys(item: dict) -> set[str]:
    """The feeds holding the item (its ``feed_keys``: the keys of its rows of ``rm_feed_entries``)."""
    return set((item.get("feed_keys") or "").split())


def _enter(rows: Rows, item: dict, keys: set[str], at: str) -> None:
    """The item's entries become ``keys``: rows of ``rm_feed_entries`` put and deleted, the item's
    ``feed_keys`` set (and the item row put), and the feeds that gained or lost it touched."""
    have = feed_keys(item)
    if keys == have:
        return
    for k in sorted(keys - have):
        rows.put(ENTRIES, {"feed_key": k, "item_id": item["id"]})
    for k in sorted(have - keys):
        rows.delete(ENTRIES, k, item["id"])
    item["feed_keys"] = " ".join(sorted(keys))
    # the row as the rows hold it now (its text may have been rendered since the caller read it)
    row = rows.get(ITEMS, item["id"]) or item
    row["feed_keys"] = item["feed_keys"]
    rows.put(ITEMS, row)
    touch(rows, keys ^ have, at, public=bool(item["public"]))


def items_of_bodies(rows: Rows, bodies: Iterable[dict]) -> list[dict]:
    return [i for b in bodies for i in rows.find(ITEMS, body_id=b["id"])]


def roster_items(rows: Rows, owner_id: str) -> list[dict]:
    """The items whose members a change of this body's or programme's roster may change."""
    body = rows.get(BODIES, owner_id)
    if body is not None:
        return items_of_bodies(rows, subtree(rows, body))
    return rows.find(ITEMS, programme_id=owner_id)


def for_every_member(rows: Rows, item: dict) -> bool:
    prog = rows.get(PROGRAMMES, item["programme_id"])
    if prog is None or prog["section"] != o.Section.ALL.value:
        return False
    if not item["body_id"]:
        return True
    body = rows.get(BODIES, item["body_id"])
    return body is not None and body["kind"] == o.BodyKind.GENERAL_ASSEMBLY.value


def owners(rows: Rows, item: dict) -> list[str]:
    """Whose rosters decide which members an item belongs to: its bodies, and its programme."""
    return chain(rows, item["body_id"]) + [item["programme_id"]]


def overlaps(span: dict, item: dict) -> bool:
    return span["since"] <= item["end_date"] and (span["until"] is None or span["until"] >= item["start_date"])


def active(member: dict | None, item: dict) -> bool:
    return member is not None and not (member["dissolved_on"] and member["dissolved_on"] <= item["start_date"])


def qualifies(rows: Rows, item: dict, member_id: str) -> bool:
    if not active(rows.get(MEMBERS, member_id), item):
        return False
    return for_every_member(rows, item) or any(
        overlaps(span, item) for owner in owners(rows, item)
        for span in rows.find(ROSTER, owner_id=owner, member_id=member_id))


def members_of(rows: Rows, item: dict) -> set[str]:
    if for_every_member(rows, item):
        return {r["id"] for r in rows.find(MEMBERS) if active(r, item)}
    on = {r["member_id"] for owner in owners(rows, item) for r in rows.find(ROSTER, owner_id=owner) if overlaps(r, item)}
    return {mid for mid in on if active(rows.get(MEMBERS, mid), item)}


def every_member_items(rows: Rows) -> list[dict]:
    """Items that belong to every member: programme-level activities of all-member programmes and
    the meetings of their general assemblies."""
    out = []
    for prog in rows.find(PROGRAMMES, section=o.Section.ALL.value):
        assemblies = {b["id"] for b in rows.find(BODIES, programme_id=prog["id"])
                      if b["kind"] == o.BodyKind.GENERAL_ASSEMBLY.value}
        out += [i for i in rows.find(ITEMS, programme_id=prog["id"]) if not i["body_id"] or i["body_id"] in assemblies]
    return out


def recheck(rows: Rows, item: dict, member_id: str, at: str) -> None:
    """Put the item in, or take it out of, one member's feed."""
    k = key("member", member_id)
    keys = feed_keys(item)
    _enter(rows, item, (keys | {k}) if qualifies(rows, item, member_id) else (keys - {k}), at)


def place(rows: Rows, item: dict, at: str) -> None:
    """Put an item in exactly the feeds it belongs to."""
    wanted = {ALL, key("programme", item["programme_id"])} | {key("body", b) for b in chain(rows, item["body_id"])}
    wanted |= {key("member", mid) for mid in members_of(rows, item)}
    _enter(rows, item, wanted, at)
