"""The complaint lifecycle: every action a person (or, for the rating window, the service) can take
on a complaint.

Each action is ``(session, clock, deadlines, complaint_id, actor, ...) -> Complaint``: it checks who
acts and the transition table (``workflow.transitions``), then changes the complaint, appends one
audit event per transition, reschedules timers and queues notices, and flushes. It never commits: the
channel does, so a refused or failed action changes nothing. Transfers live in ``workflow.transfers``,
extensions in ``workflow.extensions`` and rating (with the rating window) in ``workflow.ratings``;
they are re-exported here so callers import one module.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Complaint, ComplaintStatus, EventAction
from workflow import timers
from workflow.actors import Actor
from workflow.clock import Clock
from workflow.deadlines import Deadlines
from workflow.errors import DomainError
from workflow.extensions import (
    decide_extension,
    open_request,
    pending_extension,
    request_extension,
    require_extendable,
)
from workflow.guards import (
    flush,
    is_ruled,
    iso,
    load,
    next_status,
    record,
    require_citizen_of,
    require_contact_of,
    require_oversight,
    require_status,
    require_text,
    standing,
)
from workflow.notifications import Notice, agency_name, notify_agency, notify_citizen, resolve_due_params
from workflow.ratings import current_round, expire_rating, rate, rating_request_params, require_ratable
from workflow.transfers import (
    decline_transfer,
    require_open_transfer,
    rule_dispute,
    transfer,
    withdraw_transfer,
    withdrawn_transfer_to,
)
from workflow.transitions import MAX_DECLINES, Action

__all__ = [
    "accept",
    "clear_major",
    "decide_extension",
    "decline_transfer",
    "expire_rating",
    "pending_extension",
    "rate",
    "request_extension",
    "require_can_start",
    "require_ratable",
    "resolve",
    "rule_dispute",
    "set_major",
    "transfer",
    "withdraw",
    "withdraw_transfer",
    "withdrawn_transfer_to",
]


async def accept(
    session: AsyncSession,
    clock: Clock,
    deadlines: Deadlines,
    complaint_id: int,
    actor: Actor,
    question: int | None = None,
) -> Complaint:
    """受理 by the owner, or by a transfer's receiver, which thereby becomes the owner. The deadlines set
    at assignment stay: a transfer never restarts the citizen's clock. ``question``: the transfer the
    receiver was shown (``require_open_transfer``)."""
    complaint = await load(session, complaint_id)
    transferring = complaint.status == ComplaintStatus.TRANSFERRING
    if transferring and actor.acts_for_agency and actor.agency_id == complaint.owner_agency_id:
        raise DomainError(
            "bad_state", "the transfer awaits its receiver", action=Action.ACCEPT, **await standing(session, complaint)
        )
    require_contact_of(actor, complaint.transfer_to_agency_id if transferring else complaint.owner_agency_id)
    to_status = await require_status(session, complaint, Action.ACCEPT)
    await require_open_transfer(session, complaint, question)

    now = clock.now()
    from_status, previous_owner = complaint.status, complaint.owner_agency_id
    if transferring:
        complaint.owner_agency_id = complaint.transfer_to_agency_id
        complaint.transfer_to_agency_id = None
    complaint.status = to_status
    complaint.acknowledged_at = now
    on_time = complaint.acknowledge_due_at is None or now <= complaint.acknowledge_due_at
    record(
        session,
        complaint,
        actor,
        EventAction.TRANSFER_ACCEPTED if transferring else EventAction.ACCEPTED,
        now,
        from_status=from_status,
        to_status=to_status,
        agency_id=complaint.owner_agency_id,
        from_agency_id=previous_owner,
        to_agency_id=complaint.owner_agency_id,
        on_time=on_time,
        acknowledge_due=iso(complaint.acknowledge_due_at),
    )
    await flush(session)
    await timers.reschedule(session, complaint, deadlines)
    owner_name = await agency_name(session, complaint.owner_agency_id)
    await notify_citizen(
        session,
        complaint,
        Notice.ACCEPTED,
        agency_name=owner_name,
        now=now,
        **resolve_due_params(deadlines, complaint, now),
    )
    if transferring and previous_owner is not None:
        await notify_agency(
            session, previous_owner, Notice.TRANSFER_ACCEPTED, complaint=complaint, by_agency=owner_name, now=now
        )
    await flush(session)
    return complaint


async def resolve(
    session: AsyncSession, clock: Clock, deadlines: Deadlines, complaint_id: int, actor: Actor, reply_text: str
) -> Complaint:
    """办结: the owner replies to the citizen, who is then asked to rate within the rating window."""
    complaint = await load(session, complaint_id)
    require_contact_of(actor, complaint.owner_agency_id)
    to_status = await require_status(session, complaint, Action.RESOLVE)
    reply = require_text(reply_text, "reply_required")

    now = clock.now()
    from_status = complaint.status
    complaint.status = to_status
    complaint.resolved_at = now
    complaint.reply_text = reply
    record(
        session,
        complaint,
        actor,
        EventAction.RESOLVED,
        now,
        from_status=from_status,
        to_status=to_status,
        agency_id=complaint.owner_agency_id,
        on_time=complaint.resolve_due_at is None or now <= complaint.resolve_due_at,
        resolve_due=iso(complaint.resolve_due_at),
        round=current_round(complaint),
    )
    await flush(session)
    await timers.reschedule(session, complaint, deadlines)
    await notify_citizen(
        session,
        complaint,
        Notice.RESOLVED,
        agency_name=await agency_name(session, complaint.owner_agency_id),
        reply=reply,
        now=now,
        **rating_request_params(complaint, deadlines, now),
    )
    await flush(session)
    return complaint


async def withdraw(
    session: AsyncSession,
    clock: Clock,
    deadlines: Deadlines,
    complaint_id: int,
    actor: Actor,
    reason: str | None = None,
) -> Complaint:
    """The citizen takes the complaint back while it is still open."""
    complaint = await load(session, complaint_id)
    require_citizen_of(actor, complaint)
    to_status = next_status(complaint, Action.WITHDRAW)

    now = clock.now()
    from_status, receiver_id = complaint.status, complaint.transfer_to_agency_id
    complaint.status = to_status
    complaint.transfer_to_agency_id = None
    complaint.closed_at = now
    record(
        session,
        complaint,
        actor,
        EventAction.WITHDRAWN,
        now,
        from_status=from_status,
        to_status=to_status,
        agency_id=complaint.owner_agency_id,
        reason=(reason or "").strip() or None,
    )
    await flush(session)
    await timers.reschedule(session, complaint, deadlines)
    for agency_id in dict.fromkeys((complaint.owner_agency_id, receiver_id)):
        if agency_id is not None:
            await notify_agency(session, agency_id, Notice.WITHDRAWN, complaint=complaint, now=now)
    await notify_citizen(session, complaint, Notice.WITHDRAWN, now=now)
    await flush(session)
    return complaint


async def set_major(
    session: AsyncSession, clock: Clock, deadlines: Deadlines, complaint_id: int, actor: Actor, reason: str
) -> Complaint:
    """挂牌督办: oversight flags a major complaint for supervised handling."""
    return await _flag(session, clock, complaint_id, actor, reason, major=True)


async def clear_major(
    session: AsyncSession, clock: Clock, deadlines: Deadlines, complaint_id: int, actor: Actor, reason: str
) -> Complaint:
    """消号: oversight closes out a flagged complaint."""
    return await _flag(session, clock, complaint_id, actor, reason, major=False)


async def _flag(
    session: AsyncSession, clock: Clock, complaint_id: int, actor: Actor, reason: str, *, major: bool
) -> Complaint:
    complaint = await load(session, complaint_id)
    await require_oversight(session, actor)
    to_status = next_status(complaint, Action.SET_MAJOR if major else Action.CLEAR_MAJOR)
    if complaint.major == major:
        raise DomainError("already_major" if major else "not_major")
    reason = require_text(reason)

    now = clock.now()
    complaint.major = major
    record(
        session,
        complaint,
        actor,
        EventAction.MAJOR_SET if major else EventAction.MAJOR_CLEARED,
        now,
        from_status=complaint.status,
        to_status=to_status,
        agency_id=complaint.owner_agency_id,
        reason=reason,
    )
    await flush(session)
    if complaint.owner_agency_id is not None:
        kind = Notice.MAJOR_SET if major else Notice.MAJOR_CLEARED
        await notify_agency(session, complaint.owner_agency_id, kind, complaint=complaint, reason=reason, now=now)
    await flush(session)
    return complaint


_OVERSIGHT_DECISIONS = frozenset({Action.DECIDE_EXTENSION, Action.RULE, Action.SET_MAJOR, Action.CLEAR_MAJOR})


async def require_can_start(
    session: AsyncSession,
    clock: Clock,
    deadlines: Deadlines,
    complaint: Complaint,
    actor: Actor,
    action: Action,
    question: int | None = None,
) -> None:
    """The checks of a multi-step action that do not need what the person is about to type, so a
    channel refuses at the first step (a stale card) rather than after the reason is written.
    ``question``: the event id of the request (extension, transfer) the pressed message showed, when
    it names one: a newer request of the same kind is refused too."""
    if action == Action.REQUEST_EXTENSION:
        await require_extendable(session, clock, deadlines, complaint, actor)
        return
    if action in _OVERSIGHT_DECISIONS:  # a decided question (a colleague, a double tap) is refused at the press
        await require_oversight(session, actor)
        await require_status(session, complaint, action)
        if action == Action.DECIDE_EXTENSION:
            await open_request(session, complaint.id, question)
        if action in (Action.SET_MAJOR, Action.CLEAR_MAJOR) and complaint.major == (action == Action.SET_MAJOR):
            raise DomainError("already_major" if complaint.major else "not_major")
        return
    transferring = complaint.status == ComplaintStatus.TRANSFERRING
    if action in (Action.DECLINE, Action.DECLINE_TO_DISPUTE):
        require_contact_of(actor, complaint.transfer_to_agency_id if transferring else complaint.owner_agency_id)
    else:
        require_contact_of(actor, complaint.owner_agency_id)
    if action == Action.DECLINE and complaint.transfer_declines + 1 >= MAX_DECLINES:
        action = Action.DECLINE_TO_DISPUTE
    await require_status(session, complaint, action)
    if action == Action.TRANSFER and is_ruled(complaint):
        raise DomainError("ruling_binds")
    if action in (Action.DECLINE, Action.DECLINE_TO_DISPUTE):
        await require_open_transfer(session, complaint, question)
