"""The monthly figures, computed in the database with GROUP BY: a month of 100,000 complaints must not
be loaded into Python. Every figure is about one cohort, the complaints *received* in the local
calendar month, counted against their owner (answerable/handling) agency, in their state as of a
cut-off moment (``as_of``) that the publication prints. See ``reports.definitions`` for the wording.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Agency,
    AgencyRole,
    Complaint,
    ComplaintEvent,
    ComplaintProblem,
    ComplaintStatus,
    EvaluationKind,
    EventAction,
)
from storage.models import Evaluation as EvaluationRow
from storage.vocabulary import Rating

C = Complaint.__table__
E = ComplaintEvent.__table__
P = ComplaintProblem.__table__
V = EvaluationRow.__table__


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


@dataclass(frozen=True)
class AgencyFigures:
    """One row of the publication; counts only, the rates are derived (None when undefined)."""

    agency_id: int | None
    code: str
    name: str
    area: str | None
    received: int = 0
    acknowledged_on_time: int = 0
    resolved: int = 0
    resolved_on_time: int = 0
    overdue: int = 0
    extensions: int = 0
    rated: int = 0
    satisfied: int = 0  # 满意 + 比较满意
    reopened: int = 0  # with a REOPENED event (重办)
    reopened_in_progress: int = 0  # reopened and not resolved again yet, so not among ``resolved``
    transfers_in: int = 0
    declined: int = 0

    @property
    def response_rate(self) -> float | None:
        """响应率: acknowledged by the acknowledgement deadline ÷ received."""
        return _ratio(self.acknowledged_on_time, self.received)

    @property
    def resolution_rate(self) -> float | None:
        """办结率: resolved ÷ received."""
        return _ratio(self.resolved, self.received)

    @property
    def on_time_rate(self) -> float | None:
        """按期办结率: resolved by the (extended) resolve deadline ÷ resolved."""
        return _ratio(self.resolved_on_time, self.resolved)

    @property
    def satisfaction_rate(self) -> float | None:
        """满意率: (满意 + 比较满意) ÷ rated; None when nobody rated, never a default 0% or 100%."""
        return _ratio(self.satisfied, self.rated)

    @property
    def reopen_rate(self) -> float | None:
        """重办率: complaints reopened at least once ÷ complaints resolved at least once (resolved now, or
        reopened and in handling again: the workflow clears ``resolved_at`` on reopening)."""
        return _ratio(self.reopened, self.resolved + self.reopened_in_progress)

    @property
    def decline_rate(self) -> float | None:
        """回退率: transfers this agency declined ÷ transfers it was asked to take."""
        return _ratio(self.declined, self.transfers_in)


COUNT_FIELDS: tuple[str, ...] = (
    "received",
    "acknowledged_on_time",
    "resolved",
    "resolved_on_time",
    "overdue",
    "extensions",
    "rated",
    "satisfied",
    "reopened",
    "reopened_in_progress",
    "transfers_in",
    "declined",
)


@dataclass(frozen=True)
class MonthFigures:
    month: date  # first day of the local month
    start: datetime  # UTC bounds of the local month, end exclusive
    end: datetime
    as_of: datetime  # the complaints' state is taken at this moment
    agencies: list[AgencyFigures]  # every listed agency, including those with no complaints
    total: AgencyFigures  # all complaints, also those not yet routed to an agency
    problem_types: list[tuple[str, int]]  # complaints per problem type, most frequent first
    problems_by_agency: dict[int, list[tuple[str, int]]] = field(default_factory=dict)


def month_bounds(month: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """UTC start and (exclusive) end of the local calendar month containing ``month``."""
    first = date(month.year, month.month, 1)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    start = datetime(first.year, first.month, 1, tzinfo=zone).astimezone(UTC)
    end = datetime(following.year, following.month, 1, tzinfo=zone).astimezone(UTC)
    return start, end


def previous_month(month: date) -> date:
    return date(month.year - 1, 12, 1) if month.month == 1 else date(month.year, month.month - 1, 1)


def _cohort(start: datetime, end: datetime, agency_id: int | None) -> ColumnElement[bool]:
    """Complaints received in the month; withdrawn ones are the citizen's choice, not the agency's work."""
    condition = and_(C.c.created_at >= start, C.c.created_at < end, C.c.status != ComplaintStatus.WITHDRAWN.value)
    if agency_id is not None:
        condition = and_(condition, C.c.owner_agency_id == agency_id)
    return condition


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


async def _complaint_counts(session: AsyncSession, cohort: ColumnElement[bool], as_of: datetime) -> dict:
    acknowledged = and_(
        C.c.acknowledged_at <= as_of,
        or_(C.c.acknowledge_due_at.is_(None), C.c.acknowledged_at <= C.c.acknowledge_due_at),
    )
    resolved = C.c.resolved_at <= as_of
    on_time = and_(resolved, or_(C.c.resolve_due_at.is_(None), C.c.resolved_at <= C.c.resolve_due_at))
    # Unresolved past the deadline at the cut-off, or resolved after it (a late resolution stays late).
    overdue = and_(C.c.resolve_due_at < as_of, or_(C.c.resolved_at.is_(None), C.c.resolved_at > C.c.resolve_due_at))
    query = (
        select(
            C.c.owner_agency_id,
            func.count(),
            _count_if(acknowledged),
            _count_if(resolved),
            _count_if(on_time),
            _count_if(overdue),
        )
        .where(cohort)
        .group_by(C.c.owner_agency_id)
    )
    names = ("received", "acknowledged_on_time", "resolved", "resolved_on_time", "overdue")
    return {row[0]: dict(zip(names, row[1:], strict=True)) for row in await session.execute(query)}


async def _event_counts(session: AsyncSession, cohort: ColumnElement[bool], as_of: datetime) -> dict:
    reopened = E.c.action == EventAction.REOPENED.value
    in_progress = and_(reopened, or_(C.c.resolved_at.is_(None), C.c.resolved_at > as_of))
    query = (
        select(
            C.c.owner_agency_id,
            func.count(func.distinct(case((reopened, E.c.complaint_id)))),
            func.count(func.distinct(case((in_progress, E.c.complaint_id)))),
            _count_if(E.c.action == EventAction.EXTENSION_APPROVED.value),
        )
        .select_from(E.join(C, E.c.complaint_id == C.c.id))
        .where(
            cohort,
            E.c.action.in_([EventAction.REOPENED.value, EventAction.EXTENSION_APPROVED.value]),
            E.c.at <= as_of,
        )
        .group_by(C.c.owner_agency_id)
    )
    names = ("reopened", "reopened_in_progress", "extensions")
    return {row[0]: dict(zip(names, row[1:], strict=True)) for row in await session.execute(query)}


async def _transfer_counts(
    session: AsyncSession, start: datetime, end: datetime, as_of: datetime, agency_id: int | None
) -> dict:
    """Counted against the receiving agency, not the owner: the decline is the receiver's act."""
    requested = E.c.action == EventAction.TRANSFER_REQUESTED.value
    receiver = case((requested, E.c.to_agency_id), else_=E.c.agency_id).label("receiver")
    query = (
        select(receiver, _count_if(requested), _count_if(E.c.action == EventAction.TRANSFER_DECLINED.value))
        .select_from(E.join(C, E.c.complaint_id == C.c.id))
        .where(
            _cohort(start, end, None),
            E.c.action.in_([EventAction.TRANSFER_REQUESTED.value, EventAction.TRANSFER_DECLINED.value]),
            E.c.at <= as_of,
        )
        .group_by(receiver)
    )
    if agency_id is not None:
        query = query.where(receiver == agency_id)
    return {row[0]: {"transfers_in": row[1], "declined": row[2]} for row in await session.execute(query)}


