"""The JSON the chat page uses to play a Telegram user: who exists, what changed, send, press."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from web.sandbox.botapi import WORLD
from web.sandbox.world import BotApiError, SandboxWorld

STATIC = Path(__file__).parent / "static"
USER_KINDS = ("text", "sticker", "voice", "photo", "document", "location")


def _world(request: web.Request) -> SandboxWorld:
    return request.app[WORLD]


def _user_id(request: web.Request) -> int:
    try:
        user_id = int(request.match_info["user_id"])
    except ValueError:
        raise web.HTTPNotFound() from None
    if user_id not in _world(request).users:
        raise web.HTTPNotFound(text="no such sandbox user")
    return user_id


async def page(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})


async def list_users(request: web.Request) -> web.Response:
    users = _world(request).users.values()
    return web.json_response(
        [{"id": u.id, "first_name": u.first_name, "language_code": u.language_code, "role": u.role} for u in users]
    )


async def add_user(request: web.Request) -> web.Response:
    body = await request.json()
    name = str(body.get("first_name") or "").strip()[:64]
    if not name:
        raise web.HTTPBadRequest(text="first_name is required")
    role = "agency" if body.get("role") == "agency" else "citizen"
    user = _world(request).add_user(name, str(body.get("language_code") or "zh-hans")[:10], role)
    return web.json_response({"id": user.id, "first_name": user.first_name, "role": user.role})


async def changes(request: web.Request) -> web.Response:
    user_id = _user_id(request)
    since = int(request.query.get("since", "0"))
    wait = min(float(request.query.get("wait", "0")), 25.0)
    epoch = request.query.get("epoch") or None
    return web.json_response(await _world(request).changes(user_id, since, wait=wait, epoch=epoch))


def _location(body: dict) -> tuple[float, float]:
    """A location as Telegram allows it: latitude within ±90, longitude within ±180."""
    try:
        latitude, longitude = float(body["latitude"]), float(body["longitude"])
    except (KeyError, TypeError, ValueError):
        raise web.HTTPBadRequest(text="a location needs a latitude and a longitude") from None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise web.HTTPBadRequest(text="latitude must be within ±90 and longitude within ±180")
    return latitude, longitude


async def send(request: web.Request) -> web.Response:
    user_id = _user_id(request)
    world = _world(request)
    if request.content_type.startswith("multipart/"):
        form = await request.post()
        upload = form.get("file")
        kind = "photo" if str(form.get("kind")) == "photo" else "document"
        name = getattr(upload, "filename", None) or "file"
        content = upload.file.read() if isinstance(upload, web.FileField) else None
        caption = str(form.get("caption") or "")
        update_id = await world.user_sends(user_id, caption, kind=kind, file_name=name, content=content)
        return web.json_response({"update_id": update_id})
    body = await request.json()
    kind = str(body.get("kind") or "text")
    if kind not in USER_KINDS:
        raise web.HTTPBadRequest(text=f"kind must be one of {', '.join(USER_KINDS)}")
    location = _location(body) if kind == "location" else None
    update_id = await world.user_sends(user_id, str(body.get("text") or ""), kind=kind, location=location)
    return web.json_response({"update_id": update_id})


async def press(request: web.Request) -> web.Response:
    user_id = _user_id(request)
    body = await request.json()
    try:
        update_id = await _world(request).user_presses(user_id, int(body["message_id"]), str(body["data"]))
    except (KeyError, ValueError, BotApiError) as exc:
        raise web.HTTPBadRequest(text=f"cannot press: {exc}") from None
    return web.json_response({"update_id": update_id})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", page)
    app.router.add_get("/api/users", list_users)
    app.router.add_post("/api/users", add_user)
    app.router.add_get("/api/chats/{user_id}", changes)
    app.router.add_post("/api/chats/{user_id}/messages", send)
    app.router.add_post("/api/chats/{user_id}/press", press)
