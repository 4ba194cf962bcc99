"""The sandbox's picker after a restart lists the users the sandbox itself added, never a real Telegram
user the database also knows (a sandbox pointed at a production database by mistake).

Users added in the sandbox have ids no Telegram user has (``ADDED_IDS`` and up); the built-in ones are
always there. Both backends, through the real ``people_on_record``."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.models import AgencyContact, Citizen, FsmRecord, OutboxMessage
from tests.factories import agency
from web.sandbox.people import people_on_record
from web.sandbox.world import ADDED_IDS, SandboxWorld

#: A real Telegram user's id (fits in 52 bits, as every one does).
REAL = 5_123_456_789
NOW = datetime(2026, 12, 3, 9, tzinfo=UTC)


def outbox_to(chat_id: int) -> OutboxMessage:
    return OutboxMessage(chat_id=chat_id, kind="complaint.received", next_attempt_at=NOW, created_at=NOW)


def fsm_of(user_id: int) -> FsmRecord:
    return FsmRecord(key=f"7000000001:{user_id}:{user_id}:::default", state="Complain:text")


async def test_only_users_the_sandbox_added_come_back_after_a_restart(
    engine: AsyncEngine, session_factory: async_sessionmaker[AsyncSession], catalogue_loaded: None
) -> None:
    before = SandboxWorld()
    citizen, clerk, writing, told = (before.add_user(name) for name in ("王五", "李科员", "赵六", "孙七"))
    async with session_factory() as session:
        police = (await agency(session, "public-security")).id
        session.add_all(
            [
                Citizen(telegram_user_id=REAL, display_name="真实群众"),
                Citizen(telegram_user_id=citizen.id, display_name="王五"),
                AgencyContact(telegram_user_id=REAL + 1, agency_id=police, role="clerk", display_name="真实科员"),
                AgencyContact(telegram_user_id=clerk.id, agency_id=police, role="clerk", display_name="李科员"),
                fsm_of(REAL + 2),
                fsm_of(writing.id),
                outbox_to(REAL + 3),
                outbox_to(told.id),
            ]
        )
        await session.commit()

    people = {person.id: person for person in await people_on_record(engine)}
    assert set(people) == {citizen.id, clerk.id, writing.id, told.id}
    assert people[citizen.id].first_name == "王五" and people[clerk.id].role == "agency"

    after = SandboxWorld()
    after.restore(people.values())
    picker = set(after.users)
    assert not picker & {REAL, REAL + 1, REAL + 2, REAL + 3}
    assert {citizen.id, clerk.id, writing.id, told.id} <= picker
    assert after.add_user("周八").id > max(people) >= ADDED_IDS


def test_no_user_the_sandbox_adds_has_a_telegram_users_id() -> None:
    """The Bot API promises a user id fits in 52 bits; the chat page's JavaScript counts exactly below 2**53."""
    world = SandboxWorld()
    added = [world.add_user(f"用户{n}").id for n in range(3)]
    assert all(2**52 <= user_id < 2**53 for user_id in added)
    assert added == sorted(set(added))
