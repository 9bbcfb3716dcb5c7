"""Calendar feed commands: ``feed``, ``serve``, ``export-feeds`` and ``token issue|revoke|list``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from ..app import UserError
from ..feeds import DEFAULT_BASE_URL, BaseURLError, FeedService, base_url
from ..domain.text import short
from ..files import FileSystemError, output_folder, write_output
from ..feeds.urls import ENV as BASE_URL_ENV
from ..feeds.urls import serve_default
from .base import State, cli, dump_json, pass_app

BASE_URL_HELP = (f"Where people reach the feeds and pages, e.g. https://kyogikai.example.lg.jp (env {BASE_URL_ENV}; "
                 "default http://127.0.0.1:8000, for serve http://HOST:PORT).")


def _base(value: str | None, default: str = DEFAULT_BASE_URL) -> str:
    try:
        return base_url(value, default)
    except BaseURLError as exc:
        source = "--base-url" if value is not None else BASE_URL_ENV if os.environ.get(BASE_URL_ENV) else "--host"
        raise UserError(f"{source}: {exc}") from None


def base_url_option(f):
    return click.option("--base-url", "base", metavar="URL", help=BASE_URL_HELP)(f)


@cli.command("feed")
@click.option("--body", help="A body (name or path), with its sub-bodies and groups.")
@click.option("--programme", help="A programme.")
@click.option("--member", help="A member organisation: everything its bodies and programmes hold.")
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write to FILE (replaced atomically) instead of printing.")
@base_url_option
@pass_app
def feed(s: State, body: str | None, programme: str | None, member: str | None, output: Path | None,
         base: str | None) -> None:
    """Print (or write) one public iCalendar feed; without an option, the feed of everything."""
    service = FeedService(s.app, _base(base))
    f = service.feed_for(body=body, programme=programme, member=member)
    if output is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(f.body)
        sys.stdout.buffer.flush()
        return
    write_output(output, f.body, option="--output", mtime=f.last_modified.timestamp() if f.last_modified else None)
    click.echo(f"wrote {output} ({len(f.body)} bytes)")


@cli.command("export-feeds")
@click.argument("directory", type=click.Path())
@base_url_option
@pass_app
def export_feeds(s: State, directory: str, base: str | None) -> None:
    """Write every public feed under DIRECTORY at its URL path (feeds/all.ics, feeds/body/ID.ics …).

    Each file is replaced atomically, unchanged files are left alone and the feeds of bodies that
    became non-public are removed, so any web server can serve DIRECTORY at the base URL.
    """
    url = _base(base)
    shown = short(str(directory), 200)
    folder = output_folder(directory, option="directory")  # "" is refused (Path("") would be ".")
    try:
        counts = FeedService(s.app, url).export(folder)
    except OSError as exc:
        raise FileSystemError(f"directory: cannot write under {shown}: {exc.strerror or exc}") from None
    click.echo(f"feeds in {directory}: {counts['written']} written, {counts['unchanged']} unchanged, "
               f"{counts['removed']} removed")


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (loopback by default).")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@base_url_option
@click.option("--access-log/--no-access-log", default=True, show_default=True,
              help="Log one line per request on stderr (private tokens redacted).")
@pass_app
def serve(s: State, host: str, port: int, base: str | None, access_log: bool) -> None:
    """Serve the feeds, the web page and the participation pages (starlette on uvicorn) until interrupted."""
    from ..web import serve as run_server
    from ..web.participation import routes as participation_routes

    url = _base(base, serve_default(host, port))
    db, actor = s.db, s.actor_name
    from ..app import Kyogikai

    Kyogikai(db, actor).close()  # fail now, with a one-line error, when the database cannot be used
    click.echo(f"serving on http://{host}:{port} (feeds and links use {url}); Ctrl+C stops", err=True)
    run_server(lambda: Kyogikai(db, actor), host=host, port=port, base_url=url, access_log=access_log,
               extra_routes=participation_routes)


@cli.group("token")
def token() -> None:
    """Private feed addresses for member organisations (secret, revocable)."""


@token.command("issue")
@click.option("--member", required=True, help="The member organisation.")
@click.option("--label", help="Who or what it is for (担当者, 端末).")
@base_url_option
@pass_app
def token_issue(s: State, member: str, label: str | None, base: str | None) -> None:
    """Issue a private feed URL; it is shown once (only its hash is stored)."""
    issued = FeedService(s.app, _base(base)).issue_token(member, label)
    click.echo(f"issued private feed token {issued.id[:8]} for {issued.member}; the URL is shown only now:")
    click.echo(f"  {issued.subscribe.url}")
    click.echo(f"  {issued.subscribe.webcal}")
    click.echo(f"  {issued.subscribe.google}")


@token.command("revoke")
@click.argument("id")
@click.option("--reason")
@pass_app
def token_revoke(s: State, id: str, reason: str | None) -> None:
    """Revoke a token by the id shown by 'token list'; its URL answers 404 from then on."""
    tid = FeedService(s.app, DEFAULT_BASE_URL).revoke_token(id, reason)
    click.echo(f"revoked token {tid[:8]}")


@token.command("list")
@click.option("--member", help="Only this member organisation's tokens.")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def token_list(s: State, member: str | None, as_json: bool) -> None:
    """Issued tokens (never the secrets): id, member, label, issued and revoked."""
    rows = FeedService(s.app, DEFAULT_BASE_URL).tokens(member)
    if as_json:
        dump_json(rows)
        return
    if not rows:
        click.echo("(none)")
    for r in rows:
        state = f"revoked {r['revoked_at'][:19]}Z by {r['revoked_by']}" if r["revoked_at"] else "active"
        click.echo(f"{r['id'][:8]}  {r['member']}  {r['label'] or '-'}  issued {r['issued_at'][:19]}Z by {r['issued_by']}  {state}")
