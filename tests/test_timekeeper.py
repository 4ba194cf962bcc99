"""Complaint timers and the timekeeper: 预警, 催办, 督办 — each fired once, whoever runs it."""

from __future__ import annotations

import asyncio
import logging
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
from tests.conftest import failed_rounds
from workflow import notifications, timekeeper
from workflow.clock import FixedClock
from workflow.deadlines import Deadlines
from workflow.rounds import Backoff
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


ACK_TIMERS = [
    ("ack_warning", local(2026, 11, 23, 14, 30)),  # a quarter of four working hours left
    ("ack_overdue", local(2026, 11, 23, 15, 30)),
    ("ack_escalate", local(2026, 11, 24, 11, 0)),  # four working hours later, overnight
]
RESOLVE_TIMERS = [
    ("resolve_warning", local(2026, 11, 30, 9, 0)),  # a working day's worth before the deadline
    ("resolve_overdue", local(2026, 11, 30, 17, 30)),  # the deadline on the citizen's receipt
    ("resolve_escalate", local(2026, 12, 1, 17, 30)),
]


@pytest.mark.parametrize("status", [ComplaintStatus.ASSIGNED, ComplaintStatus.TRANSFERRING, ComplaintStatus.DISPUTED])
async def test_a_complaint_nobody_accepted_is_watched_on_both_deadlines(
    session: AsyncSession, deadlines: Deadlines, status: str
) -> None:
    complaint = await add_complaint(session, deadlines, await add_agencies(session), status=status)
    assert await pending_timers(session, complaint.id) == ACK_TIMERS + RESOLVE_TIMERS


async def test_acceptance_ends_the_acknowledge_timers_and_keeps_the_resolve_timers(
    session: AsyncSession, deadlines: Deadlines
) -> None:
    complaint = await add_complaint(session, deadlines, await add_agencies(session))
    complaint.status = ComplaintStatus.ACCEPTED
    complaint.acknowledged_at = FILED + timedelta(hours=1)
    await reschedule(session, complaint, deadlines)
    assert await pending_timers(session, complaint.id) == RESOLVE_TIMERS
    assert await count(session, ComplaintTimer, ComplaintTimer.cancelled.is_(True)) == 3
    assert await count(session, ComplaintTimer) == 6  # the resolve timers reused, not duplicated


async def test_transfer_never_restarts_the_citizens_clock(session: AsyncSession, deadlines: Deadlines) -> None:
    complaint = await add_complaint(session, deadlines, await add_agencies(session))
    before = await pending_timers(session, complaint.id)
    complaint.status = ComplaintStatus.TRANSFERRING
    await reschedule(session, complaint, deadlines)
    assert await pending_timers(session, complaint.id) == before
    assert await count(session, ComplaintTimer) == 6  # reused, not duplicated


async def test_a_complaint_from_before_resolve_timers_gets_no_stale_ones_when_accepted_late(
    session: AsyncSession, deadlines: Deadlines
) -> None:
    complaint = await add_complaint(session, deadlines, await add_agencies(session))
    for timer in await session.scalars(select(ComplaintTimer).where(ComplaintTimer.kind.like("resolve_%"))):
        await session.delete(timer)  # as a complaint left unaccepted by an older version has it
    complaint.status = ComplaintStatus.ACCEPTED
    complaint.acknowledged_at = local(2026, 12, 1, 10, 0)  # after the deadline, before the 督办 moment
    await reschedule(session, complaint, deadlines)
    assert await pending_timers(session, complaint.id) == [("resolve_escalate", local(2026, 12, 1, 17, 30))]


async def test_reschedule_never_recreates_a_timer_that_already_fired(
    session: AsyncSession, deadlines: Deadlines
) -> None:
    complaint = await add_complaint(session, deadlines, await add_agencies(session))
    warning = await session.scalar(select(ComplaintTimer).where(ComplaintTimer.kind == "ack_warning"))
    warning.done_at = warning.due_at
    await reschedule(session, complaint, deadlines)
    assert await pending_timers(session, complaint.id) == ACK_TIMERS[1:] + RESOLVE_TIMERS
    assert await count(session, ComplaintTimer) == 6


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


# --- when people hear of a timer ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "told_at"),
    [
        (local(2026, 11, 23, 10, 0), local(2026, 11, 23, 10, 0)),  # working hours: at once
        (local(2026, 11, 23, 17, 30), local(2026, 11, 23, 17, 30)),  # a deadline at the close: then
        (local(2026, 11, 23, 12, 30), local(2026, 11, 23, 13, 30)),  # lunch
        (local(2026, 11, 23, 23, 30), local(2026, 11, 24, 9, 0)),  # night
        (local(2026, 11, 28, 3, 0), local(2026, 11, 30, 9, 0)),  # Saturday
        (local(2026, 9, 30, 19, 30), local(2026, 10, 8, 9, 0)),  # the eve of the National Day holiday
    ],
)
def test_notices_wait_for_the_next_working_moment(deadlines: Deadlines, moment: datetime, told_at: datetime) -> None:
    assert deadlines.next_working_moment(moment) == told_at


