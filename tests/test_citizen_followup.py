"""Citizen follow-up end to end: /my, /status, the rating buttons under a RESOLVED notice and
withdrawing, through the shipped Dispatcher, a real aiogram Bot and the Bot API stand-in.

Complaints are made and handled through the workflow (intake, accept, resolve); the citizen's notices
reach the chat through the bot's TelegramTransport and ``workflow.outbox.deliver_due``, rendered by
``handlers.citizen_notices.render_citizen_notice``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.factory import create_bot
from bot.middlewares import FloodMiddleware
from bot.transport import TelegramTransport
from handlers.citizen_notices import rating_keyboard, render_citizen_notice
from handlers.texts import default_texts
from storage.models import Citizen, Complaint, ComplaintStatus, Evaluation, EventAction, FsmRecord
from tests.botapi import ChatMessage, ChatUser, Harness, running_bot, sandbox_server
from tests.factories import agency, events_of, make_clock, make_complaint, make_contact, make_deadlines
from workflow import lifecycle, timekeeper
from workflow.actors import Actor
from workflow.citizens import get_or_create_citizen
from workflow.clock import FixedClock
from workflow.deadlines import Deadlines
from workflow.outbox import RateLimiter, deliver_due

HANS = default_texts()("zh-Hans")
HANT = default_texts()("zh-Hant")
ZONE = ZoneInfo("Asia/Shanghai")


@dataclass
class Scene:
    harness: Harness
    session_factory: async_sessionmaker[AsyncSession]
    clock: FixedClock
    deadlines: Deadlines
    me: ChatUser
    citizen: Citizen
    police: Actor

    async def complaint(self, *, citizen: Citizen | None = None, text: str | None = None) -> Complaint:
        async with self.session_factory() as session:
            kwargs = {"text": text} if text else {}
            complaint = await make_complaint(
                session, self.clock, self.deadlines, citizen=citizen or self.citizen, **kwargs
            )
            await session.commit()
            return complaint

    async def act(self, action: str, complaint_id: int, *args: object) -> Complaint:
        """A workflow action by the police clerk (accept, resolve …), committed."""
        async with self.session_factory() as session:
            done = await getattr(lifecycle, action)(
                session, self.clock, self.deadlines, complaint_id, self.police, *args
            )
            await session.commit()
            return done

    async def deliver(self) -> None:
        """Send every due notice through the bot's transport into the sandbox chats."""
        bot = create_bot(self.harness.world.token, self.harness.sandbox.api_base)
        transport = TelegramTransport(
            bot, default_texts(), self.session_factory, ZONE, renderers=[render_citizen_notice]
        )
        try:
            limiter = RateLimiter(self.clock, chat_interval=0)
            await deliver_due(self.session_factory, transport, self.clock, limiter=limiter)
        finally:
            await bot.session.close()

    async def reload(self, complaint_id: int) -> Complaint:
        async with self.session_factory() as session:
            complaint = await session.get(Complaint, complaint_id)
            assert complaint is not None
            return complaint

    async def events(self, complaint_id: int) -> list[tuple[str, str | None]]:
        async with self.session_factory() as session:
            return [(e.action, e.reason) for e in await events_of(session, complaint_id)]

    async def ratings(self, complaint_id: int) -> int:
        async with self.session_factory() as session:
            query = select(func.count()).select_from(Evaluation).where(Evaluation.complaint_id == complaint_id)
            return int(await session.scalar(query) or 0)


@pytest.fixture
async def scene(session_factory: async_sessionmaker[AsyncSession], catalogue_loaded: None) -> AsyncIterator[Scene]:
    clock, deadlines = make_clock(), make_deadlines()
    # No double-tap window in the middleware: these tests show the handlers themselves act once.
    flood = FloodMiddleware(double_tap=0.0)
    async with (
        sandbox_server() as sandbox,
        running_bot(session_factory, sandbox, flood=flood, clock=clock, deadlines=deadlines) as harness,
    ):
        me = harness.user(name="王秀英")
        async with session_factory() as session:
            citizen = await get_or_create_citizen(session, me.user.id, display_name="王秀英")
            _, police = await make_contact(session, "public-security")
            await session.commit()
        yield Scene(harness, session_factory, clock, deadlines, me, citizen, police)


