"""The public monthly publication: an index of months, each month as a page, CSV and Excel downloads.

No login: nothing shown here is text written by a citizen or a clerk (see ``reports.publication``).
Only released months are public (``reports.snapshots``: an oversight officer releases a month after its
cut-off, as of that cut-off): every visitor at any later time gets the stored document, whatever later
happens to the records; only its 上月/下月 links follow which months are public now (``public_page``).
A month past its cut-off but not released yet is a 404 that says so.
"""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from reports.html import render_index, render_not_found
from reports.months import month_of
from reports.publication import due_months, past_cut_off
from reports.snapshots import public_page, released, released_months
from storage.agencies import catalogue_region
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


async def _released(request: web.Request, session: AsyncSession) -> PublicationSnapshot:
    """The released month in the URL; anything else is not found, saying why: a malformed month, one
    whose cut-off has not passed, one under review (past its cut-off, not released yet), or one before
    the service's first complaint."""
    month = month_of(request.match_info["month"])
    if month is None:
        raise _not_found("没有这个月份的公示。")
    now, calendar = request.app[CLOCK].now(), request.app[DEADLINES]
    snapshot = await released(session, month)
    if snapshot is not None:
        return snapshot
    due = month in await due_months(session, calendar, now)
    name = f"{month.year}年{month.month}月"
    if due:
        raise _not_found(f"{name}的公示正在核对，尚未发布，请稍后再来查看。")
    if not past_cut_off(month, calendar, now):
        raise _not_found(f"{name}的公示尚未发布：每月数据在月末后规定的工作日截止，经核对后发布。")
    raise _not_found(f"{name}本平台尚未开始受理投诉，没有公示。")


@routes.get("/publication")
@routes.get("/publication/")
async def index(request: web.Request) -> web.Response:
    async with create_session_factory(request.app[ENGINE])() as session:
        months = await released_months(session)
        region = await catalogue_region(session)
    return web.Response(text=render_index(months, region=region), content_type="text/html")


@routes.get(f"/publication/{_MONTH}")
async def month_page(request: web.Request) -> web.Response:
    async with create_session_factory(request.app[ENGINE])() as session:
        page = await public_page(session, await _released(request, session))
    return web.Response(text=page, content_type="text/html")


@routes.get(f"/publication/{_MONTH}.{{ext:csv|xlsx}}")
async def month_download(request: web.Request) -> web.Response:
    async with create_session_factory(request.app[ENGINE])() as session:
        snapshot = await _released(request, session)
    extension = request.match_info["ext"]
    return web.Response(
        body=snapshot.csv if extension == "csv" else snapshot.xlsx,
        headers={
            "Content-Type": _CONTENT_TYPES[extension],
            "Content-Disposition": f'attachment; filename="publication-{snapshot.month:%Y-%m}.{extension}"',
        },
    )


@routes.get("/publication/{rest:.*}")
async def unknown(request: web.Request) -> web.Response:
    """Anything else under /publication/ is a 404 in the pages' layout, with the way back."""
    raise _not_found("没有这个页面。")


def setup(app: web.Application) -> None:
    app[CLOCK] = SystemClock()
    app.add_routes(routes)
