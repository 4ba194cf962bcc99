"""The application with October's data for the publication's tests (public pages, dashboard, officer):
an officer ``chief`` and a 市住建局 viewer ``viewer-a``, both clocks at CUT_OFF (after October's cut-off,
2026-11-06 17:30, so October may be released but is not yet). Imported by those modules.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from minsheng.settings import Settings
from reports.snapshots import release
from storage.db import create_session_factory
from storage.models import Agency, PublicationSnapshot, WebRole, WebUser
from tests.factories import make_deadlines
from tests.test_dashboard_support import PASSWORD, csrf_from
from tests.test_reports_figures import CUT_OFF, build_october
from web.app import DEADLINES, ENGINE, create_app
from web.auth import hash_password
from web.dashboard.context import SERVICES
from web.publication import CLOCK
from workflow.clock import FixedClock


@pytest.fixture
async def client(engine: AsyncEngine, session: AsyncSession, tmp_path: Path) -> AsyncIterator[TestClient]:
    """The whole application on an ephemeral port with October's data, an officer and a viewer."""
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
        database_url=engine.url.render_as_string(hide_password=False),
        web_secret="test-session-key-at-least-32-characters-" + tmp_path.name,
    )
    app = create_app(engine, settings, make_deadlines())
    app[CLOCK] = FixedClock(CUT_OFF)
    app[SERVICES].clock = FixedClock(CUT_OFF)
    async with TestClient(TestServer(app, port=0)) as test_client:
        yield test_client


def at(client: TestClient, moment: datetime) -> None:
    """Both clocks (public pages, dashboard) at ``moment``."""
    client.app[CLOCK].set(moment)
    client.app[SERVICES].clock.set(moment)


async def release_months(client: TestClient, *months: date) -> None:
    """Release the months as an officer would, at the clock's moment (the tests of releasing itself go
    through the dashboard and the command line)."""
    async with create_session_factory(client.app[ENGINE])() as session:
        for month in months:
            await release(session, month, client.app[DEADLINES], client.app[CLOCK].now(), "chief")


async def stored(client: TestClient) -> dict[date, PublicationSnapshot]:
    """The released months, as stored."""
    async with create_session_factory(client.app[ENGINE])() as session:
        return {row.month: row for row in await session.scalars(select(PublicationSnapshot))}


async def post_release(client: TestClient, month: str) -> object:
    """Press 确认发布 on the month's confirmation page (the signed-in user's CSRF token), not following
    the redirect."""
    token = await csrf_from(client, "/dashboard/")
    return await client.post(f"/dashboard/months/{month}/release", data={"csrf_token": token}, allow_redirects=False)
