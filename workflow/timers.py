"""The timers a complaint needs now: reminders (预警), 催办 at the deadline, 督办 after it, and, once
the complaint is resolved, the citizen's rating reminder (评价提醒) and the end of the rating window.

Both deadlines are watched while nobody has accepted the complaint yet (延时追究制): the resolve
deadline the citizen's receipt promised runs from filing, so a complaint left unaccepted, stuck in a
transfer or waiting for the office's ruling is chased at that deadline too, not only at the
acknowledge one.

`reschedule` is called by the lifecycle after every change of status or deadline. It is idempotent:
a timer already fired for the same moment is not created again, so calling it twice (or after a
transfer, or an acceptance, which keep the citizen's clock) never repeats a reminder. It also
withdraws a fired timer's notices still held for working hours once the deadline they chase no longer
applies: a 催办 fired on Saturday night must not tell a clerk who accepted at 08:30 to accept at 09:00.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Agency,
    Complaint,
    ComplaintEvent,
    ComplaintProblem,
    ComplaintStatus,
    ComplaintTimer,
    EventAction,
)
from workflow import outbox
from workflow.deadlines import Deadlines
from workflow.policy import ClockPolicy


class TimerKind(StrEnum):
    ACK_WARNING = "ack_warning"
    ACK_OVERDUE = "ack_overdue"
    ACK_ESCALATE = "ack_escalate"
    RESOLVE_WARNING = "resolve_warning"
    RESOLVE_OVERDUE = "resolve_overdue"
    RESOLVE_ESCALATE = "resolve_escalate"
    RATING_REMINDER = "rating_reminder"  # the citizen has not rated yet: remind them, with the buttons
    RATING_WINDOW = "rating_window"  # unrated when it passes: closed as 未评价


#: Statuses in which the acknowledge (受理) clock runs: nobody has taken the complaint yet.
ACKNOWLEDGE_STATUSES = frozenset({ComplaintStatus.ASSIGNED, ComplaintStatus.TRANSFERRING, ComplaintStatus.DISPUTED})
#: Statuses in which the resolve (办结) clock runs: every open one, accepted or not.
RESOLVE_STATUSES = ACKNOWLEDGE_STATUSES | {ComplaintStatus.ACCEPTED}
#: Statuses in which the citizen's rating window runs.
RATING_STATUSES = frozenset({ComplaintStatus.RESOLVED})
#: Statuses in which a complaint may want timers: every other one wants none.
TIMED_STATUSES = RESOLVE_STATUSES | RATING_STATUSES
#: Timers of the rating window, which belong to no deadline clock.
RATING_KINDS = frozenset({TimerKind.RATING_REMINDER, TimerKind.RATING_WINDOW})


@dataclass(frozen=True)
class ClockKinds:
    warning: TimerKind
    overdue: TimerKind
    escalate: TimerKind
    statuses: frozenset[ComplaintStatus]
    due_column: str


ACKNOWLEDGE = ClockKinds(
    TimerKind.ACK_WARNING, TimerKind.ACK_OVERDUE, TimerKind.ACK_ESCALATE, ACKNOWLEDGE_STATUSES, "acknowledge_due_at"
)
RESOLVE = ClockKinds(
    TimerKind.RESOLVE_WARNING,
    TimerKind.RESOLVE_OVERDUE,
    TimerKind.RESOLVE_ESCALATE,
    RESOLVE_STATUSES,
    "resolve_due_at",
)


#: One 督办 per missed deadline: the kinds ``_plan`` never makes again for a deadline already escalated.
ESCALATE_KINDS = frozenset({ACKNOWLEDGE.escalate, RESOLVE.escalate})


def clock_of(kind: str) -> ClockKinds:
    """The deadline clock of an acknowledge or resolve timer (not the rating window's, which have none)."""
    if kind in RATING_KINDS:
        raise ValueError("the rating window is not a deadline clock")
    return ACKNOWLEDGE if kind.startswith("ack_") else RESOLVE


def clock_name(kind: str) -> str:
    """The clock a timer chases, as its notices name it: "acknowledge", "resolve" or "rating"."""
    if kind in RATING_KINDS:
        return "rating"
    return "acknowledge" if clock_of(kind) is ACKNOWLEDGE else "resolve"


def running_due(complaint: Complaint, clock: str, deadlines: Deadlines) -> datetime | None:
    """The deadline the named clock runs to now (the rating window's end for "rating"); None when the
    complaint's status stops it."""
    if clock == "rating":
        return rating_window_end(complaint, deadlines)
    kinds = ACKNOWLEDGE if clock == "acknowledge" else RESOLVE
    return getattr(complaint, kinds.due_column) if complaint.status in kinds.statuses else None


def rating_window_end(complaint: Complaint, deadlines: Deadlines) -> datetime | None:
    """When the citizen's window to rate the current reply closes; None unless awaiting a rating."""
    if complaint.status not in RATING_STATUSES or complaint.resolved_at is None:
        return None
    return deadlines.rating_due(complaint.resolved_at)


def rating_reminder_at(complaint: Complaint, deadlines: Deadlines) -> datetime | None:
    """When to remind the citizen to rate the current reply; None unless awaiting a rating (or the
    policy sends no reminder)."""
    if complaint.status not in RATING_STATUSES or complaint.resolved_at is None:
        return None
    return deadlines.rating_reminder(complaint.resolved_at)


async def _problem_types(session: AsyncSession, complaint: Complaint) -> list[str]:
    rows = await session.scalars(
        select(ComplaintProblem.problem_type).where(ComplaintProblem.complaint_id == complaint.id)
    )
    return list(rows)


def _lacks_due(complaint: Complaint) -> bool:
    return (complaint.status in ACKNOWLEDGE_STATUSES and complaint.acknowledge_due_at is None) or (
        complaint.status in RESOLVE_STATUSES and complaint.resolve_due_at is None
    )


async def _fill_missing_due(session: AsyncSession, complaint: Complaint, deadlines: Deadlines) -> None:
    """A complaint in a clocked status without its deadline would never be chased (有诉必接): set it."""
    if complaint.status in ACKNOWLEDGE_STATUSES and complaint.acknowledge_due_at is None:
        complaint.acknowledge_due_at = deadlines.acknowledge_due(
            complaint.created_at, priority=complaint.priority, problem_types=await _problem_types(session, complaint)
        )
    if complaint.status in RESOLVE_STATUSES and complaint.resolve_due_at is None:
        promised = None
        if complaint.owner_agency_id is not None:
            promised = await session.scalar(
                select(Agency.promised_resolve_days).where(Agency.id == complaint.owner_agency_id)
            )
        complaint.resolve_due_at = deadlines.resolve_due(
            complaint.acknowledged_at or complaint.created_at,
            priority=complaint.priority,
            problem_types=await _problem_types(session, complaint),
            promised_days=promised,
        )


def wanted_timers(complaint: Complaint, deadlines: Deadlines) -> set[tuple[str, datetime]]:
    """(kind, due_at) of every timer the complaint's current status and deadlines call for."""
    if complaint.status in RATING_STATUSES:
        # A rating or a 重办 leaves RESOLVED, so both timers are cancelled by the next reschedule; a
        # later reply has moments of its own. A complaint whose citizen has no Telegram chat (web
        # intake) gets the reminder timer too; it sends nothing, as notify_citizen skips such citizens.
        window_end = rating_window_end(complaint, deadlines)
        remind_at = rating_reminder_at(complaint, deadlines)
        wanted = set() if window_end is None else {(TimerKind.RATING_WINDOW.value, window_end)}
        if remind_at is not None:
            wanted.add((TimerKind.RATING_REMINDER.value, remind_at))
        return wanted
    wanted = set()
    if complaint.status in ACKNOWLEDGE_STATUSES and complaint.acknowledge_due_at is not None:
        wanted |= _clock_timers(
            ACKNOWLEDGE, deadlines.policy.acknowledge, complaint.created_at, complaint.acknowledge_due_at, deadlines
        )
    if complaint.status in RESOLVE_STATUSES and complaint.resolve_due_at is not None:
        start = complaint.acknowledged_at or complaint.created_at
        wanted |= _clock_timers(RESOLVE, deadlines.policy.resolve, start, complaint.resolve_due_at, deadlines)
    return wanted


def _clock_timers(
    kinds: ClockKinds, clock_policy: ClockPolicy, start: datetime, due: datetime, deadlines: Deadlines
) -> set[tuple[str, datetime]]:
    """预警 at each reminder point, 催办 at the deadline, 督办 after the escalation delay."""
    wanted = {(kinds.warning.value, moment) for moment in deadlines.reminder_moments(clock_policy, start, due)}
    wanted.add((kinds.overdue.value, due))
    wanted.add((kinds.escalate.value, deadlines.escalation_moment(clock_policy, due)))
    return wanted


@dataclass(frozen=True)
class TimerChanges:
    """How a reschedule changed a complaint's pending timers: created or revived, and cancelled."""

    added: int = 0
    removed: int = 0


@dataclass(frozen=True)
class _Plan:
    revive: list[ComplaintTimer]
    cancel: list[ComplaintTimer]
    create: list[tuple[str, datetime]]


async def _escalated(session: AsyncSession, complaint_ids: list[int]) -> dict[int, set[tuple[str, datetime]]]:
    """(timer kind, deadline) of every 督办 already given, per complaint, from the timekeeper's events."""
    escalated: dict[int, set[tuple[str, datetime]]] = {complaint_id: set() for complaint_id in complaint_ids}
    rows = await session.execute(
        select(ComplaintEvent.complaint_id, ComplaintEvent.data).where(
            ComplaintEvent.complaint_id.in_(complaint_ids), ComplaintEvent.action == EventAction.ESCALATED.value
        )
    )
    for complaint_id, data in rows:
        if data and data.get("timer") and data.get("due"):
            escalated[complaint_id].add((data["timer"], datetime.fromisoformat(data["due"])))
    return escalated


def _plan(
    complaint: Complaint, existing: list[ComplaintTimer], deadlines: Deadlines, escalated: set[tuple[str, datetime]]
) -> _Plan:
    """What turns the complaint's timers into the ones it wants now. Timers already done for the same
    (kind, moment) count as had, so nothing fires twice; a cancelled timer wanted again is revived.
    A deadline already escalated (``escalated``, from ``_escalated``) gets no second 督办 when a policy or
    calendar changed since moves its moment: the restart reschedules, it does not repeat."""
    wanted = wanted_timers(complaint, deadlines)
    have: set[tuple[str, datetime]] = set()
    revive, cancel = [], []
    for timer in existing:
        key = (timer.kind, timer.due_at)
        if timer.done_at is not None:
            have.add(key)
        elif key in wanted:
            have.add(key)
            if timer.cancelled:
                revive.append(timer)
        elif not timer.cancelled:
            cancel.append(timer)
    create = [
        (kind, due_at)
        for kind, due_at in sorted(wanted - have, key=lambda item: item[1])
        if not _past_at_acceptance(complaint, kind, due_at) and not _escalated_already(complaint, kind, escalated)
    ]
    return _Plan(revive, cancel, create)


async def reschedule(session: AsyncSession, complaint: Complaint, deadlines: Deadlines) -> TimerChanges:
    """Cancel the complaint's pending timers that no longer apply and create the ones it needs now.

    Flushes, never commits. Timers already done for the same (kind, moment) are kept as they are, so
    nothing fires twice; a cancelled timer that is wanted again is revived rather than duplicated.
    """
    await _fill_missing_due(session, complaint, deadlines)
    existing = list(await session.scalars(select(ComplaintTimer).where(ComplaintTimer.complaint_id == complaint.id)))
    plan = _plan(complaint, existing, deadlines, (await _escalated(session, [complaint.id]))[complaint.id])
    for timer in plan.revive:
        timer.cancelled = False
    for timer in plan.cancel:
        timer.cancelled = True
    for kind, due_at in plan.create:
        session.add(ComplaintTimer(complaint_id=complaint.id, kind=kind, due_at=due_at))
    await session.flush()
    await outbox.withdraw_held(session, complaint.id, lambda timer: _still_chased(complaint, timer, deadlines))
    return TimerChanges(len(plan.revive) + len(plan.create), len(plan.cancel))


async def reschedule_where_needed(
    session: AsyncSession, complaints: list[Complaint], deadlines: Deadlines
) -> TimerChanges:
    """``reschedule`` each complaint whose timers are not what it wants now; the others are left
    untouched. For reconciling many complaints: their timers are read in one query, not one each."""
    existing: dict[int, list[ComplaintTimer]] = {complaint.id: [] for complaint in complaints}
    for timer in await session.scalars(select(ComplaintTimer).where(ComplaintTimer.complaint_id.in_(existing))):
        existing[timer.complaint_id].append(timer)
    escalated = await _escalated(session, list(existing))
    added = removed = 0
    for complaint in complaints:
        plan = _plan(complaint, existing[complaint.id], deadlines, escalated[complaint.id])
        if _lacks_due(complaint) or plan.revive or plan.cancel or plan.create:
            changes = await reschedule(session, complaint, deadlines)
            added, removed = added + changes.added, removed + changes.removed
    return TimerChanges(added, removed)


def _still_chased(complaint: Complaint, timer: dict[str, str], deadlines: Deadlines) -> bool:
    """Whether the deadline a timer's notice chases (``outbox.from_timer``) still runs, unmoved: an
    accepted complaint's 受理 催办, or a 催办 of a deadline since extended, has nothing left to say."""
    return running_due(complaint, timer["clock"], deadlines) == datetime.fromisoformat(timer["due"])


def _escalated_already(complaint: Complaint, kind: str, escalated: set[tuple[str, datetime]]) -> bool:
    """Whether the deadline an escalation timer would chase was escalated already."""
    return kind in ESCALATE_KINDS and (kind, getattr(complaint, clock_of(kind).due_column)) in escalated


def _past_at_acceptance(complaint: Complaint, kind: str, due_at: datetime) -> bool:
    """A resolve timer for a moment before the acceptance, not made while the complaint waited (it
    was filed before unaccepted complaints had resolve timers): creating it now would fire a stale
    催办 and 督办 the second the clerk accepts. The acceptance notice already tells them it is late."""
    return (
        kind not in RATING_KINDS
        and clock_of(kind) is RESOLVE
        and complaint.status == ComplaintStatus.ACCEPTED
        and complaint.acknowledged_at is not None
        and due_at < complaint.acknowledged_at
    )


async def cancel_all(session: AsyncSession, complaint_id: int) -> None:
    """Stop every pending timer of a complaint (withdrawn, closed)."""
    for timer in await session.scalars(
        select(ComplaintTimer).where(
            ComplaintTimer.complaint_id == complaint_id,
            ComplaintTimer.done_at.is_(None),
            ComplaintTimer.cancelled.is_(False),
        )
    ):
        timer.cancelled = True
    await session.flush()
