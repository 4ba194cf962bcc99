"""`minsheng users add/list` and `minsheng api-token create`: the accounts they make really work."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer
from click.testing import CliRunner, Result
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from minsheng.cli import main
from storage.models import Agency, ApiToken, WebUser
from tests.test_dashboard_support import log_in, make_settings
from web.app import create_app
from web.auth import verify_password


async def run(database_url: str, *args: str, input: str | None = None) -> Result:
    """The CLI in a thread: it runs its own event loop, as it does from a shell."""
    runner = CliRunner()
    env = {"MINSHENG_DATABASE_URL": database_url}
    return await asyncio.to_thread(runner.invoke, main, list(args), input=input, env=env, catch_exceptions=False)


async def test_users_add_prompts_twice_and_the_account_can_log_in(
    database_url: str, engine: AsyncEngine, session_factory: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    result = await run(database_url, "users", "add", "chief", "--role", "oversight", input="a long password\n" * 2)
    assert result.exit_code == 0, result.output
    async with session_factory() as session:
        user = await session.scalar(select(WebUser).where(WebUser.username == "chief"))
    assert user is not None and user.role == "oversight" and user.agency_id is None
    assert user.password_hash.startswith("scrypt$") and verify_password("a long password", user.password_hash)
    async with TestClient(TestServer(create_app(engine, make_settings(engine, tmp_path)), port=0)) as client:
        assert (await log_in(client, "chief", "a long password")).status == 303
    listed = await run(database_url, "users", "list")
    assert "chief" in listed.output and "oversight" in listed.output


async def test_users_add_refuses_mismatched_or_short_passwords_and_bad_agencies(database_url: str) -> None:
    mismatch = await run(
        database_url, "users", "add", "x", "--role", "oversight", input="a long password\nanother one!!\n" * 3
    )
    assert mismatch.exit_code != 0
    short = await run(database_url, "users", "add", "x", "--role", "oversight", input="short\nshort\n")
    assert short.exit_code != 0 and "at least 10" in short.output
    no_agency = await run(database_url, "users", "add", "v", "--role", "agency_viewer", input="a long password\n" * 2)
    assert no_agency.exit_code != 0 and "--agency" in no_agency.output
    unknown = await run(
        database_url, "users", "add", "v", "--role", "agency_viewer", "--agency", "nope", input="a long password\n" * 2
    )
    assert unknown.exit_code != 0 and "no agency" in unknown.output


async def test_agency_viewer_account_is_bound_to_its_agency(
    database_url: str, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with session_factory() as session:
        session.add(Agency(code="city-housing", name="市住建局"))
        await session.commit()
    result = await run(
        database_url,
        "users",
        "add",
        "v",
        "--role",
        "agency_viewer",
        "--agency",
        "city-housing",
        input="a long password\n" * 2,
    )
    assert result.exit_code == 0, result.output
    async with session_factory() as session:
        user = await session.scalar(select(WebUser).where(WebUser.username == "v"))
        agency = await session.scalar(select(Agency).where(Agency.code == "city-housing"))
    assert user is not None and agency is not None and user.agency_id == agency.id


async def test_api_token_is_printed_once_stored_hashed_and_accepted(
    database_url: str, engine: AsyncEngine, session_factory: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    result = await run(database_url, "api-token", "create", "warehouse", "--role", "oversight")
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert token.startswith("msk_")
    async with session_factory() as session:
        stored = await session.scalar(select(ApiToken).where(ApiToken.name == "warehouse"))
    assert stored is not None and token not in stored.token_hash
    async with TestClient(TestServer(create_app(engine, make_settings(engine, tmp_path)), port=0)) as client:
        response = await client.get("/api/v1/complaints", headers={"Authorization": f"Bearer {token}"})
        assert response.status == 200
