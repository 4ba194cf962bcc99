"""The counts behind the monthly figures (``reports.figures``), computed in the database with GROUP BY:
a month of 100,000 complaints must not be loaded into Python. Each count function adds its columns to
``Counts``, keyed by (period, owner agency), for the months of one ``Scope``.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, ColumnElement, and_, case, cast, exists, func, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import FromClause, Subquery

from reports.overdue import CutOffs, Period, missed_by_columns, missed_by_events
from storage.models import (
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


async def complaint_counts(session: AsyncSession, scope: Scope, counts: Counts) -> None:
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


async def event_counts(session: AsyncSession, scope: Scope, agency_id: int | None, counts: Counts) -> None:
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


async def rating_counts(session: AsyncSession, scope: Scope, counts: Counts) -> None:
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


async def problem_counts(session: AsyncSession, scope: Scope) -> dict[tuple[int, int | None], dict[str, int]]:
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
