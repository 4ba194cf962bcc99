"""Transfer (转办), decline with a basis, the oversight ruling (审定) and the default owner (兜底)."""

from __future__ import annotations

from datetime import timedelta

from storage.models import ComplaintStatus, EventAction
from tests.factories import World, events_of, outbox_kinds, refused
from workflow import lifecycle
from workflow.transitions import replay

S = ComplaintStatus


async def transferred(world: World):
    """A police complaint transferred to traffic police."""
    complaint = await world.complaint()
    traffic_id = await world.agency_id("traffic-police")
    await lifecycle.transfer(
        world.session, world.clock, world.deadlines, complaint.id, world.police, traffic_id, "属交警职责"
    )
    return complaint


async def decline(world: World, complaint, basis: str = "依据《道路交通安全法》不属本单位职责") -> None:
    await lifecycle.decline_transfer(world.session, world.clock, world.deadlines, complaint.id, world.traffic, basis)


async def test_transfer_keeps_first_contact_owner_until_the_receiver_accepts(world: World) -> None:
    complaint = await transferred(world)
    police_id, traffic_id = await world.agency_id("public-security"), await world.agency_id("traffic-police")
    assert complaint.status == S.TRANSFERRING
    assert (complaint.owner_agency_id, complaint.transfer_to_agency_id) == (police_id, traffic_id)
    event = (await events_of(world.session, complaint.id))[-1]
    assert (event.action, event.agency_id, event.from_agency_id, event.to_agency_id, event.reason) == (
        EventAction.TRANSFER_REQUESTED,
        police_id,
        police_id,
        traffic_id,
        "属交警职责",
    )
    kinds = [kind for _, kind in await outbox_kinds(world.session, complaint.id)]
    assert "agency.transfer_in" in kinds and "complaint.transferred" in kinds


async def test_receiver_accepts_becomes_owner_and_the_clock_does_not_restart(world: World) -> None:
    complaint = await transferred(world)
    ack_due, resolve_due = complaint.acknowledge_due_at, complaint.resolve_due_at
    world.clock.advance(timedelta(hours=2))
    await lifecycle.accept(world.session, world.clock, world.deadlines, complaint.id, world.traffic)
    traffic_id = await world.agency_id("traffic-police")
    assert (complaint.status, complaint.owner_agency_id, complaint.transfer_to_agency_id) == (
        S.ACCEPTED,
        traffic_id,
        None,
    )
    assert complaint.first_contact_agency_id == await world.agency_id("public-security")
    assert (complaint.acknowledge_due_at, complaint.resolve_due_at) == (ack_due, resolve_due)
    assert (await events_of(world.session, complaint.id))[-1].action == EventAction.TRANSFER_ACCEPTED


async def test_sender_cannot_accept_its_own_pending_transfer(world: World) -> None:
    complaint = await transferred(world)
    await refused(world, "bad_state", lifecycle.accept, complaint, world.police)
    await refused(world, "not_your_agency", lifecycle.accept, complaint, world.housing)


async def test_transfer_to_the_same_agency_is_refused(world: World) -> None:
    complaint = await world.complaint()
    police_id = await world.agency_id("public-security")
    await refused(world, "same_agency", lifecycle.transfer, complaint, world.police, police_id, "转给自己")


async def test_transfer_needs_a_reason_and_an_active_agency(world: World) -> None:
    complaint = await world.complaint()
    traffic_id = await world.agency_id("traffic-police")
    await refused(world, "reason_required", lifecycle.transfer, complaint, world.police, traffic_id, " ")
    await refused(world, "not_found", lifecycle.transfer, complaint, world.police, 999_999, "不存在的单位")


async def test_only_the_owner_transfers_and_only_before_acceptance(world: World) -> None:
    complaint = await world.complaint()
    traffic_id = await world.agency_id("traffic-police")
    await refused(world, "not_your_agency", lifecycle.transfer, complaint, world.housing, traffic_id, "不归我管")
    await lifecycle.accept(world.session, world.clock, world.deadlines, complaint.id, world.police)
    await refused(world, "bad_state", lifecycle.transfer, complaint, world.police, traffic_id, "受理后转办")


