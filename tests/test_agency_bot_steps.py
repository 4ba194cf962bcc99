"""The clerk's typed steps, as a tester found them: a reply preview left on screen by 重写 or 返回 sent
the newer text, a one-character 退回 basis was taken, and the card 退回 was pressed on kept 受理 / 退回."""

from __future__ import annotations

import pytest

from handlers.agency_callbacks import Card, CardAction, SendReply
from storage.models import ComplaintStatus
from tests.botapi import ChatMessage, ChatUser
from tests.test_agency_bot_support import Office, label, pick_agency
from workflow.transfers import MIN_BASIS_CHARS

S = ComplaintStatus


def current(user: ChatUser, message: ChatMessage) -> ChatMessage:
    """The message as it is now (edits included)."""
    return next(m for m in user.bot_messages() if m.message_id == message.message_id)


def labels(message: ChatMessage) -> list[str]:
    return [b["text"] for row in message.inline_keyboard or [] for b in row]


async def accepted_by_police(office: Office) -> int:
    complaint = await office.file_complaint()
    await office.deliver()
    notice = await office.police.wait_for_reply(contains="新投诉")
    await office.police.press(label("agency.button.accept"), message=notice)
    await office.police.wait_for_reply(contains="办理中")  # the card as it is now
    return complaint.id


async def transferred_to_traffic(office: Office) -> tuple[int, str]:
    complaint = await office.file_complaint()
    police = office.police
    await police.send(complaint.tracking_no)
    await police.wait_for_reply(contains="投诉人")
    await police.press(label("agency.button.transfer"))
    await police.wait_for_reply(contains="转交哪个单位")
    await pick_agency(police, await office.agency_name("traffic-police"))
    await police.wait_for_reply(contains="转办理由")
    await police.send("涉及交通管理，属交警支队职责")
    await police.wait_for_reply(contains="已提出转办")
    await office.deliver()
    await office.traffic.wait_for_reply(contains="转交本单位")
    return complaint.id, complaint.tracking_no


@pytest.mark.parametrize("leave_by", ["agency.button.rewrite", "agency.button.back"])
async def test_a_preview_left_by_rewrite_or_back_never_sends_the_newer_text(office: Office, leave_by: str) -> None:
    police = office.police
    complaint_id = await accepted_by_police(office)
    await police.press(label("agency.button.resolve"))
    await police.wait_for_reply(contains="请输入给群众的答复")
    await police.send("答复A")
    first = await police.wait_for_reply(contains="答复A")
    await police.press(label(leave_by), message=first)
    if leave_by == "agency.button.back":  # the card, and 回复并办结 from it again
        await police.wait_for_reply(contains="办理中")
        await police.press(label("agency.button.resolve"))
    await police.wait_for_reply(contains="请输入给群众的答复")
    await police.send("答复B")
    second = await police.wait_for_reply(contains="答复B")
    await office.harness.settle()
    assert not current(police, first).inline_keyboard  # spent: its 发送并办结 would send 答复B

    await police.press_data(first.message_id, SendReply(id=complaint_id).pack())  # pressed before it was spent
    await office.harness.settle()
    assert police.answers()[-1] == label("hint.stale_button")
    assert (await office.complaint(complaint_id)).status == S.ACCEPTED
    assert "答复B" not in current(police, first).text

    await police.press(label("agency.button.send_reply"), message=second)
    await police.wait_for_reply(contains="已办结")
    resolved = await office.complaint(complaint_id)
    assert (resolved.status, resolved.reply_text) == (S.RESOLVED, "答复B")


async def test_a_decline_basis_too_short_is_asked_again(office: Office) -> None:
    complaint_id, _ = await transferred_to_traffic(office)
    traffic = office.traffic
    await traffic.press(label("agency.button.decline"))
    await traffic.wait_for_reply(contains="依据")
    await traffic.send(" 短 ")
    again = await traffic.wait_for_reply()
    assert again.text == label("agency.decline.too_short", minimum=MIN_BASIS_CHARS)
    assert (await office.complaint(complaint_id)).status == S.TRANSFERRING
    await traffic.send("户籍业务属公安局户政部门职责")  # still the basis step
    await traffic.wait_for_reply(contains="已退回")
    assert (await office.complaint(complaint_id)).status == S.ASSIGNED


async def test_after_decline_the_card_keeps_no_actions_and_a_stale_press_is_refused_politely(office: Office) -> None:
    complaint_id, number = await transferred_to_traffic(office)
    traffic = office.traffic
    await traffic.press(label("agency.button.show", tracking_no=number))
    card = await traffic.wait_for_reply(contains="投诉人")
    await traffic.send(number)  # the same card opened twice
    other = await traffic.wait_for_reply(contains="投诉人")
    await traffic.press(label("agency.button.decline"), message=card)
    await traffic.wait_for_reply(contains="依据")
    await traffic.send("户籍业务属公安局户政部门职责")
    await traffic.wait_for_reply(contains="已退回")
    await office.harness.settle()
    left = labels(current(traffic, card))
    assert label("agency.button.accept") not in left and label("agency.button.decline") not in left

    sent = len(traffic.bot_messages())
    for act in (CardAction.ACCEPT, CardAction.DECLINE):
        await traffic.press(label(f"agency.button.{act}"), message=other)  # a copy left on screen
        await office.harness.settle()
        assert traffic.answers()[-1] == label("hint.stale_button")
    assert len(traffic.bot_messages()) == sent  # no "not found … 请核对" message
    assert (await office.complaint(complaint_id)).status == S.ASSIGNED

    # anyone else still learns nothing
    await office.housing.send("/inbox")
    await office.housing.wait_for_reply()
    accept = Card(id=complaint_id, act=CardAction.ACCEPT).pack()
    await office.housing.press_data(office.housing.bot_messages()[-1].message_id, accept)
    assert (await office.housing.wait_for_reply()).text == label("error.not_found")