async def resolved_and_delivered(
    scene: Scene, reply: str = "已为您加急办理户口迁移。"
) -> tuple[Complaint, ChatMessage]:
    """A complaint accepted and resolved by the police, its RESOLVED notice in the citizen's chat."""
    complaint = await scene.complaint()
    await scene.act("accept", complaint.id)
    await scene.act("resolve", complaint.id, reply)
    await scene.deliver()
    return complaint, await scene.me.wait_for_reply(contains=reply)


def rating_buttons(message: ChatMessage) -> dict[str, str]:
    """Label → callback data of the buttons a message carries (as sent, even if since removed)."""
    return {b["text"]: b["callback_data"] for row in message.inline_keyboard or [] for b in row}


def rating_data(complaint: Complaint, round: int) -> dict[str, str]:
    """The three rating buttons of a reply of ``round``, as the citizen should get them."""
    return {HANS.plain(f"rate.button.{i}"): f"rat:{complaint.id}:{i}:{round}" for i in range(3)}


async def run_timekeeper(scene: Scene) -> None:
    """Fire the timers due on the scene's clock and deliver what they queued."""
    await timekeeper.run_once(scene.session_factory, scene.clock, scene.deadlines)
    await scene.deliver()
    await scene.harness.settle()


# --- /my and /status ------------------------------------------------------------------------------


async def test_my_lists_own_complaints_with_status_words_and_due_dates(scene: Scene) -> None:
    waiting = await scene.complaint(text="社保窗口没人，打电话也没人接")
    handled = await scene.complaint(text="派出所办户口跑了好几趟")
    await scene.act("accept", handled.id)
    await scene.me.send("/my")
    reply = await scene.me.wait_for_reply(contains="我的投诉")
    for complaint in (waiting, handled):
        assert complaint.tracking_no in reply.text
    assert HANS.plain("status.word.assigned") in reply.text and HANS.plain("status.word.accepted") in reply.text
    accepted = await scene.reload(handled.id)
    assert accepted.resolve_due_at is not None
    assert f"办结期限：{scene.deadlines.describe(accepted.resolve_due_at, now=scene.clock.now())}" in reply.text
    assert "受理期限：" in reply.text and "社保窗口没人" in reply.text


async def test_my_pages_through_many_complaints_and_says_so_when_there_are_none(scene: Scene) -> None:
    await scene.me.send("/start")
    await scene.me.wait_for_reply(contains="民声")
    await scene.me.press(HANS.plain("menu.my"))  # the menu button is the same as /my
    assert (await scene.me.wait_for_reply()).text == HANS.plain("my.empty")
    made = [await scene.complaint() for _ in range(7)]
    await scene.me.send("/my")
    first = await scene.me.wait_for_reply(contains="我的投诉")
    assert made[-1].tracking_no in first.text and made[0].tracking_no not in first.text
    await scene.me.press(HANS.plain("my.button.next"))
    await scene.harness.settle()
    page_two = scene.me.world.find_message(scene.me.user.id, first.message_id)
    assert made[0].tracking_no in page_two.text and made[-1].tracking_no not in page_two.text
    await scene.me.press(HANS.plain("my.button.prev"))
    await scene.harness.settle()
    assert made[-1].tracking_no in scene.me.world.find_message(scene.me.user.id, first.message_id).text


async def test_status_shows_the_timeline_of_an_own_complaint_in_plain_words(scene: Scene) -> None:
    complaint = await scene.complaint()
    await scene.act("accept", complaint.id)
    await scene.me.send(f"/status {complaint.tracking_no}")
    reply = await scene.me.wait_for_reply(contains=complaint.tracking_no)
    assert HANS.plain("status.word.accepted") in reply.text
    assert HANS.plain("status.event.registered") in reply.text
    assert HANS.plain("status.event.assigned", agency="市公安局") in reply.text
    assert HANS.plain("status.event.accepted", agency="市公安局") in reply.text
    assert "11月23日 10:00" in reply.text  # event times in local time
    assert HANS.plain("status.button.withdraw") in [b["text"] for row in reply.inline_keyboard or [] for b in row]


