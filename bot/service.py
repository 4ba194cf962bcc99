"""The bot's part of ``minsheng serve``: Telegram (or a self-hosted Bot API server) when a token is
set, the local sandbox when not; the same Dispatcher either way, plus the outbox sender.

Two phases, because aiohttp freezes its routes when the web app starts: ``mount`` before it starts
(webhook route, or the sandbox under ``/sandbox``), ``start`` once it listens (the sandbox Bot talks
to the app's own address, known only then).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import aiohttp
from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.factory import create_bot, create_dispatcher
from bot.runtime import BotRuntime
from bot.transport import NoticeRenderer, TelegramTransport
from handlers.agency_notices import render_agency_notice
from handlers.citizen_notices import render_citizen_notice
from handlers.oversight_messages import settle_copies
from handlers.texts import default_texts
from minsheng.settings import Settings, TokenRejected
from nlp.tagger import Tagger
from storage.agencies import tagger_agencies
from storage.models import Complaint
from web import sandbox
from web.app import COPIES, FILES, DecidedCopies, FileUnavailable
from workflow.clock import Clock
from workflow.deadlines import Deadlines
from workflow.outbox import run_sender
from workflow.transitions import Action

log = logging.getLogger(__name__)


def notice_renderers() -> list[NoticeRenderer]:
    """Notice renderers of the conversations, before the catalogue's plain texts."""
    return [render_citizen_notice, render_agency_notice]


async def load_tagger(session_factory: async_sessionmaker[AsyncSession], settings: Settings) -> Tagger:
    """The rule tagger over the active catalogue.

    A broken rules file stops start-up with its line (``DataFileError``), as a broken catalogue does:
    running on quietly without tags would hide the mistake from the officer who made it.
    """
    async with session_factory() as session:
        agencies = await tagger_agencies(session)
    return await asyncio.to_thread(Tagger.load, settings.rules_dir, agencies)


async def download_file(bot: Bot, file_id: str) -> bytes:
    """The bytes behind a Telegram file id (Bot API downloads stop at 20 MB)."""
    try:
        return (await bot.download(file_id, timeout=60)).read()
    except (TelegramAPIError, aiohttp.ClientError, TimeoutError) as exc:
        raise FileUnavailable(str(exc)) from exc


async def settle_decided_copies(
    bot: Bot,
    session_factory: async_sessionmaker[AsyncSession],
    deadlines: Deadlines,
    complaint_id: int,
    action: Action,
    question: int | None,
) -> None:
    """Every officer's copy of a question decided on the dashboard, settled as a decision in the bot
    settles them (``settle_copies``); none of them is the decider's (``origin``): they decided on the web."""
    async with session_factory() as session:
        complaint = await session.get_one(Complaint, complaint_id)
        await settle_copies(session, bot, default_texts(), deadlines, None, complaint, action, question)


class BotService:
    def __init__(
        self,
        settings: Settings,
        session_factory: async_sessionmaker[AsyncSession],
        *,
        clock: Clock,
        deadlines: Deadlines,
        on_rejected: Callable[[TokenRejected], None] | None = None,
    ) -> None:
        self.settings = settings
        self.on_rejected = on_rejected
        self.session_factory = session_factory
        self.clock = clock
        self.deadlines = deadlines
        token = settings.bot_token.get_secret_value() if settings.bot_token else None
        #: The sandbox's Telegram when no token is set.
        self.world = None if token else sandbox.SandboxWorld()
        self._token = token or sandbox.SANDBOX_TOKEN
        self.bot: Bot | None = None
        self.runtime: BotRuntime | None = None
        self._sender: asyncio.Task[None] | None = None
        self._sender_stop = asyncio.Event()
        self._tagger: Tagger | None = None
        self._copies: DecidedCopies | None = None

    @property
    def is_sandbox(self) -> bool:
        return self.world is not None

    def _runtime(self, api_base: str | None, tagger: object | None) -> BotRuntime:
        self.bot = create_bot(self._token, api_base)
        dispatcher = create_dispatcher(self.session_factory, clock=self.clock, deadlines=self.deadlines, tagger=tagger)
        webhook = None if self.is_sandbox or not self.settings.webhook_url else str(self.settings.webhook_url)
        secret = self.settings.webhook_secret.get_secret_value() if self.settings.webhook_secret else None
        return BotRuntime(
            self.bot, dispatcher, webhook_url=webhook, webhook_secret=secret, on_rejected=self.on_rejected
        )

    async def mount(self, app: web.Application) -> None:
        """Before the web app starts."""
        self._tagger = await load_tagger(self.session_factory, self.settings)
        app[FILES].fetch = self.download
        app[COPIES].settle = self.settle_decided
        self._copies = app[COPIES]
        if self.world is not None:
            sandbox.setup(app, self.world)
            if self.settings.web_host not in ("127.0.0.1", "localhost", "::1"):
                log.warning("sandbox on %s: anyone who reaches it can act as any sandbox user", self.settings.web_host)
            return
        api_base = str(self.settings.bot_api_base).rstrip("/") if self.settings.bot_api_base else None
        self.runtime = self._runtime(api_base, self._tagger)
        self.runtime.mount(app)

    async def download(self, file_id: str) -> bytes:
        """A citizen's photo or document, for the dashboard."""
        if self.bot is None:
            raise FileUnavailable("the bot is not running")
        return await download_file(self.bot, file_id)

    async def settle_decided(self, complaint_id: int, action: Action, question: int | None) -> None:
        """The officers' copies of a question decided on the dashboard; nothing before the Bot exists."""
        if self.bot is not None:
            await settle_decided_copies(self.bot, self.session_factory, self.deadlines, complaint_id, action, question)

    async def start(self, web_url: str) -> None:
        """Once the web app listens at ``web_url`` (reachable from this process)."""
        if self.world is not None:
            self.runtime = self._runtime(web_url + sandbox.PREFIX + sandbox.BOT_API_PATH, self._tagger)
            log.info("no bot token: sandbox chat page on %s%s/", web_url, sandbox.PREFIX)
        assert self.runtime is not None and self.bot is not None
        await self.runtime.start()
        log.info("bot: %s mode", self.runtime.mode)
        transport = TelegramTransport(
            self.bot,
            default_texts(),
            self.session_factory,
            self.settings.zone,
            storage=self.runtime.dispatcher.storage,
            renderers=notice_renderers(),
        )
        self._sender = asyncio.create_task(
            run_sender(self.session_factory, transport, self.clock, self._sender_stop), name="outbox-sender"
        )

    async def stop(self) -> None:
        """Stop the sender and the bot; no task is left running and the bot's session is closed (the
        dashboard's settling of copies under way first: it needs the bot)."""
        if self._copies is not None:
            await self._copies.close()
        self._sender_stop.set()
        if self._sender is not None:
            await asyncio.gather(self._sender, return_exceptions=True)
        if self.runtime is not None:
            await self.runtime.stop()
        elif self.bot is not None:
            await self.bot.session.close()
        if self.world is not None:
            await self.world.close()
