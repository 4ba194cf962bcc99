"""The agency catalogue file: what operators edit, validated line by line. Free of SQLAlchemy, so the
tagger's command line starts fast; storage.agencies imports it into the database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from storage.datafile import ItemProblems, load_model
from storage.vocabulary import AREAS, AgencyRole

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


#: Words that name a kind of body, not one body: as an alias the router would guess.
GENERIC_WORDS = frozenset(
    {
        "局",
        "委",
        "办",
        "厅",
        "处",
        "所",
        "站",
        "队",
        "中心",
        "政府",
        "部门",
        "单位",
        "街道",
        "社区",
        "公司",
        "银行",
        "医院",
        "学校",
        "移动",
    }
)


class Catalogue(BaseModel):
    model_config = ConfigDict(extra="forbid")

    region: str = Field(min_length=1, description="The city or county the catalogue describes")
    agencies: list[AgencySpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Catalogue:
        """Cross-entry checks; each problem points at the entry at fault so the error names its line, and
        names the other agency by its code (an operator reads codes, not list positions)."""
        problems: list[tuple[tuple[Any, ...], str]] = []
        first: dict[tuple[str, str], AgencySpec] = {}
        for index, spec in enumerate(self.agencies):
            for key in ("code", "name"):
                value = getattr(spec, key)
                if (key, value) in first:
                    earlier = first[key, value]
                    message = (
                        f"code {value!r} is already used by {earlier.name}"
                        if key == "code"
                        else f"{spec.code}: name {value!r} is already used by {earlier.code}"
                    )
                    problems.append((("agencies", index, key), message))
                first.setdefault((key, value), spec)
        owner: dict[str, int] = {spec.name: index for index, spec in enumerate(self.agencies)}
        for index, spec in enumerate(self.agencies):
            for alias in spec.aliases:
                other = owner.setdefault(alias, index)
                if other != index:
                    named = self.agencies[other]
                    message = f"{spec.code}: alias {alias!r} already names {named.code} ({named.name})"
                    problems.append((("agencies", index, "aliases"), message))
                elif alias in GENERIC_WORDS:
                    problems.append((("agencies", index, "aliases"), f"alias {alias!r} is a generic word"))
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
