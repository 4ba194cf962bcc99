"""Who may act for an agency in the bot: one-time invite codes, binding, revoking.

The oversight office creates an invite for an agency and a role; the person it is given to sends
``/bind CODE`` and becomes that agency's contact. A code works once and expires (7 days by default);
the office may revoke an unused one sooner, and /bind then refuses it as it refuses an expired one.

One Telegram user is one contact (``agency_contact.telegram_user_id`` is unique). Decisions:

- a user who is an *active* contact cannot bind again (``already_bound``): moving someone to another
  agency or role is an explicit revoke first, never a silent side effect of a code;
- a *revoked* contact may bind with a new code: the same row is reactivated with the code's agency
  and role (events keep their own ``agency_id``, so history still counts for the old agency).

Every refusal is a ``ContactError`` (a ``DomainError`` with one of the codes below), rendered by the
channel like any other domain error; nothing is written when one is raised.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.models import Agency, AgencyContact, AgencyRole, ContactRole, InviteCode
from workflow.clock import Clock
from workflow.contacts import agency_by_code
from workflow.errors import DomainError

#: Base32 without the look-alikes 0/O and 1/I: easy to read out over the phone.
ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 8
DEFAULT_VALID_DAYS = 7

CONTACT_CODES: frozenset[str] = frozenset(
    {
        "invite_unknown",  # no such invite code
        "invite_used",  # the code was already used
        "invite_expired",  # the code is past its expiry
        "already_bound",  # this Telegram user is already an active contact
        "not_a_contact",  # this Telegram user never bound: agency commands are refused
        "contact_revoked",  # this Telegram user's contact was revoked
    }
)


class ContactError(DomainError):
    """A refusal about who is a contact; its codes extend ``workflow.errors.CODES``."""

    def __init__(self, code: str, detail: str = "", **params: Any) -> None:
        if code not in CONTACT_CODES:
            raise ValueError(f"unknown contact error code {code!r}")
        self.code, self.detail, self.params = code, detail, params
        Exception.__init__(self, f"{code}: {detail}" if detail else code)


def normalize_code(code: str) -> str:
    """What a person types: spaces, dashes and lower case are forgiven."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


async def create_invite(
    session: AsyncSession, clock: Clock, agency_code: str, role: str, valid_days: int = DEFAULT_VALID_DAYS
) -> str:
    """A fresh one-time code for ``agency_code`` and ``role``; the caller commits."""
    try:
        role = ContactRole(role).value
    except ValueError:
        raise DomainError("bad_value", f"unknown role {role!r}") from None
    if valid_days < 1:
        raise DomainError("bad_value", "valid_days must be at least 1")
    agency = await agency_by_code(session, agency_code)
    if agency is None:
        raise DomainError("not_found", f"agency {agency_code}")
    if not agency.active:
        raise DomainError("agency_inactive", f"agency {agency_code} is inactive")
    now = clock.now()
    while True:
        code = new_code()
        if await session.scalar(select(InviteCode.id).where(InviteCode.code == code)) is None:
            break
    session.add(
        InviteCode(
            code=code,
            agency_id=agency.id,
            role=role,
            created_at=now,
            expires_at=now + timedelta(days=valid_days),
        )
    )
    await session.flush()
    return code