def test_a_passed_deadline_is_described_without_before(deadlines: Deadlines) -> None:
    due = local(2026, 11, 9, 17, 30)
    assert deadlines.describe_moment(due) == "11月9日（周一）17:30"
    assert deadlines.describe(due) == "11月9日（周一）17:30前"  # the citizen's receipt, unchanged


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
        urged, escalated = messages[2].payload["params"], messages[4].payload["params"]
        assert urged["tracking_no"] == complaint.tracking_no
        assert urged["due_text"] == "11月23日（周一）15:30"  # past: no 前
        # Both handled at the 督办 moment: four working hours after the deadline.
        assert urged["overdue_by_minutes"] == escalated["overdue_by_minutes"] == 4 * 60
        assert [m.next_attempt_at for m in messages] == [m.created_at for m in messages]  # in hours: at once
        assert await count(session, ComplaintTimer, ComplaintTimer.done_at.is_(None)) == 3  # the resolve clock's


async def fire_until(
    factory: async_sessionmaker[AsyncSession], deadlines: Deadlines, clock: FixedClock, end: datetime
) -> list[datetime]:
    """The timekeeper's loop up to ``end``: each due timer handled at its moment; the moments handled."""
    moments = []
    while True:
        async with factory() as session:
            due = await session.scalar(
                select(func.min(ComplaintTimer.due_at)).where(
                    ComplaintTimer.done_at.is_(None), ComplaintTimer.cancelled.is_(False)
                )
            )
        if due is None or due > end:
            return moments
        clock.set(due)
        assert await timekeeper.run_once(factory, clock, deadlines) > 0
        moments.append(due.astimezone(ZONE))


async def test_a_complaint_nobody_accepts_is_chased_at_its_resolve_deadline_too(
    session_factory: async_sessionmaker[AsyncSession], deadlines: Deadlines
) -> None:
    async with session_factory() as session:
        await add_complaint(session, deadlines, await add_agencies(session))
        await session.commit()
    clock = FixedClock(FILED)
    await fire_until(session_factory, deadlines, clock, local(2026, 12, 31))
    async with session_factory() as session:
        events = list(await session.scalars(select(ComplaintEvent).order_by(ComplaintEvent.id)))
        assert [(e.action, e.data["clock"], e.at.astimezone(ZONE)) for e in events] == [
            (EventAction.REMINDED, "acknowledge", local(2026, 11, 23, 14, 30)),
            (EventAction.URGED, "acknowledge", local(2026, 11, 23, 15, 30)),
            (EventAction.ESCALATED, "acknowledge", local(2026, 11, 24, 11, 0)),
            (EventAction.REMINDED, "resolve", local(2026, 11, 30, 9, 0)),
            (EventAction.URGED, "resolve", local(2026, 11, 30, 17, 30)),
            (EventAction.ESCALATED, "resolve", local(2026, 12, 1, 17, 30)),
        ]
        resolve_notices = list(
            await session.scalars(
                select(OutboxMessage).where(OutboxMessage.created_at >= local(2026, 11, 30)).order_by(OutboxMessage.id)
            )
        )
        assert [(m.kind, m.chat_id, m.payload["params"].get("overdue_by_minutes")) for m in resolve_notices] == [
            (notifications.Notice.REMINDER, CLERK, None),
            (notifications.Notice.REMINDER, LEAD, None),
            (notifications.Notice.OVERDUE, CLERK, 0),  # on time: at the deadline
            (notifications.Notice.OVERDUE, LEAD, 0),
            (notifications.Notice.ESCALATED, OVERSIGHT, 7 * 60),  # a working day later
            (notifications.Notice.ESCALATED, LEAD, 7 * 60),
        ]


async def test_a_late_acceptance_brings_no_burst_of_stale_timers(
    session_factory: async_sessionmaker[AsyncSession], deadlines: Deadlines
) -> None:
    async with session_factory() as session:
        complaint = await add_complaint(session, deadlines, await add_agencies(session))
        await session.commit()
    clock = FixedClock(FILED)
    await fire_until(session_factory, deadlines, clock, local(2026, 12, 14, 10, 0))
    async with session_factory() as session:
        accepted = await session.get_one(Complaint, complaint.id)
        accepted.status = ComplaintStatus.ACCEPTED
        accepted.acknowledged_at = local(2026, 12, 14, 10, 0)  # two weeks after the resolve deadline
        await reschedule(session, accepted, deadlines)
        await session.commit()
        events_before = await count(session, ComplaintEvent)
    clock.set(local(2026, 12, 14, 10, 1))
    assert await timekeeper.run_once(session_factory, clock, deadlines) == 0
    async with session_factory() as session:
        assert await count(session, ComplaintEvent) == events_before == 6  # each deadline chased once, at its time


