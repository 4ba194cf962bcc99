"""What every dashboard handler shares: app keys, the request's user and session, page rendering."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from minsheng.settings import Settings
from storage.models import WebRole, WebUser
from web.app import DEADLINES
from web.auth import CSRF_FIELD, SESSION_COOKIE, SESSION_LIFETIME, LoginThrottle, Session, SessionSigner
from web.dashboard import messages
from web.dashboard.queries import Viewer
from workflow.clock import Clock
from workflow.deadlines import Deadlines

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
STATIC = Path(__file__).resolve().parent.parent / "static"


@dataclass
class Services:
    """Built once in ``setup``; tests replace ``clock`` before the server starts."""

    signer: SessionSigner
    sessions: async_sessionmaker[AsyncSession]
    templates: jinja2.Environment
    clock: Clock
    settings: Settings
    secure_cookies: bool = False
    throttle: LoginThrottle = field(default_factory=LoginThrottle)


SERVICES = web.AppKey("dashboard_services", Services)
USER = web.RequestKey("dashboard_user", WebUser)
SESSION = web.RequestKey("dashboard_session", Session)
DB = web.RequestKey("dashboard_db", AsyncSession)


def services(request: web.Request) -> Services:
    return request.app[SERVICES]


def deadlines(request: web.Request) -> Deadlines:
    """workflow's working-day calendar, the one the whole web app shares."""
    return request.app[DEADLINES]


def current_user(request: web.Request) -> WebUser:
    return request[USER]


def viewer_of(user: WebUser) -> Viewer:
    return Viewer(user.role, user.agency_id)


def db(request: web.Request) -> AsyncSession:
    """The request's unit of work, opened by the middleware and closed after the response."""
    return request[DB]


def secure_request(request: web.Request) -> bool:
    """Secure cookies when configured (behind an HTTPS proxy) or when this request came over HTTPS."""
    return services(request).secure_cookies or request.secure


def set_session_cookie(response: web.StreamResponse, request: web.Request, session: Session) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        services(request).signer.dump(session),
        max_age=SESSION_LIFETIME,
        path="/",
        httponly=True,
        samesite="Lax",
        secure=secure_request(request),
    )


def render(
    request: web.Request, name: str, context: dict[str, Any] | None = None, *, status: int = 200
) -> web.Response:
    session: Session | None = request.get(SESSION)
    user: WebUser | None = request.get(USER)
    page = {
        "user": user,
        "is_oversight": user is not None and user.role == WebRole.OVERSIGHT,
        "csrf_field": CSRF_FIELD,
        "csrf_token": services(request).signer.csrf_token(session) if session else "",
        "m": messages,
        "path": request.path,
        **(context or {}),
    }
    html = services(request).templates.get_template(f"dashboard/{name}").render(page)
    return web.Response(text=html, status=status, content_type="text/html")


def see_other(location: str) -> web.Response:
    """A 303 as a plain response, so the middleware can still attach the session cookie."""
    return web.Response(status=303, headers={"Location": location})


def forbidden(request: web.Request) -> web.Response:
    return render(request, "error.html", {"title": "无权访问", "message": "您的账号无权访问此页面。"}, status=403)


def not_found(request: web.Request) -> web.Response:
    return render(request, "error.html", {"title": "未找到", "message": "未找到该页面或投诉。"}, status=404)
