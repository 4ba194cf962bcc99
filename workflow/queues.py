"""The queues the bot and the web both show, as queries (no channel computes deadlines itself).

- first-contact queue (首问): complaints awaiting acceptance that an agency owns or is asked to take,
  by acknowledge deadline;
- time-limited queue (限时办结): complaints an agency is handling, by resolve deadline;
- inbox: both of an agency's queues as one list, filtered and paged in the query;
- overdue queue: every agency's missed deadlines, for oversight;
- pending decisions: extension requests and disputes awaiting oversight.

Items carry no citizen identity: agencies see whether a complaint is anonymous, never who filed it.
What a card or page may show of the citizen is ``workflow.privacy``'s to say (``citizen_view`` and
``sees_personal_data``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.models import (
    OPEN_STATUSES,
    Agency,
    Complaint,
    ComplaintEvent,
    ComplaintStatus,
    EventAction,
)
from workflow.deadlines import Deadlines
from workflow.extensions import SETTLING
from workflow.privacy import shown, unmasked_for_contacts
from workflow.timers import ACKNOWLEDGE_STATUSES

S = ComplaintStatus


@dataclass(frozen=True)
class QueueItem:
    id: int
    tracking_no: str
    status: str
    problem_types: tuple[str, ...]
    area: str | None
    owner_agency: str | None
    first_contact_agency: str | None
    transfer_to_agency: str | None
    created_at: datetime
    #: The deadline running now: acknowledge before acceptance, resolve after.
    due_at: datetime | None
    remaining: timedelta
    state: str  # "normal" | "warning" | "overdue", or "stopped" once no clock runs (a card may show that)
    major: bool
    anonymous: bool
    owner_agency_id: int | None = None
    transfer_to_agency_id: int | None = None
    priority: str = "normal"


@dataclass(frozen=True)
class PendingDecision:
    kind: str  # "extension" | "dispute"
    complaint_id: int
    tracking_no: str
    owner_agency: str | None
    requested_at: datetime
    #: The extension's reason, or the last decline's basis, as the office may read it (``workflow.privacy``).
    reason: str | None
    days: int | None = None  # extension days asked for
    resolve_due_at: datetime | None = None
    question_id: int | None = None  # the extension request's event id: what the entry's buttons decide


def loaded(query: Select[tuple[Complaint]]) -> Select[tuple[Complaint]]:
    """The query with what a queue row and a card show loaded (``to_item``)."""
    return query.options(
        selectinload(Complaint.problems),
        selectinload(Complaint.owner_agency),
        selectinload(Complaint.first_contact_agency),
        selectinload(Complaint.transfer_to_agency),
        selectinload(Complaint.attachments),
    )


#: Statuses with a running clock: 受理 before acceptance, 办结 after it.
RUNNING_STATUSES = frozenset({*ACKNOWLEDGE_STATUSES, S.ACCEPTED})


def _due(complaint: Complaint) -> datetime | None:
    if complaint.status in ACKNOWLEDGE_STATUSES:
        return complaint.acknowledge_due_at
    return complaint.resolve_due_at


def running_due() -> ColumnElement[datetime]:
    """``_due`` in SQL."""
    return case(
        (Complaint.status.in_(ACKNOWLEDGE_STATUSES), Complaint.acknowledge_due_at),
        else_=Complaint.resolve_due_at,
    )


def overdue_condition(now: datetime) -> ColumnElement[bool]:
    """Past its running deadline: the one rule for every overdue list, filter and figure of open work.

    The explicit IS NOT NULL keeps the negated filter (not overdue) from dropping rows without one."""
    due = running_due()
    return and_(Complaint.status.in_(RUNNING_STATUSES), due.is_not(None), due < now)


def is_overdue(complaint: Complaint, now: datetime) -> bool:
    """``overdue_condition`` for a loaded complaint."""
    due = _due(complaint)
    return complaint.status in RUNNING_STATUSES and due is not None and due < now


def to_item(complaint: Complaint, deadlines: Deadlines, now: datetime) -> QueueItem:
    """A complaint as a queue row (relationships must be loaded: see ``loaded``)."""
    due = _due(complaint)
    start = complaint.created_at if complaint.status in ACKNOWLEDGE_STATUSES else None
    if due is None:
        remaining, state = timedelta(), "normal"
    elif complaint.status not in RUNNING_STATUSES:  # replied, closed or withdrawn: the clock stopped then
        remaining, state = timedelta(), "stopped"
    else:
        remaining, state = deadlines.remaining(now, due), deadlines.state(now, due, start=start)
    return QueueItem(
        id=complaint.id,
        tracking_no=complaint.tracking_no,
        status=complaint.status,
        problem_types=tuple(p.problem_type for p in complaint.problems),
        area=complaint.area,
        owner_agency=complaint.owner_agency.name if complaint.owner_agency else None,
        first_contact_agency=complaint.first_contact_agency.name if complaint.first_contact_agency else None,
        transfer_to_agency=complaint.transfer_to_agency.name if complaint.transfer_to_agency else None,
        created_at=complaint.created_at,
        due_at=due,
        remaining=remaining,
        state=state,
        major=complaint.major,
        anonymous=complaint.anonymous,
        owner_agency_id=complaint.owner_agency_id,
        transfer_to_agency_id=complaint.transfer_to_agency_id,
        priority=complaint.priority,
    )


def _first_contact(agency_id: int) -> ColumnElement[bool]:
    """Awaiting acceptance: what the agency owns (including its transfers still waiting, for which it
    stays answerable) and what others are transferring to it."""
    return or_(
        and_(Complaint.owner_agency_id == agency_id, Complaint.status.in_(ACKNOWLEDGE_STATUSES)),
        and_(Complaint.transfer_to_agency_id == agency_id, Complaint.status == S.TRANSFERRING),
    )


def _time_limited(agency_id: int) -> ColumnElement[bool]:
    """In handling by the agency."""
    return and_(Complaint.owner_agency_id == agency_id, Complaint.status == S.ACCEPTED)


async def first_contact_queue(
    session: AsyncSession, deadlines: Deadlines, agency_id: int, now: datetime, *, limit: int = 20, offset: int = 0
) -> list[QueueItem]:
    """``_first_contact``, by acknowledge deadline."""
    query = loaded(
        select(Complaint)
        .where(_first_contact(agency_id))
        .order_by(Complaint.acknowledge_due_at, Complaint.id)
        .limit(limit)
        .offset(offset)
    )
    return [to_item(c, deadlines, now) for c in await session.scalars(query)]


async def time_limited_queue(
    session: AsyncSession, deadlines: Deadlines, agency_id: int, now: datetime, *, limit: int = 20, offset: int = 0
) -> list[QueueItem]:
    """In handling by the agency, most urgent first."""
    query = loaded(
        select(Complaint)
        .where(_time_limited(agency_id))
        .order_by(Complaint.resolve_due_at, Complaint.id)
        .limit(limit)
        .offset(offset)
    )
    return [to_item(c, deadlines, now) for c in await session.scalars(query)]


class InboxFilter(StrEnum):
    """The parts of an agency's inbox a clerk narrows it to."""

    ALL = "all"
    NEW = "new"  # 待受理: the first-contact queue
    OVERDUE = "overdue"  # past the running deadline (``overdue_condition``)
    REOPENED = "reopened"  # 重办: sent back by the citizen's 不满意, in handling again


