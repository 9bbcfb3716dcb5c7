"""Programme, Body and Member: given events → command → new events, or the rule that refuses it."""

from __future__ import annotations

import datetime as dt
import pytest

from kyogikai.domain.events import DomainError
from kyogikai.domain.organisation import (
    Body, BodyCreated, BodyDissolved, BodyKind, BodyMemberJoined, BodyMemberLeft, BodyRenamed,
    BodyVisibilityChanged, Member, MemberClass, MemberCreated, MemberDissolved, MemberKind, MemberReclassified,
    MemberRenamed, Programme, ProgrammeCreated, ProgrammeDissolved, ProgrammeMemberJoined, ProgrammeRenamed,
    ProgrammeReordered, Section, check_lg_code,
)

from .support import ACTOR, given, history, names, replays_to_same_state, then

pytestmark = pytest.mark.unit

P = Programme.id_for("会議運営")
Q = Programme.id_for("あいち共同利用型施設予約システム事業")
M1 = Member.id_for("名古屋市", "231002")
M2 = Member.id_for("豊橋市", "232017")


def programme(section=Section.ALL, *more):
    return given(Programme, P, (ProgrammeCreated, {"name": "会議運営", "section": section, "order": 8}), *more)


def participating(*more):
    return given(Programme, Q, (ProgrammeCreated, {"name": "あいち共同利用型施設予約システム事業",
                                                   "section": Section.PARTICIPATING, "order": 3}), *more)


def body(*more, parent=None, depth=1, name="幹事会", kind=BodyKind.BOARD):
    bid = Body.id_for(P, parent, name)
    return given(Body, bid, (BodyCreated, {"name": name, "kind": kind, "programme_id": P, "parent_id": parent,
                                           "order": 1, "depth": depth}), *more)


# --- programme ---------------------------------------------------------------------------------

def test_create_records_one_event_with_a_stable_id_from_the_name():
    p = Programme.create("  会議運営 ", Section.ALL, 8, None, ACTOR)
    [e] = then(p)
    assert isinstance(e, ProgrammeCreated)
    assert (e.originator_id, e.originator_version, e.name, e.section, e.order, e.actor) == \
        (P, 1, "会議運営", Section.ALL, 8, ACTOR)
    assert Programme.create("会議運営", Section.PARTICIPATING, 1, None, ACTOR).id == p.id


@pytest.mark.parametrize("name, order, message", [
    ("", 1, "name is empty"),
    ("x" * 201, 1, "longer than 200"),
    ("会議運営", 0, "programme order must be a whole number from 1 to 9,999"),
    ("会議運営", 10_000, "from 1 to 9,999"),
])
def test_create_refuses_bad_names_and_orders(name, order, message):
    with pytest.raises(DomainError, match=message):
        Programme.create(name, Section.ALL, order, None, ACTOR)


def test_rename_reorder_and_the_same_name_refused():
    p = programme()
    p.rename("総会・幹事会", ACTOR)
    p.reorder(2, ACTOR)
    events = then(p)
    assert names(events) == ["ProgrammeRenamed", "ProgrammeReordered"]
    assert [e.originator_version for e in events] == [2, 3]
    assert (p.name, p.order) == ("総会・幹事会", 2)
    with pytest.raises(DomainError, match="already named"):
        p.rename("総会・幹事会", ACTOR)
    assert then(p) == []


def test_a_dissolved_programme_takes_no_rename_and_no_second_dissolution():
    p = programme(Section.ALL, (ProgrammeDissolved, {"on": dt.date(2024, 3, 31)}))
    for command in (lambda: p.rename("新", ACTOR), lambda: p.dissolve(dt.date(2024, 4, 1), ACTOR),
                    lambda: p.describe("説明", ACTOR)):
        with pytest.raises(DomainError, match="dissolved on 2024-03-31"):
            command()
    assert then(p) == []


