"""The home page warns when deadlines fall in a year whose holiday arrangement (调休) the working-day
calendar does not know: they are counted with weekends and the statutory holidays only
(``workflow.calendar``), and stated as firm everywhere else."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.models import Complaint
from tests.factories import ZONE
from tests.test_calendar import POLICY, YEAR_2027, write
from tests.test_dashboard_support import World, log_in, make_settings, world
from web.app import create_app
from web.dashboard.context import SERVICES
from workflow.calendar import DEFAULT_HOLIDAYS
from workflow.clock import FixedClock
from workflow.deadlines import Deadlines

__all__ = ["world"]

NOTICE = "2027年的节假日放假安排尚未录入"
#: A Tuesday: the longest limit (15 working days) still ends in 2026.
EARLY_DECEMBER = datetime(2026, 12, 1, 10, 0, tzinfo=ZONE)
#: A Monday: 15 working days from now end in January 2027.
LATE_DECEMBER = datetime(2026, 12, 21, 10, 0, tzinfo=ZONE)
IN_JANUARY = datetime(2027, 1, 8, 17, 30, tzinfo=ZONE)

Home = Callable[..., AbstractAsyncContextManager[TestClient]]


@pytest.fixture
def home(engine: AsyncEngine, tmp_path: Path) -> Home:
    """The dashboard on the test database at ``now``, with the bundled holidays file or ``holidays``."""

    @asynccontextmanager
    async def serve(now: datetime, holidays: Path = DEFAULT_HOLIDAYS) -> AsyncIterator[TestClient]:
        app = create_app(engine, make_settings(engine, tmp_path), Deadlines.load(POLICY, holidays, ZONE))
        app[SERVICES].clock = FixedClock(now)
        async with TestClient(TestServer(app, port=0)) as client:
            yield client

    return serve


async def home_page(client: TestClient, username: str = "chief") -> str:
    await log_in(client, username)
    return await (await client.get("/dashboard/")).text()


async def due_in_january(session_factory: async_sessionmaker[AsyncSession], world: World) -> None:
    """An open complaint (accepted, being handled) whose resolve deadline is in January 2027."""
    async with session_factory() as session:
        await session.execute(
            update(Complaint).where(Complaint.id == world.complaint_a.id).values(resolve_due_at=IN_JANUARY)
        )
        await session.commit()


async def test_an_open_complaint_due_in_a_year_without_holiday_data_shows_a_notice(
    home: Home, world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with home(EARLY_DECEMBER) as client:
        assert NOTICE not in await home_page(client)  # every deadline in play is still in 2026
        await due_in_january(session_factory, world)
        page = await home_page(client)
        assert NOTICE in page
        # what the fallback does, and what it does not: it knows the statutory festivals, lunar ones too
        assert "按周末和法定节日（元旦、春节、清明、劳动节、端午、中秋、国庆）推算" in page
        assert "未计入" in page and "调休上班日" in page
        assert "《运维手册》" in page
        agency = await home_page(client, "viewer-a")
        assert NOTICE in agency and "《运维手册》" not in agency  # told, without the operator's step


async def test_a_deadline_set_today_in_a_year_without_holiday_data_shows_a_notice(home: Home, world: World) -> None:
    """No open complaint is due in 2027 yet, but a complex complaint filed today would be."""
    async with home(LATE_DECEMBER) as client:
        assert NOTICE in await home_page(client)


async def test_no_notice_once_a_holidays_file_gives_the_year(
    home: Home, world: World, session_factory: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await due_in_january(session_factory, world)
    async with home(LATE_DECEMBER, write(tmp_path, YEAR_2027)) as client:
        page = await home_page(client)
        assert NOTICE not in page and "放假安排" not in page
