"""Console accounts: ``kyogikai user add|list|role|disable|password``.

The acting user (``--actor`` / ``KYOGIKAI_ACTOR`` / the login name) is recorded on each account
event.  A password is read without echo (typed twice), or from stdin with ``--password-stdin``
(one line; the trailing newline dropped) for scripts.
"""

from __future__ import annotations

import sys

import click

from ..accounts import Accounts
from ..app import UserError
from ..i18n import M, _
from ..domain.users import ROLE_LABELS, Role
from .base import State, cli, dump_json, json_option, pass_app, written_since


def _password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise UserError(M("--password-stdin: nothing on stdin"))
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        raise UserError(M("password: stdin is not a terminal; use --password-stdin"))
    first = click.prompt(_("Password (at least 12 characters)"), hide_input=True, err=True)
    second = click.prompt(_("Again"), hide_input=True, err=True)
    if first != second:
        raise UserError(M("password: the two entries differ; nothing was written"))
    return first


@cli.group("user")
def user() -> None:
    """Accounts of the web console (clerks and admins)."""


@user.command("add")
@json_option
@click.argument("name")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True,
              help="clerk (担当者: records) or admin (管理者: also manages accounts).")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin instead of prompting.")
@pass_app
def user_add(s: State, name: str, role: str, password_stdin: bool) -> None:
    """Create an account (login names are NFKC case-folded)."""
    pw = _password(password_stdin)
    before = s.app.store.max_position()
    n = Accounts(s.app).add(name, role, pw)
    msg = M("added user {name} ({role})", name=n, role=role)
    if not written_since(s.app, before, msg, user=n, role=role):
        click.echo(msg)


@user.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def user_list(s: State, as_json: bool) -> None:
    """Accounts with role and state (never the passwords)."""
    rows = Accounts(s.app).users()
    if as_json:
        dump_json(rows)
        return
    if not rows:
        click.echo(M("(none)"))
    for r in rows:
        state = "active" if r["active"] else "disabled"
        click.echo(f"{r['name']}  {r['role']} ({ROLE_LABELS[Role(r['role'])]})  {state}"
                   + ("" if r["password"] else "  (no password set)"))


@user.command("role")
@json_option
@click.argument("name")
@click.argument("role", type=click.Choice([r.value for r in Role]))
@pass_app
def user_role(s: State, name: str, role: str) -> None:
    """Change an account's role."""
    before = s.app.store.max_position()
    n = Accounts(s.app).set_role(name, role)
    msg = M("user {name} is now {role}", name=n, role=role)
    if not written_since(s.app, before, msg, user=n, role=role):
        click.echo(msg)


@user.command("disable")
@json_option
@click.argument("name")
@pass_app
def user_disable(s: State, name: str) -> None:
    """Disable an account; its sessions end at once."""
    before = s.app.store.max_position()
    n = Accounts(s.app).disable(name)
    msg = M("disabled user {name}", name=n)
    if not written_since(s.app, before, msg, user=n):
        click.echo(msg)


@user.command("password")
@json_option
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin instead of prompting.")
@pass_app
def user_password(s: State, name: str, password_stdin: bool) -> None:
    """Set a new password (ends the account's open sessions)."""
    pw = _password(password_stdin)
    before = s.app.store.max_position()
    n = Accounts(s.app).set_password(name, pw)     # credentials are not events: none is written
    msg = M("set the password of {name}", name=n)
    if not written_since(s.app, before, msg, user=n):
        click.echo(msg)
