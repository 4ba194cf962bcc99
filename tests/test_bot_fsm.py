"""Durable FSM: conversation state lives in the database and survives a restart of the bot."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import StorageKey
from aiogram.types import Message
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers import build_routers
from storage.fsm import SqlStorage, current_session
from storage.models import FsmRecord
from tests.botapi import Sandbox, running_bot, sandbox_server

KEY = StorageKey(bot_id=1, chat_id=10001, user_id=10001)


class Survey(StatesGroup):
    place = State()
    detail = State()


def survey_router() -> Router:
    """A two-question conversation, enough to stop the bot between the questions."""
    router = Router(name="survey")

    @router.message(Command("survey"))
    async def ask_place(message: Message, state: FSMContext) -> None:
        await state.set_state(Survey.place)
        await message.answer("在哪里？")

    @router.message(Survey.place, F.text)
    async def ask_detail(message: Message, state: FSMContext) -> None:
        await state.update_data(place=message.text)
        await state.set_state(Survey.detail)
        await message.answer("发生了什么？")

    @router.message(Survey.detail, F.text)
    async def finish(message: Message, state: FSMContext) -> None:
        data = await state.get_data()
        await state.clear()
        await message.answer(f"记下了：{data['place']}，{message.text}")

    return router


def routers() -> list[Router]:
    shipped = build_routers()
    return [*shipped[:-1], survey_router(), shipped[-1]]  # before the catch-alls, like any conversation


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with sandbox_server() as sandbox:
        yield sandbox


async def test_state_and_data_are_stored_and_read_back(session_factory: async_sessionmaker[AsyncSession]) -> None:
    storage = SqlStorage(session_factory)
    await storage.set_state(KEY, Survey.detail)
    await storage.set_data(KEY, {"place": "政务大厅", "photos": ["a", "b"]})
    again = SqlStorage(session_factory)
    assert await again.get_state(KEY) == Survey.detail.state
    assert await again.get_data(KEY) == {"place": "政务大厅", "photos": ["a", "b"]}
    other = StorageKey(bot_id=1, chat_id=10001, user_id=10001, destiny="language")
    assert await again.get_state(other) is None and await again.get_data(other) == {}


async def test_a_cleared_conversation_leaves_no_row(session_factory: async_sessionmaker[AsyncSession]) -> None:
    storage = SqlStorage(session_factory)
    await storage.set_state(KEY, Survey.place)
    await storage.set_data(KEY, {"place": "x"})
    await storage.set_state(KEY, None)
    await storage.set_data(KEY, {})
    async with session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(FsmRecord)) == 0


async def test_state_written_during_an_update_rolls_back_with_it(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    storage = SqlStorage(session_factory)
    async with session_factory() as session:
        token = current_session.set(session)
        try:
            await storage.set_state(KEY, Survey.place)
            assert await storage.get_state(KEY) == Survey.place.state  # visible inside the update
        finally:
            current_session.reset(token)
        await session.rollback()
    assert await storage.get_state(KEY) is None


async def test_a_conversation_continues_after_the_bot_restarts(
    session_factory: async_sessionmaker[AsyncSession], sandbox: Sandbox
) -> None:
    async with running_bot(session_factory, sandbox, routers=routers()) as first:
        user = first.user()
        await user.send("/survey")
        await user.wait_for_reply(contains="在哪里")
        await user.send("市民中心三楼")
        await user.wait_for_reply(contains="发生了什么")
    # The first Dispatcher is gone; a new one, with fresh storage objects, reads the same database.
    async with running_bot(session_factory, sandbox, routers=routers()) as second:
        user = second.user()
        user.seen = max(m.message_id for m in user.bot_messages())
        await user.send("窗口没人")
        reply = await user.wait_for_reply(contains="记下了")
    assert reply.text == "记下了：市民中心三楼，窗口没人"


async def test_cancel_ends_the_conversation_and_forgets_what_was_entered(
    session_factory: async_sessionmaker[AsyncSession], sandbox: Sandbox
) -> None:
    async with running_bot(session_factory, sandbox, routers=routers()) as harness:
        user = harness.user()
        await user.send("/survey")
        await user.wait_for_reply(contains="在哪里")
        await user.send("/cancel")
        await user.wait_for_reply(contains="已取消")
        await user.send("市民中心")
        assert "/complain" in (await user.wait_for_reply()).text  # no longer in the survey
