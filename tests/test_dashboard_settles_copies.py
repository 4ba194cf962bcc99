"""A decision taken on the dashboard settles the officers' bot copies of the question it answers, as a
decision taken in the bot does: the extension request or dispute notice shows the outcome and who
decided instead of live buttons. Best effort: a Bot API that fails never fails the decision.

The bot runs against the Bot API stand-in; the dashboard is the real application on the same database,
lent the bot's settling as ``BotService.mount`` lends it.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial
from pathlib import Path

import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.factory import create_bot
from bot.service import BotService, settle_decided_copies
from storage.models import Complaint, ComplaintStatus, WebRole, WebUser
from tests.botapi import TIMEOUT, serve_app
from tests.factories import agency, make_clock, make_deadlines
from tests.test_agency_bot_support import Office, label
from tests.test_dashboard_support import PASSWORD, csrf_from, log_in, make_app, make_settings
from tests.test_oversight_bot import ask_for_extension, dispute
from web.app import COPIES, create_app
from web.auth import hash_password
from web.dashboard.context import SERVICES
from web.sandbox import botapi
from web.sandbox.world import ChatMessage, SandboxWorld
from workflow.transitions import Action


@pytest.fixture
async def dashboard(
    engine: AsyncEngine, tmp_path: Path, office: Office, session_factory: async_sessionmaker[AsyncSession]
) -> AsyncIterator[TestClient]:
    """The dashboard on the office's database and clock, signed in as the officer 督查王, and lent the
    office bot's settling."""
    app = make_app(engine, tmp_path)
    app[SERVICES].clock = office.clock
    app[COPIES].settle = partial(settle_decided_copies, office.harness.bot, session_factory, office.deadlines)
    async with session_factory() as session:
        session.add(WebUser(username="督查王", password_hash=hash_password(PASSWORD), role=WebRole.OVERSIGHT))
        await session.commit()
    async with TestClient(TestServer(app, port=0)) as client:
        await log_in(client, "督查王")
        yield client


def buttons(message: ChatMessage) -> list[str]:
    return [button["text"] for row in message.inline_keyboard or [] for button in row]


async def decide(client: TestClient, complaint: Complaint, action: str, **fields: str) -> ClientResponse:
    page = f"/dashboard/complaints/{complaint.tracking_no}"
    token = await csrf_from(client, page)
    return await client.post(f"{page}/{action}", data={"csrf_token": token, **fields}, allow_redirects=False)


async def wait_until(world: SandboxWorld, condition: Callable[[], bool]) -> None:
    """Until the sandbox's Telegram shows ``condition`` (the copies are settled in the background)."""
    await world.wait_for(condition, TIMEOUT)


async def shown_request(client: TestClient, complaint: Complaint) -> str:
    """The extension request the complaint page shows, as its form sends it back."""
    page = await (await client.get(f"/dashboard/complaints/{complaint.tracking_no}")).text()
    found = re.search(r'name="request" value="(\d+)"', page)
    assert found, "no extension request on the page"
    return found.group(1)


async def test_an_extension_approved_on_the_dashboard_shows_on_every_officers_copy(
    office: Office, dashboard: TestClient
) -> None:
    colleague = office.harness.user(name="周督查")
    await office.bind(colleague, "oversight-office", "oversight")
    complaint = await office.file_complaint()
    await ask_for_extension(office, complaint)
    copies = [await officer.wait_for_reply(contains="申请将投诉") for officer in (office.overseer, colleague)]
    assert all(label("oversight.button.approve") in buttons(copy) for copy in copies)

    request = await shown_request(dashboard, complaint)
    response = await decide(dashboard, complaint, "extension", decision="approve", reason="", request=request)
    assert response.status == 303
    await wait_until(office.harness.world, lambda: all("已批准延期" in copy.text for copy in copies))
    for copy in copies:
        assert "已批准延期" in copy.text and "督查王" in copy.text and "申请将投诉" in copy.text
        assert buttons(copy) == [label("agency.button.show", tracking_no=complaint.tracking_no)]


async def test_a_dispute_ruled_on_the_dashboard_shows_on_every_officers_copy(
    office: Office, dashboard: TestClient
) -> None:
    colleague = office.harness.user(name="周督查")
    await office.bind(colleague, "oversight-office", "oversight")
    complaint = await office.file_complaint()
    await dispute(office, complaint)
    await office.deliver()
    copies = [await officer.wait_for_reply(contains="转办有争议") for officer in (office.overseer, colleague)]
    assert all(label("oversight.button.rule") in buttons(copy) for copy in copies)
    traffic = await office.agency_name("traffic-police")

    response = await decide(dashboard, complaint, "rule-dispute", agency="traffic-police", reason="窗口由交警支队负责")
    assert response.status == 303
    await wait_until(office.harness.world, lambda: all("已审定" in copy.text for copy in copies))
    for copy in copies:
        assert f"已审定由{traffic}办理" in copy.text and "督查王" in copy.text and "转办有争议" in copy.text
        assert buttons(copy) == [label("agency.button.show", tracking_no=complaint.tracking_no)]


