"""The monthly figures: per agency and in total, the counts and the rates derived from them. Every
figure is about one cohort, the complaints *received* in the local calendar month, counted against their
owner (answerable/handling) agency and in their state as of a cut-off moment (``as_of``) that the
publication prints. A rate judges an agency only on what was due by then: its denominator is the
complaints acted on, or whose deadline had passed, by the cut-off, so a complaint received an hour
before publication counts in 收到量 and in no rate. What a later change rewrites on the complaint's row
(a 重办 clears ``resolved_at``) is read from the append-only event log, so a 重办 after the cut-off
leaves the month's figures as they were (as does a withdrawal). So does a transfer accepted or a 审定
after it: under 首问负责制 a complaint is the first-contact agency's until one of those names another
owner. The counting itself is ``reports.counts``'s.

超期 is ``reports.overdue``'s rule: a deadline missed is recorded for good (延时追究制). See
``reports.definitions`` for the wording.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from reports.counts import Counts, Scope, complaint_counts, event_counts, problem_counts, rating_counts
from reports.overdue import Period
from storage.models import Agency, AgencyRole


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
    due_for_acknowledgement: int = 0  # acknowledged by the cut-off, or its acknowledgement deadline passed
    due_for_resolution: int = 0  # resolved by the cut-off, or its resolve deadline passed, or overdue
    resolved: int = 0
    resolved_on_time: int = 0  # resolved and never overdue
    overdue: int = 0  # a deadline missed by the cut-off (``reports.overdue``), whatever came after
    extensions: int = 0
    rated: int = 0
    satisfied: int = 0  # 满意 + 比较满意
    reopened: int = 0  # with a REOPENED event (重办) by the cut-off
    reopened_in_progress: int = 0  # reopened and not resolved again by the cut-off, so not among ``resolved``
    transfers_in: int = 0
    declined: int = 0

    @property
    def response_rate(self) -> float | None:
        """响应率: acknowledged by the acknowledgement deadline ÷ complaints due for acknowledgement: a
        complaint whose deadline is still ahead at the cut-off counts neither for nor against."""
        return _ratio(self.acknowledged_on_time, self.due_for_acknowledgement)

    @property
    def resolution_rate(self) -> float | None:
        """办结率: resolved ÷ complaints due for resolution (resolved, or past the resolve deadline)."""
        return _ratio(self.resolved, self.due_for_resolution)

    @property
    def on_time_rate(self) -> float | None:
        """按期办结率: resolved without a deadline ever missed ÷ complaints due for resolution, so an
        overdue complaint still unresolved counts against it as much as a late resolution, and a late
        reply stays late after a 重办 or an extension approved after the deadline."""
        return _ratio(self.resolved_on_time, self.due_for_resolution)

    @property
    def satisfaction_rate(self) -> float | None:
        """满意率: (满意 + 比较满意) ÷ rated; None when nobody rated, never a default 0% or 100%."""
        return _ratio(self.satisfied, self.rated)

    @property
    def reopen_rate(self) -> float | None:
        """重办率: complaints reopened at least once ÷ complaints resolved at least once (resolved at the
        cut-off, or reopened and in handling again then)."""
        return _ratio(self.reopened, self.resolved + self.reopened_in_progress)

    @property
    def decline_rate(self) -> float | None:
        """回退率: transfers this agency declined ÷ transfers it was asked to take."""
        return _ratio(self.declined, self.transfers_in)


COUNT_FIELDS: tuple[str, ...] = (
    "received",
    "acknowledged_on_time",
    "due_for_acknowledgement",
    "due_for_resolution",
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
    following = next_month(first)
    start = datetime(first.year, first.month, 1, tzinfo=zone).astimezone(UTC)
    end = datetime(following.year, following.month, 1, tzinfo=zone).astimezone(UTC)
    return start, end


def previous_month(month: date) -> date:
    return date(month.year - 1, 12, 1) if month.month == 1 else date(month.year, month.month - 1, 1)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _ranked(counts: dict[str, int]) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def _sum(rows: list[AgencyFigures], **identity: object) -> AgencyFigures:
    totals = {name: sum(getattr(row, name) for row in rows) for name in COUNT_FIELDS}
    return AgencyFigures(**identity, **totals)  # type: ignore[arg-type]


async def figures_for_months(
    session: AsyncSession,
    months: list[tuple[date, datetime]],
    zone: ZoneInfo,
    *,
    agency_id: int | None = None,
) -> list[MonthFigures]:
    """Figures for consecutive months, each with its own cut-off, ``months`` = [(month, as_of), …] in
    calendar order; one pass over the tables for all of them."""
    bounds = [month_bounds(month, zone) for month, _ in months]
    if any(bounds[index][1] != bounds[index + 1][0] for index in range(len(bounds) - 1)):
        raise ValueError("months must be consecutive, in calendar order")
    periods = [
        Period(start, end, as_of.astimezone(UTC)) for (start, end), (_, as_of) in zip(bounds, months, strict=True)
    ]
    scope = Scope(periods, agency_id)
    counts: Counts = {}
    await complaint_counts(session, scope, counts)
    await event_counts(session, scope, agency_id, counts)
    await rating_counts(session, scope, counts)
    problems = await problem_counts(session, scope)

    listed = select(Agency).order_by(Agency.id)
    if agency_id is not None:
        listed = listed.where(Agency.id == agency_id)
    else:
        mentioned = {owner for _, owner in counts if owner is not None}
        listed = listed.where(
            or_(and_(Agency.active, Agency.role != AgencyRole.OVERSIGHT.value), Agency.id.in_(mentioned))
        )
    catalogue = (await session.scalars(listed)).all()
    result = []
    for index, ((month, _), period) in enumerate(zip(months, periods, strict=True)):
        agencies = [
            AgencyFigures(agency.id, agency.code, agency.name, agency.area, **counts.get((index, agency.id), {}))
            for agency in catalogue
        ]
        # Transfers are keyed by the receiver, so a transfer to nobody cannot be counted twice in the total.
        unrouted = replace(
            AgencyFigures(None, "", "", None, **counts.get((index, None), {})), transfers_in=0, declined=0
        )
        all_problems: dict[str, int] = {}
        for (problem_period, _), found in problems.items():
            if problem_period == index:
                for problem, count in found.items():
                    all_problems[problem] = all_problems.get(problem, 0) + count
        result.append(
            MonthFigures(
                month=date(month.year, month.month, 1),
                start=period.start,
                end=period.end,
                as_of=period.as_of,
                agencies=agencies,
                total=_sum([*agencies, unrouted], agency_id=None, code="", name="合计", area=None),
                problem_types=_ranked(all_problems),
                problems_by_agency={
                    owner: _ranked(found)
                    for (problem_period, owner), found in problems.items()
                    if problem_period == index and owner is not None
                },
            )
        )
    return result


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
    [figures] = await figures_for_months(session, [(month, as_of or datetime.now(UTC))], zone, agency_id=agency_id)
    return figures
