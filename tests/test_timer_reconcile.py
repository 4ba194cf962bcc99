"""Timer reconciliation: every open complaint's pending timers are made what ``timers.reschedule`` wants
now, so a complaint stored before a release added a timer kind is still chased (延时追究制) without
waiting for its next change. It runs when the timekeeper starts and as `minsheng db reconcile-timers`."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from minsheng.cli import main
from storage.models import ComplaintEvent, ComplaintTimer, EventAction, OutboxMessage
from tests.factories import REPO, ZONE, World, local
from workflow import timekeeper
from workflow.clock import FixedClock
from workflow.deadlines import Deadlines
from workflow.lifecycle import accept, decide_extension, request_extension, resolve, withdraw
from workflow.timekeeper import Reconciliation

ACK_KINDS = ["ack_warning", "ack_overdue", "ack_escalate"]
RESOLVE_KINDS = ["resolve_warning", "resolve_overdue", "resolve_escalate"]
PENDING = (ComplaintTimer.done_at.is_(None), ComplaintTimer.cancelled.is_(False))


async def pending(session: AsyncSession, complaint_id: int) -> list[tuple[str, object]]:
    rows = await session.execute(
        select(ComplaintTimer.kind, ComplaintTimer.due_at)
        .where(ComplaintTimer.complaint_id == complaint_id, *PENDING)
        .order_by(ComplaintTimer.due_at, ComplaintTimer.kind)
    )
    return [tuple(row) for row in rows]


async def forget_timers(session: AsyncSession, complaint_id: int, pattern: str) -> int:
    """Delete timers as a complaint stored by an older release lacks them; returns how many."""
    result = await session.execute(
        delete(ComplaintTimer).where(ComplaintTimer.complaint_id == complaint_id, ComplaintTimer.kind.like(pattern))
    )
    await session.commit()
    return result.rowcount


async def count(session: AsyncSession, model: type, *conditions: object) -> int:
    return await session.scalar(select(func.count()).select_from(model).where(*conditions))


async def test_an_open_complaint_without_its_resolve_timers_gets_them_back(
    world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    session = world.session
    unaccepted = await world.complaint()
    accepted = await world.complaint()
    await accept(session, world.clock, world.deadlines, accepted.id, world.police)
    replied = await world.complaint()
    await accept(session, world.clock, world.deadlines, replied.id, world.police)
    await resolve(session, world.clock, world.deadlines, replied.id, world.police, "已当面致歉并办结")
    await session.commit()
    ids = [c.id for c in (unaccepted, accepted, replied)]
    wanted = {i: await pending(session, i) for i in ids}
    forgotten = await forget_timers(session, unaccepted.id, "resolve_%")
    forgotten += await forget_timers(session, accepted.id, "resolve_%")
    forgotten += await forget_timers(session, replied.id, "rating_%")
    assert forgotten == 3 + 3 + 2

    # Batches of two: the three complaints take two transactions, and none is skipped or seen twice.
    result = await timekeeper.reconcile(session_factory, world.deadlines, batch_size=2)

    assert result == Reconciliation(checked=3, added=forgotten, removed=0)
    assert {i: await pending(session, i) for i in ids} == wanted


async def test_reconcile_cancels_a_pending_timer_the_complaint_no_longer_wants(
    world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    complaint = await world.complaint()
    await accept(world.session, world.clock, world.deadlines, complaint.id, world.police)
    await world.session.commit()
    wanted = await pending(world.session, complaint.id)
    stray = ComplaintTimer(complaint_id=complaint.id, kind="ack_overdue", due_at=local(2026, 11, 24, 10))
    world.session.add(stray)  # as a code path that forgot to cancel it would leave it
    await world.session.commit()

    result = await timekeeper.reconcile(session_factory, world.deadlines)

    assert result == Reconciliation(checked=1, added=0, removed=1)
    assert await pending(world.session, complaint.id) == wanted


async def test_a_second_reconcile_changes_nothing(
    world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    complaint = await world.complaint()
    await forget_timers(world.session, complaint.id, "resolve_%")
    await timekeeper.reconcile(session_factory, world.deadlines)
    rows = await count(world.session, ComplaintTimer)

    assert await timekeeper.reconcile(session_factory, world.deadlines) == Reconciliation(1, 0, 0)
    assert await count(world.session, ComplaintTimer) == rows


async def test_closed_complaints_get_no_timers(world: World, session_factory: async_sessionmaker[AsyncSession]) -> None:
    complaint = await world.complaint()
    await withdraw(world.session, world.clock, world.deadlines, complaint.id, world.me)
    await world.session.commit()
    await forget_timers(world.session, complaint.id, "%")

    result = await timekeeper.reconcile(session_factory, world.deadlines)

    assert result == Reconciliation(checked=0, added=0, removed=0)
    assert await count(world.session, ComplaintTimer, ComplaintTimer.complaint_id == complaint.id) == 0


async def test_concurrent_reconciles_create_each_timer_once(
    world: World, session_factory: async_sessionmaker[AsyncSession], backend: str
) -> None:
    if backend == "sqlite":
        pytest.skip("SQLite runs one service instance")
    complaints = [await world.complaint() for _ in range(20)]
    for complaint in complaints:
        await forget_timers(world.session, complaint.id, "resolve_%")

    results = await asyncio.gather(
        *(timekeeper.reconcile(session_factory, world.deadlines, batch_size=5) for _ in range(3))
    )

    assert sum(result.added for result in results) == 3 * len(complaints)
    for complaint in complaints:
        kinds = [kind for kind, _ in await pending(world.session, complaint.id)]
        assert sorted(kinds) == sorted(ACK_KINDS + RESOLVE_KINDS)


async def test_the_timekeeper_reconciles_at_start_and_fires_past_due_timers_the_normal_way(
    world: World, session_factory: async_sessionmaker[AsyncSession], caplog: pytest.LogCaptureFixture
) -> None:
    complaint = await world.complaint()
    await accept(world.session, world.clock, world.deadlines, complaint.id, world.police)
    await world.session.commit()
    complaint_id, late = complaint.id, FixedClock(complaint.resolve_due_at + timedelta(hours=1))
    await forget_timers(world.session, complaint_id, "resolve_%")

    async def fired() -> list[str]:
        async with session_factory() as session:
            kinds = await session.scalars(
                select(ComplaintTimer.kind).where(
                    ComplaintTimer.complaint_id == complaint_id, ComplaintTimer.done_at.is_not(None)
                )
            )
            return sorted(kinds)

    outbox_before = await count(world.session, OutboxMessage)
    await world.session.rollback()
    stop = asyncio.Event()
    with caplog.at_level(logging.INFO, logger="workflow.timekeeper"):
        task = asyncio.create_task(timekeeper.run(session_factory, late, world.deadlines, stop, interval=0.05))
        for _ in range(200):  # until the timekeeper's first round has fired the 催办
            await asyncio.sleep(0.05)
            if "resolve_overdue" in await fired():
                break
        stop.set()
        await task

    assert any("3 timers added, 0 removed" in record.getMessage() for record in caplog.records)
    assert await fired() == ["resolve_overdue", "resolve_warning"]  # the 预警 passed silently, past its deadline
    assert await count(world.session, OutboxMessage) > outbox_before  # the 催办, sent the normal way


async def test_reconcile_sends_no_notice_by_itself(
    world: World, session_factory: async_sessionmaker[AsyncSession], caplog: pytest.LogCaptureFixture
) -> None:
    complaint = await world.complaint()
    await forget_timers(world.session, complaint.id, "resolve_%")
    outbox_before = await count(world.session, OutboxMessage)

    with caplog.at_level(logging.INFO, logger="workflow.timekeeper"):
        await timekeeper.reconcile(session_factory, world.deadlines)

    assert await count(world.session, OutboxMessage) == outbox_before
    assert not caplog.records  # the command and the start-up say what changed, not the function


async def test_the_reconcile_command_prints_what_it_checked_and_changed(
    world: World, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    complaint = await world.complaint()
    await world.complaint()
    await forget_timers(world.session, complaint.id, "resolve_%")
    monkeypatch.setenv("MINSHENG_DATABASE_URL", database_url)

    result = await asyncio.to_thread(CliRunner().invoke, main, ["db", "reconcile-timers"])
    assert result.exit_code == 0, result.output
    assert "2 open complaints checked: 3 timers added, 0 removed" in result.output

    again = await asyncio.to_thread(CliRunner().invoke, main, ["db", "reconcile-timers"])
    assert "2 open complaints checked: 0 timers added, 0 removed" in again.output


async def escalations(session: AsyncSession, complaint_id: int) -> list[tuple[datetime, str]]:
    """The 督办 given: when, and the deadline each was about."""
    rows = await session.scalars(
        select(ComplaintEvent)
        .where(ComplaintEvent.complaint_id == complaint_id, ComplaintEvent.action == EventAction.ESCALATED.value)
        .order_by(ComplaintEvent.id)
    )
    return [(event.at.astimezone(ZONE), event.data["due"]) for event in rows]


async def run_until(
    session_factory: async_sessionmaker[AsyncSession],
    deadlines: Deadlines,
    end: datetime,
    start: datetime | None = None,
) -> None:
    """The timekeeper's rounds every half hour from ``start`` (the usual Monday morning) up to ``end``."""
    clock = FixedClock(start or local(2026, 11, 23, 10))
    while clock.now() < end:
        clock.advance(timedelta(minutes=30))
        await timekeeper.run_once(session_factory, clock, deadlines)


