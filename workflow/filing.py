"""The rules of a complaint being written in a chat, before ``workflow.intake`` registers it: how much
text a draft holds, which phone numbers are accepted, and the agencies a citizen may pick from.

Pure functions and read-only look-ups, so the bot's handlers only render what these decide.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from nlp.normalize import to_half_width
from storage.models import Agency, AgencyRole
from storage.vocabulary import AREAS
from workflow import evaluations
from workflow.contacts import default_owner

MIN_CHARS = 10
#: Text this long sent with no conversation under way is probably a complaint typed before /complain:
#: it is kept and offered for filing (shorter lines, "你好", "我要投诉", get the usual hint).
OFFER_CHARS = 20
#: The most a complaint's text may hold; what goes beyond is cut and the citizen told so.
MAX_CHARS = 20_000
#: Roles a citizen may name as the agency complained about (oversight is who watches them, and is not
#: a handling agency).
CHOOSABLE = frozenset({AgencyRole.AGENCY, AgencyRole.DEFAULT_OWNER})

_MOBILE = re.compile(r"1[3-9]\d{9}")
_LANDLINE = re.compile(r"0\d{2,3}-?\d{7,8}")


@dataclass(frozen=True)
class Appended:
    parts: list[str]
    kept: int  # characters of the new piece that were kept
    dropped: int  # characters of the new piece beyond MAX_CHARS
    repeated: bool = False  # the piece was the previous one again, so not added

    @property
    def chars(self) -> int:
        return length(self.parts)


def length(parts: list[str]) -> int:
    """The characters the citizen wrote, as the citizen is told them: the line breaks that join the
    parts into the filed text are not counted."""
    return sum(len(part) for part in parts)


def is_blank(text: str | None) -> bool:
    """Nothing but spaces and line breaks (full-width spaces included)."""
    return not (text or "").strip()


def is_repeat(previous: str | None, text: str) -> bool:
    """The same message again: a double send on a bad network, to be taken once."""
    return previous is not None and previous.strip() == text.strip()


def worth_offering(text: str) -> bool:
    """Stray text long enough to be a complaint typed before /complain."""
    return len(text.strip()) >= OFFER_CHARS


def append_text(parts: list[str], text: str) -> Appended:
    """Add a piece to the draft, keeping only what fits under MAX_CHARS; the previous piece sent again
    is not added twice."""
    if parts and is_repeat(parts[-1], text):
        return Appended(list(parts), 0, 0, repeated=True)
    room = max(MAX_CHARS - length(parts), 0)
    kept = text[:room]
    return Appended([*parts, kept] if kept else list(parts), len(kept), len(text) - len(kept))


def place_of_pin(latitude: float, longitude: float, title: str | None = None, address: str | None = None) -> str:
    """A location or venue sent for the place, as text the clerk reads: the venue's name and address,
    else the coordinates (bare: every view labels the place already, 地点：…)."""
    if title or address:
        return f"{title}（{address}）" if title and address else (title or address or "")
    return f"纬度 {latitude:.5f}，经度 {longitude:.5f}"


def parse_phone(text: str) -> str | None:
    """A mobile number as 11 digits, whatever the spacing, dashes, full-width digits or +86 prefix;
    or a landline with its area code (0571-87654321). None if it is neither."""
    compact = re.sub(r"[\s()（）]", "", to_half_width(text))
    if _LANDLINE.fullmatch(compact):
        return compact
    digits = compact.replace("-", "")
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            digits = digits[len(prefix) :]
    return digits if _MOBILE.fullmatch(digits) else None


def choosable(agency: Agency) -> bool:
    return agency.active and agency.role in CHOOSABLE


async def pickable_agency(session: AsyncSession, agency_id: int) -> Agency | None:
    """The agency a picker button names, if a citizen may still pick it."""
    agency = await session.get(Agency, agency_id)
    return agency if agency is not None and choosable(agency) else None


async def areas(session: AsyncSession) -> list[str]:
    """Areas that have an agency a citizen may pick, in vocabulary order."""
    present = set()
    for area in await evaluations.areas_with_agencies(session):
        if await agencies_in_area(session, area):
            present.add(area)
    return [area for area in AREAS if area in present]


async def agencies_in_area(session: AsyncSession, area: str) -> list[Agency]:
    """An area's agencies a citizen may pick, in catalogue order (a parent before its offices)."""
    agencies, _ = await evaluations.agencies_in_area(session, area, limit=10_000)
    return [agency for agency in agencies if choosable(agency)]


async def search(session: AsyncSession, query: str) -> list[Agency]:
    """Agencies whose name or alias matches a typed name (the /evaluate search), pickable ones only."""
    return [agency for agency in await evaluations.search_agencies(session, query) if choosable(agency)]


async def fallback_name(session: AsyncSession) -> str:
    """Who takes a complaint whose agency the citizen does not know (and passes it on)."""
    return (await default_owner(session)).name
