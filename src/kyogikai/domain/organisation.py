"""The council's organisation: programmes (事業), bodies (会議体) and member organisations (団体).

Decisions:
- Sections are fixed: ``all`` (1 全団体事業) and ``participating`` (2 特定団体事業); a programme
  belongs to one.  The council's own bodies (総会, 幹事会 …) belong to the all-member programme
  the report calls 会議運営, exactly as the report shows them.
- Bodies form a tree: a body sits under a programme (ア), under another body ((ア) sub-body) or
  under a sub-body (【…】 group).  ``inline`` bodies (企画提案選定委員会 under its working group)
  have no heading of their own in the report: their meetings are listed with their parent's.
- Ids are deterministic (UUIDv5 of parent and name at creation) so a repeated create is refused
  instead of duplicated; a rename keeps the id.
- Rosters (memberships of bodies, participation in participating-member programmes) live on the
  body or programme as dated joins and leaves.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum
from uuid import UUID

from ..i18n import M, N_
from .events import MAX_ORDER, Aggregate, DomainError, DomainEvent, check_int, stable_id
from .text import block, one_line


class Section(str, Enum):
    ALL = "all"
    PARTICIPATING = "participating"


SECTION_TITLES = {Section.ALL: "全団体事業", Section.PARTICIPATING: "特定団体事業"}


class MemberKind(str, Enum):
    PREFECTURE = "prefecture"
    CITY = "city"
    TOWN = "town"
    VILLAGE = "village"
    OTHER = "other"


class MemberClass(str, Enum):
    MEMBER = "member"        # 会員
    ASSOCIATE = "associate"  # 準会員


class BodyKind(str, Enum):
    GENERAL_ASSEMBLY = "general_assembly"
    STEERING_COMMITTEE = "steering_committee"
    BOARD = "board"
    COMMITTEE = "committee"
    STUDY_GROUP = "study_group"
    GROUP = "group"
    WORKING_GROUP = "working_group"
    SELECTION_COMMITTEE = "selection_committee"
    SUBCOMMITTEE = "subcommittee"
    REVIEW_MEETING = "review_meeting"
    PLENARY = "plenary"
    BRIEFING = "briefing"
    TRAINING = "training"
    OTHER = "other"


_WHAT = (N_("programme"), N_("body"), N_("member"))   # what _name names, in the catalogue


def _name(value: str, what: str) -> str:
    value = one_line(value, f"{what} name")
    if not value:
        raise DomainError(M("{what}: name is empty", what=M(what)))
    if len(value) > 200:
        raise DomainError(M("{what}: name is longer than {limit} characters", what=M(what), limit=200))
    return value


MAX_DESCRIPTION = 2000


def _description(value: str | None) -> str | None:
    if value is not None:
        value = block(value, "description")
    if value is not None and len(value) > MAX_DESCRIPTION:
        raise DomainError(M("description is longer than {limit} characters ({length:,})", limit=MAX_DESCRIPTION,
                             length=len(value)))
    return value


def _roster_join(roster: dict[str, list[list[str | None]]], member: UUID, since: dt.date) -> None:
    spans = roster.setdefault(str(member), [])
    if spans and spans[-1][1] is None:
        raise DomainError(M("member is already in since {since}", since=spans[-1][0]))
    if spans and spans[-1][1] and since.isoformat() <= spans[-1][1]:  # type: ignore[operator]
        raise DomainError(M("join date {since} is not after the last leave {until}", since=since, until=spans[-1][1]))
    spans.append([since.isoformat(), None])


def _roster_leave(roster: dict[str, list[list[str | None]]], member: UUID, until: dt.date) -> None:
    spans = roster.get(str(member))
    if not spans or spans[-1][1] is not None:
        raise DomainError(M("member is not in"))
    if until.isoformat() < spans[-1][0]:  # type: ignore[operator]
        raise DomainError(M("leave date {until} is before the join date {since}", until=until, since=spans[-1][0]))
    spans[-1][1] = until.isoformat()


# --- programme -------------------------------------------------------------------------------

class ProgrammeCreated(DomainEvent):
    name: str
    section: Section
    order: int
    description: str | None = None


class ProgrammeRenamed(DomainEvent):
    name: str


class ProgrammeDescribed(DomainEvent):
    description: str | None


class ProgrammeReordered(DomainEvent):
    order: int


class ProgrammeDissolved(DomainEvent):
    on: dt.date


class ProgrammeMemberJoined(DomainEvent):
    member_id: UUID
    since: dt.date


class ProgrammeMemberLeft(DomainEvent):
    member_id: UUID
    until: dt.date


class Programme(Aggregate):
    name: str
    section: Section
    order: int
    description: str | None
    dissolved_on: dt.date | None = None

    @staticmethod
    def id_for(name: str) -> UUID:
        return stable_id("programme", _name(name, "programme"))

    @classmethod
    def create(cls, name: str, section: Section, order: int, description: str | None, actor: str) -> "Programme":
        name = _name(name, "programme")
        check_int(order, "programme order", 1, MAX_ORDER)
        p = cls(cls.id_for(name))
        p.trigger(ProgrammeCreated, actor, name=name, section=section, order=order, description=_description(description))
        return p

    def apply_ProgrammeCreated(self, e: ProgrammeCreated) -> None:
        self.name, self.section, self.order, self.description = e.name, e.section, e.order, e.description
        self.roster: dict[str, list[list[str | None]]] = {}

    def _alive(self) -> None:
        if self.dissolved_on:
            raise DomainError(M("programme {name!r} was dissolved on {on}", name=self.name, on=self.dissolved_on))

    def rename(self, name: str, actor: str) -> None:
        self._alive()
        name = _name(name, "programme")
        if name == self.name:
            raise DomainError(M("programme is already named {name!r}", name=name))
        self.trigger(ProgrammeRenamed, actor, name=name)

    def apply_ProgrammeRenamed(self, e: ProgrammeRenamed) -> None:
        self.name = e.name

    def describe(self, description: str | None, actor: str) -> None:
        self._alive()
        self.trigger(ProgrammeDescribed, actor, description=_description(description))

    def apply_ProgrammeDescribed(self, e: ProgrammeDescribed) -> None:
        self.description = e.description

    def reorder(self, order: int, actor: str) -> None:
        check_int(order, "programme order", 1, MAX_ORDER)
        self.trigger(ProgrammeReordered, actor, order=order)

    def apply_ProgrammeReordered(self, e: ProgrammeReordered) -> None:
        self.order = e.order

    def dissolve(self, on: dt.date, actor: str) -> None:
        self._alive()
        self.trigger(ProgrammeDissolved, actor, on=on)

    def apply_ProgrammeDissolved(self, e: ProgrammeDissolved) -> None:
        self.dissolved_on = e.on

    def join(self, member_id: UUID, since: dt.date, actor: str) -> None:
        self._alive()
        if self.section is not Section.PARTICIPATING:
            raise DomainError(M("programme {name!r} is an all-member programme: every member takes part", name=self.name))
        _roster_join(dict((k, [list(s) for s in v]) for k, v in self.roster.items()), member_id, since)
        self.trigger(ProgrammeMemberJoined, actor, member_id=member_id, since=since)

    def apply_ProgrammeMemberJoined(self, e: ProgrammeMemberJoined) -> None:
        _roster_join(self.roster, e.member_id, e.since)

    def leave(self, member_id: UUID, until: dt.date, actor: str) -> None:
        _roster_leave(dict((k, [list(s) for s in v]) for k, v in self.roster.items()), member_id, until)
        self.trigger(ProgrammeMemberLeft, actor, member_id=member_id, until=until)

    def apply_ProgrammeMemberLeft(self, e: ProgrammeMemberLeft) -> None:
        _roster_leave(self.roster, e.member_id, e.until)


# --- body ------------------------------------------------------------------------------------

class BodyCreated(DomainEvent):
    name: str
    kind: BodyKind
    programme_id: UUID
    parent_id: UUID | None = None
    order: int
    depth: int = 1
    inline: bool = False
    public: bool = True
    description: str | None = None


class BodyRenamed(DomainEvent):
    name: str


class BodyDescribed(DomainEvent):
    description: str | None


class BodyReordered(DomainEvent):
    order: int


class BodyVisibilityChanged(DomainEvent):
    public: bool


class BodyDissolved(DomainEvent):
    on: dt.date


class BodyMemberJoined(DomainEvent):
    member_id: UUID
    since: dt.date


class BodyMemberLeft(DomainEvent):
    member_id: UUID
    until: dt.date


class Body(Aggregate):
    name: str
    kind: BodyKind
    programme_id: UUID
    parent_id: UUID | None
    dissolved_on: dt.date | None = None

    @staticmethod
    def id_for(programme_id: UUID, parent_id: UUID | None, name: str) -> UUID:
        return stable_id("body", programme_id, parent_id or "", _name(name, "body"))

    @classmethod
    def create(cls, *, name: str, kind: BodyKind, programme: Programme, parent: "Body | None", order: int,
               inline: bool, public: bool, description: str | None, actor: str) -> "Body":
        name = _name(name, "body")
        programme._alive()
        if parent is not None:
            parent.ensure_active()
            if parent.programme_id != programme.id:
                raise DomainError(M("parent body {name!r} belongs to another programme", name=parent.name))
            if parent.depth >= 4:
                raise DomainError(M("body {name!r}: bodies nest at most four deep", name=name))
        check_int(order, "body order", 1, MAX_ORDER)
        b = cls(cls.id_for(programme.id, parent.id if parent else None, name))
        b.trigger(BodyCreated, actor, name=name, kind=kind, programme_id=programme.id,
                  parent_id=parent.id if parent else None, order=order, depth=(parent.depth + 1) if parent else 1,
                  inline=inline, public=public, description=_description(description))
        return b

    def apply_BodyCreated(self, e: BodyCreated) -> None:
        self.name, self.kind, self.programme_id, self.parent_id = e.name, e.kind, e.programme_id, e.parent_id
        self.order, self.inline, self.public, self.description = e.order, e.inline, e.public, e.description
        self.roster: dict[str, list[list[str | None]]] = {}
        self.depth = e.depth

    def ensure_active(self, on: dt.date | None = None) -> None:
        """Refuse activity on a dissolved body (on or after its dissolution date)."""
        if self.dissolved_on and (on is None or on >= self.dissolved_on):
            raise DomainError(M("body {name!r} was dissolved on {on}", name=self.name, on=self.dissolved_on))

    def rename(self, name: str, actor: str) -> None:
        self.ensure_active()
        name = _name(name, "body")
        if name == self.name:
            raise DomainError(M("body is already named {name!r}", name=name))
        self.trigger(BodyRenamed, actor, name=name)

    def apply_BodyRenamed(self, e: BodyRenamed) -> None:
        self.name = e.name

    def describe(self, description: str | None, actor: str) -> None:
        self.ensure_active()
        self.trigger(BodyDescribed, actor, description=_description(description))

    def apply_BodyDescribed(self, e: BodyDescribed) -> None:
        self.description = e.description

    def reorder(self, order: int, actor: str) -> None:
        check_int(order, "body order", 1, MAX_ORDER)
        self.trigger(BodyReordered, actor, order=order)

    def apply_BodyReordered(self, e: BodyReordered) -> None:
        self.order = e.order

    def set_public(self, public: bool, actor: str) -> None:
        if public == self.public:
            raise DomainError(M("body {name!r} is already public", name=self.name) if public
                              else M("body {name!r} is already non-public", name=self.name))
        self.trigger(BodyVisibilityChanged, actor, public=public)

    def apply_BodyVisibilityChanged(self, e: BodyVisibilityChanged) -> None:
        self.public = e.public

    def dissolve(self, on: dt.date, actor: str) -> None:
        self.ensure_active()
        self.trigger(BodyDissolved, actor, on=on)

    def apply_BodyDissolved(self, e: BodyDissolved) -> None:
        self.dissolved_on = e.on

    def join(self, member_id: UUID, since: dt.date, actor: str) -> None:
        self.ensure_active(since)
        _roster_join(dict((k, [list(s) for s in v]) for k, v in self.roster.items()), member_id, since)
        self.trigger(BodyMemberJoined, actor, member_id=member_id, since=since)

    def apply_BodyMemberJoined(self, e: BodyMemberJoined) -> None:
        _roster_join(self.roster, e.member_id, e.since)

    def leave(self, member_id: UUID, until: dt.date, actor: str) -> None:
        _roster_leave(dict((k, [list(s) for s in v]) for k, v in self.roster.items()), member_id, until)
        self.trigger(BodyMemberLeft, actor, member_id=member_id, until=until)

    def apply_BodyMemberLeft(self, e: BodyMemberLeft) -> None:
        _roster_leave(self.roster, e.member_id, e.until)


# --- member organisation ---------------------------------------------------------------------

class MemberCreated(DomainEvent):
    name: str
    kind: MemberKind
    member_class: MemberClass
    code: str | None = None  # 全国地方公共団体コード (6 digits with check digit)


class MemberRenamed(DomainEvent):
    name: str
    on: dt.date | None = None


class MemberDissolved(DomainEvent):
    on: dt.date


class MemberReclassified(DomainEvent):
    member_class: MemberClass


def check_lg_code(code: str) -> str:
    """Validate a 全国地方公共団体コード: 6 digits whose last is the check digit (5 digits accepted)."""
    digits = code.strip()
    if not digits.isascii() or not digits.isdigit() or len(digits) not in (5, 6):
        raise DomainError(M("local government code {code!r} must be 6 digits (or 5 without the check digit)", code=code))
    total = sum(int(d) * w for d, w in zip(digits[:5], (6, 5, 4, 3, 2)))
    check = (11 - total % 11) % 10
    if len(digits) == 6 and int(digits[5]) != check:
        raise DomainError(M("local government code {code!r} has a wrong check digit (expected {check})", code=code, check=check))
    return digits[:5] + str(check)


class Member(Aggregate):
    name: str
    kind: MemberKind
    member_class: MemberClass
    code: str | None
    dissolved_on: dt.date | None = None

    @staticmethod
    def id_for(name: str, code: str | None) -> UUID:
        return stable_id("member", code) if code else stable_id("member-name", _name(name, "member"))

    @classmethod
    def create(cls, name: str, kind: MemberKind, member_class: MemberClass, code: str | None, actor: str) -> "Member":
        name = _name(name, "member")
        code = check_lg_code(code) if code else None
        m = cls(cls.id_for(name, code))
        m.trigger(MemberCreated, actor, name=name, kind=kind, member_class=member_class, code=code)
        return m

    def apply_MemberCreated(self, e: MemberCreated) -> None:
        self.name, self.kind, self.member_class, self.code = e.name, e.kind, e.member_class, e.code

    def ensure_active(self, on: dt.date | None = None) -> None:
        if self.dissolved_on and (on is None or on >= self.dissolved_on):
            raise DomainError(M("member {name!r} was dissolved on {on}", name=self.name, on=self.dissolved_on))

    def rename(self, name: str, on: dt.date | None, actor: str) -> None:
        self.ensure_active()
        name = _name(name, "member")
        if name == self.name:
            raise DomainError(M("member is already named {name!r}", name=name))
        self.trigger(MemberRenamed, actor, name=name, on=on)

    def apply_MemberRenamed(self, e: MemberRenamed) -> None:
        self.name = e.name

    def reclassify(self, member_class: MemberClass, actor: str) -> None:
        if member_class == self.member_class:
            raise DomainError(M("member {name!r} is already {member_class}", name=self.name, member_class=member_class.value))
        self.trigger(MemberReclassified, actor, member_class=member_class)

    def apply_MemberReclassified(self, e: MemberReclassified) -> None:
        self.member_class = e.member_class

    def dissolve(self, on: dt.date, actor: str) -> None:
        self.ensure_active()
        self.trigger(MemberDissolved, actor, on=on)

    def apply_MemberDissolved(self, e: MemberDissolved) -> None:
        self.dissolved_on = e.on
