"""The bot platform end to end: the shipped Dispatcher, a real aiogram Bot, the Bot API stand-in."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import StorageKey
from aiogram.types import Message
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.middlewares import FloodMiddleware
from handlers import build_routers
from handlers.texts import default_texts
from storage.models import ProcessedUpdate
from tests.botapi import Harness, Sandbox, running_bot, sandbox_server
from workflow.errors import DomainError

HANS = default_texts()("zh-Hans")
HANT = default_texts()("zh-Hant")


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with sandbox_server() as sandbox:
        yield sandbox


@pytest.fixture
async def harness(session_factory: async_sessionmaker[AsyncSession], sandbox: Sandbox) -> AsyncIterator[Harness]:
    async with running_bot(session_factory, sandbox) as harness:
        yield harness


async def test_start_welcomes_the_user_by_name_with_the_menu_buttons(harness: Harness) -> None:
    user = harness.user()
    await user.send("/start")
    reply = await user.wait_for_reply(contains="民声")
    assert "张三" in reply.text
    labels = [button["text"] for row in reply.inline_keyboard or [] for button in row]
    assert labels == [HANS.plain(f"menu.{action}") for action in ("complain", "evaluate", "my", "help")]


async def test_help_lists_every_command_and_the_help_button_shows_it_too(harness: Harness) -> None:
    user = harness.user()
    await user.send("/help")
    reply = await user.wait_for_reply(contains="/complain")
    for command in ("/evaluate", "/my", "/status", "/cancel", "/help"):
        assert command in reply.text
    await user.press(HANS.plain("menu.help"))
    assert "/status" in (await user.wait_for_reply(contains="/complain")).text


async def test_commands_are_registered_with_chinese_descriptions(harness: Harness) -> None:
    commands = {c["command"]: c["description"] for c in harness.world.commands}
    assert set(commands) == {"start", "complain", "evaluate", "my", "status", "cancel", "help"}
    assert commands["complain"] == "投诉" and commands["evaluate"] == "评议" and commands["my"] == "我的投诉"


@pytest.mark.parametrize("kind", ["sticker", "voice"])
async def test_a_sticker_or_voice_note_gets_a_hint_to_write_text(harness: Harness, kind: str) -> None:
    user = harness.user()
    await user.send_kind(kind)
    assert (await user.wait_for_reply()).text == HANS.plain("hint.not_text")


async def test_a_blank_message_gets_a_hint_that_it_has_no_text(harness: Harness) -> None:
    user = harness.user()
    await user.send("   ")
    assert (await user.wait_for_reply()).text == HANS.plain("hint.empty")


async def test_a_duplicate_update_id_is_processed_once(
    harness: Harness, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    user = harness.user()
    message = {
        "message_id": 999,
        "date": 1700000000,
        "chat": user.user.as_chat(),
        "from": user.user.as_telegram(),
        "text": "/help",
    }
    await harness.world.push_update({"message": message}, update_id=5000)
    await harness.world.push_update({"message": message}, update_id=5000)
    await harness.settle()
    assert len([m for m in user.bot_messages() if "/complain" in m.text]) == 1
    async with session_factory() as session:
        rows = await session.scalar(select(func.count()).where(ProcessedUpdate.update_id == 5000))
    assert rows == 1


async def test_a_double_tapped_button_acts_once(harness: Harness) -> None:
    user = harness.user()
    await user.send("/start")
    await user.wait_for_reply(contains="民声")
    await user.press(HANS.plain("menu.help"))
    await user.press(HANS.plain("menu.help"))
    await harness.settle()
    assert len([m for m in user.bot_messages() if "/complain" in m.text]) == 1
    assert HANS.plain("hint.double_tap") in user.answers()


async def test_a_stale_button_is_answered_politely_and_nothing_is_sent(harness: Harness) -> None:
    user = harness.user()
    await user.send("/start")
    menu = await user.wait_for_reply(contains="民声")
    menu.inline_keyboard = [[{"text": "旧按钮", "callback_data": "flow:gone:42"}]]  # a button from an old conversation
    before = len(user.bot_messages())
    await user.press("旧按钮", message=menu)
    assert await user.wait_for_answer(HANS.plain("hint.stale_button"))
    await harness.settle()
    assert len(user.bot_messages()) == before


async def test_a_flooding_user_is_told_once_to_slow_down_and_the_excess_is_dropped(
    session_factory: async_sessionmaker[AsyncSession], sandbox: Sandbox
) -> None:
    async with running_bot(session_factory, sandbox, flood=FloodMiddleware(rate=3, per=60)) as harness:
        user, other = harness.user(), harness.user(10002)
        for _ in range(6):
            await user.send("/help")
        await other.send("/help")
        await harness.settle()
        texts = [m.text for m in user.bot_messages()]
        assert sum("/complain" in text for text in texts) == 3
        assert texts.count(HANS.plain("hint.flood")) == 1
        assert any("/complain" in m.text for m in other.bot_messages())


async def test_a_user_whose_telegram_is_set_to_hong_kong_chinese_reads_traditional(harness: Harness) -> None:
    user = harness.user(name="陳大文", language_code="zh-hk")
    await user.send("/start")
    reply = await user.wait_for_reply(contains="民聲")
    assert "投訴" in reply.text and "投诉" not in reply.text
    assert [b["text"] for b in reply.inline_keyboard[0]] == [HANT.plain("menu.complain"), HANT.plain("menu.evaluate")]


async def test_a_user_who_writes_traditional_is_answered_in_traditional_from_then_on(harness: Harness) -> None:
    user = harness.user()  # Telegram set to Simplified
    await user.send("我要投訴這個單位的辦事態度")
    assert (await user.wait_for_reply()).text == HANT.plain("hint.unknown_text")
    await user.send("/help")
    assert "幫助" in (await user.wait_for_reply(contains="/complain")).text
    await user.send("我要投诉这个单位")
    assert (await user.wait_for_reply()).text == HANS.plain("hint.unknown_text")


async def test_the_bot_reaches_the_custom_api_base_it_was_given(harness: Harness) -> None:
    me = await harness.bot.get_me()
    assert me.id == harness.world.bot_user["id"] and me.username == "minsheng_sandbox_bot"
    called = [name for name, _ in harness.world.calls]
    assert {"getMe", "deleteWebhook", "setMyCommands", "getUpdates"} <= set(called)
    assert str(harness.bot.session.api.base).startswith(harness.sandbox.api_base)


def refusing_router() -> Router:
    """A handler that writes conversation state, then has its action refused by the workflow."""
    router = Router(name="refusing")

    @router.message(Command("rate"))
    async def rate(message: Message, state: FSMContext) -> None:
        await state.set_state("rating:half-done")
        raise DomainError("already_rated")

    return router


async def test_a_refused_action_is_explained_in_the_users_script_and_its_writes_roll_back(
    session_factory: async_sessionmaker[AsyncSession], sandbox: Sandbox
) -> None:
    shipped = build_routers()
    async with running_bot(session_factory, sandbox, routers=[refusing_router(), *shipped]) as harness:
        user = harness.user(name="陳先生", language_code="zh-tw")
        await user.send("/rate")
        assert (await user.wait_for_reply()).text == HANT.plain("error.already_rated")
        key = StorageKey(bot_id=harness.bot.id, chat_id=user.user.id, user_id=user.user.id)
        assert await harness.dispatcher.storage.get_state(key) is None


def test_the_flood_guard_forgets_idle_users_but_keeps_a_flooding_one_limited() -> None:
    flood = FloodMiddleware(rate=3, per=10.0)
    flood.KEPT = 100
    for _ in range(3):
        assert flood._allow(1, 0.0)[0]
    assert flood._allow(1, 0.0) == (False, True)  # user 1 is out of tokens
    for user in range(2, 200):
        flood._allow(user, 0.5 + user / 1000)  # a crowd, each once
    assert flood._allow(1, 1.0) == (False, False)  # still limited, and already told
    for user in range(1000, 1050):
        flood._allow(user, 30.0)  # long after: the crowd and user 1 are idle, their buckets full again
    assert len(flood._buckets) == 50  # only the newcomers
    assert 1 not in flood._buckets and flood._allow(1, 30.0) == (True, False)
