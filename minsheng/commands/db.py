"""`minsheng db`: the schema."""

from __future__ import annotations

from typing import Any

import click

from minsheng.commands.context import run_async, settings_from, with_engine


@click.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@click.pass_context
def db_upgrade(ctx: click.Context, revision: str) -> None:
    """Apply migrations (run before `serve` on PostgreSQL)."""
    from storage import migrate

    async def work(engine: Any) -> str | None:
        await migrate.upgrade(engine, revision)
        return await migrate.current_revision(engine)

    click.echo(f"database at revision {run_async(with_engine(work, ensure_schema=False)(settings_from(ctx)))}")
