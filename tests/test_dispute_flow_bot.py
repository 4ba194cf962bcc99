"""A transfer dispute as the agencies and the office live it in the bot: the second transfer warns
the receiver that declined once, the decline that goes to the office says so, the ruling picker puts
the parties first, and a ruling ends the other agencies' part without a card to open. End to end over
the Bot API stand-in."""

from __future__ import annotations

from datetime import timedelta

from storage.models import Complaint, ComplaintStatus
from tests.test_agency_bot_support import Office, label, press_and_reply
from tests.test_oversight_bot import dispute
from tests.test_stale_pickers import act_as
from web.sandbox.world import ChatMessage
from workflow import lifecycle
from workflow.invites import require_contact

S = ComplaintStatus
HISTORY = "户籍业务属公安局户政部门职责"  # the first decline's basis, in the dispute's history


def buttons(message: ChatMessage) -> list[str]:
    return [button["text"] for row in message.inline_keyboard or [] for button in row]


async def transfer_to_traffic(office: Office, complaint: Complaint, reason: str) -> ChatMessage:
    async with office.session_factory() as session:
        target = (await require_contact(session, office.traffic.user.id)).agency_id
        police = await act_as(office, office.police)
        await lifecycle.transfer(session, office.clock, office.deadlines, complaint.id, police, target, reason)
        await session.commit()
    office.clock.advance(timedelta(minutes=10))
    await office.deliver()
    return await office.traffic.wait_for_reply(contains=reason)


async def decline(office: Office, notice: ChatMessage, basis: str) -> str:
    await office.traffic.press(label("agency.button.decline"), message=notice)
    await office.traffic.wait_for_reply(contains="依据")
    await office.traffic.send(basis)
    return (await office.traffic.wait_for_reply(contains="已退回")).text


async def test_a_second_transfer_warns_the_decliner_and_its_second_decline_is_told_it_went_to_the_office(
    office: Office,
) -> None:
    complaint = await office.file_complaint()
    first = await transfer_to_traffic(office, complaint, "涉及交通管理")
    assert "再次" not in first.text
    done = await decline(office, first, HISTORY)
    assert "效能办" not in done

    traffic = await office.agency_name("traffic-police")
    await office.police.send(f"/status {complaint.tracking_no}")
    await office.police.wait_for_reply(contains="待受理")
    await press_and_reply(office.police, label("agency.button.transfer"), contains="转交哪个单位")
    await office.police.send("交警")
    found = await office.police.wait_for_reply(contains="找到以下单位")
    assert traffic + label("agency.transfer.declined_mark") in buttons(found)  # it declined this one already
    await office.police.send("/cancel")

    second = await transfer_to_traffic(office, complaint, "事发路段由交警支队管理")
    assert "再次" in second.text and "本单位已退回过一次" in second.text
    assert "转效能办审定" in second.text  # what another 退回 leads to
    done = await decline(office, second, "仍属户政职责，见《户口登记条例》第三条")
    assert "转效能办审定" in done and "可能仍是本单位" in done
    assert (await office.complaint(complaint.id)).status == S.DISPUTED


async def test_a_ruling_notice_to_an_agency_not_named_offers_no_card(office: Office) -> None:
    complaint = await office.file_complaint()
    await dispute(office, complaint)
    async with office.session_factory() as session:
        police = (await require_contact(session, office.police.user.id)).agency_id
        oversight = await act_as(office, office.overseer)
        await lifecycle.rule_dispute(session, office.clock, office.deadlines, complaint.id, oversight, police, "首问")
        await session.commit()
    await office.deliver()
    elsewhere = await office.traffic.wait_for_reply(contains="无需办理")
    assert buttons(elsewhere) == []  # 查看 would only find it is another unit's now
    named = await office.police.wait_for_reply(contains="由本单位办理")
    assert label("agency.button.accept") in buttons(named)


async def test_the_ruling_picker_offers_the_parties_first_and_a_search_shows_the_dispute_once(
    office: Office,
) -> None:
    complaint = await office.file_complaint()
    await dispute(office, complaint)
    police, traffic = await office.agency_name("public-security"), await office.agency_name("traffic-police")
    await office.overseer.send("/pending")
    request = await office.overseer.wait_for_reply(contains="转办争议")
    await office.overseer.press(label("oversight.button.rule"), message=request)
    picker = await office.overseer.wait_for_reply(contains="审定投诉")
    assert HISTORY in picker.text
    assert buttons(picker)[:2] == [
        police + label("oversight.rule.owner_mark"),
        traffic + label("oversight.rule.declined_mark"),
    ]

    await office.overseer.send("交警")
    found = await office.overseer.wait_for_reply(contains="找到以下单位")
    assert HISTORY not in found.text  # shown once, above the first picker
    await office.overseer.press(traffic + label("oversight.rule.declined_mark"), message=found)
    await office.overseer.wait_for_reply(contains="审定理由")