async def test_the_timeline_names_the_transfer_and_its_decline_but_not_the_agencys_basis(scene: Scene) -> None:
    complaint = await scene.complaint()
    async with scene.session_factory() as session:
        traffic_id = (await agency(session, "traffic-police")).id
        _, traffic = await make_contact(session, "traffic-police")
        await session.commit()
    await scene.act("transfer", complaint.id, traffic_id, "属于交通管理事项")
    async with scene.session_factory() as session:
        await lifecycle.decline_transfer(
            session, scene.clock, scene.deadlines, complaint.id, traffic, "不属本支队职责，见三定方案"
        )
        await session.commit()
    await scene.me.send(f"/status {complaint.tracking_no}")
    reply = await scene.me.wait_for_reply(contains=complaint.tracking_no)
    police, traffic_name = "市公安局", "市公安局交通警察支队"
    assert HANS.plain("status.event.transfer_requested", agency=traffic_name, from_agency=police) in reply.text
    assert HANS.plain("status.event.transfer_declined", agency=police, from_agency=traffic_name) in reply.text
    assert "三定方案" not in reply.text and "属于交通管理事项" not in reply.text
    assert HANS.plain("status.word.assigned") in reply.text


async def test_a_traditional_reader_sees_status_words_and_due_dates_in_traditional(scene: Scene) -> None:
    reader = scene.harness.user(name="陳大文", language_code="zh-hk")
    async with scene.session_factory() as session:
        citizen = await get_or_create_citizen(session, reader.user.id, display_name="陳大文", language="zh-Hant")
        await session.commit()
    complaint = await scene.complaint(citizen=citizen)
    await scene.act("accept", complaint.id)
    await reader.send("/my")
    reply = await reader.wait_for_reply(contains=complaint.tracking_no)
    assert HANT.plain("status.word.accepted") in reply.text and "辦結期限" in reply.text and "週" in reply.text


async def test_status_button_from_my_opens_the_complaint_and_leads_back(scene: Scene) -> None:
    complaint = await scene.complaint()
    await scene.me.send("/my")
    listing = await scene.me.wait_for_reply(contains="我的投诉")
    await scene.me.press(HANS.plain("my.button.view", tracking_no=complaint.tracking_no))
    await scene.harness.settle()
    shown = scene.me.world.find_message(scene.me.user.id, listing.message_id)
    assert HANS.plain("status.timeline") in shown.text
    await scene.me.press(HANS.plain("status.button.back"))
    await scene.harness.settle()
    assert "我的投诉" in scene.me.world.find_message(scene.me.user.id, listing.message_id).text


async def test_status_of_another_citizens_complaint_is_not_found_like_a_wrong_number(scene: Scene) -> None:
    async with scene.session_factory() as session:
        neighbour = await get_or_create_citizen(session, 99_999, display_name="邻居")
        await session.commit()
    theirs = await scene.complaint(citizen=neighbour)
    await scene.me.send(f"/status {theirs.tracking_no}")
    refused = await scene.me.wait_for_reply()
    await scene.me.send("/status 20991231-9999")
    wrong = await scene.me.wait_for_reply()
    assert refused.text == wrong.text == HANS.plain("error.not_found")
    assert theirs.tracking_no not in refused.text


async def test_status_without_a_number_leaves_no_phantom_draft(scene: Scene) -> None:
    complaint = await scene.complaint()
    await scene.me.send("/status")
    assert complaint.tracking_no in (await scene.me.wait_for_reply(contains="我的投诉")).text
    await scene.me.send("/complain")  # nothing was filled in: a complaint simply starts
    assert (await scene.me.wait_for_reply()).text == HANS.plain("complaint.start")
    await scene.me.send("/cancel")
    await scene.me.wait_for_reply()
    await scene.me.send("/status")
    await scene.me.wait_for_reply(contains="我的投诉")
    await scene.me.send("/cancel")
    assert (await scene.me.wait_for_reply()).text == HANS.plain("nothing_to_cancel")


