"""A picker left on screen after its question is gone (a ruling, a transfer made meanwhile) is refused
at the press, saying where the complaint stands, before any reason is asked for; and a refusal for a
complaint's state says that state in words. End to end over the Bot API stand-in."""

from __future__ import annotations

from storage.models import Complaint, ComplaintStatus
from tests.botapi import ChatUser
from tests.test_agency_bot_support import HANS, Office, label, press_and_reply
from tests.test_oversight_bot import dispute
from web.sandbox.world import ChatMessage
from workflow import lifecycle
from workflow.actors import Actor
from workflow.invites import require_contact

S = ComplaintStatus


def first_agency_button(picker: ChatMessage) -> str:
    """The callback data of the picker's first agency."""
    return (picker.inline_keyboard or [])[0][0]["callback_data"]


def newer(user: ChatUser, than: int) -> list[str]:
    return [m.text for m in user.bot_messages() if m.message_id > than]


async def act_as(office: Office, user: ChatUser) -> Actor:
    async with office.session_factory() as session:
        return Actor.contact(await require_contact(session, user.user.id))


async def test_an_old_ruling_picker_is_refused_at_the_press_saying_who_was_named(office: Office) -> None:
    complaint = await office.file_complaint()
    await dispute(office, complaint)
    police = await office.agency_name("public-security")
    await office.overseer.send("/pending")
    request = await office.overseer.wait_for_reply(contains="转办争议")
    await office.overseer.press(label("oversight.button.rule"), message=request)
    picker = await office.overseer.wait_for_reply(contains="审定投诉")
    pick = first_agency_button(picker)

    colleague = office.harness.user(name="周督查")  # rules meanwhile, from their own copy
    await office.bind(colleague, "oversight-office", "oversight")
    oversight, owner = await act_as(office, colleague), (await office.complaint(complaint.id)).owner_agency_id
    async with office.session_factory() as session:
        assert owner is not None
        await lifecycle.rule_dispute(session, office.clock, office.deadlines, complaint.id, oversight, owner, "首问")
        await session.commit()
    last = office.overseer.bot_messages()[-1].message_id

    await office.overseer.press_data(picker.message_id, pick)
    refusal = await office.overseer.wait_for_reply(contains="不能再审定")
    assert f"已经效能办审定由{police}办理" in refusal.text
    assert not any("审定理由" in text for text in newer(office.overseer, last))
    await office.harness.settle()
    assert picker.inline_keyboard in (None, [])  # the picker is spent
    await office.overseer.send("事发路段的窗口由交警支队负责")  # not taken as a reason now
    await office.harness.settle()
    assert not any("已审定" in text for text in newer(office.overseer, last))
    assert (await office.complaint(complaint.id)).owner_agency_id == owner


async def test_an_old_transfer_picker_is_refused_at_the_press_saying_where_the_complaint_went(
    office: Office,
) -> None:
    complaint = await office.file_complaint()
    await office.deliver()
    await office.police.wait_for_reply(contains="新投诉")
    await press_and_reply(office.police, label("agency.button.transfer"), contains="转交哪个单位")
    picker = office.police.bot_messages()[-1]
    pick = first_agency_button(picker)
    police, traffic = await office.agency_name("public-security"), await office.agency_name("traffic-police")
    async with office.session_factory() as session:  # a colleague's transfer, meanwhile
        target = (await require_contact(session, office.traffic.user.id)).agency_id
        await lifecycle.transfer(
            session, office.clock, office.deadlines, complaint.id, await act_as(office, office.police), target, "交通"
        )
        await session.commit()
    last = office.police.bot_messages()[-1].message_id

    await office.police.press_data(picker.message_id, pick)
    refusal = await office.police.wait_for_reply(contains="不能再转办")
    assert f"正由{police}转交{traffic}，等待对方答复" in refusal.text
    assert not any("转办理由" in text for text in newer(office.police, last))
    assert (await office.complaint(complaint.id)).status == S.TRANSFERRING


async def transferred_card(office: Office, complaint: Complaint) -> ChatMessage:
    async with office.session_factory() as session:
        target = (await require_contact(session, office.traffic.user.id)).agency_id
        await lifecycle.transfer(
            session, office.clock, office.deadlines, complaint.id, await act_as(office, office.police), target, "交通"
        )
        await session.commit()
    await office.police.send(f"/status {complaint.tracking_no}")
    return await office.police.wait_for_reply(contains="转出")


async def test_a_second_recall_says_the_complaint_is_back_with_the_sender(office: Office) -> None:
    complaint = await office.file_complaint()
    card = await transferred_card(office, complaint)
    recall = next(b["callback_data"] for row in card.inline_keyboard or [] for b in row if "撤回转办" in b["text"])
    police = await office.agency_name("public-security")
    await office.police.press_data(card.message_id, recall)
    await office.police.wait_for_reply(contains="已撤回")

    await office.police.press_data(card.message_id, recall)  # the old card's button, again
    refusal = await office.police.wait_for_reply(contains="不能再撤回转办")
    assert f"现由{police}负责，尚未受理" in refusal.text
    assert HANS.plain("error.bad_state") not in refusal.text
