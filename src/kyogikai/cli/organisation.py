"""Commands for programmes, bodies and member organisations."""

from __future__ import annotations

from pathlib import Path

import click

from ..domain.bodytree import BodyTree
from ..domain.events import MAX_ORDER
from ..domain.organisation import BodyKind, MemberClass, MemberKind, SECTION_TITLES, Section
from ..projections import organisation as org_rm
from ..i18n import M
from .base import State, cli, date_from, done, dump_json, json_option, pass_app, result_json, wants_json

BODY_KINDS = click.Choice([k.value for k in BodyKind])


@cli.group()
def programme() -> None:
    """Create, rename, describe and dissolve programmes (事業)."""


@programme.command("create")
@json_option
@click.argument("name")
@click.option("--section", type=click.Choice([s.value for s in Section]), required=True,
              help="all = 全団体事業, participating = 特定団体事業")
@click.option("--order", type=click.IntRange(1, MAX_ORDER), required=True, help="Display order (the report's (N)).")
@click.option("--description", help="Standing description.")
@pass_app
def programme_create(s: State, name: str, section: str, order: int, description: str | None) -> None:
    done(s.app, s.app.create_programme(name, section, order, description), M("created programme {name}", name=name))


@programme.command("rename")
@json_option
@click.argument("name")
@click.argument("new_name")
@pass_app
def programme_rename(s: State, name: str, new_name: str) -> None:
    done(s.app, s.app.rename_programme(name, new_name), M("renamed programme {name} to {new_name}", name=name,
                                                                               new_name=new_name))


@programme.command("describe")
@json_option
@click.argument("name")
@click.argument("description", required=False)
@pass_app
def programme_describe(s: State, name: str, description: str | None) -> None:
    done(s.app, s.app.describe_programme(name, description), M("described programme {name}", name=name))


@programme.command("reorder")
@json_option
@click.argument("name")
@click.argument("order", type=click.IntRange(1, MAX_ORDER))
@pass_app
def programme_reorder(s: State, name: str, order: int) -> None:
    """Change a programme's display order (the report's (N))."""
    done(s.app, s.app.reorder_programme(name, order), M("programme {name} is now number {order}", name=name, order=order))


@programme.command("dissolve")
@json_option
@click.argument("name")
@click.option("--on", "on", required=True, help="Date of dissolution.")
@pass_app
def programme_dissolve(s: State, name: str, on: str) -> None:
    done(s.app, s.app.dissolve_programme(name, date_from("--on", on)), M("dissolved programme {name}", name=name))  # type: ignore[arg-type]


@cli.group()
def body() -> None:
    """Create, rename, describe, hide and dissolve bodies (会議体)."""


@body.command("create")
@json_option
@click.argument("name")
@click.option("--programme", help="The programme the body belongs to.")
@click.option("--parent", help="The parent body (name or path) for a sub-body or group.")
@click.option("--kind", type=BODY_KINDS, default="other", show_default=True)
@click.option("--order", type=click.IntRange(1, MAX_ORDER), help="Display order among its siblings (default: last).")
@click.option("--inline", is_flag=True, help="List its meetings with its parent's, without a heading of its own.")
@click.option("--non-public", is_flag=True, help="Keep its items out of public feeds and pages.")
@click.option("--description", help="Standing description.")
@pass_app
def body_create(s: State, name: str, programme: str | None, parent: str | None, kind: str, order: int | None,
                inline: bool, non_public: bool, description: str | None) -> None:
    r = s.app.create_body(name, programme=programme, parent=parent, kind=kind, order=order, inline=inline,
                          public=not non_public, description=description)
    done(s.app, r, M("created body {name}", name=name))


@body.command("rename")
@json_option
@click.argument("name")
@click.argument("new_name")
@pass_app
def body_rename(s: State, name: str, new_name: str) -> None:
    done(s.app, s.app.rename_body(name, new_name), M("renamed body {name} to {new_name}", name=name, new_name=new_name))


@body.command("describe")
@json_option
@click.argument("name")
@click.argument("description", required=False)
@pass_app
def body_describe(s: State, name: str, description: str | None) -> None:
    done(s.app, s.app.describe_body(name, description), M("described body {name}", name=name))


@body.command("visibility")
@json_option
@click.argument("name")
@click.argument("visibility", type=click.Choice(["public", "non-public"]))
@pass_app
def body_visibility(s: State, name: str, visibility: str) -> None:
    done(s.app, s.app.set_body_public(name, visibility == "public"), M("body {name} is now public", name=name) if visibility == "public"
         else M("body {name} is now non-public", name=name))


@body.command("reorder")
@json_option
@click.argument("name")
@click.argument("order", type=click.IntRange(1, MAX_ORDER))
@pass_app
def body_reorder(s: State, name: str, order: int) -> None:
    """Change a body's display order among its siblings (in the report, the feeds and the pages)."""
    done(s.app, s.app.reorder_body(name, order), M("body {name} is now number {order} among its siblings", name=name, order=order))


@body.command("dissolve")
@json_option
@click.argument("name")
@click.option("--on", "on", required=True, help="Date of dissolution.")
@pass_app
def body_dissolve(s: State, name: str, on: str) -> None:
    done(s.app, s.app.dissolve_body(name, date_from("--on", on)), M("dissolved body {name}", name=name))  # type: ignore[arg-type]


