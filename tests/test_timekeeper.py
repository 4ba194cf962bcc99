"""Complaint timers and the timekeeper: 预警, 催办, 督办 — each fired once, whoever runs it."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.db import create_engine, create_session_factory
from storage.models import (
    Agency,
    AgencyContact,
    AgencyRole,
    Complaint,
    ComplaintEvent,
    ComplaintStatus,
    ComplaintTimer,
    ContactRole,
    EventAction,
    OutboxMessage,
)
from workflow import notifications, timekeeper
from workflow.clock import FixedClock
from workflow.deadlines import Deadlines
from workflow.timers import reschedule

REPO = Path(__file__).resolve().parent.parent
ZONE = ZoneInfo("Asia/Shanghai")
FILED = datetime(2026, 11, 23, 10, 0, tzinfo=ZONE)  # a Monday
CLERK, LEAD, OVERSIGHT = 1001, 1002, 9001


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZONE)


@pytest.fixture(scope="module")
def deadlines() -> Deadlines:
    return Deadlines.load(
        REPO / "workflow" / "data" / "policy.yaml", REPO / "workflow" / "data" / "holidays.yaml", ZONE
    )


async def add_agencies(session: AsyncSession) -> int:
    """An agency with a clerk and a lead, and the oversight office with one contact; returns the agency id."""
    agency = Agency(code="jsj", name="建设局", area="城乡建设")
    office = Agency(code="xnb", name="效能办", role=AgencyRole.OVERSIGHT)
    session.add_all([agency, office])
    await session.flush()
    session.add_all(
        [
            AgencyContact(telegram_user_id=CLERK, agency_id=agency.id, role=ContactRole.CLERK),
            AgencyContact(telegram_user_id=LEAD, agency_id=agency.id, role=ContactRole.LEAD),
            AgencyContact(telegram_user_id=OVERSIGHT, agency_id=office.id, role=ContactRole.OVERSIGHT),
        ]
    )
    await session.flush()
    return agency.id


async def add_complaint(
    session: AsyncSession, deadlines: Deadlines, agency_id: int, number: int = 1, status: str = ComplaintStatus.ASSIGNED
) -> Complaint:
    complaint = Complaint(
        tracking_no=f"20261123-{number:04d}",
        text="窗口工作人员态度恶劣",
        status=status,
        first_contact_agency_id=agency_id,
        owner_agency_id=agency_id,
        created_at=FILED,
        acknowledge_due_at=deadlines.acknowledge_due(FILED, priority="normal", problem_types=()),
        resolve_due_at=deadlines.resolve_due(FILED, priority="normal", problem_types=()),
    )
    if status == ComplaintStatus.ACCEPTED:
        complaint.acknowledged_at = FILED + timedelta(hours=1)
    session.add(complaint)
    await session.flush()
    await reschedule(session, complaint, deadlines)
    return complaint


async def pending_timers(session: AsyncSession, complaint_id: int) -> list[tuple[str, datetime]]:
    rows = await session.scalars(
        select(ComplaintTimer)
        .where(
            ComplaintTimer.complaint_id == complaint_id,
            ComplaintTimer.done_at.is_(None),
            ComplaintTimer.cancelled.is_(False),
        )
        .order_by(ComplaintTimer.due_at)
    )
    return [(t.kind, t.due_at.astimezone(ZONE)) for t in rows]


async def count(session: AsyncSession, model: type, *conditions: object) -> int:
    return await session.scalar(select(func.count()).select_from(model).where(*conditions))


# --- rescheduling -----------------------------------------------------------------------------------


async def test_assigned_complaint_gets_acknowledge_reminder_urging_and_escalation(
    session: AsyncSession, deadlines: Deadlines
) -> None:
    complaint = await add_complaint(session, deadlines, await add_agencies(session))
    assert await pending_timers(session, complaint.id) == [
        ("ack_warning", local(2026, 11, 23, 14, 30)),  # a quarter of four working hours left
        ("ack_overdue", local(2026, 11, 23, 15, 30)),
        ("ack_escalate", local(2026, 11, 24, 11, 0)),  # four working hours later, overnight
    ]


async def test_acceptance_swaps_acknowledge_timers_for_resolve_timers(
    session: AsyncSession, deadlines: Deadlines
) -> None:
    complaint = await add_complaint(session, deadlines, await add_agencies(session))
    complaint.status = ComplaintStatus.ACCEPTED
    complaint.acknowledged_at = FILED + timedelta(hours=1)
    await reschedule(session, complaint, deadlines)
    assert await pending_timers(session, complaint.id) == [
        ("resolve_warning", local(2026, 11, 30, 9, 0)),
        ("resolve_overdue", local(2026, 11, 30, 17, 30)),
        ("resolve_escalate", local(2026, 12, 1, 17, 30)),
    ]
    cancelled = await count(session, ComplaintTimer, ComplaintTimer.cancelled.is_(True))
    assert cancelled == 3


async def test_transfer_never_restarts_the_citizens_clock(session: AsyncSession, deadlines: Deadlines) -> None:
    complaint = await add_complaint(session, deadlines, await add_agencies(session))
    before = await pending_timers(session, complaint.id)
    complaint.status = ComplaintStatus.TRANSFERRING
    await reschedule(session, complaint, deadlines)
    assert await pending_timers(session, complaint.id) == before
    assert await count(session, ComplaintTimer) == 3  # reused, not duplicated


async def test_reschedule_never_recreates_a_timer_that_already_fired(
    session: AsyncSession, deadlines: Deadlines
) -> None:
    complaint = await add_complaint(session, deadlines, await add_agencies(session))
    warning = await session.scalar(select(ComplaintTimer).where(ComplaintTimer.kind == "ack_warning"))
    warning.done_at = warning.due_at
    await reschedule(session, complaint, deadlines)
    assert [kind for kind, _ in await pending_timers(session, complaint.id)] == ["ack_overdue", "ack_escalate"]
    assert await count(session, ComplaintTimer) == 3


async def test_resolved_complaint_trades_its_deadline_timers_for_the_rating_reminder_and_window(
    session: AsyncSession, deadlines: Deadlines
) -> None:
    complaint = await add_complaint(session, deadlines, await add_agencies(session), status=ComplaintStatus.ACCEPTED)
    complaint.status = ComplaintStatus.RESOLVED
    complaint.resolved_at = local(2026, 11, 27, 16, 0)  # a Friday afternoon
    await reschedule(session, complaint, deadlines)
    assert await pending_timers(session, complaint.id) == [
        ("rating_reminder", local(2026, 12, 7, 9, 0)),  # two working days' worth before the window closes
        ("rating_window", local(2026, 12, 8, 17, 30)),
    ]


@pytest.mark.parametrize("status", [ComplaintStatus.CLOSED, ComplaintStatus.WITHDRAWN])
async def test_finished_complaints_keep_no_pending_timers(
    session: AsyncSession, deadlines: Deadlines, status: str
) -> None:
    complaint = await add_complaint(session, deadlines, await add_agencies(session))
    complaint.status = status
    await reschedule(session, complaint, deadlines)
    assert await pending_timers(session, complaint.id) == []


async def test_reschedule_sets_a_missing_deadline_rather_than_chasing_nothing(
    session: AsyncSession, deadlines: Deadlines
) -> None:
    agency_id = await add_agencies(session)
    complaint = Complaint(
        tracking_no="20261123-0099",
        text="没人管",
        status=ComplaintStatus.ASSIGNED,
        owner_agency_id=agency_id,
        created_at=FILED,
    )
    session.add(complaint)
    await session.flush()
    await reschedule(session, complaint, deadlines)
    assert complaint.acknowledge_due_at == local(2026, 11, 23, 15, 30)
    assert ("ack_overdue", local(2026, 11, 23, 15, 30)) in await pending_timers(session, complaint.id)


# --- the timekeeper ---------------------------------------------------------------------------------


async def test_timekeeper_waits_until_a_timer_is_due(
    session_factory: async_sessionmaker[AsyncSession], deadlines: Deadlines
) -> None:
    async with session_factory() as session:
        await add_complaint(session, deadlines, await add_agencies(session))
        await session.commit()
    clock = FixedClock(local(2026, 11, 23, 14, 29))
    assert await timekeeper.run_once(session_factory, clock, deadlines) == 0
    async with session_factory() as session:
        assert await count(session, ComplaintEvent) == 0


async def test_timekeeper_reminds_urges_and_escalates_once_each(
    session_factory: async_sessionmaker[AsyncSession], deadlines: Deadlines
) -> None:
    async with session_factory() as session:
        agency_id = await add_agencies(session)
        complaint = await add_complaint(session, deadlines, agency_id)
        await session.commit()
    clock = FixedClock(local(2026, 11, 23, 14, 30))
    assert await timekeeper.run_once(session_factory, clock, deadlines) == 1
    clock.set(local(2026, 11, 24, 11, 0))
    assert await timekeeper.run_once(session_factory, clock, deadlines) == 2
    assert await timekeeper.run_once(session_factory, clock, deadlines) == 0

    async with session_factory() as session:
        events = list(await session.scalars(select(ComplaintEvent).order_by(ComplaintEvent.id)))
        assert [e.action for e in events] == [EventAction.REMINDED, EventAction.URGED, EventAction.ESCALATED]
        assert {e.agency_id for e in events} == {agency_id}  # 延时追究: on the owner's record
        assert all(e.complaint_id == complaint.id and e.actor_kind == "system" for e in events)
        assert all(e.to_status is None for e in events)  # a reminder changes no state
        assert events[0].at == local(2026, 11, 23, 14, 30)
        messages = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        sent_to = [(m.kind, m.chat_id) for m in messages]
        assert sent_to == [
            (notifications.Notice.REMINDER, CLERK),
            (notifications.Notice.REMINDER, LEAD),
            (notifications.Notice.OVERDUE, CLERK),
            (notifications.Notice.OVERDUE, LEAD),
            (notifications.Notice.ESCALATED, OVERSIGHT),
            (notifications.Notice.ESCALATED, LEAD),
        ]
        assert messages[2].payload["params"]["tracking_no"] == complaint.tracking_no
        assert messages[2].payload["params"]["due_text"] == "11月23日（周一）15:30前"
        assert await count(session, ComplaintTimer, ComplaintTimer.done_at.is_(None)) == 0


async def test_acknowledged_complaint_is_not_urged_by_a_stale_timer(
    session_factory: async_sessionmaker[AsyncSession], deadlines: Deadlines
) -> None:
    async with session_factory() as session:
        complaint = await add_complaint(session, deadlines, await add_agencies(session))
        complaint.status = ComplaintStatus.ACCEPTED  # changed without rescheduling: the timers are stale
        await session.commit()
    clock = FixedClock(local(2026, 11, 24, 12, 0))
    assert await timekeeper.run_once(session_factory, clock, deadlines) == 3
    async with session_factory() as session:
        assert await count(session, ComplaintEvent) == 0
        assert await count(session, OutboxMessage) == 0


async def test_extended_deadline_is_not_urged_at_the_old_moment(
    session_factory: async_sessionmaker[AsyncSession], deadlines: Deadlines
) -> None:
    async with session_factory() as session:
        complaint = await add_complaint(
            session, deadlines, await add_agencies(session), status=ComplaintStatus.ACCEPTED
        )
        old_due = complaint.resolve_due_at
        complaint.resolve_due_at = deadlines.extend(old_due, 5)
        await session.commit()  # the stale resolve_overdue timer at the old moment is still there
    clock = FixedClock(old_due + timedelta(minutes=1))
    await timekeeper.run_once(session_factory, clock, deadlines)
    async with session_factory() as session:
        actions = list(await session.scalars(select(ComplaintEvent.action)))
        assert EventAction.URGED not in actions


async def test_a_failing_timer_is_retried_later_without_repeating_the_others(
    session_factory: async_sessionmaker[AsyncSession], deadlines: Deadlines, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with session_factory() as session:
        agency_id = await add_agencies(session)
        first = await add_complaint(session, deadlines, agency_id, 1)
        await add_complaint(session, deadlines, agency_id, 2)
        await session.commit()
    real_notify = notifications.notify_agency

    async def broken_for_first(session, agency_id, kind, *, complaint=None, **params):
        if complaint is not None and complaint.id == first.id:
            raise ConnectionError("simulated crash while handling this timer")
        await real_notify(session, agency_id, kind, complaint=complaint, **params)

    monkeypatch.setattr(notifications, "notify_agency", broken_for_first)
    clock = FixedClock(local(2026, 11, 23, 14, 30))
    assert await timekeeper.run_once(session_factory, clock, deadlines) == 1
    monkeypatch.setattr(notifications, "notify_agency", real_notify)
    assert await timekeeper.run_once(session_factory, clock, deadlines) == 1
    assert await timekeeper.run_once(session_factory, clock, deadlines) == 0
    async with session_factory() as session:
        reminded = await session.scalars(
            select(ComplaintEvent.complaint_id).where(ComplaintEvent.action == EventAction.REMINDED)
        )
        assert sorted(reminded) == [first.id, first.id + 1]


async def test_background_run_skips_a_warning_overtaken_by_the_deadline_and_stops_when_asked(
    session_factory: async_sessionmaker[AsyncSession], deadlines: Deadlines
) -> None:
    async with session_factory() as session:
        await add_complaint(session, deadlines, await add_agencies(session))
        await session.commit()
    stop = asyncio.Event()
    clock = FixedClock(local(2026, 11, 24, 12, 0))
    task = asyncio.create_task(timekeeper.run(session_factory, clock, deadlines, stop, interval=0.01))
    for _ in range(200):
        async with session_factory() as session:
            if await count(session, ComplaintTimer, ComplaintTimer.done_at.is_(None)) == 0:
                break
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(task, 5)
    async with session_factory() as session:
        actions = list(await session.scalars(select(ComplaintEvent.action).order_by(ComplaintEvent.id)))
        assert actions == [EventAction.URGED, EventAction.ESCALATED]  # no 预警 after the deadline passed


async def test_two_timekeepers_on_postgres_handle_each_due_timer_exactly_once(
    backend: str, engine: AsyncEngine, deadlines: Deadlines
) -> None:
    if backend != "postgresql":
        pytest.skip("several instances share one database only on PostgreSQL")
    first_factory = create_session_factory(engine)
    async with first_factory() as session:
        agency_id = await add_agencies(session)
        for number in range(1, 41):
            await add_complaint(session, deadlines, agency_id, number)
        await session.commit()
    second_engine = create_engine(engine.url.render_as_string(hide_password=False))
    try:
        clock = FixedClock(local(2026, 11, 24, 12, 0))
        handled = await asyncio.gather(
            timekeeper.run_once(first_factory, clock, deadlines),
            timekeeper.run_once(create_session_factory(second_engine), clock, deadlines),
        )
    finally:
        await second_engine.dispose()
    assert sum(handled) == 120
    assert all(h > 0 for h in handled), handled  # both really took part
    async with first_factory() as session:
        # 催办 and 督办 for each complaint; the overtaken 预警 timers complete silently.
        assert await count(session, ComplaintEvent) == 80
        assert await count(session, ComplaintTimer, ComplaintTimer.done_at.is_(None)) == 0
        timer_ids = [data["timer_id"] for data in await session.scalars(select(ComplaintEvent.data))]
        assert len(timer_ids) == len(set(timer_ids))
        assert await count(session, OutboxMessage) == 40 * 4
