"""The public monthly publication: an index of months, each month as a page, CSV and Excel downloads.

No login: nothing shown here is text written by a citizen or a clerk (see ``reports.publication``).
A month is public only once its cut-off has passed (``publication_cutoff_working_days`` in the policy),
is taken as of that cut-off, and is stored as first served (``PublicationSnapshot``), so every visitor at
any later time gets the same document, whatever later happens to the records (``reports.snapshots``).
"""

from __future__ import annotations

from datetime import date, datetime

from aiohttp import web

from reports.html import render_index, render_not_found
from reports.publication import is_published, published_months
from reports.snapshots import publish
from storage.db import create_session_factory
from storage.models import PublicationSnapshot
from web.app import DEADLINES, ENGINE
from workflow.clock import Clock, SystemClock

#: The moment the figures are taken at; tests replace it before the server starts.
CLOCK = web.AppKey("publication_clock", Clock)
routes = web.RouteTableDef()
_MONTH = r"{month:\d{4}-\d{2}}"
_CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _not_found(message: str) -> web.HTTPNotFound:
    return web.HTTPNotFound(text=render_not_found(message), content_type="text/html")


async def _month(request: web.Request) -> tuple[date, list[date]]:
    """The month in the URL and all published months; a malformed month, one whose cut-off has not passed
    yet, or one before the service's first complaint is not found."""
    try:
        month = datetime.strptime(request.match_info["month"], "%Y-%m").date()
    except ValueError:
        raise _not_found("没有这个月份的公示。") from None
    if not is_published(month, request.app[DEADLINES], request.app[CLOCK].now()):
        raise _not_found(f"{month.year}年{month.month}月的公示尚未发布：每月数据在月末后规定的工作日截止后公布。")
    async with create_session_factory(request.app[ENGINE])() as session:
        months = await published_months(session, request.app[DEADLINES], request.app[CLOCK].now())
    if month not in months:
        raise _not_found(f"{month.year}年{month.month}月本平台尚未开始受理投诉，没有公示。")
    return month, months


async def _snapshot(request: web.Request, month: date, months: list[date]) -> PublicationSnapshot:
    async with create_session_factory(request.app[ENGINE])() as session:
        return await publish(session, month, months, request.app[DEADLINES], request.app[CLOCK].now())


@routes.get("/publication")
@routes.get("/publication/")
async def index(request: web.Request) -> web.Response:
    async with create_session_factory(request.app[ENGINE])() as session:
        months = await published_months(session, request.app[DEADLINES], request.app[CLOCK].now())
    return web.Response(text=render_index(months), content_type="text/html")


@routes.get(f"/publication/{_MONTH}")
async def month_page(request: web.Request) -> web.Response:
    month, months = await _month(request)
    return web.Response(text=(await _snapshot(request, month, months)).html, content_type="text/html")


@routes.get(f"/publication/{_MONTH}.{{ext:csv|xlsx}}")
async def month_download(request: web.Request) -> web.Response:
    month, months = await _month(request)
    snapshot = await _snapshot(request, month, months)
    extension = request.match_info["ext"]
    return web.Response(
        body=snapshot.csv if extension == "csv" else snapshot.xlsx,
        headers={
            "Content-Type": _CONTENT_TYPES[extension],
            "Content-Disposition": f'attachment; filename="publication-{month:%Y-%m}.{extension}"',
        },
    )


@routes.get("/publication/{rest:.*}")
async def unknown(request: web.Request) -> web.Response:
    """Anything else under /publication/ is a 404 in the pages' layout, with the way back."""
    raise _not_found("没有这个页面。")


def setup(app: web.Application) -> None:
    app[CLOCK] = SystemClock()
    app.add_routes(routes)
