"""Polling or webhook, chosen in one place.

Long polling is the default. With a webhook URL the aiohttp web app receives updates at the URL's
path (aiogram's ``SimpleRequestHandler``), checks Telegram's secret token header, and registers
the webhook with Telegram when the app starts.

Telegram out of reach at start-up (a network hiccup, a proxy not up yet) never stops the service: the
dashboard, the publication and the outbox keep working, and the bot keeps trying to reach Telegram.
A token Telegram rejects (401 Unauthorized) does stop it: no retry can help, and a service without a
bot that still answers /healthz would hide the mistake from the operator and from a restart policy. So
does a token revoked once polling runs, although aiogram's polling would retry getUpdates forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiogram import Bot, Dispatcher
from aiogram.client.session.middlewares.base import NextRequestMiddlewareType
from aiogram.exceptions import TelegramNetworkError, TelegramServerError, TelegramUnauthorizedError
from aiogram.methods import GetUpdates, Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

from bot.middlewares import InFlightMiddleware
from minsheng.settings import TokenRejected

log = logging.getLogger(__name__)

#: Seconds between attempts to reach Telegram at start-up; the last one repeats.
RETRY_DELAYS = (1, 2, 5, 10, 30, 60)
#: Failures worth retrying: Telegram (or the way to it) is down, not our request wrong.
UNREACHABLE = (TelegramNetworkError, TelegramServerError)


class BotRuntime:
    """Runs one Dispatcher for one Bot; ``stop`` leaves no task running and the bot session closed."""

    def __init__(
        self,
        bot: Bot,
        dispatcher: Dispatcher,
        *,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        drain_timeout: float = 10.0,
        on_rejected: Callable[[TokenRejected], None] | None = None,
    ) -> None:
        self.bot = bot
        self.dispatcher = dispatcher
        self.webhook_url = webhook_url
        #: Telegram echoes this in X-Telegram-Bot-Api-Secret-Token; a random one if none is configured.
        self.webhook_secret = webhook_secret or (secrets.token_urlsafe(32) if webhook_url else None)
        self.drain_timeout = drain_timeout
        #: Called when Telegram rejects the token after start-up (in a background task); the service stops.
        self.on_rejected = on_rejected
        self._polling: asyncio.Task[None] | None = None
        #: Telegram's 401 to a getUpdates: the token was revoked while polling ran.
        self._revoked: TelegramUnauthorizedError | None = None
        self._webhook_retry: asyncio.Task[None] | None = None

    @property
    def mode(self) -> str:
        return "webhook" if self.webhook_url else "polling"

    @property
    def webhook_path(self) -> str:
        return urlsplit(self.webhook_url or "").path or "/"

    def mount(self, app: web.Application) -> None:
        """Before the web app starts: in webhook mode, receive updates on it."""
        if not self.webhook_url:
            return
        app.on_startup.append(self._check_token)  # before the Dispatcher's start-up, which calls Telegram
        SimpleRequestHandler(dispatcher=self.dispatcher, bot=self.bot, secret_token=self.webhook_secret).register(
            app, path=self.webhook_path
        )
        self.dispatcher.startup.register(self._set_webhook)
        setup_application(app, self.dispatcher, bot=self.bot)

    async def _check_token(self, app: web.Application) -> None:
        """getMe as the app starts: a rejected token stops start-up; Telegram out of reach does not (the
        webhook is retried)."""
        try:
            await self.bot.me()
        except TelegramUnauthorizedError as error:
            raise _rejected(error) from None
        except UNREACHABLE:
            pass

    async def _set_webhook(self, bot: Bot) -> None:
        """Registered as the app starts; if Telegram is out of reach, again in the background."""
        try:
            await self._register_webhook(bot)
        except UNREACHABLE as error:
            log.error("bot: Telegram unreachable, webhook not set yet (%s); retrying", error)
            self._webhook_retry = asyncio.create_task(
                _until_reached(lambda: self._register_webhook(bot), "set the webhook", first_delay=True),
                name="bot-webhook",
            )
            self._webhook_retry.add_done_callback(self._ended)

    async def _register_webhook(self, bot: Bot) -> None:
        try:
            await bot.set_webhook(
                str(self.webhook_url),
                secret_token=self.webhook_secret,
                allowed_updates=self.dispatcher.resolve_used_update_types(),
            )
        except TelegramUnauthorizedError as error:
            raise _rejected(error) from None
        log.info("webhook set: %s", self.webhook_url)

    async def start(self) -> None:
        """After the web app started: in polling mode, start polling in the background."""
        if self.webhook_url:
            return
        self.bot.session.middleware(self._watch_polling)
        self._polling = asyncio.create_task(_until_reached(self._poll, "start polling"), name="bot-polling")
        self._polling.add_done_callback(self._ended)

    async def _poll(self) -> None:
        # Once polling runs, aiogram itself waits out network errors; only getting there is retried here.
        try:
            await self.bot.delete_webhook(drop_pending_updates=False)
            await self.dispatcher.start_polling(self.bot, handle_signals=False, close_bot_session=False)
        except TelegramUnauthorizedError as error:  # at deleteWebhook, setMyCommands or getMe
            raise _rejected(error) from None
        if self._revoked is not None:
            raise _rejected(self._revoked)

    async def _watch_polling(
        self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot, method: TelegramMethod[TelegramType]
    ) -> Response[TelegramType]:
        """aiogram's polling logs a failed getUpdates and tries again, a 401 too: this request middleware
        stops polling instead (this task, waiting here, is cancelled by it), and ``_poll`` says why."""
        try:
            return await make_request(bot, method)
        except TelegramUnauthorizedError as error:
            if isinstance(method, GetUpdates):
                self._revoked = error
                await self.dispatcher.stop_polling()
            raise

    def _ended(self, task: asyncio.Task[None]) -> None:
        """A background task (polling, setting the webhook) ended: why, to the service or the log."""
        if task.cancelled() or (error := task.exception()) is None:
            return
        if isinstance(error, TokenRejected) and self.on_rejected is not None:
            self.on_rejected(error)
        else:
            log.error("bot stopped: %s", error, exc_info=error)

    async def stop(self) -> None:
        """Stop taking updates, let the ones in hand finish, close the bot's HTTP session."""
        if self._webhook_retry is not None:
            self._webhook_retry.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_retry
            self._webhook_retry = None
        if self._polling is not None:
            if not self._polling.done():
                try:
                    await self.dispatcher.stop_polling()
                except RuntimeError:  # not started yet: nothing to stop gracefully
                    self._polling.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._polling
            self._polling = None
        in_flight = self.dispatcher.workflow_data.get("in_flight")
        if isinstance(in_flight, InFlightMiddleware) and not await in_flight.wait_idle(self.drain_timeout):
            log.warning("bot: updates still in hand after %.0fs at shutdown", self.drain_timeout)
        await self.bot.session.close()


async def _until_reached(action: Callable[[], Awaitable[None]], what: str, *, first_delay: bool = False) -> None:
    """``action`` again and again while Telegram is out of reach, waiting longer each time."""
    attempt = 1 if first_delay else 0
    while True:
        if attempt:
            await asyncio.sleep(RETRY_DELAYS[min(attempt - 1, len(RETRY_DELAYS) - 1)])
        try:
            await action()
            return
        except UNREACHABLE as error:
            delay = RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)]
            log.error("bot: Telegram unreachable, could not %s (%s); trying again in %ss", what, error, delay)
            attempt += 1


def _rejected(error: TelegramUnauthorizedError) -> TokenRejected:
    return TokenRejected(f"Telegram rejects MINSHENG_BOT_TOKEN ({error.message}): get the token again from @BotFather")
