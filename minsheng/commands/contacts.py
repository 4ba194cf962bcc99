"""`minsheng contacts`: invite agency contacts to the bot, list them, revoke them (or an unused invite).

An invite code is printed once; the person sends ``/bind CODE`` to the bot. A revoke takes effect at
once for every action (each update looks the contact up); their command menu is reset on their next
update, since the command line cannot reach Telegram.
"""

from __future__ import annotations

from typing import Any

import click

from minsheng.commands.context import local_time, run_async, settings_from, with_engine

ROLES = click.Choice(["clerk", "lead", "oversight"])


def _refusal(exc: Exception) -> click.ClickException:
    return click.ClickException(f"refused: {getattr(exc, 'code', '')} {getattr(exc, 'detail', '')}".strip())


@click.group()
def contacts() -> None:
    """Agency contacts in the bot and their invites.

    Contacts are clerks, leads and the oversight office; each binds with a one-time invite code."""


@contacts.command("invite")
@click.option("--agency", "agency_code", required=True, help="Agency code (see `minsheng agencies list`)")
@click.option("--role", type=ROLES, required=True)
@click.option("--days", "valid_days", type=click.IntRange(min=1), default=7, show_default=True, help="Valid for")
@click.pass_context
def contacts_invite(ctx: click.Context, agency_code: str, role: str, valid_days: int) -> None:
    """Create a one-time invite code and print it."""
    from storage.db import create_session_factory
    from workflow.clock import SystemClock
    from workflow.errors import DomainError
    from workflow.invites import create_invite

    async def work(engine: Any) -> str:
        async with create_session_factory(engine)() as session:
            try:
                code = await create_invite(session, SystemClock(), agency_code, role, valid_days)
            except DomainError as exc:
                if exc.code == "not_found":
                    message = f"no agency with code {agency_code!r}; see `minsheng agencies list`"
                    raise click.ClickException(message) from None
                raise _refusal(exc) from None
            await session.commit()
            return code

    code = run_async(with_engine(work)(settings_from(ctx)))
    click.echo(code)
    click.echo(
        f"one-time {role} invite for {agency_code}, valid {valid_days} days: send /bind {code} to the bot", err=True
    )


@contacts.command("revoke-invite")
@click.argument("code")
@click.pass_context
def contacts_revoke_invite(ctx: click.Context, code: str) -> None:
    """Withdraw an unused invite CODE.

    /bind CODE is then refused as an expired code is. Unused invites are listed by
    `minsheng contacts list --invites`."""
    from storage.db import create_session_factory
    from workflow.clock import SystemClock
    from workflow.invites import ContactError, revoke_invite

    settings = settings_from(ctx)
    clock = SystemClock()

    async def work(engine: Any) -> tuple[Any, str, bool]:
        async with create_session_factory(engine)() as session:
            before = clock.now()
            try:
                invite, agency_code = await revoke_invite(session, clock, code)
            except ContactError as exc:
                hint = ""
                if exc.code == "invite_used":  # the access was granted: the contact is what to revoke
                    hint = f"; to take the access back: minsheng contacts revoke {exc.params['contact_id']}"
                raise click.ClickException(_refusal(exc).message + hint) from None
            await session.commit()
            return invite, agency_code, invite.revoked_at < before  # revoked by an earlier call

    invite, agency_code, already = run_async(with_engine(work)(settings))
    if already:
        when = local_time(settings, invite.revoked_at)
        click.echo(f"invite {invite.code} ({agency_code}, {invite.role}) was already revoked on {when}")
        return
    click.echo(f"revoked invite {invite.code} ({agency_code}, {invite.role}): /bind {invite.code} is now refused")


@contacts.command("list")
@click.option("--active", "active_only", is_flag=True, help="Only contacts who may still act")
@click.option(
    "--invites", "show_invites", is_flag=True, help="Also list usable invites (unused, unexpired, not revoked)"
)
@click.pass_context
def contacts_list(ctx: click.Context, active_only: bool, show_invites: bool) -> None:
    """List contacts: id, Telegram id, agency, role, name, state."""
    from storage.db import create_session_factory
    from workflow.clock import SystemClock
    from workflow.invites import list_contacts, pending_invites

    async def work(engine: Any) -> tuple[list[Any], list[Any]]:
        async with create_session_factory(engine)() as session:
            found = await list_contacts(session, include_revoked=not active_only)
            invites = await pending_invites(session, SystemClock()) if show_invites else []
            return found, invites

    settings = settings_from(ctx)
    found, invites = run_async(with_engine(work)(settings))
    click.echo(f"{'ID':<5} {'TELEGRAM':<14} {'AGENCY':<24} {'ROLE':<10} NAME  [STATE]")
    for contact, code in found:
        state = "active" if contact.active else f"revoked {local_time(settings, contact.revoked_at)}"
        click.echo(
            f"{contact.id:<5} {contact.telegram_user_id:<14} {code:<24} {contact.role:<10} "
            f"{contact.display_name or '-'}  [{state}]"
        )
    for invite, code in invites:
        expires = local_time(settings, invite.expires_at)
        click.echo(f"invite {invite.code} {code:<24} {invite.role:<10} expires {expires}")


@contacts.command("revoke")
@click.argument("contact")
@click.pass_context
def contacts_revoke(ctx: click.Context, contact: str) -> None:
    """Revoke a contact, by contact id or Telegram user id."""
    from storage.db import create_session_factory
    from storage.models import Agency
    from workflow.clock import SystemClock
    from workflow.contacts import agency_chat_ids
    from workflow.invites import find_contact, revoke
    from workflow.queues import open_count

    async def work(engine: Any) -> tuple[int, str, str, int] | None:
        """The contact revoked, and what its agency is left with: its code and its open complaints if no
        active contact remains to be notified of them (else 0)."""
        async with create_session_factory(engine)() as session:
            found = await find_contact(session, contact)
            if found is None:
                return None
            await revoke(session, SystemClock(), found)
            await session.commit()
            agency = await session.get_one(Agency, found.agency_id)
            orphaned = 0 if await agency_chat_ids(session, agency.id) else await open_count(session, agency.id)
            return found.id, found.display_name, agency.code, orphaned

    result = run_async(with_engine(work)(settings_from(ctx)))
    if result is None:
        raise click.ClickException(f"no contact {contact!r} (see `minsheng contacts list`)")
    contact_id, name, agency_code, orphaned = result
    click.echo(f"revoked contact {contact_id} {name}".rstrip())
    if orphaned:
        click.echo(
            f"warning: {agency_code} has no active contact left and {orphaned} open complaint"
            f"{'s' if orphaned != 1 else ''}: it will get no notices until someone binds "
            f"(minsheng contacts invite --agency {agency_code} --role clerk)",
            err=True,
        )
