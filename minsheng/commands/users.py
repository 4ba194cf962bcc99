"""`minsheng users` and `minsheng api-token`: dashboard accounts and JSON API tokens.

The first oversight account is made here (there is no sign-up page): passwords are prompted twice
and stored only as scrypt hashes; an API token is printed once and stored only as its SHA-256.
Accounts are disabled and tokens revoked, never deleted, so the record of who acted stays whole.
"""

from __future__ import annotations

from typing import Any

import click

from minsheng.commands.context import local_time, run_async, settings_from, with_engine

ROLES = click.Choice(["oversight", "agency_viewer"])


def _check_agency_option(role: str, code: str | None) -> None:
    """Agency viewers need an agency; oversight accounts see everything and take none. Checked once, first,
    so a wrong command fails before the operator types a password or the database is opened."""
    if role == "oversight" and code:
        raise click.UsageError("--agency is only for agency_viewer accounts")
    if role != "oversight" and not code:
        raise click.UsageError("an agency_viewer needs --agency CODE")


async def _agency_id(session: Any, code: str | None) -> int | None:
    """The id of the account's or token's agency (None for oversight); ``_check_agency_option`` has
    passed."""
    from sqlalchemy import select

    from storage.models import Agency

    if code is None:
        return None
    agency = await session.scalar(select(Agency).where(Agency.code == code))
    if agency is None:
        raise click.UsageError(f"no agency with code {code!r} (see `minsheng agencies list`)")
    return agency.id


def _with_agency_codes(ctx: click.Context, model: Any, order: str) -> list[Any]:
    """Every account or token, with the code of the agency it is bound to (None for oversight)."""
    from sqlalchemy import select
    from sqlalchemy.orm import aliased

    from storage.db import create_session_factory
    from storage.models import Agency

    async def work(engine: Any) -> list[Any]:
        agency = aliased(Agency)
        query = (
            select(model, agency.code).outerjoin(agency, agency.id == model.agency_id).order_by(getattr(model, order))
        )
        async with create_session_factory(engine)() as session:
            return list((await session.execute(query)).all())

    return run_async(with_engine(work)(settings_from(ctx)))


def _check_password(password: str) -> None:
    if len(password) < 10:
        raise click.UsageError("the password needs at least 10 characters")


async def _change_user(ctx: click.Context, username: str, change: Any) -> None:
    """Apply ``change(user)`` to one account, by name."""
    from sqlalchemy import select

    from storage.db import create_session_factory
    from storage.models import WebUser

    async def work(engine: Any) -> None:
        async with create_session_factory(engine)() as session:
            user = await session.scalar(select(WebUser).where(WebUser.username == username))
            if user is None:
                raise click.UsageError(f"no user {username!r} (see `minsheng users list`)")
            change(user)
            await session.commit()

    await with_engine(work)(settings_from(ctx))


@click.group()
def users() -> None:
    """Dashboard accounts."""


@users.command("add")
@click.argument("username")
@click.option("--role", type=ROLES, required=True)
@click.option("--agency", "agency_code", help="Agency code (agency_viewer only)")
@click.option("--password", help="The password (asked twice when not given, after the options are checked)")
@click.pass_context
def users_add(ctx: click.Context, username: str, role: str, agency_code: str | None, password: str | None) -> None:
    """Create a dashboard account (the password is asked twice)."""
    from sqlalchemy import select

    from storage.db import create_session_factory
    from storage.models import WebUser
    from web.auth import hash_password

    _check_agency_option(role, agency_code)
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt="Repeat password")
    _check_password(password)

    async def work(engine: Any) -> None:
        async with create_session_factory(engine)() as session:
            agency_id = await _agency_id(session, agency_code)
            if await session.scalar(select(WebUser).where(WebUser.username == username)):
                raise click.UsageError(f"user {username!r} already exists")
            session.add(
                WebUser(username=username, password_hash=hash_password(password), role=role, agency_id=agency_id)
            )
            await session.commit()

    run_async(with_engine(work)(settings_from(ctx)))
    click.echo(f"created {role} user {username}")


