"""The local stand-in for the Telegram Bot API: the real aiogram ``Bot`` talks to it over HTTP.

Routes follow Telegram's layout (``/bot<token>/<method>``), so ``TelegramAPIServer.from_base`` of
the stand-in's URL is all a Bot needs. Answers mimic Telegram's, errors included (``chat not
found``, ``message is too long``, 403 for a blocked bot, 429 with ``retry_after``), so what works
here works against Telegram.
"""

from __future__ import annotations

import contextlib
import html
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from web.sandbox.world import BotApiError, SandboxWorld

log = logging.getLogger(__name__)
Params = dict[str, Any]
Method = Callable[[SandboxWorld, Params], Awaitable[Any]]
WORLD = web.AppKey("sandbox_world", SandboxWorld)


async def _params(request: web.Request) -> Params:
    """Telegram accepts query string, form, multipart or JSON; nested values arrive JSON-encoded."""
    params: Params = dict(request.query)
    if request.content_type == "application/json":
        params.update(await request.json())
    elif request.can_read_body:
        for key, value in (await request.post()).items():
            params[key] = value if isinstance(value, str) else getattr(value, "filename", "file")
    for key, value in params.items():
        if isinstance(value, str) and value[:1] in "[{":
            with contextlib.suppress(ValueError):
                params[key] = json.loads(value)
    return params


def _int(params: Params, name: str, default: int | None = None) -> int:
    value = params.get(name, default)
    if value is None:
        raise BotApiError(400, f"Bad Request: {name} is required")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise BotApiError(400, f"Bad Request: {name} must be a number") from None


def _html(params: Params, field: str) -> str:
    text = str(params.get(field) or "")
    return text if str(params.get("parse_mode", "")).upper() == "HTML" else html.escape(text, quote=False)


async def get_updates(world: SandboxWorld, p: Params) -> Any:
    timeout = min(float(p.get("timeout") or 0), 50.0)
    return await world.get_updates(_int(p, "offset", 0), _int(p, "limit", 100), wait=timeout)


async def send_message(world: SandboxWorld, p: Params) -> Any:
    return await world.bot_sends(_int(p, "chat_id"), _html(p, "text"), markup=p.get("reply_markup"))


async def send_photo(world: SandboxWorld, p: Params) -> Any:
    return await world.bot_sends(_int(p, "chat_id"), _html(p, "caption"), kind="photo", markup=p.get("reply_markup"))


async def send_document(world: SandboxWorld, p: Params) -> Any:
    name = p.get("document") if isinstance(p.get("document"), str) else None
    return await world.bot_sends(
        _int(p, "chat_id"), _html(p, "caption"), kind="document", markup=p.get("reply_markup"), file_name=name
    )


async def edit_text(world: SandboxWorld, p: Params) -> Any:
    return await world.bot_edits(
        _int(p, "chat_id"), _int(p, "message_id"), html=_html(p, "text"), markup=p.get("reply_markup")
    )


async def edit_markup(world: SandboxWorld, p: Params) -> Any:
    return await world.bot_edits(_int(p, "chat_id"), _int(p, "message_id"), markup=p.get("reply_markup"))


async def delete_message(world: SandboxWorld, p: Params) -> Any:
    await world.bot_deletes(_int(p, "chat_id"), _int(p, "message_id"))
    return True


async def answer_callback(world: SandboxWorld, p: Params) -> Any:
    show_alert = str(p.get("show_alert", "")).lower() == "true"
    await world.bot_answers(str(p.get("callback_query_id")), str(p.get("text") or ""), show_alert)
    return True


async def set_commands(world: SandboxWorld, p: Params) -> Any:
    world.commands = list(p.get("commands") or [])
    return True


async def set_webhook(world: SandboxWorld, p: Params) -> Any:
    world.webhook_url = str(p.get("url") or "") or None
    return True


async def delete_webhook(world: SandboxWorld, p: Params) -> Any:
    world.webhook_url = None
    return True


async def webhook_info(world: SandboxWorld, p: Params) -> Any:
    return {"url": world.webhook_url or "", "has_custom_certificate": False, "pending_update_count": 0}


async def get_chat(world: SandboxWorld, p: Params) -> Any:
    user = world.users.get(_int(p, "chat_id"))
    if user is None:
        raise BotApiError(400, "Bad Request: chat not found")
    return user.as_chat()


async def get_file(world: SandboxWorld, p: Params) -> Any:
    file_id = str(p.get("file_id") or "")
    content = world.files.get(file_id)
    if content is None:
        raise BotApiError(400, "Bad Request: invalid file_id")
    return {"file_id": file_id, "file_unique_id": file_id[-16:], "file_size": len(content), "file_path": file_id}


async def _true(world: SandboxWorld, p: Params) -> Any:
    return True


async def _me(world: SandboxWorld, p: Params) -> Any:
    return world.bot_user


async def _my_commands(world: SandboxWorld, p: Params) -> Any:
    return world.commands


METHODS: dict[str, Method] = {
    "getme": _me,
    "getupdates": get_updates,
    "sendmessage": send_message,
    "sendphoto": send_photo,
    "senddocument": send_document,
    "editmessagetext": edit_text,
    "editmessagereplymarkup": edit_markup,
    "deletemessage": delete_message,
    "answercallbackquery": answer_callback,
    "setmycommands": set_commands,
    "getmycommands": _my_commands,
    "deletemycommands": _true,
    "setwebhook": set_webhook,
    "deletewebhook": delete_webhook,
    "getwebhookinfo": webhook_info,
    "getchat": get_chat,
    "getfile": get_file,
    "sendchataction": _true,
    "setchatmenubutton": _true,
    "setmydescription": _true,
    "setmyshortdescription": _true,
    "logout": _true,
    "close": _true,
}


def _error(code: int, description: str, retry_after: int | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return web.json_response(body, status=code)


async def bot_api(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    if request.match_info["token"] != world.token:
        return _error(401, "Unauthorized")
    name = request.match_info["method"]
    method = METHODS.get(name.lower())
    if method is None:
        return _error(404, "Not Found: method not found")
    try:
        params = await _params(request)
        world.calls.append((name, params))
        result = await method(world, params)
    except BotApiError as exc:
        return _error(exc.code, exc.description, exc.retry_after)
    return web.json_response({"ok": True, "result": result})


async def file_download(request: web.Request) -> web.Response:
    """Telegram's ``/file/bot<token>/<file_path>``: the bytes of an uploaded photo or document."""
    world = request.app[WORLD]
    if request.match_info["token"] != world.token:
        return _error(401, "Unauthorized")
    content = world.files.get(request.match_info["path"])
    if content is None:
        return _error(404, "Not Found")
    return web.Response(body=content, content_type="application/octet-stream")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/botapi/file/bot{token}/{path}", file_download)
    app.router.add_route("*", "/botapi/bot{token}/{method}", bot_api)
