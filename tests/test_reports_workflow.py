"""The figures read what the real workflow writes: complaints driven through intake, acceptance,
transfer and decline, resolution, a 不满意 rating that reopens, and a deadline missed."""

from __future__ import annotations

from datetime import date, timedelta

from reports.figures import monthly_figures
from storage.vocabulary import Rating
from tests.factories import ZONE, World
from workflow import lifecycle, transfers


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
