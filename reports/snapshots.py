"""A released month as stored: the one way a month goes public.

After a month's cut-off an oversight officer reviews it (the dashboard shows it as a preview,
``reports.preview``) and releases it (the dashboard's 发布, or `minsheng publication release`). Releasing
renders page, CSV and Excel as of the cut-off and stores them with who released it; the public pages,
their downloads and `minsheng export monthly` read that row from then on. Figures read columns that
later changes rewrite (a 重办 clears ``resolved_at``), so a month computed twice can differ: a released
month is never recomputed. Only ``withdraw`` (`minsheng publication reissue`) takes a month back to
unreleased, to be reviewed and released again once its records are corrected; the withdrawn release is
kept for the office with who withdrew it, when and why, and the next release says it is a correction.
"""

from __future__ import annotations

import io
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

from openpyxl import load_workbook
from sqlalchemy import Row, exists, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from reports.figures import next_month, previous_month
from reports.html import with_nav
from reports.preview import headed_csv, heading_line, preview_file, preview_publication, preview_title
from reports.publication import build_publication, due_months, publication_cut_off, render_html, render_xlsx
from storage.models import PublicationSnapshot
from workflow.deadlines import Deadlines


class NotReleasable(Exception):
    """The month cannot be released, and nothing changed. ``reason``: ``before_cut_off`` (its cut-off,
    ``cut_off``, has not passed) or ``no_service`` (it ended before the service's first complaint)."""

    def __init__(self, month: date, reason: str, cut_off: datetime) -> None:
        super().__init__(f"{month:%Y-%m}: {reason}")
        self.month, self.reason, self.cut_off = month, reason, cut_off


@dataclass(frozen=True)
class Release:
    snapshot: PublicationSnapshot
    fresh: bool  # released by this call; False: it had been released already and nothing changed


_CURRENT = PublicationSnapshot.withdrawn_at.is_(None)


async def released(session: AsyncSession, month: date) -> PublicationSnapshot | None:
    """The month as released (its current release, not withdrawn), or None while it is not public."""
    return await session.scalar(select(PublicationSnapshot).where(PublicationSnapshot.month == month, _CURRENT))


async def released_months(session: AsyncSession) -> list[date]:
    """The public months, newest first."""
    query = select(PublicationSnapshot.month).where(_CURRENT).order_by(PublicationSnapshot.month.desc())
    return list(await session.scalars(query))


async def release_history(session: AsyncSession, month: date) -> list[Row]:
    """Every release of the month, newest first: who released it and when, and for a withdrawn one who
    withdrew it, when and why (the documents themselves are not loaded)."""
    query = (
        select(
            PublicationSnapshot.created_at,
            PublicationSnapshot.released_by,
            PublicationSnapshot.withdrawn_at,
            PublicationSnapshot.withdrawn_by,
            PublicationSnapshot.withdraw_reason,
        )
        .where(PublicationSnapshot.month == month)
        .order_by(PublicationSnapshot.created_at.desc(), PublicationSnapshot.id.desc())
    )
    return list(await session.execute(query))


async def waiting_months(session: AsyncSession, due: list[date]) -> list[date]:
    """The months of ``due`` (``due_months``: past their cut-off) that no one has released yet, newest first."""
    public = set(await released_months(session))
    return [month for month in due if month not in public]


def correction_note(now: datetime, deadlines: Deadlines) -> str:
    """What a month released again after a withdrawal says on its page and in its CSV."""
    day = now.astimezone(deadlines.zone).date()
    return f"本月公示已于{day.year}年{day.month}月{day.day}日更正。"


def month_links(month: date, public: Collection[date]) -> dict[str, str | None]:
    """A month's page's navigation: the index, the month before and after while ``public`` has them (never
    a link to a 404), the downloads."""
    before, after = previous_month(month), next_month(month)
    return {
        "index": "/publication/",
        "previous": f"/publication/{before:%Y-%m}" if before in public else None,
        "next": f"/publication/{after:%Y-%m}" if after in public else None,
        "csv": f"/publication/{month:%Y-%m}.csv",
        "xlsx": f"/publication/{month:%Y-%m}.xlsx",
    }


async def public_page(session: AsyncSession, snapshot: PublicationSnapshot) -> str:
    """The released page as stored, its 上月/下月 as the months public now: the figures are fixed at
    release, but the month before may be released later, and a month next to it withdrawn."""
    return with_nav(snapshot.html, month_links(snapshot.month, set(await released_months(session))))


