"""`minsheng db`: the schema, and the timers kept in it."""

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
    from alembic.util import CommandError

    from storage import migrate

    async def work(engine: Any) -> str | None:
        await migrate.upgrade(engine, revision)
        return await migrate.current_revision(engine)

    try:
        current = run_async(with_engine(work, ensure_schema=False)(settings_from(ctx)))
    except CommandError as exc:  # an unknown or ambiguous --revision: Alembic's message says which
        raise click.ClickException(str(exc)) from None
    click.echo(f"database at revision {current}")


@db.command("reconcile-timers")
@click.pass_context
def db_reconcile_timers(ctx: click.Context) -> None:
    """Give every open complaint the deadline timers it should have now (also done at each start)."""
    from storage.db import create_session_factory
    from workflow.deadlines import Deadlines
    from workflow.timekeeper import reconcile

    settings = settings_from(ctx)

    async def work(engine: Any) -> Any:
        deadlines = Deadlines.load(settings.policy_path, settings.holidays_path, settings.zone)
        return await reconcile(create_session_factory(engine), deadlines)

    result = run_async(with_engine(work)(settings))
    click.echo(f"{result.checked} open complaints checked: {result.added} timers added, {result.removed} removed")
