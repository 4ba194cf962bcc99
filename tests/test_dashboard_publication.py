"""A month on the dashboard before and after an oversight officer releases it (发布), the one way a month
goes public: before, the preview that releasing will store (as of the cut-off), with the 发布 button and
its confirmation step; after, the publication itself, never figures recomputed since. The real
application on an ephemeral port, October's data, both backends."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from datetime import datetime, timedelta
from html.parser import HTMLParser
from urllib.parse import quote

from aiohttp.test_utils import TestClient
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import event

from minsheng.cli import main
from reports.figures import monthly_figures
from reports.formatting import HEADERS
from storage.db import create_session_factory
from tests.publication_support import at, client, post_release, release_months, stored
from tests.test_dashboard_support import log_in
from tests.test_publication_web import _env, _reopen_october
from tests.test_reports_figures import CUT_OFF, OCTOBER, ZONE
from web.app import ENGINE

__all__ = ["client"]

#: Before October's cut-off (2026-11-06 17:30).
BEFORE_CUT_OFF = datetime(2026, 11, 4, 12, 0, tzinfo=ZONE)
WARNING = "公开后所有人可见，之后只能通过重新发布更正"


class Tables(HTMLParser):
    """Every table of a page as rows of cell texts, keyed by the table's id or class."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._rows: list[list[str]] | None = None
        self._cell: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            named = dict(attrs)
            self._rows = self.tables.setdefault(str(named.get("id") or named.get("class")), [])
        elif tag == "tr" and self._rows is not None:
            self._rows.append([])
        elif tag in ("td", "th") and self._rows is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._rows is not None and self._cell is not None:
            self._rows[-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._rows = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def by_agency(rows: list[list[str]], name_column: int) -> dict[str, dict[str, str]]:
    header, *body = rows
    return {row[name_column]: dict(zip(header, row, strict=True)) for row in body}


async def dashboard_month(client: TestClient) -> dict[str, dict[str, str]]:
    """October on the dashboard: each row (and 合计) of its full table by agency: the public table's."""
    page = await (await client.get("/dashboard/?month=2026-10")).text()
    table = Tables(page).tables["figures-full"]
    return by_agency(table, table[0].index(HEADERS["name"]))


async def public_month(client: TestClient) -> dict[str, dict[str, str]]:
    """October's public page, the same rows and columns (agencies with complaints, and 合计)."""
    page = await (await client.get("/publication/2026-10")).text()
    table = Tables(page).tables["figures"]
    rows = by_agency(table, table[0].index(HEADERS["name"]))
    return {name: row for name, row in rows.items() if row[HEADERS["received"]] != "0"}


async def home(client: TestClient, month: str = "2026-10") -> str:
    return await (await client.get(f"/dashboard/?month={month}")).text()


def waiting(page: str) -> list[str]:
    """The months the home page's banner says are waiting for release."""
    banner = re.search(r'id="release-waiting".*?</div>', page, re.S)
    return re.findall(r">(\d{4}年\d{1,2}月)</a>", banner.group(0)) if banner else []


async def test_a_month_past_its_cut_off_shows_the_preview_that_releasing_stores(client: TestClient) -> None:
    await log_in(client, "chief")
    shown = await dashboard_month(client)
    page = await home(client)
    assert "尚未发布" in page and 'href="/dashboard/months/2026-10/release"' in page
    assert 'href="/publication/2026-10"' not in page  # not public: the public page is a 404
    assert "统计截至 2026-11-06 17:30" in page  # as of the cut-off, as releasing will take it
    preview = await client.get("/dashboard/months/2026-10.csv")
    assert "preview" in preview.headers["Content-Disposition"]
    assert quote("示例市2026年10月投诉情况公示") in preview.headers["Content-Disposition"]
    first, *table = list(csv.reader(io.StringIO((await preview.read()).decode("utf-8-sig"))))
    assert first[0].startswith("示例市2026年10月投诉情况公示（预览，尚未公示）") and "待效能办核对发布" in first[0]
    assert await stored(client) == {}  # neither the dashboard nor a download stores a month
    await release_months(client, OCTOBER)
    assert await public_month(client) == shown
    public_csv = (await (await client.get("/publication/2026-10.csv")).read()).decode("utf-8-sig")
    # The preview's table is the publication's, each under its first line, the preview's above its closing note.
    public_first, *public_table = list(csv.reader(io.StringIO(public_csv)))
    assert table[:-1] == public_table and public_first != first


async def test_an_officer_releases_a_month_after_the_confirmation_step(client: TestClient) -> None:
    await log_in(client, "chief")
    assert waiting(await home(client, "2026-11")) == ["2026年10月", "2026年9月"]  # the home page's banner
    confirm = await client.get("/dashboard/months/2026-10/release")
    page = await confirm.text()
    assert confirm.status == 200 and WARNING in page and "2026-11-06 17:30" in page
    assert 'method="post" action="/dashboard/months/2026-10/release"' in page and "确认发布" in page
    assert await stored(client) == {}  # the confirmation page releases nothing
    at(client, CUT_OFF + timedelta(hours=1))
    response = await post_release(client, "2026-10")
    assert response.status == 303 and response.headers["Location"] == "/dashboard/?month=2026-10&done=released"
    [snapshot] = (await stored(client)).values()
    assert snapshot.released_by == "chief" and snapshot.created_at == CUT_OFF + timedelta(hours=1)
    public = await client.get("/publication/2026-10")
    assert public.status == 200 and "<h1>示例市2026年10月投诉情况公示</h1>" in await public.text()
    page = await (await client.get(response.headers["Location"])).text()
    assert "已发布：该月公示现已公开" in page and "由 chief 发布" in page and "2026-11-10 13:00" in page
    assert waiting(await home(client, "2026-11")) == ["2026年9月"]


async def test_releasing_needs_the_csrf_token(client: TestClient) -> None:
    await log_in(client, "chief")
    response = await client.post("/dashboard/months/2026-10/release", data={}, allow_redirects=False)
    assert response.status == 403 and "页面已过期" in await response.text()
    response = await client.post(
        "/dashboard/months/2026-10/release", data={"csrf_token": "forged"}, allow_redirects=False
    )
    assert response.status == 403
    assert await stored(client) == {}


async def test_an_agency_viewer_may_not_release_nor_see_the_button(client: TestClient) -> None:
    await log_in(client, "viewer-a")
    page = await home(client)
    assert "/release" not in page and 'id="release-waiting"' not in page and "尚未发布" in page
    assert (await client.get("/dashboard/months/2026-10/release")).status == 403
    response = await post_release(client, "2026-10")
    assert response.status == 403 and "无权访问" in await response.text()
    assert await stored(client) == {}


async def test_before_its_cut_off_a_month_cannot_be_released_and_says_when_it_can(client: TestClient) -> None:
    at(client, BEFORE_CUT_OFF)
    await log_in(client, "chief")
    page = await home(client)
    assert "/release" not in page and "2026-11-06 17:30 截止后可由效能办核对发布" in page
    assert waiting(page) == ["2026年9月"]  # past its own cut-off; October not yet
    for response in (await client.get("/dashboard/months/2026-10/release"), await post_release(client, "2026-10")):
        assert response.status == 409 and "截止时间（2026-11-06 17:30）未到，不能发布" in await response.text()
    assert await stored(client) == {}


async def test_releasing_twice_changes_nothing_and_says_so(client: TestClient) -> None:
    await log_in(client, "chief")
    assert (await post_release(client, "2026-10")).status == 303
    first = (await stored(client))[OCTOBER]
    await _reopen_october(client)
    at(client, datetime(2026, 12, 10, 9, tzinfo=ZONE))
    again = await post_release(client, "2026-10")
    assert again.status == 303 and again.headers["Location"].endswith("done=already_released")
    assert "此前已发布，本次未作任何改动" in await (await client.get(again.headers["Location"])).text()
    after = (await stored(client))[OCTOBER]
    assert (after.csv, after.created_at, after.released_by) == (first.csv, first.created_at, first.released_by)


async def test_going_back_to_the_confirmation_after_releasing_shows_the_month_without_a_message(
    client: TestClient,
) -> None:
    """The browser's back button after 确认发布 loads the confirmation page again: nothing was tried."""
    await log_in(client, "chief")
    assert (await post_release(client, "2026-10")).status == 303
    confirm = await client.get("/dashboard/months/2026-10/release", allow_redirects=False)
    assert confirm.status == 303 and confirm.headers["Location"] == "/dashboard/?month=2026-10"
    page = await (await client.get(confirm.headers["Location"])).text()
    assert "本次未作任何改动" not in page and "已发布：" not in page


async def test_a_released_month_shows_the_stored_figures_after_the_records_changed(client: TestClient) -> None:
    await log_in(client, "chief")
    await post_release(client, "2026-10")
    public = await public_month(client)
    assert list(await stored(client)) == [OCTOBER]
    assert await dashboard_month(client) == public

    await _reopen_october(client)  # a 重办 after releasing: every October resolution undone in the records
    async with create_session_factory(client.app[ENGINE])() as session:
        recomputed = await monthly_figures(session, OCTOBER, ZONE, as_of=CUT_OFF)
    assert str(recomputed.total.resolved) != public["合计"][HEADERS["resolved"]]  # live figures would differ now
    at(client, datetime(2026, 12, 10, 9, tzinfo=ZONE))

    assert await dashboard_month(client) == public == await public_month(client)
    page = await home(client)
    assert "已公示" in page and "2026-11-10 12:00 由 chief 发布" in page and "数据截至 2026-11-06 17:30" in page
    assert 'href="/publication/2026-10"' in page and "/release" not in page


async def test_a_reissued_month_is_unreleased_again_and_shows_the_corrected_figures(
    client: TestClient, database_url: str
) -> None:
    await log_in(client, "chief")
    await release_months(client, OCTOBER)
    before = await public_month(client)
    await _reopen_october(client)
    result = await asyncio.to_thread(
        CliRunner().invoke,
        main,
        ["publication", "reissue", "--month", "2026-10", "--reason", "重办后更正", "--yes"],
        env=_env(database_url),
    )
    assert result.exit_code == 0, result.output
    pending = await dashboard_month(client)
    page = await home(client)
    assert pending != before and "尚未发布" in page and 'href="/dashboard/months/2026-10/release"' in page
    assert (await client.get("/publication/2026-10")).status == 404
    assert (await post_release(client, "2026-10")).status == 303
    assert await public_month(client) == pending


async def test_an_agency_viewer_sees_its_own_row_of_the_publication(client: TestClient) -> None:
    await release_months(client, OCTOBER)
    public = await public_month(client)
    await _reopen_october(client)
    await log_in(client, "viewer-a")
    page = await home(client)
    assert await dashboard_month(client) == {"市住建局": public["市住建局"]}
    assert re.search(rf"<strong>{public['市住建局'][HEADERS['received']]}</strong>10月收到", page)
    assert "市公安局" not in page


def problem_types(page: str) -> list[tuple[str, str]]:
    """The home page's 主要问题类型 list: (name, count)."""
    tags = re.search(r'<ul class="tags">(.*?)</ul>', page, re.S)
    return re.findall(r"<li>(\S+) <b>(\d+)</b></li>", tags.group(1)) if tags else []


async def test_the_problem_types_are_the_public_pages_before_and_after_releasing(client: TestClient) -> None:
    await log_in(client, "chief")
    before = problem_types(await home(client))
    await post_release(client, "2026-10")
    after = problem_types(await home(client))
    book = load_workbook(io.BytesIO(await (await client.get("/publication/2026-10.xlsx")).read()))
    public = [(name, str(count)) for name, count, _ in book["问题类型"].iter_rows(min_row=2, values_only=True)]
    assert len(before) == 4 and before == after == public  # all four, as the public page's chart has them


async def test_the_banner_and_the_button_lead_to_the_release_step_by_plain_links(client: TestClient) -> None:
    await log_in(client, "chief")
    page = await home(client, "2026-11")
    banner = re.search(r'id="release-waiting".*?</div>', page, re.S)
    assert banner and re.findall(r'href="([^"]+)"', banner.group(0)) == [
        "/dashboard/?month=2026-10#release",
        "/dashboard/?month=2026-09#release",
    ]
    page = await home(client)
    assert 'id="release"' in page and 'href="/dashboard/months/2026-10/release"' in page
    assert 'method="get" action="/dashboard/months/2026-10/release"' not in page  # a GET form adds a stray "?"


async def test_the_home_page_reckons_the_months_due_once(client: TestClient) -> None:
    """The banner of months waiting for 发布 and the month's 发布 button read one ``due_months`` (its
    first step, the first complaint's date, is asked once)."""
    await log_in(client, "chief")
    asked: list[str] = []

    def count(_connection: object, _cursor: object, statement: str, *_: object) -> None:
        if "min(complaint.created_at)" in statement.lower():
            asked.append(statement)

    engine = client.app[ENGINE].sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        page = await home(client)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert 'id="release-waiting"' in page and 'href="/dashboard/months/2026-10/release"' in page
    assert len(asked) == 1


async def test_an_agency_viewer_sees_no_rank_until_the_month_is_released(client: TestClient) -> None:
    await log_in(client, "viewer-a")
    page = await home(client)
    full = Tables(page).tables["figures-full"]
    assert "排名在公示发布后显示" in page
    assert "排名" not in full[0] and HEADERS["last_three"] not in full[0] and 'class="marked"' not in page
    await release_months(client, OCTOBER)
    page = await home(client)
    full = Tables(page).tables["figures-full"]
    assert "排名在公示发布后显示" not in page and full[0][0] == "排名" and HEADERS["last_three"] in full[0]


async def test_the_month_lists_its_releases_and_withdrawals(client: TestClient, database_url: str) -> None:
    await log_in(client, "chief")
    await post_release(client, "2026-10")
    at(client, datetime(2026, 12, 10, 9, tzinfo=ZONE))
    result = await asyncio.to_thread(
        CliRunner().invoke,
        main,
        ["publication", "reissue", "--month", "2026-10", "--reason", "市住建局重办后数字有误", "--yes"],
        env=_env(database_url),
    )
    assert result.exit_code == 0, result.output
    await post_release(client, "2026-10")
    history = Tables(await home(client)).tables["release-history"]
    header, newest, first = history
    assert header[:2] == ["发布时间", "发布人"]
    assert newest[:2] == ["2026-12-10 09:00", "chief"] and newest[2:] == ["", "", ""]
    assert first[:2] == ["2026-11-10 12:00", "chief"] and first[2] and first[3].startswith("cli")  # the system clock
    assert first[4] == "市住建局重办后数字有误"
