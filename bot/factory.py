"""Assembling the aiogram ``Bot`` and ``Dispatcher``: the same assembly for Telegram, a self-hosted
Bot API server, the local sandbox and the tests."""

from __future__ import annotations

import logging
from datetime import timedelta

from aiogram import Bot, Dispatcher, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramNetworkError, TelegramServerError
from aiogram.fsm.storage.base import BaseStorage
from aiogram.fsm.storage.memory import SimpleEventIsolation
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.commands import command_menu
from bot.middlewares import (
    CommitBeforeSending,
    DbSessionMiddleware,
    DuplicateUpdateMiddleware,
    FloodMiddleware,
    InFlightMiddleware,
    LanguageMiddleware,
    ObsoleteStateMiddleware,
)
from handlers import build_routers
from handlers.texts import SIMPLIFIED, Texts, default_texts
from minsheng.settings import Settings
from storage.fsm import SqlStorage
from storage.models import ProcessedUpdate
from storage.types import utcnow
from workflow.clock import Clock, SystemClock
from workflow.deadlines import Deadlines

log = logging.getLogger(__name__)

#: How long handled update ids are kept; Telegram never redelivers anything this old.
PROCESSED_UPDATE_RETENTION = timedelta(days=7)


def create_bot(token: str, api_base: str | None = None) -> Bot:
    """A Bot that speaks HTML; ``api_base`` points it at a self-hosted Bot API server (or the sandbox)."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_base)) if api_base else AiohttpSession()
    session.middleware(CommitBeforeSending())
    return Bot(
        token,
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
    )


def create_dispatcher(
    session_factory: async_sessionmaker[AsyncSession],
    *,
    texts: Texts | None = None,
    routers: list[Router] | None = None,
    flood: FloodMiddleware | None = None,
    storage: BaseStorage | None = None,
    clock: Clock | None = None,
    deadlines: Deadlines | None = None,
    tagger: object | None = None,
) -> Dispatcher:
    """The Dispatcher with durable FSM, the middlewares (see ``bot.middlewares``) and the routers.

    Handlers receive ``session``, ``lang``, ``tr`` (texts in the user's language), ``texts`` and
    ``session_factory``, and the workflow's ``clock``, ``deadlines`` and ``tagger``; events of one
    user are handled one at a time (``SimpleEventIsolation``).
    """
    texts = texts or default_texts()
    storage = storage or SqlStorage(session_factory)
    dispatcher = Dispatcher(storage=storage, events_isolation=SimpleEventIsolation())
    in_flight = InFlightMiddleware()
    dispatcher.update.outer_middleware(in_flight)
    dispatcher.update.outer_middleware(DbSessionMiddleware(session_factory))
    dispatcher.update.outer_middleware(DuplicateUpdateMiddleware())
    dispatcher.update.outer_middleware(ObsoleteStateMiddleware())
    dispatcher.update.outer_middleware(LanguageMiddleware(texts, storage))
    dispatcher.update.outer_middleware(flood or FloodMiddleware())
    dispatcher.include_routers(*(routers if routers is not None else build_routers()))
    dispatcher["texts"] = texts
    dispatcher["session_factory"] = session_factory
    dispatcher["in_flight"] = in_flight
    dispatcher["clock"] = clock or SystemClock()
    dispatcher["deadlines"] = deadlines or _default_deadlines()
    dispatcher["tagger"] = tagger
    dispatcher.startup.register(_on_startup)
    return dispatcher


def _default_deadlines() -> Deadlines:
    settings = Settings()
    return Deadlines.load(settings.policy_path, settings.holidays_path, settings.zone)


async def _on_startup(bot: Bot, texts: Texts, session_factory: async_sessionmaker[AsyncSession]) -> None:
    """The default command menu, in Simplified; Traditional conversations get theirs per chat
    (``bot.commands``)."""
    try:
        await bot.set_my_commands(command_menu(texts(SIMPLIFIED)))
    except (TelegramNetworkError, TelegramServerError) as error:  # the menu is set again at the next start
        log.warning("bot: Telegram unreachable, command menu not set (%s)", error)
    async with session_factory() as session:
        cutoff = utcnow() - PROCESSED_UPDATE_RETENTION
        await session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.processed_at < cutoff))
        await session.commit()
