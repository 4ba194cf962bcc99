"""The dashboard's "current" figures for an agency count what the agency answers for now, as the bot's
/inbox does (``workflow.queues``): under 首问负责制 the first agency answers for a complaint only until
the right agency has accepted it, or until the office has named another (审定).

The bot runs against the Bot API stand-in; the dashboard is the real application on the same database
and clock.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.models import Complaint, ComplaintStatus, WebRole, WebUser
from tests.botapi import ChatUser
from tests.factories import agency
from tests.test_agency_bot_support import Office, label
from tests.test_dashboard_pages import tracking_numbers
from tests.test_dashboard_support import PASSWORD, log_in, make_app
from tests.test_oversight_bot import dispute
from web.auth import hash_password
from web.dashboard.context import SERVICES
from workflow import lifecycle
from workflow.actors import Actor
from workflow.invites import require_contact

#: A card of the home page's 当前待办: its link and its count.
CARD = r'<a href="([^"]+)"><strong>(\d+)</strong>{}'


@pytest.fixture
async def dashboard(
    engine: AsyncEngine, tmp_path: Path, office: Office, session_factory: async_sessionmaker[AsyncSession]
) -> AsyncIterator[TestClient]:
    """The dashboard on the office's database and clock, with a viewer of the police, one of the traffic
    police and an officer; nobody signed in yet."""
    app = make_app(engine, tmp_path)
    app[SERVICES].clock = office.clock
    password = hash_password(PASSWORD)
    async with session_factory() as session:
        for username, code in (("police-viewer", "public-security"), ("traffic-viewer", "traffic-police")):
            agency_id = (await agency(session, code)).id
            session.add(
                WebUser(username=username, password_hash=password, role=WebRole.AGENCY_VIEWER, agency_id=agency_id)
            )
        session.add(WebUser(username="督查王", password_hash=password, role=WebRole.OVERSIGHT))
        await session.commit()
    async with TestClient(TestServer(app, port=0)) as client:
        yield client


async def card(client: TestClient, username: str, name: str) -> tuple[int, set[str]]:
    """As ``username``: the home page card's count, and the complaints the list it links to shows."""
    client.session.cookie_jar.clear()
    assert (await log_in(client, username)).status == 303
    found = re.search(CARD.format(name), await (await client.get("/dashboard/")).text())
    assert found, f"no {name} card"
    link, count = found.group(1).replace("&amp;", "&"), int(found.group(2))
    return count, tracking_numbers(await (await client.get(link)).text())


async def inbox_overdue(user: ChatUser) -> int:
    """What the bot's /inbox says is overdue for the user's agency (its 超期 filter button)."""
    await user.send("/inbox")
    reply = await user.wait_for_reply()
    if reply.text == label("agency.inbox.empty"):
        return 0
    buttons = [b["text"] for row in reply.inline_keyboard or [] for b in row]
    prefix = label("agency.inbox.filter.overdue") + " "
    return int(next(b for b in buttons if b.startswith(prefix)).removeprefix(prefix))


async def past_its_deadlines(office: Office, complaint: Complaint) -> None:
    committed = await office.complaint(complaint.id)
    assert committed.resolve_due_at is not None
    office.clock.set(committed.resolve_due_at + timedelta(hours=1))


async def test_a_transfer_accepted_is_overdue_for_the_receiver_not_the_first_contact(
    office: Office, dashboard: TestClient
) -> None:
    complaint = await office.file_complaint()
    async with office.session_factory() as session:
        police = Actor.contact(await require_contact(session, office.police.user.id))
        traffic = Actor.contact(await require_contact(session, office.traffic.user.id))
        assert traffic.agency_id is not None
        await lifecycle.transfer(
            session, office.clock, office.deadlines, complaint.id, police, traffic.agency_id, "涉及交通管理"
        )
        office.clock.advance(timedelta(hours=1))
        await lifecycle.accept(session, office.clock, office.deadlines, complaint.id, traffic)
        await session.commit()
    await past_its_deadlines(office, complaint)
    assert (await office.complaint(complaint.id)).status == ComplaintStatus.ACCEPTED

    police_count, police_list = await card(dashboard, "police-viewer", "目前超期未办")
    traffic_count, traffic_list = await card(dashboard, "traffic-viewer", "目前超期未办")
    office_count, office_list = await card(dashboard, "督查王", "目前超期未办")
    assert (police_count, police_list) == (0, set())
    assert (traffic_count, traffic_list) == (1, {complaint.tracking_no})
    assert (office_count, office_list) == (1, {complaint.tracking_no})
    # the bot's /inbox and the dashboard agree
    assert await inbox_overdue(office.police) == police_count
    assert await inbox_overdue(office.traffic) == traffic_count
    # the police still find the complaint they received first (as a summary), only not as their work
    dashboard.session.cookie_jar.clear()
    await log_in(dashboard, "police-viewer")
    listed = tracking_numbers(await (await dashboard.get("/dashboard/complaints?overdue=true")).text())
    assert listed == {complaint.tracking_no}


async def test_a_ruling_naming_another_agency_moves_its_current_figures_there(
    office: Office, dashboard: TestClient
) -> None:
    complaint = await office.file_complaint()
    await dispute(office, complaint)
    async with office.session_factory() as session:
        overseer = Actor.contact(await require_contact(session, office.overseer.user.id))
        traffic_id = (await agency(session, "traffic-police")).id
        await lifecycle.set_major(session, office.clock, office.deadlines, complaint.id, overseer, "群众反映强烈")
        await lifecycle.rule_dispute(
            session, office.clock, office.deadlines, complaint.id, overseer, traffic_id, "事发路段属交警管辖"
        )
        await session.commit()
    await past_its_deadlines(office, complaint)

    for name in ("目前超期未办", "挂牌督办中"):
        assert await card(dashboard, "police-viewer", name) == (0, set())
        assert await card(dashboard, "traffic-viewer", name) == (1, {complaint.tracking_no})
    assert await inbox_overdue(office.police) == 0
    assert await inbox_overdue(office.traffic) == 1