async def _rating_counts(session: AsyncSession, cohort: ColumnElement[bool], as_of: datetime) -> dict:
    """The latest rating of each complaint counts: a 不满意 followed by 重办 and a new rating is one vote."""
    latest = (
        select(C.c.owner_agency_id.label("owner"), func.max(V.c.id).label("id"))
        .select_from(V.join(C, V.c.complaint_id == C.c.id))
        .where(cohort, V.c.kind == EvaluationKind.COMPLAINT_RATING.value, V.c.created_at <= as_of)
        .group_by(V.c.complaint_id, C.c.owner_agency_id)
        .subquery()
    )
    good = V.c.rating.in_([Rating.SATISFIED.value, Rating.FAIRLY_SATISFIED.value])
    query = (
        select(latest.c.owner, func.count(), _count_if(good))
        .select_from(latest.join(V, V.c.id == latest.c.id))
        .group_by(latest.c.owner)
    )
    return {row[0]: {"rated": row[1], "satisfied": row[2]} for row in await session.execute(query)}


async def _problem_counts(session: AsyncSession, cohort: ColumnElement[bool]) -> dict[int | None, dict[str, int]]:
    query = (
        select(C.c.owner_agency_id, P.c.problem_type, func.count())
        .select_from(P.join(C, P.c.complaint_id == C.c.id))
        .where(cohort)
        .group_by(C.c.owner_agency_id, P.c.problem_type)
    )
    counts: dict[int | None, dict[str, int]] = {}
    for owner, problem, count in await session.execute(query):
        counts.setdefault(owner, {})[problem] = count
    return counts


