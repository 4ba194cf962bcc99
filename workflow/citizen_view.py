"""What a citizen may see of their own complaints: the list behind /my and the timeline behind /status.

A complaint that is not the caller's is "not_found", exactly like a wrong number, so tracking numbers
cannot be probed. The timeline shows what the citizen is entitled to know (who has it, accepted,
transferred to whom, sent back, put to the office and ruled, extended, replied, rated) and leaves out
the agencies' internal accountability (reminders, 催办, 督办, notes), the reasons officials typed and
any clerk's identity.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from nlp.normalize import to_half_width
from storage.models import Agency, Citizen, Complaint, ComplaintEvent, ComplaintStatus, EventAction
from workflow.actors import Actor
from workflow.visibility import complaint_for_actor, complaint_for_citizen, complaints_of_citizen

_TRACKING_NO = re.compile(r"(\d{8})[-—–]?(\d{4,5})")
_TRACKING_NO_IN_TEXT = re.compile(r"(?<!\d)(\d{8})-(\d{4,5})(?!\d)")
#: What surrounds a pasted number: its label (as the receipt writes it, in either script), a leading #,
#: colons, spaces, brackets, quotes and closing punctuation (20261203-0001？).
_NUMBER_NOISE = re.compile(r"(?:受理|投[诉訴])?[编編][号號]|[#＃:：\s()（）“”「」\"'.。．,，、!！?？]")

#: Events a citizen sees on their complaint's timeline, in the order they may happen.
CITIZEN_VISIBLE = (
    EventAction.REGISTERED,
    EventAction.ASSIGNED,
    EventAction.TRANSFER_REQUESTED,
    EventAction.TRANSFER_ACCEPTED,
    EventAction.TRANSFER_WITHDRAWN,
    EventAction.TRANSFER_DECLINED,
    EventAction.DISPUTE_RULED,
    EventAction.ACCEPTED,
    EventAction.EXTENSION_APPROVED,
    EventAction.RESOLVED,
    EventAction.RATED,
    EventAction.REOPENED,
    EventAction.CLOSED,
    EventAction.WITHDRAWN,
)
#: Events whose reason the citizen wrote themselves, so it is theirs to read back.
_OWN_REASONS = frozenset({EventAction.RATED, EventAction.WITHDRAWN})
#: Not an event of its own: the decline that sends a complaint to the office (提请审定) is also this step.
DISPUTE_REQUESTED = "dispute_requested"


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    action: str  # an ``EventAction`` value, or DISPUTE_REQUESTED
    agency: str | None  # the agency the step concerns (the owner, or the receiver of a transfer)
    reason: str | None  # only the citizen's own words
    data: dict[str, Any]
    from_agency: str | None = None  # where a transfer, decline or ruling moved it from


@dataclass(frozen=True)
class CitizenComplaint:
    complaint: Complaint
    timeline: list[TimelineEntry]


async def my_complaints(
    session: AsyncSession, citizen: Citizen, *, page: int, per_page: int
) -> tuple[list[Complaint], bool]:
    """One page of the citizen's complaints, newest first, and whether there is a next page."""
    rows = await complaints_of_citizen(session, citizen.id, limit=per_page + 1, offset=max(page, 0) * per_page)
    return rows[:per_page], len(rows) > per_page


async def timeline(session: AsyncSession, complaint: Complaint) -> list[TimelineEntry]:
    from_agency, to_agency = aliased(Agency), aliased(Agency)
    rows = await session.execute(
        select(ComplaintEvent, Agency.name, from_agency.name, to_agency.name)
        .outerjoin(Agency, Agency.id == ComplaintEvent.agency_id)
        .outerjoin(from_agency, from_agency.id == ComplaintEvent.from_agency_id)
        .outerjoin(to_agency, to_agency.id == ComplaintEvent.to_agency_id)
        .where(
            ComplaintEvent.complaint_id == complaint.id,
            ComplaintEvent.action.in_([action.value for action in CITIZEN_VISIBLE]),
        )
        .order_by(ComplaintEvent.id)
    )
    entries = []
    for event, agency_name, from_agency_name, to_agency_name in rows:
        action = EventAction(event.action)
        entries.append(
            TimelineEntry(
                at=event.at,
                action=action.value,
                agency=to_agency_name or agency_name,
                reason=event.reason if action in _OWN_REASONS else None,
                data=dict(event.data or {}),
                from_agency=from_agency_name,
            )
        )
        if action == EventAction.TRANSFER_DECLINED and event.to_status == ComplaintStatus.DISPUTED:
            entries.append(TimelineEntry(at=event.at, action=DISPUTE_REQUESTED, agency=None, reason=None, data={}))
    return entries


def parse_tracking_no(text: str) -> str | None:
    """A tracking number as people paste or type it (``202612030001``, ``#20261203-0001``,
    ``受理编号：２０２６１２０３－０００１``) in its stored form ``20261203-0001``; None if the text is
    anything else."""
    compact = _NUMBER_NOISE.sub("", to_half_width(text))
    found = _TRACKING_NO.fullmatch(compact)
    return f"{found.group(1)}-{found.group(2)}" if found else None


def find_tracking_no(text: str) -> str | None:
    """The first tracking number anywhere in a text, e.g. in one of the bot's own messages forwarded back."""
    found = _TRACKING_NO_IN_TEXT.search(to_half_width(text))
    return f"{found.group(1)}-{found.group(2)}" if found else None


async def complaint_by_number(session: AsyncSession, citizen: Citizen, tracking_no: str) -> CitizenComplaint:
    """/status: the caller's own complaint with its timeline; anyone else's is "not_found"."""
    number = parse_tracking_no(tracking_no) or to_half_width(tracking_no).strip()
    complaint = await complaint_for_citizen(session, citizen.id, number)
    return CitizenComplaint(complaint, await timeline(session, complaint))


async def complaint_by_id(session: AsyncSession, citizen: Citizen, complaint_id: int) -> CitizenComplaint:
    """The same, from a button carrying the complaint's id."""
    complaint = await complaint_for_actor(session, Actor.citizen(citizen), complaint_id)
    return CitizenComplaint(complaint, await timeline(session, complaint))
