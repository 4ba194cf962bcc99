"""The monthly figures, computed in the database with GROUP BY: a month of 100,000 complaints must not
be loaded into Python. Every figure is about one cohort, the complaints *received* in the local
calendar month, counted against their owner (answerable/handling) agency and in their state as of a
cut-off moment (``as_of``) that the publication prints. A rate judges an agency only on what was due
by then: its denominator is the complaints acted on, or whose deadline had passed, by the cut-off, so a
complaint received an hour before publication counts in 收到量 and in no rate. What a later change
rewrites on the complaint's row (a 重办 clears ``resolved_at``) is read from the append-only event log,
so a 重办 after the cut-off leaves the month's figures as they were (as does a withdrawal). So does a
transfer accepted or a 审定 after it: under 首问负责制 a complaint is the first-contact agency's until
one of those names another owner.

超期 is ``reports.overdue``'s rule: a deadline missed is recorded for good (延时追究制). See
``reports.definitions`` for the wording.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, ColumnElement, and_, case, cast, exists, func, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import FromClause, Subquery

from reports.overdue import CutOffs, Period, missed_by_columns, missed_by_events
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
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    start = datetime(first.year, first.month, 1, tzinfo=zone).astimezone(UTC)
    end = datetime(following.year, following.month, 1, tzinfo=zone).astimezone(UTC)
    return start, end


def previous_month(month: date) -> date:
    return date(month.year - 1, 12, 1) if month.month == 1 else date(month.year, month.month - 1, 1)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


#: The events that name a new owner in their ``to_agency_id``: a transfer accepted, a 审定.
OWNER_CHANGES = [EventAction.TRANSFER_ACCEPTED.value, EventAction.DISPUTE_RULED.value]


class Scope(CutOffs):
    """Contiguous months in one pass over the tables: the expensive part is reading the big tables, so
    the publication's month and the month before it (for the change) share every scan.

    ``complaints`` is the complaint table with ``owner``, each complaint's owner as of its cut-off:
    select from it, not from ``Complaint``, and group by ``owner``, not ``owner_agency_id`` (the owner
    now, which a transfer accepted after the cut-off has moved)."""

    def __init__(self, periods: list[Period], agency_id: int | None = None) -> None:
        super().__init__(periods)
        received = C.c.created_at
        in_months = and_(received >= periods[0].start, received < periods[-1].end)
        owners = self._owners(in_months)
        self.complaints: FromClause = C.outerjoin(owners, owners.c.complaint_id == C.c.id)
        self.owner = func.coalesce(owners.c.owner, C.c.first_contact_agency_id).label("owner")
        # Withdrawn complaints are the citizen's choice, not the agency's work — from the withdrawal on
        # (``closed_at``, which nothing changes after it), not for a month whose cut-off came before.
        withdrawn = and_(
            C.c.status == ComplaintStatus.WITHDRAWN.value,
            or_(C.c.closed_at.is_(None), self.before_cut_off(C.c.closed_at)),
        )
        self.all_owners = and_(in_months, ~withdrawn)
        self.cohort = self.all_owners if agency_id is None else and_(self.all_owners, self.owner == agency_id)
        whens = [(received >= period.start, literal_column(str(index))) for index, period in enumerate(periods)]
        self.period = case(*reversed(whens), else_=literal_column("0")).label("period")

    def _owners(self, in_months: ColumnElement[bool]) -> Subquery:
        """Per complaint whose owner changed by its cut-off, ``owner``: the agency the latest change
        named. The few ownership events of the months are read, through the (action, at) index."""
        change = E.alias("owner_change")
        latest = (
            select(func.max(change.c.id))
            .select_from(change.join(C, change.c.complaint_id == C.c.id))
            .where(
                in_months,
                change.c.action.in_(OWNER_CHANGES),
                change.c.at >= self.periods[0].start,
                self.before_cut_off(change.c.at),
            )
            .group_by(change.c.complaint_id)
            .correlate(None)
        )
        return select(E.c.complaint_id, E.c.to_agency_id.label("owner")).where(E.c.id.in_(latest)).subquery("owners")


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


Counts = dict[tuple[int, int | None], dict[str, int]]  # (period, agency) -> field -> count


def _add(counts: Counts, key: tuple[int, int | None], **values: int) -> None:
    row = counts.setdefault(key, {})
    for name, value in values.items():
        row[name] = row.get(name, 0) + int(value)


def replies_by_cut_off(scope: Scope) -> Subquery:
    """Per complaint of the cohort ever reopened (重办): ``last_reply``, its latest RESOLVED or REOPENED by
    the cut-off as id × 2 + 1 for RESOLVED (0 for REOPENED), and ``reopened``, 1 for a REOPENED by the
    cut-off. Only these complaints can have had ``resolved_at`` cleared after the cut-off; finding them
    through their few REOPENED events keeps the month's many replies unread."""
    reply = E.alias("reply")
    replied = reply.c.action == EventAction.RESOLVED.value
    reopened = reply.c.action == EventAction.REOPENED.value
    by_cut_off = scope.before_cut_off(reply.c.at)
    code = cast(reply.c.id, BigInteger) * 2 + case((replied, 1), else_=0)
    ever_reopened = select(E.c.complaint_id).where(
        E.c.action == EventAction.REOPENED.value, E.c.at >= scope.periods[0].start
    )
    return (
        select(
            reply.c.complaint_id,
            func.max(case((by_cut_off, code))).label("last_reply"),
            func.max(case((and_(reopened, by_cut_off), 1), else_=0)).label("reopened"),
        )
        .select_from(reply.join(scope.complaints, reply.c.complaint_id == C.c.id))
        .where(scope.cohort, reply.c.complaint_id.in_(ever_reopened), or_(replied, reopened))
        .group_by(reply.c.complaint_id)
        .subquery("replies")
    )


