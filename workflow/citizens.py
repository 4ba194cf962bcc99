"""Citizens as the bot meets them: one row per Telegram user, created on first contact."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Citizen


async def get_or_create_citizen(
    session: AsyncSession, telegram_user_id: int, *, display_name: str = "", language: str | None = None
) -> Citizen:
    """The citizen for a Telegram user. An upsert, so two updates from a new user arriving at once
    cannot create two rows; an existing citizen's name and script are refreshed when given."""
    insert = postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert
    values: dict[str, object] = {"telegram_user_id": telegram_user_id, "display_name": display_name[:200]}
    if language:
        values["language"] = language
    await session.execute(
        insert(Citizen).values(**values).on_conflict_do_nothing(index_elements=[Citizen.telegram_user_id])
    )
    citizen = await session.scalar(
        select(Citizen).where(Citizen.telegram_user_id == telegram_user_id).execution_options(populate_existing=True)
    )
    assert citizen is not None
    if display_name and citizen.display_name != display_name[:200]:
        citizen.display_name = display_name[:200]
    if language and citizen.language != language:
        citizen.language = language
    await session.flush()
    return citizen


async def citizen_by_telegram(session: AsyncSession, telegram_user_id: int) -> Citizen | None:
    return await session.scalar(select(Citizen).where(Citizen.telegram_user_id == telegram_user_id))
