"""Rectification notices (整改通知书): the oversight office lists the citizens' complaints against an
agency and feeds evaluation comments back verbatim (原汁原味, personal data redacted), with the problem
types found and the date by which the agency must report what it has fixed.

The notice goes to the agency, not the public, but carries as little personal data as it can: each
complaint is given by its facts (tracking number, date, problem types, status), which is all the agency
needs to find the case in its own queue; the citizens' words are not quoted. Evaluation comments have
no case to look up, so they are quoted, redacted. The citizen's identity is never in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from reports.html import render_template
from reports.overdue import missed_deadline
from reports.redaction import redact_for_publication
from storage.models import (
    STATUS_NAMES,
    Agency,
    Citizen,
    Complaint,
    ComplaintProblem,
    ComplaintStatus,
    Evaluation,
    EvaluationKind,
)
from workflow.deadlines import Deadlines

#: Working days the agency has to report its rectification, when the notice does not say otherwise.
DEFAULT_RESPONSE_WORKING_DAYS = 20


@dataclass(frozen=True)
class NoticeComplaint:
    tracking_no: str
    received_on: date
    status: str
    overdue: bool
    problem_types: list[str]
    resolved_on: date | None


@dataclass(frozen=True)
class NoticeComment:
    given_on: date
    source: str  # 评议 | 满意度测评
    rating: str | None
    text: str


@dataclass(frozen=True)
class RectificationNotice:
    agency_id: int
    agency_code: str
    agency_name: str
    period_from: date
    period_to: date  # inclusive
    issued_on: date
    due_on: date
    complaints: list[NoticeComplaint]
    comments: list[NoticeComment]
    problem_types: list[tuple[str, int]]

    @property
    def number(self) -> str:
        """文号, stable for the same request with no register to keep: the year of the period's last day,
        then the agency's number in the catalogue, the period's first day (YYMMDD) and its last (MMDD):
        整改〔2026〕第072610011031号 is agency 7, 1 to 31 October 2026. The ten digits after the agency are
        fixed-width, so two agencies or periods (starting within a century) never share a number, not even
        periods ending the same day."""
        return f"整改〔{self.period_to.year}〕第{self.agency_id:02d}{self.period_from:%y%m%d}{self.period_to:%m%d}号"


class UnknownAgency(LookupError):
    """No agency with the code given."""


class NoComplaintsInPeriod(LookupError):
    """The agency received no complaints in the period: there is nothing to rectify."""


def _bounds(period_from: date, period_to: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(period_from, time(), zone).astimezone(UTC)
    end = datetime.combine(period_to + timedelta(days=1), time(), zone).astimezone(UTC)
    return start, end


async def build_rectification(
    session: AsyncSession,
    agency_code: str,
    period_from: date,
    period_to: date,
    zone: ZoneInfo,
    *,
    deadlines: Deadlines,
    issued_on: date | None = None,
    due_on: date | None = None,
    now: datetime | None = None,
) -> RectificationNotice:
    """The notice for complaints received and comments given in [period_from, period_to] (local dates).

    The reply is due ``DEFAULT_RESPONSE_WORKING_DAYS`` working days after issue unless ``due_on`` says
    otherwise. Raises ``NoComplaintsInPeriod`` rather than ask an agency to rectify nothing.
    """
    agency = await session.scalar(select(Agency).where(Agency.code == agency_code))
    if agency is None:
        raise UnknownAgency(agency_code)
    now = (now or datetime.now(UTC)).astimezone(UTC)
    issued_on = issued_on or now.astimezone(zone).date()
    start, end = _bounds(period_from, period_to, zone)

    rows = (
        await session.execute(
            select(Complaint, missed_deadline(now))
            .where(
                Complaint.owner_agency_id == agency.id,
                Complaint.created_at >= start,
                Complaint.created_at < end,
                Complaint.status != ComplaintStatus.WITHDRAWN.value,
            )
            .order_by(Complaint.created_at, Complaint.id)
        )
    ).all()
    if not rows:
        raise NoComplaintsInPeriod(agency_code)
    problems: dict[int, list[str]] = {}
    tagged = select(ComplaintProblem.complaint_id, ComplaintProblem.problem_type).where(
        ComplaintProblem.complaint_id.in_([complaint.id for complaint, _ in rows])
    )
    for complaint_id, problem in await session.execute(tagged.order_by(ComplaintProblem.id)):
        problems.setdefault(complaint_id, []).append(problem)
    complaints = [
        NoticeComplaint(
            tracking_no=complaint.tracking_no,
            received_on=complaint.created_at.astimezone(zone).date(),
            status=STATUS_NAMES[ComplaintStatus(complaint.status)],
            overdue=bool(overdue),
            problem_types=problems.get(complaint.id, []),
            resolved_on=complaint.resolved_at.astimezone(zone).date() if complaint.resolved_at else None,
        )
        for complaint, overdue in rows
    ]

    evaluations = (
        await session.execute(
            select(Evaluation.kind, Evaluation.rating, Evaluation.comment, Evaluation.created_at, Citizen.display_name)
            .outerjoin(Citizen, Citizen.id == Evaluation.citizen_id)
            .where(
                Evaluation.agency_id == agency.id,
                Evaluation.created_at >= start,
                Evaluation.created_at < end,
                Evaluation.comment.is_not(None),
            )
            .order_by(Evaluation.created_at, Evaluation.id)
        )
    ).all()
    comments = [
        NoticeComment(
            given_on=created_at.astimezone(zone).date(),
            source="评议" if kind == EvaluationKind.AGENCY_EVALUATION else "满意度测评",
            rating=rating if kind == EvaluationKind.COMPLAINT_RATING else None,
            text=redact_for_publication(comment, known_names=[name] if name else []),
        )
        for kind, rating, comment, created_at, name in evaluations
        if comment.strip()
    ]

    counts: dict[str, int] = {}
    for found in problems.values():
        for problem in found:
            counts[problem] = counts.get(problem, 0) + 1
    if due_on is None:
        issued_at = datetime.combine(issued_on, time(12), zone)
        due_on = deadlines.add_working_days(issued_at, DEFAULT_RESPONSE_WORKING_DAYS).astimezone(zone).date()
    return RectificationNotice(
        agency_id=agency.id,
        agency_code=agency.code,
        agency_name=agency.name,
        period_from=period_from,
        period_to=period_to,
        issued_on=issued_on,
        due_on=due_on,
        complaints=complaints,
        comments=comments,
        problem_types=sorted(counts.items(), key=lambda item: (-item[1], item[0])),
    )


def official_date(day: date) -> str:
    """2026年12月1日: how an official document (公文) writes every date it gives."""
    return f"{day.year}年{day.month}月{day.day}日"


def render_rectification_html(notice: RectificationNotice, *, issuer: str = "市效能办") -> str:
    """A printable A4 document."""
    return render_template("rectification.html", notice=notice, issuer=issuer, cn_date=official_date)
