"""Background loops survive failing rounds with one log line each and a growing, capped wait."""

from __future__ import annotations

import asyncio
import logging

import pytest

from workflow.rounds import BACKOFF, Backoff, repeat

log = logging.getLogger("tests.rounds")


class Script:
    """A round that fails or succeeds as scripted (True = more work, False = done); stops at the end."""

    def __init__(self, stop: asyncio.Event, outcomes: list[bool | Exception]) -> None:
        self.stop, self.outcomes, self.waits = stop, list(outcomes), []

    async def run_round(self) -> bool:
        outcome = self.outcomes.pop(0)
        if not self.outcomes:
            self.stop.set()
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    async def wait(self, seconds: float) -> None:
        self.waits.append(seconds)


async def drive(outcomes: list[bool | Exception], backoff: Backoff = BACKOFF) -> Script:
    stop = asyncio.Event()
    script = Script(stop, outcomes)
    await repeat(script.run_round, stop, name="test loop", interval=5, log=log, backoff=backoff, wait=script.wait)
    return script


def gone() -> Exception:
    return ConnectionRefusedError("connection refused\n[SQL: SELECT 1]\n(Background on this error at: …)")


async def test_failures_wait_longer_each_time_up_to_the_cap(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="tests.rounds"):
        script = await drive([gone()] * 8 + [False])
    assert script.waits == [1, 2, 4, 8, 16, 32, 60, 60, 5]
    failures = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert [r.getMessage() for r in failures[:2]] == [
        "test loop failed (ConnectionRefusedError: connection refused); trying again in 1s",
        "test loop failed (ConnectionRefusedError: connection refused); trying again in 2s",
    ]
    assert failures[-1].getMessage().endswith("trying again in 60s")
    assert len(failures) == 8


async def test_only_the_first_failure_of_an_outage_carries_the_traceback(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="tests.rounds"):
        await drive([gone(), gone(), gone(), False, gone(), gone(), False])
    failures = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert [bool(r.exc_info) for r in failures] == [True, False, False, True, False]
    assert all("\n" not in r.getMessage() for r in caplog.records)


async def test_a_success_resets_the_wait_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="tests.rounds"):
        script = await drive([gone(), gone(), gone(), False, gone(), False])
    assert script.waits == [1, 2, 4, 5, 1, 5]
    recovered = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert recovered == ["test loop works again (failed rounds: 3)", "test loop works again (failed rounds: 1)"]


async def test_a_busy_round_is_followed_at_once_and_an_idle_one_after_the_interval() -> None:
    script = await drive([True, True, False, True, False])
    assert script.waits == [5, 5]


async def test_the_default_wait_ends_when_stop_is_set() -> None:
    stop = asyncio.Event()

    async def idle() -> bool:
        return False

    task = asyncio.create_task(repeat(idle, stop, name="idle", interval=3600, log=log))
    await asyncio.sleep(0)
    stop.set()
    await asyncio.wait_for(task, 5)
