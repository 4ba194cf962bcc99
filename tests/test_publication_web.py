"""The public publication pages: served by the real application on an ephemeral port, no login, no
personal data, only released months; and viewed in headless Chromium on a desktop and on a phone, with a
screenshot saved."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from datetime import date, datetime
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from click.testing import CliRunner, Result
from openpyxl import load_workbook
from sqlalchemy import update

from minsheng.cli import main
from reports.publication import due_months
from reports.snapshots import NotReleasable, release
from storage.db import create_session_factory
from storage.models import Complaint
from tests.publication_support import at, client, release_months, stored
from tests.test_reports_exports import SECRETS
from tests.test_reports_figures import OCTOBER, ZONE
from web.app import DEADLINES, ENGINE
from web.publication import CLOCK

__all__ = ["client"]

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
SEPTEMBER, NOVEMBER = date(2026, 9, 1), date(2026, 11, 1)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture
async def released(client: TestClient) -> TestClient:
    """The application with September and October released."""
    await release_months(client, SEPTEMBER, OCTOBER)
    return client


async def test_index_lists_the_released_months_newest_first(released: TestClient) -> None:
    response = await released.get("/publication/")
    assert response.status == 200
    html = await response.text()
    assert html.index("2026年10月") < html.index("2026年9月")
    assert 'href="/publication/2026-10"' in html
    assert "2026年11月" not in html  # the clock is in November: the month is not over, let alone cut off
    assert "<h1>示例市投诉情况每月公示</h1>" in html  # the catalogue's region: whose figures these are


async def test_a_month_past_its_cut_off_is_public_only_once_released(client: TestClient) -> None:
    index = await (await client.get("/publication/")).text()
    assert "2026年10月" not in index and "2026年9月" not in index  # past their cut-offs, not released
    for path in ("/publication/2026-10", "/publication/2026-10.csv", "/publication/2026-10.xlsx"):
        response = await client.get(path)
        assert response.status == 404 and "2026年10月的公示正在核对，尚未发布" in await response.text()
    assert await stored(client) == {}  # reading stores nothing
    await release_months(client, OCTOBER)
    assert (await client.get("/publication/2026-10")).status == 200
    assert "2026年10月" in await (await client.get("/publication/")).text()


async def test_a_month_can_be_released_only_after_its_cut_off(client: TestClient) -> None:
    at(client, datetime(2026, 12, 7, 17, 29, tzinfo=ZONE))  # November ended; 5 working days end 12-07 17:30
    with pytest.raises(NotReleasable) as refused:
        await release_months(client, NOVEMBER)
    assert refused.value.reason == "before_cut_off"
    assert refused.value.cut_off == datetime(2026, 12, 7, 17, 30, tzinfo=ZONE)
    response = await client.get("/publication/2026-11")
    assert response.status == 404 and "尚未发布" in await response.text() and "正在核对" not in await response.text()
    assert (await client.get("/publication/2026-11.csv")).status == 404
    at(client, datetime(2026, 12, 7, 17, 30, tzinfo=ZONE))
    assert "正在核对" in await (await client.get("/publication/2026-11")).text()
    await release_months(client, NOVEMBER)
    response = await client.get("/publication/2026-11")
    assert response.status == 200 and "数据截至 2026-12-07 17:30" in await response.text()
    assert "2026年11月" in await (await client.get("/publication/")).text()


async def test_a_month_downloaded_later_is_the_same_file(released: TestClient) -> None:
    """Taken at October's cut-off (2026-11-06 17:30), whenever it is asked for: b3's rating of 11-12,
    after the cut-off, never enters it."""
    client = released
    first_csv = await (await client.get("/publication/2026-10.csv")).read()
    first_xlsx = await (await client.get("/publication/2026-10.xlsx")).read()
    first_page = await (await client.get("/publication/2026-10")).text()
    assert "数据截至 2026-11-06 17:30" in first_page
    client.app[CLOCK].set(datetime(2026, 12, 10, 9, tzinfo=ZONE))
    assert await (await client.get("/publication/2026-10.csv")).read() == first_csv
    assert await (await client.get("/publication/2026-10.xlsx")).read() == first_xlsx
    # Dated by the cut-off, not by the moment it was written (which two quick downloads may share).
    assert load_workbook(io.BytesIO(first_xlsx)).properties.modified == datetime(2026, 11, 6, 9, 30)  # UTC
    assert await (await client.get("/publication/2026-10")).text() == first_page


async def test_month_page_shows_the_table_charts_definitions_and_downloads(released: TestClient) -> None:
    response = await released.get("/publication/2026-10")
    assert response.status == 200 and response.content_type == "text/html"
    html = await response.text()
    assert "<h1>示例市2026年10月投诉情况公示</h1>" in html and "预览" not in html
    assert "<title>示例市2026年10月投诉情况公示</title>" in html
    assert "数据截至 2026-11-06 17:30" in html  # the cut-off: five working days after October
    assert html.count("<svg") == 3 and 'id="definitions"' in html
    assert 'href="/publication/2026-10.xlsx"' in html and 'href="/publication/2026-09"' in html
    for secret in SECRETS:
        assert secret not in html, secret


async def test_downloads_match_the_page(released: TestClient) -> None:
    client = released
    response = await client.get("/publication/2026-10.csv")
    assert response.status == 200 and response.headers["Content-Type"].startswith("text/csv")
    assert 'filename="publication-2026-10.csv"' in response.headers["Content-Disposition"]
    first, table = (await response.read()).decode("utf-8-sig").split("\r\n", 1)
    # The month and its cut-off, as a preview states them.
    assert first == "示例市2026年10月投诉情况公示：数据截至公示截止时间 2026-11-06 17:30。"
    rows = list(csv.DictReader(io.StringIO(table)))
    assert rows[-1]["单位"] == "合计" and rows[-1]["收到量"] == "10"
    response = await client.get("/publication/2026-10.xlsx")
    assert response.status == 200
    book = load_workbook(io.BytesIO(await response.read()))
    assert book["各单位情况"]["D2"].value == 5
    assert book.properties.title == "示例市2026年10月投诉情况公示"


@pytest.mark.parametrize(
    "path",
    [
        "/publication/2026-10",
        "/publication/2026-10.csv",
        "/publication/2026-11",
        "/publication/2026-11.xlsx",
        "/publication/2026-12",
        "/publication/2026-13",
        "/publication/0000-01",
        "/publication/0001-01",
        "/publication/1999-12",
        "/publication/9999-12",
        "/publication/9999-12.csv",
        "/publication/2026-10.pdf",
        "/publication/nothing/here",
    ],
)
async def test_unreleased_unfinished_months_not_begun_malformed_or_unknown_are_not_found_in_the_pages_layout(
    client: TestClient, path: str
) -> None:
    response = await client.get(path)
    assert response.status == 404 and response.content_type == "text/html"
    html = await response.text()
    assert "<title>" in html and 'href="/publication/"' in html and 'id="not-found"' in html


async def test_public_pages_may_be_cached(released: TestClient) -> None:
    """Unlike the dashboard and the API, they hold nothing personal: no ``no-store`` is added."""
    for path in ("/publication/", "/publication/2026-10", "/publication/2026-10.csv"):
        response = await released.get(path)
        assert response.status == 200 and "no-store" not in response.headers.get("Cache-Control", "")


@pytest.mark.browser
async def test_publication_in_headless_chromium_on_desktop_and_phone(released: TestClient, backend: str) -> None:
    from playwright.async_api import async_playwright

    client = released
    url = str(client.make_url("/publication/"))
    ARTIFACTS.mkdir(exist_ok=True)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1366, "height": 900})
            await page.goto(url)
            await page.get_by_role("link", name="2026年10月").click()
            await page.wait_for_url("**/publication/2026-10")
            assert await page.locator("h1").inner_text() == "示例市2026年10月投诉情况公示"
            first = page.locator("#figures tbody tr").first
            assert "市住建局" in await first.inner_text()
            assert await page.locator("#figures tbody tr").count() == 5  # four agencies and the total
            assert await page.locator("figure svg rect.bar").count() == 9
            await page.screenshot(path=str(ARTIFACTS / f"publication-2026-10-{backend}.png"), full_page=True)
            pdf = await page.pdf(format="A4", landscape=True)
            assert pdf.startswith(b"%PDF")
            # An officer browsing the months: 上月 to September, 下月 back.
            await page.get_by_role("link", name="上月", exact=True).click()
            await page.wait_for_url("**/publication/2026-09")
            assert await page.locator("h1").inner_text() == "示例市2026年9月投诉情况公示"
            assert await page.get_by_role("link", name="上月", exact=True).count() == 0  # August is not public
            await page.get_by_role("link", name="下月", exact=True).click()
            await page.wait_for_url("**/publication/2026-10")

            phone = await browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
            await phone.goto(str(client.make_url("/publication/2026-10")))
            page_width = await phone.evaluate("document.documentElement.scrollWidth")
            assert page_width <= 390  # the wide table scrolls inside its box, the page does not
            chart_width = await phone.locator("figure svg").first.evaluate("svg => svg.getBoundingClientRect().width")
            assert 300 <= chart_width <= 390
            # Scrolling the wide table sideways keeps 排名 and 单位 in view.
            name = phone.locator("#figures tbody tr").first.locator("td").nth(1)
            before = await name.bounding_box()
            await phone.evaluate("document.querySelector('#figures').parentElement.scrollLeft = 800")
            after = await name.bounding_box()
            assert before and after and abs(after["x"] - before["x"]) < 1 and after["x"] >= 0
            # No chart label is cut off at the left of its chart.
            for chart in await phone.locator("figure svg").all():
                left = await chart.evaluate(
                    "svg => Math.min(...[...svg.querySelectorAll('text')].map(t => t.getBBox().x))"
                )
                assert left >= 0
            await phone.screenshot(path=str(ARTIFACTS / f"publication-2026-10-phone-{backend}.png"), full_page=True)
        finally:
            await browser.close()


async def test_a_released_month_is_a_fixed_document_until_reissued_and_released_again(
    released: TestClient, database_url: str
) -> None:
    """Released, October is stored: records rewritten later (a 重办 clears ``resolved_at``) do not change
    the page or the files; `minsheng publication reissue` withdraws it (the public pages say it is under
    review) and releasing it again publishes the corrected month, still as of its cut-off."""
    client = released
    paths = ["/publication/2026-10", "/publication/2026-10.csv", "/publication/2026-10.xlsx"]
    first = [await (await client.get(path)).read() for path in paths]
    await _reopen_october(client)
    at(client, datetime(2026, 12, 10, 9, tzinfo=ZONE))
    assert [await (await client.get(path)).read() for path in paths] == first

    result = await _cli(database_url, "reissue")
    assert result.exit_code == 0, result.output
    assert "2026-10" in result.output and "withdrawn" in result.output and "release" in result.output
    for path in paths:
        response = await client.get(path)
        assert response.status == 404 and "正在核对" in await response.text()
    assert "2026年10月" not in await (await client.get("/publication/")).text()

    result = await _cli(database_url, "release")
    assert result.exit_code == 0, result.output
    reissued = [await (await client.get(path)).read() for path in paths]
    assert all(after != before for after, before in zip(reissued, first, strict=True))
    assert "数据截至 2026-11-06 17:30".encode() in reissued[0]  # still as of October's cut-off
    assert [await (await client.get(path)).read() for path in paths] == reissued


async def test_concurrent_releases_store_the_month_once(client: TestClient) -> None:
    async def one() -> bool:
        async with create_session_factory(client.app[ENGINE])() as session:
            outcome = await release(session, OCTOBER, client.app[DEADLINES], client.app[CLOCK].now(), "chief")
            return outcome.fresh

    assert sorted(await asyncio.gather(*(one() for _ in range(4)))) == [False, False, False, True]
    assert list(await stored(client)) == [OCTOBER]
    responses = await asyncio.gather(*(client.get("/publication/2026-10.csv") for _ in range(4)))
    assert all(response.status == 200 for response in responses)
    assert len({await response.read() for response in responses}) == 1


def test_reissuing_a_month_never_released_says_so(database_url: str) -> None:
    command = ["publication", "reissue", "--month", "2026-10", "--reason", "更正", "--yes"]
    result = CliRunner().invoke(main, command, env=_env(database_url))
    assert result.exit_code == 0, result.output
    assert "not released" in result.output


async def _cli(database_url: str, command: str, month: str = "2026-10") -> Result:
    extra = ["--reason", "重办后更正", "--yes"] if command == "reissue" else []
    return await asyncio.to_thread(
        CliRunner().invoke, main, ["publication", command, "--month", month, *extra], env=_env(database_url)
    )


def _env(database_url: str) -> dict[str, str]:
    return {"MINSHENG_DATABASE_URL": database_url}


async def _reopen_october(client: TestClient) -> None:
    """What a 重办 after the cut-off does to the figures' columns: every October resolution undone."""
    async with create_session_factory(client.app[ENGINE])() as session:
        await session.execute(update(Complaint).where(Complaint.resolved_at.is_not(None)).values(resolved_at=None))
        await session.commit()


