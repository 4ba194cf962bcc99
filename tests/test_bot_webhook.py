"""Webhook mode: updates arrive on the service's aiohttp app, and only with Telegram's secret."""

from __future__ import annotations

import aiohttp
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

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
