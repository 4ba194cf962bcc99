"""Intake: a complaint is stored, numbered and routed in one step (有诉必接: nothing is left unrouted).

The citizen's confirmed agency wins; with none (the tagger was not confident, or the citizen did not
choose) the complaint goes to the default owner (兜底). That agency becomes the first-contact agency
(首问) and the owner, and both clocks start now: a later transfer never restarts them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Attachment,
    Citizen,
    Complaint,
    ComplaintProblem,
    ComplaintStatus,
    EventAction,
    Priority,
)
from storage.tracking import next_tracking_no
from storage.vocabulary import AREAS, PROBLEM_TYPES
from workflow import timers
from workflow.actors import Actor
from workflow.clock import Clock
from workflow.contacts import agency_by_code, default_owner
from workflow.deadlines import Deadlines
from workflow.errors import DomainError
from workflow.guards import flush, iso, record
from workflow.notifications import Notice, notify_agency, notify_citizen


class EvidenceLike(Protocol):
    kind: str
    value: str
    word: str
    start: int
    end: int


class TagResultLike(Protocol):
    """What intake reads from ``nlp.tagger.TagResult`` (duck-typed, so tests may pass their own)."""

    normalized_text: str
    confidence: float
    area: str | None
    problem_types: tuple[str, ...]
    evidence: tuple[EvidenceLike, ...]

    def to_dict(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class AttachmentIn:
    kind: str  # photo | document
    telegram_file_id: str
    telegram_file_unique_id: str | None = None
    file_name: str | None = None
    mime_type: str | None = None
    size: int | None = None


def _evidence_for(tagging: TagResultLike | None, problem_type: str) -> list[dict[str, Any]]:
    return [
        {"kind": e.kind, "value": e.value, "word": e.word, "start": e.start, "end": e.end}
        for e in (tagging.evidence if tagging else ())
        if e.value == problem_type
    ]


async def register_complaint(
    session: AsyncSession,
    clock: Clock,
    deadlines: Deadlines,
    *,
    citizen: Citizen | None,
    text: str,
    tagging: TagResultLike | None,
    agency_code: str | None,
    channel: str = "telegram",
    anonymous: bool = False,
    contact_phone: str | None = None,
    location_text: str | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    attachments: Sequence[AttachmentIn] = (),
    priority: str = "normal",
) -> Complaint:
    """Store, number and assign a complaint; the receipt and the agency's notice go into the outbox."""
    if not (text or "").strip():
        raise DomainError("text_required")
    if priority not in {p.value for p in Priority}:
        raise DomainError("bad_value", f"unknown priority {priority!r}")
    agency = await agency_by_code(session, agency_code) if agency_code else None
    fallback = agency is None or not agency.active
    if fallback:
        agency = await default_owner(session)
    assert agency is not None

    now = clock.now()
    problem_types = [p for p in dict.fromkeys(tagging.problem_types if tagging else ()) if p in PROBLEM_TYPES]
    area = tagging.area if tagging and tagging.area in AREAS else agency.area
    complaint = Complaint(
        tracking_no=await next_tracking_no(session, now, deadlines.zone),
        channel=channel,
        citizen_id=citizen.id if citizen else None,
        status=ComplaintStatus.REGISTERED,
        priority=priority,
        text=text,
        normalized_text=tagging.normalized_text if tagging else "",
        tagging=tagging.to_dict() if tagging else {},
        area=area,
        tag_confidence=tagging.confidence if tagging else None,
        anonymous=anonymous,
        contact_phone=contact_phone,
        location_text=location_text,
        latitude=latitude,
        longitude=longitude,
        created_at=now,
        updated_at=now,
        problems=[ComplaintProblem(problem_type=p, evidence=_evidence_for(tagging, p)) for p in problem_types],
        attachments=[
            Attachment(
                kind=a.kind,
                telegram_file_id=a.telegram_file_id,
                telegram_file_unique_id=a.telegram_file_unique_id,
                file_name=a.file_name,
                mime_type=a.mime_type,
                size=a.size,
                created_at=now,
            )
            for a in attachments
        ],
    )
    session.add(complaint)
    await flush(session)

    actor = Actor.citizen(citizen) if citizen else Actor.system()
    record(
        session,
        complaint,
        actor,
        EventAction.REGISTERED,
        now,
        from_status=None,
        to_status=ComplaintStatus.REGISTERED,
        agency_id=agency.id,
        channel=channel,
    )
    # Assignment: the clocks start here, once; transfers keep them.
    complaint.status = ComplaintStatus.ASSIGNED
    complaint.first_contact_agency_id = complaint.owner_agency_id = agency.id
    complaint.acknowledge_due_at = deadlines.acknowledge_due(now, priority=priority, problem_types=problem_types)
    complaint.resolve_due_at = deadlines.resolve_due(
        now, priority=priority, problem_types=problem_types, promised_days=agency.promised_resolve_days
    )
    record(
        session,
        complaint,
        Actor.system(),
        EventAction.ASSIGNED,
        now,
        from_status=ComplaintStatus.REGISTERED,
        to_status=ComplaintStatus.ASSIGNED,
        agency_id=agency.id,
        to_agency_id=agency.id,
        reason="兜底" if fallback else None,
        default_owner=fallback,
        requested_agency=agency_code,
        acknowledge_due=iso(complaint.acknowledge_due_at),
        resolve_due=iso(complaint.resolve_due_at),
    )
    await flush(session)
    await timers.reschedule(session, complaint, deadlines)

    await notify_citizen(
        session,
        complaint,
        Notice.RECEIPT,
        agency_name=agency.name,
        acknowledge_due_text=deadlines.describe(complaint.acknowledge_due_at, now=now),
        resolve_due_text=deadlines.describe(complaint.resolve_due_at, now=now),
        now=now,
    )
    await notify_agency(
        session,
        agency.id,
        Notice.NEW_IN_QUEUE,
        complaint=complaint,
        agency_name=agency.name,
        problem_types=problem_types,
        area=area,
        anonymous=anonymous,
        now=now,
    )
    await flush(session)
    return complaint
