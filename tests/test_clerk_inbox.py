"""A clerk with a long queue: /inbox items carry a masked excerpt and filter buttons (counted and narrowed
in the query, kept across pages); free text from a contact finds complaints by a tracking number's last
digits, within what the contact may see; 申请延期 is offered only while it may still be asked for. End to
end over the Bot API stand-in."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.agency_callbacks import InboxPage
from storage.models import Complaint
from storage.vocabulary import Rating
from tests.factories import local
from tests.test_agency_bot_support import HANS, Office, label, wait_for_edit
from web.sandbox.world import ChatMessage
from workflow import lifecycle
from workflow.actors import Actor
from workflow.citizens import get_or_create_citizen
from workflow.invites import require_contact
from workflow.queues import InboxFilter, inbox_counts, inbox_queue

ELEVATOR = "小区电梯坏了三个月，物业说归住建局管，住建局说归物业管，我的电话13912345678"


def filter_label(shown: InboxFilter, count: int, *, current: bool = False) -> str:
    text = label("agency.inbox.filter_button", name=label(f"agency.inbox.filter.{shown}"), count=count)
    return label("agency.inbox.filter_shown", label=text) if current else text


def buttons(message: ChatMessage) -> list[str]:
    return [b["text"] for row in message.inline_keyboard or [] for b in row]


async def police_actor(office: Office) -> Actor:
    async with office.session_factory() as session:
        return Actor.contact(await require_contact(session, office.police.user.id))


async def accept(office: Office, complaint: Complaint) -> None:
    async with office.session_factory() as session:
        contact = await require_contact(session, office.police.user.id)
        await lifecycle.accept(session, office.clock, office.deadlines, complaint.id, Actor.contact(contact))
        await session.commit()


async def reopen(office: Office, complaint: Complaint) -> None:
    """Accepted, replied to, and sent back by the citizen's 不满意: 重办."""
    await accept(office, complaint)
    async with office.session_factory() as session:
        contact = await require_contact(session, office.police.user.id)
        clerk = Actor.contact(contact)
        await lifecycle.resolve(session, office.clock, office.deadlines, complaint.id, clerk, "已处理")
        citizen = Actor.citizen(await get_or_create_citizen(session, office.citizen.user.id))
        await lifecycle.rate(session, office.clock, office.deadlines, complaint.id, citizen, Rating.DISSATISFIED)
        await session.commit()


async def inbox(office: Office) -> ChatMessage:
    await office.police.send("/inbox")
    return await office.police.wait_for_reply(contains="待办投诉")


async def press_and_wait_for_edit(office: Office, page: ChatMessage, text: str) -> ChatMessage:
    """Press ``text`` on the inbox page, which is redrawn in place."""
    before = page.text
    await office.police.press(text, message=page)
    return await wait_for_edit(office.police, page.message_id, before)


async def test_inbox_items_show_a_masked_excerpt_of_the_words(office: Office) -> None:
    await office.file_complaint(text=ELEVATOR)
    page = await inbox(office)
    assert "内容：小区电梯坏了三个月" in page.text
    assert "13912345678" not in page.text  # masked: a list is read over a shoulder
    complaint_no = next(b for b in buttons(page) if b.startswith("查看 "))
    await office.police.press(complaint_no, message=page)
    card = await office.police.wait_for_reply(contains="投诉人")
    assert ELEVATOR in card.text  # the card has the whole text


async def test_inbox_filters_count_narrow_and_keep_across_pages(office: Office) -> None:
    complaints = [await office.file_complaint(text=f"第{i}件投诉：办事跑了好几趟") for i in range(8)]
    await reopen(office, complaints[0])
    await accept(office, complaints[1])  # 6 left to accept: two pages of them

    page = await inbox(office)
    assert "（共 8 件，第 1/2 页" in page.text
    assert buttons(page)[5:] == [
        filter_label(InboxFilter.ALL, 8, current=True),
        filter_label(InboxFilter.NEW, 6),
        filter_label(InboxFilter.OVERDUE, 0),
        filter_label(InboxFilter.REOPENED, 1),
        label("agency.button.next", page=2),
    ]

    new = await press_and_wait_for_edit(office, page, filter_label(InboxFilter.NEW, 6))
    assert "·待受理（共 6 件，第 1/2 页" in new.text
    assert complaints[0].tracking_no not in new.text and complaints[1].tracking_no not in new.text
    assert filter_label(InboxFilter.NEW, 6, current=True) in buttons(new)
    second = await press_and_wait_for_edit(office, new, label("agency.button.next", page=2))
    assert "·待受理（共 6 件，第 2/2 页" in second.text  # the filter kept across the page turn
    assert second.text.count("内容：") == 1
    assert complaints[7].tracking_no in second.text

    reopened = await press_and_wait_for_edit(office, second, filter_label(InboxFilter.REOPENED, 1))
    assert "·重办（共 1 件" in reopened.text and complaints[0].tracking_no in reopened.text
    empty = await press_and_wait_for_edit(office, reopened, filter_label(InboxFilter.OVERDUE, 0))
    assert empty.text == HANS.plain("agency.inbox.empty_filter", name="超期")
    assert filter_label(InboxFilter.ALL, 8) in buttons(empty)  # a way back

    office.clock.set(local(2026, 11, 23, 16))  # past the 15:30 acknowledge deadline of the six
    overdue = await press_and_wait_for_edit(office, empty, filter_label(InboxFilter.OVERDUE, 0, current=True))
    assert "·超期（共 6 件" in overdue.text