def in_inbox(agency_id: int, now: datetime, shown: InboxFilter = InboxFilter.ALL) -> ColumnElement[bool]:
    """What the agency answers for now, as SQL: the one rule for its bot /inbox and the dashboard's
    figures of its current work. Not what it may see: a first-contact agency (首问) still finds a complaint
    after the right agency accepted it or the office named another (审定), but it is no longer its work."""
    everything = or_(_first_contact(agency_id), _time_limited(agency_id))
    match shown:
        case InboxFilter.NEW:
            return _first_contact(agency_id)
        case InboxFilter.OVERDUE:
            return and_(everything, overdue_condition(now))
        case InboxFilter.REOPENED:
            return and_(_time_limited(agency_id), Complaint.reopen_count > 0)
    return everything


async def inbox_queue(
    session: AsyncSession,
    deadlines: Deadlines,
    agency_id: int,
    now: datetime,
    shown: InboxFilter = InboxFilter.ALL,
    *,
    limit: int = 20,
    offset: int = 0,
) -> list[QueueItem]:
    """The first-contact and time-limited queues as one list, nearest running deadline first."""
    due = running_due()
    query = loaded(
        select(Complaint)
        .where(in_inbox(agency_id, now, shown))
        .order_by(due.is_(None), due, Complaint.id)
        .limit(limit)
        .offset(offset)
    )
    return [to_item(c, deadlines, now) for c in await session.scalars(query)]


async def inbox_counts(session: AsyncSession, agency_id: int, now: datetime) -> dict[InboxFilter, int]:
    """How many complaints each ``InboxFilter`` holds, in one query."""
    counts = [func.count()] + [
        func.coalesce(func.sum(case((in_inbox(agency_id, now, shown), 1), else_=0)), 0)
        for shown in InboxFilter
        if shown is not InboxFilter.ALL
    ]
    row = (await session.execute(select(*counts).where(in_inbox(agency_id, now, InboxFilter.ALL)))).one()
    return dict(zip(InboxFilter, (int(n) for n in row), strict=True))


