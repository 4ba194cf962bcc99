"""The tester's second walk of the citizen's chat: a complaint typed before 我要投诉 and then 我要投诉
pressed (the typed text is meant), the offer saying which text it means, and the wording of the place,
what the tagger understood and a sticker sent while describing. Through the shipped Dispatcher, a real
aiogram Bot and the Bot API stand-in."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.middlewares import FloodMiddleware
from bot.service import load_tagger
from handlers.citizen_callbacks import brief
from minsheng.settings import Settings
from tests.botapi import Harness, running_bot, sandbox_server
from tests.test_citizen_flow import (
    COMPLAINT,
    FILE_IT,
    HANS,
    HANT,
    NO_THANKS,
    SENTENCE,
    buttons,
    draft,
    finish_anonymously,
    now,
    send_pin,
    stored_complaint,
    to_place,
)

COMPLAIN_BUTTON = HANS.plain("menu.complain")


@pytest.fixture
async def harness(session_factory: async_sessionmaker[AsyncSession], catalogue_loaded: None) -> AsyncIterator[Harness]:
    flood = FloodMiddleware(double_tap=0.0)  # the handlers themselves must act once
    async with sandbox_server() as sandbox, running_bot(session_factory, sandbox, flood=flood) as harness:
        yield harness


# --- 1. 我要投诉 (or /complain) with an offer pending takes the offered text ---------------------------


@pytest.mark.parametrize("how", ["button", "command"])
async def test_complain_under_the_welcome_takes_the_text_on_offer(
    harness: Harness, session_factory: async_sessionmaker[AsyncSession], how: str
) -> None:
    user = harness.user()
    await user.send(COMPLAINT)
    first = await user.wait_for_reply(contains="作为投诉提交吗")
    old = buttons(first)
    await user.send("/start")
    welcome = await user.wait_for_reply(contains="民声")
    again = await user.wait_for_reply(contains="作为投诉提交吗")
    if how == "button":
        await user.press(COMPLAIN_BUTTON, message=welcome)
    else:
        await user.send("/complain")
    taken = await user.wait_for_reply(contains=f"共 {len(COMPLAINT)} 字")
    assert taken.text == HANS.plain("complaint.offer_taken", chars=len(COMPLAINT))
    settled = now(user, again)  # told as pressing 作为投诉提交 tells it
    assert settled.text.endswith("✔ " + FILE_IT) and not settled.inline_keyboard
    record = await draft(session_factory)
    assert record is not None and record.state == "Filing:text" and record.data["parts"] == [COMPLAINT]
    await user.press_data(first.message_id, old[FILE_IT])  # the offer is taken: its buttons are stale
    await harness.settle()
    assert user.answers()[-1] == HANS.plain("hint.stale_button")
    record = await draft(session_factory)
    assert record is not None and record.data["parts"] == [COMPLAINT]


async def test_complain_without_an_offer_still_starts_an_empty_complaint(
    harness: Harness, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    user = harness.user()
    await user.send(COMPLAINT)
    await user.wait_for_reply(contains="作为投诉提交吗")
    await user.press(NO_THANKS)
    await harness.settle()
    await user.send("/complain")
    assert (await user.wait_for_reply()).text == HANS.plain("complaint.start")
    record = await draft(session_factory)
    assert record is not None and record.data["parts"] == []


# --- 2. the offer quotes the text it means ----------------------------------------------------------


async def test_the_offer_quotes_the_beginning_of_its_text_first_and_under_the_welcome(harness: Harness) -> None:
    user = harness.user()
    excerpt = brief(COMPLAINT)
    assert excerpt.endswith("…") and len(excerpt) < len(COMPLAINT)
    await user.send(COMPLAINT)
    first = await user.wait_for_reply(contains="作为投诉提交吗")
    assert f"“{excerpt}”" in first.text
    await user.send("/start")
    await user.wait_for_reply(contains="民声")
    again = await user.wait_for_reply(contains="作为投诉提交吗")
    assert again.text == first.text
    await user.send(SENTENCE)  # two texts: quoted from the first one's beginning
    both = await user.wait_for_reply(contains="作为投诉提交吗")
    assert "2" in both.text and f"“{excerpt}”" in both.text


def test_the_offer_quotes_the_citizens_words_as_written_in_traditional_quotes() -> None:
    hant = HANT.plain("complaint.offer", text=brief(COMPLAINT))
    assert f"「{brief(COMPLAINT)}」" in hant


# --- 3. wording ----------------------------------------------------------------------------------------


async def test_a_location_pin_is_stored_and_shown_without_a_second_label(
    harness: Harness, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    user = harness.user()
    await to_place(user)
    await send_pin(user, location={"latitude": 31.230416, "longitude": 121.473701})
    await user.wait_for_reply(contains="请选择要投诉的单位")
    summary = await finish_anonymously(user)
    assert "地点：纬度 31.23042，经度 121.47370" in summary.text and "位置：" not in summary.text
    await user.press(HANS.plain("complaint.button.confirm"))
    await user.wait_for_reply(contains="受理编号")
    complaint = await stored_complaint(session_factory)
    assert complaint is not None and complaint.location_text == "纬度 31.23042，经度 121.47370"


async def test_a_location_pin_of_a_traditional_reader_is_shown_in_traditional(harness: Harness) -> None:
    """The coordinates' labels are the service's words, not the citizen's: in the reader's script."""
    user = harness.user(name="陳大文", language_code="zh-hk")
    await user.send("/complain")
    await user.wait_for_reply(contains="寫完了")
    await user.send("窗口工作人員態度惡劣，讓我來回跑了好幾趟。")
    await user.wait_for_reply(contains="字")
    await user.press(HANT.plain("complaint.button.done"))
    await user.wait_for_reply(contains="發生在哪裡")
    await send_pin(user, location={"latitude": 31.230416, "longitude": 121.473701})
    await user.wait_for_reply(contains="請選擇要投訴的單位")
    await user.press(HANT.plain("complaint.button.fallback", fallback="市政务服务中心"))
    await user.wait_for_reply(contains="匿名")
    await user.press(HANT.plain("complaint.button.anonymous"))
    summary = await user.wait_for_reply(contains="請確認")
    assert "地點：緯度 31.23042，經度 121.47370" in summary.text


async def test_nothing_recognised_says_no_understood_line(harness: Harness) -> None:
    user = harness.user()
    await to_place(user)  # this harness runs without a tagger: nothing is recognised
    await user.press(HANS.plain("complaint.button.skip"))
    question = await user.wait_for_reply(contains="请选择要投诉的单位")
    assert "未识别" not in question.text and "看出" not in question.text
    assert question.text.startswith("请选择要投诉的单位")


async def test_what_was_recognised_is_said_and_what_was_not_is_left_out(
    session_factory: async_sessionmaker[AsyncSession], catalogue_loaded: None
) -> None:
    tagger = await load_tagger(session_factory, Settings())
    async with sandbox_server() as sandbox, running_bot(session_factory, sandbox, tagger=tagger) as harness:
        user = harness.user()
        text = "今天天气很好，我想说说我的一些想法和看法。"  # no problem type, no area
        tag = tagger.tag(SENTENCE)
        assert tag.problem_types and tag.area is None  # a problem type, no area
        await to_place(user, SENTENCE)
        await user.press(HANS.plain("complaint.button.skip"))
        question = await user.wait_for_reply(contains="请选择要投诉的单位")
        assert "看出" in question.text and "问题类型：" + "、".join(tag.problem_types) in question.text
        assert "涉及领域" not in question.text and "未识别" not in question.text
        await user.send("/cancel")
        await user.wait_for_reply(contains="取消")
        assert not tagger.tag(text).problem_types and tagger.tag(text).area is None
        await to_place(user, text)
        await user.press(HANS.plain("complaint.button.skip"))
        question = await user.wait_for_reply(contains="请选择要投诉的单位")
        assert "看出" not in question.text and "未识别" not in question.text


async def test_a_sticker_while_describing_says_what_was_typed_is_kept(
    harness: Harness, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    user = harness.user()
    await user.send("/complain")
    await user.wait_for_reply(contains="写完了")
    await user.send(SENTENCE)
    await user.wait_for_reply(contains="字")
    await user.send_kind("sticker")
    await user.wait_for_reply(contains="贴纸")
    again = await user.wait_for_reply()
    assert again.text == HANS.plain("complaint.continue", chars=len(SENTENCE))
    assert "已记下您前面输入的内容" in again.text and HANS.plain("complaint.start") not in again.text
    assert set(buttons(again)) == {HANS.plain("complaint.button.done"), HANS.plain("complaint.button.cancel")}
    record = await draft(session_factory)
    assert record is not None and record.data["parts"] == [SENTENCE]


async def test_a_sticker_before_anything_was_typed_asks_the_description(harness: Harness) -> None:
    user = harness.user()
    await user.send("/complain")
    await user.wait_for_reply(contains="写完了")
    await user.send_kind("sticker")
    await user.wait_for_reply(contains="贴纸")
    assert (await user.wait_for_reply()).text == HANS.plain("complaint.start")