def test_only_a_participating_programme_has_a_roster():
    with pytest.raises(DomainError, match="all-member programme"):
        programme().join(M1, dt.date(2023, 4, 1), ACTOR)
    q = participating()
    q.join(M1, dt.date(2023, 4, 1), ACTOR)
    [e] = then(q)
    assert isinstance(e, ProgrammeMemberJoined) and (e.member_id, e.since) == (M1, dt.date(2023, 4, 1))


def test_programme_roster_join_twice_refused_and_rejoin_after_leaving():
    q = participating((ProgrammeMemberJoined, {"member_id": M1, "since": dt.date(2023, 4, 1)}))
    with pytest.raises(DomainError, match="already in since 2023-04-01"):
        q.join(M1, dt.date(2023, 6, 1), ACTOR)
    q.leave(M1, dt.date(2023, 9, 30), ACTOR)
    q.join(M1, dt.date(2024, 4, 1), ACTOR)
    assert names(then(q)) == ["ProgrammeMemberLeft", "ProgrammeMemberJoined"]
    assert q.roster[str(M1)] == [["2023-04-01", "2023-09-30"], ["2024-04-01", None]]


# --- body --------------------------------------------------------------------------------------

def test_body_create_under_a_parent_records_depth_and_parent():
    parent = body(name="情報セキュリティ研究会", kind=BodyKind.STUDY_GROUP)
    b = Body.create(name="セキュリティ監査グループ", kind=BodyKind.GROUP, programme=programme(), parent=parent, order=1,
                    inline=False, public=False, description=None, actor=ACTOR)
    [e] = then(b)
    assert isinstance(e, BodyCreated)
    assert (e.parent_id, e.depth, e.public, e.programme_id) == (parent.id, 2, False, P)
    assert e.originator_id == Body.id_for(P, parent.id, "セキュリティ監査グループ")


def test_body_create_refuses_a_parent_of_another_programme_a_dissolved_parent_and_a_fifth_level():
    other = given(Body, Body.id_for(Q, None, "事業部会"), (BodyCreated, {
        "name": "事業部会", "kind": BodyKind.SUBCOMMITTEE, "programme_id": Q, "order": 1}))
    kw = dict(kind=BodyKind.GROUP, programme=programme(), order=1, inline=False, public=True, description=None,
              actor=ACTOR)
    with pytest.raises(DomainError, match="belongs to another programme"):
        Body.create(name="G", parent=other, **kw)
    with pytest.raises(DomainError, match="dissolved on 2023-12-31"):
        Body.create(name="G", parent=body((BodyDissolved, {"on": dt.date(2023, 12, 31)})), **kw)
    with pytest.raises(DomainError, match="at most four deep"):
        Body.create(name="G", parent=body(depth=4), **kw)
    with pytest.raises(DomainError, match="dissolved"):
        Body.create(name="G", parent=None, **{**kw, "programme": programme(
            Section.ALL, (ProgrammeDissolved, {"on": dt.date(2023, 4, 1)}))})


def test_visibility_change_and_the_same_visibility_refused():
    b = body()
    with pytest.raises(DomainError, match="already public"):
        b.set_public(True, ACTOR)
    b.set_public(False, ACTOR)
    [e] = then(b)
    assert isinstance(e, BodyVisibilityChanged) and e.public is False and e.originator_version == 2


def test_membership_dates_against_a_dissolved_body():
    b = body((BodyDissolved, {"on": dt.date(2024, 1, 1)}))
    b.join(M1, dt.date(2023, 12, 31), ACTOR)          # before the dissolution: still a member then
    with pytest.raises(DomainError, match="dissolved on 2024-01-01"):
        b.join(M2, dt.date(2024, 1, 1), ACTOR)
    with pytest.raises(DomainError, match="dissolved"):
        b.rename("新幹事会", ACTOR)
    [e] = then(b)
    assert isinstance(e, BodyMemberJoined) and e.member_id == M1