@users.command("list")
@click.pass_context
def users_list(ctx: click.Context) -> None:
    """List dashboard accounts."""
    from storage.models import WebUser

    for user, code in _with_agency_codes(ctx, WebUser, "username"):
        state = "" if user.active else " inactive"
        click.echo(f"{user.username:<24} {user.role:<14} {code or '-'}{state}")


@users.command("password")
@click.argument("username")
@click.password_option("--password", prompt="New password", confirmation_prompt="Repeat password")
@click.pass_context
def users_password(ctx: click.Context, username: str, password: str) -> None:
    """Set a new password; the account's open dashboard sessions end with the old one."""
    from web.auth import hash_password

    _check_password(password)
    run_async(_change_user(ctx, username, lambda user: setattr(user, "password_hash", hash_password(password))))
    click.echo(f"password changed for {username}")


@users.command("disable")
@click.argument("username")
@click.pass_context
def users_disable(ctx: click.Context, username: str) -> None:
    """Stop an account from logging in; its open sessions end at their next request."""
    run_async(_change_user(ctx, username, lambda user: setattr(user, "active", False)))
    click.echo(f"disabled {username}")


@users.command("enable")
@click.argument("username")
@click.pass_context
def users_enable(ctx: click.Context, username: str) -> None:
    """Let a disabled account log in again."""
    run_async(_change_user(ctx, username, lambda user: setattr(user, "active", True)))
    click.echo(f"enabled {username}")


@click.group("api-token")
def api_token() -> None:
    """JSON API tokens."""


@api_token.command("create")
@click.argument("name")
@click.option("--role", type=ROLES, required=True)
@click.option("--agency", "agency_code", help="Agency code (agency_viewer only)")
@click.pass_context
def api_token_create(ctx: click.Context, name: str, role: str, agency_code: str | None) -> None:
    """Create a token and print it once: only its hash is kept."""
    from storage.db import create_session_factory
    from storage.models import ApiToken
    from web.auth import api_token_hash, new_api_token

    _check_agency_option(role, agency_code)
    token = new_api_token()

    async def work(engine: Any) -> None:
        async with create_session_factory(engine)() as session:
            agency_id = await _agency_id(session, agency_code)
            session.add(ApiToken(name=name, token_hash=api_token_hash(token), role=role, agency_id=agency_id))
            await session.commit()

    run_async(with_engine(work)(settings_from(ctx)))
    click.echo(f"token for {name} (shown once, keep it safe):")
    click.echo(token)


@api_token.command("list")
@click.pass_context
def api_token_list(ctx: click.Context) -> None:
    """List tokens (never the tokens themselves): id, name, role, agency, created, revoked."""
    from storage.models import ApiToken

    settings = settings_from(ctx)
    for token, code in _with_agency_codes(ctx, ApiToken, "id"):
        state = f"revoked {local_time(settings, token.revoked_at)}" if token.revoked_at else "active"
        created = local_time(settings, token.created_at, "%Y-%m-%d")
        click.echo(f"{token.id:<5} {token.name:<24} {token.role:<14} {code or '-':<24} {created} {state}")


@api_token.command("revoke")
@click.argument("token_id", type=int)
@click.pass_context
def api_token_revoke(ctx: click.Context, token_id: int) -> None:
    """Revoke a token by its id (see `api-token list`); it is refused from the next request on."""
    from storage.db import create_session_factory
    from storage.models import ApiToken
    from storage.types import utcnow

    async def work(engine: Any) -> str:
        async with create_session_factory(engine)() as session:
            token = await session.get(ApiToken, token_id)
            if token is None:
                raise click.UsageError(f"no token with id {token_id} (see `minsheng api-token list`)")
            if token.revoked_at is None:
                token.revoked_at = utcnow()
                await session.commit()
            return token.name

    name = run_async(with_engine(work)(settings_from(ctx)))
    click.echo(f"revoked token {token_id} ({name})")