async def test_decline_needs_a_basis_and_returns_the_complaint_to_its_owner(world: World) -> None:
    complaint = await transferred(world)
    await refused(world, "reason_required", lifecycle.decline_transfer, complaint, world.traffic, "")
    await refused(world, "not_your_agency", lifecycle.decline_transfer, complaint, world.housing, "不归我管")
    await decline(world, complaint)
    assert (complaint.status, complaint.transfer_to_agency_id, complaint.transfer_declines) == (S.ASSIGNED, None, 1)
    assert complaint.owner_agency_id == await world.agency_id("public-security")
    event = (await events_of(world.session, complaint.id))[-1]
    assert event.action == EventAction.TRANSFER_DECLINED
    assert event.agency_id == await world.agency_id("traffic-police")  # counts against the decliner (回退率)
    assert event.reason.startswith("依据")


async def test_second_decline_goes_to_oversight_which_rules_and_the_ruling_binds(world: World) -> None:
    complaint = await transferred(world)
    await decline(world, complaint)
    traffic_id = await world.agency_id("traffic-police")
    await lifecycle.transfer(
        world.session, world.clock, world.deadlines, complaint.id, world.police, traffic_id, "再转"
    )
    await decline(world, complaint, "依据三定方案不属本单位")
    assert complaint.status == S.DISPUTED and complaint.transfer_declines == 2
    assert any(kind == "oversight.dispute" for _, kind in await outbox_kinds(world.session, complaint.id))

    await refused(world, "not_allowed", lifecycle.rule_dispute, complaint, world.police, traffic_id, "自己裁定")
    await refused(world, "reason_required", lifecycle.rule_dispute, complaint, world.oversight, traffic_id, "")
    await lifecycle.rule_dispute(
        world.session, world.clock, world.deadlines, complaint.id, world.oversight, traffic_id, "事发路段属交警管辖"
    )
    assert (complaint.status, complaint.owner_agency_id) == (S.ASSIGNED, traffic_id)
    police_id = await world.agency_id("public-security")
    await refused(world, "ruling_binds", lifecycle.transfer, complaint, world.traffic, police_id, "仍不归我管")
    await refused(world, "bad_state", lifecycle.decline_transfer, complaint, world.traffic, "不服裁定")
    await lifecycle.accept(world.session, world.clock, world.deadlines, complaint.id, world.traffic)
    assert complaint.status == S.ACCEPTED
    state = replay(await events_of(world.session, complaint.id))
    assert (state.owner_agency_id, state.transfer_declines, state.status) == (traffic_id, 2, S.ACCEPTED)


async def test_ruling_is_only_for_disputed_complaints(world: World) -> None:
    complaint = await transferred(world)
    traffic_id = await world.agency_id("traffic-police")
    await refused(world, "bad_state", lifecycle.rule_dispute, complaint, world.oversight, traffic_id, "提前裁定")


async def test_withdrawing_during_a_transfer_clears_the_receiver(world: World) -> None:
    complaint = await transferred(world)
    await lifecycle.withdraw(world.session, world.clock, world.deadlines, complaint.id, world.me)
    assert (complaint.status, complaint.transfer_to_agency_id) == (S.WITHDRAWN, None)
    traffic_chat = await outbox_kinds(world.session, complaint.id)
    assert sum(kind == "complaint.withdrawn" for _, kind in traffic_chat) == 3  # sender, receiver, citizen


async def _payloads(world: World, complaint_id: int, kind: str) -> list[dict]:
    from sqlalchemy import select

    from storage.models import OutboxMessage

    rows = await world.session.scalars(
        select(OutboxMessage.payload).where(OutboxMessage.complaint_id == complaint_id, OutboxMessage.kind == kind)
    )
    return [row["params"] for row in rows]


