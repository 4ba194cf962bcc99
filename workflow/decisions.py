"""What the oversight office decides on and what became of it, read from the complaint's events.

A decision message (a /pending entry, a notice, a card) outlives its question: a colleague may have
decided it, or the agency resolved the complaint first. ``decision_outcome`` says what happened and
who did it, so a channel can show it where the question was asked. A message that names its question
(the asking event's id) gets that question's answer, even when a newer one of the same kind is open.
``declined_transfers`` gives both sides of a transfer dispute, the sender's reason and the receiver's
basis, for the ruling (审定), as the office may read them (``workflow.privacy``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    ActorKind,
    AgencyContact,
    Complaint,
    ComplaintEvent,
    ComplaintStatus,
    EventAction,
    WebUser,
)
from workflow.contacts import agency_names
from workflow.extensions import SETTLING
from workflow.privacy import shown, unmasked_for_contacts
from workflow.transitions import Action

A = EventAction

#: Per decision: the events that ask it anew, and those that answer (or make moot) the latest ask. A
#: flag has no ask: its latest change is the answer.
_QUESTIONS: dict[Action, tuple[tuple[EventAction, ...], tuple[EventAction, ...]]] = {
    Action.DECIDE_EXTENSION: ((A.EXTENSION_REQUESTED,), SETTLING),
    Action.RULE: ((A.TRANSFER_DECLINED,), (A.DISPUTE_RULED, A.WITHDRAWN)),
    Action.SET_MAJOR: ((), (A.MAJOR_SET, A.MAJOR_CLEARED)),
    Action.CLEAR_MAJOR: ((), (A.MAJOR_SET, A.MAJOR_CLEARED)),
}


@dataclass(frozen=True)
class Outcome:
    action: str  # the answering EventAction: extension_approved, dispute_ruled, resolved, major_set …
    at: datetime
    by: str | None  # the person who decided, when a person did
    agency: str | None = None  # a ruling's named owner


@dataclass(frozen=True)
class Move:
    """One side of a transfer: which agency, who there, when, and why."""

    agency: str | None
    by: str | None
    at: datetime
    reason: str | None


@dataclass(frozen=True)
class DeclinedTransfer:
    to_agency: str | None
    sent: Move  # the sender's transfer and its reason
    declined: Move  # the receiver's decline and its basis


async def _events(session: AsyncSession, complaint_id: int, actions: Iterable[EventAction]) -> list[ComplaintEvent]:
    return list(
        await session.scalars(
            select(ComplaintEvent)
            .where(ComplaintEvent.complaint_id == complaint_id, ComplaintEvent.action.in_([a.value for a in actions]))
            .order_by(ComplaintEvent.id)
        )
    )


async def _people(session: AsyncSession, events: Iterable[ComplaintEvent]) -> dict[tuple[str, int], str]:
    """Names of the contacts and web users who acted, by (actor kind, id)."""
    ids: dict[str, set[int]] = {ActorKind.CONTACT: set(), ActorKind.WEB_USER: set()}
    for event in events:
        if event.actor_kind in ids and event.actor_id is not None:
            ids[event.actor_kind].add(event.actor_id)
    names: dict[tuple[str, int], str] = {}
    if ids[ActorKind.CONTACT]:
        rows = await session.execute(
            select(AgencyContact.id, AgencyContact.display_name).where(AgencyContact.id.in_(ids[ActorKind.CONTACT]))
        )
        names |= {(ActorKind.CONTACT, i): name for i, name in rows if name}
    if ids[ActorKind.WEB_USER]:
        rows = await session.execute(
            select(WebUser.id, WebUser.username).where(WebUser.id.in_(ids[ActorKind.WEB_USER]))
        )
        names |= {(ActorKind.WEB_USER, i): name for i, name in rows if name}
    return names


def _by(names: dict[tuple[str, int], str], event: ComplaintEvent) -> str | None:
    return names.get((event.actor_kind, event.actor_id)) if event.actor_id is not None else None


async def decision_outcome(
    session: AsyncSession, complaint_id: int, action: Action, question: int | None = None
) -> Outcome | None:
    """What answered the question ``action`` decides (an extension request, the dispute, the flag), and
    who answered it; None while it is still open. ``question``, the event id of the ask a message showed,
    picks that one out (a newer request may be open meanwhile); otherwise the latest ask."""
    asks, answers = _QUESTIONS[action]
    events = await _events(session, complaint_id, (*asks, *answers))
    ask_ids = [e.id for e in events if e.action in asks and _asks(action, e)]
    if question is None:
        question = ask_ids[-1] if ask_ids else (None if asks else 0)  # a flag: its latest change
    if question is None:
        return None
    following = [e for e in events if e.id > question and e.action in answers]
    following = [e for e in following if not any(question < ask <= e.id for ask in ask_ids)]  # not a later ask's
    if not following:
        return None
    answer = following[0] if asks else following[-1]
    names = await _people(session, [answer])
    agency = (await agency_names(session, [answer.to_agency_id])).get(answer.to_agency_id or 0)
    return Outcome(answer.action, answer.at, _by(names, answer), agency if answer.action == A.DISPUTE_RULED else None)


def _asks(action: Action, event: ComplaintEvent) -> bool:
    """Only the decline that sent the complaint to oversight asks for a ruling."""
    return action != Action.RULE or event.to_status == ComplaintStatus.DISPUTED


async def declined_transfers(session: AsyncSession, complaint_id: int) -> list[DeclinedTransfer]:
    """Every transfer the receiver sent back, oldest first: what a dispute is made of. Its reasons and
    bases are texts of the complaint, read by the office: masked for an anonymous complaint."""
    events = await _events(
        session, complaint_id, (A.TRANSFER_REQUESTED, A.TRANSFER_DECLINED, A.TRANSFER_WITHDRAWN, A.TRANSFER_ACCEPTED)
    )
    pairs: list[tuple[ComplaintEvent, ComplaintEvent]] = []
    sent: ComplaintEvent | None = None
    for event in events:
        if event.action == A.TRANSFER_REQUESTED:
            sent = event
        elif event.action == A.TRANSFER_DECLINED and sent is not None:
            pairs.append((sent, event))
            sent = None
        else:
            sent = None
    names = await _people(session, [e for pair in pairs for e in pair])
    agencies = await agency_names(session, [e.from_agency_id for pair in pairs for e in pair])
    unmasked = unmasked_for_contacts(await session.get_one(Complaint, complaint_id), None)

    def move(event: ComplaintEvent) -> Move:
        agency = agencies.get(event.from_agency_id) if event.from_agency_id is not None else None
        return Move(agency, _by(names, event), event.at, shown(event.reason, unmasked))

    return [DeclinedTransfer(move(declined).agency, move(sent), move(declined)) for sent, declined in pairs]
