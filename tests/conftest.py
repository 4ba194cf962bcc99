"""Shared fixtures. Every storage-touching test runs on SQLite and on PostgreSQL.

PostgreSQL: each pytest session creates its own database (so parallel runs never collide) from
MINSHENG_TEST_PG_URL (default: the local trust-auth server). Without a server the PostgreSQL half is
skipped locally; under CI=true that is a failure, never a silent skip.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage import migrate
from storage.agencies import import_catalogue
from storage.catalogue import load_catalogue
from storage.db import create_engine, create_session_factory
from storage.models import Base
from tests.factories import World, build_world
from tests.test_agency_bot_support import Office, open_office

PG_SERVER_URL = os.environ.get("MINSHENG_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
DEFAULT_CATALOGUE = REPO / "storage" / "data" / "agencies.yaml"


class PostgresServer:
    """Creates and drops throw-away databases on the test server."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self.created: list[str] = []

    async def _admin(self, statement: str) -> None:
        engine = create_engine(self.server_url)
        try:
            async with engine.connect() as connection:
                connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
                await connection.execute(text(statement))
        finally:
            await engine.dispose()

    async def create_database(self) -> str:
        name = f"minsheng_test_{uuid.uuid4().hex[:12]}"
        await self._admin(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return make_url(self.server_url).set(database=name).render_as_string(hide_password=False)

    async def drop_all(self) -> None:
        for name in self.created:
            await self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class PostgresDatabases:
    """Lazily connects: a run that selects only SQLite tests never needs the server."""

    def __init__(self) -> None:
        self.server = PostgresServer(PG_SERVER_URL)
        self.reachable: bool | None = None
        self.shared_engine: AsyncEngine | None = None

    async def require(self) -> PostgresServer:
        if self.reachable is None:
            try:
                await self.server._admin("SELECT 1")
                self.reachable = True
            except Exception as exc:
                self.reachable, self.error = False, f"PostgreSQL not reachable at {PG_SERVER_URL}: {exc}"
        if not self.reachable:
            if IN_CI:
                pytest.fail(self.error)
            pytest.skip(self.error)
        return self.server

    async def engine(self) -> AsyncEngine:
        """One migrated database shared by the session; tests empty its tables afterwards."""
        if self.shared_engine is None:
            server = await self.require()
            self.shared_engine = create_engine(await server.create_database())
            await migrate.upgrade(self.shared_engine)
        return self.shared_engine


@pytest.fixture(scope="session")
async def postgres() -> AsyncIterator[PostgresDatabases]:
    databases = PostgresDatabases()
    yield databases
    if databases.shared_engine is not None:
        await databases.shared_engine.dispose()
    if databases.reachable:
        await databases.server.drop_all()


@pytest.fixture(scope="session")
async def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test: cheaper than migrating every time."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    await migrate.upgrade(engine)
    async with engine.connect() as connection:
        await connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    await engine.dispose()
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
async def engine(
    backend: str, postgres: PostgresDatabases, sqlite_template: Path, tmp_path: Path
) -> AsyncIterator[AsyncEngine]:
    """A migrated, empty database on ``backend``."""
    if backend == "sqlite":
        path = tmp_path / "minsheng.db"
        shutil.copy(sqlite_template, path)
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        yield engine
        await engine.dispose()
        return
    engine = await postgres.engine()
    yield engine
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    async with engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
async def database_url(engine: AsyncEngine) -> str:
    """The URL of the test database, for code under test that opens its own engine."""
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture
def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_session_factory(engine)


@pytest.fixture
async def session(session_factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with session_factory() as session:
        yield session


@pytest.fixture
async def catalogue_loaded(session_factory: async_sessionmaker[AsyncSession]) -> None:
    """The default agency catalogue, imported."""
    async with session_factory() as session:
        await import_catalogue(session, load_catalogue(DEFAULT_CATALOGUE))
        await session.commit()


@pytest.fixture
async def office(session_factory: async_sessionmaker[AsyncSession], catalogue_loaded: None) -> AsyncIterator[Office]:
    """The agency bot on the Bot API stand-in with five contacts bound: what clerk tests act with."""
    async with open_office(session_factory) as office:
        yield office


@pytest.fixture
async def world(session: AsyncSession, catalogue_loaded: None) -> World:
    """Agencies, contacts, a citizen, a clock and deadlines: what workflow tests act with."""
    return await build_world(session)


@pytest.fixture
async def gone_session_factory(
    backend: str, postgres: PostgresDatabases, tmp_path: Path
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on a database that has gone away: on PostgreSQL dropped ``WITH (FORCE)`` under a live
    connection (what an operator did), on SQLite a file in a missing folder."""
    if backend == "sqlite":
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'gone' / 'minsheng.db'}")
    else:
        server = await postgres.require()
        url = await server.create_database()
        engine = create_engine(url)
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        await server._admin(f'DROP DATABASE "{make_url(url).database}" WITH (FORCE)')
    yield create_session_factory(engine)
    await engine.dispose()


async def failed_rounds(caplog: pytest.LogCaptureFixture, name: str, count: int) -> list[logging.LogRecord]:
    """Wait (on the event loop, never for a fixed time) until ``count`` rounds of ``name`` have failed."""
    for _ in range(1000):
        records = [r for r in caplog.records if r.getMessage().startswith(f"{name} failed")]
        if len(records) >= count:
            return records
        await asyncio.sleep(0.005)
    raise AssertionError(f"{name}: {len(records)} failed rounds logged, expected {count}")
