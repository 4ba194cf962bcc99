"""Extension (延期): asked before the deadline with a reason and days, decided by oversight."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from storage.models import ComplaintTimer, EventAction
from tests.factories import World, events_of, outbox_kinds, refused
from workflow import lifecycle
from workflow.queues import pending_decisions

REASON = "需现场勘验，涉及多个部门"


async def accepted(world: World):
    complaint = await world.complaint()
    await lifecycle.accept(world.session, world.clock, world.deadlines, complaint.id, world.police)
    return complaint


async def ask(world: World, complaint, days: int = 3) -> None:
    await lifecycle.request_extension(
        world.session, world.clock, world.deadlines, complaint.id, world.police, days, REASON
    )


async def test_request_is_recorded_and_sent_to_oversight_without_moving_the_deadline(world: World) -> None:
    complaint = await accepted(world)
    due = complaint.resolve_due_at
    await ask(world, complaint)
    assert complaint.resolve_due_at == due
    event = (await events_of(world.session, complaint.id))[-1]
    assert (event.action, event.reason, event.data["days"]) == (EventAction.EXTENSION_REQUESTED, REASON, 3)
    assert any(kind == "oversight.extension_requested" for _, kind in await outbox_kinds(world.session, complaint.id))
    decisions = await pending_decisions(world.session)
    assert [(d.kind, d.complaint_id, d.days) for d in decisions] == [("extension", complaint.id, 3)]


async def test_approval_moves_the_deadline_by_working_days_and_tells_the_citizen_and_the_agency(
    world: World,
) -> None:
    complaint = await accepted(world)
    due = complaint.resolve_due_at
    await ask(world, complaint, 3)
    await lifecycle.decide_extension(
        world.session, world.clock, world.deadlines, complaint.id, world.oversight, True, "同意"
    )
    assert complaint.resolve_due_at == world.deadlines.extend(due, 3)
    assert complaint.extended_days == 3
    kinds = [kind for _, kind in await outbox_kinds(world.session, complaint.id)]
    assert "complaint.extended" in kinds and "agency.extension_decided" in kinds
    timers = await world.session.scalars(
        select(ComplaintTimer.due_at).where(
            ComplaintTimer.complaint_id == complaint.id,
            ComplaintTimer.kind == "resolve_overdue",
            ComplaintTimer.cancelled.is_(False),
        )
    )
    assert list(timers) == [complaint.resolve_due_at]
    assert await pending_decisions(world.session) == []


async def test_refusal_needs_a_reason_keeps_the_deadline_and_tells_the_agency_only(world: World) -> None:
    complaint = await accepted(world)
    due = complaint.resolve_due_at
    await ask(world, complaint)
    await refused(world, "reason_required", lifecycle.decide_extension, complaint, world.oversight, False, "")
    await lifecycle.decide_extension(
        world.session, world.clock, world.deadlines, complaint.id, world.oversight, False, "理由不充分"
    )
    assert complaint.resolve_due_at == due and complaint.extended_days == 0
    assert (await events_of(world.session, complaint.id))[-1].action == EventAction.EXTENSION_REFUSED
    told = await outbox_kinds(world.session, complaint.id)
    assert ("agency.extension_decided" in [kind for _, kind in told]) and not any(
        chat == world.citizen.telegram_user_id and "extension" in kind for chat, kind in told
    )


async def test_extending_after_the_deadline_is_refused(world: World) -> None:
    complaint = await accepted(world)
    world.clock.set(complaint.resolve_due_at + timedelta(minutes=1))
    await refused(world, "deadline_passed", lifecycle.request_extension, complaint, world.police, 3, REASON)


async def test_extending_what_was_never_accepted_is_refused(world: World) -> None:
    complaint = await world.complaint()
    await refused(world, "not_accepted", lifecycle.request_extension, complaint, world.police, 3, REASON)


async def test_request_rules_reason_days_agency_and_one_at_a_time(world: World) -> None:
    complaint = await accepted(world)
    too_many = world.deadlines.max_extension_days + 1
    await refused(world, "reason_required", lifecycle.request_extension, complaint, world.police, 3, "")
    await refused(world, "bad_value", lifecycle.request_extension, complaint, world.police, 0, REASON)
    await refused(world, "bad_value", lifecycle.request_extension, complaint, world.police, too_many, REASON)
    await refused(world, "not_your_agency", lifecycle.request_extension, complaint, world.traffic, 3, REASON)
    await ask(world, complaint)
    await refused(world, "extension_pending", lifecycle.request_extension, complaint, world.police, 3, REASON)


async def test_requests_are_limited_by_the_policy(world: World) -> None:
    complaint = await accepted(world)
    for _ in range(world.deadlines.max_extensions):
        await ask(world, complaint, 1)
        await lifecycle.decide_extension(
            world.session, world.clock, world.deadlines, complaint.id, world.oversight, True, "同意"
        )
    await refused(world, "too_many_extensions", lifecycle.request_extension, complaint, world.police, 1, REASON)


async def test_only_oversight_decides_and_only_what_was_asked(world: World) -> None:
    complaint = await accepted(world)
    await refused(world, "nothing_pending", lifecycle.decide_extension, complaint, world.oversight, True, "同意")
    await ask(world, complaint)
    await refused(world, "not_allowed", lifecycle.decide_extension, complaint, world.police, True, "自批")


async def test_resolving_makes_a_pending_request_moot(world: World) -> None:
    complaint = await accepted(world)
    await ask(world, complaint)
    await lifecycle.resolve(world.session, world.clock, world.deadlines, complaint.id, world.police, "已办结")
    assert await pending_decisions(world.session) == []
    assert await lifecycle.pending_extension(world.session, complaint.id) is None


async def test_the_approval_notice_gives_the_citizen_the_agencys_reason(world: World) -> None:
    from storage.models import OutboxMessage

    complaint = await accepted(world)
    await ask(world, complaint, 3)
    await lifecycle.decide_extension(world.session, world.clock, world.deadlines, complaint.id, world.oversight, True)
    payloads = await world.session.scalars(
        select(OutboxMessage.payload).where(
            OutboxMessage.complaint_id == complaint.id, OutboxMessage.kind == "complaint.extended"
        )
    )
    assert [p["params"]["reason"] for p in payloads] == [REASON]
