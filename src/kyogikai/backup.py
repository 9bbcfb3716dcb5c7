"""Backup and restore of the event log: ``kyogikai export-log FILE.jsonl`` / ``import-log FILE.jsonl``.

The file is JSON Lines, UTF-8, one JSON object per line:

1. a header ``{"kyogikai_log":1,"upto":N,"exported_at":"…","source":"sqlite|postgres"}``;
2. one line per stored event, in log order::

     {"position":7,"originator_id":"…","version":2,"topic":"kyogikai:MeetingRescheduled:v1",
      "timestamp":"…","actor":"…","state":{…},"state_sha256":"…"}

   ``state`` is the stored JSON as an object; ``state_sha256`` is the sha256 of the exact stored
   bytes.  When re-encoding the object (compact, key order kept, non-ASCII as is) would not give
   those bytes back, the line also carries ``state_text`` (the exact text) — so a restore is
   byte-exact whatever wrote the event;
3. a footer ``{"end":true,"events":N,"sha256":"…"}``: the count and the sha256 of every event line
   (as written, each with its ``\\n``).

Decisions:
- **Export** reads the log up to the position it had when the export began (writers may go on),
  writes a temporary file next to FILE and renames it into place: a crash never leaves a file that
  looks complete.  ``-`` writes to stdout.
- **Import** goes into an EMPTY store only (refused otherwise: merging two logs would rewrite
  history).  The whole file is checked first — header, footer, count, digest, each line's fields,
  every state's hash, each event's shape against its class (with upcasting), duplicate
  (id, version) pairs — and written in ONE transaction with the library's recorder, preserving
  ids, versions, topics and state bytes exactly.  Positions are the new store's own (1…N in
  order; a source with gaps in its numbering comes out contiguous).  Then the read models and the
  hash chain are built by a normal catch-up.  A crash during import leaves the store empty.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Callable
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from .app import Kyogikai, UserError
from .i18n import M

FORMAT = 1
MAX_LINE_BYTES = 2_000_000          # one event line; states are far smaller
MAX_LOG_BYTES = 1_000_000_000       # the whole file (read into memory; ~1.5 million events)


class LogFileError(UserError):
    """The backup file is not a complete, untouched kyogikai log export (exit 2)."""


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def _canonical(state: bytes) -> tuple[Any, bool]:
    """(the state as an object, whether re-encoding it gives the stored bytes back)."""
    obj = json.loads(state)
    return obj, _dumps(obj).encode() == bytes(state)


@dataclass
class ExportResult:
    events: int
    upto: int
    digest: str


def export_log(app: Kyogikai, out: IO[str]) -> ExportResult:
    store = app.store
    upto = store.max_position()
    header = {"kyogikai_log": FORMAT, "upto": upto,
              "exported_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
              "source": store.location.kind}
    out.write(_dumps(header) + "\n")
    digest = hashlib.sha256()
    count, after = 0, 0
    while upto:
        notes = store.recorder.select_notifications(start=after, limit=1000, stop=upto, inclusive_of_start=False)
        for n in notes:
            state = bytes(n.state)
            line: dict[str, Any] = {"position": n.id, "originator_id": str(n.originator_id),
                                    "version": n.originator_version, "topic": n.topic}
            try:
                obj, exact = _canonical(state)
            except (ValueError, UnicodeDecodeError):
                obj, exact = None, False
            if isinstance(obj, dict):
                line["timestamp"], line["actor"] = obj.get("timestamp"), obj.get("actor")
            line["state"] = obj
            line["state_sha256"] = hashlib.sha256(state).hexdigest()
            if not exact:
                try:
                    line["state_text"] = state.decode("utf-8")
                except UnicodeDecodeError:
                    line["state_b64"] = base64.b64encode(state).decode()
            text = _dumps(line) + "\n"
            out.write(text)
            digest.update(text.encode())
            count += 1
        if len(notes) < 1000:
            break
        after = notes[-1].id
    out.write(_dumps({"end": True, "events": count, "sha256": digest.hexdigest()}) + "\n")
    return ExportResult(count, upto, digest.hexdigest())


def export_log_file(app: Kyogikai, path: str) -> ExportResult:
    if path == "-":
        return export_log(app, sys.stdout)
    from .files import write_output

    def write(fh: IO[bytes]) -> ExportResult:
        out = io.TextIOWrapper(fh, encoding="utf-8", newline="\n")
        try:
            result = export_log(app, out)
            out.flush()
        finally:
            out.detach()
        return result

    # a new file is private to its owner (the log holds every record); a replaced one keeps its mode
    mode = None if os.path.isfile(path) else 0o600
    result = write_output(path, write, option="FILE", mode=mode)
    assert result is not None
    return result


# --- import ------------------------------------------------------------------------------------

@dataclass
class ImportLogResult:
    events: int


def _fail(where: str, msg: M) -> LogFileError:
    return LogFileError(M("{where}: {problem}; nothing imported", where=where, problem=msg))


def read_log(lines: list[bytes], name: str, app: Kyogikai,
             progress: Callable[[int, int], None] | None = None) -> list[StoredEvent]:
    """Check a whole export and return its stored events; raise LogFileError naming the first problem.
    ``progress(done, total)`` counts the lines checked (total: twice the events, the writing follows)."""
    if not lines:
        raise _fail(name, M("the file is empty, not a kyogikai log export"))

    def parse(i: int) -> Any:
        raw = lines[i]
        if len(raw) > MAX_LINE_BYTES:
            raise _fail(f"{name}:{i + 1}", M("line is {size:,} bytes; the limit is {limit:,}", size=len(raw),
                                             limit=MAX_LINE_BYTES))
        try:
            return json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise _fail(f"{name}:{i + 1}", M("not UTF-8 (byte {byte})", byte=exc.start)) from None
        except ValueError as exc:
            raise _fail(f"{name}:{i + 1}", M("not JSON ({reason})", reason=str(exc).splitlines()[0])) from None

    header = parse(0)
    if not isinstance(header, dict) or "kyogikai_log" not in header:
        raise _fail(f"{name}:1", M("no kyogikai log header (is this a file written by 'kyogikai export-log'?)"))
    if header.get("kyogikai_log") != FORMAT:
        raise _fail(f"{name}:1", M("log format {format!r} is not supported (this kyogikai reads {supported})",
                                   format=header.get("kyogikai_log"), supported=FORMAT))
    footer = parse(len(lines) - 1) if len(lines) > 1 else None
    if not isinstance(footer, dict) or footer.get("end") is not True:
        raise _fail(f"{name}:{len(lines)}", M("no end line: the file is truncated"))
    body = lines[1:-1]
    if footer.get("events") != len(body):
        raise _fail(f"{name}:{len(lines)}", M("the end line counts {counted!r} events, the file holds {held}",
                                              counted=footer.get("events"), held=len(body)))
    digest = hashlib.sha256()
    for raw in body:
        digest.update(raw + b"\n")
    if digest.hexdigest() != footer.get("sha256"):
        raise _fail(f"{name}:{len(lines)}", M("the digest does not match the events: the file was altered or damaged"))

    out: list[StoredEvent] = []
    seen: set[tuple[UUID, int]] = set()
    last = 0
    mapper = app.store.mapper
    for i in range(1, len(lines) - 1):
        where = f"{name}:{i + 1}"
        rec = parse(i)
        if not isinstance(rec, dict):
            raise _fail(where, M("an event line must be a JSON object"))
        try:
            position, version, topic = rec["position"], rec["version"], rec["topic"]
            oid = UUID(str(rec["originator_id"]))
        except KeyError as exc:
            raise _fail(where, M("missing field {field!r}", field=exc.args[0])) from None
        except ValueError:
            raise _fail(where, M("originator_id {value!r} is not a UUID", value=rec.get("originator_id"))) from None
        if type(position) is not int or position <= last:
            raise _fail(where, M("position {position!r} is not after the previous one ({last})", position=position,
                                 last=last))
        last = position
        if type(version) is not int or version < 1:
            raise _fail(where, M("version {version!r} must be a whole number from 1", version=version))
        if not isinstance(topic, str) or not topic.startswith(mapper.PREFIX):
            raise _fail(where, M("topic {topic!r} is not a kyogikai event topic", topic=topic))
        if (oid, version) in seen:
            raise _fail(where, M("event {id} version {version} appears twice", id=oid, version=version))
        seen.add((oid, version))
        if "state_b64" in rec:
            try:
                state = base64.b64decode(str(rec["state_b64"]), validate=True)
            except ValueError:
                raise _fail(where, M("state_b64 is not base64")) from None
        elif "state_text" in rec:
            if not isinstance(rec["state_text"], str):
                raise _fail(where, M("state_text must be a string"))
            state = rec["state_text"].encode("utf-8")
        else:
            state = _dumps(rec.get("state")).encode("utf-8")
        if hashlib.sha256(state).hexdigest() != rec.get("state_sha256"):
            raise _fail(where, M("the state does not match its state_sha256"))
        stored = StoredEvent(originator_id=oid, originator_version=version, topic=topic, state=state)
        try:
            mapper.to_domain(stored)
        except Exception as exc:  # any way an event fails to load
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise _fail(where, M("{topic} does not load: {reason}", topic=topic, reason=first[:200])) from None
        out.append(stored)
        if progress is not None and i % PROGRESS_EVERY == 0:
            progress(i, 2 * (len(lines) - 2))
    return out


PROGRESS_EVERY = 1000    # events between two progress reports of import-log


def import_log_file(app: Kyogikai, path: str, progress: Callable[[int, int], None] | None = None) -> ImportLogResult:
    """Check the whole file, then write it in one transaction; ``progress(done, total)`` is told
    about both halves (the events checked, then written — in pieces of the same transaction)."""
    from .files import read_input

    p = Path(path)
    data = read_input(path, option="FILE", limit=MAX_LOG_BYTES, stdin=True)
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    events = read_log(lines, p.name if path != "-" else "stdin", app, progress)
    # one transaction: the emptiness check, every event, its chain record and the read models
    with app.atomic():
        if app.store.max_position() != 0:
            raise UserError(M("the store at {location} is not empty ({count} events): import-log restores into an empty "
                              "store only", location=app.location.describe(), count=app.store.max_position()))
        for start in range(0, len(events), PROGRESS_EVERY):
            app.runtime.write(events[start:start + PROGRESS_EVERY])
            if progress is not None:
                progress(len(events) + min(start + PROGRESS_EVERY, len(events)), 2 * len(events))
    return ImportLogResult(len(events))
