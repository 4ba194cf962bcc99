"""`minsheng serve`: the web server, the bot and the background workers in one process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable

from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.service import BotService
from minsheng.settings import ListenError, Settings, TokenRejected
from storage import migrate
from storage.agencies import import_catalogue
from storage.catalogue import load_catalogue
from storage.db import create_engine, create_session_factory
from storage.models import Agency
from web.app import create_app
from workflow import timekeeper
from workflow.clock import SystemClock
from workflow.deadlines import Deadlines

log = logging.getLogger(__name__)


async def prepare_database(
    engine: AsyncEngine, session_factory: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    """Bring the schema up (or check it), and give an empty database the default catalogue so the
    service is usable on first start."""
    await migrate.ensure_schema(engine)
    async with session_factory() as session:
        if not await session.scalar(select(func.count()).select_from(Agency)):
            report = await import_catalogue(session, load_catalogue(settings.catalogue_path))
            await session.commit()
            log.info("empty database: imported %d agencies from %s", len(report.added), settings.catalogue_path)


async def serve(
    settings: Settings, *, stop: asyncio.Event | None = None, ready: Callable[[str], None] | None = None
) -> None:
    """Run until SIGINT/SIGTERM (or ``stop``), then shut every part down and return; raise
    ``TokenRejected`` (after shutting down) if Telegram rejects the bot's token.

    ``ready`` is called with the web server's base URL once everything listens (with port 0, the
    only way to learn the port in-process).
    """
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)

    engine = create_engine(settings.database_url)
    session_factory = create_session_factory(engine)
    runner: web.AppRunner | None = None
    tasks: list[asyncio.Task[None]] = []
    bot_service: BotService | None = None
    rejected: list[TokenRejected] = []

    def give_up(error: TokenRejected) -> None:
        rejected.append(error)
        stop.set()

    try:
        await prepare_database(engine, session_factory, settings)
        clock = SystemClock()
        deadlines = Deadlines.load(settings.policy_path, settings.holidays_path, settings.zone)
        deadlines.warn_about_unknown_years(clock.now())
        app = create_app(engine, settings, deadlines)
        bot_service = BotService(settings, session_factory, clock=clock, deadlines=deadlines, on_rejected=give_up)
        await bot_service.mount(app)
        runner = web.AppRunner(app, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, settings.web_host, settings.web_port)
        try:
            await site.start()
        except OSError as exc:  # not the database: the address is taken or not ours
            address = f"{settings.web_host}:{settings.web_port}"
            raise ListenError(f"cannot listen on {address}: {exc.strerror or exc}") from None
        host, port = runner.addresses[0][:2]
        log.info("web server on http://%s:%s", host, port)
        local_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        await bot_service.start(f"http://{local_host}:{port}")
        tasks.append(asyncio.create_task(timekeeper.run(session_factory, clock, deadlines, stop), name="timekeeper"))
        if ready is not None:
            ready(f"http://{host}:{port}")
        await stop.wait()
        if rejected:
            raise rejected[0]
        log.info("shutting down")
    finally:
        if bot_service is not None:
            await bot_service.stop()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if runner is not None:
            await runner.cleanup()
        await engine.dispose()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