def _ranked(counts: dict[str, int]) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def _sum(rows: list[AgencyFigures], **identity: object) -> AgencyFigures:
    totals = {name: sum(getattr(row, name) for row in rows) for name in COUNT_FIELDS}
    return AgencyFigures(**identity, **totals)  # type: ignore[arg-type]


async def monthly_figures(
    session: AsyncSession,
    month: date,
    zone: ZoneInfo,
    *,
    agency_id: int | None = None,
    as_of: datetime | None = None,
) -> MonthFigures:
    """Per-agency and total figures for the complaints received in ``month`` (local calendar).

    ``as_of`` is the cut-off for the complaints' state (acknowledged, resolved, rated …); it defaults to
    now. Passing it makes a publication reproducible: the same cut-off always gives the same figures.
    """
    start, end = month_bounds(month, zone)
    as_of = (as_of or datetime.now(UTC)).astimezone(UTC)
    cohort = _cohort(start, end, agency_id)
    by_agency: dict[int | None, dict[str, int]] = {}
    for part in (
        await _complaint_counts(session, cohort, as_of),
        await _event_counts(session, cohort, as_of),
        await _rating_counts(session, cohort, as_of),
        await _transfer_counts(session, start, end, as_of, agency_id),
    ):
        for owner, counts in part.items():
            by_agency.setdefault(owner, {}).update({name: int(value) for name, value in counts.items()})
    problems = await _problem_counts(session, cohort)

    listed = select(Agency).order_by(Agency.id)
    if agency_id is not None:
        listed = listed.where(Agency.id == agency_id)
    else:
        mentioned = [owner for owner in by_agency if owner is not None]
        listed = listed.where(
            or_(and_(Agency.active, Agency.role != AgencyRole.OVERSIGHT.value), Agency.id.in_(mentioned))
        )
    agencies = [
        AgencyFigures(agency.id, agency.code, agency.name, agency.area, **by_agency.get(agency.id, {}))
        for agency in (await session.scalars(listed)).all()
    ]
    unrouted = AgencyFigures(None, "", "", None, **by_agency.get(None, {}))
    # Transfers are keyed by the receiver, so a transfer to nobody cannot be counted twice in the total.
    total = _sum(
        [*agencies, replace(unrouted, transfers_in=0, declined=0)], agency_id=None, code="", name="合计", area=None
    )
    all_problems: dict[str, int] = {}
    for counts in problems.values():
        for problem, count in counts.items():
            all_problems[problem] = all_problems.get(problem, 0) + count
    return MonthFigures(
        month=date(month.year, month.month, 1),
        start=start,
        end=end,
        as_of=as_of,
        agencies=agencies,
        total=total,
        problem_types=_ranked(all_problems),
        problems_by_agency={owner: _ranked(counts) for owner, counts in problems.items() if owner is not None},
    )
