"""What every update goes through before a handler sees it, outermost first:

1. :class:`InFlightMiddleware` - counts updates being handled, so shutdown can wait for them;
2. :class:`DbSessionMiddleware` - one database session per update, committed on success;
3. :class:`DuplicateUpdateMiddleware` - an ``update_id`` already handled is skipped;
4. :class:`ObsoleteStateMiddleware` - a conversation step that no longer exists is dropped;
5. :class:`LanguageMiddleware` - ``lang`` ("zh-Hans"/"zh-Hant") and ``tr`` (its texts) for handlers;
6. :class:`FloodMiddleware` - per-user rate limit and double-tap guard for buttons.

And one on the Bot's requests: :class:`CommitBeforeSending`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from functools import cache
from typing import Any

import opencc
from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import StatesGroup
from aiogram.fsm.storage.base import BaseStorage, StorageKey
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import CallbackQuery, Message, TelegramObject, Update, User
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.commands import show_menu_in_script
from handlers.texts import SIMPLIFIED, TRADITIONAL, Texts
from storage.fsm import current_session
from storage.models import ProcessedUpdate

log = logging.getLogger(__name__)
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]

#: Telegram language codes of users who read Traditional Chinese.
TRADITIONAL_CODES = frozenset({"zh-hant", "zh-tw", "zh-hk", "zh-mo"})


class InFlightMiddleware(BaseMiddleware):
    """Polling handles each update in a task of its own; shutdown waits here until they are done."""

    def __init__(self) -> None:
        self._count = 0
        #: Updates finished so far, however they ended (handled, skipped, failed).
        self.finished = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        self._count += 1
        self._idle.clear()
        try:
            return await handler(event, data)
        finally:
            self._count -= 1
            self.finished += 1
            if not self._count:
                self._idle.set()

    async def wait_idle(self, within: float) -> bool:
        """True when every update in hand finished within ``within`` seconds."""
        try:
            await asyncio.wait_for(self._idle.wait(), within)
        except TimeoutError:
            return False
        return True


class DbSessionMiddleware(BaseMiddleware):
    """One session per update in ``data["session"]``: committed if the handler returns, rolled back
    if it raises. FSM writes (``storage.fsm``) join the same transaction."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self.session_factory = session_factory

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        async with self.session_factory() as session:
            data["session"] = session
            token = current_session.set(session)
            try:
                result = await handler(event, data)
                await session.commit()
                return result
            finally:
                current_session.reset(token)


class CommitBeforeSending(BaseRequestMiddleware):
    """What the bot tells a user must already be durable.

    Handlers answer inside the update's transaction ("受理编号 20261122-0042", "已受理"); were the
    commit to fail afterwards, the citizen would hold a number for a complaint that does not exist.
    So the update's open transaction is committed before any request leaves; a failing commit reaches
    the errors router, which says the action did not take effect. Requests made outside an update
    (the outbox sender) pass straight through.
    """

    async def __call__(
        self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot, method: TelegramMethod[TelegramType]
    ) -> Any:
        session = current_session.get()
        if session is not None and session.in_transaction():
            await session.commit()
        return await make_request(bot, method)


class DuplicateUpdateMiddleware(BaseMiddleware):
    """Telegram redelivers an update when it is unsure we got it; the second copy does nothing.

    The mark is written in the update's own transaction: if handling fails, it is not marked, and
    on PostgreSQL a concurrent copy waits on the row until the first one commits, then skips.
    """

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        session: AsyncSession = data["session"]
        bot: Bot = data["bot"]
        dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
        statement = (
            dialect.insert(ProcessedUpdate)
            .values(bot_id=bot.id, update_id=event.update_id)
            .on_conflict_do_nothing()
            .returning(ProcessedUpdate.update_id)
        )
        if (await session.execute(statement)).scalar() is None:
            log.info("update %s already handled: skipped", event.update_id)
            return None
        return await handler(event, data)


def known_states() -> frozenset[str]:
    """Every step of every conversation the running code defines (each ``StatesGroup``, nested ones too)."""
    groups, found = list(StatesGroup.__subclasses__()), set()
    while groups:
        group = groups.pop()
        found.update(group.__all_states_names__)
        groups.extend(group.__subclasses__())
    return frozenset(found)


class ObsoleteStateMiddleware(BaseMiddleware):
    """A conversation step stored before an upgrade renamed or removed it matches no handler, and holds
    the user as "busy" until /cancel. Such a conversation is dropped, state and data, and the update is
    handled as if none was set: a command works, text gets the usual hint."""

    def __init__(self) -> None:
        self._known = known_states()

    def _obsolete(self, raw_state: str) -> bool:
        """Read from the classes again only on a miss (one defined after this middleware was built)."""
        if raw_state not in self._known:
            self._known = known_states()
        return raw_state not in self._known

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        raw_state = data.get("raw_state")
        state: FSMContext | None = data.get("state")
        if raw_state is not None and state is not None and self._obsolete(raw_state):
            log.info("conversation step %r no longer exists: dropped", raw_state)
            await state.clear()
            data["raw_state"] = None  # what the handlers' state filters read
        return await handler(event, data)