@pytest.mark.parametrize(
    "typed",
    [
        "{day}{seq}",
        "#{day}-{seq}",
        "受理编号{day}-{seq}",
        "受理编号：{day}－{seq}",
        "受理編號：{day}-{seq}",
        "投訴編號 {day} {seq}",
        "{day}-{seq}？",
        "「{day}-{seq}」。",
    ],
)
async def test_a_tracking_number_is_found_however_it_is_written(scene: Scene, typed: str) -> None:
    complaint = await scene.complaint()
    day, seq = complaint.tracking_no.split("-")
    written = typed.format(day=day, seq=seq)
    await scene.me.send(f"/status {written}")
    assert HANS.plain("status.timeline") in (await scene.me.wait_for_reply(contains=complaint.tracking_no)).text


async def test_the_receipt_line_of_a_traditional_reader_pasted_on_its_own_shows_the_complaint(scene: Scene) -> None:
    """The Traditional receipt reads 受理編號：…; a citizen copying that line gets the timeline, not a hint."""
    reader = scene.harness.user(name="陳大文", language_code="zh-hk")
    async with scene.session_factory() as session:
        citizen = await get_or_create_citizen(session, reader.user.id, display_name="陳大文", language="zh-Hant")
        await session.commit()
    complaint = await scene.complaint(citizen=citizen)
    await reader.send(f"受理編號：{complaint.tracking_no}")
    assert HANT.plain("status.timeline") in (await reader.wait_for_reply(contains=complaint.tracking_no)).text


async def test_a_receipt_forwarded_back_to_the_bot_shows_its_complaint_not_an_offer_to_file_it(scene: Scene) -> None:
    """Forwarding the bot's own message back is how some ask "what about this one?"."""
    complaint = await scene.complaint()
    await scene.deliver()
    receipt = await scene.me.wait_for_reply(contains=complaint.tracking_no)
    forwarded = {
        "message_id": receipt.message_id + 100_000,
        "date": receipt.date,
        "chat": scene.me.user.as_chat(),
        "from": scene.me.user.as_telegram(),
        "text": receipt.text,
        "forward_origin": {"type": "user", "sender_user": scene.harness.world.bot_user, "date": receipt.date},
    }
    await scene.harness.world.push_update({"message": forwarded})
    status = await scene.me.wait_for_reply()
    assert HANS.plain("status.timeline") in status.text and complaint.tracking_no in status.text


async def test_a_bare_pasted_tracking_number_shows_only_an_own_complaint(scene: Scene) -> None:
    mine = await scene.complaint()
    async with scene.session_factory() as session:
        neighbour = await get_or_create_citizen(session, 99_999, display_name="邻居")
        await session.commit()
    theirs = await scene.complaint(citizen=neighbour)
    full_width = mine.tracking_no.translate(str.maketrans("0123456789-", "０１２３４５６７８９－"))
    await scene.me.send(full_width)
    assert HANS.plain("status.timeline") in (await scene.me.wait_for_reply(contains=mine.tracking_no)).text
    await scene.me.send(f"{mine.tracking_no}？")  # asked, with the question mark
    assert HANS.plain("status.timeline") in (await scene.me.wait_for_reply(contains=mine.tracking_no)).text
    await scene.me.send(theirs.tracking_no)
    refused = await scene.me.wait_for_reply()
    assert refused.text == HANS.plain("error.not_found")


# --- rating ---------------------------------------------------------------------------------------


async def test_dissatisfied_asks_why_reopens_and_a_second_resolution_rated_satisfied_closes(scene: Scene) -> None:
    complaint, _ = await resolved_and_delivered(scene)
    await scene.me.press(HANS.plain("rate.button.2"))
    await scene.me.wait_for_reply(contains="原因")
    assert (await scene.reload(complaint.id)).status == ComplaintStatus.RESOLVED  # nothing rated yet
    await scene.me.send("户口还是没有迁过来，窗口说材料不全")
    await scene.me.wait_for_reply(contains="重新办理")

    reopened = await scene.reload(complaint.id)
    assert reopened.status == ComplaintStatus.ACCEPTED and reopened.reopen_count == 1
    events = await scene.events(complaint.id)
    assert (EventAction.RATED.value, "户口还是没有迁过来，窗口说材料不全") in events
    assert events[-1][0] == EventAction.REOPENED.value

    await scene.act("resolve", complaint.id, "材料已补齐，户口已迁入。")
    await scene.deliver()
    await scene.me.wait_for_reply(contains="户口已迁入")
    await scene.me.press(HANS.plain("rate.button.0"))
    await scene.me.wait_for_answer("")
    await scene.harness.settle()
    closed = await scene.reload(complaint.id)
    assert closed.status == ComplaintStatus.CLOSED and closed.closed_at is not None
    assert await scene.ratings(complaint.id) == 2
    assert [a for a, _ in await scene.events(complaint.id)][-2:] == [EventAction.RATED, EventAction.CLOSED]


