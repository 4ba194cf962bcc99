"""The outbox: written with the change, delivered with retries, rate limits and leases."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.db import create_engine, create_session_factory
from storage.models import OutboxMessage, OutboxStatus
from tests.conftest import failed_rounds
from tests.factories import World
from workflow.clock import FixedClock
from workflow.outbox import (
    DeliveryPolicy,
    PermanentFailure,
    RateLimiter,
    RetryAfter,
    Sent,
    deliver_due,
    enqueue,
    hold_until,
    run_sender,
    sent_copies,
)
from workflow.rounds import Backoff

T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


class Crash(BaseException):
    """The process dying mid-send: nothing after it runs."""


class FakeTransport:
    def __init__(self, fail: Callable[[OutboxMessage], BaseException | None] = lambda m: None) -> None:
        self.fail = fail
        self.calls: list[OutboxMessage] = []

    async def deliver(self, message: OutboxMessage) -> None:
        self.calls.append(message)
        error = self.fail(message)
        if error is not None:
            raise error

    @property
    def ids(self) -> list[int]:
        return [m.id for m in self.calls]


async def add_messages(
    session_factory: async_sessionmaker[AsyncSession], chats: list[int], now: datetime = T0
) -> list[int]:
    async with session_factory() as session:
        rows = [
            enqueue(session, chat_id=chat, kind="complaint.overdue", params={"tracking_no": f"T{i}"}, now=now)
            for i, chat in enumerate(chats)
        ]
        await session.commit()
        return [row.id for row in rows]


async def load(session_factory: async_sessionmaker[AsyncSession], message_id: int) -> OutboxMessage:
    async with session_factory() as session:
        return await session.get_one(OutboxMessage, message_id)


def no_jitter() -> DeliveryPolicy:
    return DeliveryPolicy(random=lambda: 0.999999)


async def test_a_held_session_sends_its_messages_from_the_hold_and_others_at_once(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    morning = T0 + timedelta(hours=6)
    async with session_factory() as session:
        hold_until(session, morning)  # the timekeeper's unit of work, at night
        held = enqueue(session, chat_id=1, kind="agency.overdue", params={"tracking_no": "A"}, now=T0)
        await session.commit()
    person = (await add_messages(session_factory, [2]))[0]  # someone's own action, in its own session
    assert (held.created_at, held.next_attempt_at) == (T0, morning)
    transport, clock = FakeTransport(), FixedClock(T0)
    assert await deliver_due(session_factory, transport, clock) == 1
    assert transport.ids == [person]
    clock.set(morning - timedelta(seconds=1))
    assert await deliver_due(session_factory, transport, clock) == 0
    clock.set(morning)
    assert await deliver_due(session_factory, transport, clock) == 1
    assert transport.ids == [person, held.id]


async def test_a_hold_in_the_past_changes_nothing(session_factory: async_sessionmaker[AsyncSession]) -> None:
    async with session_factory() as session:
        hold_until(session, T0 - timedelta(hours=1))
        message = enqueue(session, chat_id=1, kind="agency.overdue", params={}, now=T0)
    assert message.next_attempt_at == T0


async def test_enqueue_inside_a_rolled_back_transaction_leaves_nothing(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with session_factory() as session:
        enqueue(session, chat_id=1, kind="complaint.receipt", params={"tracking_no": "X"}, now=T0)
        await session.flush()
        await session.rollback()
    async with session_factory() as session:
        assert list(await session.scalars(select(OutboxMessage))) == []


async def test_enqueued_message_is_pending_with_a_semantic_payload(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    [message_id] = await add_messages(session_factory, [42])
    message = await load(session_factory, message_id)
    assert message.status == OutboxStatus.PENDING and message.attempts == 0
    assert message.payload == {"kind": "complaint.overdue", "params": {"tracking_no": "T0"}}


async def test_due_message_is_delivered_once_and_marked_sent(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    [message_id] = await add_messages(session_factory, [42])
    clock, transport = FixedClock(T0), FakeTransport()
    assert await deliver_due(session_factory, transport, clock) == 1
    clock.advance(timedelta(minutes=5))
    assert await deliver_due(session_factory, transport, clock) == 0
    assert transport.ids == [message_id]
    assert transport.calls[0].payload["params"] == {"tracking_no": "T0"}
    message = await load(session_factory, message_id)
    assert (message.status, message.attempts, message.sent_at) == (OutboxStatus.SENT, 1, T0)


async def test_message_is_not_sent_before_it_is_due(session_factory: async_sessionmaker[AsyncSession]) -> None:
    await add_messages(session_factory, [42], now=T0 + timedelta(seconds=10))
    transport = FakeTransport()
    assert await deliver_due(session_factory, transport, FixedClock(T0)) == 0
    assert transport.calls == []


async def test_temporary_failures_back_off_exponentially_up_to_the_cap(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    [message_id] = await add_messages(session_factory, [42])
    clock = FixedClock(T0)
    transport = FakeTransport(lambda m: ConnectionError("network down"))
    policy = DeliveryPolicy(backoff_base=2, backoff_cap=5, random=lambda: 0.999999)
    delays = []
    for _ in range(4):
        assert await deliver_due(session_factory, transport, clock, policy=policy, limiter=RateLimiter(clock)) == 1
        message = await load(session_factory, message_id)
        delay = (message.next_attempt_at - clock.now()).total_seconds()
        delays.append(round(delay))
        clock.advance(timedelta(seconds=delay / 2))
        assert await deliver_due(session_factory, transport, clock, policy=policy, limiter=RateLimiter(clock)) == 0
        clock.set(message.next_attempt_at)
    assert delays == [2, 4, 5, 5]
    assert message.status == OutboxStatus.PENDING
    assert message.last_error == "ConnectionError: network down"


def test_jitter_keeps_each_delay_between_half_and_all_of_the_step() -> None:
    low, high = DeliveryPolicy(random=lambda: 0.0), DeliveryPolicy(random=lambda: 0.999999)
    assert low.backoff(4) == timedelta(seconds=8)
    assert timedelta(seconds=15.99) < high.backoff(4) <= timedelta(seconds=16)
    assert high.backoff(40) <= timedelta(seconds=3600)


async def test_gives_up_after_the_last_attempt_and_records_why(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    [message_id] = await add_messages(session_factory, [42])
    clock = FixedClock(T0)
    transport = FakeTransport(lambda m: TimeoutError("Telegram did not answer"))
    policy = DeliveryPolicy(max_attempts=3, random=lambda: 0.5)
    for _ in range(5):
        await deliver_due(session_factory, transport, clock, policy=policy, limiter=RateLimiter(clock))
        clock.advance(timedelta(hours=1))
    assert len(transport.calls) == 3
    message = await load(session_factory, message_id)
    assert message.status == OutboxStatus.FAILED
    assert message.last_error.startswith("gave up after 3 attempts: TimeoutError")


async def test_permanent_failure_is_recorded_and_never_retried(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    [message_id] = await add_messages(session_factory, [42])
    clock = FixedClock(T0)
    transport = FakeTransport(lambda m: PermanentFailure("Forbidden: bot was blocked by the user"))
    assert await deliver_due(session_factory, transport, clock) == 1
    clock.advance(timedelta(days=1))
    assert await deliver_due(session_factory, transport, clock) == 0
    message = await load(session_factory, message_id)
    assert (message.status, message.last_error) == (OutboxStatus.FAILED, "Forbidden: bot was blocked by the user")


async def test_retry_after_is_honoured_for_the_whole_sender_and_costs_no_attempt(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    [limited] = await add_messages(session_factory, [42])
    clock = FixedClock(T0)
    throttle = {limited}
    transport = FakeTransport(lambda m: RetryAfter(7) if m.id in throttle else None)
    limiter = RateLimiter(clock)
    assert await deliver_due(session_factory, transport, clock, limiter=limiter) == 1
    message = await load(session_factory, limited)
    assert (message.attempts, message.next_attempt_at) == (0, T0 + timedelta(seconds=7))

    [other] = await add_messages(session_factory, [43], now=T0)
    throttle.clear()
    clock.advance(timedelta(seconds=6))
    assert await deliver_due(session_factory, transport, clock, limiter=limiter) == 0  # paused: nobody goes
    clock.advance(timedelta(seconds=1))
    assert await deliver_due(session_factory, transport, clock, limiter=limiter) == 2
    assert transport.ids == [limited, other, limited]


async def test_never_more_than_thirty_messages_a_second_overall(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    await add_messages(session_factory, list(range(1, 46)))
    clock, transport = FixedClock(T0), FakeTransport()
    limiter = RateLimiter(clock)
    assert await deliver_due(session_factory, transport, clock, limiter=limiter) == 30
    assert await deliver_due(session_factory, transport, clock, limiter=limiter) == 0
    clock.advance(timedelta(seconds=0.5))
    assert await deliver_due(session_factory, transport, clock, limiter=limiter) == 15
    assert len(set(transport.ids)) == 45


async def test_one_message_a_second_per_chat_in_order(session_factory: async_sessionmaker[AsyncSession]) -> None:
    ids = await add_messages(session_factory, [7, 7, 7, 8])
    clock, transport = FixedClock(T0), FakeTransport()
    limiter = RateLimiter(clock)
    assert await deliver_due(session_factory, transport, clock, limiter=limiter) == 2  # first for 7, and 8
    clock.advance(timedelta(milliseconds=500))
    assert await deliver_due(session_factory, transport, clock, limiter=limiter) == 0
    clock.advance(timedelta(milliseconds=500))
    assert await deliver_due(session_factory, transport, clock, limiter=limiter) == 1
    clock.advance(timedelta(seconds=1))
    assert await deliver_due(session_factory, transport, clock, limiter=limiter) == 1
    assert transport.ids == [ids[0], ids[3], ids[1], ids[2]]
    deferred = await load(session_factory, ids[2])
    assert deferred.attempts == 1  # waiting its turn spent no attempt


async def test_crash_after_claim_is_neither_lost_nor_resent_within_the_lease(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    [message_id] = await add_messages(session_factory, [42])
    clock = FixedClock(T0)
    policy = DeliveryPolicy(lease=timedelta(seconds=60))
    with pytest.raises(Crash):
        await deliver_due(session_factory, FakeTransport(lambda m: Crash()), clock, policy=policy)
    survivor = FakeTransport()
    clock.advance(timedelta(seconds=59))
    assert await deliver_due(session_factory, survivor, clock, policy=policy, limiter=RateLimiter(clock)) == 0
    clock.advance(timedelta(seconds=1))
    assert await deliver_due(session_factory, survivor, clock, policy=policy, limiter=RateLimiter(clock)) == 1
    clock.advance(timedelta(minutes=10))
    assert await deliver_due(session_factory, survivor, clock, policy=policy, limiter=RateLimiter(clock)) == 0
    assert survivor.ids == [message_id]
    message = await load(session_factory, message_id)
    assert (message.status, message.attempts) == (OutboxStatus.SENT, 2)


async def test_a_sender_whose_lease_ran_out_cannot_overwrite_the_newer_outcome(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    [message_id] = await add_messages(session_factory, [42])
    clock = FixedClock(T0)
    entered, release = asyncio.Event(), asyncio.Event()

    class Hanging:
        async def deliver(self, message: OutboxMessage) -> None:
            entered.set()
            await release.wait()
            raise ConnectionError("late failure")

    slow = asyncio.create_task(deliver_due(session_factory, Hanging(), clock))
    await asyncio.wait_for(entered.wait(), 30)  # the slow sender holds the lease now
    clock.advance(timedelta(seconds=61))
    assert await deliver_due(session_factory, FakeTransport(), clock, limiter=RateLimiter(clock)) == 1
    release.set()
    await slow
    message = await load(session_factory, message_id)
    assert (message.status, message.attempts) == (OutboxStatus.SENT, 2)


async def test_run_sender_delivers_until_stopped(session_factory: async_sessionmaker[AsyncSession]) -> None:
    ids = await add_messages(session_factory, [1, 2, 3])
    stop, transport = asyncio.Event(), FakeTransport()
    task = asyncio.create_task(run_sender(session_factory, transport, FixedClock(T0), stop, idle_interval=0.01))
    for _ in range(300):
        if len(transport.calls) == 3:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(task, 5)
    assert sorted(transport.ids) == ids


async def test_sender_logs_one_line_per_failed_round_and_waits_longer_while_the_database_is_gone(
    gone_session_factory: async_sessionmaker[AsyncSession], caplog: pytest.LogCaptureFixture
) -> None:
    stop = asyncio.Event()
    sender = run_sender(gone_session_factory, FakeTransport(), FixedClock(T0), stop, backoff=Backoff(0.001, 0.004))
    with caplog.at_level(logging.INFO, logger="workflow.outbox"):
        task = asyncio.create_task(sender)
        failures = await failed_rounds(caplog, "outbox sender round", 5)
        stop.set()
        await asyncio.wait_for(task, 5)
    assert [r.getMessage().rsplit(" ", 1)[1] for r in failures[:5]] == [
        "0.001s",
        "0.002s",
        "0.004s",
        "0.004s",
        "0.004s",
    ]
    assert [bool(r.exc_info) for r in failures] == [True] + [False] * (len(failures) - 1)
    assert all("\n" not in r.getMessage() for r in failures)


async def test_two_senders_on_postgres_deliver_each_message_once(backend: str, engine: AsyncEngine) -> None:
    if backend != "postgresql":
        pytest.skip("several senders share one database only on PostgreSQL")
    first = create_session_factory(engine)
    ids = await add_messages(first, list(range(1, 201)))
    second_engine = create_engine(engine.url.render_as_string(hide_password=False))
    transport, clock = FakeTransport(), FixedClock(T0)
    try:
        second = create_session_factory(second_engine)

        async def drain(factory: async_sessionmaker[AsyncSession]) -> int:
            limiter, total = RateLimiter(clock, per_second=1000), 0
            while sent := await deliver_due(factory, transport, clock, limit=20, limiter=limiter):
                total += sent
            return total

        totals = await asyncio.gather(drain(first), drain(second))
    finally:
        await second_engine.dispose()
    assert sorted(transport.ids) == ids
    assert sum(totals) == 200


class RecordingTransport:
    """Telegram's side of a send: each message gets the next message id, read in Traditional."""

    def __init__(self) -> None:
        self.sent: dict[int, int] = {}  # outbox row -> Telegram message id

    async def deliver(self, message: OutboxMessage) -> Sent:
        self.sent[message.id] = 500 + len(self.sent)
        return Sent(self.sent[message.id], "zh-Hant")


