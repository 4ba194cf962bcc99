"""The timekeeper with the real lifecycle: intake, 转办 and 受理 drive the timers it fires."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import Complaint, ComplaintEvent, ComplaintTimer, EventAction
from tests.factories import ZONE, agency, local, make_clock, make_complaint, make_contact, make_deadlines
from workflow import timekeeper
from workflow.lifecycle import accept
from workflow.transfers import transfer


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
