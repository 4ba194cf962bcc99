"""What the re-test of the clerk's bot flow found: a refused extension left the clerk in the reason
step, numbers typed in other forms were not found, the transfer line on a card pointed the wrong way
and outlived a withdrawal, the citizen never heard of a withdrawal, stale 受理 buttons, and typing at
the transfer picker."""

from __future__ import annotations

import pytest

from handlers.agency_callbacks import Card, CardAction
from storage.models import ComplaintStatus
from tests.botapi import ChatUser
from tests.test_agency_bot_support import Office, label, pick_agency
from workflow import lifecycle
from workflow.actors import Actor
from workflow.invites import require_contact

S = ComplaintStatus


def buttons(user: ChatUser) -> list[str]:
    return [b["text"] for row in user.bot_messages()[-1].inline_keyboard or [] for b in row]


async def show(office: Office, user: ChatUser, complaint_id: int) -> str:
    """Press 查看 (by its data) and return the card, as the last message the bot sent."""
    before = len(user.bot_messages())
    await user.press_data(user.bot_messages()[-1].message_id, Card(id=complaint_id, act=CardAction.SHOW).pack())
    await office.harness.settle()
    assert len(user.bot_messages()) > before
    user.seen = user.bot_messages()[-1].message_id
    return user.bot_messages()[-1].text


async def transfer_to_traffic(office: Office, complaint_id: int, reason: str = "涉及交通管理") -> None:
    await show(office, office.police, complaint_id)
    await office.police.press(label("agency.button.transfer"))
    await office.police.wait_for_reply(contains="转交哪个单位")
    await pick_agency(office.police, await office.agency_name("traffic-police"))
    await office.police.wait_for_reply(contains="转办理由")
    await office.police.send(reason)
    await office.police.wait_for_reply(contains="已提出转办")


async def test_a_pending_extension_is_refused_at_the_days_step_and_a_refused_reason_ends_the_step(
    office: Office,
) -> None:
    complaint = await office.file_complaint()
    police = office.police
    await show(office, police, complaint.id)
    await police.press(label("agency.button.accept"))
    await police.wait_for_reply(contains="已受理")
    await show(office, police, complaint.id)
    await police.press(label("agency.button.extend"))
    first_picker = await police.wait_for_reply(contains="需要延期几个工作日")
    await police.press(label("agency.button.days", days=3), message=first_picker)
    await police.wait_for_reply(contains="请写明延期理由")
    # a colleague's request arrives while this clerk is still writing the reason
    async with office.session_factory() as session:
        contact = await require_contact(session, office.police_lead.user.id)
        await lifecycle.request_extension(
            session, office.clock, office.deadlines, complaint.id, Actor.contact(contact), 2, "需现场核查"
        )
        await session.commit()
    await police.send("需要协调多个部门")
    await police.wait_for_reply(contains=label("error.extension_pending"))
    await police.send(complaint.tracking_no)  # the step is over: the number opens the card
    card = await police.wait_for_reply(contains=complaint.tracking_no)
    assert "投诉人" in card.text and label("agency.card.extension_pending") in card.text
    assert label("agency.button.extend") not in buttons(police)
    # the days picker still on screen: refused at once, no reason asked
    before = len(police.bot_messages())
    await police.press(label("agency.button.days", days=3), message=first_picker)
    await police.wait_for_reply(contains=label("error.extension_pending"))
    assert not [m for m in police.bot_messages()[before:] if "请写明延期理由" in m.text]


@pytest.mark.parametrize(
    "typed",
    ["#{n}", "{d}", "＃{n}", "{n8}－{n4}", "受理编号：{n}", " {n} "],
)
async def test_a_clerk_finds_a_card_by_its_number_however_it_is_written(office: Office, typed: str) -> None:
    complaint = await office.file_complaint()
    number = complaint.tracking_no
    eight, four = number.split("-")
    await office.police.send(typed.format(n=number, d=eight + four, n8=eight, n4=four))
    card = await office.police.wait_for_reply(contains=number)
    assert "投诉人" in card.text


async def test_the_transfer_line_points_the_right_way_and_goes_with_a_withdrawal(office: Office) -> None:
    complaint = await office.file_complaint()
    police_name = await office.agency_name("public-security")
    traffic_name = await office.agency_name("traffic-police")
    await transfer_to_traffic(office, complaint.id)
    sender = await show(office, office.police, complaint.id)
    assert label("agency.card.transfer_out", agency=traffic_name, reason="涉及交通管理") in sender
    assert "转来" not in sender
    await office.deliver()
    await office.traffic.wait_for_reply(contains="转交本单位")
    receiver = await show(office, office.traffic, complaint.id)
    assert label("agency.card.transfer_in", agency=police_name, reason="涉及交通管理") in receiver
    assert "转出" not in receiver
    await show(office, office.police, complaint.id)
    await office.police.press(label("agency.button.recall"))
    await office.police.wait_for_reply(contains="已撤回")
    after = await show(office, office.police, complaint.id)
    assert "涉及交通管理" not in after and "转出" not in after and "转来" not in after


