"""The monthly publication (投诉情况每月公示): the month's figures assembled into the views that are
printed, downloaded and shown on the public page.

Nothing here carries free text written by a citizen or a clerk: no redactor can be trusted to find every
name, plate, shop or door number in free text, so a typical case is published as structured facts only
(agency, problem types, dates, flags, the rating). A month is taken as of a fixed cut-off
(``publication_cut_off``) and goes public only when an oversight officer releases it
(``reports.snapshots.release``), so every later download of it is the same.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from reports.counts import C, Scope, replies_by_cut_off, resolved_by_cut_off
from reports.definitions import definitions_text
from reports.figures import MonthFigures, figures_for_months, month_bounds, next_month, previous_month
from reports.overdue import Period, missed_deadline
from reports.ranking import Change, Ranked, change, rank_agencies
from storage.agencies import catalogue_region
from storage.models import (
    Agency,
    Citizen,
    Complaint,
    ComplaintEvent,
    ComplaintProblem,
    Evaluation,
    EvaluationKind,
    EventAction,
)
from storage.vocabulary import EVALUATION_DIMENSIONS
from workflow.deadlines import Deadlines

TYPICAL_CASES = 3
#: Marks every rendering of a month not released yet: the office's preview, never the publication.
PREVIEW_MARK = "预览，尚未公示"
UNRATED = "未评价"


@dataclass(frozen=True)
class TypicalCase:
    """A resolved complaint as the public may read it: facts only, never the complaint's or the reply's
    text, no tracking number. Flags count what happened up to the publication's cut-off."""

    agency: str
    problem_types: list[str]
    received_on: date
    due_on: date | None  # 办结时限 (with approved extensions)
    resolved_on: date | None
    on_time: bool | None  # no deadline missed by the cut-off (``missed_deadline``); None: no time limit was set
    extensions: int  # 延期 approved
    transfers: int  # 转办 requested
    escalated: bool  # 督办
    reopened: bool  # 重办
    major: bool  # 挂牌督办
    rating: str  # 满意 / 比较满意 / 不满意 / 未评价


@dataclass(frozen=True)
class EvaluationSummary:
    """Standalone evaluations (评议) of one agency in the month: how many, and the mean score per dimension."""

    agency_id: int
    agency: str
    count: int
    commented: int
    dimensions: dict[str, tuple[int, float | None]]  # dimension -> (scored, mean 1–5)


@dataclass(frozen=True)
class Publication:
    month: date
    zone: str
    as_of: datetime
    figures: MonthFigures
    previous: MonthFigures
    rows: list[Ranked]
    total_change: Change
    typical_cases: list[TypicalCase]
    evaluations: list[EvaluationSummary]
    definitions: list[tuple[str, str]] = field(default_factory=list)
    preview: bool = False  # a month not released yet: for the office, not for publication
    region: str = ""  # the catalogue's city or county (示例市): a reader must know whose figures these are

    @property
    def title(self) -> str:
        """The one title: the page's heading, the workbook's, a preview's first line and file name."""
        return f"{self.region}{self.month.year}年{self.month.month}月投诉情况公示"

    @property
    def slug(self) -> str:
        return f"{self.month:%Y-%m}"

    @property
    def as_of_local(self) -> str:
        return self.as_of.astimezone(ZoneInfo(self.zone)).strftime("%Y-%m-%d %H:%M")

    @property
    def preview_note(self) -> str:
        """The line every rendering of a preview carries; empty for the publication itself."""
        if not self.preview:
            return ""
        return f"{PREVIEW_MARK}：数据截至 {self.as_of_local}，以效能办发布的正式公示为准。"

    @property
    def problem_types(self) -> list[tuple[str, int]]:
        return self.figures.problem_types


