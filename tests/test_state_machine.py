"""Random sequences of lifecycle actions, by the right and the wrong people, keep the invariants:

- the transition table is obeyed: an action the table forbids always fails, one that succeeds lands
  in the status the table names, and a failed action changes nothing;
- exactly one owner at any time once assigned; a receiver only while transferring;
- no complaint lost or stuck: every open complaint has its running deadline and a timer for it (still
  pending, or fired by the timekeeper), a resolved one exactly its rating window, a finished one none;
- when the rating window passes the timekeeper closes the complaint unrated, with no rating stored;
- the events replay to the complaint's current state.

Hypothesis drives the machine synchronously, so it runs in a worker thread with its own event loop
and its own engine on the test database.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.db import create_engine, create_session_factory
from storage.models import (
    OPEN_STATUSES,
    Complaint,
    ComplaintEvent,
    ComplaintStatus,
    ComplaintTimer,
    ContactRole,
    Evaluation,
    EventAction,
)
from storage.vocabulary import Rating
from tests.factories import make_citizen, make_clock, make_complaint, make_contact, make_deadlines
from workflow import lifecycle, timekeeper
from workflow.actors import Actor
from workflow.deadlines import Deadlines
from workflow.errors import DomainError
from workflow.timers import ACKNOWLEDGE_STATUSES, rating_reminder_at, rating_window_end
from workflow.transitions import MAX_DECLINES, TRANSITIONS, Action, replay

S = ComplaintStatus
AGENCIES = ("public-security", "traffic-police", "service-center")


def reason(sensible: bool) -> st.SearchStrategy[str]:
    return st.sampled_from(["属其职责", "依据职责清单"] if sensible else ["属其职责", " ", ""])


#: action name -> (lifecycle function, strategy for its extra arguments given agency ids and sensibleness)
ACTIONS: dict[str, tuple[Callable[..., Coroutine[Any, Any, Any]], Callable[..., st.SearchStrategy]]] = {
    "accept": (lifecycle.accept, lambda ids, ok: st.just(())),
    "transfer": (lifecycle.transfer, lambda ids, ok: st.tuples(st.sampled_from(sorted(ids.values())), reason(ok))),
    "decline": (lifecycle.decline_transfer, lambda ids, ok: st.tuples(reason(ok))),
    "withdraw_transfer": (lifecycle.withdraw_transfer, lambda ids, ok: st.tuples(reason(ok))),
    "rule": (lifecycle.rule_dispute, lambda ids, ok: st.tuples(st.sampled_from(sorted(ids.values())), reason(ok))),
    "request_extension": (
        lifecycle.request_extension,
        lambda ids, ok: st.tuples(st.sampled_from([1, 3] if ok else [0, 2, 11]), reason(ok)),
    ),
    "decide_extension": (lifecycle.decide_extension, lambda ids, ok: st.tuples(st.booleans(), reason(ok))),
    "resolve": (
        lifecycle.resolve,
        lambda ids, ok: st.tuples(st.sampled_from(["已办结，答复如下"] if ok else ["", "答复"])),
    ),
    "rate": (lifecycle.rate, lambda ids, ok: st.tuples(st.sampled_from(list(Rating)))),
    "withdraw": (lifecycle.withdraw, lambda ids, ok: st.just(())),
    "set_major": (lifecycle.set_major, lambda ids, ok: st.tuples(reason(ok))),
    "clear_major": (lifecycle.clear_major, lambda ids, ok: st.tuples(reason(ok))),
    # By the rules, time runs past the window and the timekeeper does it; otherwise it is tried directly
    # by anyone, and refused unless the service acts after the window.
    "expire_rating": (lifecycle.expire_rating, lambda ids, ok: st.just(())),
}

#: How often an allowed action is drawn by the rules (default 4): those that end or sidetrack a story
#: less often, so sequences reach deep states and the citizen mostly rates before the window passes.
WEIGHTS = {"withdraw": 1, "withdraw_transfer": 2, "set_major": 1, "clear_major": 1, "expire_rating": 2}

#: The table rows each action name may use.
ROWS = {
    name: (Action.DECLINE, Action.DECLINE_TO_DISPUTE)
    if name == "decline"
    else (Action.RATE_CLOSE, Action.RATE_REOPEN)
    if name == "rate"
    else (Action(name),)
    for name in ACTIONS
}


def table_action(name: str, before: Complaint, args: tuple[Any, ...]) -> Action:
    """The transition-table row an action name stands for, given the complaint before it."""
    if name == "decline":
        return Action.DECLINE_TO_DISPUTE if before.transfer_declines + 1 >= MAX_DECLINES else Action.DECLINE
    if name == "rate":
        reopen = args[0] == Rating.DISSATISFIED and before.reopen_count == 0
        return Action.RATE_REOPEN if reopen else Action.RATE_CLOSE
    return Action(name)


class World:
    """The database side of the machine: people and a loop to run coroutines on."""

    def __init__(self, loop: asyncio.AbstractEventLoop, factory: async_sessionmaker[AsyncSession]) -> None:
        self.loop, self.factory = loop, factory
        self.clock, self.deadlines = make_clock(), make_deadlines()
        self.run(self._people())

    def run(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        return self.loop.run_until_complete(coroutine)

    async def _people(self) -> None:
        async with self.factory() as session:
            self.actors = [(await make_contact(session, code))[1] for code in AGENCIES]
            self.actors.append((await make_contact(session, "oversight-office", ContactRole.OVERSIGHT))[1])
            self.citizen, me = await make_citizen(session)
            _, stranger = await make_citizen(session)
            self.actors += [me, stranger, Actor.system()]
            self.agency_ids = {code: actor.agency_id for code, actor in zip(AGENCIES, self.actors, strict=False)}
            await session.commit()

    async def status(self, complaint_id: int) -> S:
        async with self.factory() as session:
            return S(await session.scalar(select(Complaint.status).where(Complaint.id == complaint_id)))

    async def expected_actor(self, complaint_id: int, name: str) -> Actor:
        async with self.factory() as session:
            complaint = await session.get(Complaint, complaint_id)
            assert complaint is not None
        by_agency = {actor.agency_id: actor for actor in self.actors[: len(AGENCIES)]}
        if name in ("rule", "decide_extension", "set_major", "clear_major"):
            return self.actors[len(AGENCIES)]
        if name in ("rate", "withdraw"):
            return self.actors[len(AGENCIES) + 1]
        if complaint.status == S.TRANSFERRING and name in ("accept", "decline"):
            return by_agency[complaint.transfer_to_agency_id]
        return by_agency[complaint.owner_agency_id]


def lifecycle_machine(world: World) -> type[RuleBasedStateMachine]:
    class LifecycleMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.complaint_ids: list[int] = []

        @initialize(code=st.sampled_from([*AGENCIES, None]))
        def first_complaint(self, code: str | None) -> None:
            self.register(code)

        @precondition(lambda self: len(self.complaint_ids) < 2)
        @rule(code=st.sampled_from([*AGENCIES, None]))
        def register(self, code: str | None) -> None:
            async def go() -> int:
                async with world.factory() as session:
                    complaint = await make_complaint(
                        session, world.clock, world.deadlines, citizen=world.citizen, agency_code=code
                    )
                    await session.commit()
                async with world.factory() as session:
                    await _check(session, complaint.id, world.deadlines)
                return complaint.id

            self.complaint_ids.append(world.run(go()))

        @precondition(lambda self: self.complaint_ids)
        @rule(
            data=st.data(),
            by_the_rules=st.sampled_from([True, True, True, False]),
            hours=st.sampled_from([0, 0, 1, 4, 24]),
        )
        def step(self, data: st.DataObject, by_the_rules: bool, hours: int) -> None:
            """Time passes, then mostly an action the table allows now, by the person the rules expect,
            with sensible arguments (so sequences get somewhere); otherwise anything, by anyone."""
            world.clock.advance(timedelta(hours=hours))
            complaint_id = data.draw(st.sampled_from(self.complaint_ids), label="complaint")
            if by_the_rules:
                status = world.run(world.status(complaint_id))
                names = [
                    name
                    for name in sorted(ACTIONS)
                    if any((status, row) in TRANSITIONS for row in ROWS[name])
                    for _ in range(WEIGHTS.get(name, 4))
                ]
                name = data.draw(st.sampled_from(names), label="action")
                if name == "expire_rating":
                    world.run(self._window_passes(complaint_id))
                    return
                actor = world.run(world.expected_actor(complaint_id, name))
            else:
                name = data.draw(st.sampled_from(sorted(ACTIONS)), label="action")
                actor = data.draw(st.sampled_from(world.actors), label="actor")
            function, arguments = ACTIONS[name]
            args = data.draw(arguments(world.agency_ids, by_the_rules), label="args")
            world.run(self._attempt(complaint_id, name, function, actor, args))

        async def _window_passes(self, complaint_id: int) -> None:
            """Time runs to a resolved complaint's rating window end and the timekeeper runs."""
            async with world.factory() as session:
                complaint = await session.get_one(Complaint, complaint_id)
                window_end = rating_window_end(complaint, world.deadlines)
                assert window_end is not None
                ratings = await _ratings(session, complaint_id)
            world.clock.set(max(window_end, world.clock.now()))  # the steps may have passed it already
            await timekeeper.run_once(world.factory, world.clock, world.deadlines, limit=1000)
            async with world.factory() as session:
                after = await session.get_one(Complaint, complaint_id)
                assert after.status == TRANSITIONS[(S.RESOLVED, Action.EXPIRE_RATING)]
                closed = (await _events(session, complaint_id))[-1]
                assert (closed.action, closed.data.get("unrated")) == (EventAction.CLOSED, True)
                assert await _ratings(session, complaint_id) == ratings  # unrated is not a rating
                for other_id in self.complaint_ids:
                    await _check(session, other_id, world.deadlines)

        async def _attempt(self, complaint_id: int, name: str, function: Any, actor: Actor, args: tuple) -> None:
            async with world.factory() as session:
                before = await session.get(Complaint, complaint_id)
                assert before is not None
                status, version = before.status, before.version
                row = table_action(name, before, args)
                events_before = await _count(session, complaint_id)
                try:
                    await function(session, world.clock, world.deadlines, complaint_id, actor, *args)
                    await session.commit()
                    failed = None
                except DomainError as error:
                    await session.rollback()
                    failed = error.code
            async with world.factory() as session:
                after = await session.get(Complaint, complaint_id)
                if failed is not None:
                    assert (after.status, after.version) == (status, version), failed
                    assert await _count(session, complaint_id) == events_before
                else:
                    assert (S(status), row) in TRANSITIONS, f"{name} succeeded in {status}"
                    assert after.status == TRANSITIONS[(S(status), row)]
                    assert await _count(session, complaint_id) > events_before
                await _check(session, complaint_id, world.deadlines)

    return LifecycleMachine


