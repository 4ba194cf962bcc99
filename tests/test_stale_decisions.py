"""A decision button answers the question its message asked, never a newer one of the same kind.

An extension request notice (or /pending entry) pressed after that request was decided and a second
one came in, or a transfer notice pressed after that transfer was taken back (or declined) and a new
one came, is refused with the reason why: the presser has not seen the new question's days, reason or
basis. Buttons sent before messages named their question still answer whatever is open, as before.
End to end over the Bot API stand-in.
"""

from __future__ import annotations

import copy
import re
from datetime import timedelta

from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import ActorKind, Complaint, ComplaintEvent, ComplaintStatus, EventAction, WebUser
from tests.botapi import ChatUser
from tests.factories import make_deadlines
from tests.test_agency_bot_support import HANS, Office, label, press_and_reply
from tests.test_dashboard_support import CSRF, World, client, log_in, world
from tests.test_dashboard_support import NOW as DASHBOARD_NOW
from web.dashboard import messages
from web.sandbox.world import ChatMessage
from workflow import lifecycle
from workflow.actors import Actor
from workflow.clock import FixedClock
from workflow.invites import require_contact

__all__ = ["client", "world"]

S = ComplaintStatus
SUPERSEDED = HANS.plain("error.question_superseded")


def as_received(message: ChatMessage) -> ChatMessage:
    """The message as it arrived, buttons and all. A decision settles every copy it can reach at once;
    an old button can still be pressed (a copy sent before message ids were recorded, a client that has
    not redrawn the message), and that press is what these tests make."""
    return copy.deepcopy(message)


def now_shown(user: ChatUser, message: ChatMessage) -> ChatMessage:
    """The message as the chat shows it now, after any edits."""
    return next(m for m in user.bot_messages() if m.message_id == message.message_id)


def buttons(message: ChatMessage) -> list[str]:
    return [button["text"] for row in message.inline_keyboard or [] for button in row]


def callback(message: ChatMessage, text: str) -> str:
    return next(b["callback_data"] for row in message.inline_keyboard or [] for b in row if b["text"] == text)


def newer(user: ChatUser, than: int) -> list[str]:
    return [m.text for m in user.bot_messages() if m.message_id > than]


async def accept(office: Office, complaint: Complaint) -> None:
    await office.deliver()
    notice = await office.police.wait_for_reply(contains="新投诉")
    await office.police.press(label("agency.button.accept"), message=notice)
    await office.police.wait_for_reply(contains="已受理")


async def ask_for_extension(office: Office, complaint: Complaint, days: int, reason: str) -> None:
    """The police clerk asks, from the complaint's card, for ``days`` more working days."""
    await office.police.send(f"/status {complaint.tracking_no}")
    await office.police.wait_for_reply(contains="办理中")
    await press_and_reply(office.police, label("agency.button.extend"), contains="几个工作日")
    await press_and_reply(office.police, label("agency.button.days", days=days), contains="延期理由")
    await office.police.send(reason)
    await office.police.wait_for_reply(contains="已提交")
    await office.deliver()


async def two_requests(office: Office, complaint: Complaint, colleague: ChatUser) -> tuple[ChatMessage, ChatMessage]:
    """Request #1 (2 days), approved by a colleague on their copy; then request #2 (5 days). The overseer's
    copies of both notices."""
    await accept(office, complaint)
    await ask_for_extension(office, complaint, 2, "等待鉴定结果")
    first = as_received(await office.overseer.wait_for_reply(contains="等待鉴定结果"))
    theirs = await colleague.wait_for_reply(contains="等待鉴定结果")
    await colleague.press(label("oversight.button.approve"), message=theirs)
    await colleague.wait_for_reply(contains="已批准")
    await office.deliver()
    await ask_for_extension(office, complaint, 5, "还需走访三户邻居")
    second = as_received(await office.overseer.wait_for_reply(contains="还需走访三户邻居"))
    return first, second


async def test_an_old_approve_button_does_not_approve_a_newer_extension_request(office: Office) -> None:
    colleague = office.harness.user(name="周督查")
    await office.bind(colleague, "oversight-office", "oversight")
    complaint = await office.file_complaint()
    first, second = await two_requests(office, complaint, colleague)
    assert (await office.complaint(complaint.id)).extended_days == 2

    await office.overseer.press(label("oversight.button.approve"), message=first)  # request #1's button
    await office.overseer.wait_for_reply(contains=SUPERSEDED)
    await office.harness.settle()
    assert (await office.complaint(complaint.id)).extended_days == 2  # #2's five days not granted unseen
    shown = now_shown(office.overseer, first)
    assert "已批准延期" in shown.text and "周督查" in shown.text  # what became of #1, where it was asked
    assert buttons(shown) == [label("agency.button.show", tracking_no=complaint.tracking_no)]

    await office.overseer.press(label("oversight.button.approve"), message=second)  # the one they read
    await office.overseer.wait_for_reply(contains="已批准")
    assert (await office.complaint(complaint.id)).extended_days == 7