@cli.group()
def member() -> None:
    """Member organisations (団体) and their memberships."""


@member.command("create")
@json_option
@click.argument("name")
@click.option("--kind", type=click.Choice([k.value for k in MemberKind]), required=True)
@click.option("--class", "member_class", type=click.Choice([c.value for c in MemberClass]), default="member",
              show_default=True, help="member = 会員, associate = 準会員")
@click.option("--code", help="全国地方公共団体コード (6 digits).")
@pass_app
def member_create(s: State, name: str, kind: str, member_class: str, code: str | None) -> None:
    done(s.app, s.app.create_member(name, kind, member_class, code), M("created member {name}", name=name))


@member.command("rename")
@json_option
@click.argument("name")
@click.argument("new_name")
@click.option("--on", "on", help="Date the new name took effect (e.g. a municipal merger).")
@pass_app
def member_rename(s: State, name: str, new_name: str, on: str | None) -> None:
    done(s.app, s.app.rename_member(name, new_name, date_from("--on", on)), M("renamed member {name} to {new_name}", name=name,
                                                                                               new_name=new_name))


@member.command("dissolve")
@json_option
@click.argument("name")
@click.option("--on", "on", required=True)
@pass_app
def member_dissolve(s: State, name: str, on: str) -> None:
    done(s.app, s.app.dissolve_member(name, date_from("--on", on)), M("dissolved member {name}", name=name))  # type: ignore[arg-type]


@member.command("join")
@json_option
@click.argument("name")
@click.option("--body", help="Body the member joins.")
@click.option("--programme", help="Participating-member programme the member joins.")
@click.option("--since", required=True, help="First day of membership.")
@pass_app
def member_join(s: State, name: str, body: str | None, programme: str | None, since: str) -> None:
    r = s.app.join(name, body=body, programme=programme, since=date_from("--since", since))  # type: ignore[arg-type]
    done(s.app, r, M("{name} joined {group}", name=name, group=body or programme))


@member.command("leave")
@json_option
@click.argument("name")
@click.option("--body")
@click.option("--programme")
@click.option("--on", "on", required=True, help="Last day of membership.")
@pass_app
def member_leave(s: State, name: str, body: str | None, programme: str | None, on: str) -> None:
    r = s.app.join(name, body=body, programme=programme, since=date_from("--on", on), leave=True)  # type: ignore[arg-type]
    done(s.app, r, M("{name} left {group}", name=name, group=body or programme))


@cli.command("bodies")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def bodies(s: State, as_json: bool) -> None:
    """The organisation: sections, programmes and their bodies as a tree."""
    app = s.app
    app.sync()
    progs = app.rows(org_rm.PROGRAMMES, order=("ord", "name", "id"))
    all_bodies = app.rows(org_rm.BODIES, order=("ord", "name", "id"))
    if as_json:
        dump_json({"programmes": progs, "bodies": all_bodies})
        return
    tree = BodyTree(all_bodies)

    def walk(parent: str, depth: int) -> None:
        for b in tree.children(parent):
            flags = [f for f, on in (("inline", b["inline"]), ("non-public", not b["public"]),
                                     (f"dissolved {b['dissolved_on']}", b["dissolved_on"])) if on]
            click.echo("  " * depth + f"{b['name']}" + (f"  [{', '.join(flags)}]" if flags else ""))
            walk(b["id"], depth + 1)

    for sec in Section:
        click.echo(f"{SECTION_TITLES[sec]} ({sec.value})")
        for p in (p for p in progs if p["section"] == sec.value):
            click.echo(f"  ({p['ord']}) {p['name']}" + (f"  [dissolved {p['dissolved_on']}]" if p["dissolved_on"] else ""))
            walk(p["id"], 2)


@cli.group("members", invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def members(ctx: click.Context, as_json: bool) -> None:
    """Member organisations: list them (no subcommand, or 'list'), or import them from a CSV file."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(members_list, as_json=as_json)


@members.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and say what would change; write nothing.")
@click.option("-v", "--verbose", is_flag=True, help="List each member created, renamed or reclassified.")
@json_option
@pass_app
def members_import(s: State, file: Path, dry_run: bool, verbose: bool) -> None:
    """Load member organisations from a CSV file (name,kind,code,class or 団体名,種別,団体コード,区分).

    Idempotent and all or nothing: a bad row names its line and field and nothing is written; the
    same file again writes nothing; a changed name for a known code records a rename.
    """
    imported = s.app.import_members_file(file, dry_run=dry_run)
    report = imported.report
    if wants_json():
        dump_json(result_json(imported.result, report.summary(), dry_run=dry_run, created=report.created,
                              renamed=[list(r) for r in report.renamed],
                              reclassified=[list(r) for r in report.reclassified],
                              unchanged=report.unchanged, would_write=report.events if dry_run else 0))
        return
    if verbose:
        for line in report.details():
            click.echo(line)
    click.echo(report.summary())


@members.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def members_list(s: State, as_json: bool) -> None:
    """Member organisations, by code."""
    s.app.sync()
    rows = s.app.rows(org_rm.MEMBERS, order=("code", "name"))
    if as_json:
        dump_json(rows)
        return
    for m in rows:
        click.echo(f"{m['code'] or '-':7} {m['name']}  {m['kind']}/{m['member_class']}"
                   + (f"  [dissolved {m['dissolved_on']}]" if m["dissolved_on"] else ""))
