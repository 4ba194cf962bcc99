"""Extension (延期): asked by the owner before the resolve deadline, decided by oversight.

A request is an EXTENSION_REQUESTED event; it is pending until an approval or refusal follows (or the
complaint is resolved or withdrawn first, which makes it moot). The owner hears the decision either way;
the citizen, who is never told of a request, hears only an approval: it moves the deadline they know.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Complaint, ComplaintEvent, EventAction
from workflow import timers
from workflow.actors import Actor
from workflow.clock import Clock
from workflow.deadlines import Deadlines
from workflow.errors import DomainError
from workflow.guards import (
    flush,
    iso,
    load,
    record,
    require_contact_of,
    require_oversight,
    require_status,
    require_text,
)
from workflow.notifications import (
    Notice,
    agency_name,
    notify_agency,
    notify_citizen,
    notify_oversight,
    resolve_due_params,
)
from workflow.transitions import Action

#: Events that settle (or make moot) an earlier extension request.
SETTLING = (
    EventAction.EXTENSION_APPROVED,
    EventAction.EXTENSION_REFUSED,
    EventAction.RESOLVED,
    EventAction.WITHDRAWN,
)


async def pending_extension(session: AsyncSession, complaint_id: int) -> ComplaintEvent | None:
    """The request awaiting oversight, if the latest extension-related event is one."""
    latest = await session.scalar(
        select(ComplaintEvent)
        .where(
            ComplaintEvent.complaint_id == complaint_id,
            ComplaintEvent.action.in_([EventAction.EXTENSION_REQUESTED.value, *(a.value for a in SETTLING)]),
        )
        .order_by(ComplaintEvent.id.desc())
        .limit(1)
    )
    return latest if latest is not None and latest.action == EventAction.EXTENSION_REQUESTED else None


async def open_request(session: AsyncSession, complaint_id: int, question: int | None = None) -> ComplaintEvent:
    """The request a decision answers. A button that names its request (``question``, the event id)
    answers only that one: a newer request's days and reason must be read before it is decided."""
    request = await pending_extension(session, complaint_id)
    if request is None:
        raise DomainError("nothing_pending")
    if question is not None and request.id != question:
        raise DomainError("question_superseded")
    return request


async def _requests_made(session: AsyncSession, complaint_id: int) -> int:
    rows = await session.scalars(
        select(ComplaintEvent.id).where(
            ComplaintEvent.complaint_id == complaint_id,
            ComplaintEvent.action == EventAction.EXTENSION_REQUESTED.value,
        )
    )
    return len(rows.all())


def before_resolve_deadline(complaint: Complaint, now: datetime) -> bool:
    """An extension may be asked for only before the resolve deadline: the one rule for refusing a
    request and for offering the button."""
    return complaint.resolve_due_at is not None and now < complaint.resolve_due_at


async def require_extendable(
    session: AsyncSession, clock: Clock, deadlines: Deadlines, complaint: Complaint, actor: Actor
) -> str:
    """Everything about asking for an extension but the days and the reason, so a channel can refuse
    before the clerk types them; the status after the request."""
    require_contact_of(actor, complaint.owner_agency_id)
    to_status = await require_status(session, complaint, Action.REQUEST_EXTENSION)
    if not before_resolve_deadline(complaint, clock.now()):
        raise DomainError("deadline_passed")
    if await pending_extension(session, complaint.id) is not None:
        raise DomainError("extension_pending")
    if await _requests_made(session, complaint.id) >= deadlines.max_extensions:
        raise DomainError("too_many_extensions", max=deadlines.max_extensions)
    return to_status


async def request_extension(
    session: AsyncSession,
    clock: Clock,
    deadlines: Deadlines,
    complaint_id: int,
    actor: Actor,
    days: int,
    reason: str,
) -> Complaint:
    complaint = await load(session, complaint_id)
    to_status = await require_extendable(session, clock, deadlines, complaint, actor)
    now = clock.now()
    reason = require_text(reason)
    if not 1 <= days <= deadlines.max_extension_days:
        raise DomainError(
            "bad_value", f"days must be 1..{deadlines.max_extension_days}", max=deadlines.max_extension_days
        )

    request = record(
        session,
        complaint,
        actor,
        EventAction.EXTENSION_REQUESTED,
        now,
        from_status=complaint.status,
        to_status=to_status,
        agency_id=complaint.owner_agency_id,
        reason=reason,
        days=days,
        resolve_due=iso(complaint.resolve_due_at),
    )
    await flush(session)
    await notify_oversight(
        session,
        Notice.EXTENSION_REQUESTED,
        complaint=complaint,
        agency_name=await agency_name(session, complaint.owner_agency_id),
        days=days,
        reason=reason,
        question_id=request.id,
        now=now,
    )
    await flush(session)
    return complaint


async def decide_extension(
    session: AsyncSession,
    clock: Clock,
    deadlines: Deadlines,
    complaint_id: int,
    actor: Actor,
    approve: bool,
    reason: str | None = None,
    question: int | None = None,
) -> Complaint:
    """Approve (the deadline moves by the days asked, in working days) or refuse (a reason is due).
    ``question``: the request the officer was shown (``open_request``)."""
    complaint = await load(session, complaint_id)
    await require_oversight(session, actor)
    to_status = await require_status(session, complaint, Action.DECIDE_EXTENSION)
    request = await open_request(session, complaint.id, question)
    reason = (reason or "").strip() or None
    if not approve and reason is None:
        raise DomainError("reason_required")
    days = int(request.data.get("days", 0))

    now = clock.now()
    old_due = complaint.resolve_due_at
    if approve:
        assert old_due is not None
        complaint.resolve_due_at = deadlines.extend(old_due, days)
        complaint.extended_days += days
    record(
        session,
        complaint,
        actor,
        EventAction.EXTENSION_APPROVED if approve else EventAction.EXTENSION_REFUSED,
        now,
        from_status=complaint.status,
        to_status=to_status,
        agency_id=complaint.owner_agency_id,
        reason=reason,
        days=days,
        request_event_id=request.id,
        old_due=iso(old_due),
        new_due=iso(complaint.resolve_due_at),
    )
    await flush(session)
    await timers.reschedule(session, complaint, deadlines)
    due = resolve_due_params(deadlines, complaint, now)
    if approve:  # why the agency asked (oversight gives no reason to approve), and the new deadline
        owner = await agency_name(session, complaint.owner_agency_id)
        await notify_citizen(
            session, complaint, Notice.EXTENDED, agency_name=owner, days=days, reason=request.reason, now=now, **due
        )
    assert complaint.owner_agency_id is not None
    await notify_agency(
        session,
        complaint.owner_agency_id,
        Notice.EXTENSION_DECIDED,
        complaint=complaint,
        approved=approve,
        days=days,
        reason=reason,  # the office's words: why not, when refused
        now=now,
        **due,
    )
    await flush(session)
    return complaint
