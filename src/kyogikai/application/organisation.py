"""Organisation commands: programmes (事業), bodies (会議体), member organisations (会員団体) and their
rosters."""

from __future__ import annotations

import datetime as dt

from ..domain import organisation as org
from ..i18n import M
from ..projections import organisation as org_rm
from .context import Context, Result, UserError, retry_on_conflict
from .names import Names


class Organisation:
    def __init__(self, ctx: Context, names: Names) -> None:
        self.ctx, self.names = ctx, names

    # -- aggregates by name ------------------------------------------------------------------------
    def programme_agg(self, name: str) -> org.Programme:
        return self.ctx._load(org.Programme, self.names.programme(name)["id"], "programme")

    def body_agg(self, name: str) -> org.Body:
        return self.ctx._load(org.Body, self.names.body(name)["id"], "body")

    def member_agg(self, name: str) -> org.Member:
        return self.ctx._load(org.Member, self.names.member(name)["id"], "member")

    # -- programmes --------------------------------------------------------------------------------
    @retry_on_conflict
    def create_programme(self, name: str, section: str, order: int, description: str | None = None) -> Result:
        ctx = self.ctx
        ctx._fresh()
        try:
            sec = org.Section(section)
        except ValueError:
            raise UserError(M("section: {section!r} is not one of all, participating", section=section)) from None
        if ctx.rows(org_rm.PROGRAMMES, id=str(org.Programme.id_for(name))):   # see Context.rows
            raise UserError(M("programme {name!r} already exists", name=name))
        p = org.Programme.create(name, sec, order, description, ctx.actor)
        return Result(p.id, ctx._save(p), [])

    def rename_programme(self, name: str, new_name: str) -> Result:
        self.ctx._fresh()
        p = self.programme_agg(name)
        p.rename(new_name, self.ctx.actor)
        return Result(p.id, self.ctx._save(p), [])

    def describe_programme(self, name: str, description: str | None) -> Result:
        self.ctx._fresh()
        p = self.programme_agg(name)
        p.describe(description, self.ctx.actor)
        return Result(p.id, self.ctx._save(p), [])

    def reorder_programme(self, name: str, order: int) -> Result:
        """A programme's display order (the report's (N)): ``ProgrammeReordered``."""
        self.ctx._fresh()
        p = self.programme_agg(name)
        p.reorder(order, self.ctx.actor)
        return Result(p.id, self.ctx._save(p), [])

    def dissolve_programme(self, name: str, on: dt.date) -> Result:
        self.ctx._fresh()
        p = self.programme_agg(name)
        p.dissolve(on, self.ctx.actor)
        return Result(p.id, self.ctx._save(p), [])

    # -- bodies ------------------------------------------------------------------------------------
    @retry_on_conflict
    def create_body(self, name: str, *, programme: str | None = None, parent: str | None = None, kind: str = "other",
                    order: int | None = None, inline: bool = False, public: bool = True,
                    description: str | None = None) -> Result:
        ctx = self.ctx
        ctx._fresh()
        try:
            bkind = org.BodyKind(kind)
        except ValueError:
            raise UserError(M("kind: {kind!r} is not one of {kinds}", kind=kind,
                              kinds=", ".join(k.value for k in org.BodyKind))) from None
        parent_agg = self.body_agg(parent) if parent else None
        if parent_agg is not None:
            prog = ctx._load(org.Programme, parent_agg.programme_id, "programme")
            if programme and self.names.programme(programme)["id"] != str(prog.id):
                raise UserError(M("parent body {parent!r} is not in programme {programme!r}", parent=parent,
                                  programme=programme))
        elif programme:
            prog = self.programme_agg(programme)
        else:
            raise UserError(M("programme: a body needs --programme or --parent"))
        if order is None:
            siblings = ctx.rows(org_rm.BODIES, programme_id=str(prog.id),
                                parent_id=str(parent_agg.id) if parent_agg else None)
            order = max((s["ord"] for s in siblings), default=0) + 1
        if ctx.rows(org_rm.BODIES, id=str(org.Body.id_for(prog.id, parent_agg.id if parent_agg else None, name))):
            raise UserError(M("body {name!r} already exists there", name=name))
        b = org.Body.create(name=name, kind=bkind, programme=prog, parent=parent_agg, order=order, inline=inline,
                            public=public, description=description, actor=ctx.actor)
        return Result(b.id, ctx._save(b), [])

    def rename_body(self, name: str, new_name: str) -> Result:
        self.ctx._fresh()
        b = self.body_agg(name)
        b.rename(new_name, self.ctx.actor)
        return Result(b.id, self.ctx._save(b), [])

    def describe_body(self, name: str, description: str | None) -> Result:
        self.ctx._fresh()
        b = self.body_agg(name)
        b.describe(description, self.ctx.actor)
        return Result(b.id, self.ctx._save(b), [])

    def set_body_public(self, name: str, public: bool) -> Result:
        self.ctx._fresh()
        b = self.body_agg(name)
        b.set_public(public, self.ctx.actor)
        return Result(b.id, self.ctx._save(b), [])

    def reorder_body(self, name: str, order: int) -> Result:
        """A body's display order among its siblings: ``BodyReordered``."""
        self.ctx._fresh()
        b = self.body_agg(name)
        b.reorder(order, self.ctx.actor)
        return Result(b.id, self.ctx._save(b), [])

    def dissolve_body(self, name: str, on: dt.date) -> Result:
        self.ctx._fresh()
        b = self.body_agg(name)
        b.dissolve(on, self.ctx.actor)
        return Result(b.id, self.ctx._save(b), [])

    # -- member organisations ----------------------------------------------------------------------
    @retry_on_conflict
    def create_member(self, name: str, kind: str, member_class: str = "member", code: str | None = None) -> Result:
        ctx = self.ctx
        ctx._fresh()
        try:
            mkind, mclass = org.MemberKind(kind), org.MemberClass(member_class)
        except ValueError:
            raise UserError(M("kind/class: {kind!r}/{member_class!r}: kind is one of {kinds}; class is member or "
                              "associate", kind=kind, member_class=member_class,
                              kinds=", ".join(k.value for k in org.MemberKind))) from None
        m = org.Member.create(name, mkind, mclass, code, ctx.actor)
        if ctx.store.get(org.Member, m.id):
            raise UserError(M("member {name!r} already exists", name=name))
        return Result(m.id, ctx._save(m), [])

    def rename_member(self, name: str, new_name: str, on: dt.date | None = None) -> Result:
        self.ctx._fresh()
        m = self.member_agg(name)
        m.rename(new_name, on, self.ctx.actor)
        return Result(m.id, self.ctx._save(m), [])

    def dissolve_member(self, name: str, on: dt.date) -> Result:
        self.ctx._fresh()
        m = self.member_agg(name)
        m.dissolve(on, self.ctx.actor)
        return Result(m.id, self.ctx._save(m), [])

    @retry_on_conflict
    def join(self, member: str, *, body: str | None = None, programme: str | None = None, since: dt.date,
             leave: bool = False) -> Result:
        """Start (or with ``leave`` end) a member's membership of a body or participation in a programme."""
        self.ctx._fresh()
        m = self.member_agg(member)
        m.ensure_active(since)
        owner: org.Body | org.Programme
        if body:
            owner = self.body_agg(body)
        elif programme:
            owner = self.programme_agg(programme)
        else:
            raise UserError(M("membership: give --body or --programme"))
        if leave:
            owner.leave(m.id, since, self.ctx.actor)
        else:
            owner.join(m.id, since, self.ctx.actor)
        return Result(owner.id, self.ctx._save(owner), [])
