"""The monthly publication (投诉情况每月公示): the month's figures assembled into the views that are
printed, downloaded and shown on the public page. Nothing here may carry a citizen's identity.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from reports.definitions import definitions_text
from reports.figures import MonthFigures, figures_for_months, month_bounds, previous_month
from reports.ranking import Change, Ranked, change, rank_agencies
from reports.redaction import redact_for_publication
from storage.models import Agency, Citizen, Complaint, ComplaintProblem, ComplaintStatus, Evaluation, EvaluationKind
from storage.vocabulary import EVALUATION_DIMENSIONS

TYPICAL_CASES = 3


@dataclass(frozen=True)
class TypicalCase:
    """A resolved complaint as the public may read it: redacted text and reply, no tracking number."""

    agency: str
    received_on: date
    resolved_on: date | None
    problem_types: list[str]
    text: str
    reply: str


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

    @property
    def title(self) -> str:
        return f"{self.month.year}年{self.month.month}月投诉情况公示"

    @property
    def slug(self) -> str:
        return f"{self.month:%Y-%m}"

    @property
    def as_of_local(self) -> str:
        return self.as_of.astimezone(ZoneInfo(self.zone)).strftime("%Y-%m-%d %H:%M")

    @property
    def problem_types(self) -> list[tuple[str, int]]:
        return self.figures.problem_types


async def typical_cases(
    session: AsyncSession, month: date, zone: ZoneInfo, as_of: datetime, limit: int = TYPICAL_CASES
) -> list[TypicalCase]:
    """A few resolved complaints, major and reopened ones first; anonymous citizens' complaints never."""
    start, end = month_bounds(month, zone)
    query = (
        select(
            Complaint.id,
            Agency.name,
            Complaint.created_at,
            Complaint.resolved_at,
            Complaint.text,
            Complaint.reply_text,
            Citizen.display_name,
        )
        .join(Agency, Agency.id == Complaint.owner_agency_id)
        .outerjoin(Citizen, Citizen.id == Complaint.citizen_id)
        .where(
            Complaint.created_at >= start,
            Complaint.created_at < end,
            Complaint.status.in_([ComplaintStatus.RESOLVED.value, ComplaintStatus.CLOSED.value]),
            Complaint.resolved_at <= as_of,
            Complaint.reply_text.is_not(None),
            Complaint.anonymous.is_(False),
            or_(Citizen.id.is_(None), Citizen.prefers_anonymity.is_(False)),
        )
        .order_by(Complaint.major.desc(), Complaint.reopen_count.desc(), Complaint.id)
        .limit(limit)
    )
    rows = (await session.execute(query)).all()
    problems: dict[int, list[str]] = {}
    if rows:
        tagged = select(ComplaintProblem.complaint_id, ComplaintProblem.problem_type).where(
            ComplaintProblem.complaint_id.in_([row.id for row in rows])
        )
        for complaint_id, problem in await session.execute(tagged.order_by(ComplaintProblem.id)):
            problems.setdefault(complaint_id, []).append(problem)
    cases = []
    for row in rows:
        names = [row.display_name] if row.display_name else []
        cases.append(
            TypicalCase(
                agency=row.name,
                received_on=row.created_at.astimezone(zone).date(),
                resolved_on=row.resolved_at.astimezone(zone).date() if row.resolved_at else None,
                problem_types=problems.get(row.id, []),
                text=redact_for_publication(row.text, known_names=names),
                reply=redact_for_publication(row.reply_text, known_names=names),
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


async def build_publication(
    session: AsyncSession, month: date, zone: ZoneInfo, *, as_of: datetime | None = None
) -> Publication:
    """Everything the month's publication shows. ``as_of`` (default now) is the cut-off for the complaints'
    state; the previous month is cut off the same time after its own start, so the change is fair."""
    month = date(month.year, month.month, 1)
    as_of = (as_of or datetime.now(UTC)).astimezone(UTC)
    before = previous_month(month)
    start, _ = month_bounds(month, zone)
    previous_start, _ = month_bounds(before, zone)
    previous, current = await figures_for_months(
        session, [(before, as_of - (start - previous_start)), (month, as_of)], zone
    )
    return Publication(
        month=month,
        zone=zone.key,
        as_of=as_of,
        figures=current,
        previous=previous,
        rows=rank_agencies(current.agencies, previous.agencies),
        total_change=change(current.total, previous.total),
        typical_cases=await typical_cases(session, month, zone, as_of),
        evaluations=await evaluation_summary(session, month, zone),
        definitions=definitions_text(zone.key, as_of.astimezone(zone).strftime("%Y-%m-%d %H:%M")),
    )


async def published_months(session: AsyncSession, zone: ZoneInfo, *, until: datetime | None = None) -> list[date]:
    """Months that have complaints, newest first, for the index page (found from the first and last)."""
    first, last = (await session.execute(select(func.min(Complaint.created_at), func.max(Complaint.created_at)))).one()
    if first is None:
        return []
    last = min(last, until) if until else last
    month = date(first.astimezone(zone).year, first.astimezone(zone).month, 1)
    end = last.astimezone(zone).date().replace(day=1)
    months = []
    while month <= end:
        months.append(month)
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return months[::-1]


from reports.exports import render_csv, render_xlsx  # noqa: E402  (re-exported: the documented API)
from reports.html import render_html  # noqa: E402

__all__ = [
    "EvaluationSummary",
    "Publication",
    "TypicalCase",
    "build_publication",
    "published_months",
    "render_csv",
    "render_html",
    "render_xlsx",
]