async def _ratings(session: AsyncSession, complaint_id: int) -> int:
    query = select(func.count()).select_from(Evaluation).where(Evaluation.complaint_id == complaint_id)
    return int(await session.scalar(query) or 0)


async def _events(session: AsyncSession, complaint_id: int) -> list[ComplaintEvent]:
    query = select(ComplaintEvent).where(ComplaintEvent.complaint_id == complaint_id).order_by(ComplaintEvent.id)
    return list(await session.scalars(query))


async def _count(session: AsyncSession, complaint_id: int) -> int:
    query = select(func.count()).select_from(ComplaintEvent).where(ComplaintEvent.complaint_id == complaint_id)
    return int(await session.scalar(query) or 0)


async def _check(session: AsyncSession, complaint_id: int, deadlines: Deadlines) -> None:
    complaint = await session.get(Complaint, complaint_id)
    assert complaint is not None
    # Exactly one owner; a receiver only while a transfer waits, and never the owner itself.
    assert complaint.owner_agency_id is not None and complaint.first_contact_agency_id is not None
    assert (complaint.transfer_to_agency_id is not None) == (complaint.status == S.TRANSFERRING)
    assert complaint.transfer_to_agency_id != complaint.owner_agency_id
    # Not lost, not stuck: the running deadline exists and a timer watches it (pending, or already
    # fired by the timekeeper for that very deadline); a resolved complaint's rating window likewise.
    timers = (
        await session.execute(
            select(ComplaintTimer.kind, ComplaintTimer.due_at, ComplaintTimer.done_at).where(
                ComplaintTimer.complaint_id == complaint_id, ComplaintTimer.cancelled.is_(False)
            )
        )
    ).all()
    watched = {(kind, due) for kind, due, _ in timers}
    live = {kind for kind, _, done in timers if done is None}
    if complaint.status in ACKNOWLEDGE_STATUSES:
        assert complaint.acknowledge_due_at is not None
        assert ("ack_overdue", complaint.acknowledge_due_at) in watched
    elif complaint.status == S.ACCEPTED:
        assert complaint.resolve_due_at is not None and ("resolve_overdue", complaint.resolve_due_at) in watched
        assert complaint.acknowledged_at is not None
    elif complaint.status == S.RESOLVED:
        window_end = rating_window_end(complaint, deadlines)
        assert "rating_window" in live and ("rating_window", window_end) in watched
        assert ("rating_reminder", rating_reminder_at(complaint, deadlines)) in watched
        assert live <= {"rating_reminder", "rating_window"}  # nothing else chased
    else:
        assert complaint.status not in OPEN_STATUSES and not live
    if complaint.status == S.RESOLVED:
        assert complaint.resolved_at is not None and complaint.reply_text
    # The audit log tells the same story as the row.
    events = await _events(session, complaint_id)
    state = replay(events)
    assert (
        state.status,
        state.first_contact_agency_id,
        state.owner_agency_id,
        state.transfer_to_agency_id,
        state.transfer_declines,
        state.reopen_count,
        state.extended_days,
        state.major,
    ) == (
        complaint.status,
        complaint.first_contact_agency_id,
        complaint.owner_agency_id,
        complaint.transfer_to_agency_id,
        complaint.transfer_declines,
        complaint.reopen_count,
        complaint.extended_days,
        complaint.major,
    )
    assert all(event.actor_kind for event in events)


def _run_machine(database_url: str) -> None:
    # PostgreSQL round trips cost more; SQLite explores more widely in the same time.
    examples = 25 if database_url.startswith("sqlite") else 12
    loop = asyncio.new_event_loop()
    engine = create_engine(database_url)
    try:
        world = World(loop, create_session_factory(engine))
        run_state_machine_as_test(
            lifecycle_machine(world),
            settings=settings(
                max_examples=examples,
                stateful_step_count=25,
                deadline=None,
                database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            ),
        )
    finally:
        loop.run_until_complete(engine.dispose())
        loop.close()


async def test_random_action_sequences_keep_the_lifecycle_invariants(database_url: str, catalogue_loaded: None) -> None:
    await asyncio.to_thread(_run_machine, database_url)
