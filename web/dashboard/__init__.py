"""The oversight dashboard (/dashboard/): login, queues, complaint pages, oversight actions and the
release (发布) of the monthly publication.

``setup(app)`` registers the routes, the static files and one middleware that, for /dashboard/ paths
only, opens the request's database session, reads the signed session cookie, requires a login and
checks the CSRF token on every POST.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import jinja2
from aiohttp import web
from sqlalchemy import select

from nlp.personal_data import excerpt
from storage.db import create_session_factory
from storage.models import WebUser
from web.auth import CSRF_FIELD, SESSION_COOKIE, SessionSigner, load_secret
from web.dashboard import actions, downloads, release, views
from web.dashboard.context import (
    DB,
    SERVICES,
    SESSION,
    STATIC,
    TEMPLATES,
    USER,
    Services,
    render,
    see_other,
    set_session_cookie,
)
from web.dashboard.messages import CSRF_FAILED
from workflow.clock import SystemClock

PREFIX = "/dashboard"
PUBLIC = {f"{PREFIX}/login"}
SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; style-src 'self'; script-src 'none'; frame-ancestors 'none'",
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def _load_user(request: web.Request) -> None:
    """The signed-in user, if the cookie names an active user who has neither changed the password nor
    logged out since."""
    session = request[SESSION]
    if session.user_id is None:
        return
    user = await request[DB].scalar(select(WebUser).where(WebUser.id == session.user_id))
    if user is None or not user.active:
        return
    if request.app[SERVICES].signer.user_mark(user.password_hash, user.session_epoch) == session.user_mark:
        request[USER] = user


async def _dashboard(request: web.Request, handler: Handler) -> web.StreamResponse:
    app_services = request.app[SERVICES]
    signer = app_services.signer
    session = signer.load(request.cookies.get(SESSION_COOKIE))
    fresh = session is None
    request[SESSION] = session or signer.new()
    async with app_services.sessions() as unit_of_work:
        request[DB] = unit_of_work
        await _load_user(request)
        if request.method == "POST":
            form = await request.post()
            token = form.get(CSRF_FIELD)
            if fresh or not signer.check_csrf(request[SESSION], token if isinstance(token, str) else None):
                response: web.StreamResponse = render(
                    request, "error.html", {"title": "请求无效", "message": CSRF_FAILED}, status=403
                )
            else:
                response = await _guarded(request, handler)
        else:
            response = await _guarded(request, handler)
    if fresh and SESSION_COOKIE not in response.cookies:
        set_session_cookie(response, request, request[SESSION])
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


async def _guarded(request: web.Request, handler: Handler) -> web.StreamResponse:
    if USER not in request and request.path not in PUBLIC:
        target = request.path_qs if request.method == "GET" else f"{PREFIX}/"
        return see_other(f"{PREFIX}/login?{_next(target)}")
    try:
        return await handler(request)
    except web.HTTPNotFound:
        return render(request, "error.html", {"title": "未找到", "message": "未找到该页面或投诉。"}, status=404)
    except web.HTTPException as exc:
        return web.Response(status=exc.status, text=exc.text, headers=exc.headers)


def _next(target: str) -> str:
    from urllib.parse import urlencode

    return urlencode({"next": target})


@web.middleware
async def dashboard_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path == PREFIX or (
        request.path.startswith(PREFIX + "/") and not request.path.startswith(PREFIX + "/static/")
    ):
        return await _dashboard(request, handler)
    return await handler(request)


def setup(app: web.Application) -> None:
    from web.app import ENGINE, SETTINGS

    settings = app[SETTINGS]
    templates = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined
    )
    zone = settings.zone
    templates.filters["local"] = lambda moment: moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment else "—"
    templates.filters["excerpt"] = excerpt
    templates.filters["pct"] = lambda rate: "—" if rate is None else f"{rate * 100:.1f}%"
    app[SERVICES] = Services(
        signer=SessionSigner(load_secret(settings)),
        sessions=create_session_factory(app[ENGINE]),
        templates=templates,
        clock=SystemClock(),
        settings=settings,
        secure_cookies=settings.web_secure_cookies,
    )
    app.middlewares.append(dashboard_middleware)
    app.router.add_get(PREFIX, _redirect_home)
    app.add_routes(views.routes)
    app.add_routes(actions.routes)
    app.add_routes(downloads.routes)
    app.add_routes(release.routes)
    app.router.add_static(f"{PREFIX}/static/", STATIC, name="dashboard_static")


async def _redirect_home(request: web.Request) -> web.StreamResponse:
    return see_other(f"{PREFIX}/")
