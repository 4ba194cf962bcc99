"""Webhook mode: updates arrive on the service's aiohttp app, and only with Telegram's secret."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import runtime as runtime_module
from bot.factory import create_bot, create_dispatcher
from bot.runtime import BotRuntime
from tests.botapi import sandbox_server, serve_app

SECRET = "s3cret-token_from-settings"


def start_update(update_id: int, user: dict) -> dict:
    chat = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
    message = {"message_id": update_id, "date": 1700000000, "chat": chat, "from": user, "text": "/start"}
    return {"update_id": update_id, "message": message}


async def test_a_webhook_update_is_handled_only_with_the_secret_token(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with sandbox_server() as sandbox:
        bot = create_bot(sandbox.world.token, sandbox.api_base)
        runtime = BotRuntime(
            bot,
            create_dispatcher(session_factory),
            webhook_url="https://minsheng.example.org/telegram/hook",
            webhook_secret=SECRET,
        )
        app = web.Application()
        runtime.mount(app)
        await runtime.start()
        try:
            async with serve_app(app) as url, aiohttp.ClientSession() as http:
                assert sandbox.world.webhook_url == "https://minsheng.example.org/telegram/hook"
                assert next(c for c in sandbox.world.calls if c[0] == "setWebhook")[1]["secret_token"] == SECRET
                user = sandbox.world.user(10001).as_telegram()
                hook = f"{url}/telegram/hook"
                async with http.post(hook, json=start_update(1, user)) as response:
                    assert response.status == 401
                headers = {"X-Telegram-Bot-Api-Secret-Token": "wrong"}
                async with http.post(hook, json=start_update(2, user), headers=headers) as response:
                    assert response.status == 401
                headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
                async with http.post(hook, json=start_update(3, user), headers=headers) as response:
                    assert response.status == 200
                await sandbox.world.wait_for(lambda: any(m.from_bot for m in sandbox.world.chats.get(10001, [])), 10)
                await runtime.stop()
        finally:
            await runtime.stop()
        replies = [m for m in sandbox.world.chats[10001] if m.from_bot]
        assert len(replies) == 1 and "民声" in replies[0].text


async def test_telegram_out_of_reach_at_start_up_does_not_stop_the_service(
    session_factory: async_sessionmaker[AsyncSession], caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A network hiccup at start-up: the web app still starts, in both modes, and the bot keeps trying."""
    monkeypatch.setattr(runtime_module, "RETRY_DELAYS", (0.05,))
    unreachable = "http://127.0.0.1:9"  # discard port: the connection is refused
    for webhook_url in (None, "https://minsheng.example.org/telegram/hook"):
        bot = create_bot("123:abc", unreachable)
        runtime = BotRuntime(bot, create_dispatcher(session_factory), webhook_url=webhook_url)
        app = web.Application()
        runtime.mount(app)
        caplog.clear()
        try:
            async with serve_app(app) as url, aiohttp.ClientSession() as http:
                await runtime.start()
                await asyncio.sleep(0.5)  # several attempts
                attempts = [r for r in caplog.records if "Telegram unreachable" in r.getMessage()]
                assert len(attempts) >= 2, webhook_url
                async with http.get(f"{url}/no-such-page") as response:
                    assert response.status == 404  # the web app answers all the while
        finally:
            async with asyncio.timeout(5):
                await runtime.stop()