async def test_the_officer_is_redirected_while_telegram_is_still_editing_the_copies(
    office: Office, dashboard: TestClient
) -> None:
    """Telegram slow to edit: the decision is done and the officer sees it at once; the copy is settled
    when Telegram gets round to it."""
    complaint = await office.file_complaint()
    await dispute(office, complaint)
    await office.deliver()
    copy = await office.overseer.wait_for_reply(contains="转办有争议")
    arrived, release = asyncio.Event(), asyncio.Event()

    @web.middleware
    async def hold_edits(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]):
        if request.match_info.get("method", "").lower().startswith("editmessage"):
            arrived.set()
            await release.wait()
        return await handler(request)

    slow = web.Application(middlewares=[hold_edits])  # the same sandbox Telegram, its edits held
    slow[botapi.WORLD] = office.harness.world
    botapi.add_routes(slow)
    async with serve_app(slow) as url:
        bot = create_bot(office.harness.world.token, url + "/botapi")
        dashboard.app[COPIES].settle = partial(settle_decided_copies, bot, office.session_factory, office.deadlines)
        try:
            ruling = asyncio.ensure_future(
                decide(dashboard, complaint, "rule-dispute", agency="traffic-police", reason="由交警支队负责")
            )
            await asyncio.wait_for(arrived.wait(), TIMEOUT)
            response = await asyncio.wait_for(ruling, TIMEOUT)  # while the edit is held
            assert response.status == 303
            assert label("oversight.button.rule") in buttons(copy)
            release.set()
            await wait_until(office.harness.world, lambda: "已审定由" in copy.text)
            assert buttons(copy) == [label("agency.button.show", tracking_no=complaint.tracking_no)]
        finally:
            release.set()
            await dashboard.app[COPIES].close()
            await bot.session.close()


async def test_a_bot_api_that_fails_leaves_the_copies_but_never_the_dashboard_decision(
    office: Office, dashboard: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    """Telegram reached through a proxy that answers with its own HTML error page: the copies keep their
    buttons (refused when pressed), the ruling stands and the officer sees it done."""
    complaint = await office.file_complaint()
    await dispute(office, complaint)
    await office.deliver()
    copy = await office.overseer.wait_for_reply(contains="转办有争议")

    async def bad_gateway(request: web.Request) -> web.Response:
        return web.Response(status=502, text="<html><body>502 Bad Gateway</body></html>", content_type="text/html")

    proxy = web.Application()
    proxy.router.add_route("*", "/{tail:.*}", bad_gateway)
    async with serve_app(proxy) as url:
        bot = create_bot(office.harness.sandbox.world.token, url)
        dashboard.app[COPIES].settle = partial(settle_decided_copies, bot, office.session_factory, office.deadlines)
        response = await decide(dashboard, complaint, "rule-dispute", agency="traffic-police", reason="由交警支队负责")
        await dashboard.app[COPIES].close()  # as at shutdown: the settling under way is awaited
        await bot.session.close()
    assert response.status == 303
    assert "已审定承办单位。" in await (await dashboard.get(response.headers["Location"])).text()
    assert "could not settle" in caplog.text
    assert label("oversight.button.rule") in buttons(copy)
    ruled = await office.complaint(complaint.id)
    async with office.session_factory() as session:
        assert ruled.owner_agency_id == (await agency(session, "traffic-police")).id
    assert ruled.status != ComplaintStatus.DISPUTED


async def test_the_bot_service_lends_the_dashboard_its_settling_and_without_a_bot_it_settles_nothing(
    engine: AsyncEngine, tmp_path: Path, session_factory: async_sessionmaker[AsyncSession], catalogue_loaded: None
) -> None:
    settings = make_settings(engine, tmp_path)
    app = create_app(engine, settings, make_deadlines())
    assert app[COPIES].settle is None  # a web app alone: nothing to settle with
    service = BotService(settings, session_factory, clock=make_clock(), deadlines=make_deadlines())
    await service.mount(app)
    try:
        assert app[COPIES].settle == service.settle_decided
        await service.settle_decided(1, Action.RULE, None)  # the sandbox's Bot starts with the web server
    finally:
        await service.stop()


async def test_a_settling_that_hangs_is_cancelled_at_shutdown_and_none_starts_after(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    """Telegram never answering must not hold up ``serve``'s shutdown: what is under way is given its grace,
    then cancelled; a decision settled after shutdown began is not started at all."""
    app = make_app(engine, tmp_path)
    started, calls = asyncio.Event(), []

    async def hang(complaint_id: int, action: Action, question: int | None) -> None:
        calls.append(complaint_id)
        started.set()
        await asyncio.Event().wait()

    app[COPIES].settle = hang
    app[COPIES].settle_soon(1, Action.RULE, None)
    await asyncio.wait_for(started.wait(), TIMEOUT)
    running = next(task for task in asyncio.all_tasks() if task.get_name() == "settle-copies-1")
    await app[COPIES].close(grace=0)
    assert running.cancelled()
    app[COPIES].settle_soon(2, Action.RULE, None)
    await asyncio.sleep(0)
    assert calls == [1]
