"""Alembic "stairway": every revision goes up, down and up again, on both backends."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from sqlalchemy.ext.asyncio import AsyncEngine

from minsheng.cli import main
from storage import migrate
from storage.db import create_engine
from storage.models import Base
from tests.conftest import PostgresDatabases


def revisions() -> list[str]:
    script = ScriptDirectory.from_config(migrate.alembic_config())
    return [revision.revision for revision in reversed(list(script.walk_revisions()))]


@pytest.fixture
async def fresh_engine(backend: str, postgres: PostgresDatabases, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """An empty database, not yet migrated."""
    if backend == "sqlite":
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'stairway.db'}")
    else:
        engine = create_engine(await (await postgres.require()).create_database())
    yield engine
    await engine.dispose()


def test_migrations_have_a_single_head() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config())
    assert len(script.get_heads()) == 1, script.get_heads()


async def test_every_revision_goes_up_down_and_up_again(fresh_engine: AsyncEngine) -> None:
    previous = "base"
    for revision in revisions():
        await migrate.upgrade(fresh_engine, revision)
        assert await migrate.current_revision(fresh_engine) == revision
        await migrate.downgrade(fresh_engine, previous)
        assert await migrate.current_revision(fresh_engine) == (None if previous == "base" else previous)
        await migrate.upgrade(fresh_engine, revision)
        previous = revision
    assert await migrate.current_revision(fresh_engine) == migrate.head_revision()


async def test_migrated_schema_matches_the_models(fresh_engine: AsyncEngine) -> None:
    await migrate.upgrade(fresh_engine)
    async with fresh_engine.connect() as connection:
        diff = await connection.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync, opts={"compare_type": True}), Base.metadata)
        )
    assert diff == [], f"models and migrations differ; add a revision: {diff}"


async def test_concurrent_upgrades_on_postgres_wait_for_each_other_and_reach_head(
    backend: str, fresh_engine: AsyncEngine, tmp_path: Path
) -> None:
    """Every container runs `minsheng db upgrade` at start: replicas started together must not race."""
    if backend != "postgresql":
        pytest.skip("several instances share one database only on PostgreSQL")
    env = {**os.environ, "MINSHENG_DATABASE_URL": fresh_engine.url.render_as_string(hide_password=False)}

    async def upgrade() -> tuple[int | None, str]:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "minsheng", "db", "upgrade",
            cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        output, _ = await asyncio.wait_for(process.communicate(), 120)
        return process.returncode, output.decode()

    results = await asyncio.gather(*(upgrade() for _ in range(3)))
    assert [code for code, _ in results] == [0, 0, 0], results
    assert await migrate.current_revision(fresh_engine) == migrate.head_revision()


def test_upgrade_to_an_unknown_revision_says_so_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MINSHENG_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'minsheng.db'}")
    result = CliRunner().invoke(main, ["db", "upgrade", "--revision", "bogus"])
    assert result.exit_code == 1
    assert result.output.splitlines() == ["Error: Can't locate revision identified by 'bogus'"], result.exception
