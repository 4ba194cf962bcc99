"""The /complain conversation at its edges, as a citizen on a phone meets them: very long or blank
text, numbers typed the way people type them, typing or sending a photo where a button is expected,
the agency picker, anonymity. Through the shipped Dispatcher and the Bot API stand-in."""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import SimpleNamespace

import pytest
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import AnswerCallbackQuery
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from handlers.errors import errors_router
from handlers.long_text import TELEGRAM_LIMIT, utf16_length
from handlers.texts import default_texts
from storage.models import Complaint, FsmRecord
from tests.botapi import ChatUser, Harness, running_bot, sandbox_server

HANS = default_texts()("zh-Hans")
SENTENCE = "窗口工作人员态度恶劣，让我来回跑了好几趟。"  # 21 characters


def text_of(length: int) -> str:
    return (SENTENCE * (length // len(SENTENCE) + 1))[:length]


@pytest.fixture
async def harness(session_factory: async_sessionmaker[AsyncSession], catalogue_loaded: None) -> AsyncIterator[Harness]:
    async with sandbox_server() as sandbox, running_bot(session_factory, sandbox) as harness:
        yield harness


async def write(user: ChatUser, *pieces: str) -> None:
    await user.send("/complain")
    await user.wait_for_reply(contains="写完了")
    for piece in pieces:
        await user.send(piece)
        await user.wait_for_reply(contains="字")


async def to_anonymity(user: ChatUser, *pieces: str) -> None:
    await write(user, *pieces)
    await user.press(HANS.plain("complaint.button.done"))
    await user.wait_for_reply(contains="发生在哪里")
    await user.press(HANS.plain("complaint.button.skip"))
    await user.wait_for_reply(contains="单位")
    await user.press(HANS.plain("complaint.button.fallback", fallback="市政务服务中心"))
    await user.wait_for_reply(contains="匿名")


async def stored(session_factory: async_sessionmaker[AsyncSession]) -> Complaint:
    async with session_factory() as session:
        return await session.scalar(
            select(Complaint).options(selectinload(Complaint.attachments), selectinload(Complaint.owner_agency))
        )


# --- long, over-long and blank text ----------------------------------------------------------------


async def test_a_6000_character_complaint_gets_a_summary_that_fits_and_can_be_confirmed(
    harness: Harness, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    user = harness.user()
    text = text_of(6000)
    await to_anonymity(user, text[:3000], text[3000:])
    await user.press(HANS.plain("complaint.button.named"))
    await user.wait_for_reply(contains="电话")
    await user.press(HANS.plain("complaint.button.skip"))
    summary = await user.wait_for_reply(contains="请确认")
    assert utf16_length(summary.text) <= TELEGRAM_LIMIT
    assert "6001" in summary.text or "6000" in summary.text  # the length, so the citizen knows all is kept
    await user.press(HANS.plain("complaint.button.confirm"))
    await user.wait_for_reply(contains="受理编号")
    assert (await stored(session_factory)).text == text[:3000] + "\n" + text[3000:]


async def test_text_beyond_the_limit_is_cut_and_the_citizen_is_told_what_was_kept(
    harness: Harness, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    user = harness.user()
    pieces = [str(index) + text_of(3603) for index in range(6)]  # none alike: a repeat is taken once
    await write(user, *pieces[:5])  # 18,020 characters
    await user.send(pieces[5])
    told = await user.wait_for_reply()
    assert "20000" in told.text and "1980" in told.text and "1624" in told.text  # kept and dropped
    await user.send("还有一句")
    full = await user.wait_for_reply()
    assert "20000" in full.text and "没有记下" in full.text
    async with session_factory() as session:
        record = await session.scalar(select(FsmRecord).where(FsmRecord.state.is_not(None)))
    assert sum(len(part) for part in record.data["parts"]) == 20_000


@pytest.mark.parametrize("blank", ["   ", "\n\u3000\n"])
async def test_a_blank_message_is_not_taken_as_complaint_text(
    harness: Harness, session_factory: async_sessionmaker[AsyncSession], blank: str
) -> None:
    user = harness.user()
    await write(user)
    await user.send(blank)
    assert (await user.wait_for_reply()).text == HANS.plain("hint.empty")
    async with session_factory() as session:
        record = await session.scalar(select(FsmRecord).where(FsmRecord.state.is_not(None)))
    assert record.data["parts"] == []


# --- the error handler ---------------------------------------------------------------------------


async def test_the_apology_is_sent_even_when_the_button_press_can_no_longer_be_answered() -> None:
    sent: list[str] = []

    async def too_old(*args: object, **kwargs: object) -> None:
        raise TelegramBadRequest(AnswerCallbackQuery(callback_query_id="1"), "query is too old")

    async def answer(text: str, **kwargs: object) -> None:
        sent.append(text)

    query = SimpleNamespace(answer=too_old, message=SimpleNamespace(answer=answer))
    event = SimpleNamespace(exception=RuntimeError("boom"), update=SimpleNamespace(update_id=1, callback_query=query))
    (handler,) = errors_router().observers["error"].handlers
    assert await handler.callback(event, tr=HANS) is True
    assert sent == [HANS("error.unknown")]


# --- numbers as people type them -----------------------------------------------------------------


@pytest.mark.parametrize("typed", ["138-1234-5678", "138 1234 5678", "+86 138 1234 5678", "１３８１２３４５６７８"])
async def test_a_phone_number_is_accepted_as_people_type_it(
    harness: Harness, session_factory: async_sessionmaker[AsyncSession], typed: str
) -> None:
    user = harness.user()
    await to_anonymity(user, SENTENCE)
    await user.press(HANS.plain("complaint.button.named"))
    await user.wait_for_reply(contains="电话")
    await user.send(typed)
    summary = await user.wait_for_reply()
    assert "请确认" in summary.text and "电话：13812345678" in summary.text


# --- typing or sending where a button is expected --------------------------------------------------


async def test_text_where_a_button_is_expected_points_at_the_buttons_and_asks_again(harness: Harness) -> None:
    user = harness.user()
    await to_anonymity(user, SENTENCE)
    await user.send("我要实名")
    assert (await user.wait_for_reply()).text == HANS.plain("complaint.use_buttons")
    again = await user.wait_for_reply(contains="匿名")
    assert [b["text"] for b in again.inline_keyboard[0]] == ["实名", "匿名"]
    await user.press("实名")  # the buttons of the question asked again work
    await user.wait_for_reply(contains="电话")


async def test_start_in_the_middle_of_a_complaint_repeats_the_current_question(harness: Harness) -> None:
    user = harness.user()
    await to_anonymity(user, SENTENCE)
    await user.send("/start")
    await user.wait_for_reply(contains="没有完成")
    again = await user.wait_for_reply(contains="匿名")
    assert again.inline_keyboard


async def test_a_photo_sent_after_the_text_step_is_kept_and_the_question_comes_again(
    harness: Harness, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    user = harness.user()
    await write(user, SENTENCE)
    await user.press(HANS.plain("complaint.button.done"))
    await user.wait_for_reply(contains="发生在哪里")
    await user.send_kind("photo")
    assert "会随投诉一起提交" in (await user.wait_for_reply()).text
    await user.wait_for_reply(contains="发生在哪里")
    await user.send_kind("voice")
    assert "语音" in (await user.wait_for_reply()).text
    await user.wait_for_reply(contains="发生在哪里")
    await user.press(HANS.plain("complaint.button.skip"))
    await user.wait_for_reply(contains="单位")
    await user.press(HANS.plain("complaint.button.fallback", fallback="市政务服务中心"))
    await user.wait_for_reply(contains="匿名")
    await user.press("匿名")
    summary = await user.wait_for_reply(contains="请确认")
    assert "附件：1 个" in summary.text
    await user.press(HANS.plain("complaint.button.confirm"))
    await user.wait_for_reply(contains="受理编号")
    assert [a.kind for a in (await stored(session_factory)).attachments] == ["photo"]


# --- the agency and anonymity --------------------------------------------------------------------


async def test_an_anonymous_complaint_is_not_asked_for_a_phone_and_the_fallback_is_named(
    harness: Harness, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    user = harness.user()
    await to_anonymity(user, SENTENCE)
    await user.press("匿名")
    summary = await user.wait_for_reply()
    assert "请确认" in summary.text and "兜底" not in summary.text and "市政务服务中心" in summary.text
    assert HANS.plain("complaint.ask_phone") not in [m.text for m in user.bot_messages()]
    await user.press(HANS.plain("complaint.button.confirm"))
    await user.wait_for_reply(contains="受理编号")
    complaint = await stored(session_factory)
    assert complaint.anonymous and complaint.contact_phone is None
    assert complaint.owner_agency.name == "市政务服务中心"


async def test_the_agency_list_goes_by_area_leads_back_and_offers_the_fallback(harness: Harness) -> None:
    user = harness.user()
    await write(user, SENTENCE)
    await user.press(HANS.plain("complaint.button.done"))
    await user.wait_for_reply(contains="发生在哪里")
    await user.press(HANS.plain("complaint.button.skip"))
    suggestions = await user.wait_for_reply(contains="请选择要投诉的单位")
    assert "兜底" not in suggestions.text
    await user.press(HANS.plain("complaint.button.more"))
    await harness.settle()
    areas = user.world.find_message(user.user.id, suggestions.message_id)
    labels = [b["text"] for row in areas.inline_keyboard for b in row]
    assert "政法" in labels and HANS.plain("complaint.button.back") in labels
    assert HANS.plain("complaint.button.fallback", fallback="市政务服务中心") in labels
    await user.press("政法")
    await harness.settle()
    police = user.world.find_message(user.user.id, suggestions.message_id)
    names = [b["text"] for row in police.inline_keyboard for b in row]
    assert "市公安局" in names and "市效能办" not in names
    await user.press(HANS.plain("complaint.button.back"))
    await harness.settle()
    await user.press(HANS.plain("complaint.button.back"))
    await harness.settle()
    assert user.world.find_message(user.user.id, suggestions.message_id).text == suggestions.text


async def test_a_typed_agency_name_finds_it(
    harness: Harness, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    user = harness.user()
    await write(user, SENTENCE)
    await user.press(HANS.plain("complaint.button.done"))
    await user.wait_for_reply(contains="发生在哪里")
    await user.press(HANS.plain("complaint.button.skip"))
    await user.wait_for_reply(contains="请选择要投诉的单位")
    await user.send("公安")
    found = await user.wait_for_reply(contains="公安")
    assert found.inline_keyboard[0][0]["text"] == "市公安局"
    await user.press("市公安局", message=found)
    await user.wait_for_reply(contains="匿名")
    await user.press("匿名")
    await user.wait_for_reply(contains="请确认")
    await user.press(HANS.plain("complaint.button.confirm"))
    await user.wait_for_reply(contains="受理编号")
    assert (await stored(session_factory)).owner_agency.name == "市公安局"


async def test_complain_again_before_anything_was_entered_simply_starts_over(harness: Harness) -> None:
    user = harness.user()
    await write(user)
    await user.send("/complain")
    assert (await user.wait_for_reply()).text == HANS.plain("complaint.start")
    await user.send("/cancel")
    assert "填写的内容" not in (await user.wait_for_reply()).text
