"""The application: commands that decide with aggregates and save events, queries on read models.

The CLI, the web console, the importer and the demo call the application, so every rule lives in
``domain/`` and is applied the same way whatever the input.  Every command leaves the read models
current.

**Modules by concern** (``kyogikai.application``), each a class that receives the shared
:class:`~kyogikai.application.context.Context` (store, read models, actor, ``atomic``, ``_load``,
``_save``):

- ``context`` — the context, :class:`UserError`, :class:`Result`, :func:`retry_on_conflict`,
  :func:`resolve_actor`, :func:`tokyo_today`;
- ``names`` — resolving what users type (programme, body, member, meeting id) and meeting labels;
- ``organisation`` — programmes, bodies, member organisations, rosters;
- ``meetings`` — meetings and activities: schedule … hold, agenda, outcomes, attendance,
  participation, drill results, narratives;
- ``tokens`` — private feed tokens: issue, revoke, list;
- ``members`` — the members import (CSV);
- ``council`` — the council's settings;
- ``queries`` — the meetings listing, the log, histories, display names, the past as of a moment.

(The report and log imports live with what they read: ``report/importer.py`` and ``backup.py``;
they call these commands.)

**The facade.** :class:`Kyogikai` *is* the context and builds the services (``app.names``,
``app.organisation``, ``app.meeting_commands``, ``app.tokens``, ``app.members``, ``app.council_settings``,
``app.queries``).  It also keeps every command and query under its historical name: each is a
class attribute made by :func:`_via`, a thin function that calls the service's method of the same
name (so ``Kyogikai.schedule`` can be looked at — its ``retries_conflicts`` flag — or replaced on the
class, as tests do).  New code may call either; the services are the place for new behaviour.

**Reads — the rule applied.** SQL is written only by the adapters and the projections.  Adapters:
``store.py`` and ``ledger.py`` (the event store and its chain), ``projections/runtime.py`` (the
read store), ``accounts.py`` (credentials and sessions are its own tables, written and read by it
alone, never a read model) and the server's connection set-up in ``web/server.py`` (lock waits).
Projections: each module may end with *named queries* on its own tables (joins with the schedule
table to pick a fiscal year are allowed); ``projections/feed_queries.py`` holds those of the feeds
read model.  Everyone else — the application, the CLI, the web, answers, participation, the report
and the feed service — reads with :meth:`Context.rows` (a table and equality conditions),
``rows.find``/``rows.get`` on a :meth:`Context.snapshot`, or a named query (:meth:`Context.read`,
e.g. ``app.read(schedule.ids_where, 2023)``).  :meth:`Context.query` (raw SQL) remains for
tests, benchmarks and diagnostics only.

Errors a user can cause raise :class:`UserError` subclasses with a one-line message; nothing is
written when one is raised (aggregates decide before anything is saved, and a save is one
transaction).  A concurrent change makes a save raise :class:`ConflictError`; the commands marked
with :func:`retry_on_conflict` decide again on fresh state and retry, the others report it.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Sequence

from .application.context import (CONFLICT_ATTEMPTS, Context, Result, UserError, resolve_actor,
                                  retry_on_conflict, tokyo_today)
from .application.council import CouncilSettings
from .application.meetings import Meetings
from .application.members import Members, MembersImported
from .application.names import Names
from .application.organisation import Organisation
from .application.queries import Queries
from .application.tokens import IssuedToken, Tokens
from .dates import DateError
from .domain.events import DomainError, NotFound
from .domain.formats import FormatError
from .store import ConflictError, StoreError, StoreMissing


def _via(service: str, method: Callable) -> Callable:
    """``Kyogikai.<name>``: calls ``self.<service>.<name>`` (keeps the method's name, doc and flags)."""
    name = method.__name__

    @functools.wraps(method)
    def call(self: "Kyogikai", *args: Any, **kwargs: Any) -> Any:
        return getattr(getattr(self, service), name)(*args, **kwargs)
    return call


class Kyogikai(Context):
    """One database opened for one actor: the context plus the application services."""

    def __init__(self, db: str | None = None, actor: str | None = None, projections: Sequence[Any] | None = None,
                 create: bool = True) -> None:
        super().__init__(db, actor, projections, create)
        self.names = Names(self)
        self.organisation = Organisation(self, self.names)
        self.meeting_commands = Meetings(self, self.names, self.organisation)
        self.tokens = Tokens(self, self.names)
        self.members = Members(self)
        self.council_settings = CouncilSettings(self)
        self.queries = Queries(self, self.names)

    def __enter__(self) -> "Kyogikai":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # == resolving what users type (application/names.py) ========================================
    programme = _via("names", Names.programme)
    body_paths = _via("names", Names.body_paths)
    body = _via("names", Names.body)
    member = _via("names", Names.member)
    meeting_row = _via("names", Names.meeting_row)
    label = _via("names", Names.label)

    # == organisation (application/organisation.py) ================================================
    create_programme = _via("organisation", Organisation.create_programme)
    rename_programme = _via("organisation", Organisation.rename_programme)
    describe_programme = _via("organisation", Organisation.describe_programme)
    reorder_programme = _via("organisation", Organisation.reorder_programme)
    dissolve_programme = _via("organisation", Organisation.dissolve_programme)
    create_body = _via("organisation", Organisation.create_body)
    rename_body = _via("organisation", Organisation.rename_body)
    describe_body = _via("organisation", Organisation.describe_body)
    set_body_public = _via("organisation", Organisation.set_body_public)
    reorder_body = _via("organisation", Organisation.reorder_body)
    dissolve_body = _via("organisation", Organisation.dissolve_body)
    create_member = _via("organisation", Organisation.create_member)
    rename_member = _via("organisation", Organisation.rename_member)
    dissolve_member = _via("organisation", Organisation.dissolve_member)
    join = _via("organisation", Organisation.join)

    # == meetings and activities (application/meetings.py) =========================================
    schedule = _via("meeting_commands", Meetings.schedule)
    reschedule = _via("meeting_commands", Meetings.reschedule)
    change_details = _via("meeting_commands", Meetings.change_details)
    change_with_deadline = _via("meeting_commands", Meetings.change_with_deadline)
    cancel = _via("meeting_commands", Meetings.cancel)
    reinstate = _via("meeting_commands", Meetings.reinstate)
    hold = _via("meeting_commands", Meetings.hold)
    add_agenda = _via("meeting_commands", Meetings.add_agenda)
    withdraw_agenda = _via("meeting_commands", Meetings.withdraw_agenda)
    record_outcome = _via("meeting_commands", Meetings.record_outcome)
    record_attendance = _via("meeting_commands", Meetings.record_attendance)
    record_participation = _via("meeting_commands", Meetings.record_participation)
    record_drill_result = _via("meeting_commands", Meetings.record_drill_result)
    write_narrative = _via("meeting_commands", Meetings.write_narrative)

    # == private feed tokens (application/tokens.py) ================================================
    issue_token = _via("tokens", Tokens.issue_token)
    revoke_token = _via("tokens", Tokens.revoke_token)
    feed_tokens = _via("tokens", Tokens.feed_tokens)

    # == the members import (application/members.py) ===============================================
    import_members = _via("members", Members.import_members)
    import_members_file = _via("members", Members.import_members_file)

    # == council settings (application/council.py) ==================================================
    council = _via("council_settings", CouncilSettings.council)
    set_council = _via("council_settings", CouncilSettings.set_council)
    council_history = _via("council_settings", CouncilSettings.council_history)

    # == queries (application/queries.py) ==========================================================
    meetings = _via("queries", Queries.meetings)
    log = _via("queries", Queries.log)
    history = _via("queries", Queries.history)
    display_names = _via("queries", Queries.display_names)
    as_of = _via("queries", Queries.as_of)


__all__ = ["Kyogikai", "UserError", "ConflictError", "StoreError", "DomainError", "DateError", "FormatError",
           "NotFound", "Result", "IssuedToken", "MembersImported", "CONFLICT_ATTEMPTS", "resolve_actor",
           "retry_on_conflict", "tokyo_today", "StoreMissing"]
