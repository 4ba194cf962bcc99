"""The agency table, and the catalogue's region, kept in step with the catalogue file (storage.catalogue
reads the file)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.catalogue import Catalogue
from storage.models import (
    Agency,
    AgencyContact,
    ApiToken,
    CatalogueInfo,
    Complaint,
    ComplaintEvent,
    Evaluation,
    InviteCode,
    WebUser,
)


@dataclass(frozen=True)
class TaggerAgency:
    """An agency as the tagger reads it (``nlp.rulebook.AgencyLike``; ``parent`` is a code)."""

    code: str
    name: str
    aliases: tuple[str, ...]
    area: str | None
    parent: str | None


async def tagger_agencies(session: AsyncSession) -> list[TaggerAgency]:
    """The active catalogue as the tagger reads it: the service tags with this, and so does the
    command line, so the two cannot disagree."""
    rows = await session.scalars(select(Agency).where(Agency.active.is_(True)).options(selectinload(Agency.parent)))
    return [
        TaggerAgency(a.code, a.name, tuple(a.aliases or ()), a.area, a.parent.code if a.parent else None) for a in rows
    ]


@dataclass
class ImportReport:
    added: list[str] = field(default_factory=list)
    updated: dict[str, list[str]] = field(default_factory=dict)  # code -> changed fields
    removed: list[str] = field(default_factory=list)
    deactivated: list[str] = field(default_factory=list)  # missing from the file but referenced
    unchanged: int = 0
    #: (before, after) when the catalogue's region changed; before is "" on the first import.
    region: tuple[str, str] | None = None

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed or self.deactivated or self.region)


async def catalogue_region(session: AsyncSession) -> str:
    """The imported catalogue's city or county, for the publication's title: the database is its one
    source, as it is for the agencies. "" before any import has recorded it."""
    info = await session.get(CatalogueInfo, 1)
    return info.region if info else ""


async def import_catalogue(session: AsyncSession, catalogue: Catalogue) -> ImportReport:
    """Make the agency table and the recorded region match the catalogue. Re-importing is a no-op; an
    agency that vanished from the file is deleted only if nothing refers to it, otherwise deactivated
    (history must keep its name). The caller commits."""
    report = ImportReport()
    before = await catalogue_region(session)
    if before != catalogue.region:
        await session.merge(CatalogueInfo(id=1, region=catalogue.region))
        report.region = (before, catalogue.region)
    existing = {agency.code: agency for agency in (await session.scalars(select(Agency))).all()}

    for spec in catalogue.agencies:
        values = {
            "name": spec.name,
            "aliases": list(spec.aliases),
            "area": spec.area,
            "role": spec.role.value,
            "promised_resolve_days": spec.promised_resolve_days,
            "active": True,
        }
        agency = existing.get(spec.code)
        if agency is None:
            agency = Agency(code=spec.code, **values)
            session.add(agency)
            existing[spec.code] = agency
            report.added.append(spec.code)
            continue
        changed = [name for name, value in values.items() if getattr(agency, name) != value]
        for name in changed:
            setattr(agency, name, values[name])
        if changed:
            report.updated[spec.code] = changed
    await session.flush()

    for spec in catalogue.agencies:
        agency = existing[spec.code]
        parent_id = existing[spec.parent].id if spec.parent else None
        if agency.parent_id != parent_id:
            agency.parent_id = parent_id
            if spec.code not in report.added:
                report.updated.setdefault(spec.code, []).append("parent")

    wanted = {spec.code for spec in catalogue.agencies}
    leaving = {code: agency for code, agency in existing.items() if code not in wanted}
    # Children first: a parent leaving with its children must not be kept alive by them.
    for code, agency in sorted(leaving.items(), key=lambda item: -_depth(item[1], existing)):
        if await _is_referenced(session, agency.id):
            if agency.active:
                agency.active = False
                report.deactivated.append(code)
        else:
            await session.delete(agency)
            report.removed.append(code)

    report.unchanged = len(wanted) - len(report.added) - len(report.updated)
    await session.flush()
    return report


def _depth(agency: Agency, existing: dict[str, Agency]) -> int:
    by_id = {candidate.id: candidate for candidate in existing.values()}
    depth, seen = 0, {agency.id}
    while agency.parent_id is not None and agency.parent_id in by_id and agency.parent_id not in seen:
        agency = by_id[agency.parent_id]
        seen.add(agency.id)
        depth += 1
    return depth


async def _is_referenced(session: AsyncSession, agency_id: int) -> bool:
    complaint = exists().where(
        or_(
            Complaint.first_contact_agency_id == agency_id,
            Complaint.owner_agency_id == agency_id,
            Complaint.transfer_to_agency_id == agency_id,
        )
    )
    event = exists().where(
        or_(
            ComplaintEvent.agency_id == agency_id,
            ComplaintEvent.from_agency_id == agency_id,
            ComplaintEvent.to_agency_id == agency_id,
        )
    )
    contact = exists().where(AgencyContact.agency_id == agency_id)
    evaluation = exists().where(Evaluation.agency_id == agency_id)
    child = exists().where(Agency.parent_id == agency_id)
    # Accounts and invites point at the agency too; deleting it would break them (or the foreign key).
    access = [exists().where(model.agency_id == agency_id) for model in (InviteCode, WebUser, ApiToken)]
    return bool(await session.scalar(select(or_(complaint, event, contact, evaluation, child, *access))))
