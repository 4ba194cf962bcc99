"""What the office's decision messages read from the events: the outcome of a question and who gave
it, both sides of a dispute; and the one agency search both pickers use."""

from __future__ import annotations

from datetime import timedelta

from storage.models import EventAction
from tests.factories import World
from workflow import lifecycle
from workflow.decisions import decision_outcome, declined_transfers
from workflow.transfers import search_transfer_targets
from workflow.transitions import Action


async def accepted(world: World) -> int:
    complaint = await world.complaint()
    await lifecycle.accept(world.session, world.clock, world.deadlines, complaint.id, world.police)
    return complaint.id


async def test_an_extension_is_open_until_decided_and_a_new_request_opens_it_again(world: World) -> None:
    s, c, d = world.session, world.clock, world.deadlines
    complaint_id = await accepted(world)
    await lifecycle.request_extension(s, c, d, complaint_id, world.police, 2, "等待鉴定")
    assert await decision_outcome(s, complaint_id, Action.DECIDE_EXTENSION) is None

    c.advance(timedelta(hours=1))
    await lifecycle.decide_extension(s, c, d, complaint_id, world.oversight, True)
    outcome = await decision_outcome(s, complaint_id, Action.DECIDE_EXTENSION)
    assert outcome is not None
    assert (outcome.action, outcome.by, outcome.at) == (
        EventAction.EXTENSION_APPROVED,
        "oversight-office-oversight",
        c.now(),
    )

    await lifecycle.request_extension(s, c, d, complaint_id, world.police, 1, "还需一天")
    assert await decision_outcome(s, complaint_id, Action.DECIDE_EXTENSION) is None  # the earlier answer was to another

    await lifecycle.resolve(s, c, d, complaint_id, world.police, "已办结")
    moot = await decision_outcome(s, complaint_id, Action.DECIDE_EXTENSION)
    assert moot is not None and moot.action == EventAction.RESOLVED and moot.by == "public-security-clerk"


async def test_the_flag_outcome_is_its_latest_change(world: World) -> None:
    s, c, d = world.session, world.clock, world.deadlines
    complaint = await world.complaint()
    assert await decision_outcome(s, complaint.id, Action.SET_MAJOR) is None
    await lifecycle.set_major(s, c, d, complaint.id, world.oversight, "群众反映强烈")
    await lifecycle.clear_major(s, c, d, complaint.id, world.oversight, "已整改")
    outcome = await decision_outcome(s, complaint.id, Action.SET_MAJOR)
    assert outcome is not None and outcome.action == EventAction.MAJOR_CLEARED


async def test_a_dispute_has_both_sides_of_each_declined_transfer_and_its_ruling_names_the_owner(
    world: World,
) -> None:
    s, c, d = world.session, world.clock, world.deadlines
    complaint = await world.complaint()
    traffic = await world.agency_id("traffic-police")
    housing = await world.agency_id("housing-construction")
    await lifecycle.transfer(s, c, d, complaint.id, world.police, housing, "涉及房屋")
    await lifecycle.withdraw_transfer(s, c, d, complaint.id, world.police)  # taken back: no side of the dispute
    for basis in ("不属交警职责", "仍不属交警职责"):
        await lifecycle.transfer(s, c, d, complaint.id, world.police, traffic, "涉及交通")
        c.advance(timedelta(hours=1))
        await lifecycle.decline_transfer(s, c, d, complaint.id, world.traffic, basis)
    assert await decision_outcome(s, complaint.id, Action.RULE) is None  # the first decline asked nothing

    rounds = await declined_transfers(s, complaint.id)
    assert [(r.sent.agency, r.sent.by, r.sent.reason) for r in rounds] == [
        ("市公安局", "public-security-clerk", "涉及交通"),
    ] * 2
    assert [(r.to_agency, r.declined.by, r.declined.reason) for r in rounds] == [
        ("市公安局交通警察支队", "traffic-police-clerk", "不属交警职责"),
        ("市公安局交通警察支队", "traffic-police-clerk", "仍不属交警职责"),
    ]
    assert rounds[0].declined.at - rounds[0].sent.at == timedelta(hours=1)

    await lifecycle.rule_dispute(s, c, d, complaint.id, world.oversight, traffic, "窗口由交警支队负责")
    outcome = await decision_outcome(s, complaint.id, Action.RULE)
    assert outcome is not None and outcome.agency == "市公安局交通警察支队"


async def test_the_picker_search_finds_aliases_in_either_script_among_transfer_targets_only(world: World) -> None:
    s = world.session
    police = await world.agency_id("public-security")
    assert [a.code for a in await search_transfer_targets(s, "交警")] == ["traffic-police"]
    assert [a.code for a in await search_transfer_targets(s, "交警支隊")] == ["traffic-police"]
    assert "public-security" not in [a.code for a in await search_transfer_targets(s, "公安局", exclude=police)]
    assert await search_transfer_targets(s, "效能办") == []  # the office rules; it is no target
