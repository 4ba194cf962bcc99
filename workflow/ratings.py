"""满意度测评: the citizen rates the reply, or lets the rating window pass.

满意 / 比较满意 close the complaint; a first 不满意 reopens it (重办) with a new deadline, a second one
closes it and goes to oversight. A resolved complaint left unrated for the policy's
``rating_window_days`` is closed by the service (the timekeeper's ``rating_window`` timer) as unrated:
a CLOSED event with ``unrated: true`` and no Evaluation. The close adds no rating, let alone a
satisfied one: the figures count each complaint's latest rating, so only a complaint rated before a
重办 is among the rated (with that rating). A rating attempted after the close is refused as
"rating_expired", not "already_rated".

Each reply is a round (1, then 2 after a 重办). Notices asking for a rating carry the round in their
buttons, and a rating given with a round that is no longer the current one is refused as
"rating_superseded": the citizen has not seen the newer reply it would rate. Before the window
closes, the citizen is reminded once of an unrated reply (评价提醒, the ``rating_reminder`` timer).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    ActorKind,
    Complaint,
    ComplaintEvent,
    ComplaintStatus,
    Evaluation,
    EvaluationKind,
    EventAction,
)
from storage.vocabulary import Rating
from workflow import timers
from workflow.actors import Actor
from workflow.clock import Clock
from workflow.deadlines import Deadlines
from workflow.errors import DomainError
from workflow.guards import flush, iso, load, next_status, record, require_citizen_of
from workflow.notifications import Notice, agency_name, notify_agency, notify_citizen, notify_oversight
from workflow.transitions import Action, target


async def rate(
    session: AsyncSession,
    clock: Clock,
    deadlines: Deadlines,
    complaint_id: int,
    actor: Actor,
    rating: Rating,
    comment: str | None = None,
    *,
    round: int | None = None,
) -> Complaint:
    """满意度测评 by the complaint's citizen. 不满意 reopens (重办) once with a new deadline; a second
    不满意 closes it and goes to oversight. ``round`` is the reply the citizen's buttons came with
    (None: the caller shows the current reply itself); an earlier one is refused."""
    complaint = await load(session, complaint_id)
    require_citizen_of(actor, complaint)
    rating = Rating(rating)
    await require_ratable(session, complaint, round=round)
    reopen = rating == Rating.DISSATISFIED and complaint.reopen_count == 0
    to_status = next_status(complaint, Action.RATE_REOPEN if reopen else Action.RATE_CLOSE)
    comment = (comment or "").strip() or None

    now = clock.now()
    owner_id = complaint.owner_agency_id
    assert owner_id is not None
    session.add(
        Evaluation(
            kind=EvaluationKind.COMPLAINT_RATING.value,
            agency_id=owner_id,
            complaint_id=complaint.id,
            citizen_id=complaint.citizen_id,
            rating=rating.value,
            comment=comment,
            created_at=now,
        )
    )
    from_status = complaint.status
    record(
        session,
        complaint,
        actor,
        EventAction.RATED,
        now,
        from_status=from_status,
        to_status=from_status,
        agency_id=owner_id,
        reason=comment,
        rating=rating.value,
        round=current_round(complaint),
    )
    complaint.status = to_status
    if reopen:
        complaint.reopen_count += 1
        complaint.resolved_at = None
        complaint.resolve_due_at = deadlines.extend(now, deadlines.reopen_resolve_days)
    else:
        complaint.closed_at = now
    record(
        session,
        complaint,
        actor,
        EventAction.REOPENED if reopen else EventAction.CLOSED,
        now,
        from_status=from_status,
        to_status=to_status,
        agency_id=owner_id,
        rating=rating.value,
        resolve_due=iso(complaint.resolve_due_at) if reopen else None,
    )
    await flush(session)
    await timers.reschedule(session, complaint, deadlines)
    await notify_agency(session, owner_id, Notice.RATED, complaint=complaint, rating=rating.value, now=now)
    if reopen:
        due_text = deadlines.describe(complaint.resolve_due_at, now=now) if complaint.resolve_due_at else None
        await notify_agency(
            session,
            owner_id,
            Notice.REOPENED_FOR_AGENCY,
            complaint=complaint,
            comment=comment,  # why the citizen was unhappy (masked as the owner may read it, in _send)
            reopen_days=deadlines.reopen_resolve_days,
            now=now,
        )
        await notify_citizen(session, complaint, Notice.REOPENED, resolve_due_text=due_text, now=now)
    elif rating == Rating.DISSATISFIED:
        await notify_oversight(
            session,
            Notice.DISSATISFIED_AGAIN,
            complaint=complaint,
            agency_name=await agency_name(session, owner_id),
            now=now,
        )
    await flush(session)
    return complaint


def current_round(complaint: Complaint) -> int:
    """The round of the reply awaiting (or given) a rating: 1, or 2 after a 重办. Events record it and
    rating buttons carry it, so a press is matched to the reply it was shown with."""
    return complaint.reopen_count + 1


def rating_request_params(complaint: Complaint, deadlines: Deadlines, now: datetime) -> dict[str, Any]:
    """Params of a notice that asks for a rating (the reply, the reminder): when the window closes,
    and the round its rating buttons are for."""
    window_end = timers.rating_window_end(complaint, deadlines)
    return {
        "rating_due": iso(window_end),
        "rating_due_text": deadlines.describe(window_end, now=now) if window_end else None,
        "round": current_round(complaint),
    }


async def _closed_unrated(session: AsyncSession, complaint: Complaint) -> bool:
    """Whether the complaint was closed because its rating window passed without a rating."""
    if complaint.status != ComplaintStatus.CLOSED:
        return False
    data = await session.scalar(
        select(ComplaintEvent.data)
        .where(ComplaintEvent.complaint_id == complaint.id, ComplaintEvent.action == EventAction.CLOSED.value)
        .order_by(ComplaintEvent.id.desc())
        .limit(1)
    )
    return bool(data and data.get("unrated"))


async def require_ratable(session: AsyncSession, complaint: Complaint, *, round: int | None = None) -> None:
    """Refuse a rating the complaint can no longer take, saying why: rated already, or closed unrated
    because the window passed ("rating_expired"); any other status is "bad_state"; a ``round`` other
    than the current reply's is "rating_superseded" (None: not checked)."""
    if complaint.status == ComplaintStatus.CLOSED:
        raise DomainError("rating_expired" if await _closed_unrated(session, complaint) else "already_rated")
    if target(complaint.status, Action.RATE_CLOSE) is None:
        raise DomainError("bad_state", f"rating in {complaint.status}", status=complaint.status)
    current = current_round(complaint)
    if round is not None and round != current:
        raise DomainError(
            "rating_superseded", f"a button of round {round}; the reply now is round {current}", round=round
        )


