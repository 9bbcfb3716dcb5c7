"""Who may be recorded at a meeting or activity: attendance, participation and drill results.

The rule (issue 13, point 5), decided here once for the CLI, the console and the demo:

- **A meeting or activity of a body**: the organisations on the body's roster on its first day —
  the same roster answers check and the participation records count
  (:func:`kyogikai.answers.roster_at`: the body's own roster; a body without one in a
  participating-member programme takes the programme's participants; any other body without a
  roster has nobody).
- **An activity without a body** (a programme's training, drill, lecture …): in a
  participating-member programme, the programme's participants on its first day; in an
  all-member programme (全団体事業), every member organisation not dissolved by then — such an
  activity belongs to every member, as its calendar feed says.
- **Anyone else only as a guest** (``--guest``): the event then carries ``guest: true``, so the
  record says the organisation was not on the roster.  ``--guest`` does not make a roster member a
  guest: in one command, organisations on the roster are recorded as usual and only the others
  as guests.  Without ``--guest`` one organisation off the roster refuses the whole command
  (exit 2, naming it and the body or programme), and nothing is written.

The importer of past reports records no attendance, participation or results (a report names no
organisations for them), so the rule never stands in the way of an import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from . import dates
from .i18n import M
from .projections import organisation as org_rm

if TYPE_CHECKING:
    from .application.context import Context as Kyogikai
    from .domain.meeting import Meeting


def roster_of(app: "Kyogikai", m: "Meeting") -> tuple[set[str], str]:
    """The member ids who may be recorded at ``m`` without ``--guest``, and whose roster it is
    (the body's name, else the programme's)."""
    from .answers import roster_at

    day = m.period.start
    with app.reads.statement() as rows:
        if m.body_id is not None:
            body = rows.get(org_rm.BODIES, str(m.body_id))
            return set(roster_at(rows, str(m.body_id), day)), body["name"] if body else str(m.body_id)
        prog = rows.get(org_rm.PROGRAMMES, str(m.programme_id))
        name = prog["name"] if prog else str(m.programme_id)
        if prog is not None and prog["section"] == "participating":
            return set(org_rm.roster_members_on(rows, prog["id"], day.isoformat())), name
        iso = day.isoformat()
        return {r["id"] for r in rows.find(org_rm.MEMBERS)
                if not r["dissolved_on"] or r["dissolved_on"] > iso}, name


def guest_check(app: "Kyogikai", m: "Meeting", guest: bool) -> Callable[[dict[str, Any]], bool]:
    """A function of a member row: False for a member on the roster, True for one that is not when
    ``guest`` is given; otherwise it raises :class:`~kyogikai.app.UserError` naming the member and
    the body (or programme)."""
    from .app import UserError

    on, owner = roster_of(app, m)

    def check(member: dict[str, Any]) -> bool:
        if member["id"] in on:
            return False
        if guest:
            return True
        raise UserError(M("member {member}: not on the roster of {owner} on {date}; add it (member join) "
                          "or record it with --guest", member=member["name"], owner=owner,
                          date=dates.format_date(m.period.start)))

    return check