async def test_a_sent_message_keeps_its_telegram_id_and_a_questions_copies_are_found_by_it(
    world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    complaint = await world.complaint()
    now = world.clock.now()
    kind = "oversight.extension_requested"
    for question, chats in ((7, (1, 2)), (9, (1, 2))):
        for chat in chats:
            params = {"complaint_id": complaint.id, "question_id": question}
            enqueue(world.session, chat_id=chat, kind=kind, params=params, complaint_id=complaint.id, now=now)
    other = {"complaint_id": complaint.id}
    enqueue(world.session, chat_id=1, kind="oversight.dispute", params=other, complaint_id=complaint.id, now=now)
    enqueue(world.session, chat_id=3, kind=kind, params={"question_id": 9}, complaint_id=complaint.id, now=now)
    await world.session.commit()
    async with session_factory() as session:  # one row not yet sent: nothing to edit there
        pending = await session.scalar(select(OutboxMessage).where(OutboxMessage.chat_id == 3))
        assert pending is not None
        pending.next_attempt_at = now + timedelta(days=1)
        await session.commit()

    transport = RecordingTransport()
    limiter = RateLimiter(world.clock, per_second=10_000, chat_interval=0)
    await deliver_due(session_factory, transport, world.clock, limiter=limiter, policy=no_jitter())

    async with session_factory() as session:
        asked = await sent_copies(session, complaint.id, [kind], 7)
        assert [(row.chat_id, row.payload["params"]["question_id"]) for row in asked] == [(1, 7), (2, 7)]
        assert all(row.sent_message_id == transport.sent[row.id] for row in asked)
        assert {row.sent_language for row in asked} == {"zh-Hant"}
        latest = await sent_copies(session, complaint.id, [kind])  # no question named: the latest one's
        assert [(row.chat_id, row.payload["params"]["question_id"]) for row in latest] == [(1, 9), (2, 9)]
        assert await sent_copies(session, complaint.id + 1, [kind]) == []