async def remind_to_rate(session: AsyncSession, deadlines: Deadlines, complaint: Complaint, *, now: datetime) -> None:
    """评价提醒: the window closes soon and the current reply is unrated, so the citizen gets the rating
    buttons again with the closing date. Changes nothing and records no event (neither the complaint's
    state nor the agency's record is concerned); the outbox row is its trace. Called by the timekeeper."""
    window_end = timers.rating_window_end(complaint, deadlines)
    if window_end is None or now >= window_end:
        raise DomainError("bad_state", "no rating window is open", status=complaint.status)
    await notify_citizen(
        session, complaint, Notice.RATING_REMINDER, now=now, **rating_request_params(complaint, deadlines, now)
    )


async def expire_rating(
    session: AsyncSession,
    clock: Clock,
    deadlines: Deadlines,
    complaint_id: int,
    actor: Actor,
    *,
    timer_id: int | None = None,
) -> Complaint:
    """The rating window passed without a rating: the service closes the complaint as unrated (未评价).

    No Evaluation is written: it counts as resolved, and the close adds no rating; the CLOSED event
    says why. The citizen is told, and that a new complaint is welcome if the problem
    persists; the owner agency learns its case is closed. Called by the timekeeper.
    """
    complaint = await load(session, complaint_id)
    if actor.kind != ActorKind.SYSTEM:
        raise DomainError("not_allowed", "only the service closes a complaint whose rating window passed")
    to_status = next_status(complaint, Action.EXPIRE_RATING)
    now = clock.now()
    window_end = timers.rating_window_end(complaint, deadlines)
    if window_end is None or now < window_end:
        raise DomainError("bad_state", "the rating window is still open", status=complaint.status)

    from_status = complaint.status
    complaint.status = to_status
    complaint.closed_at = now
    record(
        session,
        complaint,
        actor,
        EventAction.CLOSED,
        now,
        from_status=from_status,
        to_status=to_status,
        agency_id=complaint.owner_agency_id,
        unrated=True,
        cause="rating_window_passed",
        rating_due=iso(window_end),
        round=current_round(complaint),
        timer_id=timer_id,
    )
    await flush(session)
    await timers.reschedule(session, complaint, deadlines)
    await notify_citizen(session, complaint, Notice.CLOSED_UNRATED, now=now)
    if complaint.owner_agency_id is not None:
        await notify_agency(
            session, complaint.owner_agency_id, Notice.CLOSED_UNRATED_FOR_AGENCY, complaint=complaint, now=now
        )
    await flush(session)
    return complaint
