"""Messages to people, as outbox rows written in the transaction that causes them.

``kind`` is a ``Notice``; the sender renders it from the channel's message catalogue with ``params``.
Params are ids and plain values only, and what goes to agencies or oversight never names the citizen:
an anonymous complaint must stay anonymous, and no agency needs a citizen's identity to read a notice.
A notice that asks a question (an extension request, a transfer) carries ``question_id``, the asking
event's id, so its buttons answer that question and never a newer one it did not show.

A reason an official typed reaches the citizen only where the prompt told them it would (a transfer's
reason) or where the citizen must know why they wait longer (an approved extension's reason). A decline's
basis, a ruling's reason and an extension refused stay between the agencies and the office: the citizen
hears what happened and who handles the complaint now, and never of a request that changed nothing.

A text a person wrote that a notice carries (``TEXT_PARAMS``: a 不满意 reason, a request's reason, a
decline's basis) is stored in the outbox as its recipients may read it (``workflow.privacy``): an
anonymous complaint's personal data masked for every agency and the office, a named one's masked for
any agency but its owner.

A deadline is told as it stands when the notice is made: one already passed is said to have passed
(``resolve_due_params``), never written as if still ahead.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Agency, Citizen, Complaint
from workflow.contacts import agency_chat_ids, oversight_chat_ids
from workflow.deadlines import Deadlines
from workflow.outbox import enqueue
from workflow.privacy import shown, unmasked_for_contacts

#: Params that carry a text a person wrote, which may hold personal data.
TEXT_PARAMS = ("reason", "comment", "basis")


class Notice(StrEnum):
    # to the citizen
    RECEIPT = "complaint.receipt"  # tracking number, agency, deadlines
    TRANSFERRED = "complaint.transferred"  # 首问: the unit it is being handed to, named
    ACCEPTED = "complaint.accepted"  # 受理, by whom and the resolve deadline
    RESOLVED = "complaint.resolved"  # the reply; the citizen gets rating buttons
    RATING_REMINDER = "complaint.rating_reminder"  # not rated yet, the window closes soon: the buttons again
    REOPENED = "complaint.reopened"  # 重办 with its new deadline
    EXTENDED = "complaint.extended"  # an approved extension: why, and the new deadline
    CLOSED = "complaint.closed"
    CLOSED_UNRATED = "complaint.closed_unrated"  # the rating window passed: closed as 未评价
    WITHDRAWN = "complaint.withdrawn"  # confirmation to the citizen; also to the agency
    TRANSFER_WITHDRAWN_FOR_CITIZEN = "complaint.transfer_withdrawn"  # 撤回转办: it stays where it was
    TRANSFER_DECLINED_FOR_CITIZEN = "complaint.transfer_declined"  # 退回: back with the owner, or to oversight
    RULED_FOR_CITIZEN = "complaint.ruled"  # 审定: the agency that handles it
    # to agencies
    NEW_IN_QUEUE = "agency.new_complaint"
    TRANSFER_IN = "agency.transfer_in"  # to the receiver: accept or decline
    TRANSFER_ACCEPTED = "agency.transfer_accepted"  # to the sender
    TRANSFER_DECLINED = "agency.transfer_declined"  # to the sender, with the basis ("disputed": to oversight)
    TRANSFER_WITHDRAWN = "agency.transfer_withdrawn"  # to the receiver: the sender took it back
    RULED = "agency.ruled"  # 审定: to every agency of the dispute ("handles": the named one)
    RATED = "agency.rated"
    REOPENED_FOR_AGENCY = "agency.reopened"
    EXTENSION_DECIDED = "agency.extension_decided"  # to the owner: approved or refused, with the deadline
    CLOSED_UNRATED_FOR_AGENCY = "agency.closed_unrated"  # no rating in the window: the case is closed
    MAJOR_SET = "agency.major_set"  # 挂牌督办
    MAJOR_CLEARED = "agency.major_cleared"  # 消号
    REMINDER = "agency.reminder"  # 预警 (sent by the timekeeper)
    OVERDUE = "agency.overdue"  # 催办 (timekeeper)
    # to oversight
    EXTENSION_REQUESTED = "oversight.extension_requested"
    DISPUTE = "oversight.dispute"  # declined twice: rule (审定)
    ESCALATED = "oversight.escalated"  # 督办 (timekeeper)
    DISSATISFIED_AGAIN = "oversight.dissatisfied_again"  # 不满意 after 重办


def complaint_params(complaint: Complaint) -> dict[str, Any]:
    """What every notice about a complaint may show: its identity and deadlines, never the citizen."""
    return {
        "complaint_id": complaint.id,
        "tracking_no": complaint.tracking_no,
        "status": complaint.status,
        "major": complaint.major,
        "acknowledge_due": complaint.acknowledge_due_at.isoformat() if complaint.acknowledge_due_at else None,
        "resolve_due": complaint.resolve_due_at.isoformat() if complaint.resolve_due_at else None,
    }


def resolve_due_params(deadlines: Deadlines, complaint: Complaint, now: datetime) -> dict[str, Any]:
    """The resolve deadline for a notice's text: ``resolve_due_text`` ("12月10日（周四）17:30前"), or when it
    has already passed the bare moment and ``due_passed``, which picks the text that says so."""
    due = complaint.resolve_due_at
    if due is None:
        return {"resolve_due_text": None}
    if due <= now:
        return {"resolve_due_text": deadlines.describe_moment(due, now=now), "due_passed": True}
    return {"resolve_due_text": deadlines.describe(due, now=now)}


async def agency_name(session: AsyncSession, agency_id: int | None) -> str | None:
    if agency_id is None:
        return None
    return await session.scalar(select(Agency.name).where(Agency.id == agency_id))


async def notify_citizen(
    session: AsyncSession, complaint: Complaint, kind: Notice, *, now: datetime, **params: Any
) -> None:
    """To the complaint's citizen; skipped when there is none or they have no Telegram id (web intake).

    ``now`` is the workflow clock's moment of the change: the notice is due from then, not from the
    wall clock, so a sender on the same clock delivers it at once.
    """
    if complaint.citizen_id is None:
        return
    chat_id = await session.scalar(select(Citizen.telegram_user_id).where(Citizen.id == complaint.citizen_id))
    if chat_id is None:
        return
    enqueue(
        session,
        chat_id=chat_id,
        kind=kind.value,
        params=complaint_params(complaint) | params,
        complaint_id=complaint.id,
        now=now,
    )


async def notify_agency(
    session: AsyncSession,
    agency_id: int,
    kind: Notice,
    *,
    now: datetime,
    leads_only: bool = False,
    complaint: Complaint | None = None,
    **params: Any,
) -> None:
    """To every active contact of the agency (its leads only, for escalations)."""
    chat_ids = await agency_chat_ids(session, agency_id, leads_only=leads_only)
    await _send(session, chat_ids, kind, complaint, params, agency_id=agency_id, now=now)


async def notify_oversight(
    session: AsyncSession, kind: Notice, *, now: datetime, complaint: Complaint | None = None, **params: Any
) -> None:
    await _send(session, await oversight_chat_ids(session), kind, complaint, params, agency_id=None, now=now)


async def _send(
    session: AsyncSession,
    chat_ids: list[int],
    kind: Notice,
    complaint: Complaint | None,
    params: dict[str, Any],
    *,
    agency_id: int | None,
    now: datetime,
) -> None:
    """To contacts of ``agency_id`` (None: the office), the texts masked as they may read them."""
    payload = (complaint_params(complaint) if complaint is not None else {}) | params
    if complaint is not None and not unmasked_for_contacts(complaint, agency_id):
        payload |= {name: shown(payload[name], False) for name in TEXT_PARAMS if isinstance(payload.get(name), str)}
    for chat_id in dict.fromkeys(chat_ids):  # a contact listed twice gets one message
        enqueue(
            session,
            chat_id=chat_id,
            kind=kind.value,
            params=payload,
            complaint_id=complaint.id if complaint is not None else None,
            now=now,
        )
