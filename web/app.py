"""The aiohttp application: health check now; dashboard, publication, API and webhook mount here."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from minsheng.settings import Settings
from storage.db import ping
from workflow.deadlines import Deadlines
from workflow.transitions import Action

log = logging.getLogger(__name__)


class FileUnavailable(Exception):
    """A citizen's file could not be fetched from Telegram just now."""


@dataclass
class TelegramFiles:
    """Photos and documents citizens attach stay at Telegram (only their ids are stored); the bot,
    once it runs, lends its download here so the dashboard can show them. None: no bot yet."""

    fetch: Callable[[str], Awaitable[bytes]] | None = None


@dataclass
class DecidedCopies:
    """A question the bot asked every officer (an extension request, a dispute) may be decided on the
    dashboard; the bot, once it runs, lends here how to settle its copies (the outcome instead of live
    buttons), given the complaint id, the decision and the question (its asking event's id, or None: the
    latest). None: no bot, nothing to settle.

    Settling runs in the background (``settle_soon``), so the officer's page never waits for Telegram;
    ``close`` lets what is under way finish at shutdown."""

    settle: Callable[[int, Action, int | None], Awaitable[None]] | None = None
    _pending: set[asyncio.Task[None]] = field(default_factory=set)
    _closed: bool = False

    def settle_soon(self, complaint_id: int, action: Action, question: int | None) -> None:
        """Settle the copies of a decision once it is committed, off the request. A courtesy: whatever
        fails is logged, never the officer's error (a copy left with its buttons is refused when pressed)."""
        if self.settle is None or self._closed:
            return
        task = asyncio.create_task(
            self._settle(self.settle, complaint_id, action, question), name=f"settle-copies-{complaint_id}"
        )
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    @staticmethod
    async def _settle(
        settle: Callable[[int, Action, int | None], Awaitable[None]],
        complaint_id: int,
        action: Action,
        question: int | None,
    ) -> None:
        try:
            await settle(complaint_id, action, question)
        except Exception:
            log.warning("could not settle the bot's copies of complaint %s", complaint_id, exc_info=True)

    async def close(self, grace: float = 5.0) -> None:
        """Shutdown: nothing new starts; what is under way gets ``grace`` seconds, then is cancelled."""
        self._closed = True
        if not self._pending:
            return
        _, late = await asyncio.wait(self._pending, timeout=grace)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)


ENGINE = web.AppKey("engine", AsyncEngine)
SETTINGS = web.AppKey("settings", Settings)
#: The working-day calendar: deadlines on the dashboard, each month's publication cut-off.
DEADLINES = web.AppKey("deadlines", Deadlines)
FILES = web.AppKey("telegram_files", TelegramFiles)
COPIES = web.AppKey("decided_copies", DecidedCopies)

routes = web.RouteTableDef()


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    """Load balancers and `docker compose` ask this; 503 tells them the database is unreachable."""
    try:
        await ping(request.app[ENGINE])
    except Exception as exc:
        log.warning("health check: database unreachable: %s", exc)
        return web.json_response({"status": "unavailable", "database": "unreachable"}, status=503)
    return web.json_response({"status": "ok", "database": "ok"})


#: Where answers carry personal data (citizens' words, contact details): no cache, not even the
#: browser's history, keeps them. The public pages and the dashboard's own style sheets may be cached.
_PRIVATE = ("/api/", "/dashboard/")


async def _no_store(request: web.Request, response: web.StreamResponse) -> None:
    private = request.path.startswith(_PRIVATE) or request.path == "/dashboard"
    if private and not request.path.startswith("/dashboard/static/"):
        response.headers.setdefault("Cache-Control", "no-store")


def create_app(engine: AsyncEngine, settings: Settings, deadlines: Deadlines) -> web.Application:
    """Each part of the site registers its own routes here through a ``setup(app)`` of its module.
    ``deadlines``: the caller's calendar, loaded once per process (the bot and the timekeeper share it)."""
    app = web.Application(client_max_size=2 * 1024 * 1024)
    app[ENGINE] = engine
    app[SETTINGS] = settings
    app[DEADLINES] = deadlines
    app[FILES] = TelegramFiles()
    app[COPIES] = DecidedCopies()
    app.on_shutdown.append(lambda app: app[COPIES].close())
    app.on_response_prepare.append(_no_store)
    app.add_routes(routes)
    from web import api, dashboard

    dashboard.setup(app)
    api.setup(app)
    from web import publication

    publication.setup(app)
    return app
