"""Transfer (转办), decline (退回) and the oversight ruling (审定).

首问负责制: the first-contact owner stays answerable while a transfer waits; only the receiver's
acceptance moves ownership. A decline states its basis and counts against the decliner (回退率); the
MAX_DECLINES-th decline sends the complaint to oversight, whose ruling binds: the named agency must
accept and can no longer pass it on. Deadlines never change here: the citizen's clock keeps running.
"""

from __future__ import annotations

import sys

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nlp.personal_data import redact
from storage.models import Agency, AgencyRole, Complaint, ComplaintEvent, ComplaintStatus, EventAction
from workflow import timers
from workflow.actors import Actor
from workflow.clock import Clock
from workflow.contacts import active_agency
from workflow.deadlines import Deadlines
from workflow.errors import DomainError
from workflow.evaluations import search_agencies
from workflow.guards import (
    flush,
    is_ruled,
    load,
    record,
    require_contact_of,
    require_oversight,
    require_status,
    require_text,
)
from workflow.notifications import Notice, agency_name, notify_agency, notify_citizen, notify_oversight
from workflow.transitions import MAX_DECLINES, Action

#: A 退回 basis names the rule or duty document that puts the complaint elsewhere: a word or two is none
#: (the bot asks again when it gets a shorter one).
MIN_BASIS_CHARS = 5


async def declined_by(session: AsyncSession, complaint_id: int) -> list[int]:
    """The agencies that sent a transfer of this complaint back, first decline first: the parties of a
    dispute, and the ones a transfer is warned about."""
    rows = await session.scalars(
        select(ComplaintEvent.from_agency_id)
        .where(
            ComplaintEvent.complaint_id == complaint_id,
            ComplaintEvent.action == EventAction.TRANSFER_DECLINED.value,
        )
        .order_by(ComplaintEvent.id)
    )
    return list(dict.fromkeys(agency_id for agency_id in rows if agency_id is not None))


async def transfer_targets(
    session: AsyncSession, *, exclude: int | None = None, first_area: str | None = None
) -> list[Agency]:
    """Active agencies a contact may name (转办) or oversight may rule to (审定): never the oversight
    office itself (it rules, it does not handle). Grouped by area, the complaint's own area first, then
    by name, so a clerk finds 市医疗保障局 next to its neighbours rather than by an internal code."""
    query = select(Agency).where(Agency.active.is_(True), Agency.role != AgencyRole.OVERSIGHT.value)
    if exclude is not None:
        query = query.where(Agency.id != exclude)
    agencies = list(await session.scalars(query))
    return sorted(agencies, key=lambda a: (a.area != first_area or first_area is None, a.area or "", a.name))


async def search_transfer_targets(
    session: AsyncSession, typed: str, *, exclude: int | None = None, first_area: str | None = None
) -> list[Agency]:
    """The ``transfer_targets`` a name typed at a picker finds, by the catalogue's own search (names and
    aliases, either script), best match first: the clerk's transfer and the office's ruling alike."""
    targets = {agency.id for agency in await transfer_targets(session, exclude=exclude, first_area=first_area)}
    found = await search_agencies(session, typed, limit=sys.maxsize)
    return [agency for agency in found if agency.id in targets]


async def require_open_transfer(session: AsyncSession, complaint: Complaint, question: int | None) -> None:
    """A receiver's 受理 / 退回 answers the transfer its notice showed (``question``, the request's event
    id). After that transfer was taken back or declined, a newer one to the same agency (with its own
    reason) must be read first. None answers the transfer open now."""
    if question is None or complaint.status != ComplaintStatus.TRANSFERRING:
        return
    latest = await session.scalar(
        select(ComplaintEvent.id)
        .where(
            ComplaintEvent.complaint_id == complaint.id,
            ComplaintEvent.action == EventAction.TRANSFER_REQUESTED.value,
        )
        .order_by(ComplaintEvent.id.desc())
        .limit(1)
    )
    if latest != question:
        raise DomainError("question_superseded")


