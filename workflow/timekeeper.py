"""The timekeeper: fires due complaint timers — 预警 before a deadline, 催办 at it, 督办 after it, and
for a resolved complaint the citizen's rating reminder (评价提醒) and the close once the rating window
passed unrated (未评价).

Each timer is handled in its own transaction: claimed with ``SELECT … FOR UPDATE SKIP LOCKED`` (so
several service instances on one PostgreSQL database never take the same timer; SQLite ignores the
clause and runs one instance), checked against the complaint's current state, recorded as a
ComplaintEvent on the owner agency's record (延时追究), turned into notifications in the outbox, and
marked done — all in one commit. A crash mid-batch therefore loses nothing and repeats nothing.

Who hears what: 预警 and 催办 go to the agency that holds the complaint (during a transfer, the owner,
answerable until the receiver accepts), 督办 to the office and that agency's leads. A dispute waits
for the office's ruling (审定), so all three go to the office alone: nobody else can move it.

A timer acts when it is due, but people hear of it in working hours: after a restart or any backlog,
a timer fired at night or on a rest day holds its notices (``outbox.hold_until``) until the next
working period, and a 催办 or 督办 then says how late the deadline is by that moment. Those notices
name the timer and the deadline they chase (``outbox.from_timer``), so an action that stops that
deadline before they go out withdraws them (``timers.reschedule``); the close of an unrated
complaint is news, not a chase, and is never withdrawn.

The timekeeper fires only the timers it finds, so on start it first reconciles (``reconcile``): every
open complaint's pending timers are made what ``timers.reschedule`` wants now. A complaint stored
before a release added a timer kind is then chased without waiting for its next change; the timers
so added that are already due fire in the first round, the normal way.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import ActorKind, Complaint, ComplaintEvent, ComplaintStatus, ComplaintTimer, EventAction
from workflow import notifications, outbox, ratings
from workflow.actors import Actor
from workflow.clock import Clock, FixedClock
from workflow.deadlines import Deadlines
from workflow.rounds import BACKOFF, Backoff, repeat
from workflow.timers import (
    TIMED_STATUSES,
    TimerKind,
    clock_name,
    clock_of,
    rating_reminder_at,
    rating_window_end,
    reschedule_where_needed,
)

log = logging.getLogger(__name__)

_WARNINGS = {TimerKind.ACK_WARNING, TimerKind.RESOLVE_WARNING}
_OVERDUE = {TimerKind.ACK_OVERDUE, TimerKind.RESOLVE_OVERDUE}
_ESCALATIONS = {TimerKind.ACK_ESCALATE, TimerKind.RESOLVE_ESCALATE}
#: How long after working hours end a timer still counts as handled in them: deadlines land on a
#: period's end (12:00, 17:30) and the loop wakes every half minute, not on the second.
_GRACE = timedelta(minutes=5)


def _still_applies(
    timer: ComplaintTimer, complaint: Complaint | None, now: datetime, deadlines: Deadlines
) -> datetime | None:
    """The deadline the timer is about, if the complaint is still in the situation it was set for."""
    if complaint is None:
        return None
    if timer.kind == TimerKind.RATING_WINDOW:
        # Still awaiting a rating of the same reply (a rating or a 重办 cancels the timer; a later reply
        # has its own window), and the window really has passed.
        window_end = rating_window_end(complaint, deadlines)
        return window_end if window_end is not None and now >= window_end else None
    if timer.kind == TimerKind.RATING_REMINDER:
        # The same reply is still unrated, its reminder moment has come, and the window is still open
        # (past it, the close speaks instead). Returns the window's end: what the reminder is about.
        window_end = rating_window_end(complaint, deadlines)
        remind_at = rating_reminder_at(complaint, deadlines)
        if window_end is None or remind_at is None or not remind_at <= now < window_end:
            return None
        return window_end
    clock = clock_of(timer.kind)
    due: datetime | None = getattr(complaint, clock.due_column)
    if complaint.status not in clock.statuses or due is None or complaint.owner_agency_id is None:
        return None
    if timer.kind in _WARNINGS:
        return due if now < due else None  # past the deadline the 催办 speaks instead
    return due if now >= due else None  # the deadline moved later (extension) and is not yet reached


def _deliver_at(now: datetime, d: Deadlines) -> datetime:
    """When people hear of a timer handled at ``now``: at once in working hours (or within the grace
    after a period ends: a deadline at 17:30 is chased at 17:30:20, not the next morning), otherwise
    at the start of the next working period."""
    if d.next_working_moment(now - _GRACE) <= now:
        return now
    return d.next_working_moment(now)


def _late_params(timer: ComplaintTimer, due: datetime, deliver_at: datetime, d: Deadlines) -> dict[str, int]:
    """How late a 催办 or 督办 is when read: working minutes past the deadline at delivery, and the
    working day's length, so the reader sees "已超时 2个工作日3小时" as on the card (0: on time)."""
    if timer.kind in _WARNINGS:
        return {}
    late = max(d.working_time_between(due, deliver_at), timedelta())
    return {
        "overdue_by_minutes": late // timedelta(minutes=1),
        "working_day_minutes": d.day_length // timedelta(minutes=1),
    }