async def bind(
    session: AsyncSession, clock: Clock, code: str, telegram_user_id: int, display_name: str
) -> AgencyContact:
    """Use an invite: the Telegram user becomes (or becomes again) a contact of its agency."""
    invite = await session.scalar(select(InviteCode).where(InviteCode.code == normalize_code(code)))
    if invite is None:
        raise ContactError("invite_unknown")
    now = clock.now()
    if invite.used_at is not None:
        raise ContactError("invite_used")
    if invite.revoked_at is not None or now >= invite.expires_at:
        raise ContactError("invite_expired", "revoked" if invite.revoked_at else "")
    contact = await session.scalar(select(AgencyContact).where(AgencyContact.telegram_user_id == telegram_user_id))
    if contact is not None and contact.active:
        raise ContactError("already_bound", agency_id=contact.agency_id)
    if contact is None:
        contact = AgencyContact(telegram_user_id=telegram_user_id)
        session.add(contact)
    contact.agency_id = invite.agency_id
    contact.role = invite.role
    contact.display_name = display_name[:200]
    contact.active = True
    contact.revoked_at = None
    await session.flush()
    # Marked used only if still unused and not revoked: of two people racing with one code, or a
    # person and the office revoking it, exactly one wins.
    claimed = await session.execute(
        update(InviteCode)
        .where(InviteCode.id == invite.id, InviteCode.used_at.is_(None), InviteCode.revoked_at.is_(None))
        .values(used_at=now, used_by_contact_id=contact.id)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise ContactError("invite_used")
    await session.refresh(contact, ["agency"])
    return contact


async def revoke(session: AsyncSession, clock: Clock, contact: AgencyContact) -> AgencyContact:
    """The contact can no longer act; their pending invites stay as they are. Idempotent."""
    if contact.active:
        contact.active = False
        contact.revoked_at = clock.now()
        await session.flush()
    return contact


async def revoke_invite(session: AsyncSession, clock: Clock, code: str) -> tuple[InviteCode, str]:
    """Withdraw an unused invite (given to the wrong person, or no longer wanted), with its agency
    code. Idempotent; a used one is refused, since its contact is revoked instead. The caller commits."""
    found = (
        await session.execute(
            select(InviteCode, Agency.code)
            .join(Agency, Agency.id == InviteCode.agency_id)
            .where(InviteCode.code == normalize_code(code))
        )
    ).first()
    if found is None:
        raise ContactError("invite_unknown")
    invite, agency_code = found
    if invite.revoked_at is None:
        # Only if still unused: a /bind that wins the race keeps its contact, and is reported below.
        await session.execute(
            update(InviteCode)
            .where(InviteCode.id == invite.id, InviteCode.used_at.is_(None), InviteCode.revoked_at.is_(None))
            .values(revoked_at=clock.now())
            .execution_options(synchronize_session=False)
        )
        await session.refresh(invite)
    if invite.used_at is not None:
        contact = invite.used_by_contact_id
        raise ContactError("invite_used", f"by contact {contact}", contact_id=contact)
    return invite, agency_code


async def require_contact(session: AsyncSession, telegram_user_id: int) -> AgencyContact:
    """The active contact a Telegram user acts as, looked up on every update; refusals explain why."""
    contact = await session.scalar(
        select(AgencyContact)
        .options(selectinload(AgencyContact.agency))
        .where(AgencyContact.telegram_user_id == telegram_user_id)
    )
    if contact is None:
        raise ContactError("not_a_contact")
    if not contact.active:
        raise ContactError("contact_revoked")
    return contact


def acts_as_oversight(contact: AgencyContact) -> bool:
    """An oversight-role contact, or any contact of the oversight office (效能办); needs ``agency``
    loaded (``require_contact`` and ``bind`` load it). Mirrors ``guards.require_oversight``."""
    return contact.role == ContactRole.OVERSIGHT or contact.agency.role == AgencyRole.OVERSIGHT


async def find_contact(session: AsyncSession, ident: str) -> AgencyContact | None:
    """A contact by id or Telegram user id (what an operator has at hand)."""
    if not ident.isdigit():
        return None
    number = int(ident)
    return await session.scalar(
        select(AgencyContact)
        .where((AgencyContact.id == number) | (AgencyContact.telegram_user_id == number))
        .order_by(AgencyContact.telegram_user_id == number)
        .limit(1)
    )


async def list_contacts(session: AsyncSession, *, include_revoked: bool = True) -> list[tuple[AgencyContact, str]]:
    """Contacts with their agency code, by agency then id."""
    query = select(AgencyContact, Agency.code).join(Agency, Agency.id == AgencyContact.agency_id)
    if not include_revoked:
        query = query.where(AgencyContact.active.is_(True))
    rows = await session.execute(query.order_by(Agency.code, AgencyContact.id))
    return [(contact, code) for contact, code in rows]


async def pending_invites(session: AsyncSession, clock: Clock) -> list[tuple[InviteCode, str]]:
    """Invites that still work (unused, unrevoked, unexpired) with their agency code."""
    rows = await session.execute(
        select(InviteCode, Agency.code)
        .join(Agency, Agency.id == InviteCode.agency_id)
        .where(InviteCode.used_at.is_(None), InviteCode.revoked_at.is_(None), InviteCode.expires_at > clock.now())
        .order_by(InviteCode.id)
    )
    return [(invite, code) for invite, code in rows]