async def test_an_old_refuse_button_asks_no_reason_for_a_newer_extension_request(office: Office) -> None:
    colleague = office.harness.user(name="周督查")
    await office.bind(colleague, "oversight-office", "oversight")
    complaint = await office.file_complaint()
    first, second = await two_requests(office, complaint, colleague)
    last = office.overseer.bot_messages()[-1].message_id

    await office.overseer.press(label("oversight.button.refuse"), message=first)
    await office.overseer.wait_for_reply(contains=SUPERSEDED)
    assert not any("请写明理由" in text for text in newer(office.overseer, last))
    await office.overseer.send("这句话不是理由")
    await office.harness.settle()
    assert label("oversight.button.refuse") in buttons(now_shown(office.overseer, second))  # #2 still waits
    assert (await office.complaint(complaint.id)).extended_days == 2


async def test_a_refusal_reason_typed_for_a_request_decided_meanwhile_does_not_refuse_the_next(
    office: Office,
) -> None:
    colleague = office.harness.user(name="周督查")
    await office.bind(colleague, "oversight-office", "oversight")
    complaint = await office.file_complaint()
    await accept(office, complaint)
    await ask_for_extension(office, complaint, 2, "等待鉴定结果")
    first = await office.overseer.wait_for_reply(contains="等待鉴定结果")
    theirs = await colleague.wait_for_reply(contains="等待鉴定结果")
    await press_and_reply(office.overseer, label("oversight.button.refuse"), contains="请写明理由")

    # while the overseer writes: the colleague approves #1 and the police ask again
    await colleague.press(label("oversight.button.approve"), message=theirs)
    await colleague.wait_for_reply(contains="已批准")
    await office.deliver()
    await ask_for_extension(office, complaint, 5, "还需走访三户邻居")
    second = await office.overseer.wait_for_reply(contains="还需走访三户邻居")

    await office.overseer.send("鉴定可以并行，不必延期")
    await office.overseer.wait_for_reply(contains=SUPERSEDED)
    await office.harness.settle()
    assert "已批准延期" in first.text and "周督查" in first.text
    assert label("oversight.button.refuse") in buttons(second)
    await office.deliver()
    assert not any("鉴定可以并行" in m.text for m in office.police.bot_messages())  # nothing refused


async def test_an_old_pending_entry_does_not_decide_a_newer_extension_request(office: Office) -> None:
    complaint = await office.file_complaint()
    await accept(office, complaint)
    await ask_for_extension(office, complaint, 2, "等待鉴定结果")
    await office.overseer.send("/pending")
    entry = await office.overseer.wait_for_reply(contains="延期申请")
    approve = callback(entry, label("oversight.button.approve"))
    await office.overseer.press(label("oversight.button.approve"), message=entry)
    await office.overseer.wait_for_reply(contains="已批准")
    await ask_for_extension(office, complaint, 5, "还需走访三户邻居")

    await office.overseer.press_data(entry.message_id, approve)  # the spent entry's button, pressed anyway
    await office.overseer.wait_for_reply(contains=SUPERSEDED)
    assert (await office.complaint(complaint.id)).extended_days == 2


async def test_a_button_sent_before_buttons_named_their_question_still_decides_the_open_request(
    office: Office,
) -> None:
    complaint = await office.file_complaint()
    await accept(office, complaint)
    await ask_for_extension(office, complaint, 2, "等待鉴定结果")
    notice = await office.overseer.wait_for_reply(contains="等待鉴定结果")
    await office.overseer.press_data(notice.message_id, f"ag:{complaint.id}:approve")  # the old format
    await office.overseer.wait_for_reply(contains="已批准")
    assert (await office.complaint(complaint.id)).extended_days == 2


async def transfer_to_traffic(office: Office, complaint: Complaint, reason: str) -> ChatMessage:
    """The police send the complaint to the traffic police; the receiver's notice."""
    async with office.session_factory() as session:
        police = Actor.contact(await require_contact(session, office.police.user.id))
        traffic = Actor.contact(await require_contact(session, office.traffic.user.id))
        assert traffic.agency_id is not None
        to = traffic.agency_id
        await lifecycle.transfer(session, office.clock, office.deadlines, complaint.id, police, to, reason)
        await session.commit()
    office.clock.advance(timedelta(minutes=10))
    await office.deliver()
    return as_received(await office.traffic.wait_for_reply(contains=reason))


async def test_an_old_transfer_notice_does_not_accept_a_newer_transfer(office: Office) -> None:
    complaint = await office.file_complaint()
    old = await transfer_to_traffic(office, complaint, "涉及交通管理")
    async with office.session_factory() as session:
        police = Actor.contact(await require_contact(session, office.police.user.id))
        await lifecycle.withdraw_transfer(session, office.clock, office.deadlines, complaint.id, police)
        await session.commit()
    new = await transfer_to_traffic(office, complaint, "事发路段由交警支队管理")

    await office.traffic.press(label("agency.button.accept"), message=old)
    await office.traffic.wait_for_reply(contains=SUPERSEDED)
    found = await office.complaint(complaint.id)
    assert found.status == S.TRANSFERRING and found.owner_agency_id != found.transfer_to_agency_id

    await office.traffic.press(label("agency.button.accept"), message=new)
    await office.traffic.wait_for_reply(contains="已受理")
    assert (await office.complaint(complaint.id)).status == S.ACCEPTED