async def _fire(
    session: AsyncSession,
    timer: ComplaintTimer,
    complaint: Complaint,
    due: datetime,
    now: datetime,
    deliver_at: datetime,
    d: Deadlines,
) -> None:
    if timer.kind == TimerKind.RATING_WINDOW:
        timer.done_at = now  # fired, not cancelled, when the close reschedules the complaint's timers
        await ratings.expire_rating(session, FixedClock(now), d, complaint.id, Actor.system(), timer_id=timer.id)
        return
    if timer.kind == TimerKind.RATING_REMINDER:
        await ratings.remind_to_rate(session, d, complaint, now=now)
        return
    clock = clock_name(timer.kind)
    agency_id = complaint.owner_agency_id
    assert agency_id is not None
    if timer.kind in _WARNINGS:
        action, notice = EventAction.REMINDED, notifications.Notice.REMINDER
    elif timer.kind in _OVERDUE:
        action, notice = EventAction.URGED, notifications.Notice.OVERDUE
    else:
        action, notice = EventAction.ESCALATED, notifications.Notice.ESCALATED
    disputed = complaint.status == ComplaintStatus.DISPUTED
    params = {
        "clock": clock,
        "due": due.isoformat(),
        "due_text": d.describe_moment(due, now=now),
        **_late_params(timer, due, deliver_at, d),
    }
    if disputed:
        params["disputed"] = True  # the office's own text: 请尽快审定
    session.add(
        ComplaintEvent(
            complaint_id=complaint.id,
            at=now,
            action=action,
            actor_kind=ActorKind.SYSTEM,
            agency_id=agency_id,
            # No from/to status: these events change nothing, and replay must not take a status read
            # without a lock (a clerk may be accepting the complaint this very moment) as the truth.
            data={"timer": timer.kind, "timer_id": timer.id, "status": complaint.status, **params},
        )
    )
    if disputed or action is EventAction.ESCALATED:
        await notifications.notify_oversight(session, notice, complaint=complaint, now=now, **params)
    if not disputed:
        leads_only = action is EventAction.ESCALATED
        await notifications.notify_agency(
            session, agency_id, notice, leads_only=leads_only, complaint=complaint, now=now, **params
        )