async def test_an_inbox_button_from_before_filters_still_turns_the_whole_inbox(office: Office) -> None:
    for i in range(6):
        await office.file_complaint(text=f"第{i}件投诉")
    page = await inbox(office)
    before = page.text
    await office.police.press_data(page.message_id, "agi:2")
    assert InboxPage.unpack("agi:2") == InboxPage(page=2, f=InboxFilter.ALL)
    turned = await wait_for_edit(office.police, page.message_id, before)
    assert "（共 6 件，第 2/2 页" in turned.text


async def test_inbox_queue_filters_and_pages_in_the_query(
    office: Office, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    complaints = [await office.file_complaint(text=f"第{i}件投诉") for i in range(4)]
    await accept(office, complaints[0])
    await reopen(office, complaints[1])
    actor = await police_actor(office)
    assert actor.agency_id is not None
    now = office.clock.now()
    async with session_factory() as session:
        counts = await inbox_counts(session, actor.agency_id, now)
        assert counts == {InboxFilter.ALL: 4, InboxFilter.NEW: 2, InboxFilter.OVERDUE: 0, InboxFilter.REOPENED: 1}
        new = await inbox_queue(session, office.deadlines, actor.agency_id, now, InboxFilter.NEW, limit=1, offset=1)
        assert [item.id for item in new] == [complaints[3].id]  # same acknowledge deadline: by id
        later = now + timedelta(days=1)
        overdue = await inbox_queue(session, office.deadlines, actor.agency_id, later, InboxFilter.OVERDUE)
        assert {item.id for item in overdue} == {complaints[2].id, complaints[3].id}


async def test_a_contacts_stray_text_gets_a_hint_not_the_citizen_menu(office: Office) -> None:
    await office.police.send("张三")
    reply = await office.police.wait_for_reply()
    assert reply.text == HANS.plain("agency.hint.contact")
    assert "/complain" not in reply.text and not reply.inline_keyboard
    await office.overseer.send("13800138000")  # a phone number: no tracking number's end
    assert (await office.overseer.wait_for_reply()).text == HANS.plain("agency.hint.oversight")
    await office.citizen.send("张三")  # citizens keep theirs
    assert "/complain" in (await office.citizen.wait_for_reply()).text


async def test_a_number_end_opens_the_one_visible_complaint_or_lists_several(office: Office) -> None:
    first = await office.file_complaint(text=ELEVATOR)
    suffix = first.tracking_no[-4:]
    await office.police.send(suffix)
    card = await office.police.wait_for_reply(contains=first.tracking_no)
    assert "13912345678" in card.text  # the owner's full card

    await office.housing.send(suffix)  # not theirs to see: not even that it exists
    refused = await office.housing.wait_for_reply()
    assert first.tracking_no not in refused.text and "没有找到" in refused.text

    office.clock.advance(timedelta(days=1))
    second = await office.file_complaint(text="第二天的投诉：窗口态度恶劣")
    assert second.tracking_no[-4:] == suffix  # the day's counter starts again
    await office.police.send("０００" + suffix[-1])  # full-width digits, as phones type them
    listed = await office.police.wait_for_reply(contains="多件")
    assert first.tracking_no in listed.text and second.tracking_no in listed.text
    assert "电梯" not in listed.text  # no words in a list a former owner may get too
    assert buttons(listed) == [
        label("agency.button.show", tracking_no=second.tracking_no),
        label("agency.button.show", tracking_no=first.tracking_no),
    ]


async def test_the_extension_button_goes_once_the_resolve_deadline_has_passed(office: Office) -> None:
    complaint = await office.file_complaint()
    await accept(office, complaint)
    extend, resolve = label("agency.button.extend"), label("agency.button.resolve")
    await office.police.send(complaint.tracking_no)
    card = await office.police.wait_for_reply(contains="投诉人")
    assert extend in buttons(card) and resolve in buttons(card)

    due = (await office.complaint(complaint.id)).resolve_due_at
    assert due is not None
    office.clock.set(due)  # the moment the request is refused (``before_resolve_deadline``)
    await office.police.send(complaint.tracking_no)
    late = await office.police.wait_for_reply(contains="投诉人")
    assert extend not in buttons(late) and resolve in buttons(late)