async def test_the_citizen_is_told_of_a_withdrawn_transfer_and_reads_it_in_the_timeline(office: Office) -> None:
    complaint = await office.file_complaint()
    police_name = await office.agency_name("public-security")
    traffic_name = await office.agency_name("traffic-police")
    await transfer_to_traffic(office, complaint.id)
    await office.deliver()
    await office.citizen.wait_for_reply(contains=f"转交{traffic_name}")
    await show(office, office.police, complaint.id)
    await office.police.press(label("agency.button.recall"))
    await office.police.wait_for_reply(contains="已撤回")
    await office.deliver()
    told = await office.citizen.wait_for_reply(contains="不再转交")
    assert told.text == label(
        "notice.complaint.transfer_withdrawn",
        tracking_no=complaint.tracking_no,
        to_agency=traffic_name,
        agency_name=police_name,
    )
    await office.citizen.send(f"/status {complaint.tracking_no}")
    status = await office.citizen.wait_for_reply(contains="办理经过")
    last = status.text.strip().splitlines()[-1]
    assert last.endswith(label("status.event.transfer_withdrawn", agency=police_name, from_agency=traffic_name))


async def test_accept_on_a_withdrawn_transfer_says_so_and_only_to_its_receiver(office: Office) -> None:
    complaint = await office.file_complaint()
    await transfer_to_traffic(office, complaint.id)
    await office.deliver()
    notice = await office.traffic.wait_for_reply(contains="转交本单位")
    await show(office, office.police, complaint.id)
    await office.police.press(label("agency.button.recall"))
    await office.police.wait_for_reply(contains="已撤回")
    await office.traffic.press(label("agency.button.accept"), message=notice)
    told = await office.traffic.wait_for_reply(contains=complaint.tracking_no)
    assert "撤回" in told.text and told.text != label("error.not_found")
    accept = Card(id=complaint.id, act=CardAction.ACCEPT).pack()
    await office.housing.send("/inbox")
    await office.housing.wait_for_reply()
    await office.housing.press_data(office.housing.bot_messages()[-1].message_id, accept)
    assert (await office.housing.wait_for_reply()).text == label("error.not_found")
    assert (await office.complaint(complaint.id)).status == S.ASSIGNED


async def test_after_accept_the_pressed_message_loses_its_accept_buttons(office: Office) -> None:
    complaint = await office.file_complaint()
    await office.deliver()
    notice = await office.police.wait_for_reply(contains="新投诉")
    await office.police.press(label("agency.button.accept"), message=notice)
    await office.police.wait_for_reply(contains="已受理")
    await office.harness.settle()
    pressed = next(m for m in office.police.bot_messages() if m.message_id == notice.message_id)
    left = [b["text"] for row in pressed.inline_keyboard or [] for b in row]
    assert label("agency.button.accept") not in left and label("agency.button.transfer") not in left
    assert (await office.complaint(complaint.id)).status == S.ACCEPTED
    # and the card as it is now comes under it: 办理中, with what to do next
    card = office.police.bot_messages()[-1]
    assert "办理中" in card.text and "待受理" not in card.text
    assert label("agency.button.resolve") in [b["text"] for row in card.inline_keyboard or [] for b in row]


async def test_a_name_typed_at_the_transfer_picker_searches_the_agencies(office: Office) -> None:
    complaint = await office.file_complaint()
    police_name = await office.agency_name("public-security")
    traffic_name = await office.agency_name("traffic-police")
    await show(office, office.police, complaint.id)
    await office.police.press(label("agency.button.transfer"))
    await office.police.wait_for_reply(contains="转交哪个单位")
    await office.police.send("交通")
    found = await office.police.wait_for_reply(contains=complaint.tracking_no)
    names = buttons(office.police)
    assert traffic_name in names and police_name not in names and "市效能办" not in names
    assert "/complain" not in found.text
    await office.police.send("效能办")  # the oversight office is never a transfer target
    nothing = await office.police.wait_for_reply(contains="效能办")
    assert "/complain" not in nothing.text and "市效能办" not in buttons(office.police)
    await office.police.press(traffic_name, message=found)
    await office.police.wait_for_reply(contains="转办理由")
    await show(office, office.police, complaint.id)
    await office.police.press(label("agency.button.transfer"))
    await office.police.wait_for_reply(contains="转交哪个单位")
    await office.police.send(f"#{complaint.tracking_no}")  # a number is no agency's name: the card
    assert "投诉人" in (await office.police.wait_for_reply(contains=complaint.tracking_no)).text
