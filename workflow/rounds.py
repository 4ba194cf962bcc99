"""Background loops: run a round again and again until told to stop, and survive failing rounds quietly.

When the database goes away, every round fails. A loop that logged a traceback each second would bury
the log (and fill the disk), so a failed round logs one line and waits longer each time (1 s doubling
to 60 s); only the first failure of an outage carries the traceback, and the first success after it
says so and resets the wait. The outbox sender and the timekeeper both run on this.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """How long to wait after each failed round in a row: ``first``, doubling, at most ``cap`` seconds."""

    first: float = 1.0
    cap: float = 60.0

    def after(self, failures: int) -> float:
        delay = self.first
        for _ in range(failures - 1):
            if delay >= self.cap:
                break
            delay *= 2
        return min(delay, self.cap)


BACKOFF = Backoff()  # 1 s doubling to 60 s (the bot's own waits for Telegram are in bot/runtime.py)


def one_line(error: BaseException) -> str:
    """The error's type and the first line of its message (SQLAlchemy appends the SQL and a link)."""
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__


async def repeat(
    run_round: Callable[[], Awaitable[bool]],
    stop: asyncio.Event,
    *,
    name: str,
    interval: float,
    log: logging.Logger,
    backoff: Backoff = BACKOFF,
    wait: Callable[[float], Awaitable[None]] | None = None,
) -> None:
    """Run ``run_round`` until ``stop`` is set.

    A round returns True when more work is waiting (the next one starts at once) and False when it is
    done (the next one starts after ``interval`` seconds). ``wait(seconds)`` pauses between rounds; by
    default it returns early when ``stop`` is set (tests pass their own, to count the waits).
    """

    async def until_stopped(seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)

    wait = wait or until_stopped
    failures = 0
    while not stop.is_set():
        try:
            busy = await run_round()
        except Exception as error:
            failures += 1
            delay = backoff.after(failures)
            log.error("%s failed (%s); trying again in %gs", name, one_line(error), delay, exc_info=failures == 1)
            await wait(delay)
            continue
        if failures:
            log.warning("%s works again (failed rounds: %d)", name, failures)
            failures = 0
        if busy:
            await asyncio.sleep(0)
        else:
            await wait(interval)
