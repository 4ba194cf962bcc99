"""Run Alembic from inside the application's event loop, on the application's own engine."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATION_LOCK = 0x4D53_4D49  # the PostgreSQL advisory lock key every `db upgrade` takes ("MSMI")


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "no migrations found"
    return head


def _check_sqlite_folder(engine: AsyncEngine) -> None:
    """SQLite creates the file, not its folder. Say so before aiosqlite tries: its failed open is cleaned
    up on a worker thread that may report back after the event loop has closed, printing a traceback at
    exit. Every command and `serve` migrate (or check) before anything else touches the database."""
    database = engine.url.database or ""
    if engine.dialect.name == "sqlite" and database not in ("", ":memory:") and not database.startswith("file:"):
        folder = Path(database).parent
        if not folder.is_dir():
            raise FileNotFoundError(f"folder {folder} does not exist")


async def _run(engine: AsyncEngine, action: str, revision: str) -> None:
    """On PostgreSQL under a session-level advisory lock, held until after the commit: replicas that all
    migrate at start (the Docker image does) take turns, and the later ones find nothing to do. Not a
    transaction-level lock, so it would still hold if a revision ever had to commit part-way."""

    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        getattr(command, action)(config, revision)

    _check_sqlite_folder(engine)
    async with engine.connect() as connection:
        locking = connection.dialect.name == "postgresql"
        if locking:
            await connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
            await connection.commit()
        try:
            await connection.run_sync(run)
            await connection.commit()
        finally:
            if locking:
                await connection.rollback()  # what failed, if anything, so the unlock can run
                await connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
                await connection.commit()


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    await _run(engine, "upgrade", revision)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    await _run(engine, "downgrade", revision)


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        return await connection.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())


class SchemaNotCurrent(Exception):
    """PostgreSQL is migrated on purpose (`minsheng db upgrade`), never behind the operator's back."""


async def ensure_schema(engine: AsyncEngine) -> None:
    """The embedded SQLite default migrates itself; PostgreSQL must already be at head, so several
    instances starting at once never race over DDL."""
    if engine.dialect.name == "sqlite":
        await upgrade(engine)
    elif (current := await current_revision(engine)) != head_revision():
        raise SchemaNotCurrent(
            f"database is at revision {current or 'none'}, this code expects {head_revision()}: "
            "run `minsheng db upgrade` first"
        )