async def test_an_old_transfer_notice_does_not_decline_a_newer_transfer_into_a_dispute(office: Office) -> None:
    complaint = await office.file_complaint()
    old = await transfer_to_traffic(office, complaint, "涉及交通管理")
    await press_and_reply(office.traffic, label("agency.button.decline"), contains="依据")
    await office.traffic.send("户籍业务属公安局户政部门职责")
    await office.traffic.wait_for_reply(contains="已退回")
    new = await transfer_to_traffic(office, complaint, "事发路段由交警支队管理")
    last = office.traffic.bot_messages()[-1].message_id

    await office.traffic.press(label("agency.button.decline"), message=old)  # a second decline: a dispute
    await office.traffic.wait_for_reply(contains=SUPERSEDED)
    assert not any("依据" in text for text in newer(office.traffic, last))
    assert (await office.complaint(complaint.id)).status == S.TRANSFERRING

    await office.traffic.press(label("agency.button.decline"), message=new)  # the one they read
    await office.traffic.wait_for_reply(contains="依据")
    await office.traffic.send("仍属户政职责，见《户口登记条例》第三条")
    await office.traffic.wait_for_reply(contains="已退回")
    assert (await office.complaint(complaint.id)).status == S.DISPUTED


async def test_an_old_card_does_not_decline_a_newer_transfer(office: Office) -> None:
    """The receiver's card shows the transfer's reason: its 受理 / 退回 answer that transfer only."""
    complaint = await office.file_complaint()
    notice = await transfer_to_traffic(office, complaint, "涉及交通管理")
    await office.traffic.press(label("agency.button.show", tracking_no=complaint.tracking_no), message=notice)
    card = await office.traffic.wait_for_reply(contains="涉及交通管理")
    async with office.session_factory() as session:
        police = Actor.contact(await require_contact(session, office.police.user.id))
        await lifecycle.withdraw_transfer(session, office.clock, office.deadlines, complaint.id, police)
        await session.commit()
    await transfer_to_traffic(office, complaint, "事发路段由交警支队管理")
    last = office.traffic.bot_messages()[-1].message_id

    await office.traffic.press(label("agency.button.decline"), message=card)
    await office.traffic.wait_for_reply(contains=SUPERSEDED)
    assert not any("依据" in text for text in newer(office.traffic, last))
    await office.traffic.press(label("agency.button.show", tracking_no=complaint.tracking_no))  # a fresh card
    await office.traffic.wait_for_reply(contains="事发路段由交警支队管理")
    await press_and_reply(office.traffic, label("agency.button.accept"), contains="已受理")


async def extension_requested(
    session_factory: async_sessionmaker[AsyncSession], complaint: Complaint, days: int
) -> int:
    async with session_factory() as session:
        event = ComplaintEvent(
            complaint_id=complaint.id,
            at=DASHBOARD_NOW,
            action=EventAction.EXTENSION_REQUESTED,
            actor_kind=ActorKind.SYSTEM,
            from_status=S.ACCEPTED,
            to_status=S.ACCEPTED,
            agency_id=complaint.owner_agency_id,
            reason=f"需要 {days} 个工作日",
            data={"days": days},
        )
        session.add(event)
        await session.commit()
        return event.id


async def test_the_dashboard_form_decides_the_request_its_page_showed(
    client: TestClient, world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    complaint = world.complaint_a
    first = await extension_requested(session_factory, complaint, 2)
    await log_in(client, "chief")
    page = await (await client.get(f"/dashboard/complaints/{complaint.tracking_no}")).text()
    token = CSRF.search(page)
    shown = re.search(r'name="request" value="(\d+)"', page)
    assert token and shown and int(shown.group(1)) == first

    async with session_factory() as session:  # a colleague refuses #1 while the page is open; then #2 comes
        colleague = Actor.web_user(await session.scalar(select(WebUser).where(WebUser.username == "chief")))
        await lifecycle.decide_extension(
            session, FixedClock(DASHBOARD_NOW), make_deadlines(), complaint.id, colleague, False, "不必延期"
        )
        await session.commit()
    second = await extension_requested(session_factory, complaint, 5)

    form = {"csrf_token": token.group(1), "decision": "approve", "reason": "", "request": shown.group(1)}
    path = f"/dashboard/complaints/{complaint.tracking_no}/extension"
    refused = await client.post(path, data=form, allow_redirects=False)
    text = await refused.text()
    assert refused.status == 409 and messages.error_message("question_superseded") in text
    assert f'name="request" value="{second}"' in text  # the page again, with the new request to read
    async with session_factory() as session:
        assert (await session.get_one(Complaint, complaint.id)).extended_days == 0