async def test_satisfied_closes_at_once_and_thanks_the_citizen(scene: Scene) -> None:
    complaint, notice = await resolved_and_delivered(scene)
    await scene.me.press(HANS.plain("rate.button.1"))
    await scene.harness.settle()
    assert (await scene.reload(complaint.id)).status == ComplaintStatus.CLOSED
    kept = scene.me.world.find_message(scene.me.user.id, notice.message_id)
    assert "已为您加急办理户口迁移" in kept.text  # the agency's reply stays …
    assert "感谢您的评价（比较满意）" in kept.text and not kept.inline_keyboard  # … the outcome is added


async def test_a_double_tapped_rating_button_acts_once(scene: Scene) -> None:
    complaint, notice = await resolved_and_delivered(scene)
    data = next(b["callback_data"] for row in notice.inline_keyboard or [] for b in row if b["text"] == "😊 满意")
    for _ in range(2):
        await scene.me.world.user_presses(scene.me.user.id, notice.message_id, data)
    await scene.harness.settle()
    assert await scene.ratings(complaint.id) == 1
    assert [a for a, _ in await scene.events(complaint.id)].count(EventAction.RATED) == 1
    assert len(scene.me.answers()) == 2  # both presses were answered, neither left spinning
    assert scene.me.answers()[-1] == HANS.plain("error.already_rated")


async def test_a_stale_rating_button_answers_politely_and_changes_nothing(scene: Scene) -> None:
    complaint, notice = await resolved_and_delivered(scene)
    buttons = {b["text"]: b["callback_data"] for row in notice.inline_keyboard or [] for b in row}
    await scene.me.press(HANS.plain("rate.button.0"))
    await scene.harness.settle()
    before = len(scene.me.bot_messages())
    for label in ("😞 不满意", "🙂 比较满意"):  # pressed later on the old notice
        await scene.me.world.user_presses(scene.me.user.id, notice.message_id, buttons[label])
    await scene.harness.settle()
    assert await scene.ratings(complaint.id) == 1
    assert (await scene.reload(complaint.id)).status == ComplaintStatus.CLOSED
    assert scene.me.answers()[-2:] == [HANS.plain("error.already_rated")] * 2
    assert len(scene.me.bot_messages()) == before  # a toast, no new message, no question asked


async def test_back_from_the_reason_question_offers_the_ratings_again_and_nothing_is_rated(scene: Scene) -> None:
    complaint, _ = await resolved_and_delivered(scene)
    await scene.me.press(HANS.plain("rate.button.2"))
    await scene.me.wait_for_reply(contains="原因")
    await scene.me.press(HANS.plain("rate.button.back"))
    await scene.harness.settle()
    _, button = scene.me.button(HANS.plain("rate.button.0"))
    assert button["callback_data"] == f"rat:{complaint.id}:0:1"  # still for the reply the citizen saw
    await scene.me.send("这句话不是原因，只是随便说说")
    await scene.me.wait_for_reply()
    assert await scene.ratings(complaint.id) == 0
    assert (await scene.reload(complaint.id)).status == ComplaintStatus.RESOLVED


async def test_cancel_while_asked_why_rates_nothing(scene: Scene) -> None:
    complaint, _ = await resolved_and_delivered(scene)
    await scene.me.press(HANS.plain("rate.button.2"))
    await scene.me.wait_for_reply(contains="原因")
    await scene.me.send("/cancel")
    await scene.me.wait_for_reply(contains="取消")
    assert await scene.ratings(complaint.id) == 0


