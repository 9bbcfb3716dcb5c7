"""The feed read model's tables, feed keys and event stamps (shared by its parts)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ...domain.events import DomainEvent
from ..runtime import Table

# The organisation mirror (resident: organisation-sized, read whole by a rebuild piece)
PROGRAMMES = Table("rm_feed_programmes", {
    "id": "text", "name": "text", "section": "text", "ord": "int", "description": "text",
    "dissolved_on": "text"}, ("id",), resident=True)
BODIES = Table("rm_feed_bodies", {
    "id": "text", "name": "text", "kind": "text", "programme_id": "text", "parent_id": "text",
    "ancestors": "text", "ord": "int", "own_public": "int", "public": "int", "description": "text",
    "dissolved_on": "text", "qualifier": "text"}, ("id",), indexes=(("programme_id",), ("parent_id",), ("name",)),
    resident=True)
MEMBERS = Table("rm_feed_members", {
    "id": "text", "name": "text", "code": "text", "dissolved_on": "text"}, ("id",), resident=True)
ROSTER = Table("rm_feed_roster", {
    "owner_id": "text", "member_id": "text", "since": "text", "until": "text"},
    ("owner_id", "member_id", "since"), indexes=(("member_id",),), resident=True)
ITEMS = Table("rm_feed_items", {
    "id": "text", "kind": "text", "programme_id": "text", "body_id": "text", "refers_to": "text",
    "ordinal": "int", "part": "int", "series": "text", "title": "text", "speaker": "text",
    "start_date": "text", "end_date": "text", "precision": "text", "start_time": "text", "end_time": "text",
    "format": "text", "format_label": "text", "venue": "text", "status": "text", "cancel_reason": "text",
    "agenda": "text", "sequence": "int", "created_at": "text", "modified_at": "text", "public": "int",
    # the keys of the feeds holding it (its rows of rm_feed_entries, kept with it: no query to learn them)
    "feed_keys": "text",
    # rendered (Japanese) text, recomputed when a fact it shows changes
    "label": "text", "when_text": "text", "summary": "text", "description": "text", "location": "text",
    "categories": "text", "url_path": "text"}, ("id",),
    indexes=(("body_id",), ("programme_id",), ("refers_to",), ("public", "end_date")))
ENTRIES = Table("rm_feed_entries", {"feed_key": "text", "item_id": "text"}, ("feed_key", "item_id"),
                indexes=(("item_id",),))
FEEDS = Table("rm_feed_feeds", {
    "key": "text", "kind": "text", "ref_id": "text", "title": "text", "public": "int", "changed_at": "text",
    "public_changed_at": "text"},
    ("key",), indexes=(("kind",),), resident=True)
TOKENS = Table("rm_feed_tokens", {
    "token_hash": "text", "id": "text", "member_id": "text", "label": "text", "issued_at": "text",
    "issued_by": "text", "revoked_at": "text", "revoked_by": "text"}, ("token_hash",),
    indexes=(("id",), ("member_id",)))
TABLES = [PROGRAMMES, BODIES, MEMBERS, ROSTER, ITEMS, ENTRIES, FEEDS, TOKENS]

ALL = "all"


def key(kind: str, id: Any) -> str:
    return ALL if kind == ALL else f"{kind}:{id}"


def stamp(e: DomainEvent) -> str:
    """An event's recorded time in one fixed, sortable UTC form (``2023-05-01T00:00:00.000000Z``)."""
    return e.timestamp.astimezone(dt.timezone.utc).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