async def _handle_next(
    session_factory: async_sessionmaker[AsyncSession], clock: Clock, deadlines: Deadlines, skip: set[int]
) -> ComplaintTimer | None:
    """Claim, act on and complete one due timer; None when nothing (claimable) is due."""
    now = clock.now()
    async with session_factory() as session, session.begin():
        query = (
            select(ComplaintTimer)
            .where(
                ComplaintTimer.done_at.is_(None),
                ComplaintTimer.cancelled.is_(False),
                ComplaintTimer.due_at <= now,
            )
            .order_by(ComplaintTimer.due_at, ComplaintTimer.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        if skip:
            query = query.where(ComplaintTimer.id.not_in(skip))
        timer = await session.scalar(query)
        if timer is None:
            return None
        try:
            complaint = await session.get(Complaint, timer.complaint_id)
            due = _still_applies(timer, complaint, now, deadlines)
            if complaint is not None and due is not None:
                deliver_at = _deliver_at(now, deadlines)
                outbox.hold_until(session, deliver_at)
                if timer.kind != TimerKind.RATING_WINDOW:
                    outbox.from_timer(
                        session, {"timer_id": timer.id, "clock": clock_name(timer.kind), "due": due.isoformat()}
                    )
                await _fire(session, timer, complaint, due, now, deliver_at, deadlines)
            else:
                log.debug("timer %s (%s) no longer applies", timer.id, timer.kind)
            timer.done_at = now
            await session.flush()
        except Exception:
            skip.add(timer.id)  # a poison timer must not block the rest; the next run retries it
            raise
        return timer


async def run_once(
    session_factory: async_sessionmaker[AsyncSession], clock: Clock, deadlines: Deadlines, *, limit: int = 200
) -> int:
    """Handle up to ``limit`` due timers; returns how many were completed by this call."""
    handled = failures = 0
    skip: set[int] = set()
    while handled < limit:
        skipped = len(skip)
        try:
            timer = await _handle_next(session_factory, clock, deadlines, skip)
        except Exception:
            failures += 1
            if len(skip) == skipped or failures >= 3:
                raise  # not one timer: the database itself is failing, so the round fails (run() waits)
            log.exception("timekeeper: a timer failed; it will be retried on the next run")
            continue
        if timer is None:
            break
        handled += 1
    return handled


@dataclass(frozen=True)
class Reconciliation:
    checked: int  # open complaints
    added: int  # pending timers created or revived
    removed: int  # pending timers cancelled


async def reconcile(
    session_factory: async_sessionmaker[AsyncSession], deadlines: Deadlines, *, batch_size: int = 200
) -> Reconciliation:
    """Make every open complaint's pending timers what ``timers.reschedule`` wants now; sends nothing.

    Idempotent. Walks the open complaints by id in small batches, one transaction each, so a large
    database is never held in memory, nor a complaint locked for long. Each batch locks its rows (``FOR NO
    KEY UPDATE``, as an update of the complaint does): a reconcile in another instance, or a lifecycle
    action rescheduling the same complaint, waits for the commit and then sees the timers made, so no
    timer is created twice (the unique (complaint, kind, moment) would refuse it). The key-share lock
    lets the timekeeper keep recording events against those complaints meanwhile.
    """
    checked = added = removed = 0
    after = 0
    while True:
        async with session_factory() as session, session.begin():
            complaints = list(
                await session.scalars(
                    select(Complaint)
                    .where(Complaint.status.in_(TIMED_STATUSES), Complaint.id > after)
                    .order_by(Complaint.id)
                    .limit(batch_size)
                    .with_for_update(key_share=True)
                )
            )
            if not complaints:
                return Reconciliation(checked, added, removed)
            after = complaints[-1].id
            changes = await reschedule_where_needed(session, complaints, deadlines)
            added, removed = added + changes.added, removed + changes.removed
        checked += len(complaints)


async def run(
    session_factory: async_sessionmaker[AsyncSession],
    clock: Clock,
    deadlines: Deadlines,
    stop: asyncio.Event,
    *,
    interval: float = 30.0,
    limit: int = 200,
    backoff: Backoff = BACKOFF,
) -> None:
    """Reconcile the timers once, then run until ``stop`` is set; a full batch is followed at once by
    the next one."""
    try:
        result = await reconcile(session_factory, deadlines)
        if result.added or result.removed:
            log.info(
                "timekeeper: %d open complaints reconciled, %d timers added, %d removed",
                result.checked,
                result.added,
                result.removed,
            )
    except Exception:
        log.exception("timekeeper: reconciling timers failed; the timers already set still fire")

    async def timekeeper_round() -> bool:
        return await run_once(session_factory, clock, deadlines, limit=limit) >= limit

    await repeat(timekeeper_round, stop, name="timekeeper round", interval=interval, log=log, backoff=backoff)
