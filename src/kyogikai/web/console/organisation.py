"""Programmes (事業), bodies (会議体) and member organisations (会員団体) in the console.

- ``/console/organisation`` — programmes with their bodies as a tree, and the forms to create a
  programme or a body.
- ``/console/programmes/{id}`` — rename, describe, dissolve (confirmation page first), the roster of
  a participating-member programme (join / leave), history in JST.
- ``/console/bodies/{id}`` — rename, describe, public or not, dissolve (confirmation first), the
  roster (join / leave), history.
- ``/console/members`` — the member organisations and the form to add one;
  ``/console/members/{id}`` — rename (with the date it took effect), dissolve (confirmation first),
  history.

Each form calls the ``Kyogikai`` command of the matching CLI command (``programme create|rename|
describe|dissolve``, ``body create|rename|describe|visibility|dissolve``, ``member create|rename|
dissolve|join|leave``) with the logged-in user as actor.  Things are passed to the commands by their
full path (``programme/body/sub-body``), so a name used twice never picks the wrong one.  Forms on an
item's page carry the version it showed; a change by someone else since is refused with the input
kept, as on a meeting's page.
"""

from __future__ import annotations

from typing import Any, Callable
from uuid import UUID

from pydantic import ValidationError
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ... import dates
from ...app import ConflictError, UserError
from ...dates import DateError
from ...domain.bodytree import BodyTree
from ...domain.events import MAX_ORDER, DomainError
from ...domain.organisation import BodyKind, MemberClass, MemberKind
from ...projections import organisation as org_rm
from . import Ctx, expect_version, messages
from .forms import Form, date_ja

APP_ERRORS = (UserError, DomainError, DateError)
SECTION_JA = {"all": "全団体事業", "participating": "特定団体事業（参加団体のみ）"}
PLURAL = {"programme": "programmes", "body": "bodies"}
BODY_KIND_JA = {
    "general_assembly": "総会", "steering_committee": "運営委員会", "board": "幹事会", "committee": "委員会",
    "study_group": "研究会", "group": "グループ", "working_group": "ワーキンググループ",
    "selection_committee": "選定委員会", "subcommittee": "部会", "review_meeting": "検討会", "plenary": "全体会",
    "briefing": "説明会", "training": "研修", "other": "その他"}
MEMBER_KIND_JA = {"prefecture": "県", "city": "市", "town": "町", "village": "村", "other": "その他"}
MEMBER_CLASS_JA = {"member": "正会員", "associate": "準会員"}
EVENT_JA = {
    "ProgrammeCreated": "作成", "ProgrammeRenamed": "名称変更", "ProgrammeDescribed": "説明の変更",
    "ProgrammeReordered": "表示順の変更", "ProgrammeDissolved": "廃止", "ProgrammeMemberJoined": "参加",
    "ProgrammeMemberLeft": "参加の終了", "BodyCreated": "作成", "BodyRenamed": "名称変更", "BodyDescribed": "説明の変更",
    "BodyReordered": "表示順の変更", "BodyVisibilityChanged": "公開・非公開の変更", "BodyDissolved": "廃止",
    "BodyMemberJoined": "名簿に追加", "BodyMemberLeft": "名簿から削除", "MemberCreated": "登録",
    "MemberRenamed": "名称変更", "MemberDissolved": "解散", "MemberClassChanged": "会員区分の変更"}
DONE = {"created": "登録しました。", "renamed": "名称を変更しました。", "described": "説明を変更しました。",
        "visibility": "公開・非公開を変更しました。", "dissolved": "廃止（解散）として記録しました。",
        "joined": "名簿に追加しました。", "left": "名簿から外しました。"}
for _k in BodyKind:
    BODY_KIND_JA.setdefault(_k.value, _k.value)


def _date(form: Form, name: str, required: bool = True) -> Any:
    text = form.get(name)
    if not text:
        if required:
            form.error(name, "入力してください。")
        return None
    try:
        return dates.parse_date(text)
    except DateError:
        form.error(name, "日付を読み取れません（例: 令和5年4月1日、R5.4.1、2023-04-01）。")
        return None