def resolved_by_cut_off(scope: Scope, replies: Subquery) -> ColumnElement[bool]:
    """Resolved as of the cut-off, for a query on ``scope.complaints`` outer-joined with ``replies``
    (``replies_by_cut_off``): the latest reply-or-重办 by then is a reply. ``resolved_at`` is the reply
    standing now (a 重办 clears it), so one before the cut-off stood then too; the log keeps a reply that
    a 重办 after the cut-off cleared. Neither side is NULL, so ``~resolved`` is safe."""
    return or_(
        and_(C.c.resolved_at.is_not(None), scope.before_cut_off(C.c.resolved_at)),
        func.coalesce(replies.c.last_reply, 0) % 2 == 1,
    )


async def _complaint_counts(session: AsyncSession, scope: Scope, counts: Counts) -> None:
    """An agency is judged only on what was due: the rates' denominators are the complaints acted on by
    the cut-off or whose deadline had passed by then, never a complaint received an hour ago."""
    acknowledged = scope.before_cut_off(C.c.acknowledged_at)
    acknowledged_on_time = and_(
        acknowledged, or_(C.c.acknowledge_due_at.is_(None), C.c.acknowledged_at <= C.c.acknowledge_due_at)
    )
    due_for_acknowledgement = or_(acknowledged, scope.past(C.c.acknowledge_due_at))
    replies = replies_by_cut_off(scope)
    resolved = resolved_by_cut_off(scope, replies)
    reopened = func.coalesce(replies.c.reopened, 0) == 1
    # ``reports.overdue.missed_deadline`` for the whole cohort: the complaints with a recorded miss found in one pass
    # over the events rather than an EXISTS per complaint and figure. Nothing happens to a complaint
    # before it is received, so the events before the first month are not read.
    recorded = (
        select(E.c.complaint_id)
        .select_from(E.join(scope.complaints, E.c.complaint_id == C.c.id))
        .where(scope.cohort, E.c.at >= scope.periods[0].start, missed_by_events(scope))
        .group_by(E.c.complaint_id)
        .subquery("recorded_miss")
    )
    # A deadline missed is recorded for good: such a complaint is due (it counts against 按期办结率) and
    # never on time, even once a 重办 reply or an extension approved afterwards came in time.
    overdue = or_(missed_by_columns(scope), recorded.c.complaint_id.is_not(None))
    on_time = and_(resolved, ~overdue)
    due_for_resolution = or_(resolved, scope.past(C.c.resolve_due_at), overdue)
    counted = {
        "received": func.count(),
        "acknowledged_on_time": _count_if(acknowledged_on_time),
        "due_for_acknowledgement": _count_if(due_for_acknowledgement),
        "due_for_resolution": _count_if(due_for_resolution),
        "resolved": _count_if(resolved),
        "resolved_on_time": _count_if(on_time),
        "overdue": _count_if(overdue),
        "reopened": _count_if(reopened),
        "reopened_in_progress": _count_if(and_(reopened, ~resolved)),
    }
    query = (
        select(scope.period, scope.owner, *counted.values())
        .select_from(
            scope.complaints.outerjoin(recorded, recorded.c.complaint_id == C.c.id).outerjoin(
                replies, replies.c.complaint_id == C.c.id
            )
        )
        .where(scope.cohort)
        .group_by(scope.period, scope.owner)
    )
    for period, owner, *values in await session.execute(query):
        _add(counts, (period, owner), **dict(zip(counted, values, strict=True)))


