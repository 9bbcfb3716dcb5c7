"""Feeds, pages and private feed tokens over the application (used by the CLI and the web app).

Every read is a query on the ``feeds`` read model (``projections/feeds/``): one indexed query per
feed, whatever the length of the log.  :meth:`FeedService.fresh` first applies the events recorded
since the last look (by any process), so a long-running server shows them without a restart.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from ..app import Kyogikai, UserError
from ..dates import format_date
from ..domain.bodytree import BodyTree
from ..i18n import M
from ..domain.events import NotFound
from ..domain.formats import label_of
from ..domain.organisation import SECTION_TITLES, Section
from ..domain.tokens import token_hash
from ..projections import feeds as rm
from ..projections.feed_queries import feed_items, upcoming_public
from ..projections.runtime import SQLRows
from . import ics
from .urls import TOKEN_RE, Subscribe, feed_path, page_path, private_path


@dataclass(frozen=True)
class Feed:
    """One rendered feed: what an HTTP answer or a file needs."""

    key: str
    kind: str
    ref_id: str | None
    title: str | None
    body: bytes
    etag: str                        # strong: quoted sha256 of the body
    last_modified: dt.datetime | None
    path: str


@dataclass(frozen=True)
class Issued:
    token: str                       # shown once, never stored
    id: str
    member: str
    subscribe: Subscribe


def own_answers(rows: SQLRows, member_id: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A member's private feed items with its own answer (or written votes) in each meeting's description.

    Only this member's rows are read, so no other member's answer can reach its feed; an item
    answered later than its last change takes the answer's time as LAST-MODIFIED.
    """
    from ..answers import answer_text
    from ..domain.answers import VOTE_JA
    from ..projections import answers as ans_rm
    from ..projections import schedule as sched_rm

    answers = {r["meeting_id"]: r for r in rows.find(ans_rm.ANSWERS, member_id=member_id)}
    votes: dict[str, dict[str, dict[str, Any]]] = {}
    for v in rows.find(ans_rm.VOTES, member_id=member_id):
        votes.setdefault(v["meeting_id"], {})[v["item_id"]] = v
    out = []
    for item in items:
        mine, cast = answers.get(item["id"]), votes.get(item["id"])
        if mine is None and not cast:
            out.append(item)
            continue
        lines, stamps = [], [item["modified_at"]]
        if mine is not None:
            lines.append("貴団体の回答：" + answer_text(mine) + (f"（{mine['comment']}）" if mine["comment"] else ""))
            stamps.append(mine["answered_at"])
        if cast:
            current = [i for i in rows.find(sched_rm.AGENDA, order=("pos",), meeting_id=item["id"]) if not i["withdrawn"]]
            parts = [f"議案{n} {VOTE_JA[cast[i['item_id']]['vote']] if i['item_id'] in cast else '未回答'}"
                     for n, i in enumerate(current, start=1)]
            lines.append("貴団体の書面表決：" + "、".join(parts))
            stamps += [v["voted_at"] for v in cast.values()]
        out.append({**item, "description": (item["description"] or "") + "\n\n" + "\n".join(lines),
                    "modified_at": max(s for s in stamps if s)})
    return out


