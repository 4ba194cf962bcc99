"""A complaint's photos and documents on the dashboard: fetched through the real Bot from the Bot API
stand-in, only for viewers who may see the complaint, never cached, never rendered as a page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.factory import create_bot
from bot.service import download_file
from storage.models import Attachment
from tests.botapi import Sandbox, sandbox_server
from tests.test_dashboard_support import World, client, log_in, world
from web.app import FILES

__all__ = ["client", "world"]

JPEG = b"\xff\xd8\xff\xe0 a photo of the service window"
PAGE = b"<html><script>alert(1)</script></html>"


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with sandbox_server() as sandbox:
        sandbox.world.files.update({"photo-1": JPEG, "doc-2": PAGE})
        yield sandbox


@pytest.fixture
async def files(
    client: TestClient, world: World, sandbox: Sandbox, session_factory: async_sessionmaker[AsyncSession]
) -> AsyncIterator[dict[str, Attachment]]:
    """The bot lends its download to the dashboard, as ``BotService.mount`` does."""
    async with session_factory() as session:
        found = {
            "photo": Attachment(complaint_id=world.complaint_a.id, kind="photo", telegram_file_id="photo-1"),
            "page": Attachment(
                complaint_id=world.complaint_a.id, kind="document", telegram_file_id="doc-2", file_name="说明.html",
                mime_type="text/html",
            ),
            "gone": Attachment(complaint_id=world.complaint_a.id, kind="photo", telegram_file_id="photo-expired"),
            "other": Attachment(complaint_id=world.complaint_b.id, kind="photo", telegram_file_id="photo-1"),
        }  # fmt: skip
        session.add_all(found.values())
        await session.commit()
    bot = create_bot(sandbox.world.token, sandbox.api_base)
    client.app[FILES].fetch = partial(download_file, bot)
    yield found
    await bot.session.close()


def url(world: World, attachment: Attachment, tracking_no: str | None = None) -> str:
    return f"/dashboard/complaints/{tracking_no or world.complaint_a.tracking_no}/files/{attachment.id}"


async def test_a_photo_is_shown_from_telegram_and_never_cached(
    client: TestClient, world: World, files: dict[str, Attachment]
) -> None:
    await log_in(client, "viewer-a")
    page = await (await client.get(f"/dashboard/complaints/{world.complaint_a.tracking_no}")).text()
    assert url(world, files["photo"]) in page
    response = await client.get(url(world, files["photo"]))
    assert response.status == 200
    assert await response.read() == JPEG
    assert response.content_type == "image/jpeg"
    assert response.headers["Content-Disposition"].startswith("inline;")
    assert "no-store" in response.headers["Cache-Control"]


async def test_an_uploaded_page_is_downloaded_not_rendered(
    client: TestClient, world: World, files: dict[str, Attachment]
) -> None:
    await log_in(client, "viewer-a")
    response = await client.get(url(world, files["page"]))
    assert response.status == 200 and await response.read() == PAGE
    assert response.content_type == "application/octet-stream"
    assert response.headers["Content-Disposition"] == "attachment; filename*=UTF-8''%E8%AF%B4%E6%98%8E.html"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_another_agencys_file_is_a_404_even_under_a_visible_complaint(
    client: TestClient, world: World, files: dict[str, Attachment]
) -> None:
    await log_in(client, "viewer-a")
    assert (await client.get(url(world, files["other"], world.complaint_b.tracking_no))).status == 404
    assert (await client.get(url(world, files["other"]))).status == 404  # its id under A's complaint
    await log_in(client, "chief")
    assert (await client.get(url(world, files["other"], world.complaint_b.tracking_no))).status == 200


async def test_a_file_telegram_cannot_give_is_explained_not_a_crash(
    client: TestClient, world: World, files: dict[str, Attachment]
) -> None:
    await log_in(client, "viewer-a")
    response = await client.get(url(world, files["gone"]))
    assert response.status == 502
    assert "暂时无法取回" in await response.text()
    client.app[FILES].fetch = None  # a web-only process: no bot to fetch with
    assert (await client.get(url(world, files["photo"]))).status == 502


async def test_a_visitor_who_is_not_logged_in_is_sent_to_log_in(
    client: TestClient, world: World, files: dict[str, Attachment]
) -> None:
    response = await client.get(url(world, files["photo"]), allow_redirects=False)
    assert response.status == 303 and response.headers["Location"].startswith("/dashboard/login")
