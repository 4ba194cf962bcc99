"""Look-ups of agencies and their contacts that the lifecycle, intake and notifications share."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.models import Agency, AgencyContact, AgencyRole, ContactRole
from workflow.errors import DomainError


async def agency_by_role(session: AsyncSession, role: AgencyRole) -> Agency | None:
    """The active agency with a unique role (the oversight office, the default owner 兜底)."""
    return await session.scalar(
        select(Agency).where(Agency.role == role.value, Agency.active.is_(True)).order_by(Agency.id).limit(1)
    )


async def default_owner(session: AsyncSession) -> Agency:
    agency = await agency_by_role(session, AgencyRole.DEFAULT_OWNER)
    if agency is None:
        raise DomainError("no_default_owner", "the catalogue has no active default_owner agency")
    return agency


async def agency_by_code(session: AsyncSession, code: str) -> Agency | None:
    return await session.scalar(select(Agency).where(Agency.code == code))


async def active_agency(session: AsyncSession, agency_id: int) -> Agency:
    """The agency to hand a complaint to: it must exist and still be active."""
    agency = await session.get(Agency, agency_id)
    if agency is None:
        raise DomainError("not_found", f"agency {agency_id}")
    if not agency.active:
        raise DomainError("agency_inactive", f"agency {agency.code} is inactive")
    return agency


async def agency_names(session: AsyncSession, ids: Iterable[int | None]) -> dict[int, str]:
    """Agency names by id, in one query, for the agencies a message names."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = await session.execute(select(Agency.id, Agency.name).where(Agency.id.in_(wanted)))
    return {agency_id: name for agency_id, name in rows}


async def contact_by_telegram(session: AsyncSession, telegram_user_id: int) -> AgencyContact | None:
    """The active contact a Telegram user acts as, if any, with its agency."""
    return await session.scalar(
        select(AgencyContact)
        .options(selectinload(AgencyContact.agency))
        .where(AgencyContact.telegram_user_id == telegram_user_id, AgencyContact.active.is_(True))
    )


async def agency_chat_ids(session: AsyncSession, agency_id: int, *, leads_only: bool = False) -> list[int]:
    """Telegram ids of the agency's active contacts (leads only for escalations)."""
    query = select(AgencyContact.telegram_user_id).where(
        AgencyContact.agency_id == agency_id, AgencyContact.active.is_(True)
    )
    if leads_only:
        query = query.where(AgencyContact.role == ContactRole.LEAD.value)
    return list(await session.scalars(query.order_by(AgencyContact.id)))


async def oversight_chat_ids(session: AsyncSession) -> list[int]:
    """Every active contact of the oversight office, and oversight-role contacts anywhere."""
    oversight = await agency_by_role(session, AgencyRole.OVERSIGHT)
    condition = AgencyContact.role == ContactRole.OVERSIGHT.value
    if oversight is not None:
        condition = condition | (AgencyContact.agency_id == oversight.id)
    rows = await session.scalars(
        select(AgencyContact.telegram_user_id)
        .where(condition, AgencyContact.active.is_(True))
        .order_by(AgencyContact.id)
    )
    return list(rows)


async def is_oversight_agency(session: AsyncSession, agency_id: int | None) -> bool:
    if agency_id is None:
        return False
    role = await session.scalar(select(Agency.role).where(Agency.id == agency_id))
    return role == AgencyRole.OVERSIGHT.value
