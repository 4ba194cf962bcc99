"""The timekeeper with the real lifecycle: intake, 转办, 受理, disputes and replies drive the timers it
fires; each missed deadline is chased once, at its time, and people hear of it in working hours."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import (
    Complaint,
    ComplaintEvent,
    ComplaintStatus,
    ComplaintTimer,
    ContactRole,
    EventAction,
    OutboxMessage,
)
from tests.factories import (
    ZONE,
    agency,
    local,
    make_citizen,
    make_clock,
    make_complaint,
    make_contact,
    make_deadlines,
)
from workflow import timekeeper
from workflow.clock import FixedClock
from workflow.deadlines import Deadlines
from workflow.lifecycle import accept, resolve
from workflow.transfers import decline_transfer, transfer

CHASES = (EventAction.REMINDED, EventAction.URGED, EventAction.ESCALATED)


async def pending(session: AsyncSession, complaint_id: int) -> list[tuple[str, object]]:
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


async def test_transfer_keeps_the_clock_and_the_first_contact_owner_is_urged(
    session_factory: async_sessionmaker[AsyncSession], catalogue_loaded: None
) -> None:
    clock, deadlines = make_clock(), make_deadlines()  # Monday 10:00
    async with session_factory() as session:
        owner, owner_actor = await make_contact(session, "public-security")
        _, receiver_actor = await make_contact(session, "justice")
        complaint = await make_complaint(session, clock, deadlines)
        await session.commit()
        before = await pending(session, complaint.id)
        ack_due, resolve_due = complaint.acknowledge_due_at, complaint.resolve_due_at
    assert ack_due.astimezone(ZONE) == local(2026, 11, 23, 15, 30)

    clock.set(local(2026, 11, 23, 14, 0))
    async with session_factory() as session:
        justice = await agency(session, "justice")
        await transfer(session, clock, deadlines, complaint.id, owner_actor, justice.id, "属司法局职责")
        await session.commit()
    async with session_factory() as session:
        moved = await session.get_one(Complaint, complaint.id)
        assert (moved.acknowledge_due_at, moved.resolve_due_at) == (ack_due, resolve_due)
        assert await pending(session, complaint.id) == before

    clock.set(local(2026, 11, 23, 14, 30))
    assert await timekeeper.run_once(session_factory, clock, deadlines) == 1  # 预警
    clock.set(local(2026, 11, 23, 15, 30))
    assert await timekeeper.run_once(session_factory, clock, deadlines) == 1  # 催办, to the first-contact owner
    clock.advance(timedelta(minutes=30))
    async with session_factory() as session:
        await accept(session, clock, deadlines, complaint.id, receiver_actor)
        await session.commit()
    clock.set(local(2026, 11, 24, 12, 0))  # past the acknowledge escalation moment
    assert await timekeeper.run_once(session_factory, clock, deadlines) == 0

    async with session_factory() as session:
        events = list(
            await session.execute(
                select(ComplaintEvent.action, ComplaintEvent.agency_id)
                .where(ComplaintEvent.action.in_([EventAction.REMINDED, EventAction.URGED, EventAction.ESCALATED]))
                .order_by(ComplaintEvent.id)
            )
        )
        assert events == [(EventAction.REMINDED, owner.agency_id), (EventAction.URGED, owner.agency_id)]
        assert [kind for kind, _ in await pending(session, complaint.id)] == [
            "resolve_warning",
            "resolve_overdue",
            "resolve_escalate",
        ]
        accepted = await session.get_one(Complaint, complaint.id)
        assert accepted.resolve_due_at == resolve_due  # the citizen's 办结 clock still runs from filing


async def run_timekeeper_until(
    factory: async_sessionmaker[AsyncSession], clock: FixedClock, deadlines: Deadlines, end: datetime
) -> None:
    """The timekeeper's loop up to ``end``, as the service runs it: each timer at its due moment."""
    while True:
        async with factory() as session:
            due = await session.scalar(
                select(func.min(ComplaintTimer.due_at)).where(
                    ComplaintTimer.done_at.is_(None), ComplaintTimer.cancelled.is_(False)
                )
            )
        if due is None or due > end:
            clock.set(max(clock.now(), end))
            return
        clock.set(max(clock.now(), due))
        await timekeeper.run_once(factory, clock, deadlines)


async def chases(session: AsyncSession, complaint_id: int) -> list[tuple[str, str, datetime]]:
    """(action, clock, local moment) of each 预警, 催办 and 督办 of the complaint."""
    rows = await session.scalars(
        select(ComplaintEvent)
        .where(ComplaintEvent.complaint_id == complaint_id, ComplaintEvent.action.in_(CHASES))
        .order_by(ComplaintEvent.id)
    )
    return [(e.action, e.data["clock"], e.at.astimezone(ZONE)) for e in rows]


