"""The public monthly publication: an index of months, each month as a page, CSV and Excel downloads.

No login: everything shown here has been through the publication's redaction and carries no
citizen's identity. Figures are taken as of the moment of the request (the page prints it).
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta

from aiohttp import web

from reports.figures import month_bounds, previous_month
from reports.html import render_html, render_index
from reports.publication import Publication, build_publication, published_months, render_csv, render_xlsx
from storage.db import create_session_factory
from web.app import ENGINE, SETTINGS
from workflow.clock import Clock, SystemClock

#: The moment the figures are taken at; tests replace it before the server starts.
CLOCK = web.AppKey("publication_clock", Clock)
routes = web.RouteTableDef()
_MONTH = r"{month:\d{4}-\d{2}}"
_CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _month(request: web.Request) -> date:
    """The month in the URL; a month that has not begun yet, or a malformed one, is not found."""
    try:
        month = datetime.strptime(request.match_info["month"], "%Y-%m").date()
    except ValueError:
        raise web.HTTPNotFound(text="没有这个月份的公示") from None
    start, _ = month_bounds(month, request.app[SETTINGS].zone)
    if start > request.app[CLOCK].now():
        raise web.HTTPNotFound(text="该月份尚未开始")
    return month


class PublicationCache:
    """A month's publication is reused for a few minutes: the page needs no login, so a burst of visitors
    (or a crawler) must not become a burst of month-wide GROUP BY queries. One computation at a time per
    month; the others wait for it."""

    def __init__(self, ttl: timedelta = timedelta(minutes=5)) -> None:
        self.ttl = ttl
        self.entries: dict[date, Publication] = {}
        self.locks: dict[date, asyncio.Lock] = {}

    async def get(self, request: web.Request, month: date) -> Publication:
        now = request.app[CLOCK].now()
        async with self.locks.setdefault(month, asyncio.Lock()):
            cached = self.entries.get(month)
            if cached is not None and timedelta(0) <= now - cached.as_of < self.ttl:
                return cached
            async with create_session_factory(request.app[ENGINE])() as session:
                pub = await build_publication(session, month, request.app[SETTINGS].zone, as_of=now)
            self.entries[month] = pub
            return pub


CACHE = web.AppKey("publication_cache", PublicationCache)


async def _publication(request: web.Request, month: date) -> Publication:
    return await request.app[CACHE].get(request, month)


@routes.get("/publication")
@routes.get("/publication/")
async def index(request: web.Request) -> web.Response:
    async with create_session_factory(request.app[ENGINE])() as session:
        months = await published_months(session, request.app[SETTINGS].zone, until=request.app[CLOCK].now())
    return web.Response(text=render_index(months), content_type="text/html")


@routes.get(f"/publication/{_MONTH}")
async def month_page(request: web.Request) -> web.Response:
    month = _month(request)
    pub = await _publication(request, month)
    slug = pub.slug
    links = {
        "index": "/publication/",
        "previous": f"/publication/{previous_month(month):%Y-%m}",
        "csv": f"/publication/{slug}.csv",
        "xlsx": f"/publication/{slug}.xlsx",
    }
    return web.Response(text=render_html(pub, links=links), content_type="text/html")


@routes.get(f"/publication/{_MONTH}.{{ext:csv|xlsx}}")
async def month_download(request: web.Request) -> web.Response:
    month = _month(request)
    pub = await _publication(request, month)
    extension = request.match_info["ext"]
    body = render_csv(pub) if extension == "csv" else render_xlsx(pub)
    return web.Response(
        body=body,
        headers={
            "Content-Type": _CONTENT_TYPES[extension],
            "Content-Disposition": f'attachment; filename="publication-{pub.slug}.{extension}"',
        },
    )


def setup(app: web.Application) -> None:
    app[CLOCK] = SystemClock()
    app[CACHE] = PublicationCache()
    app.add_routes(routes)