async def typical_cases(
    session: AsyncSession, month: date, zone: ZoneInfo, as_of: datetime, limit: int = TYPICAL_CASES
) -> list[TypicalCase]:
    """A few complaints resolved as of the cut-off, under their owner then, as the figures count them
    (a 重办 or a transfer accepted afterwards changes nothing); major and reopened ones first; anonymous
    citizens' complaints never."""
    start, end = month_bounds(month, zone)
    scope = Scope([Period(start, end, as_of.astimezone(UTC))])
    replies = replies_by_cut_off(scope)
    query = (
        select(
            Complaint.id,
            Agency.name,
            Complaint.created_at,
            Complaint.resolve_due_at,
            Complaint.resolved_at,
            Complaint.major,
        )
        .select_from(scope.complaints.outerjoin(replies, replies.c.complaint_id == C.c.id))
        .join(Agency, Agency.id == scope.owner)
        .outerjoin(Citizen, Citizen.id == Complaint.citizen_id)
        .where(
            scope.cohort,
            resolved_by_cut_off(scope, replies),
            Complaint.reply_text.is_not(None),  # a 重办 keeps the reply it reopens
            Complaint.anonymous.is_(False),
            or_(Citizen.id.is_(None), Citizen.prefers_anonymity.is_(False)),
        )
        .order_by(Complaint.major.desc(), Complaint.reopen_count.desc(), Complaint.id)
        .limit(limit)
    )
    rows = (await session.execute(query)).all()
    ids = [row.id for row in rows]
    problems: dict[int, list[str]] = {}
    events: dict[int, dict[str, int]] = {}
    replied: dict[int, datetime] = {}  # the latest reply by the cut-off
    ratings: dict[int, str] = {}
    missed: set[int] = set()
    if ids:
        missed = set(await session.scalars(select(Complaint.id).where(Complaint.id.in_(ids), missed_deadline(as_of))))
        tagged = select(ComplaintProblem.complaint_id, ComplaintProblem.problem_type).where(
            ComplaintProblem.complaint_id.in_(ids)
        )
        for complaint_id, problem in await session.execute(tagged.order_by(ComplaintProblem.id)):
            problems.setdefault(complaint_id, []).append(problem)
        happened = (
            select(ComplaintEvent.complaint_id, ComplaintEvent.action, func.count(), func.max(ComplaintEvent.at))
            .where(ComplaintEvent.complaint_id.in_(ids), ComplaintEvent.at <= as_of)
            .group_by(ComplaintEvent.complaint_id, ComplaintEvent.action)
        )
        for complaint_id, action, count, last in await session.execute(happened):
            events.setdefault(complaint_id, {})[action] = count
            if action == EventAction.RESOLVED.value:
                replied[complaint_id] = last
        rated = (
            select(Evaluation.complaint_id, Evaluation.rating)
            .where(
                Evaluation.complaint_id.in_(ids),
                Evaluation.kind == EvaluationKind.COMPLAINT_RATING.value,
                Evaluation.created_at <= as_of,
            )
            .order_by(Evaluation.id)
        )
        for complaint_id, rating in await session.execute(rated):
            ratings[complaint_id] = rating  # the latest one wins
    cases = []
    for row in rows:
        happened_to = events.get(row.id, {})
        # ``resolved_at`` is the reply standing now: a 重办 after the cut-off cleared or replaced it
        standing = row.resolved_at is not None and row.resolved_at <= as_of
        resolved_on = row.resolved_at if standing else replied[row.id]
        cases.append(
            TypicalCase(
                agency=row.name,
                problem_types=problems.get(row.id, []),
                received_on=row.created_at.astimezone(zone).date(),
                due_on=row.resolve_due_at.astimezone(zone).date() if row.resolve_due_at else None,
                resolved_on=resolved_on.astimezone(zone).date(),
                on_time=None if row.resolve_due_at is None else row.id not in missed,
                extensions=happened_to.get(EventAction.EXTENSION_APPROVED.value, 0),
                transfers=happened_to.get(EventAction.TRANSFER_REQUESTED.value, 0),
                escalated=EventAction.ESCALATED.value in happened_to,
                reopened=EventAction.REOPENED.value in happened_to,
                major=bool(row.major) or EventAction.MAJOR_SET.value in happened_to,
                rating=ratings.get(row.id, UNRATED),
            )
        )
    return cases


async def evaluation_summary(
    session: AsyncSession, month: date, zone: ZoneInfo, *, agency_id: int | None = None
) -> list[EvaluationSummary]:
    """Standalone evaluations given in the month, averaged per agency and dimension.

    Averaged in Python: they are a few hundred a month, not complaints, and JSON key lookup with Chinese
    keys is not portable (SQLite's json_extract does not match the escaped keys the JSON is stored with).
    """
    start, end = month_bounds(month, zone)
    query = (
        select(Evaluation.agency_id, Agency.name, Evaluation.scores, Evaluation.comment)
        .join(Agency, Agency.id == Evaluation.agency_id)
        .where(
            Evaluation.kind == EvaluationKind.AGENCY_EVALUATION.value,
            Evaluation.created_at >= start,
            Evaluation.created_at < end,
        )
        .order_by(Evaluation.agency_id, Evaluation.id)
    )
    if agency_id is not None:
        query = query.where(Evaluation.agency_id == agency_id)
    grouped: dict[int, tuple[str, list[dict[str, Any]], int]] = {}
    for agency, name, scores, comment in await session.execute(query):
        _, all_scores, commented = grouped.get(agency, (name, [], 0))
        all_scores.append(scores or {})
        grouped[agency] = (name, all_scores, commented + (1 if comment and comment.strip() else 0))
    summaries = []
    for agency, (name, all_scores, commented) in grouped.items():
        dimensions: dict[str, tuple[int, float | None]] = {}
        for dimension in EVALUATION_DIMENSIONS:
            values = [float(s[dimension]) for s in all_scores if isinstance(s.get(dimension), int | float)]
            dimensions[dimension] = (len(values), round(sum(values) / len(values), 2) if values else None)
        summaries.append(EvaluationSummary(agency, name, len(all_scores), commented, dimensions))
    return summaries