async def test_a_month_before_the_first_complaint_has_no_publication(client: TestClient) -> None:
    async with create_session_factory(client.app[ENGINE])() as session:
        due = await due_months(session, client.app[DEADLINES], client.app[CLOCK].now())
    await release_months(client, *due)
    index = await (await client.get("/publication/")).text()
    months = re.findall(r'href="/publication/(\d{4}-\d{2})"', index)
    earliest = min(months)
    year, month = map(int, earliest.split("-"))
    before = f"{year - (month == 1)}-{(month - 2) % 12 + 1:02d}"
    assert (await client.get(f"/publication/{before}")).status == 404
    assert (await client.get(f"/publication/{before}.csv")).status == 404
    page = await (await client.get(f"/publication/{earliest}")).text()
    assert f'href="/publication/{before}"' not in page  # no 上月 link to a page that does not exist


async def test_a_corrected_month_says_when_it_was_corrected(released: TestClient, database_url: str) -> None:
    client = released
    assert "更正" not in await (await client.get("/publication/2026-10")).text()
    await _reopen_october(client)
    at(client, datetime(2026, 12, 10, 9, tzinfo=ZONE))
    assert (await _cli(database_url, "reissue")).exit_code == 0
    await release_months(client, OCTOBER)
    note = "本月公示已于2026年12月10日更正。"
    assert note in await (await client.get("/publication/2026-10")).text()
    first_line = (await (await client.get("/publication/2026-10.csv")).read()).decode("utf-8-sig").split("\r\n")[0]
    assert first_line.endswith(note) and "2026-11-06 17:30" in first_line
    assert "更正" not in await (await client.get("/publication/2026-09")).text()


