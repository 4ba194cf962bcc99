"""The `minsheng` command line. Each group lives with the package whose work it does."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from minsheng.settings import Settings, SettingsError, load_settings
from storage.datafile import DataFileError

T = TypeVar("T")


def settings_from(ctx: click.Context) -> Settings:
    """Settings are loaded lazily, so `minsheng --help` works even with a bad environment."""
    if "settings" not in ctx.meta:
        try:
            ctx.meta["settings"] = load_settings()
        except SettingsError as exc:
            raise click.ClickException(str(exc)) from None
    return ctx.meta["settings"]


def run_async(coroutine: Awaitable[T]) -> T:
    """Run a command's coroutine; expected failures print one clear message instead of a traceback."""
    from sqlalchemy.exc import DBAPIError

    from storage.migrate import SchemaNotCurrent

    try:
        return asyncio.run(coroutine)  # type: ignore[arg-type]
    except (DataFileError, SchemaNotCurrent) as exc:
        raise click.ClickException(str(exc)) from None
    except (DBAPIError, OSError) as exc:
        raise click.ClickException(f"database unreachable: {getattr(exc, 'orig', None) or exc}") from None


def with_engine(work: Callable[..., Awaitable[T]], *, ensure_schema: bool = True) -> Callable[[Settings], Awaitable[T]]:
    """Open the configured database (schema brought up or checked) for a command's work."""

    async def run(settings: Settings, *args: Any) -> T:
        from storage.db import create_engine
        from storage.migrate import ensure_schema as ensure

        engine = create_engine(settings.database_url)
        try:
            if ensure_schema:
                await ensure(engine)
            return await work(engine, *args)
        finally:
            await engine.dispose()

    return run


@click.group()
def main() -> None:
    """民声 Minsheng: complaint intake and handling for government agencies."""


@main.command()
@click.pass_context
def serve(ctx: click.Context) -> None:
    """Start the web server (and the bot, or the local sandbox when no token is set)."""
    from minsheng.service import serve as run_service

    settings = settings_from(ctx)
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    run_async(run_service(settings))


@main.group()
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


@main.group()
def agencies() -> None:
    """The agency catalogue."""


@agencies.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def agencies_import(ctx: click.Context, file: Path) -> None:
    """Import or update agencies from a catalogue FILE (idempotent)."""
    from storage.catalogue import import_catalogue, load_catalogue
    from storage.db import create_session_factory

    catalogue = load_catalogue(file)

    async def work(engine: Any) -> Any:
        async with create_session_factory(engine)() as session:
            report = await import_catalogue(session, catalogue)
            await session.commit()
            return report

    report = run_async(with_engine(work)(settings_from(ctx)))
    for code in report.added:
        click.echo(f"added        {code}")
    for code, fields in report.updated.items():
        click.echo(f"updated      {code}: {', '.join(fields)}")
    for code in report.removed:
        click.echo(f"removed      {code}")
    for code in report.deactivated:
        click.echo(f"deactivated  {code} (has complaints, contacts or evaluations; kept for history)")
    click.echo(
        f"{len(report.added)} added, {len(report.updated)} updated, {len(report.removed)} removed, "
        f"{len(report.deactivated)} deactivated, {report.unchanged} unchanged"
    )


@agencies.command("list")
@click.pass_context
def agencies_list(ctx: click.Context) -> None:
    """List the agencies in the database."""
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from storage.db import create_session_factory
    from storage.models import Agency

    async def work(engine: Any) -> list[Agency]:
        async with create_session_factory(engine)() as session:
            query = select(Agency).options(selectinload(Agency.parent)).order_by(Agency.area, Agency.code)
            return list((await session.scalars(query)).all())

    for agency in run_async(with_engine(work)(settings_from(ctx))):
        flags = " ".join(
            flag for flag, on in ((agency.role, agency.role != "agency"), ("inactive", not agency.active)) if on
        )
        parent = f" < {agency.parent.code}" if agency.parent else ""
        click.echo(f"{agency.code:<28} {agency.name:<16} {agency.area or '-':<8}{parent} {flags}".rstrip())
