"""What the oversight officer preparing the monthly publication needs on the dashboard: the month's
ranked table with the publication's columns, its CSV and Excel (the public files once released, a
marked preview before), and finding a complaint by its tracking number. The real application on an
ephemeral port with October's data (``tests.publication_support``); headers come from ``main_columns()``,
never typed here. Releasing itself is in ``test_dashboard_publication``."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import datetime

import pytest
from aiohttp.test_utils import TestClient
from openpyxl import load_workbook
from playwright.async_api import Browser
from sqlalchemy import select

from reports.formatting import HEADERS, main_columns
from reports.html import render_html
from reports.publication import build_publication
from storage.db import create_session_factory
from storage.models import Agency, Complaint, PublicationSnapshot
from tests.publication_support import at, client, release_months
from tests.test_dashboard_browser import browser
from tests.test_dashboard_publication import Tables, by_agency
from tests.test_dashboard_support import PASSWORD, log_in
from tests.test_reports_figures import A1_REPLY, A1_TEXT, CUT_OFF, OCTOBER, ZONE
from web.app import ENGINE

__all__ = ["browser", "client"]

NAME = HEADERS["name"]
#: Before October's cut-off (2026-11-06 17:30): October is not public yet.
BEFORE_CUT_OFF = datetime(2026, 11, 4, 12, 0, tzinfo=ZONE)
#: Personal data in October's records that no download may carry.
PERSONAL = ["张伟", "13812345678", "幸福家园", "王科长", "李娜", A1_TEXT[:12], A1_REPLY[:12]]


def ranking_headers() -> list[str]:
    """排名, the rates, 综合得分 and 末位, as the publication names them today."""
    kinds = {"rank", "rate", "score"}
    return [header for header, kind, _ in main_columns() if kind in kinds] + [HEADERS["last_three"]]


async def home_tables(client: TestClient, month: str = "2026-10") -> dict[str, list[list[str]]]:
    return Tables(await (await client.get(f"/dashboard/?month={month}")).text()).tables


def rows_of(table: list[list[str]]) -> dict[str, dict[str, str]]:
    return by_agency(table, table[0].index(NAME))


async def test_home_ranks_a_released_month_with_the_publications_columns(client: TestClient) -> None:
    await release_months(client, OCTOBER)
    await log_in(client, "chief")
    tables = await home_tables(client)
    compact, full = tables["figures"], tables["figures-full"]
    assert set(ranking_headers()) | {NAME, HEADERS["received"]} <= set(compact[0])
    assert [header for header, _, _ in main_columns()] == full[0][: len(main_columns())]
    public = Tables(await (await client.get("/publication/2026-10")).text()).tables["figures"]
    published = {name: row for name, row in rows_of(public).items() if row[HEADERS["received"]] != "0"}
    assert rows_of(full) == published
    for name, row in rows_of(compact).items():
        assert row == {header: published[name][header] for header in compact[0]}
    marked = [name for name, row in published.items() if row[HEADERS["last_three"]]]
    page = await (await client.get("/dashboard/?month=2026-10")).text()
    assert len(re.findall(r'<tr class="marked">', page)) == 2 * len(marked)  # compact and full table


async def test_a_month_before_its_cut_off_is_ranked_as_its_preview_reads(client: TestClient) -> None:
    at(client, BEFORE_CUT_OFF)
    await log_in(client, "chief")
    full = (await home_tables(client))["figures-full"]
    async with create_session_factory(client.app[ENGINE])() as session:
        pub = await build_publication(session, OCTOBER, ZONE, as_of=BEFORE_CUT_OFF, preview=True)
    preview = rows_of(Tables(render_html(pub)).tables["figures"])
    assert rows_of(full) == {name: row for name, row in preview.items() if row[HEADERS["received"]] != "0"}
    assert {row[main_columns()[0][0]] for name, row in rows_of(full).items() if name != "合计"} >= {"1"}


async def test_an_agency_viewer_sees_its_own_row_ranked_once_released_and_no_downloads(client: TestClient) -> None:
    await log_in(client, "viewer-a")
    rank = main_columns()[0][0]
    for moment in (CUT_OFF, BEFORE_CUT_OFF):  # not released: a live rank could still change
        at(client, moment)
        tables = await home_tables(client)
        assert list(rows_of(tables["figures"])) == ["市住建局"] == list(rows_of(tables["figures-full"]))
        assert rank not in tables["figures"][0]
    at(client, CUT_OFF)
    await release_months(client, OCTOBER)
    assert rows_of((await home_tables(client))["figures"])["市住建局"][rank] not in ("", "—")
    page = await (await client.get("/dashboard/?month=2026-10")).text()
    assert "市公安局" not in page and "/dashboard/months/" not in page
    for ext in ("csv", "xlsx"):
        assert (await client.get(f"/dashboard/months/2026-10.{ext}")).status == 403


async def test_a_released_months_downloads_are_the_public_files(client: TestClient) -> None:
    await release_months(client, OCTOBER)
    await log_in(client, "chief")
    page = await (await client.get("/dashboard/?month=2026-10")).text()
    assert 'href="/dashboard/months/2026-10.csv"' in page and 'href="/dashboard/months/2026-10.xlsx"' in page
    for ext in ("csv", "xlsx"):
        mine = await client.get(f"/dashboard/months/2026-10.{ext}")
        assert mine.status == 200 and f'filename="publication-2026-10.{ext}"' in mine.headers["Content-Disposition"]
        public = await client.get(f"/publication/2026-10.{ext}")
        assert await mine.read() == await public.read()
    async with create_session_factory(client.app[ENGINE])() as session:
        assert list(await session.scalars(select(PublicationSnapshot.month))) == [OCTOBER]


def xlsx_text(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return "".join(archive.read(name).decode("utf-8") for name in archive.namelist())


async def test_a_preview_download_says_so_and_carries_no_personal_data(client: TestClient) -> None:
    at(client, BEFORE_CUT_OFF)
    await log_in(client, "chief")
    page = await (await client.get("/dashboard/?month=2026-10")).text()
    assert "预览，尚未公示" in page and 'href="/dashboard/months/2026-10.csv"' in page
    async with create_session_factory(client.app[ENGINE])() as session:
        numbers = list(await session.scalars(select(Complaint.tracking_no)))
    found = await client.get("/dashboard/months/2026-10.csv")
    assert found.status == 200 and "preview" in found.headers["Content-Disposition"]
    assert "%E9%A2%84%E8%A7%88" in found.headers["Content-Disposition"]  # 预览 in the UTF-8 file name
    text = (await found.read()).decode("utf-8-sig")
    first, *table = list(csv.reader(io.StringIO(text)))
    assert "预览，尚未公示" in first[0] and "2026-11-06 17:30" in first[0]
    assert table[0][: len(main_columns())] == [header for header, _, _ in main_columns()]
    assert "市住建局" in text
    workbook = await (await client.get("/dashboard/months/2026-10.xlsx")).read()
    book = load_workbook(io.BytesIO(workbook))
    assert "预览，尚未公示" in book.worksheets[0].title and "预览，尚未公示" in book.worksheets[0]["A1"].value
    assert book.worksheets[0]["A2"].value == main_columns()[0][0]
    assert [len(sheet["A"]) > 1 for sheet in book.worksheets].count(True) >= 2  # typical cases are in it
    everything = text + xlsx_text(workbook)
    assert [word for word in PERSONAL + numbers if word in everything] == []
    async with create_session_factory(client.app[ENGINE])() as session:
        assert list(await session.scalars(select(PublicationSnapshot.month))) == []  # a preview is never stored


@pytest.mark.parametrize("typed", ["{no}", "{digits}", " {day} {serial} ", "{day} - {serial}"])
async def test_the_queue_finds_a_complaint_by_its_tracking_number(client: TestClient, typed: str) -> None:
    await log_in(client, "chief")
    assert 'action="/dashboard/find"' in await (await client.get("/dashboard/complaints")).text()
    async with create_session_factory(client.app[ENGINE])() as session:
        number = await session.scalar(select(Complaint.tracking_no).order_by(Complaint.id))
    day, serial = number.split("-")
    query = typed.format(no=number, digits=day + serial, day=day, serial=serial)
    found = await client.get("/dashboard/find", params={"no": query}, allow_redirects=False)
    assert found.status == 303 and found.headers["Location"] == f"/dashboard/complaints/{number}"


async def test_an_agency_viewer_cannot_learn_that_another_agencys_complaint_exists(client: TestClient) -> None:
    async with create_session_factory(client.app[ENGINE])() as session:
        police = await session.scalar(select(Agency.id).where(Agency.name == "市公安局"))
        theirs = await session.scalar(select(Complaint.tracking_no).where(Complaint.owner_agency_id == police))
        housing = await session.scalar(select(Agency.id).where(Agency.name == "市住建局"))
        own = await session.scalar(select(Complaint.tracking_no).where(Complaint.owner_agency_id == housing))
    await log_in(client, "viewer-a")
    answers = []
    for number in (theirs, "20260101-9999", "not a number"):
        response = await client.get("/dashboard/find", params={"no": number}, allow_redirects=False)
        answers.append((response.status, await response.text()))
    assert answers[0][0] == 404 and answers[0] == answers[1] == answers[2]
    found = await client.get("/dashboard/find", params={"no": own.replace("-", "")}, allow_redirects=False)
    assert found.status == 303 and found.headers["Location"] == f"/dashboard/complaints/{own}"


@pytest.mark.browser
async def test_on_a_phone_the_month_table_scrolls_inside_its_box(client: TestClient, browser: Browser) -> None:
    context = await browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    page = await context.new_page()
    await page.goto(str(client.make_url("/dashboard/login")))
    await page.get_by_label("用户名").fill("chief")
    await page.get_by_label("密码").fill(PASSWORD)
    await page.get_by_role("button", name="登录").click()
    await page.goto(str(client.make_url("/dashboard/?month=2026-10")))
    box = page.locator(".scroll").first
    assert await box.evaluate("element => element.scrollWidth > element.clientWidth")  # the table is wider
    assert await page.evaluate("document.documentElement.scrollWidth") <= 375  # the page is not
    await page.locator(".full-table summary").click()
    assert await page.evaluate("document.documentElement.scrollWidth") <= 375
    await context.close()
