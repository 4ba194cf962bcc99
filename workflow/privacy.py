"""What of the citizen each reader gets of a complaint: the one rule for the bot, the dashboard, the API
and the notices sent to agencies and the office.

Two answers from the same facts (who reads, which complaint, whether they act for oversight):

- ``view_for``, which parts: FULL (the words, place and files, and the citizen unless anonymous), TEXT
  (the words only: a transfer's receiver judges whether the complaint is theirs, not who wrote it) or
  SUMMARY (a former owner, whose 首问 responsibility ended);
- ``unmasked_for``, whether personal data in those parts is shown as written (name, phone, and every
  text of the complaint: its words, reasons, the reply, excerpts), or masked with ``redact`` and without
  name or phone:

  - the citizen, of their own complaint: as written;
  - an anonymous complaint, anyone else (owner, oversight; bot, dashboard, API, notices): masked. The
    citizen was promised "承办单位看不到您的姓名". Place and files stay for whoever handles it: nothing
    was promised about them, and a photo may be what it takes to act;
  - a named complaint: as written for who handles it with a FULL view, the owner's clerk in the bot (who
    must be able to call the citizen back) and oversight; masked for everyone else, a transfer's receiver
    and a web viewer who is not oversight (a viewer reads, does not handle).
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from nlp.personal_data import redact
from storage.models import ActorKind, Complaint
from workflow.actors import Actor
from workflow.contacts import is_oversight_agency


class CitizenView(StrEnum):
    """How much of a complaint an actor gets: which parts (``unmasked_for`` says how they read)."""

    FULL = "full"  # the words, place and files; the citizen's name and phone unless anonymous
    TEXT = "text"  # the words only, always masked: a transfer's receiver
    SUMMARY = "summary"  # neither: a former owner


def view_for(actor: Actor, complaint: Complaint, *, oversight: bool) -> CitizenView:
    """``oversight``: the actor acts for the office (by role, or as a contact of the oversight agency).

    首问负责 passes to the receiver when it accepts: until then it reads the text only, and a former owner
    (the first-contact agency after a transfer was accepted, or the previous owner after a ruling) keeps
    a summary."""
    if oversight:
        return CitizenView.FULL
    if actor.kind == ActorKind.CITIZEN:
        own = actor.id is not None and actor.id == complaint.citizen_id
        return CitizenView.FULL if own else CitizenView.SUMMARY
    if actor.agency_id is not None and actor.agency_id == complaint.owner_agency_id:
        return CitizenView.FULL
    if actor.agency_id is not None and actor.agency_id == complaint.transfer_to_agency_id:
        return CitizenView.TEXT
    return CitizenView.SUMMARY


def unmasked_for(actor: Actor, complaint: Complaint, *, oversight: bool) -> bool:
    """Whether the actor reads the citizen's personal data as written (the cases: the module's docstring)."""
    if view_for(actor, complaint, oversight=oversight) is not CitizenView.FULL:
        return False
    if actor.kind == ActorKind.CITIZEN:
        return True  # a FULL view: their own
    if complaint.anonymous:
        return False
    return oversight or actor.kind != ActorKind.WEB_USER


def unmasked_for_contacts(complaint: Complaint, agency_id: int | None) -> bool:
    """``unmasked_for`` the contacts of ``agency_id``, or the office's when None: what a notice to them
    may carry, decided before it is stored in the outbox."""
    if agency_id is None:
        return unmasked_for(Actor(ActorKind.OVERSIGHT, None), complaint, oversight=True)
    return unmasked_for(Actor(ActorKind.CONTACT, None, agency_id), complaint, oversight=False)


async def acts_for_oversight(session: AsyncSession, actor: Actor) -> bool:
    return actor.is_oversight or (
        actor.kind == ActorKind.CONTACT and await is_oversight_agency(session, actor.agency_id)
    )


async def citizen_view(session: AsyncSession, actor: Actor, complaint: Complaint) -> CitizenView:
    """``view_for`` this actor (a visible complaint assumed)."""
    return view_for(actor, complaint, oversight=await acts_for_oversight(session, actor))


async def sees_personal_data(session: AsyncSession, actor: Actor, complaint: Complaint) -> bool:
    """``unmasked_for`` this actor."""
    return unmasked_for(actor, complaint, oversight=await acts_for_oversight(session, actor))


async def sees_citizen(session: AsyncSession, actor: Actor, complaint: Complaint) -> bool:
    """Whether the actor gets the place and the files (masked or not, ``sees_personal_data`` says)."""
    return await citizen_view(session, actor, complaint) is CitizenView.FULL


def shown(text: str | None, unmasked: bool) -> str | None:
    """A text of the complaint as a reader may read it: as written, or its personal data masked."""
    return text if text is None or unmasked else redact(text)
