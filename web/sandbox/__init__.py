"""The local sandbox: a stand-in for the Telegram Bot API plus a chat page to play its users.

With no bot token, ``minsheng serve`` mounts it under ``/sandbox`` and runs the real Dispatcher
against it: the chat page at ``/sandbox/``, the Bot API at ``/sandbox/botapi``.
"""

from __future__ import annotations

from aiohttp import web

from web.app import ENGINE
from web.sandbox import botapi, chat
from web.sandbox.botapi import WORLD
from web.sandbox.people import people_on_record
from web.sandbox.world import SANDBOX_TOKEN, SandboxWorld

PREFIX = "/sandbox"
BOT_API_PATH = "/botapi"

__all__ = ["BOT_API_PATH", "PREFIX", "SANDBOX_TOKEN", "WORLD", "SandboxWorld", "create_sandbox_app", "setup"]


def create_sandbox_app(world: SandboxWorld) -> web.Application:
    """The stand-in and the chat page as one aiohttp application (mountable, or served alone)."""
    app = web.Application(client_max_size=20 * 1024 * 1024)
    app[WORLD] = world
    botapi.add_routes(app)
    chat.add_routes(app)
    app.on_shutdown.append(lambda _app: world.close())
    return app


def setup(app: web.Application, world: SandboxWorld) -> None:
    """Mount the sandbox on the service's web app under ``/sandbox``; its users of earlier runs come
    back from the database when the app starts (before the bot sends anything)."""

    async def restore_users(app: web.Application) -> None:
        world.restore(await people_on_record(app[ENGINE]))

    app.add_subapp(PREFIX, create_sandbox_app(world))
    app.on_startup.append(restore_users)