async def test_a_complaint_accepted_weeks_late_was_chased_at_its_resolve_deadline_and_gets_no_burst(
    session_factory: async_sessionmaker[AsyncSession], catalogue_loaded: None
) -> None:
    clock, deadlines = make_clock(local(2026, 11, 2, 10, 0)), make_deadlines()  # a Monday morning
    async with session_factory() as session:
        _, clerk = await make_contact(session, "public-security")
        complaint = await make_complaint(session, clock, deadlines)
        await session.commit()
    assert complaint.resolve_due_at.astimezone(ZONE) == local(2026, 11, 9, 17, 30)  # on the citizen's receipt

    await run_timekeeper_until(session_factory, clock, deadlines, local(2026, 11, 30, 10, 0))
    async with session_factory() as session:
        await accept(session, clock, deadlines, complaint.id, clerk)
        await session.commit()
    clock.advance(timedelta(seconds=30))
    assert await timekeeper.run_once(session_factory, clock, deadlines) == 0  # nothing stale at the acceptance

    async with session_factory() as session:
        assert await chases(session, complaint.id) == [
            (EventAction.REMINDED, "acknowledge", local(2026, 11, 2, 14, 30)),
            (EventAction.URGED, "acknowledge", local(2026, 11, 2, 15, 30)),
            (EventAction.ESCALATED, "acknowledge", local(2026, 11, 3, 11, 0)),
            (EventAction.REMINDED, "resolve", local(2026, 11, 9, 9, 0)),
            (EventAction.URGED, "resolve", local(2026, 11, 9, 17, 30)),
            (EventAction.ESCALATED, "resolve", local(2026, 11, 10, 17, 30)),
        ]


async def test_a_dispute_left_unruled_is_chased_at_the_office_at_the_citizens_deadline(
    session_factory: async_sessionmaker[AsyncSession], catalogue_loaded: None
) -> None:
    clock, deadlines = make_clock(), make_deadlines()  # Monday 23 November, 10:00
    async with session_factory() as session:
        owner, owner_actor = await make_contact(session, "public-security")
        receiver, receiver_actor = await make_contact(session, "traffic-police")
        office, _ = await make_contact(session, "oversight-office", ContactRole.OVERSIGHT)
        complaint = await make_complaint(session, clock, deadlines)
        traffic = await agency(session, "traffic-police")
        for _ in range(2):
            await transfer(session, clock, deadlines, complaint.id, owner_actor, traffic.id, "属交警职责")
            await decline_transfer(session, clock, deadlines, complaint.id, receiver_actor, "不属本单位职责")
        await session.commit()
        assert (await session.get_one(Complaint, complaint.id)).status == ComplaintStatus.DISPUTED
        disputed_at = clock.now()

    await run_timekeeper_until(session_factory, clock, deadlines, local(2026, 12, 31))
    async with session_factory() as session:
        assert [(action, clock_name) for action, clock_name, _ in await chases(session, complaint.id)] == [
            (EventAction.REMINDED, "acknowledge"),
            (EventAction.URGED, "acknowledge"),
            (EventAction.ESCALATED, "acknowledge"),
            (EventAction.REMINDED, "resolve"),
            (EventAction.URGED, "resolve"),
            (EventAction.ESCALATED, "resolve"),
        ]
        told = list(
            await session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.complaint_id == complaint.id, OutboxMessage.created_at > disputed_at)
                .order_by(OutboxMessage.id)
            )
        )
        # Not the agencies: neither can move a dispute; only the office's ruling does.
        assert [m.chat_id for m in told] == [office.telegram_user_id] * 6
        assert all(m.payload["params"]["disputed"] for m in told)
        assert not {owner.telegram_user_id, receiver.telegram_user_id} & {m.chat_id for m in told}


async def test_after_a_night_restart_the_rating_reminder_waits_for_the_morning_and_the_close_does_not(
    session_factory: async_sessionmaker[AsyncSession], catalogue_loaded: None
) -> None:
    clock, deadlines = make_clock(local(2026, 10, 29, 10, 0)), make_deadlines()  # a Thursday
    async with session_factory() as session:
        _, clerk = await make_contact(session, "public-security")
        citizen, _ = await make_citizen(session)
        first = await make_complaint(session, clock, deadlines, citizen=citizen)
        second = await make_complaint(session, clock, deadlines, citizen=citizen)
        for complaint in (first, second):
            await accept(session, clock, deadlines, complaint.id, clerk)
        await resolve(session, clock, deadlines, second.id, clerk, "已为您补办。")
        clock.set(local(2026, 10, 30, 10, 0))  # the first is answered the next day
        await resolve(session, clock, deadlines, first.id, clerk, "已为您补办。")
        await session.commit()
    # First: reminder Mon 9 Nov 09:00, window ends Tue 10 Nov 17:30. Second: window ended Mon 9 Nov 17:30
    # (its reminder, Fri 6 Nov, is overtaken by the close and says nothing).
    restarted = local(2026, 11, 9, 23, 30)  # down since before the reminders; back on Monday night
    clock.set(restarted)
    assert await timekeeper.run_once(session_factory, clock, deadlines) == 3

    async with session_factory() as session:
        assert (await session.get_one(Complaint, first.id)).status == ComplaintStatus.RESOLVED
        closed = await session.get_one(Complaint, second.id)
        assert closed.status == ComplaintStatus.CLOSED and closed.closed_at.astimezone(ZONE) == restarted
        rows = await session.execute(
            select(OutboxMessage.complaint_id, OutboxMessage.kind, OutboxMessage.next_attempt_at)
            .where(OutboxMessage.created_at == restarted)
            .order_by(OutboxMessage.id)
        )
        morning = local(2026, 11, 10, 9, 0)
        assert [(cid, kind, at.astimezone(ZONE)) for cid, kind, at in rows] == [
            (first.id, "complaint.rating_reminder", morning),
            (second.id, "complaint.closed_unrated", morning),
            (second.id, "agency.closed_unrated", morning),
        ]