class FeedService:
    def __init__(self, app: Kyogikai, base_url: str) -> None:
        self.app, self.base_url = app, base_url
        self._seen = -1
        self._generation = -1
        self._version: Any = None
        # rendered feeds, valid while the log stands where it stood when they were rendered
        self._rendered: dict[tuple, Feed | None] = {}
        self._council: dict[str, Any] | None = None

    # -- freshness -------------------------------------------------------------------------------
    def fresh(self) -> None:
        """Apply events recorded since the last look (by this or any other process)."""
        version = self.app.reads.data_version()  # SQLite: a pragma, no query, tells whether anyone wrote
        if version is not None and version == self._version and self._seen >= 0:
            return
        top = self.app.store.max_position()
        generation = self.app.runtime.generation()   # changes when read models are replaced (rebuild)
        if top != self._seen or generation != self._generation:
            self.app.sync()  # may time out on another writer's lock: then the next call tries again
            self._seen, self._generation = top, generation
            self._rendered.clear()
            self._council = self.app.council(sync=False)  # read here, so a feed read stays one query
        self._version = version

    @property
    def council(self) -> dict[str, Any]:
        """The council's settings (``Kyogikai.council``), re-read whenever the log moves."""
        if self._council is None:
            self._council = self.app.council()
        return self._council

    def _read(self) -> Any:
        return self.app.reads.transaction(write=False)

    # -- feeds -----------------------------------------------------------------------------------
    def url(self, path: str) -> str:
        return self.base_url + path

    def subscribe(self, kind: str, ref_id: str | None = None) -> Subscribe:
        return Subscribe.of(self.url(feed_path(kind, ref_id)))

    def feed(self, kind: str, ref_id: str | None = None, *, private: bool = False, path: str | None = None) -> Feed | None:
        """A feed by kind and id; None when there is none (or, unless ``private``, it is not public).

        A rendered feed is kept until the log moves (``fresh`` sees a new position), so repeated
        requests between two changes cost a dictionary lookup instead of a query and a render.
        """
        cache_key = (kind, ref_id, private, path)
        if cache_key in self._rendered and self._seen >= 0:
            return self._rendered[cache_key]
        feed = self._feed(kind, ref_id, private=private, path=path)
        if len(self._rendered) > 2000:
            self._rendered.clear()
        self._rendered[cache_key] = feed
        return feed

    def _feed(self, kind: str, ref_id: str | None, *, private: bool, path: str | None) -> Feed | None:
        k = rm.key(kind, ref_id)
        with self._read() as rows:
            meta = rows.get(rm.FEEDS, k)
            if meta is None:
                if kind != rm.ALL:
                    return None
                meta = {"key": k, "kind": kind, "ref_id": None, "title": None, "public": 1, "changed_at": None,
                        "public_changed_at": None}
            if not meta["public"] and not private:
                return None
            items = feed_items(rows, k, private)
            if private and kind == "member" and ref_id:
                items = own_answers(rows, ref_id, items)
        return self._render(meta, items, private, path or feed_path(kind, ref_id))

    def _render(self, meta: dict, items: list[dict], private: bool, path: str) -> Feed:
        kind, ref_id = meta["kind"], meta["ref_id"]
        council = self.council
        body = ics.render(kind, meta["title"], items, self.base_url, feed_url=self.url(path),
                          page_url=self.url(page_path(kind, ref_id)), private=private, council=council["name"])
        changed = meta["changed_at"] if private else meta["public_changed_at"]  # see projections.feeds._touch
        named = council["changed_at"].astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") if council["changed_at"] else None
        stamps = [s for s in [changed, named, *(i["modified_at"] for i in items)] if s]
        return Feed(meta["key"], kind, ref_id, meta["title"], body, '"' + hashlib.sha256(body).hexdigest()[:40] + '"',
                    ics.http_date(max(stamps)) if stamps else None, path)

    def private_feed(self, token: str) -> Feed | None:
        """A member's private feed (with the items of its non-public bodies); None for a bad or revoked token."""
        row = self.token_row(token)
        if row is None:
            return None
        return self.feed("member", row["member_id"], private=True, path=private_path("TOKEN"))

    def public_feeds(self) -> list[dict[str, Any]]:
        with self._read() as rows:
            metas = [f for f in rows.find(rm.FEEDS, order=("kind", "key")) if f["public"]]
        if not any(f["key"] == rm.ALL for f in metas):
            metas.insert(0, {"key": rm.ALL, "kind": rm.ALL, "ref_id": None, "title": None})
        return metas

    def feed_for(self, body: str | None = None, programme: str | None = None, member: str | None = None) -> Feed:
        """The feed the CLI asks for by name (one of body, programme, member; none: everything)."""
        given = [x for x in (body, programme, member) if x is not None]
        if len(given) > 1:
            raise UserError(M("feed: give at most one of --body, --programme, --member"))
        self.fresh()
        if body is not None:
            b = self.app.body(body)
            f = self.feed("body", b["id"])
            if f is None:
                raise UserError(M("body: {name!r} is non-public: it has no public feed", name=b["name"]))
            return f
        if programme is not None:
            f = self.feed("programme", self.app.programme(programme)["id"])
        elif member is not None:
            f = self.feed("member", self.app.member(member)["id"])
        else:
            f = self.feed(rm.ALL)
        if f is None:  # pragma: no cover - every programme and member has a feed row
            raise NotFound("no such feed")
        return f

    # -- static export ---------------------------------------------------------------------------
    def export(self, directory: str | os.PathLike[str]) -> dict[str, int]:
        """Write every public feed under ``directory`` at its URL path, each replaced atomically.

        Unchanged files are left alone (their time stays the feed's Last-Modified); feed files of
        bodies that became non-public are removed.  Other files are never touched.
        """
        self.fresh()
        root = Path(directory)
        counts = {"written": 0, "unchanged": 0, "removed": 0}
        wanted: set[Path] = set()
        for meta in self.public_feeds():
            f = self.feed(meta["kind"], meta["ref_id"])
            if f is None:  # pragma: no cover - raced with a visibility change
                continue
            target = root / f.path.lstrip("/")
            wanted.add(target)
            if target.is_file() and target.read_bytes() == f.body:
                counts["unchanged"] += 1
                continue
            target.parent.mkdir(parents=True, exist_ok=True)  # folders under the export root only
            write_atomically(target, f.body, f.last_modified)
            counts["written"] += 1
        uuid_ics = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.ics")
        for kind in ("body", "programme", "member"):
            folder = root / "feeds" / kind
            if folder.is_dir():
                for p in folder.iterdir():
                    if uuid_ics.fullmatch(p.name) and p not in wanted:
                        p.unlink()
                        counts["removed"] += 1
        return counts

    # -- pages -----------------------------------------------------------------------------------
    def _bodies(self, rows: SQLRows) -> list[dict[str, Any]]:
        return [b for b in rows.find(rm.BODIES, order=("ord", "name", "id")) if b["public"]]

    def _with_links(self, kind: str, row: dict[str, Any]) -> dict[str, Any]:
        return {**row, "page": self.url(page_path(kind, row["id"])), "subscribe": self.subscribe(kind, row["id"])}

    def _tree(self, bodies: list[dict[str, Any]], parent: str) -> Iterator[dict[str, Any]]:
        for b, depth in BodyTree(bodies).walk(parent):
            yield {**self._with_links("body", b), "depth": depth}

    def catalogue(self) -> dict[str, Any]:
        """What the front page lists: sections → programmes → body trees; member feeds."""
        with self._read() as rows:
            progs = rows.find(rm.PROGRAMMES, order=("ord", "name", "id"))
            bodies = self._bodies(rows)
            members = sorted(rows.find(rm.MEMBERS), key=lambda mb: (mb["code"] or "", mb["name"], mb["id"]))
        sections = []
        for sec in Section:
            ps = [{**self._with_links("programme", p), "bodies": list(self._tree(bodies, p["id"]))}
                  for p in progs if p["section"] == sec.value]
            if ps:
                sections.append({"title": SECTION_TITLES[sec], "programmes": ps})
        return {"sections": sections, "all": self.subscribe(rm.ALL),
                "members": [self._with_links("member", mb) for mb in members]}

    def _page_items(self, rows: SQLRows, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        import json

        bodies = {b["id"]: b for b in self._bodies(rows)}
        out = []
        for i in ics.order(items):
            body = bodies.get(i["body_id"]) if i["body_id"] else None
            place = "・".join(x for x in (label_of(i["format"], i["format_label"]), i["venue"]) if x)
            out.append({**i, "agenda_items": [a for a in json.loads(i["agenda"] or "[]") if not a["withdrawn"]],
                        "place": place,
                        "body_name": body["name"] if body else None,
                        "page": self.url(i["url_path"]) if i["url_path"] else None})
        return out

    def upcoming(self, today: dt.date, limit: int = 30) -> list[dict[str, Any]]:
        with self._read() as rows:
            return self._page_items(rows, upcoming_public(rows, today.isoformat(), limit))

    def _split(self, rows: SQLRows, items: list[dict[str, Any]], today: dt.date) -> dict[str, list]:
        page = self._page_items(rows, items)
        t = today.isoformat()
        return {"upcoming": [i for i in page if i["end_date"] >= t],
                "past": [i for i in reversed(page) if i["end_date"] < t]}

    def body_page(self, body_id: str, today: dt.date) -> dict[str, Any] | None:
        with self._read() as rows:
            body = rows.get(rm.BODIES, body_id)
            if body is None or not body["public"]:
                return None
            prog = rows.get(rm.PROGRAMMES, body["programme_id"])
            ancestors = [rows.get(rm.BODIES, a) for a in (body["ancestors"] or "").split(",") if a]
            children = [self._with_links("body", c) for c in rows.find(rm.BODIES, order=("ord", "name", "id"),
                                                                        parent_id=body_id) if c["public"]]
            items = self._split(rows, feed_items(rows, rm.key("body", body_id), False), today)
        if body["dissolved_on"]:
            body["dissolved_text"] = format_date(dt.date.fromisoformat(body["dissolved_on"]))
        return {"body": self._with_links("body", body), "programme": self._with_links("programme", prog),
                "ancestors": [self._with_links("body", a) for a in ancestors if a], "children": children, **items}

    def programme_page(self, programme_id: str, today: dt.date) -> dict[str, Any] | None:
        with self._read() as rows:
            prog = rows.get(rm.PROGRAMMES, programme_id)
            if prog is None:
                return None
            bodies = list(self._tree(self._bodies(rows), programme_id))
            items = self._split(rows, feed_items(rows, rm.key("programme", programme_id), False), today)
        return {"programme": self._with_links("programme", prog), "bodies": bodies, **items}

    # -- private feed tokens ---------------------------------------------------------------------
    def token_row(self, token: str) -> dict[str, Any] | None:
        """The live token row for a secret, or None (malformed, unknown or revoked)."""
        if not TOKEN_RE.fullmatch(token or ""):
            return None
        digest = token_hash(token)
        with self._read() as rows:
            row = rows.get(rm.TOKENS, digest)
        if row is None or row["revoked_at"] or not hmac.compare_digest(row["token_hash"], digest):
            return None
        return row

    def member_for_token(self, token: str) -> dict[str, Any] | None:
        """The member organisation a live private token belongs to (for pages behind a token)."""
        row = self.token_row(token)
        if row is None:
            return None
        with self._read() as rows:
            return rows.get(rm.MEMBERS, row["member_id"])

    def private_links(self, secret: str) -> Subscribe:
        """The subscribe links of a private token's calendar (shown once, when it is issued)."""
        return Subscribe.of(self.url(private_path(secret)))

    def issue_token(self, member: str, label: str | None = None) -> Issued:
        """The application command ``issue_token``, with the private calendar's links."""
        issued = self.app.issue_token(member, label)
        self.fresh()
        return Issued(issued.secret, str(issued.result.id), issued.member, self.private_links(issued.secret))

    def tokens(self, member: str | None = None) -> list[dict[str, Any]]:
        """Issued tokens (never the secrets): id, member, label, who issued and revoked them when."""
        return self.app.feed_tokens(member)

    def revoke_token(self, ref: str, reason: str | None = None) -> str:
        """The application command ``revoke_token``; the revoked token's id."""
        result = self.app.revoke_token(ref, reason)
        self.fresh()
        return str(result.id)


def write_atomically(target: Path, data: bytes, mtime: dt.datetime | None = None) -> None:
    """Write to a temporary file beside ``target``, flush it to disk, then rename it over ``target``.

    Only a regular file is replaced and the folder must exist (see :func:`kyogikai.files.write_output`).
    """
    from ..files import write_output

    write_output(target, data, option="file", mode=0o644, mtime=mtime.timestamp() if mtime is not None else None)
