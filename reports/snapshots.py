"""A published month as stored: rendered once after its cut-off, then served unchanged.

Figures read columns that later changes rewrite (a 重办 clears ``resolved_at``), so a month computed
twice can differ. The first reader of a public month (the public page, its downloads, ``minsheng export
monthly``) renders page, CSV and Excel together and stores them; everyone after reads that row. The
dashboard reads a public month from here too, without storing it, so an officer never sees figures other
than the public's. Only ``withdraw`` (`minsheng publication reissue`) makes a month publish afresh.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from reports.figures import previous_month
from reports.html import render_html
from reports.publication import build_publication, publication_cut_off, published_months, render_csv, render_xlsx
from storage.models import PublicationSnapshot
from workflow.deadlines import Deadlines


@dataclass(frozen=True)
class PublicMonth:
    """A public month as the public reads it: the stored snapshot, or, until its first reader stores
    one, the very document that reader will store (``stored`` False)."""

    snapshot: PublicationSnapshot
    stored: bool


async def render_month(
    session: AsyncSession, month: date, months: list[date], deadlines: Deadlines, now: datetime
) -> PublicationSnapshot:
    """The month's page, CSV and Excel taken at its cut-off, as a snapshot not yet stored."""
    pub = await build_publication(session, month, deadlines.zone, as_of=publication_cut_off(month, deadlines))
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


async def public_month(session: AsyncSession, month: date, deadlines: Deadlines, now: datetime) -> PublicMonth | None:
    """The month as the public reads it (stored, or as it will be stored), storing nothing; None while
    it is not public: its cut-off has not passed, or the service had no complaint yet."""
    months = await published_months(session, deadlines, now)
    if month not in months:
        return None
    stored = await session.get(PublicationSnapshot, month)
    if stored is not None:
        return PublicMonth(stored, stored=True)
    return PublicMonth(await render_month(session, month, months, deadlines, now), stored=False)


async def publish(
    session: AsyncSession, month: date, months: list[date], deadlines: Deadlines, now: datetime
) -> PublicationSnapshot:
    """The public month ``month`` (one of ``months``, the published ones) as stored, storing it first if
    no one has: a concurrent first reader loses the insert on the primary key and reads the stored row."""
    stored = await session.get(PublicationSnapshot, month)
    if stored is not None:
        return stored
    fresh = await render_month(session, month, months, deadlines, now)
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


async def withdraw(session: AsyncSession, month: date) -> bool:
    """Withdraw a month's stored copy, e.g. after correcting its records; False if none was stored."""
    result = await session.execute(delete(PublicationSnapshot).where(PublicationSnapshot.month == month))
    await session.commit()
    return bool(result.rowcount)
