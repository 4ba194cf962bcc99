"""The figures read what the real workflow writes: complaints driven through intake, acceptance,
transfer and decline, resolution, a 不满意 rating that reopens, a deadline missed, and complaints the
timekeeper closed unrated when the rating window passed."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from reports.figures import monthly_figures
from storage.models import Complaint, ComplaintStatus
from storage.vocabulary import Rating
from tests.factories import ZONE, World
from workflow import lifecycle, timekeeper, transfers


async def test_figures_follow_a_month_of_real_workflow_actions(world: World) -> None:
    s, clock, deadlines = world.session, world.clock, world.deadlines
    traffic_id = await world.agency_id("traffic-police")

    # 1: accepted, resolved and rated 满意 the same day.
    first = await world.complaint()
    await lifecycle.accept(s, clock, deadlines, first.id, world.police)
    await lifecycle.resolve(s, clock, deadlines, first.id, world.police, "已处理")
    await lifecycle.rate(s, clock, deadlines, first.id, world.me, Rating.SATISFIED)
    # 2: transferred to the traffic police, who decline; accepted back home, resolved, rated 不满意
    # (reopened), resolved again and rated 比较满意.
    second = await world.complaint()
    await transfers.transfer(s, clock, deadlines, second.id, world.police, traffic_id, "涉及交通管理")
    await transfers.decline_transfer(s, clock, deadlines, second.id, world.traffic, "不属于本单位职责")
    await lifecycle.accept(s, clock, deadlines, second.id, world.police)
    await lifecycle.resolve(s, clock, deadlines, second.id, world.police, "已答复")
    await lifecycle.rate(s, clock, deadlines, second.id, world.me, Rating.DISSATISFIED)
    await lifecycle.resolve(s, clock, deadlines, second.id, world.police, "重新办理后答复")
    await lifecycle.rate(s, clock, deadlines, second.id, world.me, Rating.FAIRLY_SATISFIED)
    # 3: nobody acts; a few weeks later both its deadlines have passed.
    third = await world.complaint()
    await s.commit()
    assert third.resolve_due_at is not None
    cut_off = third.resolve_due_at + timedelta(days=1)

    figures = await monthly_figures(s, date(2026, 11, 1), ZONE, as_of=cut_off)
    rows = {row.code: row for row in figures.agencies}
    police, traffic = rows["public-security"], rows["traffic-police"]
    assert (police.received, police.acknowledged_on_time, police.resolved, police.resolved_on_time) == (3, 2, 2, 2)
    assert (police.overdue, police.rated, police.satisfied) == (1, 2, 2)
    assert (police.reopened, police.reopened_in_progress, police.reopen_rate) == (1, 0, 1 / 2)
    assert (traffic.received, traffic.transfers_in, traffic.declined, traffic.decline_rate) == (0, 1, 1, 1.0)
    assert figures.total.received == 3


async def test_a_complaint_closed_unrated_counts_as_resolved_but_never_as_rated(
    world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    s, clock, deadlines = world.session, world.clock, world.deadlines
    rated, silent, reopened = [await world.complaint() for _ in range(3)]
    for complaint in (rated, silent, reopened):
        await lifecycle.accept(s, clock, deadlines, complaint.id, world.police)
        await lifecycle.resolve(s, clock, deadlines, complaint.id, world.police, "已处理")
    await lifecycle.rate(s, clock, deadlines, rated.id, world.me, Rating.SATISFIED)
    # 不满意 reopens; the second reply is never rated: the latest rating stays the 不满意.
    await lifecycle.rate(s, clock, deadlines, reopened.id, world.me, Rating.DISSATISFIED)
    await lifecycle.resolve(s, clock, deadlines, reopened.id, world.police, "重新办理后答复")
    await s.commit()
    window_end = deadlines.rating_due(clock.now())

    as_of = window_end + timedelta(days=1)
    clock.set(as_of)
    assert await timekeeper.run_once(session_factory, clock, deadlines) >= 2
    for complaint in (silent, reopened):
        closed = await s.get_one(Complaint, complaint.id, populate_existing=True)
        assert closed.status == ComplaintStatus.CLOSED and closed.resolved_at is not None

    figures = await monthly_figures(s, date(2026, 11, 1), ZONE, as_of=as_of)
    police = {row.code: row for row in figures.agencies}["public-security"]
    assert (police.received, police.resolved) == (3, 3)
    # Rated: the 满意 and the reopened complaint's 不满意; the silent one is in neither count.
    assert (police.rated, police.satisfied, police.satisfaction_rate) == (2, 1, 1 / 2)