async def transfer(
    session: AsyncSession,
    clock: Clock,
    deadlines: Deadlines,
    complaint_id: int,
    actor: Actor,
    to_agency_id: int,
    reason: str,
) -> Complaint:
    """The owner proposes another agency; it stays the owner until that agency accepts."""
    complaint = await load(session, complaint_id)
    require_contact_of(actor, complaint.owner_agency_id)
    to_status = await require_status(session, complaint, Action.TRANSFER)
    if is_ruled(complaint):
        raise DomainError("ruling_binds")
    if to_agency_id == complaint.owner_agency_id:
        raise DomainError("same_agency")
    reason = require_text(reason)
    receiver = await active_agency(session, to_agency_id)

    now = clock.now()
    from_status, owner_id = complaint.status, complaint.owner_agency_id
    complaint.status = to_status
    complaint.transfer_to_agency_id = receiver.id
    request = record(
        session,
        complaint,
        actor,
        EventAction.TRANSFER_REQUESTED,
        now,
        from_status=from_status,
        to_status=to_status,
        agency_id=owner_id,
        from_agency_id=owner_id,
        to_agency_id=receiver.id,
        reason=reason,
    )
    await flush(session)
    await timers.reschedule(session, complaint, deadlines)
    sender_name = await agency_name(session, owner_id)
    await notify_agency(
        session,
        receiver.id,
        Notice.TRANSFER_IN,
        complaint=complaint,
        from_agency=sender_name,
        reason=redact(reason),  # the receiver sees no personal data before it accepts (citizen_view)
        question_id=request.id,
        declines=complaint.transfer_declines,
        declined_before=receiver.id in await declined_by(session, complaint.id),  # it comes back to them
        decline_disputes=complaint.transfer_declines + 1 >= MAX_DECLINES,  # a 退回 now goes to oversight
        now=now,
    )
    await notify_citizen(
        session, complaint, Notice.TRANSFERRED, from_agency=sender_name, to_agency=receiver.name, reason=reason, now=now
    )
    await flush(session)
    return complaint


async def withdraw_transfer(
    session: AsyncSession,
    clock: Clock,
    deadlines: Deadlines,
    complaint_id: int,
    actor: Actor,
    reason: str | None = None,
) -> Complaint:
    """撤回转办: the sender takes a pending transfer back before the receiver answers. It was the owner
    all along, so nothing else changes: the deadlines keep running and no decline is counted."""
    complaint = await load(session, complaint_id)
    require_contact_of(actor, complaint.owner_agency_id)
    to_status = await require_status(session, complaint, Action.WITHDRAW_TRANSFER)

    now = clock.now()
    from_status, owner_id, receiver_id = complaint.status, complaint.owner_agency_id, complaint.transfer_to_agency_id
    complaint.status = to_status
    complaint.transfer_to_agency_id = None
    record(
        session,
        complaint,
        actor,
        EventAction.TRANSFER_WITHDRAWN,
        now,
        from_status=from_status,
        to_status=to_status,
        agency_id=owner_id,
        from_agency_id=receiver_id,
        to_agency_id=owner_id,
        reason=(reason or "").strip() or None,
    )
    await flush(session)
    await timers.reschedule(session, complaint, deadlines)
    owner_name, receiver_name = await agency_name(session, owner_id), await agency_name(session, receiver_id)
    if receiver_id is not None:
        await notify_agency(
            session, receiver_id, Notice.TRANSFER_WITHDRAWN, complaint=complaint, by_agency=owner_name, now=now
        )
    # the citizen was told it went to the receiver: tell them it stays
    await notify_citizen(
        session,
        complaint,
        Notice.TRANSFER_WITHDRAWN_FOR_CITIZEN,
        to_agency=receiver_name,
        agency_name=owner_name,
        now=now,
    )
    await flush(session)
    return complaint


async def withdrawn_transfer_to(session: AsyncSession, complaint_id: int, agency_id: int | None) -> str | None:
    """The sender's name if the complaint's latest transfer went to ``agency_id`` and was taken back:
    a button on that receiver's transfer notice then says so instead of "not found". None for anyone
    else (who must not learn the complaint exists)."""
    if agency_id is None:
        return None
    latest = await session.scalar(
        select(ComplaintEvent)
        .where(
            ComplaintEvent.complaint_id == complaint_id,
            ComplaintEvent.action.in_(
                [
                    EventAction.TRANSFER_REQUESTED.value,
                    EventAction.TRANSFER_ACCEPTED.value,
                    EventAction.TRANSFER_DECLINED.value,
                    EventAction.TRANSFER_WITHDRAWN.value,
                ]
            ),
        )
        .order_by(ComplaintEvent.id.desc())
        .limit(1)
    )
    if latest is None or latest.action != EventAction.TRANSFER_WITHDRAWN or latest.from_agency_id != agency_id:
        return None
    return await agency_name(session, latest.to_agency_id) or ""


