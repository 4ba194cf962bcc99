"""The citizen's chat as a tester walked it on a phone: a complaint typed before pressing 我要投诉, a
message sent twice on a bad network, a location pin for the place, a failed agency search, and the
lengths the citizen is told. Through the shipped Dispatcher, a real aiogram Bot and the Bot API stand-in."""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.middlewares import FloodMiddleware
from bot.service import load_tagger
from handlers.texts import default_texts
from minsheng.settings import Settings
from storage.models import AgencyContact, Complaint, ContactRole, FsmRecord
from tests.botapi import ChatUser, Harness, Sandbox, running_bot, sandbox_server
from tests.factories import agency
from web.sandbox.world import ChatMessage
from workflow.evaluations import MAX_COMMENT
from workflow.filing import MAX_CHARS

HANS = default_texts()("zh-Hans")
HANT = default_texts()("zh-Hant")
SENTENCE = "窗口工作人员态度恶劣，让我来回跑了好几趟。"  # 21 characters
COMPLAINT = "我上周二去市民中心社保窗口办医保卡，工作人员态度恶劣，爱理不理，让我跑了三趟都没办成。"
FALLBACK = HANS.plain("complaint.button.fallback", fallback="市政务服务中心")
FILE_IT = HANS.plain("complaint.button.offer_file")
NO_THANKS = HANS.plain("complaint.button.offer_no")
RAW_IDS = itertools.count(1_000_000)  # ids of messages pushed as raw updates (pins), clear of the chat's own


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with sandbox_server() as sandbox:
        yield sandbox


@pytest.fixture
async def harness(
    session_factory: async_sessionmaker[AsyncSession], catalogue_loaded: None, sandbox: Sandbox
) -> AsyncIterator[Harness]:
    flood = FloodMiddleware(double_tap=0.0)  # the handlers themselves must act once
    async with running_bot(session_factory, sandbox, flood=flood) as harness:
        yield harness


def now(user: ChatUser, message: ChatMessage) -> ChatMessage:
    return user.world.find_message(user.user.id, message.message_id)


def buttons(message: ChatMessage) -> dict[str, str]:
    return {b["text"]: b["callback_data"] for row in message.inline_keyboard or [] for b in row}


async def stored_complaint(session_factory: async_sessionmaker[AsyncSession]) -> Complaint | None:
    async with session_factory() as session:
        return await session.scalar(select(Complaint))


async def draft(session_factory: async_sessionmaker[AsyncSession]) -> FsmRecord | None:
    async with session_factory() as session:
        return await session.scalar(select(FsmRecord).where(FsmRecord.state.is_not(None)))


async def send_pin(user: ChatUser, **content: Any) -> int:
    """A location or venue message, as a phone sends it (the stand-in's chat page has no such button)."""
    raw = {
        "message_id": next(RAW_IDS),
        "date": int(time.time()),
        "chat": user.user.as_chat(),
        "from": user.user.as_telegram(),
        **content,
    }
    return await user.world.push_update({"message": raw})


async def finish_anonymously(user: ChatUser) -> ChatMessage:
    """From the agency question to the summary."""
    await user.press(FALLBACK)
    await user.wait_for_reply(contains="匿名")
    await user.press(HANS.plain("complaint.button.anonymous"))
    return await user.wait_for_reply(contains="请确认")


async def to_place(user: ChatUser, text: str = SENTENCE) -> ChatMessage:
    await user.send("/complain")
    await user.wait_for_reply(contains="写完了")
    await user.send(text)
    await user.wait_for_reply(contains="字")
    await user.press(HANS.plain("complaint.button.done"))
    return await user.wait_for_reply(contains="发生在哪里")


# --- 1. a complaint typed without /complain is kept and offered ---------------------------------------


