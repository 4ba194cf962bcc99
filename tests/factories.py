"""Small factories for workflow tests: agencies from the default catalogue, contacts, citizens,
a fixed clock on a working morning, and complaints registered through the real intake."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Agency,
    AgencyContact,
    Citizen,
    Complaint,
    ComplaintEvent,
    ComplaintTimer,
    ContactRole,
    Evaluation,
    OutboxMessage,
)
from workflow.actors import Actor
from workflow.clock import FixedClock
from workflow.deadlines import Deadlines
from workflow.errors import DomainError
from workflow.intake import register_complaint

REPO = Path(__file__).resolve().parent.parent
ZONE = ZoneInfo("Asia/Shanghai")
_ids = itertools.count(10_000)


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZONE)


#: Monday 23 November 2026, 10:00 in Shanghai: an ordinary working morning.
MONDAY_MORNING = local(2026, 11, 23, 10)


def make_deadlines() -> Deadlines:
    return Deadlines.load(
        REPO / "workflow" / "data" / "policy.yaml", REPO / "workflow" / "data" / "holidays.yaml", ZONE
    )


def make_clock(moment: datetime = MONDAY_MORNING) -> FixedClock:
    return FixedClock(moment)


async def agency(session: AsyncSession, code: str) -> Agency:
    found = await session.scalar(select(Agency).where(Agency.code == code))
    assert found is not None, f"no agency {code} in the catalogue"
    return found


async def make_contact(
    session: AsyncSession, agency_code: str, role: ContactRole = ContactRole.CLERK
) -> tuple[AgencyContact, Actor]:
    contact = AgencyContact(
        telegram_user_id=next(_ids),
        agency_id=(await agency(session, agency_code)).id,
        role=role.value,
        display_name=f"{agency_code}-{role.value}",
    )
    session.add(contact)
    await session.flush()
    return contact, Actor.contact(contact)


async def make_citizen(session: AsyncSession, *, telegram: bool = True) -> tuple[Citizen, Actor]:
    citizen = Citizen(telegram_user_id=next(_ids) if telegram else None, display_name="张三")
    session.add(citizen)
    await session.flush()
    return citizen, Actor.citizen(citizen)


@dataclass(frozen=True)
class FakeEvidence:
    kind: str
    value: str
    word: str
    start: int
    end: int


@dataclass(frozen=True)
class FakeTagging:
    """Stands in for nlp.tagger.TagResult, which intake reads by duck type."""

    normalized_text: str = ""
    confidence: float = 0.9
    area: str | None = None
    problem_types: tuple[str, ...] = ()
    evidence: tuple[FakeEvidence, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {"area": self.area, "problem_types": list(self.problem_types), "confidence": self.confidence}


async def make_complaint(
    session: AsyncSession,
    clock: FixedClock,
    deadlines: Deadlines,
    *,
    citizen: Citizen | None = None,
    agency_code: str | None = "public-security",
    text: str = "派出所办户口跑了好几趟，窗口态度恶劣",
    problem_types: tuple[str, ...] = ("事难办",),
    **kwargs: Any,
) -> Complaint:
    tagging = FakeTagging(normalized_text=text, problem_types=problem_types)
    return await register_complaint(
        session, clock, deadlines, citizen=citizen, text=text, tagging=tagging, agency_code=agency_code, **kwargs
    )


@dataclass
class World:
    """A catalogue-loaded database with a few people in it, and the clock and deadlines to act with."""

    session: AsyncSession
    clock: FixedClock
    deadlines: Deadlines
    police: Actor  # clerk of public-security, the usual first-contact agency here
    traffic: Actor  # clerk of traffic-police, a transfer receiver
    housing: Actor  # clerk of housing-construction, an unrelated agency
    default: Actor  # clerk of the default owner (兜底)
    oversight: Actor  # oversight contact of the 效能办
    citizen: Citizen
    me: Actor  # the citizen as an actor
    stranger: Actor  # another citizen

    async def complaint(self, **kwargs: Any) -> Complaint:
        kwargs.setdefault("citizen", self.citizen)
        complaint = await make_complaint(self.session, self.clock, self.deadlines, **kwargs)
        await self.session.commit()
        return complaint

    async def agency_id(self, code: str) -> int:
        return (await agency(self.session, code)).id


async def build_world(session: AsyncSession) -> World:
    _, police = await make_contact(session, "public-security")
    _, traffic = await make_contact(session, "traffic-police")
    _, housing = await make_contact(session, "housing-construction")
    _, default = await make_contact(session, "service-center")
    _, oversight = await make_contact(session, "oversight-office", ContactRole.OVERSIGHT)
    citizen, me = await make_citizen(session)
    _, stranger = await make_citizen(session)
    await session.commit()
    return World(
        session, make_clock(), make_deadlines(), police, traffic, housing, default, oversight, citizen, me, stranger
    )


async def snapshot(session: AsyncSession, complaint: Complaint) -> tuple[Any, ...]:
    """Everything an action could change; the count queries autoflush, so a pending change shows too."""
    counts = []
    for model in (ComplaintEvent, OutboxMessage, Evaluation, ComplaintTimer):
        counts.append(
            await session.scalar(select(func.count()).select_from(model).where(model.complaint_id == complaint.id))
        )
    return (
        complaint.status,
        complaint.owner_agency_id,
        complaint.transfer_to_agency_id,
        complaint.transfer_declines,
        complaint.acknowledge_due_at,
        complaint.resolve_due_at,
        complaint.extended_days,
        complaint.reopen_count,
        complaint.major,
        complaint.version,
        *counts,
    )


async def events_of(session: AsyncSession, complaint_id: int) -> list[ComplaintEvent]:
    return list(
        await session.scalars(
            select(ComplaintEvent).where(ComplaintEvent.complaint_id == complaint_id).order_by(ComplaintEvent.id)
        )
    )


async def outbox_kinds(session: AsyncSession, complaint_id: int) -> list[tuple[int, str]]:
    rows = await session.execute(
        select(OutboxMessage.chat_id, OutboxMessage.kind)
        .where(OutboxMessage.complaint_id == complaint_id)
        .order_by(OutboxMessage.id)
    )
    return [(chat_id, kind) for chat_id, kind in rows]


async def refused(world: World, code: str, action: Any, complaint: Complaint, *args: Any) -> None:
    """The action raises ``code`` and leaves the complaint, its events, notices and timers untouched."""
    before = await snapshot(world.session, complaint)
    with pytest.raises(DomainError) as caught:
        await action(world.session, world.clock, world.deadlines, complaint.id, *args)
    assert caught.value.code == code
    assert await snapshot(world.session, complaint) == before
