"""The sandbox's people as the database remembers them.

The sandbox world lives in memory, the database does not: after a restart, whoever the sandbox added
and left a record there (a citizen, an agency contact, a conversation under way, a message still to
deliver) becomes a sandbox user again. So a tab playing them keeps working, and a user added later never
gets an old user's id, which would hand them that user's complaints or clerk's inbox.

Only ids of the sandbox's own (``ADDED_IDS`` up, which no Telegram user has) come back: a sandbox pointed
at a database that also holds real users must not offer to play them. Users added before ids came from
that range are not listed any more (their records stay); new ones are above them all the same.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import create_session_factory
from storage.models import AgencyContact, Citizen, FsmRecord, OutboxMessage
from web.sandbox.world import ADDED_IDS, SandboxUser


async def people_on_record(engine: AsyncEngine) -> list[SandboxUser]:
    """Every user the sandbox added that the database knows, with the name and script it has for them."""
    people: dict[int, SandboxUser] = {}
    async with create_session_factory(engine)() as session:
        for chat_id in await session.scalars(
            select(OutboxMessage.chat_id).where(OutboxMessage.chat_id >= ADDED_IDS).distinct()
        ):
            people[chat_id] = SandboxUser(chat_id, "")
        for key in await session.scalars(select(FsmRecord.key)):  # bot:chat:user:... (storage.fsm.record_key)
            user_id = key.split(":")[2]
            if user_id.isdigit() and int(user_id) >= ADDED_IDS:
                people[int(user_id)] = SandboxUser(int(user_id), "")
        citizens = await session.execute(
            select(Citizen.telegram_user_id, Citizen.display_name, Citizen.language).where(
                Citizen.telegram_user_id >= ADDED_IDS
            )
        )
        for user_id, name, language in citizens:
            people[user_id] = SandboxUser(user_id, name, "zh-hk" if language == "zh-Hant" else "zh-hans")
        contacts = await session.execute(
            select(AgencyContact.telegram_user_id, AgencyContact.display_name).where(
                AgencyContact.telegram_user_id >= ADDED_IDS
            )
        )
        for user_id, name in contacts:
            known = people.get(user_id)
            language = known.language_code if known else "zh-hans"
            people[user_id] = SandboxUser(user_id, name or (known.first_name if known else ""), language, "agency")
    for person in people.values():
        person.first_name = person.first_name or f"用户 {person.id}"
    return list(people.values())
