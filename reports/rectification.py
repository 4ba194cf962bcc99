"""Rectification notices (整改通知书): the oversight office feeds citizens' complaints and evaluation
comments back to an agency verbatim (原汁原味) — personal data redacted — with the problem types found
and the date by which the agency must report what it has fixed.

The notice goes to the agency, not the public, so complaints carry their tracking numbers (the agency
needs them to find the case); the citizen's identity is never in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from reports.html import render_template
from reports.redaction import redact_for_publication
from storage.models import Agency, Citizen, Complaint, ComplaintProblem, ComplaintStatus, Evaluation, EvaluationKind

#: Days the agency has to report its rectification, when the notice does not say otherwise.
DEFAULT_RESPONSE_DAYS = 30


@dataclass(frozen=True)
class NoticeComplaint:
    tracking_no: str
    received_on: date
    status: str
    overdue: bool
    problem_types: list[str]
    text: str
    reply: str


@dataclass(frozen=True)
class NoticeComment:
    given_on: date
    source: str  # 评议 | 满意度测评
    rating: str | None
    text: str


@dataclass(frozen=True)
class RectificationNotice:
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
        """The notice's reference: agency and period, stable for the same request."""
        return f"整改〔{self.issued_on.year}〕{self.agency_code}-{self.period_from:%Y%m%d}-{self.period_to:%Y%m%d}"


_STATUS_NAMES = {
    ComplaintStatus.REGISTERED: "已登记",
    ComplaintStatus.ASSIGNED: "待受理",
    ComplaintStatus.TRANSFERRING: "转办中",
    ComplaintStatus.DISPUTED: "待审定",
    ComplaintStatus.ACCEPTED: "办理中",
    ComplaintStatus.RESOLVED: "已办结",
    ComplaintStatus.CLOSED: "已关闭",
    ComplaintStatus.WITHDRAWN: "已撤回",
}


class UnknownAgency(LookupError):
    """No agency with the code given."""


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
    issued_on: date | None = None,
    due_on: date | None = None,
    now: datetime | None = None,
) -> RectificationNotice:
    """The notice for complaints received and comments given in [period_from, period_to] (local dates)."""
    agency = await session.scalar(select(Agency).where(Agency.code == agency_code))
    if agency is None:
        raise UnknownAgency(agency_code)
    now = (now or datetime.now(UTC)).astimezone(UTC)
    issued_on = issued_on or now.astimezone(zone).date()
    start, end = _bounds(period_from, period_to, zone)

    rows = (
        await session.execute(
            select(Complaint, Citizen.display_name)
            .outerjoin(Citizen, Citizen.id == Complaint.citizen_id)
            .where(
                Complaint.owner_agency_id == agency.id,
                Complaint.created_at >= start,
                Complaint.created_at < end,
                Complaint.status != ComplaintStatus.WITHDRAWN.value,
            )
            .order_by(Complaint.created_at, Complaint.id)
        )
    ).all()
    ids = [complaint.id for complaint, _ in rows]
    problems: dict[int, list[str]] = {}
    if ids:
        tagged = select(ComplaintProblem.complaint_id, ComplaintProblem.problem_type).where(
            ComplaintProblem.complaint_id.in_(ids)
        )
        for complaint_id, problem in await session.execute(tagged.order_by(ComplaintProblem.id)):
            problems.setdefault(complaint_id, []).append(problem)
    complaints = []
    for complaint, citizen_name in rows:
        names = [citizen_name] if citizen_name else []
        due, resolved = complaint.resolve_due_at, complaint.resolved_at
        overdue = due is not None and ((resolved is None and due < now) or (resolved is not None and resolved > due))
        complaints.append(
            NoticeComplaint(
                tracking_no=complaint.tracking_no,
                received_on=complaint.created_at.astimezone(zone).date(),
                status=_STATUS_NAMES.get(ComplaintStatus(complaint.status), complaint.status),
                overdue=overdue,
                problem_types=problems.get(complaint.id, []),
                text=redact_for_publication(complaint.text, known_names=names),
                reply=redact_for_publication(complaint.reply_text, known_names=names),
            )
        )

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
    return RectificationNotice(
        agency_code=agency.code,
        agency_name=agency.name,
        period_from=period_from,
        period_to=period_to,
        issued_on=issued_on,
        due_on=due_on or issued_on + timedelta(days=DEFAULT_RESPONSE_DAYS),
        complaints=complaints,
        comments=comments,
        problem_types=sorted(counts.items(), key=lambda item: (-item[1], item[0])),
    )


def render_rectification_html(notice: RectificationNotice, *, issuer: str = "市效能办") -> str:
    """A printable A4 document."""
    return render_template("rectification.html", notice=notice, issuer=issuer)
