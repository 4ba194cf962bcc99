"""The notification outbox: messages are rows written with the change that causes them; a sender
delivers them through a `Transport` (the bot layer implements it with aiogram).

Delivery guarantee. A row is *claimed* before the transport is called: in its own committed
transaction the sender bumps ``attempts`` and pushes ``next_attempt_at`` one lease into the future
(the lease). Another sender instance, or this one after a crash, can only pick the row up again once
the lease has passed, and the result is recorded only if ``attempts`` still matches the claim (a
fencing token), so a slow sender whose lease ran out cannot overwrite a newer claim.

- Nothing is lost: a row stays PENDING until the transport has returned; a crash at any point means
  it is retried after the lease.
- Nothing is sent twice within a lease: the transport call is cut off (``send_timeout``) well before
  the lease ends.
- The residual window, stated honestly: if the process dies after Telegram accepted a message but
  before the SENT mark committed (milliseconds), the message goes out again after the lease. Telegram
  offers no idempotency key, so exactly-once is impossible; we choose at-least-once for that window
  because a lost 催办 or a citizen never told the result is worse than a duplicate.

Rate limits (Telegram: about 30 messages/s overall, 1/s per chat) are a token bucket and per-chat
spacing on the injected clock; a chat that must wait has its rows deferred (``next_attempt_at``)
without counting an attempt. A 429 ``retry_after`` pauses that chat and the whole sender. With several
sender instances each keeps its own bucket: give each ``per_second / instances``.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import OutboxMessage, OutboxStatus
from workflow.clock import Clock
from workflow.rounds import BACKOFF, Backoff, repeat

log = logging.getLogger(__name__)


class RetryAfter(Exception):
    """Telegram said 429: wait ``seconds`` before sending again."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry after {seconds}s")
        self.seconds = float(seconds)


class PermanentFailure(Exception):
    """Delivery can never succeed (bot blocked, chat not found): record it, never retry."""


@dataclass(frozen=True)
class Sent:
    """What a transport sent: the message that carries the buttons, and the script it was written in."""

    message_id: int
    language: str | None = None


class Transport(Protocol):
    async def deliver(self, message: OutboxMessage) -> Sent | None:
        """Send one message; raise RetryAfter / PermanentFailure, any other exception is temporary."""
        ...


#: Key in ``session.info``: the moment before which nothing enqueued in that session is sent.
_NOT_BEFORE = "outbox_not_before"
#: Key in ``session.info``: the timer whose notices that session enqueues (``from_timer``).
_TIMER = "outbox_timer"


def hold_until(session: AsyncSession, moment: datetime) -> None:
    """Every message enqueued in ``session`` from now on waits until ``moment``.

    For the timekeeper: a timer fired at night after a restart still changes what it must at once,
    but the notices it produces (whoever's code enqueues them) go out when people are at work. Set
    per unit of work, so a person's own action, in its own session, is answered at once.
    """
    session.info[_NOT_BEFORE] = moment


def from_timer(session: AsyncSession, timer: dict[str, Any]) -> None:
    """Every message enqueued in ``session`` from now on is a notice of this timer: ``timer`` (its timer_id,
    and the deadline it chases) is kept in the payload, so ``withdraw_held`` can take the notice back
    if the deadline stops applying before it is delivered. For the timekeeper, as ``hold_until``."""
    session.info[_TIMER] = timer


def enqueue(
    session: AsyncSession,
    *,
    chat_id: int,
    kind: str,
    params: dict[str, Any],
    complaint_id: int | None = None,
    now: datetime,
) -> OutboxMessage:
    """Add a message to the caller's unit of work; it exists only if the caller commits.

    The payload is semantic (``{"kind", "params"}``): the bot renders it in the recipient's language
    at send time. ``now`` is required and comes from the caller's clock, the one the sender claims
    on: a wall-clock stamp would leave the row "in the future" for any clock behind the real date.
    It is sent from ``now``, or from the session's ``hold_until`` moment if that is later.
    """
    not_before: datetime | None = session.info.get(_NOT_BEFORE)
    payload: dict[str, Any] = {"kind": kind, "params": params}
    if _TIMER in session.info:
        payload["timer"] = session.info[_TIMER]
    message = OutboxMessage(
        chat_id=chat_id,
        kind=kind,
        payload=payload,
        complaint_id=complaint_id,
        next_attempt_at=max(now, not_before) if not_before is not None else now,
        created_at=now,
    )
    session.add(message)
    return message