async def test_a_dispute_is_chased_at_the_office_which_must_rule_on_it(
    session_factory: async_sessionmaker[AsyncSession], deadlines: Deadlines
) -> None:
    async with session_factory() as session:
        agency_id = await add_agencies(session)
        await add_complaint(session, deadlines, agency_id, status=ComplaintStatus.DISPUTED)
        await session.commit()
    clock = FixedClock(FILED)
    await fire_until(session_factory, deadlines, clock, local(2026, 12, 31))
    async with session_factory() as session:
        events = list(await session.scalars(select(ComplaintEvent).order_by(ComplaintEvent.id)))
        assert [e.action for e in events] == [EventAction.REMINDED, EventAction.URGED, EventAction.ESCALATED] * 2
        messages = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        assert {m.chat_id for m in messages} == {OVERSIGHT}  # the agencies cannot move a dispute
        assert len(messages) == 6
        assert all(m.payload["params"]["disputed"] is True for m in messages)


async def test_timers_fired_at_night_hold_their_notices_until_the_next_working_period(
    session_factory: async_sessionmaker[AsyncSession], deadlines: Deadlines
) -> None:
    async with session_factory() as session:
        await add_complaint(session, deadlines, await add_agencies(session))
        await session.commit()
    restarted = local(2026, 11, 28, 3, 0)  # the timekeeper was down since Monday morning: Saturday night
    clock = FixedClock(restarted)
    assert await timekeeper.run_once(session_factory, clock, deadlines) == 3
    async with session_factory() as session:
        events = list(await session.scalars(select(ComplaintEvent).order_by(ComplaintEvent.id)))
        assert [(e.action, e.at.astimezone(ZONE)) for e in events] == [
            (EventAction.URGED, restarted),  # recorded when handled; the overtaken 预警 says nothing
            (EventAction.ESCALATED, restarted),
        ]
        messages = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        assert [(m.kind, m.chat_id) for m in messages] == [
            (notifications.Notice.OVERDUE, CLERK),
            (notifications.Notice.OVERDUE, LEAD),
            (notifications.Notice.ESCALATED, OVERSIGHT),
            (notifications.Notice.ESCALATED, LEAD),
        ]
        assert {m.next_attempt_at.astimezone(ZONE) for m in messages} == {local(2026, 11, 30, 9, 0)}
        # Late by Monday 15:30-17:30 and Tuesday to Friday, when read on Monday morning.
        assert {m.payload["params"]["overdue_by_minutes"] for m in messages} == {(2 + 4 * 7) * 60}
        assert {m.payload["params"]["working_day_minutes"] for m in messages} == {7 * 60}


@pytest.mark.parametrize(
    ("handled_at", "told_at"),
    [
        (local(2026, 11, 30, 17, 30) + timedelta(seconds=20), None),  # the loop's half minute: at once
        (local(2026, 11, 30, 17, 40), local(2026, 12, 1, 9, 0)),  # after hours: next morning
    ],
)
async def test_a_deadline_at_the_close_of_business_is_chased_then_not_the_next_morning(
    session_factory: async_sessionmaker[AsyncSession],
    deadlines: Deadlines,
    handled_at: datetime,
    told_at: datetime | None,
) -> None:
    async with session_factory() as session:
        await add_complaint(session, deadlines, await add_agencies(session), status=ComplaintStatus.ACCEPTED)
        await session.commit()
    clock = FixedClock(handled_at)
    await timekeeper.run_once(session_factory, clock, deadlines)
    async with session_factory() as session:
        urged = list(await session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "agency.overdue")))
        assert len(urged) == 2
        assert {m.next_attempt_at for m in urged} == {told_at or handled_at}


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
        due = ComplaintTimer.due_at <= clock.now()
        assert await count(session, ComplaintTimer, due, ComplaintTimer.done_at.is_(None)) == 0
        timer_ids = [data["timer_id"] for data in await session.scalars(select(ComplaintEvent.data))]
        assert len(timer_ids) == len(set(timer_ids))
        assert await count(session, OutboxMessage) == 40 * 4


async def test_timekeeper_logs_one_line_per_failed_round_and_waits_longer_while_the_database_is_gone(
    gone_session_factory: async_sessionmaker[AsyncSession], deadlines: Deadlines, caplog: pytest.LogCaptureFixture
) -> None:
    stop, clock = asyncio.Event(), FixedClock(local(2026, 3, 2, 9))
    keeper = timekeeper.run(gone_session_factory, clock, deadlines, stop, backoff=Backoff(0.001, 0.004))
    with caplog.at_level(logging.INFO, logger="workflow.timekeeper"):
        task = asyncio.create_task(keeper)
        failures = await failed_rounds(caplog, "timekeeper round", 5)
        stop.set()
        await asyncio.wait_for(task, 5)
    assert [r.getMessage().rsplit(" ", 1)[1] for r in failures[:5]] == [
        "0.001s",
        "0.002s",
        "0.004s",
        "0.004s",
        "0.004s",
    ]
    assert [bool(r.exc_info) for r in failures] == [True] + [False] * (len(failures) - 1)
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert len(tracebacks) <= 2, [r.getMessage() for r in tracebacks]  # the start-up reconcile and the first round