async def test_the_sender_withdraws_a_pending_transfer_and_the_receiver_is_told(world: World) -> None:
    complaint = await transferred(world)
    ack_due, resolve_due = complaint.acknowledge_due_at, complaint.resolve_due_at
    police_id, traffic_id = await world.agency_id("public-security"), await world.agency_id("traffic-police")
    await refused(world, "not_your_agency", lifecycle.withdraw_transfer, complaint, world.traffic)
    await refused(world, "not_your_agency", lifecycle.withdraw_transfer, complaint, world.housing)
    await lifecycle.withdraw_transfer(world.session, world.clock, world.deadlines, complaint.id, world.police)
    assert (complaint.status, complaint.owner_agency_id, complaint.transfer_to_agency_id) == (
        S.ASSIGNED,
        police_id,
        None,
    )
    assert (complaint.acknowledge_due_at, complaint.resolve_due_at, complaint.transfer_declines) == (
        ack_due,
        resolve_due,
        0,
    )
    event = (await events_of(world.session, complaint.id))[-1]
    assert (event.action, event.agency_id, event.from_agency_id, event.to_agency_id) == (
        EventAction.TRANSFER_WITHDRAWN,
        police_id,
        traffic_id,
        police_id,
    )
    assert [p["by_agency"] for p in await _payloads(world, complaint.id, "agency.transfer_withdrawn")]
    state = replay(await events_of(world.session, complaint.id))
    assert (state.status, state.owner_agency_id, state.transfer_to_agency_id) == (S.ASSIGNED, police_id, None)
    await refused(world, "bad_state", lifecycle.withdraw_transfer, complaint, world.police)
    await refused(world, "not_your_agency", lifecycle.accept, complaint, world.traffic)
    await lifecycle.accept(world.session, world.clock, world.deadlines, complaint.id, world.police)
    assert complaint.status == S.ACCEPTED


async def test_the_decline_that_makes_a_dispute_tells_the_sender_it_went_to_oversight(world: World) -> None:
    complaint = await transferred(world)
    await decline(world, complaint)
    traffic_id = await world.agency_id("traffic-police")
    await lifecycle.transfer(
        world.session, world.clock, world.deadlines, complaint.id, world.police, traffic_id, "再转"
    )
    await decline(world, complaint, "依据三定方案不属本单位")
    notices = await _payloads(world, complaint.id, "agency.transfer_declined")
    assert [(p["declines"], p["disputed"]) for p in notices] == [(1, False), (2, True)]


async def test_a_withdrawn_transfer_tells_the_citizen_and_leaves_the_card_and_only_its_receiver_is_told(
    world: World,
) -> None:
    from workflow.card_history import card_history

    complaint = await transferred(world)
    history = await card_history(world.session, complaint)
    police_name = history.transfer_from
    traffic_id = await world.agency_id("traffic-police")
    assert (history.transfer_to_id, history.transfer_reason) == (traffic_id, "属交警职责")
    await lifecycle.withdraw_transfer(world.session, world.clock, world.deadlines, complaint.id, world.police)
    [told] = await _payloads(world, complaint.id, "complaint.transfer_withdrawn")
    assert (told["agency_name"], told["to_agency"]) == (police_name, history.transfer_to)
    assert (await card_history(world.session, complaint)).transfer_reason is None
    assert await lifecycle.withdrawn_transfer_to(world.session, complaint.id, traffic_id) == police_name
    for other in (world.housing.agency_id, world.police.agency_id):
        assert await lifecycle.withdrawn_transfer_to(world.session, complaint.id, other) is None


async def test_a_declined_transfer_leaves_the_card(world: World) -> None:
    from workflow.card_history import card_history

    complaint = await transferred(world)
    await decline(world, complaint)
    history = await card_history(world.session, complaint)
    assert (history.transfer_from, history.transfer_to, history.transfer_reason) == (None, None, None)
