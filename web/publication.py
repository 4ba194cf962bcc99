"""The public monthly publication: an index of months, each month as a page, CSV and Excel downloads.

No login: nothing shown here is text written by a citizen or a clerk (see ``reports.publication``).
A month is public only once its cut-off has passed (``publication_cutoff_working_days`` in the policy),
is taken as of that cut-off, and is stored as first served (``PublicationSnapshot``), so every visitor at
any later time gets the same document, whatever later happens to the records. The dashboard shows a
public month through ``public_month``: the same document, never figures of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from reports.figures import previous_month
from reports.html import render_html, render_index, render_not_found
from reports.publication import (
    build_publication,
    is_published,
    publication_cut_off,
    published_months,
    render_csv,
    render_xlsx,
)
from storage.db import create_session_factory
from storage.models import PublicationSnapshot
from web.app import DEADLINES, ENGINE, SETTINGS
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


@dataclass(frozen=True)
class PublicMonth:
    """A public month as its page serves it: the stored snapshot, or, until its first request stores
    one, the very document that request will store (``stored`` False)."""

    snapshot: PublicationSnapshot
    stored: bool


async def render_month(
    session: AsyncSession, month: date, months: list[date], deadlines: Deadlines, zone: ZoneInfo, now: datetime
) -> PublicationSnapshot:
    """The month's page, CSV and Excel taken at its cut-off, as a snapshot not yet stored: what a first
    request stores and what the dashboard shows of a public month until then."""
    pub = await build_publication(session, month, zone, as_of=publication_cut_off(month, deadlines))
    before = previous_month(month)
    links = {
        "index": "/publication/",
        "previous": f"/publication/{before:%Y-%m}" if before in months else None,
        "csv": f"/publication/{pub.slug}.csv",
        "xlsx": f"/publication/{pub.slug}.xlsx",
    }
    return PublicationSnapshot(
        month=month, html=render_html(pub, links=links), csv=render_csv(pub), xlsx=render_xlsx(pub), created_at=now
    )


async def public_month(
    session: AsyncSession, month: date, deadlines: Deadlines, zone: ZoneInfo, now: datetime
) -> PublicMonth | None:
    """The month as the public reads it (stored, or as it will be stored); None while it is not public:
    its cut-off has not passed, or the service had no complaint yet. The dashboard reads a public month
    from here, so an officer never sees other figures than the public page."""
    months = await published_months(session, deadlines, now)
    if month not in months:
        return None
    stored = await session.get(PublicationSnapshot, month)
    if stored is not None:
        return PublicMonth(stored, stored=True)
    return PublicMonth(await render_month(session, month, months, deadlines, zone, now), stored=False)


async def _snapshot(request: web.Request, month: date, months: list[date]) -> PublicationSnapshot:
    """The month as first served after its cut-off, stored so that it never changes: figures read columns
    that later changes rewrite (a 重办 clears ``resolved_at``). The first request renders page, CSV and
    Excel together and stores them; a concurrent first request loses the insert on the primary key and
    serves the stored row. Only `minsheng publication reissue` makes a month publish afresh."""
    async with create_session_factory(request.app[ENGINE])() as session:
        stored = await session.get(PublicationSnapshot, month)
        if stored is not None:
            return stored
        now = request.app[CLOCK].now()
        fresh = await render_month(session, month, months, request.app[DEADLINES], request.app[SETTINGS].zone, now)
        dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
        await session.execute(
            dialect.insert(PublicationSnapshot)
            .values(month=month, html=fresh.html, csv=fresh.csv, xlsx=fresh.xlsx, created_at=now)
            .on_conflict_do_nothing(index_elements=[PublicationSnapshot.month])
        )
        await session.commit()
        stored = await session.get(PublicationSnapshot, month)
        assert stored is not None
        return stored


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