def _history(ctx: Ctx, id: str, members: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    members = members if members is not None else {m["id"]: m for m in ctx.app.rows(org_rm.MEMBERS)}
    out = []
    for e in ctx.app.store.load(UUID(id)):
        p = e.payload()
        detail = ", ".join(f"{k}: {v}" for k, v in p.items()
                           if v not in (None, [], "") and not k.endswith("_id") and k not in ("order", "depth"))
        if "member_id" in p:
            m = members.get(str(p["member_id"]))
            detail = (m["name"] if m else str(p["member_id"])) + (f"（{detail}）" if detail else "")
        out.append({"at": e.timestamp, "actor": e.actor, "what": EVENT_JA.get(type(e).__name__, type(e).__name__),
                    "data": detail})
    return out[::-1]


# --- the organisation page ------------------------------------------------------------------------

def _tree(ctx: Ctx) -> list[dict[str, Any]]:
    ctx.app.sync()
    progs = ctx.app.rows(org_rm.PROGRAMMES, order=("ord", "name"))
    bodies = ctx.app.rows(org_rm.BODIES, order=("ord", "name"))
    tree = BodyTree(bodies)

    def walk(programme_id: str) -> list[dict[str, Any]]:
        return [{**b, "depth": depth, "kind_ja": BODY_KIND_JA.get(b["kind"], b["kind"])}
                for b, depth in tree.walk(programme_id)]

    return [{**p, "section_ja": SECTION_JA.get(p["section"], p["section"]), "bodies": walk(p["id"])}
            for p in progs]


def _paths(ctx: Ctx) -> list[str]:
    paths = ctx.app.body_paths()
    live = {b["id"] for b in ctx.app.rows(org_rm.BODIES) if not b["dissolved_on"]}
    return sorted("/".join(p) for bid, p in paths.items() if bid in live)


def organisation_page(ctx: Ctx, form: Form | None = None, target: str | None = None, status: int = 200) -> Response:
    tree = _tree(ctx)
    return ctx.render("console_organisation.html", status=status, tree=tree, form=form or Form(), blank=Form(),
                      target=target, body_paths=_paths(ctx), programmes=[p["name"] for p in tree],
                      body_kinds=BODY_KIND_JA, sections=SECTION_JA,
                      done=DONE.get(ctx.request.query_params.get("done", "")) if form is None else None)


def _run(form: Form, fields: tuple[str, ...], fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except ConflictError:
        form.error(None, messages.CONFLICT)
    except APP_ERRORS as exc:
        form.app_error(exc, fields[0] if fields else None, fields)
    except ValidationError as exc:
        err = exc.errors()[0]
        form.error(None, f"入力を受け付けられません（{err.get('msg', 'invalid')}）。")
    return None


def create_programme(ctx: Ctx) -> Response:
    form = ctx.form
    name = form.text("name", required=True, limit=200)
    section = form.get("section")
    if section not in SECTION_JA:
        form.error("section", "区分を選んでください。")
    order = form.integer("order", 1, MAX_ORDER, required=True)
    description = form.text("description", limit=2000)
    r = None
    if form.ok:
        r = _run(form, ("name", "section", "order"),
                 lambda: ctx.app.create_programme(name or "", section, order or 1, description))
    if r is None:
        return organisation_page(ctx, form, "programme", 409 if form.message == messages.CONFLICT else 400)
    return ctx.console.redirect(f"/console/programmes/{r.id}?done=created")


def create_body(ctx: Ctx) -> Response:
    form = ctx.form
    name = form.text("name", required=True, limit=200)
    parent_text = form.text("parent", required=True, limit=400)
    kind = form.get("kind") or "other"
    if kind not in BODY_KIND_JA:
        form.error("kind", "種類を選んでください。")
    order = form.integer("order", 1, MAX_ORDER)
    description = form.text("description", limit=2000)
    r = None
    if form.ok:
        # the place: a programme name, or a body's path (then the new body goes under it)
        progs = {p["name"] for p in ctx.app.rows(org_rm.PROGRAMMES)}
        where = {"programme": parent_text} if parent_text in progs else {"parent": parent_text}
        r = _run(form, ("parent", "name", "kind", "order", "description"),
                 lambda: ctx.app.create_body(name or "", kind=kind, order=order, inline=form.get("inline") == "yes",
                                             public=form.get("non_public") != "yes", description=description,
                                             **where))
    if r is None:
        return organisation_page(ctx, form, "body", 409 if form.message == messages.CONFLICT else 400)
    return ctx.console.redirect(f"/console/bodies/{r.id}?done=created")


# --- one programme or body ---------------------------------------------------------------------------

def _roster(ctx: Ctx, owner_id: str) -> list[dict[str, Any]]:
    members = {m["id"]: m for m in ctx.app.rows(org_rm.MEMBERS)}
    rows = ctx.app.rows(org_rm.ROSTER, order=("since",), owner_id=owner_id)
    return sorted(({"name": members[r["member_id"]]["name"] if r["member_id"] in members else r["member_id"],
                    "since": date_ja(r["since"]), "until": date_ja(r["until"]) if r["until"] else None}
                   for r in rows), key=lambda r: (r["until"] is not None, r["name"]))


def _thing(ctx: Ctx, kind: str) -> dict[str, Any] | None:
    ctx.app.sync()
    id = str(ctx.request.path_params["id"])
    table = org_rm.PROGRAMMES if kind == "programme" else org_rm.BODIES
    rows = ctx.app.rows(table, id=id)
    if not rows:
        return None
    row = rows[0]
    ref = row["name"] if kind == "programme" else "/".join(ctx.app.body_paths()[id])
    members = [m["name"] for m in ctx.app.rows(org_rm.MEMBERS, order=("name",)) if not m["dissolved_on"]]
    return {"kind": kind, "t": row, "ref": ref, "base": f"/console/{PLURAL[kind]}/{id}", "version": len(ctx.app.store.load(UUID(id))),
            "history": _history(ctx, id), "roster": _roster(ctx, id), "members": members,
            "kind_ja": BODY_KIND_JA.get(row.get("kind", ""), "") if kind == "body" else SECTION_JA[row["section"]],
            "dissolved_ja": date_ja(row["dissolved_on"]) if row["dissolved_on"] else None}


def thing_page(kind: str) -> Callable[..., Response]:
    def handler(ctx: Ctx, form: Form | None = None, target: str | None = None, status: int = 200) -> Response:
        data = _thing(ctx, kind)
        if data is None:
            return ctx.console.site.not_found(ctx.request)
        return ctx.render("console_thing.html", status=status, form=form or Form(), blank=Form(), target=target,
                          done=DONE.get(ctx.request.query_params.get("done", "")) if form is None else None, **data)
    handler.__name__ = f"{kind}_page"
    return handler


def _thing_action(kind: str, name: str, fields: tuple[str, ...],
                  command: Callable[[Ctx, Form, dict[str, Any]], Any]) -> Callable[[Ctx], Response]:
    page = thing_page(kind)

    def handler(ctx: Ctx) -> Response:
        data = _thing(ctx, kind)
        if data is None:
            return ctx.console.site.not_found(ctx.request)
        form = ctx.form
        if form.get("version") != str(data["version"]):
            form.error(None, messages.STALE.replace("この予定", "この記録"))
            return page(ctx, form, name, 409)
        with expect_version(ctx.app, data["t"]["id"], data["version"]):
            outcome = _run(form, fields, lambda: command(ctx, form, data))
        if isinstance(outcome, Response):
            return outcome
        if outcome is None:
            return page(ctx, form, name, 409 if form.message == messages.CONFLICT else 400)
        return ctx.console.redirect(f"/console/{PLURAL[kind]}/{data['t']['id']}?done={outcome}#{name}")

    handler.__name__ = f"{kind}_{name}"
    return handler


def _rename(ctx: Ctx, form: Form, d: dict[str, Any]) -> Any:
    new = form.text("new_name", required=True, limit=200)
    if not form.ok:
        return None
    (ctx.app.rename_programme if d["kind"] == "programme" else ctx.app.rename_body)(d["ref"], new)
    return "renamed"


def _describe(ctx: Ctx, form: Form, d: dict[str, Any]) -> Any:
    text = form.text("description", limit=2000)
    if not form.ok:
        return None
    (ctx.app.describe_programme if d["kind"] == "programme" else ctx.app.describe_body)(d["ref"], text)
    return "described"


def _visibility(ctx: Ctx, form: Form, d: dict[str, Any]) -> Any:
    value = form.get("visibility")
    if value not in ("public", "non-public"):
        form.error("visibility", "公開か非公開かを選んでください。")
        return None
    ctx.app.set_body_public(d["ref"], value == "public")
    return "visibility"


def _dissolve(ctx: Ctx, form: Form, d: dict[str, Any]) -> Any:
    on = _date(form, "on")
    if not form.ok:
        return None
    if form.get("confirm") != "yes":
        return ctx.render("console_confirm.html", form=form, what=d["t"]["name"], when=date_ja(on),
                          action=f"{d['base']}/dissolve", version=d["version"], back=d["base"], title="廃止の確認",
                          text=f"「{d['t']['name']}」を{date_ja(on)}付けで廃止として記録します。よろしいですか。"
                               "廃止後は新しい会議を登録できません。記録は残ります。",
                          fields={"on": form.get("on")}, button="廃止する")
    (ctx.app.dissolve_programme if d["kind"] == "programme" else ctx.app.dissolve_body)(d["ref"], on)
    return "dissolved"


def _join(leave: bool) -> Callable[[Ctx, Form, dict[str, Any]], Any]:
    def command(ctx: Ctx, form: Form, d: dict[str, Any]) -> Any:
        member = form.text("member", required=True, limit=200)
        on = _date(form, "since")
        if not form.ok:
            return None
        ctx.app.join(member or "", since=on, leave=leave, **{d["kind"]: d["ref"]})
        return "left" if leave else "joined"
    return command


THING_ACTIONS: dict[str, tuple[tuple[str, ...], Callable[[Ctx, Form, dict[str, Any]], Any], tuple[str, ...]]] = {
    "rename": (("new_name",), _rename, ("programme", "body")),
    "describe": (("description",), _describe, ("programme", "body")),
    "visibility": (("visibility",), _visibility, ("body",)),
    "dissolve": (("on",), _dissolve, ("programme", "body")),
    "join": (("member", "since"), _join(False), ("programme", "body")),
    "leave": (("member", "since"), _join(True), ("programme", "body")),
}


# --- members ----------------------------------------------------------------------------------------

def members_page(ctx: Ctx, form: Form | None = None, status: int = 200, done: str | None = None) -> Response:
    ctx.app.sync()
    rows = ctx.app.rows(org_rm.MEMBERS, order=("name",))
    for r in rows:
        r["kind_ja"] = MEMBER_KIND_JA.get(r["kind"], r["kind"])
        r["class_ja"] = MEMBER_CLASS_JA.get(r["member_class"], r["member_class"])
        r["dissolved_ja"] = date_ja(r["dissolved_on"]) if r["dissolved_on"] else None
    return ctx.render("console_members.html", status=status, members=rows, form=form or Form(),
                      kinds=MEMBER_KIND_JA, classes=MEMBER_CLASS_JA,
                      done=done or (DONE.get(ctx.request.query_params.get("done", "")) if form is None else None))


def create_member(ctx: Ctx) -> Response:
    form = ctx.form
    name = form.text("name", required=True, limit=200)
    kind, mclass = form.get("kind"), form.get("member_class") or "member"
    if kind not in {k.value for k in MemberKind}:
        form.error("kind", "種別を選んでください。")
    if mclass not in {c.value for c in MemberClass}:
        form.error("member_class", "会員区分を選んでください。")
    code = form.text("code", limit=20)
    r = None
    if form.ok:
        r = _run(form, ("name", "code", "kind"), lambda: ctx.app.create_member(name or "", kind, mclass, code))
    if r is None:
        return members_page(ctx, form, 409 if form.message == messages.CONFLICT else 400)
    return ctx.console.redirect(f"/console/members/{r.id}?done=created")


def import_members(ctx: Ctx) -> Response:
    """``POST /console/members/import``: the members CSV (the command of ``kyogikai members import``,
    all or nothing; the same file again writes nothing)."""
    from ...members_csv import MAX_CSV_BYTES, decode

    form = ctx.form
    upload = ctx.data.get("file")
    text = None
    if not isinstance(upload, dict) or not upload.get("data"):
        form.error("file", "ファイルを選んでください。")
    elif len(upload["data"]) > MAX_CSV_BYTES:
        form.error("file", f"ファイルが大きすぎます（{len(upload['data']):,}バイト。上限は{MAX_CSV_BYTES:,}バイト）。")
    else:
        name = str(upload.get("filename") or "members.csv")[:200]
        text = _run(form, ("file",), lambda: decode(upload["data"], name))
    imported = None
    if form.ok and text is not None:
        imported = _run(form, ("file",), lambda: ctx.app.import_members(text, source=name))
    if imported is None:
        return members_page(ctx, form, 409 if form.message == messages.CONFLICT else 400)
    r = imported.report
    done = (f"取り込みました（登録 {len(r.created)}件、名称変更 {len(r.renamed)}件、区分変更 {len(r.reclassified)}件、"
            f"変更なし {r.unchanged}件）。" if r.changed else f"変更はありません（{r.unchanged}件すべて登録どおりです）。")
    return members_page(ctx, done=done)


def _member(ctx: Ctx) -> dict[str, Any] | None:
    ctx.app.sync()
    id = str(ctx.request.path_params["id"])
    rows = ctx.app.rows(org_rm.MEMBERS, id=id)
    if not rows:
        return None
    row = rows[0]
    paths = ctx.app.body_paths()
    progs = {p["id"]: p["name"] for p in ctx.app.rows(org_rm.PROGRAMMES)}
    on = [{"name": "/".join(paths[r["owner_id"]][1:]) if r["owner_id"] in paths else progs.get(r["owner_id"], "?"),
           "since": date_ja(r["since"]), "until": date_ja(r["until"]) if r["until"] else None}
          for r in ctx.app.rows(org_rm.ROSTER, order=("since",), member_id=id)]
    return {"t": row, "version": len(ctx.app.store.load(UUID(id))), "history": _history(ctx, id), "on": on,
            "kind_ja": MEMBER_KIND_JA.get(row["kind"], row["kind"]),
            "class_ja": MEMBER_CLASS_JA.get(row["member_class"], row["member_class"]),
            "dissolved_ja": date_ja(row["dissolved_on"]) if row["dissolved_on"] else None}


def member_page(ctx: Ctx, form: Form | None = None, target: str | None = None, status: int = 200) -> Response:
    data = _member(ctx)
    if data is None:
        return ctx.console.site.not_found(ctx.request)
    return ctx.render("console_member.html", status=status, form=form or Form(), blank=Form(), target=target,
                      done=DONE.get(ctx.request.query_params.get("done", "")) if form is None else None, **data)


def _member_action(name: str, fields: tuple[str, ...], command: Callable[[Ctx, Form, dict[str, Any]], Any]) -> Callable:
    def handler(ctx: Ctx) -> Response:
        data = _member(ctx)
        if data is None:
            return ctx.console.site.not_found(ctx.request)
        form = ctx.form
        if form.get("version") != str(data["version"]):
            form.error(None, messages.STALE.replace("この予定", "この記録"))
            return member_page(ctx, form, name, 409)
        with expect_version(ctx.app, data["t"]["id"], data["version"]):
            outcome = _run(form, fields, lambda: command(ctx, form, data))
        if isinstance(outcome, Response):
            return outcome
        if outcome is None:
            return member_page(ctx, form, name, 409 if form.message == messages.CONFLICT else 400)
        return ctx.console.redirect(f"/console/members/{data['t']['id']}?done={outcome}#{name}")
    handler.__name__ = f"member_{name}"
    return handler


def _member_rename(ctx: Ctx, form: Form, d: dict[str, Any]) -> Any:
    new = form.text("new_name", required=True, limit=200)
    on = _date(form, "on", required=False)
    if not form.ok:
        return None
    ctx.app.rename_member(d["t"]["code"] or d["t"]["name"], new or "", on)
    return "renamed"


def _member_dissolve(ctx: Ctx, form: Form, d: dict[str, Any]) -> Any:
    on = _date(form, "on")
    if not form.ok:
        return None
    if form.get("confirm") != "yes":
        return ctx.render("console_confirm.html", form=form, title="解散の確認", version=d["version"],
                          action=f"/console/members/{d['t']['id']}/dissolve", back=f"/console/members/{d['t']['id']}",
                          text=f"「{d['t']['name']}」を{date_ja(on)}付けで解散（退会）として記録します。よろしいですか。",
                          fields={"on": form.get("on")}, button="解散として記録する")
    ctx.app.dissolve_member(d["t"]["code"] or d["t"]["name"], on)
    return "dissolved"


def routes(p: Callable[..., Any]) -> list[BaseRoute]:
    out: list[BaseRoute] = [
        Route("/console/organisation", p(organisation_page)),
        Route("/console/programmes/new", p(create_programme), methods=["POST"]),
        Route("/console/bodies/new", p(create_body), methods=["POST"]),
        Route("/console/programmes/{id:uuid}", p(thing_page("programme"))),
        Route("/console/bodies/{id:uuid}", p(thing_page("body"))),
        Route("/console/members", p(members_page)),
        Route("/console/members/new", p(create_member), methods=["POST"]),
        Route("/console/members/import", p(import_members), methods=["POST"]),
        Route("/console/members/{id:uuid}", p(member_page)),
        Route("/console/members/{id:uuid}/rename", p(_member_action("rename", ("new_name", "on"), _member_rename)),
              methods=["POST"]),
        Route("/console/members/{id:uuid}/dissolve", p(_member_action("dissolve", ("on",), _member_dissolve)),
              methods=["POST"]),
    ]
    for name, (fields, command, kinds) in THING_ACTIONS.items():
        for kind in kinds:
            out.append(Route(f"/console/{PLURAL[kind]}/{{id:uuid}}/{name}", p(_thing_action(kind, name, fields, command)),
                             methods=["POST"]))
    return out
