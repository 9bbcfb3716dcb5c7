"""The calendar feed read model, event → rows: which feeds hold an item, and the text a calendar shows.

Through every read model in memory (:class:`ReadModel`); the tables are read by their stored names
(``rm_feed_items``, ``rm_feed_entries``, ``rm_feed_feeds``, ``rm_feed_tokens``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest

from kyogikai.dates import MONTH
from kyogikai.domain.formats import Format
from kyogikai.domain.meeting import (
    AgendaItemAdded, AgendaItemWithdrawn, Kind, MeetingCancelled, MeetingDetailsChanged, MeetingHeld,
    MeetingReinstated, MeetingRescheduled, MeetingScheduled, OutcomeRecorded,
)
from kyogikai.domain.organisation import (
    BodyCreated, BodyKind, BodyMemberJoined, BodyMemberLeft, BodyRenamed, BodyVisibilityChanged, MemberClass,
    MemberCreated, MemberDissolved, MemberKind, ProgrammeCreated, ProgrammeMemberJoined, Section,
)
from kyogikai.domain.tokens import FeedTokenIssued, FeedTokenRevoked

from .support import ReadModel, event, uid

pytestmark = pytest.mark.unit

P, Q = uid("programme"), uid("participating programme")
BODY, SUB, GROUP = uid("幹事会"), uid("研究会"), uid("監査グループ")
M1, M2 = uid("名古屋市"), uid("豊橋市")
MID = uid("meeting")
D = dt.date(2023, 10, 11)


def stamp(minutes: int) -> str:
    return (dt.datetime(2023, 4, 3) + dt.timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def member(id, name, at=0):
    return event(MemberCreated, id, at=at, name=name, kind=MemberKind.CITY, member_class=MemberClass.MEMBER)


def organisation(sub_public=True):
    return [event(ProgrammeCreated, P, name="会議運営", section=Section.ALL, order=8),
            event(ProgrammeCreated, Q, name="施設予約システム事業", section=Section.PARTICIPATING, order=3),
            event(BodyCreated, BODY, name="幹事会", kind=BodyKind.BOARD, programme_id=P, order=1),
            event(BodyCreated, SUB, name="情報セキュリティ研究会", kind=BodyKind.STUDY_GROUP, programme_id=P, order=2,
                  public=sub_public),
            event(BodyCreated, GROUP, name="監査グループ", kind=BodyKind.GROUP, programme_id=P, parent_id=SUB, order=1,
                  depth=2),
            member(M1, "名古屋市"), member(M2, "豊橋市")]


def scheduled(id=MID, body=BODY, at=10, **over):
    return event(MeetingScheduled, id, 1, at, **{
        "kind": Kind.MEETING, "programme_id": P, "body_id": body, "ordinal": 2, "start": D, "end": D,
        "format": Format.WEB, **over})


def feeds_of(rm: ReadModel, item_id) -> set[str]:
    keys = set(rm.column("rm_feed_entries", "feed_key", item_id=str(item_id)))
    names = {"all": "all", f"programme:{P}": "P", f"programme:{Q}": "Q", f"body:{BODY}": "幹事会",
             f"body:{SUB}": "研究会", f"body:{GROUP}": "監査グループ", f"member:{M1}": "名古屋市", f"member:{M2}": "豊橋市"}
    return {names.get(k, k) for k in keys}


def item(rm: ReadModel, id=MID) -> dict:
    return rm.row("rm_feed_items", id=str(id))


# --- which feeds hold an item --------------------------------------------------------------------

def test_an_item_of_a_group_is_in_its_body_its_parents_its_programme_and_all():
    rm = ReadModel().apply(organisation(), scheduled(body=GROUP, ordinal=1))
    assert feeds_of(rm, MID) == {"all", "P", "監査グループ", "研究会"}


def test_a_member_sees_the_items_of_its_bodies_while_it_is_on_them():
    rm = ReadModel().apply(organisation(), event(BodyMemberJoined, SUB, 2, 1, member_id=M1, since=dt.date(2023, 4, 1)),
                           scheduled(body=GROUP, ordinal=1))
    assert "名古屋市" in feeds_of(rm, MID) and "豊橋市" not in feeds_of(rm, MID)   # a parent body's roster counts
    rm.apply(event(BodyMemberLeft, SUB, 3, 20, member_id=M1, until=dt.date(2023, 9, 30)))
    assert "名古屋市" not in feeds_of(rm, MID)                                     # left before the meeting
    rm.apply(event(BodyMemberJoined, SUB, 4, 30, member_id=M1, since=dt.date(2023, 10, 11)))
    assert "名古屋市" in feeds_of(rm, MID)                                         # back on the day itself
    assert rm.row("rm_feed_feeds", key=f"member:{M1}")["changed_at"] == stamp(30)


def test_a_meeting_moved_out_of_the_membership_leaves_the_members_feed():
    rm = ReadModel().apply(organisation(),
                           event(BodyMemberJoined, BODY, 2, 1, member_id=M1, since=dt.date(2023, 4, 1)),
                           event(BodyMemberLeft, BODY, 3, 2, member_id=M1, until=dt.date(2023, 12, 31)),
                           scheduled())
    assert "名古屋市" in feeds_of(rm, MID)
    rm.apply(event(MeetingRescheduled, MID, 2, 20, start=dt.date(2024, 1, 10), end=dt.date(2024, 1, 10), reason=None))
    assert "名古屋市" not in feeds_of(rm, MID)


def test_participating_programmes_count_their_members_only():
    rm = ReadModel().apply(organisation(), event(ProgrammeMemberJoined, Q, 2, 1, member_id=M2, since=dt.date(2023, 4, 1)),
                           scheduled(programme_id=Q, body=None, kind=Kind.BRIEFING, ordinal=None, title="事業説明会"))
    assert feeds_of(rm, MID) == {"all", "Q", "豊橋市"}


def test_all_member_items_reach_every_member_even_one_created_later():
    assembly = uid("総会")
    rm = ReadModel().apply(organisation(),
                           event(BodyCreated, assembly, name="総会", kind=BodyKind.GENERAL_ASSEMBLY, programme_id=P, order=0),
                           scheduled(body=assembly, ordinal=1),
                           scheduled(uid("training"), body=None, kind=Kind.TRAINING, ordinal=None, title="研修"))
    assert {"名古屋市", "豊橋市"} <= feeds_of(rm, MID)
    assert {"名古屋市", "豊橋市"} <= feeds_of(rm, uid("training"))
    late = uid("岡崎市")
    rm.apply(member(late, "岡崎市", at=30))
    assert f"member:{late}" in rm.column("rm_feed_entries", "feed_key", item_id=str(MID))
    assert "名古屋市" not in feeds_of(ReadModel().apply(organisation(), scheduled()), MID)   # a board is not everyone's


def test_a_dissolved_member_keeps_what_came_before_and_loses_what_comes_after():
    earlier, later = uid("earlier"), uid("later")
    rm = ReadModel().apply(organisation(),
                           scheduled(earlier, body=None, kind=Kind.TRAINING, ordinal=None, title="研修A",
                                     start=dt.date(2023, 6, 1), end=dt.date(2023, 6, 1)),
                           scheduled(later, body=None, kind=Kind.TRAINING, ordinal=None, title="研修B",
                                     start=dt.date(2024, 6, 1), end=dt.date(2024, 6, 1)),
                           event(MemberDissolved, M1, 2, 40, on=dt.date(2024, 1, 1)))
    assert "名古屋市" in feeds_of(rm, earlier) and "名古屋市" not in feeds_of(rm, later)
    assert "豊橋市" in feeds_of(rm, later)


# --- visibility ----------------------------------------------------------------------------------

def test_a_non_public_body_hides_its_subtree_and_making_it_public_shows_it():
    rm = ReadModel().apply(organisation(sub_public=False), scheduled(body=GROUP, ordinal=1))
    row = item(rm)
    assert (row["public"], row["url_path"]) == (0, None)
    assert rm.row("rm_feed_feeds", key=f"body:{GROUP}")["public"] == 0        # inherited from the parent
    assert feeds_of(rm, MID) == {"all", "P", "監査グループ", "研究会"}          # entries kept; reads filter on public
    rm.apply(event(BodyVisibilityChanged, SUB, 2, 20, public=True))
    row = item(rm)
    assert (row["public"], row["url_path"], row["modified_at"]) == (1, f"/bodies/{GROUP}", stamp(20))
    assert rm.row("rm_feed_feeds", key=f"body:{GROUP}")["public"] == 1


def test_a_non_public_item_does_not_move_a_public_feeds_last_modified():
    rm = ReadModel().apply(organisation(sub_public=False), scheduled(uid("public"), at=5))
    before = rm.row("rm_feed_feeds", key="all")
    rm.apply(scheduled(body=SUB, ordinal=1, at=50))
    after = rm.row("rm_feed_feeds", key="all")
    assert (after["public_changed_at"], after["changed_at"]) == (before["public_changed_at"], stamp(50))


# --- what a calendar shows -----------------------------------------------------------------------

def test_item_text_of_a_meeting():
    rm = ReadModel().apply(organisation(), scheduled(start_time=dt.time(14), end_time=dt.time(16), venue="自治センター"))
    row = item(rm)
    assert (row["label"], row["summary"], row["when_text"], row["location"]) == \
        ("第2回幹事会", "第2回幹事会", "令和5年10月11日 14:00～16:00", "自治センター")
    assert row["description"].split("\n") == ["第2回幹事会", "日程：令和5年10月11日 14:00～16:00", "開催形式：Web会議",
                                              "会場：自治センター", "事業：会議運営", "会議体：幹事会"]
    assert json.loads(row["categories"]) == ["会議運営", "幹事会"]
    assert (row["url_path"], row["sequence"]) == (f"/bodies/{BODY}", 0)


def test_a_month_period_names_its_months_in_the_summary():
    rm = ReadModel().apply(organisation(), scheduled(body=None, kind=Kind.TRAINING, ordinal=None, title="情報セキュリティ研修",
                                                     start=dt.date(2023, 7, 1), end=dt.date(2023, 11, 30),
                                                     precision=MONTH))
    row = item(rm)
    assert row["summary"] == "情報セキュリティ研修（令和5年7月～11月）"
    assert "区分：研修" in row["description"] and row["description"].endswith("終日予定として表示）。")
    assert row["url_path"] == f"/programmes/{P}"


def test_a_cancelled_item_says_so_and_its_sequence_rises():
    rm = ReadModel().apply(organisation(), scheduled(), event(MeetingCancelled, MID, 2, 20, reason="議題なしのため"))
    row = item(rm)
    assert row["summary"] == "【中止】第2回幹事会" and "状況：中止（議題なしのため）" in row["description"]
    assert (row["sequence"], row["status"], row["modified_at"]) == (1, "cancelled", stamp(20))
    rm.apply(event(MeetingReinstated, MID, 3, 30))
    row = item(rm)
    assert row["summary"] == "第2回幹事会" and "状況" not in row["description"] and row["sequence"] == 2


def test_the_agenda_shows_current_items_with_their_outcomes():
    a, b = uid("item a"), uid("item b")
    rm = ReadModel().apply(organisation(), scheduled(),
                           event(AgendaItemAdded, MID, 2, 11, item_id=a, text="規約改正について"),
                           event(AgendaItemAdded, MID, 3, 12, item_id=b, text="予算について"),
                           event(AgendaItemWithdrawn, MID, 4, 13, item_id=a),
                           event(OutcomeRecorded, MID, 5, 14, item_id=b, outcome="承認"))
    row = item(rm)
    assert row["description"].split("\n")[-2:] == ["〔審議事項〕", "・予算について（承認）"]
    assert (row["sequence"], row["modified_at"]) == (0, stamp(14))


def test_twin_body_names_are_told_apart_by_their_programme():
    twin = uid("事業部会 Q")
    rm = ReadModel().apply(organisation(),
                           event(BodyCreated, uid("事業部会 P"), name="事業部会", kind=BodyKind.SUBCOMMITTEE, programme_id=P,
                                 order=5),
                           scheduled(body=uid("事業部会 P"), ordinal=1))
    assert item(rm)["summary"] == "第1回事業部会"
    rm.apply(event(BodyCreated, twin, at=30, name="事業部会", kind=BodyKind.SUBCOMMITTEE, programme_id=Q, order=1))
    assert item(rm)["summary"] == "第1回事業部会（会議運営）"
    assert rm.row("rm_feed_feeds", key=f"body:{twin}")["title"] == "事業部会（施設予約システム事業）"
    assert item(rm)["label"] == "第1回事業部会"          # the report's label stays as written


def test_a_vote_names_the_meeting_it_refers_to_and_follows_its_rename():
    vote = uid("vote")
    rm = ReadModel().apply(organisation(), scheduled(),
                           scheduled(vote, kind=Kind.VOTE, ordinal=None, title="一部議題に係る採決", refers_to=MID,
                                     start=dt.date(2023, 10, 20), end=dt.date(2023, 10, 20)))
    assert item(rm, vote)["label"] == "第2回幹事会の一部議題に係る採決"
    rm.apply(event(BodyRenamed, BODY, 2, 40, name="運営幹事会"))
    assert item(rm, vote)["label"] == "第2回運営幹事会の一部議題に係る採決"
    assert item(rm, vote)["modified_at"] == stamp(40)
    assert rm.row("rm_feed_feeds", key=f"body:{BODY}")["title"] == "運営幹事会"


def applied_both_ways(history: list) -> ReadModel:
    """The history applied in one batch (a rebuild, a catch-up, an import), after checking that it
    gives the rows the events applied one at a time give (one command each)."""
    at_once = ReadModel().apply(history)
    one_by_one = ReadModel()
    for e in history:
        one_by_one.apply(e)
    for table in ("rm_feed_items", "rm_feed_entries", "rm_feed_feeds", "rm_meetings", "rm_agenda"):
        assert at_once.rows(table) == one_by_one.rows(table), table
    return at_once


VOTE = uid("vote")


def vote(at=12):
    return scheduled(VOTE, kind=Kind.VOTE, ordinal=None, title="一部議題に係る採決", refers_to=MID, at=at,
                     start=dt.date(2023, 10, 20), end=dt.date(2023, 10, 20))


def test_a_batch_gives_the_rows_that_one_event_at_a_time_gives():
    """In a batch an item's text is rendered once for its dates, status and agenda events;
    organisation changes and label changes in between see it rendered."""
    other, a = uid("other"), uid("item a")
    d2 = dt.date(2023, 10, 12)
    rm = applied_both_ways([
        *organisation(), scheduled(),
        event(AgendaItemAdded, MID, 2, 11, item_id=a, text="規約改正について"), vote(),
        event(MeetingRescheduled, MID, 3, 13, start=d2, end=d2, precision="day", reason=None),
        event(BodyRenamed, BODY, 2, 14, name="運営幹事会"),                    # the mirror changes mid-batch
        event(MeetingHeld, MID, 4, 15, start=d2, end=d2, precision="day"),
        event(OutcomeRecorded, MID, 5, 16, item_id=a, outcome="承認"),
        scheduled(other, body=SUB, ordinal=1, at=17),
        event(MeetingCancelled, other, 2, 18, reason="延期"),
        event(BodyVisibilityChanged, SUB, 2, 19, public=False),                 # after its item's events
        event(MeetingDetailsChanged, MID, 6, 20, changed=["title"], title="臨時幹事会"),   # the vote follows
        event(MeetingReinstated, other, 3, 21),
        event(BodyMemberJoined, BODY, 3, 22, member_id=M1, since=dt.date(2023, 4, 1))])
    assert item(rm, VOTE)["label"] == "第2回臨時幹事会の一部議題に係る採決"
    assert (item(rm)["status"], item(rm)["modified_at"]) == ("held", stamp(20))
    assert (item(rm, other)["public"], item(rm, other)["summary"]) == (0, "第1回情報セキュリティ研究会")


def test_a_label_changed_in_the_batch_that_scheduled_it_moves_its_votes_text_then():
    rm = applied_both_ways([*organisation(), scheduled(), vote(),
                            event(MeetingDetailsChanged, MID, 2, 20, changed=["title"], title="臨時幹事会")])
    assert (item(rm, VOTE)["label"], item(rm, VOTE)["modified_at"]) == ("第2回臨時幹事会の一部議題に係る採決", stamp(20))


def test_an_item_moved_out_of_a_feed_in_the_batch_that_scheduled_it_keeps_its_text():
    d2 = dt.date(2023, 10, 12)
    rm = applied_both_ways([*organisation(),
                            event(BodyMemberJoined, BODY, 2, 1, member_id=M2, since=dt.date(2023, 4, 1)),
                            event(BodyMemberLeft, BODY, 3, 2, member_id=M2, until=D),
                            scheduled(),
                            event(MeetingRescheduled, MID, 2, 13, start=d2, end=d2, precision="day", reason=None)])
    assert feeds_of(rm, MID) == {"all", "P", "幹事会"}                      # 豊橋市 left on the old date
    assert item(rm)["when_text"] == "令和5年10月12日"


# --- private feed tokens -------------------------------------------------------------------------

def test_token_rows_hold_the_hash_and_the_revocation():
    tid, digest = uid("token"), hashlib.sha256(b"secret").hexdigest()
    rm = ReadModel().apply(event(FeedTokenIssued, tid, 1, 1, member_id=M1, token_hash=digest, label="担当者"))
    row = rm.row("rm_feed_tokens", token_hash=digest)
    assert (row["id"], row["member_id"], row["label"], row["revoked_at"]) == (str(tid), str(M1), "担当者", None)
    rm.apply(event(FeedTokenRevoked, tid, 2, 2, actor="管理者", reason=None))
    row = rm.row("rm_feed_tokens", token_hash=digest)
    assert (row["revoked_at"], row["revoked_by"]) == (stamp(2), "管理者")
