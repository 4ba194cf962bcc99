"""Accept, resolve, rate, withdraw and the major flag: every rule and every forbidden action."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from storage.models import Complaint, ComplaintStatus, Evaluation, EventAction
from storage.vocabulary import Rating
from tests.factories import World, events_of, outbox_kinds, refused
from workflow import lifecycle
from workflow.actors import Actor
from workflow.errors import DomainError
from workflow.transitions import replay

S = ComplaintStatus


async def accepted(world: World, **kwargs):
    complaint = await world.complaint(**kwargs)
    await lifecycle.accept(world.session, world.clock, world.deadlines, complaint.id, world.police)
    return complaint


async def resolved(world: World, **kwargs):
    complaint = await accepted(world, **kwargs)
    await lifecycle.resolve(world.session, world.clock, world.deadlines, complaint.id, world.police, "已为您补办。")
    return complaint


# --- accept -------------------------------------------------------------------------------------


async def test_owner_accepts_and_the_deadlines_set_at_assignment_stay(world: World) -> None:
    complaint = await world.complaint()
    ack_due, resolve_due = complaint.acknowledge_due_at, complaint.resolve_due_at
    world.clock.advance(timedelta(hours=1))
    await lifecycle.accept(world.session, world.clock, world.deadlines, complaint.id, world.police)
    assert complaint.status == S.ACCEPTED
    assert complaint.acknowledged_at == world.clock.now()
    assert (complaint.acknowledge_due_at, complaint.resolve_due_at) == (ack_due, resolve_due)
    event = (await events_of(world.session, complaint.id))[-1]
    assert (event.action, event.from_status, event.to_status) == (EventAction.ACCEPTED, S.ASSIGNED, S.ACCEPTED)
    assert event.agency_id == complaint.owner_agency_id and event.data["on_time"] is True
    assert (world.citizen.telegram_user_id, "complaint.accepted") in await outbox_kinds(world.session, complaint.id)


async def test_late_acceptance_is_recorded_as_not_on_time(world: World) -> None:
    complaint = await world.complaint()
    world.clock.advance(timedelta(days=2))
    await lifecycle.accept(world.session, world.clock, world.deadlines, complaint.id, world.police)
    assert (await events_of(world.session, complaint.id))[-1].data["on_time"] is False


async def test_another_agency_cannot_accept(world: World) -> None:
    complaint = await world.complaint()
    await refused(world, "not_your_agency", lifecycle.accept, complaint, world.housing)


async def test_citizens_and_web_viewers_cannot_act_for_an_agency(world: World) -> None:
    complaint = await world.complaint()
    viewer = Actor(kind="web_user", id=1, agency_id=complaint.owner_agency_id, role="agency_viewer")
    await refused(world, "not_allowed", lifecycle.accept, complaint, world.me)
    await refused(world, "not_allowed", lifecycle.accept, complaint, viewer)


async def test_accepting_twice_is_a_bad_state(world: World) -> None:
    complaint = await accepted(world)
    await refused(world, "bad_state", lifecycle.accept, complaint, world.police)


async def test_unknown_complaint_is_not_found(world: World) -> None:
    with pytest.raises(DomainError) as caught:
        await lifecycle.accept(world.session, world.clock, world.deadlines, 999_999, world.police)
    assert caught.value.code == "not_found"


# --- resolve ------------------------------------------------------------------------------------


async def test_resolving_what_was_never_accepted_is_refused(world: World) -> None:
    complaint = await world.complaint()
    await refused(world, "not_accepted", lifecycle.resolve, complaint, world.police, "已处理")


async def test_resolve_needs_a_reply(world: World) -> None:
    complaint = await accepted(world)
    await refused(world, "reply_required", lifecycle.resolve, complaint, world.police, "   ")


async def test_resolve_sends_the_reply_to_the_citizen_and_records_on_time(world: World) -> None:
    complaint = await resolved(world)
    assert complaint.status == S.RESOLVED and complaint.resolved_at == world.clock.now()
    assert complaint.reply_text == "已为您补办。"
    event = (await events_of(world.session, complaint.id))[-1]
    assert (event.action, event.data["on_time"]) == (EventAction.RESOLVED, True)
    assert (world.citizen.telegram_user_id, "complaint.resolved") in await outbox_kinds(world.session, complaint.id)


async def test_another_agency_cannot_resolve(world: World) -> None:
    complaint = await accepted(world)
    await refused(world, "not_your_agency", lifecycle.resolve, complaint, world.traffic, "已处理")


# --- rate ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("rating", [Rating.SATISFIED, Rating.FAIRLY_SATISFIED])
async def test_satisfied_rating_closes_and_is_stored_against_the_owner(world: World, rating: Rating) -> None:
    complaint = await resolved(world)
    await lifecycle.rate(world.session, world.clock, world.deadlines, complaint.id, world.me, rating, "谢谢")
    assert complaint.status == S.CLOSED and complaint.closed_at is not None
    evaluation = await world.session.scalar(select(Evaluation).where(Evaluation.complaint_id == complaint.id))
    assert (evaluation.rating, evaluation.agency_id, evaluation.comment) == (
        rating.value,
        complaint.owner_agency_id,
        "谢谢",
    )
    actions = [e.action for e in await events_of(world.session, complaint.id)][-2:]
    assert actions == [EventAction.RATED, EventAction.CLOSED]


async def test_first_dissatisfied_rating_reopens_with_a_new_deadline(world: World) -> None:
    complaint = await resolved(world)
    world.clock.advance(timedelta(days=3))
    old_due = complaint.resolve_due_at
    await lifecycle.rate(world.session, world.clock, world.deadlines, complaint.id, world.me, Rating.DISSATISFIED)
    assert complaint.status == S.ACCEPTED and complaint.reopen_count == 1 and complaint.resolved_at is None
    assert complaint.resolve_due_at == world.deadlines.extend(world.clock.now(), world.deadlines.reopen_resolve_days)
    assert complaint.resolve_due_at > old_due
    event = (await events_of(world.session, complaint.id))[-1]
    assert (event.action, event.from_status, event.to_status) == (EventAction.REOPENED, S.RESOLVED, S.ACCEPTED)
    assert (world.citizen.telegram_user_id, "complaint.reopened") in await outbox_kinds(world.session, complaint.id)


async def test_second_dissatisfied_rating_closes_and_goes_to_oversight(world: World) -> None:
    complaint = await resolved(world)
    await lifecycle.rate(world.session, world.clock, world.deadlines, complaint.id, world.me, Rating.DISSATISFIED)
    await lifecycle.resolve(world.session, world.clock, world.deadlines, complaint.id, world.police, "再次处理完毕")
    await lifecycle.rate(world.session, world.clock, world.deadlines, complaint.id, world.me, Rating.DISSATISFIED)
    assert complaint.status == S.CLOSED and complaint.reopen_count == 1
    kinds = await outbox_kinds(world.session, complaint.id)
    assert any(kind == "oversight.dissatisfied_again" for _, kind in kinds)
    ratings = await world.session.scalars(select(Evaluation.rating).where(Evaluation.complaint_id == complaint.id))
    assert list(ratings) == ["不满意", "不满意"]


async def test_only_the_complaints_citizen_rates(world: World) -> None:
    complaint = await resolved(world)
    await refused(world, "not_allowed", lifecycle.rate, complaint, world.stranger, Rating.SATISFIED)
    await refused(world, "not_allowed", lifecycle.rate, complaint, world.police, Rating.SATISFIED)


async def test_rating_before_resolution_is_a_bad_state(world: World) -> None:
    complaint = await accepted(world)
    await refused(world, "bad_state", lifecycle.rate, complaint, world.me, Rating.SATISFIED)


async def test_rating_twice_is_already_rated(world: World) -> None:
    complaint = await resolved(world)
    await lifecycle.rate(world.session, world.clock, world.deadlines, complaint.id, world.me, Rating.SATISFIED)
    await refused(world, "already_rated", lifecycle.rate, complaint, world.me, Rating.DISSATISFIED)


# --- withdraw -----------------------------------------------------------------------------------


async def test_citizen_withdraws_an_open_complaint_and_its_timers_stop(world: World) -> None:
    complaint = await accepted(world)
    await lifecycle.withdraw(world.session, world.clock, world.deadlines, complaint.id, world.me, "已自行解决")
    assert complaint.status == S.WITHDRAWN and complaint.closed_at is not None
    event = (await events_of(world.session, complaint.id))[-1]
    assert (event.action, event.reason) == (EventAction.WITHDRAWN, "已自行解决")
    assert any(kind == "complaint.withdrawn" for _, kind in await outbox_kinds(world.session, complaint.id))


async def test_only_the_citizen_withdraws_and_only_while_open(world: World) -> None:
    complaint = await resolved(world)
    await refused(world, "bad_state", lifecycle.withdraw, complaint, world.me)
    other = await world.complaint()
    await refused(world, "not_allowed", lifecycle.withdraw, other, world.stranger)
    await refused(world, "not_allowed", lifecycle.withdraw, other, world.police)


# --- major flag ---------------------------------------------------------------------------------


async def test_oversight_flags_and_clears_a_major_complaint(world: World) -> None:
    complaint = await accepted(world)
    await lifecycle.set_major(
        world.session, world.clock, world.deadlines, complaint.id, world.oversight, "群众反映强烈"
    )
    assert complaint.major
    await refused(world, "already_major", lifecycle.set_major, complaint, world.oversight, "再次挂牌")
    await lifecycle.clear_major(world.session, world.clock, world.deadlines, complaint.id, world.oversight, "已整改")
    assert not complaint.major
    await refused(world, "not_major", lifecycle.clear_major, complaint, world.oversight, "消号")
    actions = [e.action for e in await events_of(world.session, complaint.id)]
    assert actions[-2:] == [EventAction.MAJOR_SET, EventAction.MAJOR_CLEARED]


async def test_only_oversight_flags_and_a_reason_is_required(world: World) -> None:
    complaint = await accepted(world)
    await refused(world, "not_allowed", lifecycle.set_major, complaint, world.police, "自己挂牌")
    await refused(world, "reason_required", lifecycle.set_major, complaint, world.oversight, "")


async def test_a_clerk_of_the_oversight_office_counts_as_oversight(world: World) -> None:
    complaint = await accepted(world)
    clerk = Actor(kind="contact", id=77, agency_id=await world.agency_id("oversight-office"), role="clerk")
    await lifecycle.set_major(world.session, world.clock, world.deadlines, complaint.id, clerk, "挂牌督办")
    assert complaint.major


# --- concurrency and the audit log --------------------------------------------------------------


async def test_double_tap_from_two_sessions_is_a_conflict(world: World, session_factory) -> None:
    complaint = await world.complaint()
    async with session_factory() as first, session_factory() as second:
        seen = await second.get(Complaint, complaint.id)  # held: the identity map is weak
        assert seen is not None and seen.status == S.ASSIGNED
        await lifecycle.accept(first, world.clock, world.deadlines, complaint.id, world.police)
        await first.commit()
        with pytest.raises(DomainError) as caught:
            await lifecycle.accept(second, world.clock, world.deadlines, complaint.id, world.police)
        assert caught.value.code == "conflict"
        await second.rollback()
    events = await events_of(world.session, complaint.id)
    assert [e.action for e in events].count(EventAction.ACCEPTED) == 1


async def test_events_replay_to_the_current_state(world: World) -> None:
    complaint = await resolved(world)
    await lifecycle.rate(world.session, world.clock, world.deadlines, complaint.id, world.me, Rating.DISSATISFIED)
    state = replay(await events_of(world.session, complaint.id))
    assert (state.status, state.owner_agency_id, state.reopen_count) == (
        complaint.status,
        complaint.owner_agency_id,
        complaint.reopen_count,
    )


async def test_the_redo_notice_gives_the_agency_the_citizens_reason(world: World) -> None:
    from sqlalchemy import select

    from storage.models import OutboxMessage

    complaint = await resolved(world)
    await lifecycle.rate(
        world.session, world.clock, world.deadlines, complaint.id, world.me, Rating.DISSATISFIED, "窗口还是推诿"
    )
    payloads = list(
        await world.session.scalars(
            select(OutboxMessage.payload).where(
                OutboxMessage.complaint_id == complaint.id, OutboxMessage.kind == "agency.reopened"
            )
        )
    )
    assert [(p["params"]["comment"], p["params"]["reopen_days"]) for p in payloads] == [
        ("窗口还是推诿", world.deadlines.reopen_resolve_days)
    ]
