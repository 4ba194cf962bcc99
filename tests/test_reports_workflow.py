"""The figures read what the real workflow writes: complaints driven through intake, acceptance,
transfer and decline, resolution, a 不满意 rating that reopens, a deadline missed, and complaints the
timekeeper closed unrated when the rating window passed."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from reports.figures import AgencyFigures, monthly_figures
from reports.ranking import composite_score, rank_agencies
from storage.models import Complaint, ComplaintStatus
from storage.vocabulary import Rating
from tests.factories import ZONE, World, local
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


async def test_a_complaint_not_yet_due_counts_neither_for_nor_against_its_agency(world: World) -> None:
    """Filed at 17:26 with the acknowledgement due the next afternoon: published at 17:30 it must not
    give the agency 响应率 0%, 办结率 0% and a score of 0 (末位)."""
    s, clock = world.session, world.clock
    clock.set(local(2026, 11, 24, 17, 26))
    fresh = await world.complaint()
    assert fresh.acknowledge_due_at is not None and fresh.acknowledge_due_at > clock.now() + timedelta(hours=12)

    figures = await monthly_figures(s, date(2026, 11, 1), ZONE, as_of=local(2026, 11, 24, 17, 30))
    police = {row.code: row for row in figures.agencies}["public-security"]
    assert (police.received, police.due_for_acknowledgement, police.due_for_resolution) == (1, 0, 0)
    assert (police.response_rate, police.resolution_rate, police.on_time_rate) == (None, None, None)
    assert composite_score(police) is None
    ranked = {row.figures.code: row for row in rank_agencies(figures.agencies, [])}["public-security"]
    assert (ranked.rank, ranked.last_three) == (None, False)


async def test_the_acknowledgement_deadline_counts_only_once_it_has_passed(world: World) -> None:
    """At the very moment of the deadline the agency may still sign on time; a second later it is late."""
    s = world.session
    complaint = await world.complaint()
    due = complaint.acknowledge_due_at
    assert due is not None

    async def police_at(as_of: datetime) -> AgencyFigures:
        figures = await monthly_figures(s, date(2026, 11, 1), ZONE, as_of=as_of)
        return {row.code: row for row in figures.agencies}["public-security"]

    at_deadline = await police_at(due)
    assert (at_deadline.due_for_acknowledgement, at_deadline.response_rate) == (0, None)
    late = await police_at(due + timedelta(seconds=1))
    assert (late.due_for_acknowledgement, late.acknowledged_on_time, late.response_rate) == (1, 0, 0.0)
    assert composite_score(late) == 0.0


async def test_an_overdue_complaint_lowers_the_rates_and_a_fresh_one_does_not(world: World) -> None:
    """November published on 1 December: a complaint of 30 November is not yet due, one of early November
    left untouched is overdue on both deadlines."""
    s, clock, deadlines = world.session, world.clock, world.deadlines
    clock.set(local(2026, 11, 2, 10))
    forgotten = await world.complaint()
    handled = await world.complaint()
    await lifecycle.accept(s, clock, deadlines, handled.id, world.police)
    await lifecycle.resolve(s, clock, deadlines, handled.id, world.police, "已处理")
    clock.set(local(2026, 11, 30, 16))
    late_in_month = await world.complaint()
    await s.commit()
    as_of = local(2026, 12, 1, 9)
    assert late_in_month.resolve_due_at is not None and late_in_month.resolve_due_at > as_of
    assert forgotten.resolve_due_at is not None and forgotten.resolve_due_at < as_of

    figures = await monthly_figures(s, date(2026, 11, 1), ZONE, as_of=as_of)
    police = {row.code: row for row in figures.agencies}["public-security"]
    assert police.received == 3
    assert (police.due_for_acknowledgement, police.acknowledged_on_time, police.response_rate) == (2, 1, 1 / 2)
    assert (police.due_for_resolution, police.resolved, police.resolution_rate) == (2, 1, 1 / 2)
    assert (police.resolved_on_time, police.on_time_rate, police.overdue) == (1, 1 / 2, 1)