async def test_a_deadline_escalated_before_a_policy_change_is_not_escalated_again_after_the_restart(
    world: World, session_factory: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    escalated = await world.complaint()  # filed Monday: its 督办 fires under the old policy
    await accept(world.session, world.clock, world.deadlines, escalated.id, world.police)
    world.clock.set(local(2026, 11, 24, 10))
    waiting = await world.complaint()  # filed Tuesday: not escalated yet at the restart
    await accept(world.session, world.clock, world.deadlines, waiting.id, world.police)
    await world.session.commit()
    first = (local(2026, 12, 1, 17, 30), escalated.resolve_due_at.isoformat())
    await run_until(session_factory, world.deadlines, local(2026, 12, 2, 9))
    assert await escalations(world.session, escalated.id) == [first]

    # The office gives overdue complaints two working days before 督办, and restarts the service.
    policy = (REPO / "workflow" / "data" / "policy.yaml").read_text(encoding="utf-8")
    edited = tmp_path / "policy.yaml"
    edited.write_text(policy.replace("escalate_after_working_days: 1", "escalate_after_working_days: 2"))
    later = Deadlines.load(edited, REPO / "workflow" / "data" / "holidays.yaml", ZONE)
    await timekeeper.reconcile(session_factory, later)
    await run_until(session_factory, later, local(2026, 12, 4, 9))

    assert await escalations(world.session, escalated.id) == [first]
    # a deadline not escalated yet waits the new delay: its 督办 moved, it was not dropped
    assert await escalations(world.session, waiting.id) == [
        (local(2026, 12, 3, 17, 30), waiting.resolve_due_at.isoformat())
    ]


async def test_an_extension_approved_after_the_escalation_has_its_new_deadline_escalated_too(
    world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    complaint = await world.complaint()
    await accept(world.session, world.clock, world.deadlines, complaint.id, world.police)
    world.clock.set(local(2026, 11, 30, 10))  # asked on the deadline's day, before it passed
    await request_extension(world.session, world.clock, world.deadlines, complaint.id, world.police, 1, "需现场勘验")
    await world.session.commit()
    first = (local(2026, 12, 1, 17, 30), complaint.resolve_due_at.isoformat())
    await run_until(session_factory, world.deadlines, local(2026, 12, 2, 10))
    assert await escalations(world.session, complaint.id) == [first]

    world.clock.set(local(2026, 12, 2, 10))  # approved late: the new deadline (12-01 17:30) passed too
    await decide_extension(world.session, world.clock, world.deadlines, complaint.id, world.oversight, True)
    await world.session.commit()
    await run_until(session_factory, world.deadlines, local(2026, 12, 3, 9), start=local(2026, 12, 2, 10))

    second = (local(2026, 12, 2, 17, 30), complaint.resolve_due_at.isoformat())
    assert await escalations(world.session, complaint.id) == [first, second]
