"""Clerk's side of members' answers (出欠回答) and written votes (書面表決): ``meeting answer``, ``vote``, ``answers``."""

from __future__ import annotations

import json
import sys

import click

from .. import answers as ans
from ..app import UserError
from ..i18n import M
from .base import State, done, json_option, pass_app
from .meetings import meeting


@meeting.command("answer")
@json_option
@click.argument("id")
@click.option("--member", required=True, help="Member organisation answering (name or code).")
@click.option("--answer", "answer", required=True, metavar="present|proxy|absent", help="出席, 代理出席 or 欠席.")
@click.option("--proxy", help="Who attends on the member's behalf (with --answer proxy).")
@click.option("--comment", help="A note from the member (連絡事項).")
@pass_app
def answer(s: State, id, member, answer, proxy, comment) -> None:
    """Record a member organisation's attendance answer on its behalf (until the meeting's first day)."""
    r = ans.record_answer(s.app, id, answer, member=member, proxy=proxy, comment=comment)
    done(s.app, r, M("recorded the answer") if r.events else M("unchanged: the answer is already recorded"))


@meeting.command("vote")
@json_option
@click.argument("id")
@click.option("--item", required=True, type=int, metavar="N", help="Agenda item number (1 …).")
@click.option("--member", required=True, help="Member organisation voting (name or code).")
@click.option("--vote", "vote", required=True, metavar="for|against|abstain", help="賛成, 反対 or 棄権.")
@pass_app
def vote(s: State, id, item, member, vote) -> None:
    """Record a member's written vote (書面表決) on an agenda item of a meeting held in writing."""
    r = ans.cast_vote(s.app, id, item, vote, member=member)
    done(s.app, r, M("recorded the vote") if r.events else M("unchanged: the vote is already recorded"))


@meeting.command("answers")
@click.argument("id")
@click.option("--json", "as_json", is_flag=True, help="JSON: member, answer, proxy, comment, answered_at, answered_by.")
@click.option("--csv", "as_csv", is_flag=True, help="CSV for Excel (UTF-8 with BOM).")
@click.option("--pending", is_flag=True, help="Only the members who have not answered (未回答).")
@pass_app
def answers(s: State, id, as_json, as_csv, pending) -> None:
    """Every roster member with its answer or none; for a written meeting, the tally per agenda item."""
    if as_json and as_csv:
        raise UserError(M("--json/--csv: give one of them"))
    rep = ans.meeting_answers(s.app, id)
    if as_json:
        out = {"meeting": rep["meeting"], "counts": rep["counts"], "rows": ans.json_rows(rep, pending)}
        if rep["written"]:
            out["items"] = [{k: i[k] for k in ("number", "text", "members", "for", "against", "abstain",
                                               "not_answered", "outcome", "outcome_source")} for i in rep["items"]]
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
    elif as_csv:
        sys.stdout.buffer.write(ans.render_csv(rep, pending))
        sys.stdout.buffer.flush()
    else:
        click.echo(ans.render_table(rep, pending), nl=False)
