"""`minsheng users` and `minsheng api-token`: the accounts and tokens they make, change and revoke really work."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer
from click.testing import CliRunner, Result
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from minsheng.cli import main
from storage.models import Agency, ApiToken, WebUser
from tests.test_dashboard_support import log_in, make_app
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
    async with TestClient(TestServer(make_app(engine, tmp_path), port=0)) as client:
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


async def test_users_add_refuses_a_missing_or_stray_agency_before_asking_for_a_password(database_url: str) -> None:
    """The operator learns the command is wrong before typing a password twice, not after."""
    no_agency = await run(database_url, "users", "add", "v", "--role", "agency_viewer")
    assert no_agency.exit_code == 2 and "an agency_viewer needs --agency CODE" in no_agency.output
    stray = await run(database_url, "users", "add", "x", "--role", "oversight", "--agency", "housing")
    assert stray.exit_code == 2 and "--agency is only for agency_viewer accounts" in stray.output
    assert "Password" not in no_agency.output + stray.output


async def test_api_token_create_refuses_a_missing_or_stray_agency_before_opening_the_database() -> None:
    """Checked once, up front, as for an account: a database that cannot be reached is never tried."""
    nowhere = "postgresql://postgres@127.0.0.1:1/nowhere"
    no_agency = await run(nowhere, "api-token", "create", "warehouse", "--role", "agency_viewer")
    assert no_agency.exit_code == 2 and "an agency_viewer needs --agency CODE" in no_agency.output
    stray = await run(nowhere, "api-token", "create", "warehouse", "--role", "oversight", "--agency", "housing")
    assert stray.exit_code == 2 and "--agency is only for agency_viewer accounts" in stray.output


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
    async with TestClient(TestServer(make_app(engine, tmp_path), port=0)) as client:
        response = await client.get("/api/v1/complaints", headers={"Authorization": f"Bearer {token}"})
        assert response.status == 200


async def test_a_new_password_ends_open_sessions_and_a_disabled_account_cannot_log_in(
    database_url: str, engine: AsyncEngine, tmp_path: Path
) -> None:
    assert (
        await run(database_url, "users", "add", "chief", "--role", "oversight", input="first password\n" * 2)
    ).exit_code == 0
    async with TestClient(TestServer(make_app(engine, tmp_path), port=0)) as client:
        assert (await log_in(client, "chief", "first password")).status == 303
        assert (await client.get("/dashboard/", allow_redirects=False)).status == 200

        short = await run(database_url, "users", "password", "chief", input="short\nshort\n")
        assert short.exit_code != 0 and "at least 10" in short.output
        unknown = await run(database_url, "users", "password", "nobody", input="second password\n" * 2)
        assert unknown.exit_code != 0 and "no user 'nobody'" in unknown.output
        changed = await run(database_url, "users", "password", "chief", input="second password\n" * 2)
        assert changed.exit_code == 0, changed.output
        assert (await client.get("/dashboard/", allow_redirects=False)).status == 303  # back to the login page
        assert (await log_in(client, "chief", "first password")).status != 303
        assert (await log_in(client, "chief", "second password")).status == 303

        assert (await run(database_url, "users", "disable", "chief")).exit_code == 0
        assert (await client.get("/dashboard/", allow_redirects=False)).status == 303
        assert (await log_in(client, "chief", "second password")).status != 303
        assert "inactive" in (await run(database_url, "users", "list")).output
        assert (await run(database_url, "users", "enable", "chief")).exit_code == 0
        assert (await log_in(client, "chief", "second password")).status == 303


async def test_a_revoked_api_token_is_refused_and_listed_as_revoked(
    database_url: str, engine: AsyncEngine, tmp_path: Path
) -> None:
    created = await run(database_url, "api-token", "create", "warehouse", "--role", "oversight")
    token = created.output.strip().splitlines()[-1]
    listed = await run(database_url, "api-token", "list")
    assert token not in listed.output
    (row,) = [line for line in listed.output.splitlines() if "warehouse" in line]
    assert row.endswith("active")
    token_id = row.split()[0]
    headers = {"Authorization": f"Bearer {token}"}
    async with TestClient(TestServer(make_app(engine, tmp_path), port=0)) as client:
        assert (await client.get("/api/v1/complaints", headers=headers)).status == 200
        revoked = await run(database_url, "api-token", "revoke", token_id)
        assert revoked.exit_code == 0, revoked.output
        assert (await client.get("/api/v1/complaints", headers=headers)).status == 401
    assert "revoked" in (await run(database_url, "api-token", "list")).output
    missing = await run(database_url, "api-token", "revoke", "9999")
    assert missing.exit_code != 0 and "no token with id 9999" in missing.output
