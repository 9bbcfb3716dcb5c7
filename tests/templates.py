"""Stores built once per session and backend, copied for each test that starts from them.

Building a store through kyogikai (importing the FY2023 reference report: about a hundred
events through the same commands a clerk uses) costs seconds, most of all on PostgreSQL; copying
the finished database costs milliseconds.  :class:`Templates` builds each named store once per
backend with the real code, then gives every test its own copy in the place its ``db`` fixture
chose — a SQLite file (the online backup API: a consistent copy, WAL included) or a PostgreSQL
schema (the template schema dumped once with ``pg_dump`` and replayed under the test's schema
name, so the eventsourcing recorder's functions point at the copy's own tables).  A copy is the
same database the build left: the same events, chain, read models and positions.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import uuid
from pathlib import Path
from typing import Any, Callable

from kyogikai.store import Location

Build = Callable[[str], Any]   # fills a fresh store at a URL; what it returns is kept with the template

SESSION: "Templates | None" = None   # the test session's (conftest's ``templates`` fixture sets it)


def copy_or_build(name: str, build: Build, target: str) -> Any:
    """A copy of the session's template ``name`` at ``target``; outside a test session, ``build(target)``."""
    if SESSION is None:
        return build(target)
    return SESSION.copy(name, build, target)


class Templates:
    def __init__(self, work: Path, pg_dsn: str) -> None:
        self.work, self.pg_dsn = work, pg_dsn
        self.built: dict[tuple[str, str], tuple[str, Any]] = {}   # (name, kind) -> (url, build result)
        self.dumps: dict[tuple[str, str], str] = {}
        self.schemas: list[str] = []

    def copy(self, name: str, build: Build, target: str) -> Any:
        """Make ``target`` (a fresh store URL) a copy of the template ``name``; returns what the build returned."""
        kind = Location.parse(target).kind
        if kind == "postgres" and shutil.which("pg_dump") is None:   # no client tools: build it the slow way
            return build(target)
        source, result = self._template(name, kind, build)
        if kind == "sqlite":
            src, dst = sqlite3.connect(Location.parse(source).path), sqlite3.connect(Location.parse(target).path)
            try:
                src.backup(dst)
            finally:
                src.close()
                dst.close()
        else:
            self._pg_copy(name, source, target)
        return result

    def _template(self, name: str, kind: str, build: Build) -> tuple[str, Any]:
        if (name, kind) not in self.built:
            if kind == "sqlite":
                url = str(self.work / f"{name}.sqlite")
            else:
                schema = f"tpl_{uuid.uuid4().hex[:12]}"
                self.schemas.append(schema)
                url = f"{self.pg_dsn}?schema={schema}"
            from .conftest import init_store

            init_store(url)   # a store is created with 'kyogikai init' before commands name it
            self.built[(name, kind)] = (url, build(url))
        return self.built[(name, kind)]

    def _pg_copy(self, name: str, source: str, target: str) -> None:
        import psycopg

        src, dst = Location.parse(source).schema, Location.parse(target).schema
        key = (name, "postgres")
        if key not in self.dumps:
            out = subprocess.run(["pg_dump", "--no-owner", "--no-privileges", "--inserts", "-n", src,
                                  self.pg_dsn.split("?")[0]], capture_output=True, text=True, check=True).stdout
            # psql meta-commands (\restrict …) are not SQL; everything else is
            self.dumps[key] = "\n".join(line for line in out.splitlines() if not line.startswith("\\"))
        with psycopg.connect(self.pg_dsn.split("?")[0], autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{dst}" CASCADE')
            conn.execute(self.dumps[key].replace(src, dst).encode())

    def close(self) -> None:
        if not self.schemas:
            return
        import psycopg

        with psycopg.connect(self.pg_dsn.split("?")[0], autocommit=True) as conn:
            for schema in self.schemas:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
