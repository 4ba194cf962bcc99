"""`minsheng serve` without a token: the sandbox chat API drives the real handlers over HTTP."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from minsheng.service import serve
from minsheng.settings import Settings
from web.sandbox import SANDBOX_TOKEN
from web.sandbox.world import SandboxWorld


def sandbox_settings(tmp_path: Path) -> Settings:
    return Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'minsheng.db'}",
        web_host="127.0.0.1",
        web_port=0,
        bot_token=None,
        bot_api_base=None,
        webhook_url=None,
    )


@pytest.fixture
async def service_url(tmp_path: Path) -> AsyncIterator[str]:
    """A real `serve` on port 0, stopped (and checked to stop) after the test."""
    stop = asyncio.Event()
    url: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(serve(sandbox_settings(tmp_path), stop=stop, ready=url.set_result))
    done, _ = await asyncio.wait([task, url], timeout=60, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        task.result()  # start-up failed: show why
    yield url.result()
    stop.set()
    await asyncio.wait_for(task, 30)


async def news(http: aiohttp.ClientSession, url: str, user: int, since: int, contains: str) -> tuple[dict, int]:
    """Long-poll the chat until a bot message containing ``contains`` shows up."""
    async with asyncio.timeout(15):
        while True:
            async with http.get(f"{url}/sandbox/api/chats/{user}", params={"since": since, "wait": 5}) as response:
                body = await response.json()
            since = body["rev"]
            for message in body["messages"]:
                if message["from_bot"] and contains in message["text"]:
                    return message, since


async def test_the_sandbox_chat_api_plays_a_citizen_against_the_real_handlers(service_url: str) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{service_url}/sandbox/api/users") as response:
            users = await response.json()
        assert {"citizen", "agency"} <= {u["role"] for u in users}
        async with http.post(f"{service_url}/sandbox/api/chats/10001/messages", json={"text": "/start"}) as response:
            assert response.status == 200
        welcome, since = await news(http, service_url, 10001, 0, "民声")
        help_button = next(b for row in welcome["inline_keyboard"] for b in row if "帮助" in b["text"])
        press = {"message_id": welcome["message_id"], "data": help_button["callback_data"]}
        async with http.post(f"{service_url}/sandbox/api/chats/10001/press", json=press) as response:
            assert response.status == 200
        await news(http, service_url, 10001, since, "/complain")
        async with http.post(f"{service_url}/sandbox/api/chats/10001/messages", json={"kind": "sticker"}) as response:
            assert response.status == 200
        await news(http, service_url, 10001, since, "文字")


async def test_a_new_sandbox_user_writing_traditional_is_answered_in_traditional(service_url: str) -> None:
    async with aiohttp.ClientSession() as http:
        body = {"first_name": "黃小姐", "language_code": "zh-hk", "role": "citizen"}
        async with http.post(f"{service_url}/sandbox/api/users", json=body) as response:
            user = (await response.json())["id"]
        async with http.post(f"{service_url}/sandbox/api/chats/{user}/messages", json={"text": "/help"}) as response:
            assert response.status == 200
        await news(http, service_url, user, 0, "幫助")


async def test_the_sandbox_refuses_an_unknown_user_and_a_button_that_does_not_exist(service_url: str) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{service_url}/sandbox/api/chats/424242/messages", json={"text": "hi"}) as response:
            assert response.status == 404
        press = {"message_id": 987654, "data": "menu:help"}
        async with http.post(f"{service_url}/sandbox/api/chats/10001/press", json=press) as response:
            assert response.status == 400


async def test_serve_stops_the_sandbox_bot_cleanly(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    stop = asyncio.Event()
    url: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(serve(sandbox_settings(tmp_path), stop=stop, ready=url.set_result))
    await asyncio.wait_for(asyncio.shield(url), 60)
    before = {t for t in asyncio.all_tasks() if t is not task}
    stop.set()
    await asyncio.wait_for(task, 30)
    await asyncio.sleep(0)
    leftover = [t.get_name() for t in asyncio.all_tasks() - before if not t.done()]
    assert not [t for t in asyncio.all_tasks() if t.get_name() in ("bot-polling", "outbox-sender", "timekeeper")]
    assert not leftover
    assert "sandbox chat page on" in caplog.text and "bot: polling mode" in caplog.text


async def test_a_photo_uploaded_on_the_chat_page_can_be_fetched_back_through_the_bot_api(service_url: str) -> None:
    """What the dashboard does to show a citizen's photo: getFile, then the file URL, with the bot's token."""
    api = f"{service_url}/sandbox/botapi"
    async with aiohttp.ClientSession() as http:
        form = aiohttp.FormData({"kind": "photo", "caption": "窗口的照片"})
        form.add_field("file", b"\xff\xd8\xff photo bytes", filename="window.jpg", content_type="image/jpeg")
        async with http.post(f"{service_url}/sandbox/api/chats/10001/messages", data=form) as response:
            assert response.status == 200
        async with http.get(f"{service_url}/sandbox/api/chats/10001", params={"since": 0}) as response:
            mine = [m for m in (await response.json())["messages"] if not m["from_bot"] and m["kind"] == "photo"]
        file_id = f"photo-u{mine[-1]['message_id']}"
        async with http.post(f"{api}/bot{SANDBOX_TOKEN}/getFile", json={"file_id": file_id}) as response:
            path = (await response.json())["result"]["file_path"]
        async with http.get(f"{api}/file/bot{SANDBOX_TOKEN}/{path}") as response:
            assert await response.read() == b"\xff\xd8\xff photo bytes"
        async with http.get(f"{api}/file/botwrong-token/{path}") as response:
            assert response.status == 401
        async with http.post(f"{api}/bot{SANDBOX_TOKEN}/getFile", json={"file_id": "photo-unknown"}) as response:
            assert response.status == 400


async def test_a_restarted_sandbox_never_reuses_an_update_id() -> None:
    """The bot remembers handled update ids in the database; a new world (a restarted serve) must not
    send ids it already used, or its first updates would be skipped as duplicates."""
    before = SandboxWorld()
    last = max([await before.user_sends(10001, "第一次") for _ in range(3)])
    after = SandboxWorld()
    assert await after.user_sends(10001, "重启之后") > last
