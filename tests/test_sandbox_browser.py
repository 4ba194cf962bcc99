"""The sandbox chat page in headless Chromium, served by a real `minsheng.service.serve`."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright, expect

from minsheng.service import serve
from tests.test_sandbox import sandbox_settings

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]

pytestmark = pytest.mark.browser


@pytest.fixture
async def service_url(tmp_path: Path) -> AsyncIterator[str]:
    stop = asyncio.Event()
    url: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(serve(sandbox_settings(tmp_path), stop=stop, ready=url.set_result))
    done, _ = await asyncio.wait([task, url], timeout=60, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        task.result()
    yield url.result()
    stop.set()
    await asyncio.wait_for(task, 30)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


async def test_a_citizen_sends_start_in_the_chat_page_and_sees_the_welcome_and_menu_buttons(
    service_url: str, browser: Browser
) -> None:
    page = await browser.new_page(viewport={"width": 390, "height": 780})  # a phone
    await page.goto(f"{service_url}/sandbox/?user=10001")
    await page.fill("#text", "/start")
    await page.click("#send")
    welcome = page.locator(".msg.bot", has_text="民声")
    await expect(welcome).to_be_visible(timeout=15_000)
    await expect(welcome).to_contain_text("张三")
    for label in ("📝 我要投诉", "⭐ 评议单位", "📋 我的投诉", "❓ 帮助"):
        await expect(welcome.get_by_role("button", name=label)).to_be_visible()
    await welcome.get_by_role("button", name="❓ 帮助").click()
    await expect(page.locator(".msg.bot", has_text="/status")).to_be_visible(timeout=15_000)
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=ARTIFACTS / "sandbox-start.png", full_page=True)


async def test_a_second_tab_plays_another_user_whose_chat_is_separate(service_url: str, browser: Browser) -> None:
    citizen = await browser.new_page()
    await citizen.goto(f"{service_url}/sandbox/?user=10001")
    contact = await browser.new_page()
    await contact.goto(f"{service_url}/sandbox/?user=20001")
    await expect(contact.locator("#user")).to_have_value("20001")
    # The picker adds the role to the name: said once, not twice.
    await expect(contact.locator("#user option:checked")).to_have_text("李科长（单位联系人，zh-hans）")
    await contact.fill("#text", "/help")
    await contact.press("#text", "Enter")
    await expect(contact.locator(".msg.bot", has_text="/complain")).to_be_visible(timeout=15_000)
    await citizen.click("#sticker")
    await expect(citizen.locator(".msg.bot", has_text="文字")).to_be_visible(timeout=15_000)
    await expect(citizen.locator(".msg.bot", has_text="/complain")).to_have_count(0)
    await expect(contact.locator(".msg.bot", has_text="文字")).to_have_count(0)


async def test_a_citizen_files_a_complaint_through_the_chat_page_and_gets_a_tracking_number(
    service_url: str, browser: Browser
) -> None:
    page = await browser.new_page(viewport={"width": 390, "height": 780})
    await page.goto(f"{service_url}/sandbox/?user=10001")
    bot = page.locator(".msg.bot")

    async def say(text: str, then: str) -> None:
        await page.fill("#text", text)
        await page.click("#send")
        await expect(bot.filter(has_text=then).last).to_be_visible(timeout=15_000)

    async def tap(message_text: str, button: str | None, then: str) -> None:
        buttons = bot.filter(has_text=message_text).last.get_by_role("button")
        await (buttons.first if button is None else buttons.filter(has_text=button)).click()
        await expect(bot.filter(has_text=then).last).to_be_visible(timeout=15_000)

    await say("/complain", "写完了")
    await say("我去社保窗口办医保卡，工作人员态度恶劣，爱理不理，让我跑了好几趟都没办成。", "已记下")
    await tap("已记下", "写完了", "发生在哪里")
    await tap("发生在哪里", "跳过", "问题类型")
    await tap("问题类型", None, "匿名")  # the tagger's best candidate
    await tap("匿名", "实名", "联系电话")  # an anonymous complaint is not asked for a phone
    await tap("联系电话", "跳过", "请确认")
    await tap("请确认", "确认提交", "受理编号")
    submitted = await bot.filter(has_text="受理编号").last.inner_text()
    tracking_no = re.search(r"\d{8}-\d{4}", submitted).group(0)
    receipt = bot.filter(has_text=tracking_no).filter(has_text="前")  # the outbox receipt with deadlines
    await expect(receipt.last).to_be_visible(timeout=15_000)
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=ARTIFACTS / "sandbox-complaint.png", full_page=True)
