"""Who sees what: which complaints an actor may see, and finding one as they may see it.

An agency contact or viewer finds a complaint its agency owns, received first (首问) or is asked to
take over; oversight finds any; a citizen finds their own. Anything else is "not_found", never
"forbidden", so existence is not revealed. The complaints come loaded as a queue row and a card needs
them (``workflow.queues.loaded``).
"""

from __future__ import annotations

import re

from sqlalchemy import ColumnElement, false, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from nlp.normalize import to_half_width
from storage.models import ActorKind, Complaint
from workflow.actors import Actor
from workflow.errors import NotFound
from workflow.privacy import acts_for_oversight
from workflow.queues import loaded


async def complaint_for_citizen(session: AsyncSession, citizen_id: int, tracking_no: str) -> Complaint:
    """A citizen's own complaint by tracking number; anyone else's is simply "not_found"."""
    complaint = await session.scalar(
        loaded(select(Complaint)).where(
            Complaint.tracking_no == tracking_no.strip(), Complaint.citizen_id == citizen_id
        )
    )
    if complaint is None:
        raise NotFound(f"complaint {tracking_no}")
    return complaint


async def complaints_of_citizen(
    session: AsyncSession, citizen_id: int, *, limit: int = 10, offset: int = 0
) -> list[Complaint]:
    """Newest first."""
    query = (
        loaded(select(Complaint))
        .where(Complaint.citizen_id == citizen_id)
        .order_by(Complaint.created_at.desc(), Complaint.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(await session.scalars(query))


async def visible_to(session: AsyncSession, actor: Actor) -> ColumnElement[bool]:
    """Which complaints the actor may see, as SQL: oversight sees all; an agency sees what it owns,
    first received or is asked to take; a citizen sees their own."""
    if await acts_for_oversight(session, actor):
        return true()
    if actor.kind == ActorKind.CITIZEN and actor.id is not None:
        return Complaint.citizen_id == actor.id
    if actor.kind in (ActorKind.CONTACT, ActorKind.WEB_USER) and actor.agency_id is not None:
        return or_(
            Complaint.owner_agency_id == actor.agency_id,
            Complaint.first_contact_agency_id == actor.agency_id,
            Complaint.transfer_to_agency_id == actor.agency_id,
        )
    return false()


async def complaint_for_actor(session: AsyncSession, actor: Actor, complaint_id: int) -> Complaint:
    """A complaint as the actor may see it (``visible_to``); anything else is "not_found"."""
    complaint = await session.scalar(
        loaded(select(Complaint)).where(Complaint.id == complaint_id, await visible_to(session, actor))
    )
    if complaint is None:
        raise NotFound(f"complaint {complaint_id}")
    return complaint


async def complaint_for_actor_by_tracking_no(session: AsyncSession, actor: Actor, tracking_no: str) -> Complaint:
    """``complaint_for_actor`` by tracking number: the same "not_found" for an unknown number and for one
    the actor may not see."""
    complaint_id = await session.scalar(select(Complaint.id).where(Complaint.tracking_no == tracking_no.strip()))
    if complaint_id is None:
        raise NotFound(f"complaint {tracking_no}")
    return await complaint_for_actor(session, actor, complaint_id)


#: Part of a tracking number: its last digits ("0016"), perhaps with the date's ("1203-0016").
_NUMBER_FRAGMENT = re.compile(r"\d{2,8}")


def number_fragment(text: str) -> str | None:
    """The digits of a tracking number's end as typed (full-width, with a dash or a #), or None."""
    digits = re.sub(r"[-—–#＃\s]", "", to_half_width(text))
    return digits if _NUMBER_FRAGMENT.fullmatch(digits) else None


async def complaints_by_number_end(
    session: AsyncSession, actor: Actor, digits: str, *, limit: int = 10
) -> list[Complaint]:
    """The complaints the actor may see whose tracking number (dash left out) ends in ``digits``
    (from ``number_fragment``), newest first."""
    compact = func.replace(Complaint.tracking_no, "-", "")
    query = (
        loaded(select(Complaint))
        .where(await visible_to(session, actor), compact.like(f"%{digits}"))
        .order_by(Complaint.created_at.desc(), Complaint.id.desc())
        .limit(limit)
    )
    return list(await session.scalars(query))
