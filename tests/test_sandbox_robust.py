"""The sandbox survives what a newcomer does to it: restarts, unknown users, reloads, a phone, a location."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
from aiogram.types import Update
from playwright.async_api import Browser, Dialog, Page, async_playwright, expect

from minsheng.service import serve
from tests.test_sandbox import news, sandbox_settings
from tests.test_sandbox_browser import CHROMIUM_ARGS
from web.sandbox.world import SandboxWorld


@asynccontextmanager
async def running(tmp_path: Path, port: int = 0) -> AsyncIterator[str]:
    """A real `serve` over the database in ``tmp_path``: two in a row are a restart."""
    settings = sandbox_settings(tmp_path).model_copy(update={"web_port": port})
    stop = asyncio.Event()
    url: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(serve(settings, stop=stop, ready=url.set_result))
    done, _ = await asyncio.wait([task, url], timeout=60, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        task.result()  # start-up failed: show why
    try:
        yield url.result()
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


async def chat(http: aiohttp.ClientSession, url: str, user: int, **params: object) -> dict:
    async with http.get(f"{url}/sandbox/api/chats/{user}", params={"since": 0, **params}) as response:
        assert response.status == 200
        return await response.json()


async def say(http: aiohttp.ClientSession, url: str, user: int, text: str) -> None:
    async with http.post(f"{url}/sandbox/api/chats/{user}/messages", json={"text": text}) as response:
        assert response.status == 200


async def add_user(http: aiohttp.ClientSession, url: str, name: str) -> int:
    async with http.post(f"{url}/sandbox/api/users", json={"first_name": name}) as response:
        return (await response.json())["id"]


COMPLAINT = "我去社保窗口办医保卡，工作人员态度恶劣，爱理不理，让我跑了好几趟都没办成。"


async def draft(http: aiohttp.ClientSession, url: str, user: int, since: int = 0) -> int:
    """A complaint begun and not finished: work in progress, which starting over would wipe."""
    await say(http, url, user, "/complain")
    _, since = await news(http, url, user, since, "写完了")
    await say(http, url, user, COMPLAINT)
    _, since = await news(http, url, user, since, "已记下")
    return since


async def test_a_page_polling_a_restarted_sandbox_learns_of_the_restart_at_once(tmp_path: Path) -> None:
    async with aiohttp.ClientSession() as http:
        async with running(tmp_path) as url:
            await say(http, url, 10001, "/start")
            _, since = await news(http, url, 10001, 0, "民声")
            before = (await chat(http, url, 10001))["epoch"]
        async with running(tmp_path) as url:
            started = time.monotonic()
            answer = await chat(http, url, 10001, since=since, wait=20, epoch=before)
            assert time.monotonic() - started < 5  # not a 20-second wait on a position that means nothing here
            assert answer["epoch"] != before
            again = await chat(http, url, 10001, since=answer["rev"], wait=0, epoch=answer["epoch"])
            assert again["epoch"] == answer["epoch"]


async def test_users_added_before_a_restart_come_back_and_their_ids_are_never_given_to_new_users(
    tmp_path: Path,
) -> None:
    async with aiohttp.ClientSession() as http:
        async with running(tmp_path) as url:
            asking = await add_user(http, url, "王五")
            await say(http, url, asking, "/my")  # leaves a citizen record
            await news(http, url, asking, 0, "")
            writing = await add_user(http, url, "赵六")
            await draft(http, url, writing)  # leaves a conversation under way
        async with running(tmp_path) as url:
            async with http.get(f"{url}/sandbox/api/users") as response:
                users = {u["id"]: u for u in await response.json()}
            assert users[asking]["first_name"] == "王五"
            assert writing in users
            newcomer = await add_user(http, url, "孙七")
            assert newcomer > max(asking, writing)
            await say(http, url, writing, "/complain")  # the tab playing 赵六 still works: the draft is there
            await news(http, url, writing, 0, "没有完成")


async def test_loading_a_chat_shows_its_messages_but_no_toast_or_alert_of_the_past(tmp_path: Path) -> None:
    async with aiohttp.ClientSession() as http, running(tmp_path) as url:
        await say(http, url, 10001, "/start")
        welcome, since = await news(http, url, 10001, 0, "民声")
        since = await draft(http, url, 10001, since)
        complain = next(b for row in welcome["inline_keyboard"] for b in row if "投诉" in b["text"])
        press = {"message_id": welcome["message_id"], "data": complain["callback_data"]}
        async with http.post(f"{url}/sandbox/api/chats/10001/press", json=press) as response:
            assert response.status == 200
        answers: list[tuple[str, bool]] = []
        async with asyncio.timeout(15):
            while not answers:
                live = await chat(http, url, 10001, since=since, wait=5)
                since, answers = live["rev"], list(zip(live["answers"], live["alerts"], strict=True))
        assert len(answers) == 1 and "没有完成" in answers[0][0] and answers[0][1]  # news, as an alert
        loaded = await chat(http, url, 10001)
        assert loaded["messages"] and loaded["answers"] == [] and loaded["alerts"] == []


async def test_a_sandbox_location_reaches_the_bot_as_a_telegram_location() -> None:
    world = SandboxWorld()
    await world.user_sends(10001, kind="location", location=(31.2304, 121.4737))
    [raw] = await world.get_updates(0, 100, wait=0)
    update = Update.model_validate(raw)
    assert update.message is not None and update.message.location is not None
    assert (update.message.location.latitude, update.message.location.longitude) == (31.2304, 121.4737)
    with pytest.raises(ValueError):
        await world.user_sends(10001, kind="location")


async def test_the_chat_api_refuses_a_location_off_the_globe(tmp_path: Path) -> None:
    async with aiohttp.ClientSession() as http, running(tmp_path) as url:
        for body in ({"kind": "location", "latitude": 91, "longitude": 0}, {"kind": "location"}):
            async with http.post(f"{url}/sandbox/api/chats/10001/messages", json=body) as response:
                assert response.status == 400


# --- in the browser -------------------------------------------------------------------------------------


async def phone(browser: Browser, **context: object) -> Page:
    page = await (await browser.new_context(viewport={"width": 390, "height": 844}, **context)).new_page()
    return page


@pytest.mark.browser
async def test_the_page_reconnects_after_a_restart_and_keeps_a_message_the_stopped_server_did_not_take(
    tmp_path: Path, browser: Browser
) -> None:
    port = free_port()
    page = await phone(browser)
    async with running(tmp_path, port) as url:
        await page.goto(f"{url}/sandbox/?user=10001")
        await page.fill("#text", "/start")
        await page.click("#send")
        await expect(page.locator(".msg.bot", has_text="民声")).to_be_visible(timeout=15_000)
    await expect(page.locator("#status")).to_be_visible(timeout=10_000)
    await page.fill("#text", "/help")
    await page.click("#send")
    await expect(page.locator("#toast")).to_contain_text("没有发送")
    await expect(page.locator("#text")).to_have_value("/help")
    async with running(tmp_path, port):
        await expect(page.locator(".notice", has_text="服务器已重启")).to_be_visible(timeout=15_000)
        await expect(page.locator("#status")).to_be_hidden()
        await page.click("#send")
        await expect(page.locator(".msg.bot", has_text="/complain")).to_be_visible(timeout=15_000)
        await expect(page.locator("#text")).to_have_value("")
        await expect(page.locator(".msg.stale button").first).to_be_disabled()


@pytest.mark.browser
async def test_an_unknown_user_in_the_address_is_said_plainly_and_nobody_is_played_instead(
    tmp_path: Path, browser: Browser
) -> None:
    async with aiohttp.ClientSession() as http, running(tmp_path) as url:
        page = await phone(browser)
        await page.goto(f"{url}/sandbox/?user=424242")
        await expect(page.locator(".notice", has_text="424242")).to_be_visible(timeout=10_000)
        await expect(page.locator("#user")).to_have_value("")
        await page.fill("#text", "/bind ABC123")
        await page.click("#send")
        await expect(page.locator("#toast")).to_contain_text("选择")
        await expect(page.locator("#text")).to_have_value("/bind ABC123")
        assert (await chat(http, url, 10001))["messages"] == []


@pytest.mark.browser
async def test_reloading_the_page_does_not_replay_an_alert(tmp_path: Path, browser: Browser) -> None:
    async with running(tmp_path) as url:
        page = await phone(browser)
        dialogs: list[str] = []

        async def accept(dialog: Dialog) -> None:
            dialogs.append(dialog.message)
            await dialog.accept()

        page.on("dialog", accept)
        await page.goto(f"{url}/sandbox/?user=10001")
        await page.fill("#text", "/start")
        await page.click("#send")
        welcome = page.locator(".msg.bot", has_text="民声").first
        await expect(welcome).to_be_visible(timeout=15_000)
        for text, then in (("/complain", "写完了"), (COMPLAINT, "已记下")):
            await page.fill("#text", text)
            await page.click("#send")
            await expect(page.locator(".msg.bot", has_text=then).first).to_be_visible(timeout=15_000)
        async with page.expect_event("dialog", timeout=15_000):
            await welcome.get_by_role("button", name="📝 我要投诉").click()
        assert "没有完成" in dialogs[0]
        await page.reload()
        await expect(page.locator(".msg.bot", has_text="民声").first).to_be_visible(timeout=15_000)
        await page.select_option("#user", "20001")
        await page.select_option("#user", "10001")
        await expect(page.locator(".msg.bot", has_text="民声").first).to_be_visible(timeout=15_000)
        await page.wait_for_timeout(1500)
        assert len(dialogs) == 1


@pytest.mark.browser
async def test_on_a_phone_the_header_is_one_row_and_the_placeholder_fits(tmp_path: Path, browser: Browser) -> None:
    async with running(tmp_path) as url:
        page = await phone(browser)
        await page.goto(f"{url}/sandbox/?user=10001")
        await expect(page.locator("#user")).to_have_value("10001")
        header = await page.locator("header").bounding_box()
        assert header is not None and header["height"] < 56
        tops = {round((await page.locator(sel).bounding_box())["y"]) for sel in ("header h1", "#user", "#new-user")}
        assert max(tops) - min(tops) < 12
        fits = await page.evaluate(
            """() => {
                const box = document.getElementById("text"), style = getComputedStyle(box);
                const ctx = document.createElement("canvas").getContext("2d"); ctx.font = style.font;
                const room = box.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
                return ctx.measureText(box.placeholder).width <= room;
            }"""
        )
        assert fits


@pytest.mark.browser
async def test_the_location_button_sends_the_browsers_position_to_the_bot(tmp_path: Path, browser: Browser) -> None:
    async with running(tmp_path) as url:
        page = await phone(
            browser, geolocation={"latitude": 31.2304, "longitude": 121.4737}, permissions=["geolocation"]
        )
        await page.goto(f"{url}/sandbox/?user=10001")
        await expect(page.locator("#user")).to_have_value("10001")
        await page.click("#location")
        mine = page.locator(".msg.me", has_text="📍 位置")
        await expect(mine).to_contain_text("31.23040, 121.47370", timeout=10_000)
        await expect(page.locator(".msg.bot")).to_have_count(1, timeout=15_000)  # the handlers answered it


async def test_a_restarted_sandbox_numbers_its_messages_above_the_previous_run() -> None:
    """The bot keeps ids of messages it sent (copies it settles later): after a restart they must not
    name a new message."""
    before = SandboxWorld()
    for _ in range(5):
        await before.user_sends(10001, text="你好")
    last = max(message.message_id for message in before.chats[10001])
    await asyncio.sleep(1.1)
    after = SandboxWorld()
    await after.user_sends(10001, text="你好")
    assert min(message.message_id for message in after.chats[10001]) > last
