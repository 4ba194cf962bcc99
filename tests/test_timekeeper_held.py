"""Notices a timer holds for working hours are withdrawn when the deadline they chase stops applying
before they go out; everything else still arrives when due."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import Complaint, ComplaintTimer, OutboxMessage, OutboxStatus
from tests.factories import ZONE, local, make_citizen, make_clock, make_complaint, make_contact, make_deadlines
from tests.test_outbox import FakeTransport
from workflow import outbox, timekeeper
from workflow.lifecycle import accept
from workflow.notifications import Notice

SATURDAY_NIGHT = local(2026, 11, 28, 3, 0)
MONDAY_OPENING = local(2026, 11, 30, 9, 0)


async def notices(session: AsyncSession, complaint_id: int) -> list[OutboxMessage]:
    return list(
        await session.scalars(
            select(OutboxMessage).where(OutboxMessage.complaint_id == complaint_id).order_by(OutboxMessage.id)
        )
    )


async def next_timer(factory: async_sessionmaker[AsyncSession]) -> datetime | None:
    async with factory() as session:
        return await session.scalar(
            select(func.min(ComplaintTimer.due_at)).where(
                ComplaintTimer.done_at.is_(None), ComplaintTimer.cancelled.is_(False)
            )
        )


async def test_a_held_urge_to_accept_is_withdrawn_when_the_clerk_accepts_before_it_goes_out(
    session_factory: async_sessionmaker[AsyncSession], catalogue_loaded: None
) -> None:
    clock, deadlines = make_clock(), make_deadlines()  # filed Monday 10:00
    async with session_factory() as session:
        _, clerk = await make_contact(session, "public-security")
        citizen, _ = await make_citizen(session)
        complaint = await make_complaint(session, clock, deadlines, citizen=citizen)
        await session.commit()
        resolve_due = complaint.resolve_due_at
    assert resolve_due.astimezone(ZONE) > MONDAY_OPENING  # the resolve clock still runs on Monday

    clock.set(SATURDAY_NIGHT)  # the timekeeper was down all week: the 受理 催办 and 督办 fire now
    await timekeeper.run_once(session_factory, clock, deadlines)
    async with session_factory() as session:
        held = [m for m in await notices(session, complaint.id) if m.kind in (Notice.OVERDUE, Notice.ESCALATED)]
        assert held and {m.next_attempt_at.astimezone(ZONE) for m in held} == {MONDAY_OPENING}
        assert {m.payload["timer"]["clock"] for m in held} == {"acknowledge"}
        held_ids = {m.id for m in held}

    clock.set(local(2026, 11, 30, 8, 30))
    async with session_factory() as session:
        await accept(session, clock, deadlines, complaint.id, clerk)
        await session.commit()

    transport = FakeTransport()
    clock.set(MONDAY_OPENING)
    await outbox.deliver_due(session_factory, transport, clock)
    # The resolve clock goes on: its 催办 fires and is delivered when due.
    while (moment := await next_timer(session_factory)) is not None and moment <= resolve_due:
        clock.set(max(clock.now(), moment))
        await timekeeper.run_once(session_factory, clock, deadlines)
        await outbox.deliver_due(session_factory, transport, clock)

    delivered = [(m.kind, m.payload["params"].get("clock")) for m in transport.calls]
    assert (Notice.OVERDUE, "acknowledge") not in delivered
    assert (Notice.ESCALATED, "acknowledge") not in delivered
    assert (Notice.OVERDUE, "resolve") in delivered  # at 17:30 Monday, when due
    assert Notice.ACCEPTED in {kind for kind, _ in delivered}  # the citizen's notice, caused by a person
    async with session_factory() as session:
        statuses = {m.id: m.status for m in await notices(session, complaint.id)}
        assert {statuses[i] for i in held_ids} == {OutboxStatus.WITHDRAWN}  # kept, not deleted
        assert (await session.get_one(Complaint, complaint.id)).acknowledged_at is not None


async def test_only_untouched_timer_notices_are_withdrawn(
    session_factory: async_sessionmaker[AsyncSession], catalogue_loaded: None
) -> None:
    clock, deadlines = make_clock(), make_deadlines()
    async with session_factory() as session:
        complaint = await make_complaint(session, clock, deadlines)
        later = local(2026, 11, 30, 9, 0)
        outbox.hold_until(session, later)
        by_person = outbox.enqueue(session, chat_id=1, kind="a", params={}, complaint_id=complaint.id, now=clock.now())
        outbox.from_timer(session, {"timer_id": 1, "clock": "acknowledge", "due": later.isoformat()})
        claimed, held, sent = (
            outbox.enqueue(session, chat_id=1, kind="b", params={}, complaint_id=complaint.id, now=clock.now())
            for _ in range(3)
        )
        claimed.attempts = 1  # a sender holds it right now
        sent.status = OutboxStatus.SENT
        outbox.from_timer(session, {"timer_id": 2, "clock": "resolve", "due": later.isoformat()})
        running = outbox.enqueue(session, chat_id=1, kind="c", params={}, complaint_id=complaint.id, now=clock.now())
        await session.flush()
        withdrawn = await outbox.withdraw_held(session, complaint.id, lambda timer: timer["clock"] == "resolve")
        await session.commit()
        assert withdrawn == 1
        assert [by_person.status, claimed.status, held.status, sent.status, running.status] == [
            OutboxStatus.PENDING,
            OutboxStatus.PENDING,
            OutboxStatus.WITHDRAWN,
            OutboxStatus.SENT,
            OutboxStatus.PENDING,
        ]
