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
from .runtime import Rows, SQLRows, Table

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
    rows.put(ATTENDANCE, {"meeting_id": e.oid, "member_id": str(e.member_id),
                          "attendance": e.attendance.value})


def _participation(e: m.ParticipationRecorded, rows: Rows) -> None:
    rows.put(PARTICIPATION, {"meeting_id": e.oid, "member_id": str(e.member_id),
                             "took_part": int(e.took_part)})


def _drill_result(e: m.DrillResultRecorded, rows: Rows) -> None:
    rows.put(DRILL_RESULTS, {"meeting_id": e.oid, "member_id": str(e.member_id),
                             "mails_sent": e.mails_sent, "links_opened": e.links_opened, "reported": e.reported})


HANDLERS = {
    m.AttendanceRecorded: _attendance,
    m.ParticipationRecorded: _participation,
    m.DrillResultRecorded: _drill_result,
}




# --- named queries (the year's records; joined with the schedule read model for the fiscal year) --

_OF_YEAR = "JOIN rm_meetings m ON m.id = t.meeting_id WHERE m.fiscal_year = ?"


def year_attendance(rows: SQLRows, fiscal_year: int) -> dict[tuple[str, str], str]:
    """(meeting id, member id) → attendance, for the meetings of a fiscal year."""
    return {(a, b): s for a, b, s in rows.execute(
        f"SELECT t.meeting_id, t.member_id, t.attendance FROM {ATTENDANCE.name} t {_OF_YEAR}", (fiscal_year,))}


def year_participation(rows: SQLRows, fiscal_year: int) -> dict[tuple[str, str], bool]:
    """(meeting id, member id) → took part, for the activities of a fiscal year."""
    return {(a, b): bool(s) for a, b, s in rows.execute(
        f"SELECT t.meeting_id, t.member_id, t.took_part FROM {PARTICIPATION.name} t {_OF_YEAR}", (fiscal_year,))}


def year_drill_results(rows: SQLRows, fiscal_year: int) -> dict[tuple[str, str], dict[str, int | None]]:
    """(drill id, member id) → mails sent, links opened, reported, for the drills of a fiscal year."""
    return {(a, b): {"mails_sent": s, "links_opened": o, "reported": r} for a, b, s, o, r in rows.execute(
        f"SELECT t.meeting_id, t.member_id, t.mails_sent, t.links_opened, t.reported FROM {DRILL_RESULTS.name} t "
        f"{_OF_YEAR}", (fiscal_year,))}
