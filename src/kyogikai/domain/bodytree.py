"""The body tree — programme → body → sub-body → group — walked in one place (pure, no I/O).

Bodies are rows (mappings) holding ``id``, ``parent_id`` (None at the top) and ``programme_id``; a
top-level body hangs under its programme.  Whoever needs a body's ancestors (a path such as
``会議運営/情報セキュリティ研究会/セキュリティ監査グループ``, whether anything above it is
non-public), what is under it (a feed's subtree) or the tree in display order (the report, the
organisation listing and pages) asks a :class:`BodyTree`, built from the rows it has already read,
in the order it wants siblings listed.
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator, Mapping

Row = Mapping[str, Any]


def parent_key(body: Row) -> str:
    """What a body hangs under: its parent body's id, or (at the top) its programme's id."""
    return body["parent_id"] or body["programme_id"]


class BodyTree:
    """The bodies given, indexed by id and by what they hang under (siblings keep the given order)."""

    def __init__(self, bodies: Iterable[Row]) -> None:
        self.by_id: dict[str, Row] = {}
        self._under: dict[str, list[Row]] = {}
        for b in bodies:
            self.by_id[b["id"]] = b
            self._under.setdefault(parent_key(b), []).append(b)

    def chain(self, body_id: str | None) -> list[Row]:
        """The body and its ancestors, nearest first (as far up as the given bodies reach)."""
        out: list[Row] = []
        cur = self.by_id.get(body_id) if body_id else None
        while cur is not None and len(out) <= len(self.by_id):   # a cycle cannot loop forever
            out.append(cur)
            cur = self.by_id.get(cur["parent_id"]) if cur["parent_id"] else None
        return out

    def names(self, body_id: str) -> list[str]:
        """The names from the top body down to this one."""
        return [b["name"] for b in reversed(self.chain(body_id))]

    def children(self, key: str) -> list[Row]:
        """The bodies directly under a body or (its top-level bodies) a programme."""
        return self._under.get(key, [])

    def walk(self, key: str, depth: int = 0) -> Iterator[tuple[Row, int]]:
        """Every body under a body or programme, parents before children, with its depth below ``key``."""
        for b in self.children(key):
            yield b, depth
            yield from self.walk(b["id"], depth + 1)

    def subtree(self, body_id: str) -> list[Row]:
        """The body and every body under it, parents before children."""
        body = self.by_id.get(body_id)
        return [] if body is None else [body] + [b for b, _ in self.walk(body_id)]