async def test_cancel_while_asked_why_keeps_the_complaint_being_written(scene: Scene) -> None:
    """The reason question says /cancel cancels it: the question, not the draft it interrupted."""
    complaint, notice = await resolved_and_delivered(scene)
    await scene.me.send("/complain")
    await scene.me.wait_for_reply(contains="写完了")
    await scene.me.send("社保窗口的人上班时间玩手机，不理人。")
    await scene.me.wait_for_reply(contains="已记下")
    await scene.me.press(HANS.plain("rate.button.2"), message=notice)
    await scene.me.wait_for_reply(contains="原因")
    await scene.me.send("/cancel")
    assert (await scene.me.wait_for_reply()).text == HANS.plain("cancelled.question")
    await scene.me.wait_for_reply(contains="写完了")  # the draft's question, asked again
    await scene.me.send("等了两个小时。")
    await scene.me.wait_for_reply(contains="已记下")
    async with scene.session_factory() as session:
        record = await session.scalar(select(FsmRecord).where(FsmRecord.state.is_not(None)))
    assert record is not None and record.data["parts"] == ["社保窗口的人上班时间玩手机，不理人。", "等了两个小时。"]
    assert await scene.ratings(complaint.id) == 0


async def test_after_the_rating_window_the_citizen_is_told_and_old_buttons_are_refused_clearly(
    scene: Scene,
) -> None:
    complaint, notice = await resolved_and_delivered(scene)
    window_end = scene.deadlines.rating_due(scene.clock.now())
    assert f"评价期限：{scene.deadlines.describe(window_end, now=scene.clock.now())}" in notice.text
    buttons = {b["text"]: b["callback_data"] for row in notice.inline_keyboard or [] for b in row}
    await scene.me.send("/my")
    due = scene.deadlines.describe(window_end, now=scene.clock.now())
    assert HANS.plain("my.due.rate", due=due) in (await scene.me.wait_for_reply(contains="我的投诉")).text

    scene.clock.set(window_end)
    await timekeeper.run_once(scene.session_factory, scene.clock, scene.deadlines)
    await scene.deliver()
    told = await scene.me.wait_for_reply(contains="未评价")
    assert told.text == HANS.plain("notice.complaint.closed_unrated", tracking_no=complaint.tracking_no)
    assert (await scene.reload(complaint.id)).status == ComplaintStatus.CLOSED

    before = len(scene.me.bot_messages())
    for label in ("😊 满意", "😞 不满意"):  # pressed later on the old notice
        await scene.me.world.user_presses(scene.me.user.id, notice.message_id, buttons[label])
    await scene.harness.settle()
    assert scene.me.answers()[-2:] == [HANS.plain("error.rating_expired")] * 2
    assert len(scene.me.bot_messages()) == before  # a toast, no reason asked
    assert await scene.ratings(complaint.id) == 0
    assert (await scene.reload(complaint.id)).status == ComplaintStatus.CLOSED

    await scene.me.send(f"/status {complaint.tracking_no}")
    view = await scene.me.wait_for_reply(contains=HANS.plain("status.timeline"))
    assert HANS.plain("status.event.closed_unrated") in view.text
    assert not any(b["text"] in buttons for row in view.inline_keyboard or [] for b in row)


# --- 评价提醒 and rounds -------------------------------------------------------------------------------