async def overdue_queue(
    session: AsyncSession, deadlines: Deadlines, now: datetime, *, limit: int = 50, offset: int = 0
) -> list[QueueItem]:
    """Every open complaint past its running deadline, longest overdue first (oversight's view)."""
    query = loaded(
        select(Complaint)
        .where(overdue_condition(now))
        .order_by(running_due(), Complaint.id)
        .limit(limit)
        .offset(offset)
    )
    return [to_item(c, deadlines, now) for c in await session.scalars(query)]


async def open_count(session: AsyncSession, agency_id: int) -> int:
    """Open complaints the agency owns or is asked to take: work its contacts are notified about."""
    mine = or_(Complaint.owner_agency_id == agency_id, Complaint.transfer_to_agency_id == agency_id)
    query = select(func.count()).select_from(Complaint).where(mine, Complaint.status.in_(OPEN_STATUSES))
    return await session.scalar(query) or 0


async def overdue_count(session: AsyncSession, now: datetime) -> int:
    """How many complaints ``overdue_queue`` holds in all, so a page of it can say "N in all"."""
    return await session.scalar(select(func.count()).select_from(Complaint).where(overdue_condition(now))) or 0


async def furthest_running_due(session: AsyncSession) -> datetime | None:
    """The furthest deadline, acknowledge or resolve, still running on an open complaint: how far ahead
    the working-day calendar must know the holidays for the deadlines stated today."""
    running = Complaint.status.in_(RUNNING_STATUSES)
    row = (
        await session.execute(
            select(func.max(Complaint.acknowledge_due_at), func.max(Complaint.resolve_due_at)).where(running)
        )
    ).one()
    return max((due for due in row if due is not None), default=None)


async def pending_decisions(session: AsyncSession, *, limit: int = 50) -> list[PendingDecision]:
    """What oversight must decide: extension requests not yet settled, and disputed transfers."""
    relevant = [EventAction.EXTENSION_REQUESTED.value, *(a.value for a in SETTLING)]
    latest = (
        select(func.max(ComplaintEvent.id).label("id"))
        .where(ComplaintEvent.action.in_(relevant))
        .group_by(ComplaintEvent.complaint_id)
        .subquery()
    )
    extension_rows = await session.execute(
        select(ComplaintEvent, Complaint, Agency.name)
        .join(latest, latest.c.id == ComplaintEvent.id)
        .join(Complaint, Complaint.id == ComplaintEvent.complaint_id)
        .outerjoin(Agency, Agency.id == Complaint.owner_agency_id)
        .where(ComplaintEvent.action == EventAction.EXTENSION_REQUESTED.value, Complaint.status == S.ACCEPTED)
        .order_by(ComplaintEvent.at, ComplaintEvent.id)
        .limit(limit)
    )
    decisions = [
        PendingDecision(
            kind="extension",
            complaint_id=complaint.id,
            tracking_no=complaint.tracking_no,
            owner_agency=name,
            requested_at=event.at,
            reason=shown(event.reason, unmasked_for_contacts(complaint, None)),
            days=int(event.data.get("days", 0)),
            resolve_due_at=complaint.resolve_due_at,
            question_id=event.id,
        )
        for event, complaint, name in extension_rows
    ]
    last_decline = (
        select(func.max(ComplaintEvent.id).label("id"))
        .where(ComplaintEvent.action == EventAction.TRANSFER_DECLINED.value)
        .group_by(ComplaintEvent.complaint_id)
        .subquery()
    )
    dispute_rows = await session.execute(
        select(ComplaintEvent, Complaint, Agency.name)
        .join(last_decline, last_decline.c.id == ComplaintEvent.id)
        .join(Complaint, Complaint.id == ComplaintEvent.complaint_id)
        .outerjoin(Agency, Agency.id == Complaint.owner_agency_id)
        .where(Complaint.status == S.DISPUTED)
        .order_by(ComplaintEvent.at, ComplaintEvent.id)
        .limit(limit)
    )
    decisions += [
        PendingDecision(
            kind="dispute",
            complaint_id=complaint.id,
            tracking_no=complaint.tracking_no,
            owner_agency=name,
            requested_at=event.at,
            reason=shown(event.reason, unmasked_for_contacts(complaint, None)),
            resolve_due_at=complaint.resolve_due_at,
        )
        for event, complaint, name in dispute_rows
    ]
    return sorted(decisions, key=lambda d: d.requested_at)[:limit]
