"""Durable aiogram FSM storage over ``fsm_record``: a restart mid-conversation loses nothing.

While an update is being handled the bot's session middleware publishes its session in
:data:`current_session`; state written then joins that transaction, so the conversation step and
the domain change it caused commit (or roll back) together. It also matters for SQLite: a second
connection writing while the update's own connection holds the write lock would wait on itself.
Outside an update (tests, the outbox sender) each call uses a short session of its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StateType, StorageKey
from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import FsmRecord
from storage.types import utcnow

#: The session of the update being handled, if any (set by ``bot.middlewares.DbSessionMiddleware``).
current_session: ContextVar[AsyncSession | None] = ContextVar("current_session", default=None)


def record_key(key: StorageKey) -> str:
    """One string per FSM key; every part is kept so topics and business chats never collide."""
    parts = (key.bot_id, key.chat_id, key.user_id, key.thread_id or "", key.business_connection_id or "", key.destiny)
    return ":".join(str(part) for part in parts)


class SqlStorage(BaseStorage):
    """aiogram ``BaseStorage`` backed by the database (PostgreSQL or SQLite)."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self.session_factory = session_factory

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[AsyncSession]:
        shared = current_session.get()
        if shared is not None:
            yield shared
            await shared.flush()
            return
        async with self.session_factory() as session:
            yield session
            await session.commit()

    async def _upsert(self, key: StorageKey, **values: Any) -> None:
        async with self._session() as session:
            dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
            row = {"state": None, "data": {}, **values, "updated_at": utcnow()}
            statement = dialect.insert(FsmRecord).values(key=record_key(key), **row)
            statement = statement.on_conflict_do_update(
                index_elements=[FsmRecord.key],
                set_={name: statement.excluded[name] for name in (*values, "updated_at")},
            )
            await session.execute(statement)

    async def _row(self, key: StorageKey) -> tuple[str | None, dict[str, Any]] | None:
        async with self._session() as session:
            found = (
                await session.execute(select(FsmRecord.state, FsmRecord.data).where(FsmRecord.key == record_key(key)))
            ).first()
            return (found.state, dict(found.data or {})) if found else None

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        await self._upsert(key, state=value)
        await self._forget_if_empty(key)

    async def get_state(self, key: StorageKey) -> str | None:
        row = await self._row(key)
        return row[0] if row else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        if not isinstance(data, Mapping):
            raise TypeError(f"FSM data must be a mapping, not {type(data).__name__}")
        await self._upsert(key, data=dict(data))
        await self._forget_if_empty(key)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        row = await self._row(key)
        return row[1] if row else {}

    async def _forget_if_empty(self, key: StorageKey) -> None:
        """A cleared conversation leaves no row behind, so the table holds only live conversations."""
        row = await self._row(key)
        if row is not None and row[0] is None and not row[1]:
            async with self._session() as session:
                await session.execute(delete(FsmRecord).where(FsmRecord.key == record_key(key)))

    async def close(self) -> None:
        """Sessions are short-lived and the engine belongs to the caller: nothing to release."""
