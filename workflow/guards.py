"""The lifecycle's shared steps: load, authorise, check the transition table, record the event, flush.

Every action validates everything before it changes anything, so a refused action leaves the session
as it found it; the channel commits (or rolls back) the unit of work.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from storage.models import ActorKind, Complaint, ComplaintEvent, ComplaintStatus, EventAction
from workflow.actors import Actor
from workflow.contacts import agency_names, is_oversight_agency
from workflow.errors import Conflict, DomainError, NotFound
from workflow.transitions import MAX_DECLINES, NOT_YET_ACCEPTED, Action, target


async def load(session: AsyncSession, complaint_id: int) -> Complaint:
    complaint = await session.get(Complaint, complaint_id)
    if complaint is None:
        raise NotFound(f"complaint {complaint_id}")
    return complaint


def next_status(complaint: Complaint, action: Action) -> ComplaintStatus:
    """The status after ``action`` per the table; "not_accepted" or "bad_state" when it forbids it."""
    status = target(complaint.status, action)
    if status is None:
        if action in (Action.RESOLVE, Action.REQUEST_EXTENSION) and complaint.status in NOT_YET_ACCEPTED:
            raise DomainError("not_accepted", status=complaint.status)
        raise DomainError("bad_state", f"{action} in {complaint.status}", status=complaint.status)
    return status


def is_ruled(complaint: Complaint) -> bool:
    """An owner named by oversight (审定) after the last permitted decline: the ruling binds."""
    return complaint.transfer_declines >= MAX_DECLINES


async def standing(session: AsyncSession, complaint: Complaint) -> dict[str, Any]:
    """Where the complaint stands now, as a ``bad_state`` refusal's params: its status, who holds it
    (and who is asked to take it), and whether a ruling named the holder. A channel says it in words,
    so a stale button is answered with what happened instead of "not allowed"."""
    names = await agency_names(session, (complaint.owner_agency_id, complaint.transfer_to_agency_id))
    return {
        "status": complaint.status,
        "owner": names.get(complaint.owner_agency_id or 0, ""),
        "receiver": names.get(complaint.transfer_to_agency_id or 0, ""),
        "ruled": is_ruled(complaint) and complaint.status != ComplaintStatus.DISPUTED,
    }


async def require_status(session: AsyncSession, complaint: Complaint, action: Action) -> ComplaintStatus:
    """``next_status``, with a refusal that says where the complaint stands (``standing``) and what
    was tried."""
    try:
        return next_status(complaint, action)
    except DomainError as error:
        if error.code != "bad_state":
            raise
        raise DomainError("bad_state", error.detail, action=action, **await standing(session, complaint)) from None


def require_contact_of(actor: Actor, *agency_ids: int | None) -> None:
    """Only a contact of one of these agencies may act (web viewers and citizens may not)."""
    if not actor.acts_for_agency:
        raise DomainError("not_allowed", f"{actor.kind} cannot act for an agency")
    if actor.agency_id not in agency_ids:
        raise DomainError("not_your_agency")


async def require_oversight(session: AsyncSession, actor: Actor) -> None:
    """Oversight by role, or any contact of the oversight office (效能办)."""
    if actor.is_oversight:
        return
    if actor.kind == ActorKind.CONTACT and await is_oversight_agency(session, actor.agency_id):
        return
    raise DomainError("not_allowed", "only oversight may do this")


def require_citizen_of(actor: Actor, complaint: Complaint) -> None:
    if actor.kind != ActorKind.CITIZEN or actor.id is None or actor.id != complaint.citizen_id:
        raise DomainError("not_allowed", "only the complaint's own citizen may do this")


def require_text(value: str | None, code: str = "reason_required") -> str:
    text = (value or "").strip()
    if not text:
        raise DomainError(code)
    return text


def record(
    session: AsyncSession,
    complaint: Complaint,
    actor: Actor,
    action: EventAction,
    now: datetime,
    *,
    from_status: str | None,
    to_status: str | None,
    agency_id: int | None,
    from_agency_id: int | None = None,
    to_agency_id: int | None = None,
    reason: str | None = None,
    **data: Any,
) -> ComplaintEvent:
    """Append the audit event and touch the complaint, so even a status-keeping action bumps the
    optimistic lock and two simultaneous requests cannot both pass their checks."""
    complaint.updated_at = now
    event = ComplaintEvent(
        complaint_id=complaint.id,
        at=now,
        action=action.value,
        actor_kind=actor.kind.value,
        actor_id=actor.id,
        agency_id=agency_id,
        from_status=from_status,
        to_status=to_status,
        from_agency_id=from_agency_id,
        to_agency_id=to_agency_id,
        reason=reason,
        data=data,
    )
    session.add(event)
    return event


async def flush(session: AsyncSession) -> None:
    """Flush; a version clash (someone else changed the complaint meanwhile) becomes "conflict"."""
    try:
        await session.flush()
    except StaleDataError as exc:
        raise Conflict("the complaint changed meanwhile") from exc


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