def without_nav(page: str) -> str:
    """The page less its navigation: what a release fixes."""
    return re.sub(r'<nav class="no-print">.*?</nav>', "", page, count=1, flags=re.S)


async def test_the_month_links_lead_to_the_months_public_now_and_the_figures_stay_as_stored(
    client: TestClient, database_url: str
) -> None:
    """上月 and 下月 are the public site's, not the release's: October released before September gets its
    上月 once September is released, September its 下月, and a withdrawn month loses its links; the rest of
    each page is the stored document."""
    await release_months(client, OCTOBER)  # September is due but not released: its page is a 404
    october = await (await client.get("/publication/2026-10")).text()
    assert 'href="/publication/2026-09"' not in october and ">上月<" not in october
    assert ">下月<" not in october  # November is not public
    await release_months(client, SEPTEMBER)
    october = await (await client.get("/publication/2026-10")).text()
    september = await (await client.get("/publication/2026-09")).text()
    assert '<a href="/publication/2026-09">上月</a>' in october and ">下月<" not in october
    assert '<a href="/publication/2026-10">下月</a>' in september
    rows = await stored(client)
    assert without_nav(october) == without_nav(rows[OCTOBER].html)
    assert without_nav(september) == without_nav(rows[SEPTEMBER].html)
    assert 'href="/publication/2026-09"' not in rows[OCTOBER].html  # the stored document is untouched

    assert (await _cli(database_url, "reissue", "2026-09")).exit_code == 0
    october = await (await client.get("/publication/2026-10")).text()
    assert 'href="/publication/2026-09"' not in october and without_nav(october) == without_nav(rows[OCTOBER].html)
