"""Standalone evaluations of an agency (评议): a citizen rates an agency without a complaint, optionally
scoring the seeds' dimensions and adding a comment that is fed back verbatim (原汁原味).

Also the read-only look-ups the /evaluate picker needs (agencies by area, by name or alias), so the
bot never queries the catalogue itself.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nlp.normalize import normalize
from storage.models import Agency, Citizen, Evaluation, EvaluationKind
from storage.vocabulary import AREAS, EVALUATION_DIMENSIONS, Rating
from workflow.clock import Clock
from workflow.errors import DomainError, NotFound

#: Scores run 1 (poor) to 5 (excellent).
SCORE_RANGE = range(1, 6)
#: Longest comment kept; a longer one is refused rather than cut, so nothing the citizen wrote is lost.
MAX_COMMENT = 1000


def check_scores(scores: Mapping[str, int] | None) -> dict[str, int]:
    """Only known dimensions, each an integer 1–5; anything else is "bad_value" naming the dimension."""
    checked: dict[str, int] = {}
    for dimension, score in (scores or {}).items():
        if dimension not in EVALUATION_DIMENSIONS:
            raise DomainError("bad_value", f"unknown dimension {dimension!r}", field="dimension")
        if isinstance(score, bool) or not isinstance(score, int) or score not in SCORE_RANGE:
            raise DomainError("bad_value", f"score {score!r} for {dimension}", field="score")
        checked[dimension] = score
    return checked


def check_comment(comment: str | None) -> str | None:
    text = (comment or "").strip()
    if len(text) > MAX_COMMENT:
        raise DomainError("bad_value", f"comment of {len(text)} characters", field="comment", limit=MAX_COMMENT)
    return text or None


async def record_evaluation(
    session: AsyncSession,
    clock: Clock,
    *,
    citizen: Citizen,
    agency_id: int,
    rating: Rating | str,
    scores: dict[str, int] | None = None,
    comment: str | None = None,
) -> Evaluation:
    """Store one standalone evaluation. Validates everything first, so a refusal adds nothing; flushes,
    never commits (the channel does)."""
    try:
        rating = Rating(rating)
    except ValueError:
        raise DomainError("bad_value", f"rating {rating!r}", field="rating") from None
    checked_scores = check_scores(scores)
    text = check_comment(comment)
    agency = await session.get(Agency, agency_id)
    if agency is None:
        raise NotFound(f"agency {agency_id}")
    if not agency.active:
        raise DomainError("agency_inactive", f"agency {agency.code} is inactive")
    evaluation = Evaluation(
        kind=EvaluationKind.AGENCY_EVALUATION.value,
        agency_id=agency.id,
        complaint_id=None,
        citizen_id=citizen.id,
        rating=rating.value,
        scores=checked_scores,
        comment=text,
        created_at=clock.now(),
    )
    session.add(evaluation)
    await session.flush()
    return evaluation


# --- the picker's look-ups -------------------------------------------------------------------------


async def _active_agencies(session: AsyncSession) -> list[Agency]:
    return list(await session.scalars(select(Agency).where(Agency.active.is_(True)).order_by(Agency.id)))


async def areas_with_agencies(session: AsyncSession) -> list[str]:
    """The areas (in vocabulary order) that have at least one active agency to evaluate."""
    present = {agency.area for agency in await _active_agencies(session)}
    return [area for area in AREAS if area in present]


async def agencies_in_area(
    session: AsyncSession, area: str, *, limit: int, offset: int = 0
) -> tuple[list[Agency], int]:
    """One page of an area's active agencies (catalogue order) and how many there are in all."""
    agencies = [agency for agency in await _active_agencies(session) if agency.area == area]
    return agencies[offset : offset + limit], len(agencies)


async def evaluable_agency(session: AsyncSession, agency_id: int) -> Agency:
    """The agency a picker button names; gone or inactive ones are refused like a bad choice."""
    agency = await session.get(Agency, agency_id)
    if agency is None:
        raise NotFound(f"agency {agency_id}")
    if not agency.active:
        raise DomainError("agency_inactive", f"agency {agency.code} is inactive")
    return agency


def _key(text: str) -> str:
    """Simplified, half-width, no spaces: 衛生局 and 卫生局 look the same."""
    return "".join(normalize(text).text.split()).lower()


async def search_agencies(session: AsyncSession, query: str, *, limit: int = 8) -> list[Agency]:
    """Active agencies whose name or an alias contains the query, or is contained in it (citizens
    write "市公安局户籍科" as often as "公安"). Exact name or alias matches come first."""
    wanted = _key(query)
    if not wanted:
        return []
    ranked: list[tuple[int, int, Agency]] = []
    for agency in await _active_agencies(session):
        names = [_key(name) for name in (agency.name, *agency.aliases)]
        if wanted in names:
            rank = 0
        elif any(wanted in name for name in names):
            rank = 1
        elif any(len(name) >= 2 and name in wanted for name in names):
            rank = 2
        else:
            continue
        ranked.append((rank, agency.id, agency))
    return [agency for _, _, agency in sorted(ranked, key=lambda item: item[:2])][:limit]
