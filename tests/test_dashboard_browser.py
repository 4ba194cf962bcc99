"""The dashboard in headless Chromium (Debian's, never a downloaded one): log in, filter the queue,
open a complaint; and the same on a phone-sized screen."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient
from playwright.async_api import Browser, async_playwright, expect

from tests.test_dashboard_support import PASSWORD, World, client, world

__all__ = ["client", "world"]

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


async def test_officer_logs_in_filters_the_queue_and_opens_a_complaint(
    client: TestClient, world: World, browser: Browser
) -> None:
    page = await browser.new_page()
    await page.goto(str(client.make_url("/dashboard/complaints")))
    await expect(page).to_have_url(re.compile(r"/dashboard/login\?next="))
    await page.get_by_label("用户名").fill("chief")
    await page.get_by_label("密码").fill(PASSWORD)
    await page.get_by_role("button", name="登录").click()
    await expect(page.get_by_role("heading", name="投诉队列")).to_be_visible()  # back where we started
    await expect(page.locator(".queue li")).to_have_count(3)

    await page.get_by_label("状态").select_option("disputed")
    await page.get_by_role("button", name="筛选").click()
    await expect(page.locator(".queue li")).to_have_count(1)
    await expect(page).to_have_url(re.compile(r"status=disputed"))

    await page.get_by_role("link", name=world.complaint_b.tracking_no).click()
    await expect(page.get_by_role("heading", name=f"投诉 {world.complaint_b.tracking_no}")).to_be_visible()
    await expect(page.locator(".timeline")).to_contain_text("理由：不属于本单位职责")
    await expect(page.locator(".original mark.ev-problem_type")).to_have_text("没人管")
    await expect(page.get_by_role("button", name="审定")).to_be_visible()


async def test_agency_viewer_on_a_phone_sees_only_its_queue(client: TestClient, world: World, browser: Browser) -> None:
    context = await browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    page = await context.new_page()
    await page.goto(str(client.make_url("/dashboard/login")))
    await page.get_by_label("用户名").fill("viewer-a")
    await page.get_by_label("密码").fill(PASSWORD)
    await page.get_by_role("button", name="登录").click()
    await expect(page.get_by_role("heading", name="2026年11月投诉情况")).to_be_visible()
    await page.get_by_role("link", name="投诉队列").click()
    await expect(page.locator(".queue li")).to_have_count(2)
    await expect(page.get_by_label("单位")).to_have_count(0)  # no agency choice: forced to their own
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375  # no sideways scrolling on a phone
    await page.goto(str(client.make_url(f"/dashboard/complaints/{world.complaint_b.tracking_no}")))
    await expect(page.get_by_role("heading", name="未找到")).to_be_visible()
    await context.close()
