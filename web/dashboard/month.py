"""The home page's month: the publication's table of one month (every agency, its rank and score), as
printed cells.

A released month is shown from its publication (``reports.snapshots.released``: the stored document),
read back from the document's CSV (its problem types from its workbook), so an officer reads the very
figures the public reads whatever changed in the records since; a month not released yet is its preview
(``reports.preview``: built live, as of now, or as of its cut-off once that has passed: what releasing it
would store), read back from its CSV the same way: one ranking (``build_publication``) and one way of
printing cells for both. Headers are the publication's own (``reports.formatting.main_columns``, the ones
looked up by name in ``HEADERS``); nothing here names one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Row as Release
from sqlalchemy.ext.asyncio import AsyncSession

from reports.formatting import HEADERS, main_columns
from reports.preview import preview_publication
from reports.publication import PublishedTable, publication_cut_off, read_table, render_csv
from reports.snapshots import published_problem_types, release_history, released
from storage.models import Agency, PublicationSnapshot
from web.dashboard.queries import Viewer
from workflow.deadlines import Deadlines

Row = dict[str, str]
#: Shown without opening the full table: the ranking's columns (rank, rates, score, 末位) and these.
COMPACT_FIGURES = ("name", "received", "overdue", "last_three")
COMPACT_KINDS = ("rank", "rate", "score")


@dataclass(frozen=True)
class Column:
    header: str
    kind: str  # main_columns()' kind (rank, text, count, rate, change, score); "text" for extra columns
    compact: bool  # shown in the home page's default table


@dataclass(frozen=True)
class MonthView:
    columns: list[Column]  # every column of the publication's table, in its order
    rows: list[Row]  # oversight: the agencies with complaints, ranked; an agency viewer: its own row
    total: Row | None  # the 合计 line, for oversight only
    received: str
    problem_types: list[tuple[str, int]]
    as_of: datetime
    cut_off: datetime
    public: PublicationSnapshot | None  # the released month; None: not released
    releasable: bool  # past its cut-off, on the service, not released: waiting for an officer's 发布
    mark: str  # the header of the 末位 column: a row with a mark there is shown marked
    ranked: bool  # the rank is shown (an agency viewer's is not before the month is released)
    history: list[Release]  # oversight: the month's releases, newest first (``release_history``)

    @property
    def compact(self) -> list[Column]:
        return [column for column in self.columns if column.compact]


def table_columns(table: PublishedTable) -> list[Column]:
    """The table's columns as its CSV has them (main_columns() and what the CSV adds, 主要问题类型)."""
    kinds = {header: kind for header, kind, _ in main_columns()}
    compact = {HEADERS[name] for name in COMPACT_FIGURES}
    return [
        Column(header, kinds.get(header, "text"), kinds.get(header) in COMPACT_KINDS or header in compact)
        for header in table.total
    ]


Problems = list[tuple[str, int]]


async def month_table(
    session: AsyncSession, month: date, deadlines: Deadlines, now: datetime
) -> tuple[PublishedTable, PublicationSnapshot | None, datetime, Problems]:
    """The month's table: the released document's, or the preview's; with every problem type, as the
    public page's chart (and the workbook's 问题类型 sheet) lists them."""
    public = await released(session, month)
    if public is not None:
        return read_table(public.csv), public, publication_cut_off(month, deadlines), published_problem_types(public)
    pub = await preview_publication(session, month, deadlines, now)
    return read_table(render_csv(pub)), None, pub.as_of, pub.problem_types


async def month_view(
    session: AsyncSession, viewer: Viewer, month: date, deadlines: Deadlines, now: datetime, due: list[date]
) -> MonthView:
    """The month for this viewer: oversight sees every agency with complaints, the 合计 line, every
    problem type (as the public page) and the month's releases; an agency viewer its own row and its
    主要问题类型 cell, and no rank or 末位 before the month is released (a live rank could change).
    ``due``: ``due_months`` as of ``now``, which the home page also lists the waiting months from."""
    cut_off = publication_cut_off(month, deadlines)
    table, public, as_of, problems = await month_table(session, month, deadlines, now)
    name, received, mark = HEADERS["name"], HEADERS["received"], HEADERS["last_three"]
    columns = table_columns(table)
    summary: Row | None
    history: list[Release] = []
    if viewer.is_oversight:
        rows = [row for row in table.agencies if row[received] != "0"]
        summary, total = table.total, table.total
        history = await release_history(session, month)
    else:
        own = await session.get(Agency, viewer.agency_id) if viewer.agency_id is not None else None
        rows = [row for row in table.agencies if own is not None and row[name] == own.name]
        summary, total = (rows[0] if rows else None), None
        problems = PublishedTable.problem_types(summary) if summary else []
        if public is None:
            hidden = {column.header for column in columns if column.kind == "rank" or column.header == mark}
            columns = [column for column in columns if column.header not in hidden]
            rows = [{**row, **dict.fromkeys(hidden, "")} for row in rows]
    return MonthView(
        columns=columns,
        rows=rows,
        total=total,
        received=summary[received] if summary else "0",
        problem_types=problems,
        as_of=as_of,
        cut_off=cut_off,
        public=public,
        releasable=public is None and month in due,
        mark=mark,
        ranked=any(column.kind == "rank" for column in columns),
        history=history,
    )
