"""Answers read model: each member organisation's current attendance answer and written votes per meeting.

Event in, rows out.  A later answer (or vote) of the same member for the same meeting (item)
replaces the row; the log keeps every one.  ``rm_answer_deadlines`` holds the deadlines set
explicitly (the default, the day before the meeting, is computed by :mod:`kyogikai.answers`).
Rosters, dates and agenda come from the organisation and schedule read models at read time.
"""

from __future__ import annotations

from ..domain import answers as a
from .runtime import Rows, SQLRows, Table

NAME = "answers"
VERSION = 1

DEADLINES = Table("rm_answer_deadlines", {"meeting_id": "text", "answer_by": "text"}, ("meeting_id",))
ANSWERS = Table("rm_answers", {
    "meeting_id": "text", "member_id": "text", "answer": "text", "proxy": "text", "comment": "text",
    "answered_at": "text", "answered_by": "text", "via": "text"}, ("meeting_id", "member_id"),
    indexes=(("member_id",),))
VOTES = Table("rm_votes", {
    "meeting_id": "text", "item_id": "text", "member_id": "text", "vote": "text", "voted_at": "text",
    "voted_by": "text", "via": "text"}, ("meeting_id", "item_id", "member_id"), indexes=(("member_id",),))
TABLES = [DEADLINES, ANSWERS, VOTES]


def _deadline(e: a.AnswerDeadlineSet, rows: Rows) -> None:
    rows.put(DEADLINES, {"meeting_id": str(e.meeting_id), "answer_by": e.answer_by.isoformat()})


def _answered(e: a.AttendanceAnswered, rows: Rows) -> None:
    rows.put(ANSWERS, {"meeting_id": str(e.meeting_id), "member_id": str(e.member_id), "answer": e.answer.value,
                       "proxy": e.proxy, "comment": e.comment, "answered_at": e.timestamp.isoformat(),
                       "answered_by": e.actor, "via": e.via.value})


def _voted(e: a.WrittenVoteCast, rows: Rows) -> None:
    rows.put(VOTES, {"meeting_id": str(e.meeting_id), "item_id": str(e.item_id), "member_id": str(e.member_id),
                     "vote": e.vote.value, "voted_at": e.timestamp.isoformat(), "voted_by": e.actor,
                     "via": e.via.value})


HANDLERS = {
    a.AnswerDeadlineSet: _deadline,
    a.AttendanceAnswered: _answered,
    a.WrittenVoteCast: _voted,
}




# --- named queries (joined with the schedule read model for the fiscal year) ----------------------

_OF_YEAR = "JOIN rm_meetings m ON m.id = t.meeting_id WHERE m.fiscal_year = ?"


def year_answers(rows: SQLRows, fiscal_year: int) -> dict[tuple[str, str], str]:
    """(meeting id, member id) → attendance answer (出欠回答), for the meetings of a fiscal year."""
    return {(a, b): s for a, b, s in rows.execute(
        f"SELECT t.meeting_id, t.member_id, t.answer FROM {ANSWERS.name} t {_OF_YEAR}", (fiscal_year,))}


def year_written_voters(rows: SQLRows, fiscal_year: int) -> set[tuple[str, str]]:
    """(meeting id, member id) of every member that voted in a written meeting of a fiscal year."""
    return {(a, b) for a, b in rows.execute(
        f"SELECT DISTINCT t.meeting_id, t.member_id FROM {VOTES.name} t {_OF_YEAR} AND m.format = 'written'",
        (fiscal_year,))}