async def test_a_complaint_typed_without_complain_is_offered_and_filed_without_typing_it_again(
    harness: Harness, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    user = harness.user()
    await user.send("/start")
    await user.wait_for_reply(contains="民声")
    await user.send(COMPLAINT)
    offer = await user.wait_for_reply(contains="作为投诉提交吗")
    assert set(buttons(offer)) == {FILE_IT, NO_THANKS}
    await user.press(FILE_IT)
    taken = await user.wait_for_reply(contains=f"共 {len(COMPLAINT)} 字")
    assert now(user, offer).text.endswith("✔ " + FILE_IT) and not now(user, offer).inline_keyboard
    assert HANS.plain("complaint.button.done") in buttons(taken)
    await user.send(SENTENCE)  # more, as after /complain
    await user.wait_for_reply(contains=f"共 {len(COMPLAINT) + len(SENTENCE)} 字")
    await user.press(HANS.plain("complaint.button.done"))
    await user.wait_for_reply(contains="发生在哪里")
    await user.press(HANS.plain("complaint.button.skip"))
    await user.wait_for_reply(contains="请选择要投诉的单位")
    summary = await finish_anonymously(user)
    assert COMPLAINT in summary.text
    await user.press(HANS.plain("complaint.button.confirm"))
    await user.wait_for_reply(contains="受理编号")
    complaint = await stored_complaint(session_factory)
    assert complaint is not None and complaint.text == COMPLAINT + "\n" + SENTENCE


async def test_two_messages_typed_without_complain_are_offered_together_and_a_double_send_once(
    harness: Harness, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    user = harness.user()
    await user.send(COMPLAINT)
    first = await user.wait_for_reply(contains="作为投诉提交吗")
    await user.send(SENTENCE)
    second = await user.wait_for_reply(contains="作为投诉提交吗")
    assert not now(user, first).inline_keyboard and "2" in second.text
    await user.send(SENTENCE)  # the same message again (a double send)
    assert (await user.wait_for_reply()).text == HANS.plain("complaint.repeated_offer")
    await user.press(FILE_IT)
    await user.wait_for_reply(contains=f"共 {len(COMPLAINT) + len(SENTENCE)} 字")
    record = await draft(session_factory)
    assert record is not None and record.state == "Filing:text"
    assert record.data["parts"] == [COMPLAINT, SENTENCE]


async def test_a_short_line_sent_while_a_complaint_is_on_offer_joins_it(
    harness: Harness, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    """Only the first piece must look like a complaint; a short one after it (a time, a floor) is part of it."""
    user = harness.user()
    await user.send(COMPLAINT)
    await user.wait_for_reply(contains="作为投诉提交吗")
    await user.send("/Status 20261123-0001")  # a mistyped command is no part of it
    assert (await user.wait_for_reply()).text == HANS.plain("hint.unknown_text")
    await user.send("昨天下午三点")
    again = await user.wait_for_reply(contains="作为投诉提交吗")
    assert "2" in again.text
    await user.press(FILE_IT)
    await user.wait_for_reply(contains="字")
    record = await draft(session_factory)
    assert record is not None and record.data["parts"] == [COMPLAINT, "昨天下午三点"]


async def test_a_photo_sent_while_a_complaint_is_on_offer_joins_it_with_its_caption(
    harness: Harness, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    user = harness.user()
    await user.send(COMPLAINT)
    await user.wait_for_reply(contains="作为投诉提交吗")
    await user.send_kind("photo", caption="这是窗口贴的通知")
    assert (await user.wait_for_reply()).text == HANS.plain("complaint.file_noted_later", count=1)
    await user.wait_for_reply(contains="作为投诉提交吗")
    await user.press(FILE_IT)
    await user.wait_for_reply(contains="字")
    record = await draft(session_factory)
    assert record is not None and record.data["parts"] == [COMPLAINT, "这是窗口贴的通知"]
    assert [f["kind"] for f in record.data["files"]] == ["photo"]


async def test_a_photo_whose_caption_is_a_complaint_is_offered_like_text(
    harness: Harness, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    user = harness.user()
    await user.send_kind("photo", caption=COMPLAINT)
    await user.wait_for_reply(contains="作为投诉提交吗")
    await user.press(FILE_IT)
    await user.wait_for_reply(contains="字")
    record = await draft(session_factory)
    assert record is not None and record.data["parts"] == [COMPLAINT] and len(record.data["files"]) == 1


@pytest.mark.parametrize("greeting", ["你好", "谢谢", "我要投诉这个单位的办事态度"])
async def test_a_greeting_or_a_short_line_keeps_the_usual_hint(harness: Harness, greeting: str) -> None:
    user = harness.user()
    await user.send(greeting)
    reply = await user.wait_for_reply()
    assert reply.text == HANS.plain("hint.unknown_text") and FILE_IT not in buttons(reply)


async def test_the_offer_survives_a_restart_and_a_double_tap_starts_one_complaint(
    session_factory: async_sessionmaker[AsyncSession], catalogue_loaded: None, sandbox: Sandbox
) -> None:
    flood = FloodMiddleware(double_tap=0.0)
    async with running_bot(session_factory, sandbox, flood=flood) as first:
        user = first.user()
        await user.send(COMPLAINT)
        offer = await user.wait_for_reply(contains="作为投诉提交吗")
    old = buttons(offer)
    async with running_bot(session_factory, sandbox, flood=flood) as second:
        user = second.user()
        user.seen = offer.message_id
        for _ in range(2):  # both taps sent before the bot answered either
            await user.press_data(offer.message_id, old[FILE_IT])
        await second.settle()
        assert user.answers()[-1] == HANS.plain("hint.stale_button")
        assert len([m for m in user.bot_messages() if f"共 {len(COMPLAINT)} 字" in m.text]) == 1
        record = await draft(session_factory)
        assert record is not None and record.data["parts"] == [COMPLAINT]


async def test_an_offer_declined_or_cancelled_files_nothing_and_complain_takes_it(
    harness: Harness, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    user = harness.user()
    await user.send(COMPLAINT)
    offer = await user.wait_for_reply(contains="作为投诉提交吗")
    old = buttons(offer)
    await user.press(NO_THANKS)
    await harness.settle()
    assert now(user, offer).text.endswith("✔ " + NO_THANKS) and not now(user, offer).inline_keyboard
    await user.press_data(offer.message_id, old[FILE_IT])  # pressed before the edit reached the phone
    await harness.settle()
    assert user.answers()[-1] == HANS.plain("hint.stale_button")
    assert await draft(session_factory) is None

    await user.send(COMPLAINT)
    offer = await user.wait_for_reply(contains="作为投诉提交吗")
    old = buttons(offer)
    await user.send("/cancel")
    await user.wait_for_reply(contains="取消")
    await user.press_data(offer.message_id, old[FILE_IT])
    await harness.settle()
    assert user.answers()[-1] == HANS.plain("hint.stale_button")
    assert await draft(session_factory) is None

    await user.send(COMPLAINT)
    offer = await user.wait_for_reply(contains="作为投诉提交吗")
    old = buttons(offer)
    await user.send("/complain")  # the typed text is meant: taken, as 作为投诉提交 takes it
    await user.wait_for_reply(contains=f"共 {len(COMPLAINT)} 字")
    assert now(user, offer).text.endswith("✔ " + FILE_IT) and not now(user, offer).inline_keyboard
    await user.press_data(offer.message_id, old[FILE_IT])
    await harness.settle()
    assert user.answers()[-1] == HANS.plain("hint.stale_button")
    record = await draft(session_factory)
    assert record is not None and record.data["parts"] == [COMPLAINT]


async def test_start_keeps_the_offer_and_asks_it_again_under_the_welcome(
    harness: Harness, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    user = harness.user()
    await user.send(COMPLAINT)
    first = await user.wait_for_reply(contains="作为投诉提交吗")
    old = buttons(first)
    await user.send("/start")  # the phone's reflex: the typed complaint must not be lost
    welcome = await user.wait_for_reply(contains="民声")
    again = await user.wait_for_reply(contains="作为投诉提交吗")
    assert welcome.inline_keyboard and set(buttons(again)) == {FILE_IT, NO_THANKS}
    assert not now(user, first).inline_keyboard  # one live question only
    await user.send("/start")  # and again: still kept
    await user.wait_for_reply(contains="民声")
    await user.wait_for_reply(contains="作为投诉提交吗")
    await user.press_data(first.message_id, old[FILE_IT])  # the first one, pressed before its edit arrived
    await user.wait_for_reply(contains=f"共 {len(COMPLAINT)} 字")
    record = await draft(session_factory)
    assert record is not None and record.state == "Filing:text" and record.data["parts"] == [COMPLAINT]


async def test_an_offer_pressed_in_the_middle_of_an_evaluation_keeps_the_evaluation(
    harness: Harness, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    user = harness.user()
    await user.send(COMPLAINT)
    await user.wait_for_reply(contains="作为投诉提交吗")
    await user.send("/evaluate")
    await user.wait_for_reply(contains="评议单位")
    await user.press("政法")
    await harness.settle()
    await user.press(FILE_IT)
    await harness.settle()
    assert user.answers()[-1] == HANS.plain("hint.in_progress")
    record = await draft(session_factory)
    assert record is not None and record.state.startswith("Evaluate:")


async def test_a_bound_agency_contact_gets_no_offer_to_file(
    harness: Harness, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    user = harness.user(name="王科员")
    async with session_factory() as session:
        office = await agency(session, "public-security")
        session.add(
            AgencyContact(
                telegram_user_id=user.user.id, agency_id=office.id, role=ContactRole.CLERK.value, display_name="王科员"
            )
        )
        await session.commit()
    await user.send(COMPLAINT)
    reply = await user.wait_for_reply()
    assert "作为投诉提交吗" not in reply.text and FILE_IT not in buttons(reply)


# --- 2. the same message sent twice --------------------------------------------------------------------


async def test_a_part_sent_twice_is_kept_once_and_the_citizen_told(
    harness: Harness, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    user = harness.user()
    await user.send("/complain")
    await user.wait_for_reply(contains="写完了")
    await user.send(SENTENCE)
    await user.wait_for_reply(contains="共 21 字")
    await user.send(SENTENCE)
    again = await user.wait_for_reply()
    assert again.text == HANS.plain("complaint.repeated", chars=21)
    assert HANS.plain("complaint.button.done") in buttons(again)
    await user.press(HANS.plain("complaint.button.done"))
    await user.wait_for_reply(contains="发生在哪里")
    await user.press(HANS.plain("complaint.button.skip"))
    await user.wait_for_reply(contains="请选择要投诉的单位")
    summary = await finish_anonymously(user)
    assert summary.text.count(SENTENCE) == 1


async def test_a_place_sent_twice_is_not_taken_as_an_agency_search(
    harness: Harness, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    user = harness.user()
    await to_place(user)
    await user.send("市民中心二楼社保窗口")
    await user.send("市民中心二楼社保窗口")
    await user.wait_for_reply(contains="请选择要投诉的单位")
    told = await user.wait_for_reply()
    assert told.text == HANS.plain("complaint.repeated_answer")
    await user.wait_for_reply(contains="请选择要投诉的单位")  # asked again, with its buttons
    assert not any("没有找到" in m.text or "相关的单位" in m.text for m in user.bot_messages())
    summary = await finish_anonymously(user)
    assert "地点：市民中心二楼社保窗口" in summary.text


async def test_the_last_part_arriving_again_after_done_is_not_taken_as_the_place(
    harness: Harness, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    user = harness.user()
    await to_place(user)
    await user.send(SENTENCE)  # the double of the last part, delivered late
    assert (await user.wait_for_reply()).text == HANS.plain("complaint.repeated_answer")
    await user.wait_for_reply(contains="发生在哪里")
    await user.send("火车站")
    await user.wait_for_reply(contains="请选择要投诉的单位")
    summary = await finish_anonymously(user)
    assert "地点：火车站" in summary.text and summary.text.count(SENTENCE) == 1


# --- 3. a location pin ----------------------------------------------------------------------------------


async def test_a_location_pin_answers_the_place_question(
    harness: Harness, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    user = harness.user()
    question = await to_place(user)
    await send_pin(user, location={"latitude": 31.230416, "longitude": 121.473701})
    await user.wait_for_reply(contains="请选择要投诉的单位")
    pin = "纬度 31.23042，经度 121.47370"
    assert now(user, question).text == HANS.plain("complaint.chosen.place", place=pin)
    summary = await finish_anonymously(user)
    assert f"地点：{pin}" in summary.text
    await user.press(HANS.plain("complaint.button.confirm"))
    await user.wait_for_reply(contains="受理编号")
    complaint = await stored_complaint(session_factory)
    assert complaint is not None and complaint.location_text == pin


async def test_a_venue_answers_the_place_question_with_its_name_and_address(
    harness: Harness, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    user = harness.user()
    await to_place(user)
    location = {"latitude": 31.23, "longitude": 121.47}
    await send_pin(
        user, location=location, venue={"location": location, "title": "市民中心", "address": "人民大道200号"}
    )
    await user.wait_for_reply(contains="请选择要投诉的单位")
    summary = await finish_anonymously(user)
    assert "地点：市民中心（人民大道200号）" in summary.text


async def test_a_location_sent_where_no_place_is_asked_is_named_as_a_location(harness: Harness) -> None:
    user = harness.user()
    await user.send("/complain")
    await user.wait_for_reply(contains="写完了")
    await send_pin(user, location={"latitude": 31.23, "longitude": 121.47})
    told = await user.wait_for_reply()
    assert told.text == HANS.plain("complaint.not_text_location")
    assert "贴纸" not in told.text and "位置" in told.text
    await user.wait_for_reply(contains="写完了")  # asked again


# --- 4. a failed agency search keeps the suggestions ------------------------------------------------


async def test_a_failed_agency_search_offers_the_suggestions_again(
    session_factory: async_sessionmaker[AsyncSession], catalogue_loaded: None, sandbox: Sandbox
) -> None:
    tagger = await load_tagger(session_factory, Settings())
    async with running_bot(session_factory, sandbox, tagger=tagger) as harness:
        user = harness.user()
        await to_place(user, "派出所办户口的民警态度恶劣，骂人，还让我跑了好几趟。")
        await user.press(HANS.plain("complaint.button.skip"))
        suggestions = await user.wait_for_reply(contains="请选择要投诉的单位")
        suggested = [label for label in buttons(suggestions) if label.startswith(("市", "区"))]
        assert suggested
        await user.send("火星管理局")
        none = await user.wait_for_reply(contains="没有找到")
        assert set(buttons(none)) == set(buttons(suggestions))
        await user.press(suggested[0], message=none)
        await user.wait_for_reply(contains="匿名")
        assert now(user, none).text == HANS.plain("complaint.chosen.agency", agency=suggested[0])


# --- 5. lengths -----------------------------------------------------------------------------------------


async def test_the_summary_counts_the_characters_the_citizen_wrote(harness: Harness) -> None:
    user = harness.user()
    await user.send("/complain")
    await user.wait_for_reply(contains="写完了")
    piece = (SENTENCE * 200)[:4000]
    for index in range(5):  # no two alike, so none is taken as a double send
        await user.send(str(index) + piece[1:])
        await user.wait_for_reply(contains="字")
    await user.send("还有一句")
    assert f"现共 {MAX_CHARS} 字" in (await user.wait_for_reply()).text
    await user.press(HANS.plain("complaint.button.done"))
    await user.wait_for_reply(contains="发生在哪里")
    await user.press(HANS.plain("complaint.button.skip"))
    await user.wait_for_reply(contains="请选择要投诉的单位")
    summary = await finish_anonymously(user)
    assert HANS.plain("complaint.text_cut", chars=MAX_CHARS) in summary.text


async def test_a_comment_too_long_is_told_its_length_and_the_limit(harness: Harness) -> None:
    user = harness.user()
    await user.send("/evaluate")
    await user.wait_for_reply(contains="评议单位")
    for label in ("政法", "市公安局", HANS.plain("rate.button.1"), HANS.plain("evaluate.button.skip_scores")):
        await user.press(label)
        await harness.settle()
    await user.send("排" * (MAX_COMMENT + 23))
    told = await user.wait_for_reply()
    assert told.text == HANS.plain("evaluate.comment_too_long", chars=MAX_COMMENT + 23, limit=MAX_COMMENT)
    assert str(MAX_COMMENT + 23) in told.text and str(MAX_COMMENT) in told.text
