"""A realistic council log at any scale, deterministic from a seed.

The log always starts with the same *core*: the council's organisation (the FY2023 programmes and
bodies, 55 member organisations, the 幹事会's 13-member roster) and one complete fiscal year,
FY2023, of meetings with their lifecycle (scheduled, some rescheduled, some cancelled, agenda
items, outcomes, attendance, held) and activities (drills with per-member results, trainings,
audits).  Everything beyond the core is *filler*: further fiscal years of meetings of the
organisation's 20 working groups (the same groups in every log: a longer log holds more meetings,
not more bodies), so a log of 10,000 events and one of 1,000,000 hold the same FY2023 report and
the same 幹事会 feed — which is what the "reads do not depend on log size" measures need.

Events are built with the domain aggregates (so they obey every rule) and stamped with
deterministic times; ids come from the seeded random generator.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Iterator
from uuid import UUID

from kyogikai.dates import Period
from kyogikai.domain.events import Aggregate, DomainEvent
from kyogikai.domain.formats import Format
from kyogikai.domain.meeting import Attendance, Kind, Meeting, OrdinalRegister
from kyogikai.domain.organisation import Body, BodyKind, Member, MemberClass, MemberKind, Programme, Section

ACTOR = "bench"
CORE_FY = 2023


class Clock:
    def __init__(self) -> None:
        self.t = dt.datetime(2015, 4, 1, tzinfo=dt.timezone.utc)

    def tick(self) -> dt.datetime:
        self.t += dt.timedelta(seconds=7)
        return self.t


class Log:
    """Collects the events of aggregates as they decide, stamped by the clock."""

    def __init__(self, rnd: random.Random) -> None:
        self.rnd, self.clock, self.events = rnd, Clock(), []  # type: ignore[var-annotated]

    def take(self, *aggs: Aggregate) -> list[DomainEvent]:
        out = []
        for a in aggs:
            for e in a.collect():
                out.append(e.model_copy(update={"timestamp": self.clock.tick()}))
        return out

    def uuid(self) -> UUID:
        return UUID(int=self.rnd.getrandbits(128), version=4)


def _meeting_year(log: Log, body: Body, programme: Programme, fy: int, count: int, members: list[Member],
                  registers: dict, first: int = 1) -> Iterator[DomainEvent]:
    rnd = log.rnd
    start = dt.date(fy, 4, 10)
    for n in range(first, first + count):
        day = start + dt.timedelta(days=int(((n - 1) % count) * 330 / max(count, 1)) + rnd.randrange(0, 5))
        written = rnd.random() < 0.3
        period = Period.of(day, day + dt.timedelta(days=rnd.randrange(4, 10))) if written else Period.of(day)
        m = Meeting.schedule(kind=Kind.MEETING, programme_id=programme.id, body_id=body.id, period=period,
                             ordinal=n, format=Format.WRITTEN if written else Format.WEB, actor=ACTOR,
                             agenda=[f"議題{n}-{i}" for i in range(1, rnd.randrange(1, 4))], id=log.uuid())
        reg_id = OrdinalRegister.id_for(body.id, fy)
        reg = registers.get(reg_id) or OrdinalRegister(reg_id)
        registers[reg_id] = reg
        reg.take(m.ordinal_key, m.id, "bench", ACTOR)  # type: ignore[arg-type]
        yield from log.take(m, reg)
        if rnd.random() < 0.15 and not written:
            m.reschedule(Period.of(day + dt.timedelta(days=7)), None, None, ACTOR)
        if rnd.random() < 0.05:
            m.cancel("都合により", ACTOR)
            yield from log.take(m)
            continue
        for item in list(m.agenda)[:1]:
            m.record_outcome(item, "原案どおり承認", ACTOR)
        for member in members:
            m.record_attendance(member.id, Attendance.REPLIED if written else (
                Attendance.ABSENT if rnd.random() < 0.1 else Attendance.PRESENT), ACTOR)
        m.hold(None, None, None, ACTOR)
        yield from log.take(m)


def generate(seed: int = 1, total: int = 10_000) -> Iterator[DomainEvent]:
    """Yield about ``total`` events (at least the core), deterministically from ``seed``."""
    rnd = random.Random(seed)
    log = Log(rnd)
    produced = 0

    def emit(events: list[DomainEvent] | Iterator[DomainEvent]) -> Iterator[DomainEvent]:
        nonlocal produced
        for e in events:
            produced += 1
            yield e

    # -- organisation ------------------------------------------------------------------------
    progs = {}
    for i, (name, section) in enumerate([
            ("あいち電子申請・届出システムの運用", Section.ALL), ("共同セキュリティ監査", Section.ALL),
            ("標的型攻撃メール対策訓練", Section.ALL), ("会議運営", Section.ALL),
            ("あいち共同利用型施設予約システム事業", Section.PARTICIPATING)], start=1):
        progs[name] = Programme.create(name, section, i, None, ACTOR)
    yield from emit(log.take(*progs.values()))
    council = progs["会議運営"]
    bodies = {}
    for i, (name, kind) in enumerate([("総会", BodyKind.GENERAL_ASSEMBLY), ("運営委員会", BodyKind.STEERING_COMMITTEE),
                                      ("幹事会", BodyKind.BOARD), ("個人情報等保護委員会", BodyKind.COMMITTEE),
                                      ("研究会", BodyKind.STUDY_GROUP)], start=1):
        bodies[name] = Body.create(name=name, kind=kind, programme=council, parent=None, order=i, inline=False,
                                   public=True, description=None, actor=ACTOR)
    bodies["事業部会"] = Body.create(name="事業部会", kind=BodyKind.SUBCOMMITTEE, programme=progs["あいち共同利用型施設予約システム事業"],
                                 parent=None, order=1, inline=False, public=True, description=None, actor=ACTOR)
    yield from emit(log.take(*bodies.values()))
    filler = [Body.create(name=f"ワーキンググループ{i}", kind=BodyKind.WORKING_GROUP, programme=council, parent=None,
                          order=10 + i, inline=False, public=True, description=None, actor=ACTOR) for i in range(1, 21)]
    yield from emit(log.take(*filler))
    members = [Member.create("愛知県", MemberKind.PREFECTURE, MemberClass.MEMBER, None, ACTOR)]
    members += [Member.create(f"団体{i:02d}市", MemberKind.CITY, MemberClass.MEMBER, None, ACTOR) for i in range(1, 55)]
    yield from emit(log.take(*members))
    board = members[:13]
    for m in board:
        bodies["幹事会"].join(m.id, dt.date(2015, 4, 1), ACTOR)
    yield from emit(log.take(bodies["幹事会"]))

    # -- the core fiscal year -------------------------------------------------------------------
    registers: dict = {}
    for name, count, roster in [("総会", 2, members), ("運営委員会", 2, members[:20]), ("幹事会", 3, board),
                                ("個人情報等保護委員会", 1, members[:8]), ("研究会", 4, members[:30]),
                                ("事業部会", 4, members[10:40])]:
        prog = progs["あいち共同利用型施設予約システム事業"] if name == "事業部会" else council
        yield from emit(_meeting_year(log, bodies[name], prog, CORE_FY, count, roster, registers))
    drill_prog = progs["標的型攻撃メール対策訓練"]
    for round_no, (start, end) in enumerate([(dt.date(2023, 7, 20), dt.date(2023, 8, 4)),
                                             (dt.date(2023, 10, 16), dt.date(2023, 10, 19))], start=1):
        d = Meeting.schedule(kind=Kind.DRILL, programme_id=drill_prog.id, body_id=None, period=Period.of(start, end),
                             ordinal=round_no, title="訓練", actor=ACTOR, id=log.uuid())
        for m in members:
            d.record_participation(m.id, True, ACTOR)
            sent = rnd.randrange(20, 400)
            d.record_drill_result(m.id, sent, rnd.randrange(0, sent // 5 + 1), None, ACTOR)
        d.hold(None, None, None, ACTOR)
        yield from emit(log.take(d))

    # -- filler: other fiscal years of other bodies, until ``total`` ------------------------------
    # the same 20 working groups in every log; more events mean more meetings, not more bodies
    years = [y for pair in zip(range(CORE_FY + 1, 2061), range(CORE_FY - 1, 1989, -1)) for y in pair]
    rounds = 0
    while produced < total:
        for fy in years:
            for body in filler:
                if produced >= total:
                    return
                roster = rnd.sample(members, 10)
                yield from emit(_meeting_year(log, body, council, fy, 6, roster, registers, first=6 * rounds + 1))
        rounds += 1


if __name__ == "__main__":  # quick look: counts by event type
    import collections
    import sys

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    counts = collections.Counter(type(e).__name__ for e in generate(1, n))
    print(sum(counts.values()), dict(counts.most_common()))
