"""The outbox ``Transport`` for Telegram: renders a notice in the recipient's language and sends it.

Telegram's answers become the outbox's vocabulary: 429 → ``RetryAfter``; a blocked bot, a
deactivated user or an unknown chat → ``PermanentFailure``; anything else is temporary and the
sender retries it. A notice longer than one message goes out in several (``split_html``); the
buttons, if any, ride on the last piece.

Renderers (e.g. ``handlers.citizen_notices.render_citizen_notice``) are tried in order; a kind none
of them knows is rendered from the catalogue's ``notice.<kind>`` text (``handlers.notices``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError, TelegramRetryAfter
from aiogram.fsm.storage.base import BaseStorage, StorageKey
from aiogram.types import InlineKeyboardMarkup
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.middlewares import LanguageMiddleware
from handlers.long_text import split_html
from handlers.notices import render_notice
from handlers.texts import SIMPLIFIED, Texts, Translator
from storage.models import Citizen, OutboxMessage
from workflow.outbox import PermanentFailure, RetryAfter, Sent

log = logging.getLogger(__name__)

#: (kind, params, texts, local zone, when the notice was made) -> (HTML text, buttons), or None for a kind
#: it does not render. Times in another year than the notice's own show their year.
NoticeRenderer = Callable[
    [str, dict[str, Any], Translator, ZoneInfo, datetime], tuple[str, InlineKeyboardMarkup | None] | None
]
#: Bad-request descriptions that no retry can fix.
_GONE = ("chat not found", "user is deactivated", "peer_id_invalid", "bot can't initiate conversation")


class TelegramTransport:
    def __init__(
        self,
        bot: Bot,
        texts: Texts,
        session_factory: async_sessionmaker[AsyncSession],
        zone: ZoneInfo,
        *,
        storage: BaseStorage | None = None,
        renderers: Sequence[NoticeRenderer] = (),
    ) -> None:
        self.bot = bot
        self.texts = texts
        self.session_factory = session_factory
        self.zone = zone
        self.storage = storage
        self.renderers = list(renderers)

    async def language_of(self, chat_id: int) -> str:
        """The script the person last wrote in, else the one on their citizen record, else Simplified."""
        if self.storage is not None:
            key = StorageKey(bot_id=self.bot.id, chat_id=chat_id, user_id=chat_id, destiny=LanguageMiddleware.DESTINY)
            if remembered := (await self.storage.get_data(key)).get("lang"):
                return str(remembered)
        async with self.session_factory() as session:
            language = await session.scalar(select(Citizen.language).where(Citizen.telegram_user_id == chat_id))
        return language or SIMPLIFIED

    def render(
        self, kind: str, params: dict[str, Any], tr: Translator, issued_at: datetime
    ) -> tuple[str, InlineKeyboardMarkup | None]:
        for renderer in self.renderers:
            if (rendered := renderer(kind, params, tr, self.zone, issued_at)) is not None:
                return rendered
        return render_notice(kind, params, tr, self.zone, issued_at), None

    async def deliver(self, message: OutboxMessage) -> Sent:
        """Send the notice; the last piece (the one with the buttons) and the script are recorded, so
        its buttons can be settled once its question is decided elsewhere."""
        payload = message.payload or {}
        kind = str(payload.get("kind") or message.kind)
        params = dict(payload.get("params") or {})
        language = await self.language_of(message.chat_id)
        text, markup = self.render(kind, params, self.texts(language), message.created_at)
        pieces = split_html(text)
        try:
            for index, piece in enumerate(pieces):
                last = index == len(pieces) - 1
                sent = await self.bot.send_message(message.chat_id, piece, reply_markup=markup if last else None)
        except TelegramRetryAfter as exc:
            raise RetryAfter(exc.retry_after) from exc
        except TelegramForbiddenError as exc:
            raise PermanentFailure(exc.message) from exc
        except TelegramBadRequest as exc:
            if any(reason in exc.message.lower() for reason in _GONE):
                raise PermanentFailure(exc.message) from exc
            raise
        return Sent(sent.message_id, language)
