"""What a complaint's card shows from its events: who accepted and who replied, the transfer standing,
and why it was reopened (重办)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Agency, AgencyContact, Complaint, ComplaintEvent, EventAction


@dataclass(frozen=True)
class CardHistory:
    """What a card shows from the complaint's events: who handled it and why it moved."""

    accepted_by: str | None = None  # the contact who accepted (受理), for the current owner
    resolved_by: str | None = None  # the contact who replied (办结), latest round
    transfer_from: str | None = None  # the sender of the latest transfer not withdrawn or declined …
    transfer_to: str | None = None  # … its receiver …
    transfer_reason: str | None = None  # … and its reason
    transfer_from_id: int | None = None
    transfer_to_id: int | None = None
    transfer_id: int | None = None  # its request's event id: the transfer a card's 受理 / 退回 answer
    reopen_reason: str | None = None  # the citizen's words with the 不满意 that caused the latest 重办
    reopened: bool = False


async def card_history(session: AsyncSession, complaint: Complaint) -> CardHistory:
    events = list(
        await session.scalars(
            select(ComplaintEvent)
            .where(
                ComplaintEvent.complaint_id == complaint.id,
                ComplaintEvent.action.in_(
                    [
                        EventAction.ACCEPTED.value,
                        EventAction.TRANSFER_ACCEPTED.value,
                        EventAction.TRANSFER_REQUESTED.value,
                        EventAction.TRANSFER_WITHDRAWN.value,
                        EventAction.TRANSFER_DECLINED.value,
                        EventAction.RESOLVED.value,
                        EventAction.RATED.value,
                        EventAction.REOPENED.value,
                    ]
                ),
            )
            .order_by(ComplaintEvent.id)
        )
    )
    accepted = resolved = transfer = None
    rated_reason: str | None = None
    reopen_reason: str | None = None
    reopened = False
    for event in events:
        action = event.action
        if action in (EventAction.ACCEPTED, EventAction.TRANSFER_ACCEPTED):
            accepted = event
        elif action == EventAction.RESOLVED:
            resolved = event
        elif action == EventAction.TRANSFER_REQUESTED:
            transfer = event
        elif action in (EventAction.TRANSFER_WITHDRAWN, EventAction.TRANSFER_DECLINED):
            transfer = None  # taken back or sent back: the card no longer names it
        elif action == EventAction.RATED:
            rated_reason = event.reason
        elif action == EventAction.REOPENED:
            reopened, reopen_reason = True, rated_reason
    names = await _contact_names(session, [e.actor_id for e in (accepted, resolved) if e is not None])
    return CardHistory(
        accepted_by=names.get(accepted.actor_id) if accepted is not None and accepted.actor_id else None,
        resolved_by=names.get(resolved.actor_id) if resolved is not None and resolved.actor_id else None,
        transfer_from=(await _agency_name(session, transfer.from_agency_id)) if transfer is not None else None,
        transfer_to=(await _agency_name(session, transfer.to_agency_id)) if transfer is not None else None,
        transfer_reason=transfer.reason if transfer is not None else None,
        transfer_from_id=transfer.from_agency_id if transfer is not None else None,
        transfer_to_id=transfer.to_agency_id if transfer is not None else None,
        transfer_id=transfer.id if transfer is not None else None,
        reopen_reason=reopen_reason,
        reopened=reopened,
    )


async def accepted_by(session: AsyncSession, complaint: Complaint) -> str | None:
    """The contact who accepted the complaint, for "a colleague already accepted it"."""
    return (await card_history(session, complaint)).accepted_by


async def _contact_names(session: AsyncSession, ids: list[int | None]) -> dict[int, str]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    rows = await session.execute(
        select(AgencyContact.id, AgencyContact.display_name).where(AgencyContact.id.in_(wanted))
    )
    return {contact_id: name for contact_id, name in rows if name}


async def _agency_name(session: AsyncSession, agency_id: int | None) -> str | None:
    if agency_id is None:
        return None
    return await session.scalar(select(Agency.name).where(Agency.id == agency_id))
