"""The citizen's chat where a question can be answered by typing as well as by its buttons, where a
button can be pressed twice or after its conversation ended, and where the stored conversation step no
longer exists after an upgrade. Through the shipped Dispatcher, a real aiogram Bot and the Bot API
stand-in."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram.fsm.storage.base import StorageKey
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.middlewares import FloodMiddleware
from handlers.texts import default_texts
from storage.models import Complaint, Evaluation, FsmRecord
from storage.vocabulary import EVALUATION_DIMENSIONS
from tests.botapi import ChatUser, Harness, running_bot, sandbox_server
from web.sandbox.world import ChatMessage

HANS = default_texts()("zh-Hans")
HANT = default_texts()("zh-Hant")
SENTENCE = "窗口工作人员态度恶劣，让我来回跑了好几趟。"
FALLBACK = HANS.plain("complaint.button.fallback", fallback="市政务服务中心")


@pytest.fixture
async def harness(session_factory: async_sessionmaker[AsyncSession], catalogue_loaded: None) -> AsyncIterator[Harness]:
    flood = FloodMiddleware(double_tap=0.0)  # the handlers themselves must act once
    async with sandbox_server() as sandbox, running_bot(session_factory, sandbox, flood=flood) as harness:
        yield harness


def now(user: ChatUser, message: ChatMessage) -> ChatMessage:
    """The message as the chat shows it now (after the bot's edits)."""
    return user.world.find_message(user.user.id, message.message_id)


async def to_place(user: ChatUser) -> ChatMessage:
    await user.send("/complain")
    await user.wait_for_reply(contains="写完了")
    await user.send(SENTENCE)
    await user.wait_for_reply(contains="字")
    await user.press(HANS.plain("complaint.button.done"))
    return await user.wait_for_reply(contains="发生在哪里")


async def to_phone(user: ChatUser) -> ChatMessage:
    await to_place(user)
    await user.press(HANS.plain("complaint.button.skip"))
    await user.wait_for_reply(contains="请选择要投诉的单位")
    await user.press(FALLBACK)
    await user.wait_for_reply(contains="匿名")
    await user.press(HANS.plain("complaint.button.named"))
    return await user.wait_for_reply(contains="电话")


async def stored_complaint(session_factory: async_sessionmaker[AsyncSession]) -> Complaint | None:
    async with session_factory() as session:
        return await session.scalar(select(Complaint))


# --- the complaint: an edited message ------------------------------------------------------------


async def test_a_message_edited_while_writing_is_answered_and_its_correction_taken_as_a_new_one(
    harness: Harness, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    """Editing a sent message changes nothing already noted: said (not dropped in silence), so the citizen
    sends the correction, which is added. Telegram sends edits only to a bot that handles them."""
    assert "edited_message" in harness.dispatcher.resolve_used_update_types()
    user = harness.user(name="林阿婆", language_code="zh-hk")
    await user.send("/complain")
    await user.wait_for_reply(contains="寫完了")
    await user.send("派出所窗口的人態度很差，電話１３９１２３４５６７")
    await user.wait_for_reply(contains="已記下")
    await user.edit(user.sent_messages()[-1].message_id, "派出所窗口的人態度很差，電話１３８１２３４５６７８")
    edited = await user.wait_for_reply(contains=HANT.plain("complaint.edited"))
    assert HANT.plain("complaint.button.done") in [b["text"] for row in edited.inline_keyboard or [] for b in row]
    await user.send("更正：電話是１３８１２３４５６７８")
    await user.wait_for_reply(contains="已記下")
    async with session_factory() as session:
        (record,) = (await session.scalars(select(FsmRecord).where(FsmRecord.state.is_not(None)))).all()
    assert record.data["parts"] == [
        "派出所窗口的人態度很差，電話１３９１２３４５６７",
        "更正：電話是１３８１２３４５６７８",
    ]


async def test_a_message_edited_after_the_text_is_done_is_answered_and_the_question_asked_again(
    harness: Harness,
) -> None:
    user = harness.user()
    await to_place(user)
    await user.edit(user.sent_messages()[-1].message_id, SENTENCE + "还骂人。")
    assert (await user.wait_for_reply()).text == HANS.plain("complaint.edited_later")
    assert "发生在哪里" in (await user.wait_for_reply()).text


async def test_a_message_edited_outside_a_complaint_is_answered(harness: Harness) -> None:
    user = harness.user()
    await user.send("/complain")
    await user.wait_for_reply(contains="写完了")
    await user.send("/cancel")
    await user.wait_for_reply(contains="已取消")
    await user.edit(user.sent_messages()[-1].message_id, "/cancel 不要了")
    assert (await user.wait_for_reply()).text == HANS.plain("hint.edited")


async def test_a_live_location_moving_is_not_answered_as_an_edit(harness: Harness) -> None:
    """Telegram sends each move of a live location as an edit of its message: no answer to each."""
    user = harness.user()
    await to_place(user)
    await user.world.user_sends(user.user.id, kind="location", location=(22.54, 114.05))
    await user.wait_for_reply(contains="请选择要投诉的单位")
    pin = user.sent_messages()[-1]
    raw = {
        "message_id": pin.message_id,
        "date": pin.date,
        "edit_date": pin.date + 60,
        "chat": user.user.as_chat(),
        "from": user.user.as_telegram(),
        "location": {"latitude": 22.55, "longitude": 114.06, "live_period": 900},
    }
    before = len(user.bot_messages())
    await user.world.push_update({"edited_message": raw})
    await harness.settle()
    assert len(user.bot_messages()) == before


# --- the complaint: a typed answer settles its question at once -------------------------------------


async def test_a_typed_place_settles_the_place_question_at_once_and_its_old_skip_is_stale(
    harness: Harness, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    user = harness.user()
    question = await to_place(user)
    skip = question.inline_keyboard[0][0]["callback_data"]
    await user.send("市民中心二楼社保窗口")
    await user.wait_for_reply(contains="请选择要投诉的单位")
    settled = now(user, question)
    assert settled.text == HANS.plain("complaint.chosen.place", place="市民中心二楼社保窗口")
    assert not settled.inline_keyboard
    await user.press_data(question.message_id, skip)  # pressed as it arrived, before the edit
    await harness.settle()
    assert user.answers()[-1] == HANS.plain("hint.stale_button")
    await user.press(FALLBACK)
    await user.wait_for_reply(contains="匿名")
    await user.press(HANS.plain("complaint.button.anonymous"))
    summary = await user.wait_for_reply(contains="请确认")
    assert "地点：市民中心二楼社保窗口" in summary.text
    await user.press(HANS.plain("complaint.button.confirm"))
    await user.wait_for_reply(contains="受理编号")
    complaint = await stored_complaint(session_factory)
    assert complaint is not None and complaint.location_text == "市民中心二楼社保窗口"


async def test_a_long_typed_place_shows_briefly_on_the_question_and_is_kept_whole(harness: Harness) -> None:
    user = harness.user()
    question = await to_place(user)
    place = "市民中心" + "二楼东侧" * 20
    await user.send(place)
    await user.wait_for_reply(contains="请选择要投诉的单位")
    text = now(user, question).text
    assert text.startswith("事情发生在哪里？✔ 市民中心二楼") and text.endswith("…") and len(text) < 60


async def test_a_place_asked_again_loses_every_button_once_typed(harness: Harness) -> None:
    user = harness.user()
    question = await to_place(user)
    await user.send_kind("sticker")
    await user.wait_for_reply(contains="语音")
    again = await user.wait_for_reply(contains="发生在哪里")
    await user.send("火车站")
    await user.wait_for_reply(contains="请选择要投诉的单位")
    assert not now(user, question).inline_keyboard and not now(user, again).inline_keyboard
    assert now(user, again).text == HANS.plain("complaint.chosen.place", place="火车站")


async def test_a_typed_phone_settles_the_phone_question_at_once(harness: Harness) -> None:
    user = harness.user()
    question = await to_phone(user)
    await user.send("138 1234 5678")
    await user.wait_for_reply(contains="请确认")
    settled = now(user, question)
    assert settled.text == HANS.plain("complaint.chosen.phone", phone="13812345678")
    assert not settled.inline_keyboard


async def test_a_wrong_number_then_a_right_one_leaves_no_skip_button_behind(harness: Harness) -> None:
    user = harness.user()
    question = await to_phone(user)
    await user.send("12345")
    wrong = await user.wait_for_reply(contains="号码好像不对")
    assert wrong.inline_keyboard
    await user.send("13812345678")
    await user.wait_for_reply(contains="请确认")
    assert not now(user, question).inline_keyboard and not now(user, wrong).inline_keyboard


async def test_an_agency_picked_from_typed_search_results_settles_the_suggestions(harness: Harness) -> None:
    user = harness.user()
    await to_place(user)
    await user.press(HANS.plain("complaint.button.skip"))
    suggestions = await user.wait_for_reply(contains="请选择要投诉的单位")
    await user.send("公安")
    found = await user.wait_for_reply(contains="公安")
    await user.press("市公安局", message=found)
    await user.wait_for_reply(contains="匿名")
    assert now(user, found).text == HANS.plain("complaint.chosen.agency", agency="市公安局")
    assert not now(user, suggestions).inline_keyboard


async def test_a_question_asked_again_after_typing_is_settled_with_the_original(harness: Harness) -> None:
    user = harness.user()
    await to_place(user)
    await user.press(HANS.plain("complaint.button.skip"))
    await user.wait_for_reply(contains="请选择要投诉的单位")
    await user.press(FALLBACK)
    first = await user.wait_for_reply(contains="匿名")
    await user.send("我要实名")
    again = await user.wait_for_reply(contains="是否匿名")
    await user.press(HANS.plain("complaint.button.named"), message=again)
    await user.wait_for_reply(contains="电话")
    assert not now(user, first).inline_keyboard
    assert now(user, again).text == HANS.plain("complaint.chosen.anonymity", choice="实名")


async def test_done_leaves_no_live_done_button_behind(harness: Harness) -> None:
    user = harness.user()
    await user.send("/complain")
    start = await user.wait_for_reply(contains="写完了")
    await user.send(SENTENCE)
    noted = await user.wait_for_reply(contains="字")
    await user.press(HANS.plain("complaint.button.done"), message=start)
    await user.wait_for_reply(contains="发生在哪里")
    assert not now(user, start).inline_keyboard and not now(user, noted).inline_keyboard


async def test_a_traditional_reader_sees_the_settled_place_in_traditional(harness: Harness) -> None:
    user = harness.user(name="陳小姐", language_code="zh-hk")
    await user.send("/complain")
    await user.wait_for_reply(contains="寫完了")
    await user.send("窗口工作人員態度惡劣，讓我來回跑了好幾趟。")
    await user.wait_for_reply(contains="字")
    await user.press(HANT.plain("complaint.button.done"))
    question = await user.wait_for_reply(contains="發生在哪裡")
    await user.send("市民中心")
    await user.wait_for_reply(contains="單位")
    assert now(user, question).text == HANT.plain("complaint.chosen.place", place="市民中心")
    assert now(user, question).text.startswith("事情發生在哪裡？✔")


# --- the evaluation: its 跳过 buttons pressed twice, late, or answered by typing ----------------------


async def evaluations(session_factory: async_sessionmaker[AsyncSession]) -> list[Evaluation]:
    async with session_factory() as session:
        return list(await session.scalars(select(Evaluation).order_by(Evaluation.id)))


def buttons(message: ChatMessage) -> dict[str, str]:
    """The message's buttons as they are now (label: callback data), to press later as they were."""
    return {b["text"]: b["callback_data"] for row in message.inline_keyboard or [] for b in row}


async def press_old(harness: Harness, user: ChatUser, message: ChatMessage, old: dict[str, str], label: str) -> None:
    """Press ``label`` as ``message`` showed it when ``old`` was taken (it may since have changed or gone)."""
    await user.press_data(message.message_id, old[label])
    await harness.settle()


async def to_scores(harness: Harness, user: ChatUser) -> ChatMessage:
    await user.send("/evaluate")
    panel = await user.wait_for_reply(contains="评议单位")
    for label in ("政法", "市公安局", HANS.plain("rate.button.1")):
        await user.press(label)
        await harness.settle()
    return panel


async def to_comment(harness: Harness, user: ChatUser) -> ChatMessage:
    panel = await to_scores(harness, user)
    await user.press(HANS.plain("evaluate.button.skip_scores"))
    await harness.settle()
    return panel


async def test_a_double_tapped_skip_of_one_score_skips_only_that_one(
    harness: Harness, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    user = harness.user()
    panel = await to_scores(harness, user)
    assert f"<b>{EVALUATION_DIMENSIONS[0]}</b>" in panel.html
    old = buttons(panel)
    for _ in range(2):  # both presses sent before the panel changed
        await user.press_data(panel.message_id, old[HANS.plain("evaluate.button.skip_dimension")])
    await harness.settle()
    assert f"<b>{EVALUATION_DIMENSIONS[1]}</b>" in now(user, panel).html and now(user, panel).inline_keyboard
    assert user.answers()[-1] == HANS.plain("hint.stale_button")
    for label in ("3", HANS.plain("evaluate.button.skip_scores"), HANS.plain("evaluate.button.skip_comment")):
        await user.press(label)
        await harness.settle()
    await user.press(HANS.plain("evaluate.button.confirm"))
    await harness.settle()
    [stored] = await evaluations(session_factory)
    assert stored.scores == {EVALUATION_DIMENSIONS[1]: 3}


async def test_double_tapped_skips_of_the_scores_and_the_comment_act_once_and_keep_the_panel_live(
    harness: Harness, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    user = harness.user()
    panel = await to_scores(harness, user)
    for step, label, shown in (
        (buttons(panel), HANS.plain("evaluate.button.skip_scores"), "还有什么意见"),
        (None, HANS.plain("evaluate.button.skip_comment"), "请确认"),
    ):
        old = step or buttons(panel)
        await press_old(harness, user, panel, old, label)
        await press_old(harness, user, panel, old, label)
        assert user.answers()[-1] == HANS.plain("hint.stale_button")
        assert shown in now(user, panel).text and now(user, panel).inline_keyboard
    await user.press(HANS.plain("evaluate.button.confirm"))
    await harness.settle()
    [stored] = await evaluations(session_factory)
    assert (stored.scores, stored.comment) == ({}, None)


async def test_skips_pressed_after_the_evaluation_ended_change_nothing_and_lose_their_buttons(
    harness: Harness, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    user = harness.user()
    panel = await to_comment(harness, user)
    old = buttons(panel)
    await user.send("/cancel")
    await user.wait_for_reply(contains="已取消")
    await press_old(harness, user, panel, old, HANS.plain("evaluate.button.skip_comment"))
    assert user.answers()[-1] == HANS.plain("hint.stale_button")
    assert not now(user, panel).inline_keyboard and "还有什么意见" in now(user, panel).text

    panel = await to_comment(harness, user)
    old = buttons(panel)
    await user.press(HANS.plain("evaluate.button.skip_comment"))
    await harness.settle()
    await user.press(HANS.plain("evaluate.button.confirm"))
    await harness.settle()
    await press_old(harness, user, panel, old, HANS.plain("evaluate.button.skip_comment"))
    assert user.answers()[-1] == HANS.plain("hint.stale_button")
    assert "感谢您的评议" in now(user, panel).text
    assert len(await evaluations(session_factory)) == 1
    async with session_factory() as session:
        assert await session.scalar(select(FsmRecord).where(FsmRecord.state.is_not(None))) is None


async def test_a_typed_comment_settles_the_comment_panel_and_its_buttons_are_stale(
    harness: Harness, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    user = harness.user()
    panel = await to_comment(harness, user)
    old = buttons(panel)
    await user.send("排队两个小时，只有一个窗口开着")
    confirm = await user.wait_for_reply(contains="请确认")
    confirm_text = confirm.text
    settled = now(user, panel)
    assert settled.text == HANS.plain("evaluate.chosen.comment", comment="排队两个小时，只有一个窗口开着")
    assert not settled.inline_keyboard
    for label in (HANS.plain("evaluate.button.skip_comment"), HANS.plain("evaluate.button.back")):
        await press_old(harness, user, panel, old, label)  # pressed as it arrived, before the edit
        assert user.answers()[-1] == HANS.plain("hint.stale_button")
    assert now(user, confirm).text == confirm_text and now(user, confirm).inline_keyboard
    await user.press(HANS.plain("evaluate.button.confirm"))
    await harness.settle()
    [stored] = await evaluations(session_factory)
    assert stored.comment == "排队两个小时，只有一个窗口开着"


async def test_a_comment_sent_in_two_messages_is_kept_whole(
    harness: Harness, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    """A long comment comes in pieces (typed so, or split by Telegram): the second one, arriving at the
    confirmation, adds to the comment rather than being turned away."""
    user = harness.user()
    await to_comment(harness, user)
    await user.send("排队两个小时，只有一个窗口开着，")
    await user.wait_for_reply(contains="请确认")
    await user.send("工作人员还在玩手机。")
    confirm = await user.wait_for_reply(contains="请确认")
    assert "工作人员还在玩手机" in confirm.text and "排队两个小时" in confirm.text
    await user.press(HANS.plain("evaluate.button.confirm"))
    await harness.settle()
    [stored] = await evaluations(session_factory)
    assert stored.comment == "排队两个小时，只有一个窗口开着，\n工作人员还在玩手机。"


async def test_a_typed_agency_name_replaces_the_area_panel(harness: Harness) -> None:
    user = harness.user()
    await user.send("/evaluate")
    panel = await user.wait_for_reply(contains="评议单位")
    old = buttons(panel)
    await user.send("公安")
    found = await user.wait_for_reply(contains=HANS.plain("evaluate.search_results"))
    assert not now(user, panel).inline_keyboard
    await press_old(harness, user, panel, old, "政法")
    assert user.answers()[-1] == HANS.plain("hint.stale_button")
    await user.press("市公安局", message=found)
    await harness.settle()
    assert "总体来说" in now(user, found).text
    assert "评议单位" in now(user, panel).text


# --- a conversation step that no longer exists ----------------------------------------------------


async def leave_in_state(harness: Harness, user: ChatUser, state: str) -> None:
    key = StorageKey(bot_id=harness.bot.id, chat_id=user.user.id, user_id=user.user.id)
    await harness.dispatcher.storage.set_state(key, state)
    await harness.dispatcher.storage.set_data(key, {"number_for": "old"})


async def test_a_command_in_a_state_an_upgrade_removed_works_as_if_none_was_set(
    harness: Harness, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    user = harness.user()
    await leave_in_state(harness, user, "StatusLookup:waiting_for_number")
    await user.send("/complain")
    assert "请用文字描述" in (await user.wait_for_reply()).text
    async with session_factory() as session:
        record = await session.scalar(select(FsmRecord).where(FsmRecord.state.is_not(None)))
    assert record is not None and record.state == "Filing:text" and "number_for" not in record.data


async def test_text_or_a_button_in_a_state_an_upgrade_removed_is_answered_and_the_state_cleared(
    harness: Harness, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    user = harness.user()
    await leave_in_state(harness, user, "StatusLookup:waiting_for_number")
    await user.send("你好")
    assert (await user.wait_for_reply()).text == HANS("hint.unknown_text")
    async with session_factory() as session:
        assert await session.scalar(select(FsmRecord).where(FsmRecord.state.is_not(None))) is None
    await leave_in_state(harness, user, "Filing:where")
    await user.press(HANS.plain("menu.evaluate"))
    await user.wait_for_reply(contains="评议单位")
