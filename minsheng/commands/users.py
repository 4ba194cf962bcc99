"""`minsheng users` and `minsheng api-token`: dashboard accounts and JSON API tokens.

The first oversight account is made here (there is no sign-up page): passwords are prompted twice
and stored only as scrypt hashes; an API token is printed once and stored only as its SHA-256.
"""

from __future__ import annotations

from typing import Any

import click

from minsheng.commands.context import run_async, settings_from, with_engine

ROLES = click.Choice(["oversight", "agency_viewer"])


async def _agency_id(session: Any, role: str, code: str | None) -> int | None:
    """Agency viewers need an agency; oversight accounts see everything and take none."""
    from sqlalchemy import select

    from storage.models import Agency

    if role == "oversight":
        if code:
            raise click.UsageError("--agency is only for agency_viewer accounts")
        return None
    if not code:
        raise click.UsageError("an agency_viewer needs --agency CODE")
    agency = await session.scalar(select(Agency).where(Agency.code == code))
    if agency is None:
        raise click.UsageError(f"no agency with code {code!r} (see `minsheng agencies list`)")
    return agency.id


@click.group()
def users() -> None:
    """Dashboard accounts."""


@users.command("add")
@click.argument("username")
@click.option("--role", type=ROLES, required=True)
@click.option("--agency", "agency_code", help="Agency code (agency_viewer only)")
@click.password_option("--password", prompt="Password", confirmation_prompt="Repeat password")
@click.pass_context
def users_add(ctx: click.Context, username: str, role: str, agency_code: str | None, password: str) -> None:
    """Create a dashboard account (the password is asked twice)."""
    from sqlalchemy import select

    from storage.db import create_session_factory
    from storage.models import WebUser
    from web.auth import hash_password

    if len(password) < 10:
        raise click.UsageError("the password needs at least 10 characters")

    async def work(engine: Any) -> None:
        async with create_session_factory(engine)() as session:
            agency_id = await _agency_id(session, role, agency_code)
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
    from sqlalchemy import select
    from sqlalchemy.orm import aliased

    from storage.db import create_session_factory
    from storage.models import Agency, WebUser

    async def work(engine: Any) -> list[Any]:
        agency = aliased(Agency)
        async with create_session_factory(engine)() as session:
            query = (
                select(WebUser, agency.code)
                .outerjoin(agency, agency.id == WebUser.agency_id)
                .order_by(WebUser.username)
            )
            return list((await session.execute(query)).all())

    for user, code in run_async(with_engine(work)(settings_from(ctx))):
        state = "" if user.active else " inactive"
        click.echo(f"{user.username:<24} {user.role:<14} {code or '-'}{state}")


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

    token = new_api_token()

    async def work(engine: Any) -> None:
        async with create_session_factory(engine)() as session:
            agency_id = await _agency_id(session, role, agency_code)
            session.add(ApiToken(name=name, token_hash=api_token_hash(token), role=role, agency_id=agency_id))
            await session.commit()

    run_async(with_engine(work)(settings_from(ctx)))
    click.echo(f"token for {name} (shown once, keep it safe):")
    click.echo(token)
