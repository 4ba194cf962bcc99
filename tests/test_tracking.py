from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.tracking import next_tracking_no

SHANGHAI = ZoneInfo("Asia/Shanghai")


async def test_tracking_numbers_count_up_per_local_day(session: AsyncSession) -> None:
    late_evening_utc = datetime(2026, 11, 21, 16, 30, tzinfo=UTC)  # already 22 Nov in Shanghai
    assert await next_tracking_no(session, late_evening_utc, SHANGHAI) == "20261122-0001"
    assert await next_tracking_no(session, late_evening_utc, SHANGHAI) == "20261122-0002"
    assert await next_tracking_no(session, datetime(2026, 11, 21, 15, 59, tzinfo=UTC), SHANGHAI) == "20261121-0001"


async def test_concurrent_sessions_never_draw_the_same_number(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    now = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)

    async def draw() -> str:
        async with session_factory() as session:
            number = await next_tracking_no(session, now, SHANGHAI)
            await session.commit()
            return number

    numbers = await asyncio.gather(*(draw() for _ in range(20)))
    assert sorted(numbers) == [f"20261122-{n:04d}" for n in range(1, 21)]
