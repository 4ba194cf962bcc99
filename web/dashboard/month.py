"""The home page's month: the figures of one month, per agency, as a table of printed cells.

A public month is shown from its publication (``reports.snapshots.public_month``: the stored document,
or the one its first request will store), read back from the document's CSV, so an officer reads the
very figures the public reads whatever changed in the records since; a month not public yet is taken
live, as of now. Either way the cells are printed like the publication's table prints them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from reports.figures import AgencyFigures, monthly_figures
from reports.formatting import percent
from reports.publication import PublishedTable, publication_cut_off, read_table
from reports.snapshots import PublicMonth, public_month
from storage.models import Agency
from web.dashboard.queries import Viewer
from workflow.deadlines import Deadlines

#: (header in the publication's table, the home page's label)
COLUMNS = (
    ("收到量", "收到"),
    ("已办结", "办结"),
    ("按期办结", "按期办结"),
    ("超期", "超期"),
    ("延期", "延期"),
    ("满意率", "满意率"),
)
Row = dict[str, str]


@dataclass(frozen=True)
class MonthView:
    rows: list[Row]  # oversight: the agencies with complaints; an agency viewer: its own row
    total: Row | None  # the 合计 line, for oversight only
    received: str
    problem_types: list[tuple[str, int]]
    as_of: datetime
    cut_off: datetime
    public: PublicMonth | None  # None: not public yet


def printed(row: AgencyFigures) -> Row:
    """Live figures as the publication's table prints them."""
    return {
        "单位": row.name,
        "收到量": str(row.received),
        "已办结": str(row.resolved),
        "按期办结": str(row.resolved_on_time),
        "超期": str(row.overdue),
        "延期": str(row.extensions),
        "满意率": percent(row.satisfaction_rate),
    }


async def month_view(
    session: AsyncSession, viewer: Viewer, month: date, deadlines: Deadlines, now: datetime
) -> MonthView:
    """The month for this viewer: oversight sees every agency with complaints and the 合计 line, an agency
    viewer its own row. A public month's problem types are the three its table publishes."""
    cut_off = publication_cut_off(month, deadlines)
    public = await public_month(session, month, deadlines, now)
    if public is not None:
        table = read_table(public.snapshot.csv)
        summary: Row | None
        total: Row | None
        if viewer.is_oversight:
            rows = [row for row in table.agencies if row["收到量"] != "0"]
            summary = total = table.total
        else:
            own = await session.get(Agency, viewer.agency_id) if viewer.agency_id is not None else None
            rows = [row for row in table.agencies if own is not None and row["单位"] == own.name]
            summary, total = (rows[0] if rows else None), None
        received = summary["收到量"] if summary else "0"
        problems = PublishedTable.problem_types(summary) if summary else []
        return MonthView(rows, total, received, problems, cut_off, cut_off, public)
    scope = None if viewer.is_oversight else (viewer.agency_id if viewer.agency_id is not None else -1)
    figures = await monthly_figures(session, month, deadlines.zone, agency_id=scope, as_of=min(now, cut_off))
    rows = [printed(row) for row in figures.agencies if row.received or not viewer.is_oversight]
    total = printed(figures.total) if viewer.is_oversight else None
    return MonthView(rows, total, str(figures.total.received), figures.problem_types[:8], figures.as_of, cut_off, None)
