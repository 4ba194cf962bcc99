"""Benchmark: reconciling the timers of many open complaints (``workflow.timekeeper.reconcile``).

Creates a throw-away PostgreSQL database with ``--complaints`` open complaints (assigned, accepted and
transferring in turn) and no timers, then times three reconciles: every timer missing, nothing to
change (what every start-up after the first pays), and the resolve timers missing (a release that adds
a timer kind). Prints one summary line.

    uv run python benchmarks/reconcile_bench.py [--complaints 10000]

The server comes from MINSHENG_BENCH_PG_URL (default: the local trust-auth server the tests use).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import delete, insert, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from storage import migrate  # noqa: E402
from storage.db import create_engine, create_session_factory  # noqa: E402
from storage.models import Agency, Complaint, ComplaintTimer  # noqa: E402
from workflow.deadlines import Deadlines  # noqa: E402
from workflow.timekeeper import reconcile  # noqa: E402

SERVER = os.environ.get("MINSHENG_BENCH_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
ZONE = ZoneInfo("Asia/Shanghai")
STATUSES = ("assigned", "accepted", "transferring")


async def admin(sql: str) -> None:
    engine = create_engine(SERVER)
    async with engine.connect() as connection:
        connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text(sql))
    await engine.dispose()


async def main(count: int) -> None:
    name = f"minsheng_bench_{uuid.uuid4().hex[:8]}"
    await admin(f'CREATE DATABASE "{name}"')
    try:
        engine = create_engine(make_url(SERVER).set(database=name).render_as_string(hide_password=False))
        await migrate.upgrade(engine)
        deadlines = Deadlines.load(REPO / "workflow/data/policy.yaml", REPO / "workflow/data/holidays.yaml", ZONE)
        sessions = create_session_factory(engine)
        async with sessions() as session:
            agency = Agency(code="bench", name="市住建局", area="城乡建设")
            session.add(agency)
            await session.flush()
            base = datetime(2026, 11, 2, 9, 0, tzinfo=ZONE)
            rows = []
            for i in range(count):
                created, status = base + timedelta(minutes=7 * i), STATUSES[i % 3]
                rows.append(
                    {
                        "tracking_no": f"B{i:08d}",
                        "text": "窗口态度恶劣",
                        "status": status,
                        "first_contact_agency_id": agency.id,
                        "owner_agency_id": agency.id,
                        "created_at": created,
                        "acknowledge_due_at": deadlines.acknowledge_due(created, priority="normal", problem_types=()),
                        "resolve_due_at": deadlines.resolve_due(created, priority="normal", problem_types=()),
                        "acknowledged_at": created + timedelta(hours=1) if status == "accepted" else None,
                    }
                )
            await session.execute(insert(Complaint), rows)
            await session.commit()
        timings = []
        for _ in range(2):  # every timer missing, then nothing to change
            started = time.perf_counter()
            result = await reconcile(sessions, deadlines)
            timings.append((time.perf_counter() - started, result))
        async with sessions() as session:
            await session.execute(delete(ComplaintTimer).where(ComplaintTimer.kind.like("resolve_%")))
            await session.commit()
        started = time.perf_counter()
        result = await reconcile(sessions, deadlines)
        timings.append((time.perf_counter() - started, result))
        await engine.dispose()
    finally:
        await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    (cold, first), (warm, _), (kind, added) = timings
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"SUMMARY reconcile {count} open complaints on PostgreSQL: every timer missing {cold:.1f} s "
        f"({first.added} added) | nothing to change {warm:.1f} s | resolve timers missing {kind:.1f} s "
        f"({added.added} added) | peak RSS {rss:.0f} MiB"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--complaints", type=int, default=10_000)
    asyncio.run(main(parser.parse_args().complaints))
