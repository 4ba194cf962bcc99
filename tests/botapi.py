"""Test harness: the Bot API stand-in on port 0 and the real Dispatcher polling it with a real Bot.

    async with sandbox_server() as sandbox, running_bot(session_factory, sandbox) as harness:
        user = harness.user()                       # 张三, a Simplified-Chinese citizen
        await user.send("/start")
        reply = await user.wait_for_reply(contains="民声")
        await user.press("❓ 帮助")
        await harness.settle()                      # every queued update handled

Nothing is mocked: aiogram's HTTP session talks to the stand-in, updates go through every
middleware into the shipped handlers, and replies are read back from the stand-in's chats.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import Bot, Dispatcher, Router
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.factory import create_bot, create_dispatcher
from bot.middlewares import FloodMiddleware, InFlightMiddleware
from bot.runtime import BotRuntime
from bot.service import notice_renderers
from bot.transport import TelegramTransport
from handlers.texts import default_texts
from web.sandbox import BOT_API_PATH, create_sandbox_app
from web.sandbox.world import ChatMessage, SandboxUser, SandboxWorld
from workflow.clock import Clock
from workflow.deadlines import Deadlines
from workflow.outbox import run_sender

TIMEOUT = 10.0


@dataclass
class Sandbox:
    world: SandboxWorld
    url: str  # the sandbox app's root, e.g. http://127.0.0.1:40123

    @property
    def api_base(self) -> str:
        return self.url + BOT_API_PATH


@asynccontextmanager
async def serve_app(app: web.Application) -> AsyncIterator[str]:
    """Serve an aiohttp app on an ephemeral port; yields its base URL."""
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def sandbox_server(world: SandboxWorld | None = None) -> AsyncIterator[Sandbox]:
    world = world or SandboxWorld()
    async with serve_app(create_sandbox_app(world)) as url:
        yield Sandbox(world, url)


@dataclass
class Harness:
    sandbox: Sandbox
    bot: Bot
    dispatcher: Dispatcher
    runtime: BotRuntime
    users: dict[int, ChatUser] = field(default_factory=dict)
    #: Updates pushed before this bot started and already taken by an earlier one.
    baseline: int = 0

    @property
    def world(self) -> SandboxWorld:
        return self.sandbox.world

    def user(self, user_id: int = 10001, *, name: str | None = None, language_code: str = "zh-hans") -> ChatUser:
        """A person in the sandbox; a ``name`` creates a new one."""
        if name is not None:
            user = self.world.add_user(name, language_code)
            user_id = user.id
        if user_id not in self.users:
            self.users[user_id] = ChatUser(self, self.world.user(user_id))
        return self.users[user_id]

    async def settle(self, within: float = TIMEOUT) -> None:
        """Wait until every update queued so far has been taken and fully handled."""
        in_flight: InFlightMiddleware = self.dispatcher.workflow_data["in_flight"]
        async with asyncio.timeout(within):
            while self.baseline + in_flight.finished < self.world.pushed:  # noqa: ASYNC110 - a counter aiogram's tasks bump
                await asyncio.sleep(0.02)
            await in_flight.wait_idle(within)


class ChatUser:
    """One sandbox user's thumbs: send, press, and read what the bot answered."""

    def __init__(self, harness: Harness, user: SandboxUser) -> None:
        self.harness = harness
        self.user = user
        self.seen = 0  # newest bot message id already returned by wait_for_reply

    @property
    def world(self) -> SandboxWorld:
        return self.harness.world

    async def send(self, text: str) -> int:
        return await self.world.user_sends(self.user.id, text)

    async def send_kind(self, kind: str, caption: str = "", file_name: str | None = None) -> int:
        """A sticker, voice note, photo or document."""
        return await self.world.user_sends(self.user.id, caption, kind=kind, file_name=file_name)

    async def edit(self, message_id: int, text: str) -> int:
        """Edit a text this user sent: Telegram sends the bot an ``edited_message`` update."""
        message = self.world.find_message(self.user.id, message_id)
        message.text, message.edited = text, True
        raw = {
            "message_id": message_id,
            "date": message.date,
            "edit_date": message.date + 60,
            "chat": self.user.as_chat(),
            "from": self.user.as_telegram(),
            "text": text,
        }
        return await self.world.push_update({"edited_message": raw})

    def sent_messages(self) -> list[ChatMessage]:
        return [m for m in self.world.chats.get(self.user.id, []) if not m.from_bot]

    def bot_messages(self) -> list[ChatMessage]:
        return [m for m in self.world.chats.get(self.user.id, []) if m.from_bot]

    def answers(self) -> list[str]:
        """Texts the bot showed as callback answers (toasts and alerts), oldest first."""
        return [a.text for a in self.world.answers if a.user_id == self.user.id]

    def button(self, text: str) -> tuple[ChatMessage, dict[str, Any]]:
        """The newest message carrying an inline button labelled ``text``."""
        for message in reversed(self.bot_messages()):
            for row in message.inline_keyboard or []:
                for button in row:
                    if button.get("text") == text and not message.deleted:
                        return message, button
        raise AssertionError(f"no button {text!r} in the chat of {self.user.first_name}")

    async def press(self, text: str, *, message: ChatMessage | None = None) -> int:
        """Press the newest button labelled ``text`` (or the one on ``message``, e.g. an old one)."""
        if message is None:
            message, button = self.button(text)
        else:
            button = next(b for row in message.inline_keyboard or [] for b in row if b.get("text") == text)
        return await self.press_data(message.message_id, button["callback_data"])

    async def press_data(self, message_id: int, data: str) -> int:
        """Press a button known by its callback data, even one the bot has since removed."""
        return await self.world.user_presses(self.user.id, message_id, data)

    async def wait_for_reply(self, contains: str | None = None, within: float = TIMEOUT) -> ChatMessage:
        """The first bot message newer than the last one returned, containing ``contains``."""

        def match() -> ChatMessage | None:
            for message in self.bot_messages():
                if message.message_id > self.seen and (contains is None or contains in message.text):
                    return message
            return None

        try:
            await self.world.wait_for(lambda: match() is not None, within)
        except TimeoutError:
            got = [m.text[:80] for m in self.bot_messages() if m.message_id > self.seen]
            raise AssertionError(f"no reply containing {contains!r}; got {got}") from None
        found = match()
        assert found is not None
        self.seen = found.message_id
        return found

    async def wait_for_answer(self, contains: str, within: float = TIMEOUT) -> str:
        await self.world.wait_for(lambda: any(contains in text for text in self.answers()), within)
        return next(text for text in self.answers() if contains in text)