async def decline_transfer(
    session: AsyncSession,
    clock: Clock,
    deadlines: Deadlines,
    complaint_id: int,
    actor: Actor,
    basis: str,
    question: int | None = None,
) -> Complaint:
    """The receiver sends a transfer back, stating its basis; the owner is unchanged. ``question``: the
    transfer the receiver was shown (``require_open_transfer``)."""
    complaint = await load(session, complaint_id)
    if complaint.status == ComplaintStatus.TRANSFERRING:
        require_contact_of(actor, complaint.transfer_to_agency_id)
    else:
        require_contact_of(actor, complaint.owner_agency_id, complaint.transfer_to_agency_id)
    action = Action.DECLINE_TO_DISPUTE if complaint.transfer_declines + 1 >= MAX_DECLINES else Action.DECLINE
    to_status = await require_status(session, complaint, action)
    await require_open_transfer(session, complaint, question)
    basis = require_text(basis)

    now = clock.now()
    from_status, owner_id, receiver_id = complaint.status, complaint.owner_agency_id, complaint.transfer_to_agency_id
    complaint.status = to_status
    complaint.transfer_to_agency_id = None
    complaint.transfer_declines += 1
    declined = record(
        session,
        complaint,
        actor,
        EventAction.TRANSFER_DECLINED,
        now,
        from_status=from_status,
        to_status=to_status,
        agency_id=receiver_id,  # 回退 counts against the agency that sent it back
        from_agency_id=receiver_id,
        to_agency_id=owner_id,
        reason=basis,
        declines=complaint.transfer_declines,
    )
    await flush(session)
    await timers.reschedule(session, complaint, deadlines)
    receiver_name, owner_name = await agency_name(session, receiver_id), await agency_name(session, owner_id)
    disputed = to_status == ComplaintStatus.DISPUTED  # no longer the owner's to handle: oversight rules
    assert owner_id is not None
    await notify_agency(
        session,
        owner_id,
        Notice.TRANSFER_DECLINED,
        complaint=complaint,
        by_agency=receiver_name,
        basis=basis,
        declines=complaint.transfer_declines,
        disputed=disputed,
        now=now,
    )
    # the citizen was told it went to the receiver: tell them it came back, without the basis
    await notify_citizen(
        session,
        complaint,
        Notice.TRANSFER_DECLINED_FOR_CITIZEN,
        by_agency=receiver_name,
        agency_name=owner_name,
        disputed=disputed,
        now=now,
    )
    if disputed:
        await notify_oversight(
            session,
            Notice.DISPUTE,
            complaint=complaint,
            owner_agency=owner_name,
            declined_by=receiver_name,
            basis=basis,
            question_id=declined.id,  # the ruling's question: its copies are settled once it is ruled
            now=now,
        )
    await flush(session)
    return complaint


async def rule_dispute(
    session: AsyncSession,
    clock: Clock,
    deadlines: Deadlines,
    complaint_id: int,
    actor: Actor,
    agency_id: int,
    reason: str,
) -> Complaint:
    """Oversight names the owner (审定); the named agency must accept and cannot decline or transfer."""
    complaint = await load(session, complaint_id)
    await require_oversight(session, actor)
    to_status = await require_status(session, complaint, Action.RULE)
    reason = require_text(reason)
    owner = await active_agency(session, agency_id)

    now = clock.now()
    from_status, previous_id = complaint.status, complaint.owner_agency_id
    complaint.status = to_status
    complaint.owner_agency_id = owner.id
    complaint.transfer_to_agency_id = None
    record(
        session,
        complaint,
        actor,
        EventAction.DISPUTE_RULED,
        now,
        from_status=from_status,
        to_status=to_status,
        agency_id=owner.id,
        from_agency_id=previous_id,
        to_agency_id=owner.id,
        reason=reason,
    )
    await flush(session)
    await timers.reschedule(session, complaint, deadlines)
    # the named agency and every party to the dispute (the owner, each decliner — the ones the ruling
    # picker showed first): each learns whether it handles the complaint
    for notified in dict.fromkeys((owner.id, previous_id, *await declined_by(session, complaint.id))):
        if notified is not None:
            await notify_agency(
                session,
                notified,
                Notice.RULED,
                complaint=complaint,
                owner_agency=owner.name,
                reason=reason,
                handles=notified == owner.id,
                now=now,
            )
    await notify_citizen(session, complaint, Notice.RULED_FOR_CITIZEN, agency_name=owner.name, now=now)
    await flush(session)
    return complaint