def _withdrawn_by_cut_off(scope: Scope) -> ColumnElement[bool]:
    """The transfer request in ``E`` was taken back (撤回转办) by the cut-off: a withdrawal follows it
    with no newer request in between. Withdrawal is only possible before the receiver answers, so the
    receiver never had the chance to accept or decline: it is no transfer in for 回退率."""
    withdrawal, newer = E.alias("withdrawal"), E.alias("newer_request")
    return exists().where(
        withdrawal.c.complaint_id == E.c.complaint_id,
        withdrawal.c.action == EventAction.TRANSFER_WITHDRAWN.value,
        withdrawal.c.id > E.c.id,
        scope.before_cut_off(withdrawal.c.at),
        ~exists()
        .where(
            newer.c.complaint_id == E.c.complaint_id,
            newer.c.action == EventAction.TRANSFER_REQUESTED.value,
            newer.c.id > E.c.id,
            newer.c.id < withdrawal.c.id,
        )
        .correlate_except(newer),  # the outer event two levels up, not a fresh complaint_event
    )


async def _event_counts(session: AsyncSession, scope: Scope, agency_id: int | None, counts: Counts) -> None:
    """Extensions count for the owner; transfers for the receiving agency, since the
    decline is the receiver's act — so this reads the whole month and filters by agency here. A
    transfer withdrawn by the cut-off is not counted."""
    requested = E.c.action == EventAction.TRANSFER_REQUESTED.value
    declined = E.c.action == EventAction.TRANSFER_DECLINED.value
    receiver = case((requested, E.c.to_agency_id), (declined, E.c.agency_id)).label("receiver")
    query = (
        select(scope.period, E.c.action, scope.owner, receiver, func.count())
        .select_from(E.join(scope.complaints, E.c.complaint_id == C.c.id))
        .where(
            scope.all_owners,
            E.c.action.in_(
                [
                    EventAction.EXTENSION_APPROVED.value,
                    EventAction.TRANSFER_REQUESTED.value,
                    EventAction.TRANSFER_DECLINED.value,
                ]
            ),
            scope.before_cut_off(E.c.at),
            ~and_(requested, _withdrawn_by_cut_off(scope)),
        )
        .group_by(scope.period, E.c.action, scope.owner, receiver)
    )
    for period, action, owner, to, events in await session.execute(query):
        if action in (EventAction.TRANSFER_REQUESTED, EventAction.TRANSFER_DECLINED):
            if agency_id is None or to == agency_id:
                field_name = "transfers_in" if action == EventAction.TRANSFER_REQUESTED else "declined"
                _add(counts, (period, to), **{field_name: events})
        elif agency_id is None or owner == agency_id:
            _add(counts, (period, owner), extensions=events)


async def _rating_counts(session: AsyncSession, scope: Scope, counts: Counts) -> None:
    """The latest rating of each complaint counts: a 不满意 followed by 重办 and a new rating is one vote.

    One pass without a self-join: per complaint, max(id × 2 + satisfied) is the latest rating's id with
    its verdict in the lowest bit.
    """
    good = V.c.rating.in_([Rating.SATISFIED.value, Rating.FAIRLY_SATISFIED.value])
    latest = (
        select(
            scope.period,
            scope.owner,
            func.max(cast(V.c.id, BigInteger) * 2 + case((good, 1), else_=0)).label("code"),
        )
        .select_from(V.join(scope.complaints, V.c.complaint_id == C.c.id))
        .where(scope.cohort, V.c.kind == EvaluationKind.COMPLAINT_RATING.value, scope.before_cut_off(V.c.created_at))
        .group_by(scope.period, scope.owner, V.c.complaint_id)
        .subquery()
    )
    query = select(latest.c.period, latest.c.owner, func.count(), func.sum(latest.c.code % 2)).group_by(
        latest.c.period, latest.c.owner
    )
    for period, owner, rated, satisfied in await session.execute(query):
        _add(counts, (period, owner), rated=rated, satisfied=satisfied or 0)


async def _problem_counts(session: AsyncSession, scope: Scope) -> dict[tuple[int, int | None], dict[str, int]]:
    query = (
        select(scope.period, scope.owner, P.c.problem_type, func.count())
        .select_from(P.join(scope.complaints, P.c.complaint_id == C.c.id))
        .where(scope.cohort)
        .group_by(scope.period, scope.owner, P.c.problem_type)
    )
    problems: dict[tuple[int, int | None], dict[str, int]] = {}
    for period, owner, problem, count in await session.execute(query):
        problems.setdefault((period, owner), {})[problem] = count
    return problems


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
    await _complaint_counts(session, scope, counts)
    await _event_counts(session, scope, agency_id, counts)
    await _rating_counts(session, scope, counts)
    problems = await _problem_counts(session, scope)

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