@asynccontextmanager
async def running_bot(
    session_factory: async_sessionmaker[AsyncSession],
    sandbox: Sandbox,
    *,
    routers: list[Router] | None = None,
    flood: FloodMiddleware | None = None,
    tagger: object | None = None,
    outbox: bool = False,
    clock: Clock | None = None,
    deadlines: Deadlines | None = None,
) -> AsyncIterator[Harness]:
    """The shipped Dispatcher polling the stand-in with a real Bot; stopped cleanly on exit.

    ``outbox`` also runs the outbox sender with the Telegram transport, so notices (receipts…)
    reach the sandbox chats as they would in ``serve``. ``clock`` and ``deadlines`` must be given here:
    polling copies the dispatcher's data when it starts, so setting them afterwards never reaches a handler.
    """
    bot = create_bot(sandbox.world.token, sandbox.api_base)
    dispatcher = create_dispatcher(
        session_factory, routers=routers, flood=flood, tagger=tagger, clock=clock, deadlines=deadlines
    )
    runtime = BotRuntime(bot, dispatcher)
    await runtime.start()
    harness = Harness(sandbox, bot, dispatcher, runtime, baseline=sandbox.world.pushed - sandbox.world.pending)
    stop_sender = asyncio.Event()
    sender = None
    if outbox:
        transport = TelegramTransport(
            bot,
            default_texts(),
            session_factory,
            ZoneInfo("Asia/Shanghai"),
            storage=dispatcher.storage,
            renderers=notice_renderers(),
        )
        sender = asyncio.create_task(
            run_sender(session_factory, transport, dispatcher["clock"], stop_sender, idle_interval=0.1)
        )
    try:
        async with asyncio.timeout(TIMEOUT):  # polling has started once it asks for updates
            while not any(name == "getUpdates" for name, _ in sandbox.world.calls):  # noqa: ASYNC110
                await asyncio.sleep(0.02)
        yield harness
    finally:
        stop_sender.set()
        if sender is not None:
            await sender
        await runtime.stop()
