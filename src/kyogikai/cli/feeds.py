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
from ..i18n import M
from ..feeds.urls import is_loopback, serve_default
from .base import (State, cli, dump_json, format_time, json_option, local_time, open_app, pass_app, result_json,
                   wants_json, warn)

BASE_URL_HELP = (f"Where people reach the feeds and pages, e.g. https://kyogikai.example.lg.jp (env {BASE_URL_ENV}; "
                 "default http://127.0.0.1:8000, for serve http://HOST:PORT).")


def _base(value: str | None, default: str = DEFAULT_BASE_URL) -> str:
    try:
        return base_url(value, default)
    except BaseURLError as exc:
        source = "--base-url" if value is not None else BASE_URL_ENV if os.environ.get(BASE_URL_ENV) else "--host"
        raise UserError(M("{option}: {problem}", option=source, problem=exc.args[0] if exc.args else exc)) from None


def _stored_or(s: State, value: str | None) -> str | None:
    """``--base-url``, else (unless ``KYOGIKAI_BASE_URL`` is set) the council's stored base URL."""
    if value is None and not os.environ.get(BASE_URL_ENV):
        return s.app.council()["base_url"]
    return value


def _loopback_warning(url: str) -> M:
    return M("the URL is on a loopback address ({url}): it works only on this computer; give --base-url or "
             "record the public one with 'kyogikai council set --base-url URL'", url=url)



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
    service = FeedService(s.app, _base(_stored_or(s, base)))
    f = service.feed_for(body=body, programme=programme, member=member)
    if output is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(f.body)
        sys.stdout.buffer.flush()
        return
    write_output(output, f.body, option="--output", mtime=f.last_modified.timestamp() if f.last_modified else None)
    click.echo(M("wrote {file} ({size} bytes)", file=output, size=len(f.body)))


@cli.command("export-feeds")
@click.argument("directory", type=click.Path())
@base_url_option
@pass_app
def export_feeds(s: State, directory: str, base: str | None) -> None:
    """Write the public site under DIRECTORY: every public feed at its URL path (feeds/all.ics,
    feeds/body/ID.ics …) and every public page (index.html, bodies/ID/index.html,
    bodies/ID/participation/…, programmes/ID/index.html, 404.html).

    Each file is replaced atomically, unchanged files are left alone and the files of bodies that
    became non-public are removed, so any web server can serve DIRECTORY at the base URL.
    """
    url = _base(_stored_or(s, base))
    shown = short(str(directory), 200)
    folder = output_folder(directory, option="directory")  # "" is refused (Path("") would be ".")
    try:
        counts = FeedService(s.app, url).export(folder)
        from ..app import Kyogikai
        from ..web.export import export_pages

        db, actor = s.db, s.actor_name
        pages = export_pages(lambda: Kyogikai(db, actor), url, folder)
    except OSError as exc:
        raise FileSystemError(M("directory: cannot write under {folder}: {reason}", folder=shown,
                                reason=exc.strerror or str(exc))) from None
    click.echo(M("feeds in {folder}: {written} written, {unchanged} unchanged, {removed} removed", folder=directory,
                 written=counts["written"], unchanged=counts["unchanged"], removed=counts["removed"]))
    click.echo(M("pages in {folder}: {written} written, {unchanged} unchanged, {removed} removed (serve {folder} at {url})",
                 folder=directory, written=pages["written"], unchanged=pages["unchanged"], removed=pages["removed"],
                 url=url))


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (loopback by default).")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@base_url_option
@click.option("--access-log/--no-access-log", default=True, show_default=True,
              help="Log one line per request on stderr (private tokens redacted).")
