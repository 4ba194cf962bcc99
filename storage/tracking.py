"""Tracking numbers: ``YYYYMMDD-NNNN`` by local date, from an atomic per-day counter.

The counter is one upsert (INSERT … ON CONFLICT DO UPDATE … RETURNING) so two instances filing at the
same moment can never draw the same number, on PostgreSQL or SQLite.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import TrackingCounter


async def next_tracking_no(session: AsyncSession, now: datetime, zone: ZoneInfo) -> str:
    day = now.astimezone(zone).date()
    insert = postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(TrackingCounter)
        .values(day=day, last=1)
        .on_conflict_do_update(index_elements=[TrackingCounter.day], set_={"last": TrackingCounter.last + 1})
        .returning(TrackingCounter.last)
    )
    number = (await session.execute(statement)).scalar_one()
    return f"{day:%Y%m%d}-{number:04d}"