async def render_month(session: AsyncSession, month: date, deadlines: Deadlines, now: datetime) -> PublicationSnapshot:
    """The month's page, CSV and Excel taken at its cut-off, as a snapshot not yet stored (its navigation
    as of now; ``public_page`` serves it as of each request); a month released before (and withdrawn) says
    it was corrected today."""
    cut_off = publication_cut_off(month, deadlines)
    pub = await build_publication(session, month, deadlines.zone, as_of=cut_off)
    links = month_links(month, await released_months(session))
    withdrawn = await session.scalar(select(exists().where(PublicationSnapshot.month == month, ~_CURRENT)))
    note = correction_note(now, deadlines) if withdrawn else ""
    return PublicationSnapshot(
        month=month,
        html=render_html(pub, links=links, note=note),
        csv=headed_csv(pub, heading_line(pub, cut_off) + note),
        xlsx=render_xlsx(pub),
        created_at=now,
    )


async def require_releasable(session: AsyncSession, month: date, deadlines: Deadlines, now: datetime) -> datetime:
    """The month's cut-off, if the month may be released now (whether or not it has been); else raises
    ``NotReleasable``."""
    cut_off = publication_cut_off(month, deadlines)
    if now < cut_off:
        raise NotReleasable(month, "before_cut_off", cut_off)
    if month not in await due_months(session, deadlines, now):
        raise NotReleasable(month, "no_service", cut_off)
    return cut_off


async def release(session: AsyncSession, month: date, deadlines: Deadlines, now: datetime, by: str) -> Release:
    """Make the month public: render it as of its cut-off and store it, recording ``by`` and ``now``.
    Idempotent: a released month is returned as it is (``fresh`` False), also to the loser of two
    concurrent releases, whose insert gives way on the month's one current row. Raises ``NotReleasable``."""
    stored = await released(session, month)
    if stored is not None:
        return Release(stored, fresh=False)
    await require_releasable(session, month, deadlines, now)
    fresh = await render_month(session, month, deadlines, now)
    dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
    result = await session.execute(
        dialect.insert(PublicationSnapshot)
        .values(month=month, html=fresh.html, csv=fresh.csv, xlsx=fresh.xlsx, created_at=now, released_by=by)
        .on_conflict_do_nothing(index_elements=[PublicationSnapshot.month], index_where=_CURRENT)
    )
    await session.commit()
    stored = await released(session, month)
    assert stored is not None
    return Release(stored, fresh=bool(result.rowcount))


async def withdraw(session: AsyncSession, month: date, now: datetime, by: str, reason: str) -> bool:
    """Take a released month back to unreleased, e.g. to correct its records, keeping the withdrawn
    release with ``by``, ``now`` and ``reason``; False if it was not released."""
    result = await session.execute(
        update(PublicationSnapshot)
        .where(PublicationSnapshot.month == month, _CURRENT)
        .values(withdrawn_at=now, withdrawn_by=by, withdraw_reason=reason)
    )
    await session.commit()
    return bool(result.rowcount)


def published_problem_types(snapshot: PublicationSnapshot) -> list[tuple[str, int]]:
    """Every problem type of the released month with its count, as its page's chart shows them: read
    from its workbook's 问题类型 sheet (the CSV's 合计 cell has the first three only)."""
    book = load_workbook(io.BytesIO(snapshot.xlsx), read_only=True)
    rows = book["问题类型"].iter_rows(min_row=2, max_col=2, values_only=True)
    return [(str(name), int(count)) for name, count in rows if name is not None]


@dataclass(frozen=True)
class MonthFile:
    body: bytes
    name: str  # the ASCII file name without extension
    title: str | None  # a preview's Chinese name; None for the publication (named as the public names it)


async def month_file(session: AsyncSession, month: date, deadlines: Deadlines, now: datetime, ext: str) -> MonthFile:
    """The month's CSV, Excel or page for the office: the released document, else the marked preview."""
    stored = await released(session, month)
    if stored is not None:
        body = {"csv": stored.csv, "xlsx": stored.xlsx, "html": stored.html.encode("utf-8")}[ext]
        return MonthFile(body, f"publication-{month:%Y-%m}", None)
    pub = await preview_publication(session, month, deadlines, now)
    body = preview_file(pub, publication_cut_off(month, deadlines), ext)
    return MonthFile(body, f"publication-{month:%Y-%m}-preview", preview_title(pub))
