"""JSON API for integration (/api/v1/), documented in web/openapi.yaml.

Token auth: ``Authorization: Bearer <token>``; tokens are stored only as SHA-256 hashes in
``api_token``. An agency-scoped token sees only its agency's complaints and figures (others are 404,
as on the dashboard), and never personal data; a former owner of a complaint (首问 after the transfer
was accepted, or the owner before a ruling) gets only its summary, as in the bot and on the dashboard.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from multidict import MultiMapping
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from reports.figures import COUNT_FIELDS, AgencyFigures, monthly_figures
from reports.months import MONTH_HINT, month_of
from storage.db import create_session_factory
from storage.models import Agency, ApiToken, Complaint
from web.auth import api_token_hash
from web.dashboard.evidence import evidence_spans, shows_personal_data, visible
from web.dashboard.queries import (
    MAX_PAGE,
    BadFilter,
    ComplaintFilter,
    Viewer,
    agency_names,
    get_complaint,
    list_complaints,
    view_of,
)
from workflow.clock import Clock, SystemClock
from workflow.privacy import CitizenView
from workflow.queues import is_overdue

OPENAPI = Path(__file__).resolve().parent / "openapi.yaml"
MAX_PER_PAGE = 200
#: The list's parameters, as web/openapi.yaml names them.
PARAMETERS = frozenset({"agency", "status", "problem_type", "overdue", "major", "month", "page", "per_page"})
RATES = ("response_rate", "resolution_rate", "on_time_rate", "satisfaction_rate", "reopen_rate", "decline_rate")


@dataclass
class ApiServices:
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    zone: Any


API = web.AppKey("api_services", ApiServices)
routes = web.RouteTableDef()


def _error(status: int, code: str, message: str) -> web.HTTPException:
    """An HTTP error with a JSON body ``{"error": code, "message": ...}``."""
    kinds = {400: web.HTTPBadRequest, 401: web.HTTPUnauthorized, 404: web.HTTPNotFound}
    headers = {"WWW-Authenticate": 'Bearer realm="minsheng"'} if status == 401 else None
    return kinds[status](
        text=web.json_response({"error": code, "message": message}).text,
        content_type="application/json",
        headers=headers,
    )


async def _viewer(request: web.Request, session: AsyncSession) -> Viewer:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise _error(401, "unauthorized", "missing bearer token")
    # Tokens are ASCII; aiohttp keeps undecodable header bytes as surrogates, which cannot even be hashed.
    row = (
        await session.scalar(
            select(ApiToken).where(ApiToken.token_hash == api_token_hash(token), ApiToken.revoked_at.is_(None))
        )
        if token.isascii()
        else None
    )
    if row is None:
        raise _error(401, "unauthorized", "unknown or revoked token")
    return Viewer(row.role, row.agency_id)


def _whole(query: MultiMapping[str], name: str, default: int, maximum: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= maximum):
        raise BadFilter(f"{name}: use a whole number from 1 to {maximum}")
    return int(raw)


def _list_query(query: MultiMapping[str]) -> tuple[ComplaintFilter, int]:
    """The list's filter and page size exactly as the document describes them, or BadFilter naming the
    parameter: an unknown, repeated or empty parameter or a value out of range is refused, never ignored
    or clamped, so a typo never hands an integrator other complaints than it asked for. (The dashboard's
    forms are read more leniently by ``ComplaintFilter.parse``, which then reads the checked values.)"""
    for name, value in query.items():
        if name not in PARAMETERS:
            raise BadFilter(f"{name}: not a parameter of this list ({', '.join(sorted(PARAMETERS))})")
        if len(query.getall(name)) > 1:
            raise BadFilter(f"{name}: give it once")
        if not value or value != value.strip():
            raise BadFilter(f"{name}: empty, or spaces around the value")
    for name in ("overdue", "major"):
        if query.get(name, "true") not in ("true", "false"):
            raise BadFilter(f"{name}: use true or false")
    per_page = _whole(query, "per_page", 50, MAX_PER_PAGE)
    _whole(query, "page", 1, MAX_PAGE)
    return ComplaintFilter.parse(query), per_page


def _time(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _agency(agency: Agency | None) -> dict[str, str] | None:
    return {"code": agency.code, "name": agency.name} if agency else None


def _summary(complaint: Complaint, now: datetime) -> dict[str, Any]:
    return {
        "tracking_no": complaint.tracking_no,
        "status": complaint.status,
        "priority": complaint.priority,
        "area": complaint.area,
        "problem_types": [problem.problem_type for problem in complaint.problems],
        "owner_agency": _agency(complaint.owner_agency),
        "created_at": _time(complaint.created_at),
        "acknowledge_due_at": _time(complaint.acknowledge_due_at),
        "resolve_due_at": _time(complaint.resolve_due_at),
        "acknowledged_at": _time(complaint.acknowledged_at),
        "resolved_at": _time(complaint.resolved_at),
        "closed_at": _time(complaint.closed_at),
        "extended_days": complaint.extended_days,
        "overdue": is_overdue(complaint, now),
        "major": complaint.major,
        "anonymous": complaint.anonymous,
    }


@routes.get("/api/v1/complaints")
async def complaints(request: web.Request) -> web.Response:
    services = request.app[API]
    async with services.sessions() as session:
        viewer = await _viewer(request, session)
        try:
            wanted, per_page = _list_query(request.query)
        except BadFilter as exc:
            raise _error(400, "bad_filter", str(exc)) from None
        now = services.clock.now()
        items, total = await list_complaints(session, viewer, wanted, now=now, zone=services.zone, per_page=per_page)
        return web.json_response(
            {
                "items": [_summary(item, now) for item in items],
                "total": total,
                "page": wanted.page,
                "per_page": per_page,
            }
        )


@routes.get("/api/v1/complaints/{tracking_no}")
async def complaint(request: web.Request) -> web.Response:
    services = request.app[API]
    async with services.sessions() as session:
        viewer = await _viewer(request, session)
        found = await get_complaint(session, viewer, request.match_info["tracking_no"])
        if found is None:
            raise _error(404, "not_found", "no such complaint")
        now = services.clock.now()
        events = found.events
        ids = {i for e in events for i in (e.agency_id, e.from_agency_id, e.to_agency_id) if i is not None}
        agencies = await agency_names(session, ids)
        view = await view_of(session, viewer, found)
        full, words = view is CitizenView.FULL, view is not CitizenView.SUMMARY
        body = _summary(found, now) | {
            "view": view.value,
            "summary_only": not words,
            "text": visible(viewer, found, found.text) if words else None,
            "reply_text": visible(viewer, found, found.reply_text) if full else None,
            "first_contact_agency": _agency(found.first_contact_agency),
            "transfer_to_agency": _agency(found.transfer_to_agency),
            "location_text": found.location_text if full else None,
            "evidence": [
                {"kind": span.kind, "value": span.value, "start": span.start, "end": span.end}
                for span in evidence_spans(found)
            ]
            if shows_personal_data(viewer, found)  # offsets into the unmasked text only
            else [],
            "events": [
                {
                    "at": _time(event.at),
                    "action": event.action,
                    "actor_kind": event.actor_kind,
                    "agency": _agency(agencies.get(event.agency_id)) if event.agency_id else None,
                    "from_status": event.from_status,
                    "to_status": event.to_status,
                    "from_agency": _agency(agencies.get(event.from_agency_id)) if event.from_agency_id else None,
                    "to_agency": _agency(agencies.get(event.to_agency_id)) if event.to_agency_id else None,
                    "reason": visible(viewer, found, event.reason) if words else None,
                }
                for event in events
            ],
            "attachments": [
                {"kind": a.kind, "file_name": a.file_name, "mime_type": a.mime_type, "size": a.size}
                for a in found.attachments
                if full
            ],
            "citizen": _citizen(found) if shows_personal_data(viewer, found) else None,
        }
        return web.json_response(body)


def _citizen(complaint: Complaint) -> dict[str, Any]:
    name = complaint.citizen.display_name if complaint.citizen else None
    return {"display_name": name or None, "contact_phone": complaint.contact_phone}


def _figures_row(row: AgencyFigures) -> dict[str, Any]:
    return {
        "agency": {"code": row.code, "name": row.name} if row.code else None,
        "area": row.area,
        **{name: getattr(row, name) for name in COUNT_FIELDS},
        **{name: getattr(row, name) for name in RATES},
    }


@routes.get("/api/v1/figures/{month}")
async def figures(request: web.Request) -> web.Response:
    services = request.app[API]
    async with services.sessions() as session:
        viewer = await _viewer(request, session)
        month = month_of(request.match_info["month"])  # no spaces: the URL is taken as it is
        if month is None:
            raise _error(400, "bad_month", f"month: {MONTH_HINT}")
        scope = None if viewer.is_oversight else (viewer.agency_id if viewer.agency_id is not None else -1)
        result = await monthly_figures(session, month, services.zone, agency_id=scope, as_of=services.clock.now())
        return web.json_response(
            {
                "month": f"{month:%Y-%m}",
                "as_of": _time(result.as_of),
                "total": _figures_row(result.total),
                "agencies": [_figures_row(row) for row in result.agencies],
                "problem_types": [{"problem_type": name, "count": count} for name, count in result.problem_types],
            }
        )


@routes.get("/api/v1/openapi.yaml")
async def openapi(request: web.Request) -> web.Response:
    return web.Response(text=OPENAPI.read_text(encoding="utf-8"), content_type="application/yaml")


@web.middleware
async def json_errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Under /api/ every answer is JSON, also aiohttp's own for a path (404) or a method (405) it has no
    route for."""
    if not request.path.startswith("/api/"):
        return await handler(request)
    try:
        return await handler(request)
    except web.HTTPMethodNotAllowed as exc:
        if exc.content_type == "application/json":
            raise
        allowed = ", ".join(sorted(exc.allowed_methods))
        body = web.json_response({"error": "method_not_allowed", "message": f"use {allowed}"}).text
        raise web.HTTPMethodNotAllowed(
            exc.method, exc.allowed_methods, text=body, content_type="application/json"
        ) from None
    except web.HTTPNotFound as exc:
        if exc.content_type == "application/json":
            raise
        raise _error(404, "not_found", "no such resource") from None


def setup(app: web.Application) -> None:
    from web.app import ENGINE, SETTINGS

    app[API] = ApiServices(create_session_factory(app[ENGINE]), SystemClock(), app[SETTINGS].zone)
    app.middlewares.append(json_errors)
    app.add_routes(routes)
