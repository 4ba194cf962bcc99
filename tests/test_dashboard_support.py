"""Fixtures and factories shared by the dashboard, auth and API tests (imported by those modules).

``client`` is the real application (``make_app``: ``web.app.create_app``) on the test database, served on an
ephemeral port; ``world`` is two agencies with a few complaints, users and API tokens.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from minsheng.settings import Settings
from storage.models import (
    ActorKind,
    Agency,
    ApiToken,
    Attachment,
    Citizen,
    Complaint,
    ComplaintEvent,
    ComplaintProblem,
    ComplaintStatus,
    EventAction,
    WebRole,
    WebUser,
)
from tests.factories import make_deadlines
from web.api import API
from web.app import create_app
from web.auth import api_token_hash, hash_password
from web.dashboard.context import SERVICES
from workflow.clock import FixedClock

NOW = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)  # a Friday afternoon in Beijing
PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')

#: Texts with evidence offsets computed from the text itself, never typed by hand.
TEXT_A = "我去办证跑了好几趟，窗口工作人员态度恶劣，还让我找别的部门，我的电话13812345678。"
TEXT_B = "路灯坏了三个月，反映多次没人管。"


def span(text: str, word: str) -> dict[str, object]:
    start = text.index(word)
    return {"word": word, "start": start, "end": start + len(word)}


@dataclass
class World:
    agency_a: Agency
    agency_b: Agency
    complaint_a: Complaint  # owned by A, overdue, with a phone number in the text
    complaint_b: Complaint  # owned by B, major
    complaint_anon: Complaint  # owned by A, anonymous
    tokens: dict[str, str] = field(default_factory=dict)


async def build_world(session: AsyncSession) -> World:
    agency_a = Agency(code="city-housing", name="市住建局", area="城乡建设")
    agency_b = Agency(code="city-police", name="市公安局", area="政法")
    session.add_all([agency_a, agency_b])
    await session.flush()
    citizen = Citizen(display_name="张三丰", telegram_user_id=1001)
    session.add(citizen)
    await session.flush()
    complaint_a = Complaint(
        tracking_no="20261118-0001",
        text=TEXT_A,
        citizen_id=citizen.id,
        status=ComplaintStatus.ACCEPTED,
        area="城乡建设",
        first_contact_agency_id=agency_a.id,
        owner_agency_id=agency_a.id,
        contact_phone="13812345678",
        created_at=NOW - timedelta(days=2),
        acknowledged_at=NOW - timedelta(days=2),
        resolve_due_at=NOW - timedelta(hours=1),
        tagging={"evidence": [{"kind": "problem_type", "value": "脸难看", **span(TEXT_A, "态度恶劣")}]},
    )
    complaint_a.problems = [
        ComplaintProblem(problem_type="事难办", evidence=[span(TEXT_A, "跑了好几趟")]),
        ComplaintProblem(problem_type="脸难看", evidence=[span(TEXT_A, "态度恶劣")]),
    ]
    complaint_a.attachments = [Attachment(kind="photo", telegram_file_id="f1", file_name="窗口.jpg", size=20480)]
    complaint_b = Complaint(
        tracking_no="20261119-0001",
        text=TEXT_B,
        citizen_id=citizen.id,
        status=ComplaintStatus.DISPUTED,
        first_contact_agency_id=agency_b.id,
        owner_agency_id=agency_b.id,
        major=True,
        created_at=NOW - timedelta(days=1),
        resolve_due_at=NOW + timedelta(days=5),
    )
    complaint_b.problems = [ComplaintProblem(problem_type="不作为", evidence=[span(TEXT_B, "没人管")])]
    complaint_anon = Complaint(
        tracking_no="20261119-0002",
        text="有人在窗口收红包。",
        citizen_id=citizen.id,
        anonymous=True,
        contact_phone="13900001111",
        status=ComplaintStatus.ASSIGNED,
        first_contact_agency_id=agency_a.id,
        owner_agency_id=agency_a.id,
        created_at=NOW - timedelta(hours=3),
    )
    session.add_all([complaint_a, complaint_b, complaint_anon])
    await session.flush()
    session.add_all(
        [
            ComplaintEvent(
                complaint_id=complaint_a.id,
                at=NOW - timedelta(days=2),
                action=EventAction.REGISTERED,
                actor_kind=ActorKind.CITIZEN,
                actor_id=citizen.id,
                to_status=ComplaintStatus.REGISTERED,
            ),
            ComplaintEvent(
                complaint_id=complaint_a.id,
                at=NOW - timedelta(days=2, minutes=-5),
                action=EventAction.TRANSFER_REQUESTED,
                actor_kind=ActorKind.SYSTEM,
                from_status=ComplaintStatus.ASSIGNED,
                to_status=ComplaintStatus.TRANSFERRING,
                from_agency_id=agency_b.id,
                to_agency_id=agency_a.id,
                reason="属于住建职责",
            ),
            ComplaintEvent(
                complaint_id=complaint_b.id,
                at=NOW - timedelta(days=1),
                action=EventAction.TRANSFER_DECLINED,
                actor_kind=ActorKind.SYSTEM,
                from_status=ComplaintStatus.TRANSFERRING,
                to_status=ComplaintStatus.DISPUTED,
                reason="不属于本单位职责",
            ),
        ]
    )
    users = [
        WebUser(username="chief", password_hash=hash_password(PASSWORD), role=WebRole.OVERSIGHT),
        WebUser(
            username="viewer-a",
            password_hash=hash_password(PASSWORD),
            role=WebRole.AGENCY_VIEWER,
            agency_id=agency_a.id,
        ),
    ]
    session.add_all(users)
    world = World(agency_a, agency_b, complaint_a, complaint_b, complaint_anon)
    for name, role, agency in (("oversight", WebRole.OVERSIGHT, None), ("agency_a", WebRole.AGENCY_VIEWER, agency_a)):
        token = f"msk_test_{name}_token_value"
        session.add(
            ApiToken(name=name, token_hash=api_token_hash(token), role=role, agency_id=agency.id if agency else None)
        )
        world.tokens[name] = token
    await session.commit()
    return world


@pytest.fixture
async def world(session_factory: async_sessionmaker[AsyncSession]) -> World:
    async with session_factory() as session:
        return await build_world(session)


def make_settings(engine: AsyncEngine, tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {"database_url": engine.url.render_as_string(hide_password=False)}
    values.setdefault("web_secret", "test-session-key-at-least-32-characters-" + tmp_path.name)
    values.update(overrides)
    return Settings(**values)


def make_app(engine: AsyncEngine, tmp_path: Path, **overrides: object) -> web.Application:
    """The whole application on the test database, given the calendar as ``serve`` gives it the one it loaded."""
    return create_app(engine, make_settings(engine, tmp_path, **overrides), make_deadlines())


@pytest.fixture
async def client(engine: AsyncEngine, tmp_path: Path) -> AsyncIterator[TestClient]:
    """The whole application on an ephemeral port, clocks fixed at NOW."""
    app = make_app(engine, tmp_path)
    app[SERVICES].clock = FixedClock(NOW)
    app[API].clock = FixedClock(NOW)
    async with TestClient(TestServer(app, port=0)) as test_client:
        yield test_client


async def csrf_from(client: TestClient, path: str) -> str:
    response = await client.get(path)
    match = CSRF.search(await response.text())
    assert match, f"no CSRF token on {path}"
    return match.group(1)


async def log_in(client: TestClient, username: str, password: str = PASSWORD) -> ClientResponse:
    token = await csrf_from(client, "/dashboard/login")
    return await client.post(
        "/dashboard/login",
        data={"username": username, "password": password, "csrf_token": token, "next": "/dashboard/"},
        allow_redirects=False,
    )
