"""Participation read model: who attended which meeting, who took part in which activity, drill results.

Event in, rows out.  One row per (meeting or activity, member organisation) in each table; a later
event for the same pair replaces the earlier one (a correction is a new event):

- ``rm_attendance``: the last ``AttendanceRecorded`` — present, absent, replied (to a written
  deliberation) or no_reply.  Recorded for meetings and, where the secretariat takes a roll, for
  activities too.
- ``rm_participation``: the last ``ParticipationRecorded`` — ``took_part`` 1 or 0 (0 is an
  explicit "did not take part", kept so it can override what a drill result implies).
- ``rm_drill_results``: the last ``DrillResultRecorded`` of a drill for an organisation.

Nothing here depends on other read models: dates, status and rosters are joined at read time
from ``rm_meetings`` (schedule) and ``rm_roster`` (organisation) by :mod:`kyogikai.participation`,
which also holds every counting rule.  Rows are keyed by ids, so a renamed organisation (a
municipal merger) keeps its history.
"""

from __future__ import annotations

from ..domain import meeting as m
from ..domain.events import DomainEvent
from .runtime import Rows, Table

NAME = "participation"
VERSION = 1

ATTENDANCE = Table("rm_attendance", {
    "meeting_id": "text", "member_id": "text", "attendance": "text"}, ("meeting_id", "member_id"),
    indexes=(("member_id",),))
PARTICIPATION = Table("rm_participation", {
    "meeting_id": "text", "member_id": "text", "took_part": "int"}, ("meeting_id", "member_id"),
    indexes=(("member_id",),))
DRILL_RESULTS = Table("rm_drill_results", {
    "meeting_id": "text", "member_id": "text", "mails_sent": "int", "links_opened": "int", "reported": "int"},
    ("meeting_id", "member_id"), indexes=(("member_id",),))
TABLES = [ATTENDANCE, PARTICIPATION, DRILL_RESULTS]


def _attendance(e: m.AttendanceRecorded, rows: Rows) -> None:
    rows.put(ATTENDANCE, {"meeting_id": str(e.originator_id), "member_id": str(e.member_id),
                          "attendance": e.attendance.value})


def _participation(e: m.ParticipationRecorded, rows: Rows) -> None:
    rows.put(PARTICIPATION, {"meeting_id": str(e.originator_id), "member_id": str(e.member_id),
                             "took_part": int(e.took_part)})


def _drill_result(e: m.DrillResultRecorded, rows: Rows) -> None:
    rows.put(DRILL_RESULTS, {"meeting_id": str(e.originator_id), "member_id": str(e.member_id),
                             "mails_sent": e.mails_sent, "links_opened": e.links_opened, "reported": e.reported})


HANDLERS = {
    m.AttendanceRecorded: _attendance,
    m.ParticipationRecorded: _participation,
    m.DrillResultRecorded: _drill_result,
}


def apply(e: DomainEvent, rows: Rows) -> None:
    handler = HANDLERS.get(type(e))
    if handler:
        handler(e, rows)
