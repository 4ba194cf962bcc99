"""Notices become outbox rows in the caller's transaction, for the right people only."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import ContactRole, OutboxMessage, OutboxStatus
from tests.factories import World, local, make_citizen, make_contact
from workflow.notifications import Notice, notify_agency, notify_citizen, notify_oversight
from workflow.outbox import deliver_due


async def chats(session: AsyncSession, kind: Notice) -> list[int]:
    rows = await session.scalars(select(OutboxMessage.chat_id).where(OutboxMessage.kind == kind.value))
    return sorted(rows)


async def test_citizen_without_telegram_gets_no_outbox_row(world: World) -> None:
    web_citizen, _ = await make_citizen(world.session, telegram=False)
    complaint = await world.complaint(citizen=web_citizen)
    await notify_citizen(world.session, complaint, Notice.ACCEPTED, now=world.clock.now(), agency_name="市公安局")
    assert await chats(world.session, Notice.ACCEPTED) == []


async def test_agency_notice_reaches_active_contacts_and_leads_only_when_asked(world: World) -> None:
    lead, _ = await make_contact(world.session, "public-security", ContactRole.LEAD)
    gone, _ = await make_contact(world.session, "public-security")
    gone.active = False
    complaint = await world.complaint()
    police_id = complaint.owner_agency_id
    await notify_agency(world.session, police_id, Notice.OVERDUE, now=world.clock.now(), complaint=complaint)
    await notify_agency(
        world.session, police_id, Notice.REMINDER, now=world.clock.now(), leads_only=True, complaint=complaint
    )
    overdue = await chats(world.session, Notice.OVERDUE)
    assert lead.telegram_user_id in overdue and gone.telegram_user_id not in overdue and len(overdue) == 2
    assert await chats(world.session, Notice.REMINDER) == [lead.telegram_user_id]


async def test_oversight_notice_goes_to_the_office_and_oversight_contacts_once_each(world: World) -> None:
    office_clerk, _ = await make_contact(world.session, "oversight-office")
    complaint = await world.complaint()
    await notify_oversight(world.session, Notice.ESCALATED, now=world.clock.now(), complaint=complaint, due_text="今天")
    rows = list(await world.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == Notice.ESCALATED.value)))
    assert len(rows) == 2 and office_clerk.telegram_user_id in {row.chat_id for row in rows}
    params = rows[0].payload["params"]
    assert (params["tracking_no"], params["due_text"], rows[0].complaint_id) == (
        complaint.tracking_no,
        "今天",
        complaint.id,
    )


class Recorder:
    """A transport that only notes what it was handed."""

    def __init__(self) -> None:
        self.kinds: list[str] = []

    async def deliver(self, message: OutboxMessage) -> None:
        self.kinds.append(message.kind)


async def test_notices_are_due_on_the_workflow_clock_however_far_it_is_from_the_real_date(
    world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    """Stamped with the wall clock, an intake's notices would wait years for a sender on this clock."""
    world.clock.set(local(2020, 6, 1, 10))
    complaint = await world.complaint()
    transport = Recorder()
    assert await deliver_due(session_factory, transport, world.clock) == 2
    assert sorted(transport.kinds) == sorted([Notice.RECEIPT.value, Notice.NEW_IN_QUEUE.value])
    rows = list(await world.session.scalars(select(OutboxMessage).where(OutboxMessage.complaint_id == complaint.id)))
    assert {(row.status, row.created_at, row.sent_at) for row in rows} == {
        (OutboxStatus.SENT, world.clock.now(), world.clock.now())
    }
