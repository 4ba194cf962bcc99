"""Which complaints a viewer may see, and the queue filters: shared by the dashboard and the JSON API so
both enforce exactly the same scope.

An agency viewer sees the complaints its agency is answerable for or involved in: as the owner, as
the first-contact agency (首问, answerable until a receiver accepts) or as the proposed receiver of a
transfer. Anything else is "not found" to them, never "forbidden", so existence is not revealed.
A receiver reads the words only until it accepts, and a former owner still finds the complaint, but only
as a summary: ``citizen_view`` decides, as in the bot.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, exists, false, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from reports.figures import month_bounds
from reports.months import MONTH_HINT, month_of
from storage.catalogue import CODE_PATTERN
from storage.models import (
    ActorKind,
    Agency,
    Attachment,
    Complaint,
    ComplaintProblem,
    ComplaintStatus,
    WebRole,
)
from storage.vocabulary import PROBLEM_TYPES
from workflow.actors import Actor
from workflow.deadlines import Deadlines
from workflow.privacy import CitizenView, citizen_view
from workflow.queues import RUNNING_STATUSES, in_inbox, overdue_condition, running_due, to_item

PER_PAGE = 25
#: The last page a list has (an int32): its offset stays far inside the databases' 64-bit integers.
MAX_PAGE = 2**31 - 1
#: The largest id an INTEGER column holds on PostgreSQL: a larger one is no row, not a database error.
_MAX_ID = 2**31 - 1
#: What ``storage.tracking`` issues. Anything else is no complaint: it is never sent to the database,
#: where PostgreSQL would refuse a NUL in it rather than find nothing.
TRACKING_NO = re.compile(r"[0-9]{8}-[0-9]{4,}")


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is looking: a dashboard user or an API token, reduced to what scoping needs."""

    role: str
    agency_id: int | None

    @property
    def is_oversight(self) -> bool:
        return self.role == WebRole.OVERSIGHT

    @property
    def actor(self) -> Actor:
        """As the workflow's rules see a web viewer (a dashboard user or a token: no id needed to look)."""
        return Actor(ActorKind.WEB_USER, None, self.agency_id, self.role)


async def view_of(session: AsyncSession, viewer: Viewer, complaint: Complaint) -> CitizenView:
    """How much of the citizen the viewer gets: the words, place and files; a receiver's masked words
    only; or a former owner's summary (``citizen_view``, as in the bot)."""
    return await citizen_view(session, viewer.actor, complaint)