def test_leave_rules():
    stored = [(BodyMemberJoined, {"member_id": M1, "since": dt.date(2023, 4, 1)})]
    b = body(*stored)
    with pytest.raises(DomainError, match="member is not in"):
        b.leave(M2, dt.date(2023, 5, 1), ACTOR)
    with pytest.raises(DomainError, match="before the join date 2023-04-01"):
        b.leave(M1, dt.date(2023, 3, 31), ACTOR)
    b.leave(M1, dt.date(2023, 4, 1), ACTOR)            # the same day is a one-day membership
    new = then(b)
    assert names(new) == ["BodyMemberLeft"]
    with pytest.raises(DomainError, match="member is not in"):
        b.leave(M1, dt.date(2023, 5, 1), ACTOR)
    with pytest.raises(DomainError, match="not after the last leave 2023-04-01"):
        b.join(M1, dt.date(2023, 4, 1), ACTOR)
    assert then(b) == []
    bid = b.id
    assert replays_to_same_state(b, history(bid, (BodyCreated, {
        "name": "幹事会", "kind": BodyKind.BOARD, "programme_id": P, "order": 1, "depth": 1}), *stored), new)


def test_a_refused_join_leaves_the_roster_untouched():
    b = body((BodyMemberJoined, {"member_id": M1, "since": dt.date(2023, 4, 1)}))
    before = {k: [list(s) for s in v] for k, v in b.roster.items()}
    with pytest.raises(DomainError):
        b.join(M1, dt.date(2023, 5, 1), ACTOR)
    assert b.roster == before and b.version == 2


# --- member ------------------------------------------------------------------------------------

@pytest.mark.parametrize("code, stored", [("231002", "231002"), ("23100", "231002"), ("232017", "232017")])
def test_local_government_codes_get_their_check_digit(code, stored):
    assert check_lg_code(code) == stored


@pytest.mark.parametrize("code, message", [("231003", "wrong check digit \\(expected 2\\)"),
                                            ("２３１００２", "must be 6 digits"), ("1234", "must be 6 digits")])
def test_local_government_codes_refused(code, message):
    with pytest.raises(DomainError, match=message):
        Member.create("名古屋市", MemberKind.CITY, MemberClass.MEMBER, code, ACTOR)


def test_member_id_follows_the_code_so_a_renamed_member_keeps_it():
    m = Member.create("名古屋市", MemberKind.CITY, MemberClass.MEMBER, "23100", ACTOR)
    [e] = then(m)
    assert isinstance(e, MemberCreated) and e.code == "231002" and m.id == M1
    assert Member.id_for("なごや市", "231002") == M1
    assert Member.id_for("愛知県市町村振興協会", None) != Member.id_for("愛知県市町村課", None)


def test_member_rename_reclassify_dissolve():
    mid = M1
    m = given(Member, mid, (MemberCreated, {"name": "名古屋市", "kind": MemberKind.CITY,
                                            "member_class": MemberClass.MEMBER, "code": "231002"}))
    with pytest.raises(DomainError, match="already member"):
        m.reclassify(MemberClass.MEMBER, ACTOR)
    m.reclassify(MemberClass.ASSOCIATE, ACTOR)
    m.rename("名古屋市役所", dt.date(2024, 1, 1), ACTOR)
    m.dissolve(dt.date(2024, 3, 31), ACTOR)
    events = then(m)
    assert [type(e) for e in events] == [MemberReclassified, MemberRenamed, MemberDissolved]
    assert events[1].on == dt.date(2024, 1, 1)
    with pytest.raises(DomainError, match="dissolved on 2024-03-31"):
        m.rename("X", None, ACTOR)
    with pytest.raises(DomainError, match="dissolved"):
        m.ensure_active(dt.date(2024, 3, 31))
    m.ensure_active(dt.date(2024, 3, 30))   # the day before: still active
    assert then(m) == []


def test_texts_of_new_events_are_checked_before_anything_is_recorded():
    with pytest.raises(DomainError, match="U\\+200F"):
        Programme.create("\u200f会議運営", Section.ALL, 1, None, ACTOR)
    p = programme()
    with pytest.raises(DomainError, match="actor"):
        p.rename("研修", "\x07")
    assert then(p) == [] and p.version == 1

