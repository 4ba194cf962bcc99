"""A transfer's notice goes to every contact of the receiving agency; once one of them answers it (or
the sender takes it back), every copy loses 受理 / 退回 at once. End to end over the Bot API stand-in."""

from __future__ import annotations

from handlers.agency_callbacks import Card, CardAction
from storage.models import Complaint
from tests.test_agency_bot_support import HANS, Office, press_and_reply
from web.sandbox.world import ChatMessage
from workflow import lifecycle
from workflow.actors import Actor
from workflow.invites import require_contact


def buttons(message: ChatMessage) -> list[str]:
    return [button["text"] for row in message.inline_keyboard or [] for button in row]


async def transfer_to_traffic(office: Office, complaint: Complaint) -> None:
    async with office.session_factory() as session:
        police = Actor.contact(await require_contact(session, office.police.user.id))
        traffic = Actor.contact(await require_contact(session, office.traffic.user.id))
        assert traffic.agency_id is not None
        await lifecycle.transfer(
            session, office.clock, office.deadlines, complaint.id, police, traffic.agency_id, "涉及交通管理"
        )
        await session.commit()
    await office.deliver()


async def two_copies(office: Office) -> tuple[Complaint, ChatMessage, ChatMessage]:
    """A complaint transferred to the traffic police, whose two clerks each got the notice."""
    colleague = office.harness.user(name="周交警")
    await office.bind(colleague, "traffic-police", "clerk")
    complaint = await office.file_complaint()
    await transfer_to_traffic(office, complaint)
    mine = await office.traffic.wait_for_reply(contains="转交本单位办理")
    theirs = await colleague.wait_for_reply(contains="转交本单位办理")
    assert HANS.plain("agency.button.decline") in buttons(theirs)
    return complaint, mine, theirs


async def test_a_transfer_accepted_by_one_clerk_leaves_the_colleagues_copy_with_only_show(office: Office) -> None:
    complaint, mine, theirs = await two_copies(office)
    await office.traffic.press(HANS.plain("agency.button.accept"), message=mine)
    await office.traffic.wait_for_reply(contains="已受理")
    await office.harness.settle()
    show = HANS.plain("agency.button.show", tracking_no=complaint.tracking_no)
    assert buttons(mine) == [show]
    assert buttons(theirs) == [show]


async def test_a_transfer_declined_by_one_clerk_leaves_no_buttons_on_any_copy(office: Office) -> None:
    _, mine, theirs = await two_copies(office)
    await press_and_reply(office.traffic, HANS.plain("agency.button.decline"), contains="退回")
    await office.traffic.send("户籍业务属公安局户政部门职责")
    await office.traffic.wait_for_reply(contains="已退回")
    await office.harness.settle()
    assert buttons(mine) == [] and buttons(theirs) == []


async def test_a_transfer_declined_on_its_notice_clears_that_notice_once(office: Office) -> None:
    """The pressed notice is the step's own to clear, not one of the copies spent with it."""
    _, mine, _ = await two_copies(office)
    await office.traffic.press(HANS.plain("agency.button.decline"), message=mine)
    await office.traffic.wait_for_reply(contains="退回")
    await office.traffic.send("户籍业务属公安局户政部门职责")
    await office.traffic.wait_for_reply(contains="已退回")
    await office.harness.settle()
    edits = [
        params
        for name, params in office.harness.world.calls
        if name == "editMessageReplyMarkup"
        and int(params["chat_id"]) == office.traffic.user.id
        and int(params["message_id"]) == mine.message_id
    ]
    assert len(edits) == 1 and buttons(mine) == []


async def test_a_transfer_taken_back_by_its_sender_leaves_no_buttons_on_the_receivers_copies(office: Office) -> None:
    complaint, mine, theirs = await two_copies(office)
    await office.harness.settle()
    card = Card(id=complaint.id, act=CardAction.SHOW).pack()  # the sender opens the card
    await office.police.press_data(office.police.bot_messages()[-1].message_id, card)
    await office.harness.settle()
    await office.police.press(HANS.plain("agency.button.recall"))
    await office.police.wait_for_reply(contains="已撤回")
    await office.harness.settle()
    assert buttons(mine) == [] and buttons(theirs) == []