async def test_the_rating_reminder_comes_once_before_the_window_closes_and_its_buttons_rate(scene: Scene) -> None:
    complaint, notice = await resolved_and_delivered(scene)
    assert rating_buttons(notice) == rating_data(complaint, 1)
    resolved_at = scene.clock.now()
    window_end, remind_at = scene.deadlines.rating_due(resolved_at), scene.deadlines.rating_reminder(resolved_at)
    assert remind_at is not None and remind_at.astimezone(ZONE).isoformat() == "2026-12-01T09:00:00+08:00"

    scene.clock.set(remind_at - timedelta(minutes=1))
    await run_timekeeper(scene)
    assert not [m for m in scene.me.bot_messages() if "评价提醒" in m.text]
    scene.clock.set(remind_at)
    await run_timekeeper(scene)
    reminder = await scene.me.wait_for_reply(contains="评价提醒")
    due = scene.deadlines.describe(window_end, now=scene.clock.now())
    assert due == "12月2日（周三）17:30前"
    assert reminder.text == HANS.plain(
        "notice.complaint.rating_reminder", tracking_no=complaint.tracking_no, rating_due_text=due
    )
    assert "未评价" in reminder.text and rating_buttons(reminder) == rating_data(complaint, 1)

    scene.clock.set(remind_at + timedelta(hours=3))  # once: a later round of the timekeeper sends nothing
    await run_timekeeper(scene)
    assert len([m for m in scene.me.bot_messages() if "评价提醒" in m.text]) == 1

    await scene.me.press(HANS.plain("rate.button.0"), message=reminder)
    await scene.harness.settle()
    assert (await scene.reload(complaint.id)).status == ComplaintStatus.CLOSED
    assert await scene.ratings(complaint.id) == 1
    kept = scene.me.world.find_message(scene.me.user.id, reminder.message_id)
    assert "感谢您的评价（满意）" in kept.text and not kept.inline_keyboard


async def test_a_citizen_who_rated_gets_no_reminder(scene: Scene) -> None:
    complaint, _ = await resolved_and_delivered(scene)
    remind_at = scene.deadlines.rating_reminder(scene.clock.now())
    assert remind_at is not None
    await scene.me.press(HANS.plain("rate.button.1"))
    await scene.harness.settle()
    scene.clock.set(remind_at + timedelta(hours=1))
    await run_timekeeper(scene)
    assert not [m for m in scene.me.bot_messages() if "评价提醒" in m.text]
    assert await scene.ratings(complaint.id) == 1


async def test_a_first_reply_button_pressed_after_reopen_and_a_new_reply_is_refused_and_the_new_one_rates(
    scene: Scene,
) -> None:
    complaint, first = await resolved_and_delivered(scene)
    old = rating_buttons(first)
    await scene.me.press(HANS.plain("rate.button.2"), message=first)
    await scene.me.wait_for_reply(contains="原因")
    await scene.me.send("户口还是没有迁过来，窗口说材料不全")
    await scene.me.wait_for_reply(contains="重新办理")
    await scene.act("resolve", complaint.id, "材料已补齐，户口已迁入。")
    await scene.deliver()
    second = await scene.me.wait_for_reply(contains="户口已迁入")
    assert rating_buttons(second) == rating_data(complaint, 2)

    before = len(scene.me.bot_messages())
    for data in (
        old[HANS.plain("rate.button.0")],  # 满意 on the first reply, never seen the second
        old[HANS.plain("rate.button.2")],  # 不满意: refused at once, no reason asked
        f"rat:{complaint.id}:0",  # a button sent before rounds were carried: taken as the first reply's
    ):
        await scene.me.press_data(first.message_id, data)
    await scene.harness.settle()
    superseded = HANS.plain("error.rating_superseded")
    assert superseded == "这是上一轮办理结果的评价按钮，请对最新的答复进行评价。发送 /my 可以查看最新答复。"
    assert scene.me.answers()[-3:] == [superseded] * 3
    assert len(scene.me.bot_messages()) == before  # toasts only
    assert (await scene.reload(complaint.id)).status == ComplaintStatus.RESOLVED
    assert await scene.ratings(complaint.id) == 1

    await scene.me.send(f"/status {complaint.tracking_no}")  # the status view offers the current reply's
    view = await scene.me.wait_for_reply(contains=HANS.plain("status.timeline"))
    assert rating_data(complaint, 2).items() <= rating_buttons(view).items()

    await scene.me.press(HANS.plain("rate.button.1"), message=second)
    await scene.harness.settle()
    closed = await scene.reload(complaint.id)
    assert closed.status == ComplaintStatus.CLOSED and closed.reopen_count == 1
    assert await scene.ratings(complaint.id) == 2
    assert "感谢您的评价（比较满意）" in scene.me.world.find_message(scene.me.user.id, second.message_id).text


