"""The public monthly publication: an index of months, each month as a page, CSV and Excel downloads.

No login: nothing shown here is text written by a citizen or a clerk (see ``reports.publication``).
A month is public only once its cut-off has passed (``publication_cutoff_working_days`` in the policy),
and it is always taken as of that cut-off, so every visitor at any later time gets the same figures.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta

from aiohttp import web

from reports.figures import previous_month
from reports.html import render_html, render_index, render_not_found
from reports.publication import (
    Publication,
    build_publication,
    is_published,
    publication_cut_off,
    published_months,
    render_csv,
    render_xlsx,
)
from storage.db import create_session_factory
from web.app import ENGINE, SETTINGS
from workflow.clock import Clock, SystemClock
from workflow.deadlines import Deadlines

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


class PublicationCache:
    """A month's publication is reused for a few minutes: the page needs no login, so a burst of visitors
    (or a crawler) must not become a burst of month-wide GROUP BY queries. One computation at a time per
    month; the others wait for it. Recomputing gives the same figures (the cut-off is fixed); it only
    picks up corrections to the records."""

    def __init__(self, ttl: timedelta = timedelta(minutes=5)) -> None:
        self.ttl = ttl
        self.entries: dict[date, tuple[datetime, Publication]] = {}
        self.locks: dict[date, asyncio.Lock] = {}

    async def get(self, request: web.Request, month: date) -> Publication:
        now = request.app[CLOCK].now()
        async with self.locks.setdefault(month, asyncio.Lock()):
            computed_at, cached = self.entries.get(month, (None, None))
            if cached is not None and computed_at is not None and timedelta(0) <= now - computed_at < self.ttl:
                return cached
            as_of = publication_cut_off(month, request.app[DEADLINES])
            async with create_session_factory(request.app[ENGINE])() as session:
                pub = await build_publication(session, month, request.app[SETTINGS].zone, as_of=as_of)
            self.entries[month] = (now, pub)
            return pub


CACHE = web.AppKey("publication_cache", PublicationCache)
DEADLINES = web.AppKey("publication_deadlines", Deadlines)


async def _publication(request: web.Request, month: date) -> Publication:
    return await request.app[CACHE].get(request, month)


@routes.get("/publication")
@routes.get("/publication/")
async def index(request: web.Request) -> web.Response:
    async with create_session_factory(request.app[ENGINE])() as session:
        months = await published_months(session, request.app[DEADLINES], request.app[CLOCK].now())
    return web.Response(text=render_index(months), content_type="text/html")


@routes.get(f"/publication/{_MONTH}")
async def month_page(request: web.Request) -> web.Response:
    month, months = await _month(request)
    pub = await _publication(request, month)
    slug = pub.slug
    before = previous_month(month)
    links = {
        "index": "/publication/",
        "previous": f"/publication/{before:%Y-%m}" if before in months else None,
        "csv": f"/publication/{slug}.csv",
        "xlsx": f"/publication/{slug}.xlsx",
    }
    return web.Response(text=render_html(pub, links=links), content_type="text/html")


@routes.get(f"/publication/{_MONTH}.{{ext:csv|xlsx}}")
async def month_download(request: web.Request) -> web.Response:
    month, _ = await _month(request)
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


@routes.get("/publication/{rest:.*}")
async def unknown(request: web.Request) -> web.Response:
    """Anything else under /publication/ is a 404 in the pages' layout, with the way back."""
    raise _not_found("没有这个页面。")


def setup(app: web.Application) -> None:
    settings = app[SETTINGS]
    app[CLOCK] = SystemClock()
    # The working-day calendar each month's cut-off is counted in.
    app[DEADLINES] = Deadlines.load(settings.policy_path, settings.holidays_path, settings.zone)
    app[CACHE] = PublicationCache()
    app.add_routes(routes)