#: Characters that exist in only one script a message needs before it changes the conversation's
#: script: "謝謝" or a stray 這 in a Simplified sentence is no sign of how someone writes.
TELLING_MINIMUM = 3


@cache
def _converter(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(config)


@cache
def _telling(char: str) -> str | None:
    """The script a character belongs to only, or None when both write it the same."""
    if _converter("t2s").convert(char) != char:
        return TRADITIONAL
    if _converter("s2t").convert(char) != char:
        return SIMPLIFIED
    return None


def written_script(text: str) -> str | None:
    """The script a message clearly shows: at least :data:`TELLING_MINIMUM` characters of that script
    only, and more than twice as many as of the other. Commands show none."""
    if text.lstrip().startswith("/"):
        return None
    counts = Counter(_telling(char) for char in text if "\u3400" <= char <= "\u9fff")
    for script, other in ((TRADITIONAL, SIMPLIFIED), (SIMPLIFIED, TRADITIONAL)):
        if counts[script] >= TELLING_MINIMUM and counts[script] > 2 * counts[other]:
            return script
    return None


def language_of_user(user: User | None) -> str:
    code = (user.language_code or "").lower() if user else ""
    return TRADITIONAL if code in TRADITIONAL_CODES else SIMPLIFIED


class LanguageMiddleware(BaseMiddleware):
    """The conversation's script: at first the one of the user's Telegram (zh-Hant/zh-TW/zh-HK/zh-MO
    read Traditional); it switches when a message is clearly written in the other one (see
    :func:`written_script`) and stays switched (FSM storage, destiny ``language``), so short
    replies, commands and button presses are answered in the script of the conversation.
    """

    DESTINY = "language"

    def __init__(self, texts: Texts, storage: BaseStorage) -> None:
        self.texts = texts
        self.storage = storage

    async def resolve(self, bot: Bot, user: User | None, text: str | None) -> tuple[str, bool]:
        """The conversation's script, and whether its menu must change (the default one is Simplified)."""
        if user is None:
            return SIMPLIFIED, False
        key = StorageKey(bot_id=bot.id, chat_id=user.id, user_id=user.id, destiny=self.DESTINY)
        remembered = (await self.storage.get_data(key)).get("lang")
        lang = (written_script(text) if text else None) or remembered or language_of_user(user)
        if lang != remembered:
            await self.storage.set_data(key, {"lang": lang})
        return lang, lang != (remembered or SIMPLIFIED)

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        message = event.message if isinstance(event, Update) else None
        text = (message.text or message.caption) if message else None
        user: User | None = data.get("event_from_user")
        lang, changed = await self.resolve(data["bot"], user, text)
        data["lang"] = lang
        data["tr"] = self.texts(lang)
        result = await handler(event, data)
        if changed and user is not None:
            await show_menu_in_script(data["bot"], user.id, data["tr"])
        return result


class FloodMiddleware(BaseMiddleware):
    """At most ``rate`` updates per ``per`` seconds per user (a token bucket); beyond it the user is
    told once to slow down and the rest is dropped. The same button pressed twice on the same
    message within ``double_tap`` seconds acts once."""

    #: Users and presses remembered before the idle ones are forgotten, so memory stays bounded.
    KEPT = 10_000

    def __init__(self, rate: int = 20, per: float = 10.0, double_tap: float = 2.0) -> None:
        self.rate, self.per, self.double_tap = rate, per, double_tap
        self._buckets: dict[int, tuple[float, float, bool]] = {}  # user -> (tokens, at, warned)
        self._presses: dict[tuple[int, int, str], float] = {}

    def _allow(self, user_id: int, now: float) -> tuple[bool, bool]:
        """(allowed, warn now)."""
        tokens, at, warned = self._buckets.get(user_id, (float(self.rate), now, False))
        tokens = min(float(self.rate), tokens + (now - at) * self.rate / self.per)
        if len(self._buckets) > self.KEPT:
            # a bucket untouched for ``per`` seconds is full again, as good as none: forget it
            self._buckets = {user: b for user, b in self._buckets.items() if now - b[1] < self.per}
        if tokens >= 1:
            self._buckets[user_id] = (tokens - 1, now, False)
            return True, False
        self._buckets[user_id] = (tokens, now, True)
        return False, not warned

    def _repeated_press(self, query: CallbackQuery, now: float) -> bool:
        if query.message is None:
            return False
        key = (query.from_user.id, query.message.message_id, query.data or "")
        last = self._presses.get(key)
        self._presses[key] = now
        if len(self._presses) > self.KEPT:
            self._presses = {k: t for k, t in self._presses.items() if now - t < self.double_tap}
        return last is not None and now - last < self.double_tap

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        if user is None or not isinstance(event, Update):
            return await handler(event, data)
        now = time.monotonic()
        query, message = event.callback_query, event.message
        if query is not None and self._repeated_press(query, now):
            await query.answer(data["tr"].plain("hint.double_tap"))
            return None
        allowed, warn = self._allow(user.id, now)
        if allowed:
            return await handler(event, data)
        log.info("flood limit: user %s", user.id)
        if query is not None:
            await query.answer(data["tr"].plain("hint.flood"))
        elif warn and isinstance(message, Message):
            await message.answer(data["tr"]("hint.flood"))
        return None