async def test_a_button_sent_before_rounds_were_carried_still_rates_a_complaint_never_reopened(scene: Scene) -> None:
    complaint, notice = await resolved_and_delivered(scene)
    await scene.me.press_data(notice.message_id, f"rat:{complaint.id}:1")  # no round: an old chat's button
    await scene.harness.settle()
    assert (await scene.reload(complaint.id)).status == ComplaintStatus.CLOSED
    assert await scene.ratings(complaint.id) == 1
    assert "感谢您的评价（比较满意）" in scene.me.world.find_message(scene.me.user.id, notice.message_id).text


def test_rating_buttons_fit_telegrams_64_bytes_for_any_complaint_id() -> None:
    markup = rating_keyboard(2**63 - 1, 2, HANS)
    assert all(len(b.callback_data.encode()) <= 64 for row in markup.inline_keyboard for b in row)


# --- withdrawing ---------------------------------------------------------------------------------


async def test_withdraw_needs_confirmation_and_back_keeps_the_complaint(scene: Scene) -> None:
    complaint = await scene.complaint()
    await scene.me.send(f"/status {complaint.tracking_no}")
    view = await scene.me.wait_for_reply(contains=complaint.tracking_no)
    await scene.me.press(HANS.plain("status.button.withdraw"))
    await scene.harness.settle()
    assert "确定要撤回" in scene.me.world.find_message(scene.me.user.id, view.message_id).text
    await scene.me.press(HANS.plain("status.button.withdraw_back"))
    await scene.harness.settle()
    assert (await scene.reload(complaint.id)).status == ComplaintStatus.ASSIGNED
    await scene.me.press(HANS.plain("status.button.withdraw"))
    await scene.harness.settle()
    await scene.me.press(HANS.plain("status.button.withdraw_confirm"))
    await scene.harness.settle()
    assert (await scene.reload(complaint.id)).status == ComplaintStatus.WITHDRAWN
    shown = scene.me.world.find_message(scene.me.user.id, view.message_id).text
    # the status view again, now withdrawn; the news itself comes once, as the notice
    assert HANS.plain("status.word.withdrawn") in shown and HANS.plain("status.event.withdrawn") in shown
    withdrawn, _ = render_citizen_notice("complaint.withdrawn", {"tracking_no": complaint.tracking_no}, HANS)
    assert "撤回" in withdrawn and "群众" not in withdrawn  # the citizen is not spoken of in the third person


# --- words the citizen reads ------------------------------------------------------------------------


async def test_the_reopening_news_comes_once(scene: Scene) -> None:
    await resolved_and_delivered(scene)
    await scene.me.press(HANS.plain("rate.button.2"))
    await scene.me.wait_for_reply(contains="原因")
    await scene.me.send("户口还是没有迁过来")
    await scene.me.wait_for_reply()
    await scene.deliver()
    await scene.harness.settle()
    assert sum("退回" in m.text for m in scene.me.bot_messages()) == 1  # the notice, with the new deadline


async def test_rating_after_going_back_from_the_reason_reads_as_one_answer(scene: Scene) -> None:
    await resolved_and_delivered(scene)
    await scene.me.press(HANS.plain("rate.button.2"))
    question = await scene.me.wait_for_reply(contains="原因")
    await scene.me.press(HANS.plain("rate.button.back"))
    await scene.harness.settle()
    await scene.me.press(
        HANS.plain("rate.button.1"), message=scene.me.world.find_message(scene.me.user.id, question.message_id)
    )
    await scene.harness.settle()
    text = scene.me.world.find_message(scene.me.user.id, question.message_id).text
    assert "感谢您的评价（比较满意）" in text and HANS.plain("rate.back") not in text


async def test_replied_and_closed_are_named_alike_wherever_the_citizen_reads_them(scene: Scene) -> None:
    complaint, notice = await resolved_and_delivered(scene)
    assert "已办结" not in notice.text  # replied, waiting for the rating: not yet 办结/结案
    await scene.me.press(HANS.plain("rate.button.0"))
    await scene.harness.settle()
    await scene.me.send(f"/status {complaint.tracking_no}")
    view = await scene.me.wait_for_reply(contains=HANS.plain("status.timeline"))
    assert "已结案" in view.text and "已办结" not in view.text
