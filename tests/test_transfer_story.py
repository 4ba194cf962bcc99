"""首问负责制 told to everyone it concerns: the citizen hears of a decline (退回), of the dispute going to
the office (提请审定) and of its ruling (审定), once each and in their own words; both agencies of a
dispute hear the ruling; every notice kind has one text, rendered one way."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from handlers.agency_notices import render_agency_notice
from handlers.citizen_notices import render_citizen_notice
from handlers.citizen_views import status_view
from handlers.notices import render_notice
from handlers.texts import load_catalogue
from storage.models import Complaint, OutboxMessage
from tests.factories import ZONE, World, agency
from tests.test_agency_bot_support import HANS, Office
from workflow import lifecycle
from workflow.actors import Actor
from workflow.citizen_view import complaint_by_id
from workflow.contacts import agency_chat_ids
from workflow.invites import require_contact
from workflow.notifications import Notice

TRANSFER_REASON = "属交警职责"
BASIS = "依据三定方案不属本单位职责"
RULING_REASON = "事发路段属交警管辖"


async def _notices(world: World, complaint_id: int, kind: Notice) -> list[OutboxMessage]:
    rows = await world.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.complaint_id == complaint_id, OutboxMessage.kind == kind.value)
        .order_by(OutboxMessage.id)
    )
    return list(rows)


async def _citizen_notices(world: World, complaint_id: int) -> list[tuple[str, dict]]:
    rows = await world.session.scalars(
        select(OutboxMessage)
        .where(
            OutboxMessage.complaint_id == complaint_id,
            OutboxMessage.chat_id == world.citizen.telegram_user_id,
        )
        .order_by(OutboxMessage.id)
    )
    return [(row.kind, row.payload["params"]) for row in rows]


async def _transfer(world: World, complaint: Complaint, to: str = "traffic-police") -> None:
    await lifecycle.transfer(
        world.session,
        world.clock,
        world.deadlines,
        complaint.id,
        world.police,
        await world.agency_id(to),
        TRANSFER_REASON,
    )


async def _decline(world: World, complaint: Complaint, actor: Actor | None = None) -> None:
    world.clock.advance(timedelta(minutes=5))
    await lifecycle.decline_transfer(
        world.session, world.clock, world.deadlines, complaint.id, actor or world.traffic, BASIS
    )


async def _disputed(world: World) -> Complaint:
    """Police → traffic, declined; police → traffic again, declined: the office must rule."""
    complaint = await world.complaint()
    await _transfer(world, complaint)
    await _decline(world, complaint)
    await _transfer(world, complaint)
    await _decline(world, complaint)
    return complaint


async def _rule(world: World, complaint: Complaint, code: str) -> None:
    world.clock.advance(timedelta(minutes=5))
    await lifecycle.rule_dispute(
        world.session,
        world.clock,
        world.deadlines,
        complaint.id,
        world.oversight,
        await world.agency_id(code),
        RULING_REASON,
    )


def _citizen_text(kind: str, params: dict) -> str:
    rendered = render_citizen_notice(kind, params, HANS)
    assert rendered is not None, kind
    return rendered[0]


async def test_a_declined_transfer_tells_the_citizen_it_stays_with_the_owner_without_the_basis(
    world: World,
) -> None:
    complaint = await world.complaint()
    await _transfer(world, complaint)
    await _decline(world, complaint)
    kinds = [kind for kind, _ in await _citizen_notices(world, complaint.id)]
    assert kinds.count(Notice.TRANSFER_DECLINED_FOR_CITIZEN.value) == 1
    [(_, params)] = [
        (k, p) for k, p in await _citizen_notices(world, complaint.id) if k == Notice.TRANSFER_DECLINED_FOR_CITIZEN
    ]
    text = _citizen_text(Notice.TRANSFER_DECLINED_FOR_CITIZEN, params)
    assert "市公安局交通警察支队认为不属于其职责，已退回" in text and "市公安局继续办理" in text
    assert BASIS not in text and "效能办" not in text and "兜底" not in text and "群众" not in text


async def test_the_decline_that_makes_a_dispute_tells_the_citizen_once_that_the_office_will_rule(
    world: World,
) -> None:
    complaint = await _disputed(world)
    declined = [p for k, p in await _citizen_notices(world, complaint.id) if k == Notice.TRANSFER_DECLINED_FOR_CITIZEN]
    assert [p["disputed"] for p in declined] == [False, True]
    text = _citizen_text(Notice.TRANSFER_DECLINED_FOR_CITIZEN, declined[-1])
    assert "认为不属于其职责，已退回" in text and "决定由哪个单位办理" in text
    assert "继续办理" not in text and BASIS not in text


@pytest.mark.parametrize("ruled_to", ["public-security", "traffic-police"])
async def test_the_ruling_tells_the_citizen_which_agency_handles_it(world: World, ruled_to: str) -> None:
    complaint = await _disputed(world)
    await _rule(world, complaint, ruled_to)
    [ruled] = [p for k, p in await _citizen_notices(world, complaint.id) if k == Notice.RULED_FOR_CITIZEN]
    name = (await agency(world.session, ruled_to)).name
    text = _citizen_text(Notice.RULED_FOR_CITIZEN, ruled)
    assert f"部门）决定：您的投诉 <b>{complaint.tracking_no}</b> 由{name}办理" in text
    assert RULING_REASON not in text


@pytest.mark.parametrize(
    ("ruled_to", "handling", "not_handling"),
    [
        ("public-security", "public-security", ["traffic-police"]),
        ("traffic-police", "traffic-police", ["public-security"]),
        ("housing-construction", "housing-construction", ["public-security", "traffic-police"]),
    ],
)
async def test_every_agency_of_the_dispute_is_told_the_ruling(
    world: World, ruled_to: str, handling: str, not_handling: list[str]
) -> None:
    complaint = await _disputed(world)
    await _rule(world, complaint, ruled_to)
    told = {row.chat_id: row.payload["params"] for row in await _notices(world, complaint.id, Notice.RULED)}
    expected = {handling: True} | dict.fromkeys(not_handling, False)
    for code, handles in expected.items():
        for chat_id in await agency_chat_ids(world.session, await world.agency_id(code)):
            assert told.pop(chat_id)["handles"] is handles, code
    assert told == {}  # nobody else: not the housing clerk unless it was named
    base = {"complaint_id": 7, "tracking_no": "x", "owner_agency": "甲"}
    named = render_agency_notice(Notice.RULED, base | {"handles": True}, HANS)
    other = render_agency_notice(Notice.RULED, base | {"handles": False}, HANS)
    assert named is not None and other is not None and named[1] is not None
    assert "由本单位办理" in named[0] and "无需办理" in other[0] and "由甲办理" in other[0]
    accept = HANS.plain("agency.button.accept")
    assert accept in [b.text for row in named[1].inline_keyboard for b in row]
    assert other[1] is None  # its part ends: not even 查看, which would find another unit's complaint


async def test_a_ruling_reaches_every_agency_that_declined_the_complaint(world: World) -> None:
    """Each decliner is a party the ruling picker shows first: each hears how the office ruled."""
    complaint = await world.complaint()
    await _transfer(world, complaint, "housing-construction")
    await _decline(world, complaint, world.housing)
    await _transfer(world, complaint)
    await _decline(world, complaint)
    await _rule(world, complaint, "traffic-police")
    told = {row.chat_id: row.payload["params"]["handles"] for row in await _notices(world, complaint.id, Notice.RULED)}
    expected = {"traffic-police": True, "public-security": False, "housing-construction": False}
    for code, handles in expected.items():
        for chat_id in await agency_chat_ids(world.session, await world.agency_id(code)):
            assert told.pop(chat_id) is handles, code
    assert told == {}


async def test_the_timeline_names_each_step_once_and_keeps_the_agencies_reasons(world: World) -> None:
    complaint = await world.complaint()
    await _transfer(world, complaint, "housing-construction")
    world.clock.advance(timedelta(minutes=5))
    await lifecycle.withdraw_transfer(world.session, world.clock, world.deadlines, complaint.id, world.police)
    world.clock.advance(timedelta(minutes=5))
    await _transfer(world, complaint)
    await _decline(world, complaint)
    await _transfer(world, complaint)
    await _decline(world, complaint)
    await _rule(world, complaint, "traffic-police")
    await world.session.commit()

    view = await complaint_by_id(world.session, world.citizen, complaint.id)
    text, _ = status_view(view, 0, HANS, world.deadlines, world.clock.now())
    steps = text.split("办理经过</b>\n", 1)[1].splitlines()[2:]  # after 登记 and the first owner
    words = [step.split("　", 1)[1].split("：", 1)[0] for step in steps]
    assert words == ["转办", "撤回转办", "转办", "退回", "转办", "退回", "请监督部门决定", "监督部门决定"]
    assert "不再转交市住房和城乡建设局，仍由市公安局办理" in steps[1]
    assert "市公安局交通警察支队认为不属于其职责" in steps[3]
    assert steps[-1].endswith("监督部门决定：由市公安局交通警察支队办理")
    for reason in (TRANSFER_REASON, BASIS, RULING_REASON):
        assert reason not in text


def test_every_notice_kind_has_one_text_in_one_family() -> None:
    catalogue = load_catalogue()
    assert not [key for key in catalogue if key.startswith(("agency.notice.", "oversight.notice."))]
    params = {"complaint_id": 7, "tracking_no": "20261203-0001", "major": True, "clock": "resolve", "due_text": "今天"}
    for kind in Notice:
        if kind.value.startswith(("agency.", "oversight.")):
            rendered = render_agency_notice(kind.value, params, HANS)
            assert rendered is not None and rendered[0] == render_notice(kind.value, params, HANS, ZONE), kind
    overdue = render_notice(Notice.OVERDUE, params, HANS, ZONE)
    assert "【挂牌督办】" in overdue and "办结期限" in overdue and "—" not in overdue


async def test_the_citizen_and_both_agencies_hear_the_dispute_through_the_bot(office: Office) -> None:
    complaint = await office.file_complaint()
    police_name = await office.agency_name("public-security")
    traffic_name = await office.agency_name("traffic-police")
    async with office.session_factory() as session:
        police = Actor.contact(await require_contact(session, office.police.user.id))
        traffic = Actor.contact(await require_contact(session, office.traffic.user.id))
        overseer = Actor.contact(await require_contact(session, office.overseer.user.id))
        traffic_id = traffic.agency_id
        assert traffic_id is not None and police.agency_id is not None
        for _ in range(2):
            await lifecycle.transfer(
                session, office.clock, office.deadlines, complaint.id, police, traffic_id, TRANSFER_REASON
            )
            await lifecycle.decline_transfer(session, office.clock, office.deadlines, complaint.id, traffic, BASIS)
        await lifecycle.rule_dispute(
            session, office.clock, office.deadlines, complaint.id, overseer, police.agency_id, RULING_REASON
        )
        await session.commit()
    await office.deliver()
    told = "\n".join(m.text for m in office.citizen.bot_messages())
    assert told.count(f"{traffic_name}认为不属于其职责") == 2
    assert told.count("决定由哪个单位办理，结果会通知您") == 1
    assert told.count(f"部门）决定：您的投诉 {complaint.tracking_no} 由{police_name}办理") == 1
    assert BASIS not in told and RULING_REASON not in told
    await office.traffic.wait_for_reply(contains="无需办理")
    await office.police.wait_for_reply(contains="由本单位办理")
