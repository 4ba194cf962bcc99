"""The first-contact and time-limited queues, oversight's overdue queue, and citizens' look-ups."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from storage.models import AgencyContact, Complaint, ComplaintStatus
from tests.factories import World
from workflow import lifecycle
from workflow.errors import DomainError
from workflow.queues import (
    first_contact_queue,
    is_overdue,
    overdue_condition,
    overdue_queue,
    pending_decisions,
    time_limited_queue,
)
from workflow.visibility import complaint_for_actor, complaint_for_citizen, complaints_of_citizen

S = ComplaintStatus


async def test_first_contact_queue_shows_owned_and_incoming_transfers_with_the_acknowledge_deadline(
    world: World,
) -> None:
    police_id, traffic_id = await world.agency_id("public-security"), await world.agency_id("traffic-police")
    waiting = await world.complaint()
    world.clock.advance(timedelta(minutes=5))
    moving = await world.complaint()
    await lifecycle.transfer(world.session, world.clock, world.deadlines, moving.id, world.police, traffic_id, "交警")
    taken = await world.complaint()
    await lifecycle.accept(world.session, world.clock, world.deadlines, taken.id, world.police)
    now = world.clock.now()

    police_queue = await first_contact_queue(world.session, world.deadlines, police_id, now)
    assert [item.id for item in police_queue] == [waiting.id, moving.id]  # by acknowledge deadline
    first = police_queue[0]
    assert (first.owner_agency, first.first_contact_agency, first.due_at) == (
        "市公安局",
        "市公安局",
        waiting.acknowledge_due_at,
    )
    assert first.remaining == world.deadlines.remaining(now, waiting.acknowledge_due_at)
    assert first.problem_types == ("事难办",) and first.state == "normal"
    traffic_queue = await first_contact_queue(world.session, world.deadlines, traffic_id, now)
    assert [(item.id, item.transfer_to_agency_id, item.owner_agency_id) for item in traffic_queue] == [
        (moving.id, traffic_id, police_id)
    ]


async def test_time_limited_queue_orders_by_due_and_marks_warning_and_overdue(world: World) -> None:
    police_id = await world.agency_id("public-security")
    slow = await world.complaint()  # ordinary: 5 working days
    quick = await world.complaint(problem_types=("工作纪律",))  # policy: 3 working days
    for complaint in (slow, quick):
        await lifecycle.accept(world.session, world.clock, world.deadlines, complaint.id, world.police)

    queue = await time_limited_queue(world.session, world.deadlines, police_id, world.clock.now())
    assert [item.id for item in queue] == [quick.id, slow.id]
    assert all(item.state == "normal" and item.remaining > timedelta() for item in queue)

    world.clock.set(quick.resolve_due_at - timedelta(hours=1))
    queue = await time_limited_queue(world.session, world.deadlines, police_id, world.clock.now())
    assert [item.state for item in queue] == ["warning", "normal"]

    world.clock.set(quick.resolve_due_at + timedelta(days=1))
    queue = await time_limited_queue(world.session, world.deadlines, police_id, world.clock.now())
    assert queue[0].state == "overdue" and queue[0].remaining < timedelta()
    assert await time_limited_queue(world.session, world.deadlines, police_id, world.clock.now(), offset=1) == [
        queue[1]
    ]


async def test_overdue_queue_spans_agencies_and_both_clocks(world: World) -> None:
    unacknowledged = await world.complaint()
    handled = await world.complaint(agency_code="traffic-police")
    await lifecycle.accept(world.session, world.clock, world.deadlines, handled.id, world.traffic)
    on_time = await world.complaint(agency_code="housing-construction")
    await lifecycle.accept(world.session, world.clock, world.deadlines, on_time.id, world.housing)
    await lifecycle.request_extension(
        world.session, world.clock, world.deadlines, on_time.id, world.housing, 10, "需协调"
    )
    await lifecycle.decide_extension(world.session, world.clock, world.deadlines, on_time.id, world.oversight, True)
    world.clock.set(handled.resolve_due_at + timedelta(hours=1))

    overdue = await overdue_queue(world.session, world.deadlines, world.clock.now())
    assert [item.id for item in overdue] == [unacknowledged.id, handled.id]
    assert all(item.state == "overdue" for item in overdue)

    # The same rule in SQL (dashboard filters) and in Python (pages, API), both ways round.
    now = world.clock.now()
    mine = Complaint.id.in_([unacknowledged.id, handled.id, on_time.id])
    late = set(await world.session.scalars(select(Complaint.id).where(mine, overdue_condition(now))))
    in_time = set(await world.session.scalars(select(Complaint.id).where(mine, ~overdue_condition(now))))
    assert late == {unacknowledged.id, handled.id} and in_time == {on_time.id}
    for complaint in (unacknowledged, handled, on_time):
        await world.session.refresh(complaint)
        assert is_overdue(complaint, now) == (complaint.id in late)


async def test_pending_decisions_list_disputes_for_oversight(world: World) -> None:
    complaint = await world.complaint()
    traffic_id = await world.agency_id("traffic-police")
    for _ in range(2):
        await lifecycle.transfer(
            world.session, world.clock, world.deadlines, complaint.id, world.police, traffic_id, "属交警"
        )
        await lifecycle.decline_transfer(
            world.session, world.clock, world.deadlines, complaint.id, world.traffic, "依职责清单不属本单位"
        )
    decisions = await pending_decisions(world.session)
    assert [(d.kind, d.complaint_id, d.owner_agency, d.reason) for d in decisions] == [
        ("dispute", complaint.id, "市公安局", "依职责清单不属本单位")
    ]


async def test_a_citizen_finds_only_their_own_complaints(world: World) -> None:
    first = await world.complaint()
    world.clock.advance(timedelta(minutes=1))
    second = await world.complaint()
    assert (await complaint_for_citizen(world.session, world.citizen.id, second.tracking_no)).id == second.id
    assert [c.id for c in await complaints_of_citizen(world.session, world.citizen.id)] == [second.id, first.id]
    with pytest.raises(DomainError) as caught:
        await complaint_for_citizen(world.session, world.stranger.id, first.tracking_no)
    assert caught.value.code == "not_found"


async def test_an_agency_sees_only_complaints_it_holds_or_is_asked_to_take(world: World) -> None:
    complaint = await world.complaint()
    assert (await complaint_for_actor(world.session, world.police, complaint.id)).id == complaint.id
    assert (await complaint_for_actor(world.session, world.oversight, complaint.id)).id == complaint.id
    assert (await complaint_for_actor(world.session, world.me, complaint.id)).id == complaint.id
    for outsider in (world.housing, world.stranger):
        with pytest.raises(DomainError) as caught:
            await complaint_for_actor(world.session, outsider, complaint.id)
        assert caught.value.code == "not_found"


async def test_after_an_accepted_transfer_the_first_agency_sees_only_a_summary(world: World) -> None:
    """首问负责 passes when the right agency accepts: the citizen's words and contact go with it; until
    then the receiver reads the masked words only."""
    from tests.factories import agency
    from workflow.card_history import card_history
    from workflow.privacy import CitizenView, citizen_view

    complaint = await world.complaint()
    traffic_id = await world.agency_id("traffic-police")
    await lifecycle.transfer(
        world.session, world.clock, world.deadlines, complaint.id, world.police, traffic_id, "交警"
    )
    for actor, view in (
        (world.police, CitizenView.FULL),
        (world.traffic, CitizenView.TEXT),
        (world.oversight, CitizenView.FULL),
        (world.me, CitizenView.FULL),
    ):
        visible = await complaint_for_actor(world.session, actor, complaint.id)
        assert await citizen_view(world.session, actor, visible) is view
    await lifecycle.accept(world.session, world.clock, world.deadlines, complaint.id, world.traffic)
    assert await citizen_view(world.session, world.police, complaint) is CitizenView.SUMMARY
    assert (await complaint_for_actor(world.session, world.police, complaint.id)).id == complaint.id
    for actor in (world.traffic, world.oversight, world.me):
        assert await citizen_view(world.session, actor, complaint) is CitizenView.FULL
    history = await card_history(world.session, complaint)
    assert (history.transfer_reason, history.transfer_from, history.reopened) == (
        "交警",
        (await agency(world.session, "public-security")).name,
        False,
    )


async def test_a_contact_finds_a_visible_complaint_by_its_tracking_number_only(world: World) -> None:
    from workflow.visibility import complaint_for_actor_by_tracking_no

    complaint = await world.complaint()
    found = await complaint_for_actor_by_tracking_no(world.session, world.police, f" {complaint.tracking_no} ")
    assert found.id == complaint.id
    for actor, number in ((world.housing, complaint.tracking_no), (world.police, "20990101-9999")):
        with pytest.raises(DomainError) as caught:
            await complaint_for_actor_by_tracking_no(world.session, actor, number)
        assert caught.value.code == "not_found"


async def test_the_card_history_names_who_accepted_and_replied_and_why_the_citizen_wanted_a_redo(
    world: World,
) -> None:
    from storage.vocabulary import Rating
    from workflow.card_history import card_history

    complaint = await world.complaint()
    await lifecycle.accept(world.session, world.clock, world.deadlines, complaint.id, world.police)
    await lifecycle.resolve(world.session, world.clock, world.deadlines, complaint.id, world.police, "已办")
    await lifecycle.rate(
        world.session, world.clock, world.deadlines, complaint.id, world.me, Rating.DISSATISFIED, "仍然推诿"
    )
    history = await card_history(world.session, complaint)
    contact = await world.session.scalar(select(AgencyContact.display_name).where(AgencyContact.id == world.police.id))
    assert (history.accepted_by, history.resolved_by) == (contact or None, contact or None)
    assert (history.reopened, history.reopen_reason, history.transfer_reason) == (True, "仍然推诿", None)
