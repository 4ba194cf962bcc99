"""The agency catalogue: an operator-edited YAML file, and its idempotent import into the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.datafile import ItemProblems, load_model
from storage.models import (
    Agency,
    AgencyContact,
    AgencyRole,
    ApiToken,
    Complaint,
    ComplaintEvent,
    Evaluation,
    InviteCode,
    WebUser,
)
from storage.vocabulary import AREAS

CODE_PATTERN = r"^[a-z][a-z0-9-]{1,39}$"


class AgencySpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=CODE_PATTERN)
    name: str = Field(min_length=2, max_length=100)
    aliases: tuple[str, ...] = ()
    area: str
    parent: str | None = None
    role: AgencyRole = AgencyRole.AGENCY
    promised_resolve_days: int | None = Field(default=None, ge=1, le=60)

    @field_validator("area")
    @classmethod
    def _known_area(cls, value: str) -> str:
        if value not in AREAS:
            raise ValueError(f"unknown area {value!r}; use one of: {' '.join(AREAS)}")
        return value

    @field_validator("aliases")
    @classmethod
    def _clean_aliases(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        cleaned = tuple(alias.strip() for alias in value)
        if any(not alias for alias in cleaned):
            raise ValueError("an alias is empty")
        return cleaned


class Catalogue(BaseModel):
    model_config = ConfigDict(extra="forbid")

    region: str = Field(min_length=1, description="The city or county the catalogue describes")
    agencies: list[AgencySpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Catalogue:
        """Cross-entry checks; each problem points at the entry at fault so the error names its line."""
        problems: list[tuple[tuple[Any, ...], str]] = []
        first: dict[tuple[str, str], int] = {}
        for index, spec in enumerate(self.agencies):
            for key in ("code", "name"):
                value = getattr(spec, key)
                if (key, value) in first:
                    problems.append(
                        (("agencies", index, key), f"{key} {value!r} is already used by agencies.{first[key, value]}")
                    )
                first.setdefault((key, value), index)
        parents = {spec.code: spec.parent for spec in self.agencies}
        for index, spec in enumerate(self.agencies):
            if spec.parent is not None and spec.parent not in parents:
                problems.append((("agencies", index, "parent"), f"parent {spec.parent!r} is not in the catalogue"))
            elif spec.parent is not None and _in_parent_cycle(spec.code, parents):
                problems.append((("agencies", index, "parent"), f"{spec.code}: parents form a cycle"))
        for role in (AgencyRole.OVERSIGHT, AgencyRole.DEFAULT_OWNER):
            holders = [index for index, spec in enumerate(self.agencies) if spec.role == role]
            message = f"the catalogue needs exactly one agency with role {role.value} (has {len(holders)})"
            problems.extend((("agencies", index, "role"), message) for index in holders[1:])
            if not holders:
                problems.append((("agencies",), message))
        if problems:
            raise ItemProblems(problems)
        return self

    def by_role(self, role: AgencyRole) -> AgencySpec:
        return next(spec for spec in self.agencies if spec.role == role)


def _in_parent_cycle(code: str, parents: dict[str, str | None]) -> bool:
    """Whether walking up from ``code`` comes back to it (its own parent included)."""
    seen: set[str] = set()
    current = parents.get(code)
    while current is not None and current not in seen:
        if current == code:
            return True
        seen.add(current)
        current = parents.get(current)
    return False


def load_catalogue(path: Path | str) -> Catalogue:
    """Read and validate a catalogue file; raises ``DataFileError`` naming each bad line."""
    return load_model(path, Catalogue)[0]


@dataclass
class ImportReport:
    added: list[str] = field(default_factory=list)
    updated: dict[str, list[str]] = field(default_factory=dict)  # code -> changed fields
    removed: list[str] = field(default_factory=list)
    deactivated: list[str] = field(default_factory=list)  # missing from the file but referenced
    unchanged: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed or self.deactivated)


async def import_catalogue(session: AsyncSession, catalogue: Catalogue) -> ImportReport:
    """Make the agency table match the catalogue. Re-importing is a no-op; an agency that vanished from
    the file is deleted only if nothing refers to it, otherwise deactivated (history must keep its name).
    The caller commits."""
    report = ImportReport()
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