async def withdraw_held(
    session: AsyncSession, complaint_id: int, still_applies: Callable[[dict[str, Any]], bool]
) -> int:
    """Withdraw the complaint's timer notices still waiting to be sent whose deadline no longer applies
    (``still_applies`` is asked with the payload's ``timer``): a 催办 held overnight must not reach a
    clerk who accepted before it went out. Returns how many were withdrawn.

    Only rows never handed to the transport (PENDING, no attempt) qualify, and the update checks that
    again, so a row a sender has just claimed is left to it. Notices people caused carry no timer and
    are never withdrawn. The row stays, marked WITHDRAWN, as the record of what was not said.
    """
    untouched = (
        OutboxMessage.complaint_id == complaint_id,
        OutboxMessage.status == OutboxStatus.PENDING,
        OutboxMessage.attempts == 0,
    )
    rows = await session.execute(select(OutboxMessage.id, OutboxMessage.payload).where(*untouched))
    moot = [row_id for row_id, payload in rows if "timer" in payload and not still_applies(payload["timer"])]
    if moot:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(moot), *untouched)
            .values(status=OutboxStatus.WITHDRAWN)
            .execution_options(synchronize_session="fetch")
        )
    return len(moot)


@dataclass
class DeliveryPolicy:
    lease: timedelta = timedelta(seconds=60)
    #: Must stay well under ``lease`` so a hung call cannot outlive its claim.
    send_timeout: float = 20.0
    max_attempts: int = 8
    backoff_base: float = 2.0
    backoff_cap: float = 3600.0
    #: Returns a number in [0, 1); injectable so tests can pin the jitter.
    random: Callable[[], float] = field(default=random.random)

    def backoff(self, attempts: int) -> timedelta:
        """Exponential backoff with jitter: between half and all of base·2^(n-1), capped."""
        ceiling = min(self.backoff_cap, self.backoff_base * 2 ** max(attempts - 1, 0))
        return timedelta(seconds=ceiling * (0.5 + 0.5 * self.random()))


class RateLimiter:
    """Telegram's limits on the injected clock: a global token bucket and per-chat spacing."""

    def __init__(self, clock: Clock, *, per_second: float = 30.0, chat_interval: float = 1.0) -> None:
        self.clock = clock
        self.per_second = per_second
        self.capacity = per_second
        self.chat_interval = timedelta(seconds=chat_interval)
        self._tokens = per_second
        self._updated = clock.now()
        self._chat_ready: dict[int, datetime] = {}
        self._paused_until = self._updated

    def _refill(self) -> datetime:
        now = self.clock.now()
        elapsed = (now - self._updated).total_seconds()
        if elapsed > 0:
            self._tokens = min(self.capacity, self._tokens + elapsed * self.per_second)
            self._updated = now
        return now

    def paused_until(self) -> datetime | None:
        now = self.clock.now()
        return self._paused_until if self._paused_until > now else None

    def chat_ready_at(self, chat_id: int) -> datetime:
        return self._chat_ready.get(chat_id, self._updated)

    def try_take(self, chat_id: int) -> bool:
        """Consume a send slot for ``chat_id`` if both limits allow it now."""
        now = self._refill()
        if self._paused_until > now or self._tokens < 1 or self.chat_ready_at(chat_id) > now:
            return False
        self._tokens -= 1
        if len(self._chat_ready) > 10_000:  # forget chats whose spacing has long passed
            self._chat_ready = {chat: ready for chat, ready in self._chat_ready.items() if ready > now}
        self._chat_ready[chat_id] = now + self.chat_interval
        return True

    def has_tokens(self) -> bool:
        now = self._refill()
        return self._paused_until <= now and self._tokens >= 1

    def pause(self, chat_id: int, seconds: float) -> None:
        """A 429: hold this chat and, since Telegram may be limiting the whole bot, everyone."""
        until = self.clock.now() + timedelta(seconds=seconds)
        self._chat_ready[chat_id] = max(self.chat_ready_at(chat_id), until)
        self._paused_until = max(self._paused_until, until)


def _snapshot(row: OutboxMessage) -> OutboxMessage:
    """A detached copy for the transport, safe to read after the claim's session is gone."""
    return OutboxMessage(
        id=row.id,
        chat_id=row.chat_id,
        kind=row.kind,
        payload=dict(row.payload),
        complaint_id=row.complaint_id,
        status=row.status,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        created_at=row.created_at,
    )


async def _claim(
    session_factory: async_sessionmaker[AsyncSession],
    clock: Clock,
    limiter: RateLimiter,
    policy: DeliveryPolicy,
    limit: int,
) -> list[OutboxMessage]:
    now = clock.now()
    claimed: list[OutboxMessage] = []
    async with session_factory() as session, session.begin():
        rows = await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        for row in rows:
            if limiter.try_take(row.chat_id):
                row.attempts += 1
                row.next_attempt_at = now + policy.lease
                claimed.append(row)
            elif not limiter.has_tokens():
                break
            else:  # this chat must wait: move the row out of the way without spending an attempt
                row.next_attempt_at = max(limiter.chat_ready_at(row.chat_id), now)
        await session.flush()
        snapshots = [_snapshot(row) for row in claimed]
    return snapshots