class BadFilter(ValueError):
    """A query parameter with a value the API and the dashboard reject; ``param`` names it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.param = message.split(":", 1)[0]


def parse_month(raw: str | None) -> date | None:
    """A filter's month (``reports.months.month_of``) as the first of that month; None when empty;
    BadFilter("month: …") otherwise."""
    raw = (raw or "").strip()
    if not raw:
        return None
    if (month := month_of(raw)) is None:
        raise BadFilter(f"month: {MONTH_HINT}")
    return month


@dataclass
class ComplaintFilter:
    agency: str | None = None  # agency code
    status: str | None = None
    problem_type: str | None = None
    overdue: bool | None = None
    major: bool | None = None
    month: date | None = None
    #: 临期: a running deadline in its warning band. Dashboard only (it needs the working calendar).
    due_soon: bool = False
    #: An agency viewer's current work only: what it answers for now, as its bot /inbox lists it
    #: (``workflow.queues.in_inbox``), not all it may see. Dashboard only; oversight answers for no queue.
    inbox: bool = False
    page: int = 1

    @classmethod
    def parse(cls, query: Mapping[str, str]) -> ComplaintFilter:
        """Read the query string; raises BadFilter naming the parameter."""

        def flag(name: str) -> bool | None:
            value = (query.get(name) or "").strip().lower()
            if value in ("", "any"):
                return None
            if value in ("1", "true", "yes", "on"):
                return True
            if value in ("0", "false", "no", "off"):
                return False
            raise BadFilter(f"{name}: use true or false")

        status = (query.get("status") or "").strip() or None
        if status is not None and status not in {s.value for s in ComplaintStatus}:
            raise BadFilter(f"status: unknown status {status!r}")
        problem = (query.get("problem_type") or "").strip() or None
        if problem is not None and problem not in PROBLEM_TYPES:
            raise BadFilter(f"problem_type: unknown problem type {problem!r}")
        # Only a code's shape reaches the database (an unknown code then matches nothing): PostgreSQL
        # refuses a NUL in a parameter.
        agency = (query.get("agency") or "").strip() or None
        if agency is not None and not re.fullmatch(CODE_PATTERN, agency):
            raise BadFilter("agency: not an agency code")
        month = parse_month(query.get("month"))
        try:
            page = max(1, int(query.get("page") or 1))
        except ValueError:
            raise BadFilter("page: use a positive whole number") from None
        if page > MAX_PAGE:
            raise BadFilter(f"page: use a whole number from 1 to {MAX_PAGE}")
        return cls(
            agency=agency,
            status=status,
            problem_type=problem,
            overdue=flag("overdue"),
            major=flag("major"),
            month=month,
            page=page,
        )

    @classmethod
    def parse_dashboard(cls, query: Mapping[str, str]) -> tuple[ComplaintFilter, list[str]]:
        """For the dashboard: the filter without its bad parameters (so the form can be shown again)
        and the names of those parameters, for the page to say what was wrong."""
        clean, bad = dict(query), []
        for _ in range(len(query) + 1):
            try:
                wanted = cls.parse(clean)
                break
            except BadFilter as exc:
                bad.append(exc.param)
                clean.pop(exc.param, None)
        else:
            wanted = cls()
        wanted.due_soon = (query.get("due_soon") or "").strip().lower() in ("1", "true", "yes", "on")
        wanted.inbox = (query.get("inbox") or "").strip().lower() in ("1", "true", "yes", "on")
        return wanted, bad

    def query_string(self, **changes: object) -> str:
        """This filter as a query string (for paging links), with ``changes`` applied."""
        from urllib.parse import urlencode

        values = {
            "agency": self.agency,
            "status": self.status,
            "problem_type": self.problem_type,
            "overdue": None if self.overdue is None else str(self.overdue).lower(),
            "major": None if self.major is None else str(self.major).lower(),
            "month": f"{self.month:%Y-%m}" if self.month else None,
            "due_soon": "true" if self.due_soon else None,
            "inbox": "true" if self.inbox else None,
            "page": self.page if self.page > 1 else None,
        }
        values.update(changes)
        return urlencode({key: value for key, value in values.items() if value not in (None, "")})


def visible_to(viewer: Viewer) -> ColumnElement[bool]:
    if viewer.is_oversight:
        return true()
    if viewer.agency_id is None:
        return false()
    return or_(
        Complaint.owner_agency_id == viewer.agency_id,
        Complaint.first_contact_agency_id == viewer.agency_id,
        Complaint.transfer_to_agency_id == viewer.agency_id,
    )


async def agency_by_code(session: AsyncSession, code: str) -> Agency | None:
    return await session.scalar(select(Agency).where(Agency.code == code))


async def list_complaints(
    session: AsyncSession,
    viewer: Viewer,
    wanted: ComplaintFilter,
    *,
    now: datetime,
    zone: ZoneInfo,
    per_page: int = PER_PAGE,
    deadlines: Deadlines | None = None,
) -> tuple[list[Complaint], int]:
    """One page of the viewer's complaints matching ``wanted`` and the total count: newest first; the
    overdue and due-soon lists by deadline, most overdue or most urgent first. ``due_soon`` needs
    ``deadlines`` (the warning band is working time, so it is decided here rather than in SQL)."""
    conditions: list[ColumnElement[bool]] = [visible_to(viewer)]
    if wanted.agency:
        agency = await agency_by_code(session, wanted.agency)
        conditions.append(Complaint.owner_agency_id == (agency.id if agency else -1))
    if wanted.status:
        conditions.append(Complaint.status == wanted.status)
    if wanted.problem_type:
        conditions.append(
            exists().where(
                ComplaintProblem.complaint_id == Complaint.id, ComplaintProblem.problem_type == wanted.problem_type
            )
        )
    if wanted.overdue is not None:
        overdue = overdue_condition(now)
        conditions.append(overdue if wanted.overdue else ~overdue)
    if wanted.major is not None:
        conditions.append(Complaint.major.is_(wanted.major))
    if wanted.month is not None:
        start, end = month_bounds(wanted.month, zone)
        conditions.append(and_(Complaint.created_at >= start, Complaint.created_at < end))
    if wanted.due_soon:
        conditions += [Complaint.status.in_(RUNNING_STATUSES), ~overdue_condition(now)]
    if wanted.inbox and viewer.agency_id is not None and not viewer.is_oversight:
        conditions.append(in_inbox(viewer.agency_id, now))
    where = and_(*conditions)
    query = (
        select(Complaint)
        .where(where)
        .options(
            selectinload(Complaint.owner_agency),
            selectinload(Complaint.first_contact_agency),
            selectinload(Complaint.transfer_to_agency),
            selectinload(Complaint.problems),
        )
    )
    by_deadline = wanted.overdue or wanted.due_soon
    order = (running_due(), Complaint.id) if by_deadline else (Complaint.created_at.desc(), Complaint.id.desc())
    query = query.order_by(*order)
    start = (wanted.page - 1) * per_page
    if wanted.due_soon:
        if deadlines is None:
            raise ValueError("the due-soon filter needs the deadlines")
        soon = [c for c in (await session.scalars(query)).all() if to_item(c, deadlines, now).state == "warning"]
        return soon[start : start + per_page], len(soon)
    total = await session.scalar(select(func.count()).select_from(Complaint).where(where)) or 0
    rows = await session.scalars(query.limit(per_page).offset(start))
    return list(rows.all()), total


async def get_complaint(session: AsyncSession, viewer: Viewer, tracking_no: str) -> Complaint | None:
    """The complaint with everything its page shows, or None if missing, outside the viewer's scope or
    not a tracking number at all."""
    if not TRACKING_NO.fullmatch(tracking_no):
        return None
    return await session.scalar(
        select(Complaint)
        .where(Complaint.tracking_no == tracking_no, visible_to(viewer))
        .options(
            selectinload(Complaint.owner_agency),
            selectinload(Complaint.first_contact_agency),
            selectinload(Complaint.transfer_to_agency),
            selectinload(Complaint.problems),
            selectinload(Complaint.events),
            selectinload(Complaint.attachments),
            selectinload(Complaint.citizen),
        )
    )


async def get_attachment(
    session: AsyncSession, viewer: Viewer, tracking_no: str, attachment_id: int
) -> Attachment | None:
    """One file of a complaint the viewer may see in full, or None: neither a receiver's view nor a former
    owner's summary has files."""
    if not (TRACKING_NO.fullmatch(tracking_no) and attachment_id <= _MAX_ID):
        return None
    row = (
        await session.execute(
            select(Attachment, Complaint)
            .join(Complaint, Complaint.id == Attachment.complaint_id)
            .where(Attachment.id == attachment_id, Complaint.tracking_no == tracking_no, visible_to(viewer))
        )
    ).first()
    if row is None or await view_of(session, viewer, row.Complaint) is not CitizenView.FULL:
        return None
    return row.Attachment


async def agency_names(session: AsyncSession, ids: set[int]) -> dict[int, Agency]:
    if not ids:
        return {}
    return {agency.id: agency for agency in (await session.scalars(select(Agency).where(Agency.id.in_(ids)))).all()}


async def active_agencies(session: AsyncSession) -> list[Agency]:
    return list((await session.scalars(select(Agency).where(Agency.active).order_by(Agency.area, Agency.code))).all())
