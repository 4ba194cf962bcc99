"""What every `minsheng` command needs: settings, an event loop, a database."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

import click

from minsheng.settings import ListenError, Settings, SettingsError, TokenRejected, load_settings

T = TypeVar("T")


def settings_from(ctx: click.Context) -> Settings:
    """Settings are loaded lazily, so `minsheng --help` works even with a bad environment."""
    if "settings" not in ctx.meta:
        try:
            ctx.meta["settings"] = load_settings()
        except SettingsError as exc:
            raise click.ClickException(str(exc)) from None
    return ctx.meta["settings"]


def local_time(settings: Settings, moment: datetime, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored (UTC) time as the operator reads it: in the service's zone, like every other time it shows."""
    return moment.astimezone(settings.zone).strftime(fmt)


def run_async(coroutine: Awaitable[T]) -> T:
    """Run a command's coroutine; expected failures print one clear message instead of a traceback."""
    from sqlalchemy.exc import DBAPIError

    from storage.migrate import SchemaNotCurrent

    try:
        return asyncio.run(coroutine)  # type: ignore[arg-type]
    except (SchemaNotCurrent, ListenError, TokenRejected) as exc:
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