def publication_cut_off(month: date, deadlines: Deadlines) -> datetime:
    """The moment a month's publication is taken at (UTC): the close of business of the policy's
    ``publication_cutoff_working_days``-th working day after the month's last day."""
    _, end = month_bounds(month, deadlines.zone)
    last_day = (end - timedelta(seconds=1)).astimezone(deadlines.zone).date()
    noon = datetime.combine(last_day, time(12), deadlines.zone)
    return deadlines.add_working_days(noon, deadlines.policy.publication_cutoff_working_days).astimezone(UTC)


def past_cut_off(month: date, deadlines: Deadlines, now: datetime) -> bool:
    """A month may be released once its cut-off has passed, never before."""
    return publication_cut_off(month, deadlines) <= now


async def build_publication(
    session: AsyncSession,
    month: date,
    zone: ZoneInfo,
    *,
    as_of: datetime | None = None,
    preview: bool = False,
) -> Publication:
    """Everything the month's publication shows. ``as_of`` (default now) is the cut-off for the complaints'
    state (the public page passes ``publication_cut_off``); the previous month is cut off the same time
    after its own start, so the change is fair. ``preview`` marks a rendering of a month not released.
    The title's region is the imported catalogue's (``storage.agencies.catalogue_region``)."""
    month = date(month.year, month.month, 1)
    as_of = (as_of or datetime.now(UTC)).astimezone(UTC)
    before = previous_month(month)
    start, _ = month_bounds(month, zone)
    previous_start, _ = month_bounds(before, zone)
    previous, current = await figures_for_months(
        session, [(before, as_of - (start - previous_start)), (month, as_of)], zone
    )
    rows = rank_agencies(current.agencies, previous.agencies) if current.total.received else []
    return Publication(
        month=month,
        zone=zone.key,
        as_of=as_of,
        figures=current,
        previous=previous,
        rows=rows,
        total_change=change(current.total, previous.total),
        typical_cases=await typical_cases(session, month, zone, as_of),
        evaluations=await evaluation_summary(session, month, zone),
        definitions=definitions_text(zone.key, as_of.astimezone(zone).strftime("%Y-%m-%d %H:%M")),
        preview=preview,
        region=await catalogue_region(session),
    )


async def due_months(session: AsyncSession, deadlines: Deadlines, now: datetime) -> list[date]:
    """The months whose publication is due (released, or waiting for release): from the first
    complaint's month to the last one whose cut-off has passed, newest first."""
    zone = deadlines.zone
    first = await session.scalar(select(func.min(Complaint.created_at)))
    if first is None:
        return []
    month = date(first.astimezone(zone).year, first.astimezone(zone).month, 1)
    months = []
    while past_cut_off(month, deadlines, now):
        months.append(month)
        month = next_month(month)
    return months[::-1]


@dataclass(frozen=True)
class PublishedTable:
    """The main table of a rendered month read back from its CSV (``render_csv``): each row header →
    cell text exactly as published. Lets a published month be shown from the stored document itself."""

    agencies: list[dict[str, str]]
    total: dict[str, str]  # the 合计 line

    @staticmethod
    def problem_types(row: dict[str, str]) -> list[tuple[str, int]]:
        """The row's 主要问题类型 cell, "事难办(3)、脸难看(1)", as (name, count) pairs."""
        found = (re.fullmatch(r"(.+)\((\d+)\)", item) for item in row.get("主要问题类型", "").split("、"))
        return [(match.group(1), int(match.group(2))) for match in found if match]


#: Headers of months stored before the publication took the bot's words (受理 is the agency's acceptance,
#: 收到 the month's registered complaints): old header → today's.
RENAMED_HEADERS = {"受理量": "收到量", "受理量环比": "收到量环比", "应签收": "应受理", "按时签收": "按时受理"}


def read_table(data: bytes) -> PublishedTable:
    """``render_csv``'s output read back under today's headers, whenever it was stored: the agencies'
    rows, then the 合计 line (a heading line above the table, one cell, and a preview's closing note,
    two, are not rows of the table)."""
    lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    start = next(index for index, line in enumerate(lines) if len(line) > 1)  # the header row
    headers = [RENAMED_HEADERS.get(header, header) for header in lines[start]]
    rows = [dict(zip(headers, line, strict=True)) for line in lines[start + 1 :] if len(line) == len(headers)]
    *agencies, total = rows
    return PublishedTable(agencies=agencies, total=total)


from reports.exports import render_csv, render_xlsx  # noqa: E402  (re-exported: the documented API)
from reports.html import render_html  # noqa: E402

__all__ = [
    "PREVIEW_MARK",
    "EvaluationSummary",
    "Publication",
    "PublishedTable",
    "TypicalCase",
    "build_publication",
    "due_months",
    "past_cut_off",
    "publication_cut_off",
    "read_table",
    "render_csv",
    "render_html",
    "render_xlsx",
]