async def _record(
    session_factory: async_sessionmaker[AsyncSession], message: OutboxMessage, values: dict[str, Any]
) -> None:
    """Write the outcome, fenced by the claim's attempt number."""
    async with session_factory() as session, session.begin():
        await session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == message.id,
                OutboxMessage.attempts == message.attempts,
                OutboxMessage.status == OutboxStatus.PENDING,
            )
            .values(**values)
        )


async def _deliver_one(
    session_factory: async_sessionmaker[AsyncSession],
    transport: Transport,
    clock: Clock,
    limiter: RateLimiter,
    policy: DeliveryPolicy,
    message: OutboxMessage,
) -> None:
    try:
        sent = await asyncio.wait_for(transport.deliver(message), policy.send_timeout)
    except RetryAfter as exc:
        limiter.pause(message.chat_id, exc.seconds)
        log.warning("outbox %s: Telegram asks to wait %.0fs", message.id, exc.seconds)
        # Flood control is not the message's fault: the attempt is handed back.
        values = {
            "attempts": message.attempts - 1,
            "next_attempt_at": clock.now() + timedelta(seconds=exc.seconds),
            "last_error": str(exc),
        }
    except PermanentFailure as exc:
        log.info("outbox %s to chat %s failed permanently: %s", message.id, message.chat_id, exc)
        values = {"status": OutboxStatus.FAILED, "last_error": str(exc) or type(exc).__name__}
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        if message.attempts >= policy.max_attempts:
            log.warning("outbox %s: giving up after %d attempts: %s", message.id, message.attempts, error)
            values = {
                "status": OutboxStatus.FAILED,
                "last_error": f"gave up after {message.attempts} attempts: {error}",
            }
        else:
            values = {"next_attempt_at": clock.now() + policy.backoff(message.attempts), "last_error": error}
    else:
        values = {"status": OutboxStatus.SENT, "sent_at": clock.now(), "last_error": None}
        if sent is not None:
            values |= {"sent_message_id": sent.message_id, "sent_language": sent.language}
    await _record(session_factory, message, values)


async def deliver_due(
    session_factory: async_sessionmaker[AsyncSession],
    transport: Transport,
    clock: Clock,
    *,
    limit: int = 100,
    limiter: RateLimiter | None = None,
    policy: DeliveryPolicy | None = None,
) -> int:
    """Claim what is due and the rate limits allow, hand it to the transport, record each outcome.

    Returns how many messages were handed to the transport. Pass the same ``limiter`` on every call
    (run_sender does) or the limits only hold within one call.
    """
    limiter = limiter or RateLimiter(clock)
    policy = policy or DeliveryPolicy()
    if limiter.paused_until() is not None:
        return 0
    messages = await _claim(session_factory, clock, limiter, policy, limit)
    await asyncio.gather(
        *(_deliver_one(session_factory, transport, clock, limiter, policy, message) for message in messages)
    )
    return len(messages)


async def run_sender(
    session_factory: async_sessionmaker[AsyncSession],
    transport: Transport,
    clock: Clock,
    stop: asyncio.Event,
    *,
    idle_interval: float = 1.0,
    limiter: RateLimiter | None = None,
    policy: DeliveryPolicy | None = None,
    backoff: Backoff = BACKOFF,
) -> None:
    """Deliver until ``stop`` is set; a failing round is logged and retried with a growing wait, never fatal."""
    limiter = limiter or RateLimiter(clock)
    policy = policy or DeliveryPolicy()

    async def deliver_round() -> bool:
        return await deliver_due(session_factory, transport, clock, limiter=limiter, policy=policy) > 0

    await repeat(deliver_round, stop, name="outbox sender round", interval=idle_interval, log=log, backoff=backoff)


async def sent_copies(
    session: AsyncSession, complaint_id: int, kinds: Iterable[str], question_id: int | None = None
) -> list[OutboxMessage]:
    """The delivered copies of the notices that asked a question, each with the Telegram message that
    carries its buttons: what to edit once the question is decided, whoever decided it.

    ``question_id`` (the asking event's id, as the notices carry it) picks that question's copies;
    without it, the latest question's (the one a decision without a named question decides).
    """
    rows = list(
        await session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.complaint_id == complaint_id,
                OutboxMessage.kind.in_(list(kinds)),
                OutboxMessage.status == OutboxStatus.SENT,
                OutboxMessage.sent_message_id.is_not(None),
            )
            .order_by(OutboxMessage.id)
        )
    )

    def asked(row: OutboxMessage) -> int | None:
        question = (row.payload or {}).get("params", {}).get("question_id")
        return question if isinstance(question, int) else None

    if question_id is None:
        question_id = max((q for row in rows if (q := asked(row)) is not None), default=None)
    return [row for row in rows if asked(row) == question_id]
