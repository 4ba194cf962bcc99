"""A public month on the dashboard is the publication itself: the officer reads the figures the public
page serves (stored at its first request), never figures recomputed since; before the first request,
the figures that request will store. The real application on an ephemeral port, October's data."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from minsheng.cli import main
from minsheng.settings import Settings
from reports.figures import monthly_figures
from reports.formatting import HEADERS
from storage.db import create_session_factory
from storage.models import Agency, PublicationSnapshot, WebRole, WebUser
from tests.test_dashboard_support import PASSWORD, log_in
from tests.test_publication_web import _env, _reopen_october
from tests.test_reports_figures import CUT_OFF, OCTOBER, ZONE, build_october
from web.app import ENGINE, create_app
from web.auth import hash_password
from web.dashboard.context import SERVICES
from web.publication import CLOCK
from workflow.clock import FixedClock

#: The publication's header of each figure the dashboard needs to find (收到量, 单位, …).


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


@pytest.fixture
async def client(engine: AsyncEngine, session: AsyncSession, tmp_path: Path) -> AsyncIterator[TestClient]:
    """The whole application with October's data, an officer and a 市住建局 viewer; both clocks at CUT_OFF,
    after October's cut-off."""
    await build_october(session)
    housing = await session.scalar(select(Agency.id).where(Agency.name == "市住建局"))
    session.add_all(
        [
            WebUser(username="chief", password_hash=hash_password(PASSWORD), role=WebRole.OVERSIGHT),
            WebUser(
                username="viewer-a",
                password_hash=hash_password(PASSWORD),
                role=WebRole.AGENCY_VIEWER,
                agency_id=housing,
            ),
        ]
    )
    await session.commit()
    settings = Settings(
        database_url=engine.url.render_as_string(hide_password=False), web_secret="test-secret-" + tmp_path.name
    )
    app = create_app(engine, settings)
    app[CLOCK] = FixedClock(CUT_OFF)
    app[SERVICES].clock = FixedClock(CUT_OFF)
    async with TestClient(TestServer(app, port=0)) as test_client:
        yield test_client


async def stored_months(client: TestClient) -> list[object]:
    async with create_session_factory(client.app[ENGINE])() as session:
        return list(await session.scalars(select(PublicationSnapshot.month)))


async def test_a_published_month_shows_the_stored_figures_after_the_records_changed(client: TestClient) -> None:
    await log_in(client, "chief")
    public = await public_month(client)  # the first request stores October
    assert await stored_months(client) == [OCTOBER]
    assert await dashboard_month(client) == public

    await _reopen_october(client)  # a 重办 after storing: every October resolution undone in the records
    async with create_session_factory(client.app[ENGINE])() as session:
        recomputed = await monthly_figures(session, OCTOBER, ZONE, as_of=CUT_OFF)
    assert str(recomputed.total.resolved) != public["合计"][HEADERS["resolved"]]  # live figures would differ now
    client.app[SERVICES].clock.set(datetime(2026, 12, 10, 9, tzinfo=ZONE))
    client.app[CLOCK].set(datetime(2026, 12, 10, 9, tzinfo=ZONE))

    assert await dashboard_month(client) == public == await public_month(client)
    page = await (await client.get("/dashboard/?month=2026-10")).text()
    assert "已公示" in page and "2026-11-10 12:00 存档" in page and "数据截至 2026-11-06 17:30" in page
    assert 'href="/publication/2026-10"' in page


async def test_before_its_first_request_a_public_month_shows_what_will_be_stored(client: TestClient) -> None:
    await log_in(client, "chief")
    shown = await dashboard_month(client)
    page = await (await client.get("/dashboard/?month=2026-10")).text()
    assert "已到公示时间" in page and 'href="/publication/2026-10"' in page
    assert await stored_months(client) == []  # the dashboard stores nothing: the public page's first request does
    assert await public_month(client) == shown


async def test_a_reissued_month_shows_the_corrected_figures_it_will_publish(
    client: TestClient, database_url: str
) -> None:
    await log_in(client, "chief")
    before = await public_month(client)
    await _reopen_october(client)
    result = await asyncio.to_thread(
        CliRunner().invoke, main, ["publication", "reissue", "--month", "2026-10"], env=_env(database_url)
    )
    assert result.exit_code == 0, result.output
    pending = await dashboard_month(client)
    assert pending != before and "已到公示时间" in await (await client.get("/dashboard/?month=2026-10")).text()
    assert await public_month(client) == pending


async def test_an_agency_viewer_sees_its_own_row_of_the_publication(client: TestClient) -> None:
    public = await public_month(client)
    await _reopen_october(client)
    await log_in(client, "viewer-a")
    page = await (await client.get("/dashboard/?month=2026-10")).text()
    assert await dashboard_month(client) == {"市住建局": public["市住建局"]}
    assert re.search(rf"<strong>{public['市住建局'][HEADERS['received']]}</strong>10月收到", page)
    assert "市公安局" not in page