@pass_app
def serve(s: State, host: str, port: int, base: str | None, access_log: bool) -> None:
    """Serve the feeds, the web pages, the members' answer pages and the console (/console/) until interrupted."""
    from ..web import serve as run_server
    from ..web.console import routes as console_routes
    from ..web.participation import routes as participation_routes
    from ..web.answers import routes as answers_routes

    db, actor = s.db, s.actor_name
    from ..app import Kyogikai

    with open_app(db, actor) as probe:  # fail now, with a one-line error, when the database cannot be used
        stored = probe.council()["base_url"]
    _check_listen(host, port)
    given = base if base is not None else (os.environ.get(BASE_URL_ENV) or stored)
    url = _base(given, serve_default(host, port))
    local = is_loopback(f"http://{host}/" if ":" not in host else f"http://[{host}]/")
    if not local and (given is None or is_loopback(url)):
        warn(M("serving on {host} without a public base URL: pages and feeds link to {url}; give --base-url or "
               "record it with 'kyogikai council set --base-url URL'", host=host, url=url))
    click.echo(M("serving on http://{host}:{port} (feeds and links use {url}); Ctrl+C stops", host=host, port=port, url=url),
               err=True)
    if not local and not url.startswith("https://"):
        warn(M("serving on {host} with the http base URL {url}: console passwords and session cookies would travel "
               "in clear; put an https proxy in front and give --base-url https://…", host=host, url=url))
    run_server(lambda: Kyogikai(db, actor), host=host, port=port, base_url=url, access_log=access_log,
               extra_routes=lambda site: [*participation_routes(site), *answers_routes(site), *console_routes(site)])


def _check_listen(host: str, port: int) -> None:
    """Refuse in one line an address the server could not listen on (in use, not ours, unknown)."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UserError(M("--host: cannot resolve {host!r}: {reason}", host=host, reason=str(exc))) from None
    family, _, _, _, addr = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(addr)
        except OSError as exc:
            raise UserError(M("--port: cannot listen on {host}:{port}: {reason}", host=host, port=port,
                                reason=exc.strerror or str(exc))) from None


@cli.group("token")
def token() -> None:
    """Private feed addresses for member organisations (secret, revocable)."""


@token.command("issue")
@click.option("--member", required=True, help="The member organisation.")
@click.option("--label", help="Who or what it is for (担当者, 端末).")
@base_url_option
@json_option
@pass_app
def token_issue(s: State, member: str, label: str | None, base: str | None) -> None:
    """Issue a private feed URL; it is shown once (only its hash is stored)."""
    url = _base(_stored_or(s, base))
    issued = s.app.issue_token(member, label)
    links = FeedService(s.app, url).private_links(issued.secret)
    answers_page = links.url.removesuffix("calendar.ics")
    if is_loopback(url):
        issued.result.warnings.append(_loopback_warning(url))
    if wants_json():
        dump_json(result_json(issued.result, M("issued private feed token for {member}", member=issued.member),
                              member=issued.member, url=links.url, webcal=links.webcal, google=links.google,
                              answers=answers_page))
        return
    click.echo(M("issued private feed token {id} for {member}; the URL is shown only now:",
                 id=str(issued.result.id)[:8], member=issued.member))
    click.echo(f"  {links.url}")
    click.echo(f"  {links.webcal}")
    click.echo(f"  {links.google}")
    click.echo(f"  出欠回答・書面表決のページ: {answers_page}")
    for w in issued.result.warnings:
        warn(w)


@token.command("revoke")
@click.argument("id")
@click.option("--reason")
@json_option
@pass_app
def token_revoke(s: State, id: str, reason: str | None) -> None:
    """Revoke a token by the id shown by 'token list'; its URL answers 404 from then on."""
    result = s.app.revoke_token(id, reason)
    if wants_json():
        dump_json(result_json(result, M("revoked token {id}", id=str(result.id)[:8])))
        return
    click.echo(M("revoked token {id}", id=str(result.id)[:8]))


@token.command("list")
@click.option("--member", help="Only this member organisation's tokens.")
@click.option("--json", "as_json", is_flag=True)
@click.option("--utc", is_flag=True, help="Times in UTC instead of Japan time (JST).")
@pass_app
def token_list(s: State, member: str | None, as_json: bool, utc: bool) -> None:
    """Issued tokens (never the secrets): id, member, label, issued and revoked (Japan time unless --utc)."""
    rows = s.app.feed_tokens(member)
    for r in rows:
        for key in ("issued_at", "revoked_at"):
            if r[key]:
                r[key] = local_time(r[key], utc).isoformat()
    if as_json:
        dump_json(rows)
        return
    if not rows:
        click.echo(M("(none)"))
    for r in rows:
        state = f"revoked {format_time(r['revoked_at'], utc)} by {r['revoked_by']}" if r["revoked_at"] else "active"
        click.echo(f"{r['id'][:8]}  {r['member']}  {r['label'] or '-'}  issued {format_time(r['issued_at'], utc)} "
                   f"by {r['issued_by']}  {state}")
