"""Benchmark: the monthly publication over a month of 100,000 complaints among 1,000,000 rows.

Creates a throw-away PostgreSQL database, fills it with INSERT … SELECT generate_series (complaints,
events, problem types, ratings, evaluations), then times ``build_publication`` + the XLSX export
against a bare ``SELECT count(*)`` over the same table, and prints one summary line.

    uv run python benchmarks/publication_bench.py [--total 1000000] [--month-rows 100000] [--keep]

The server comes from MINSHENG_BENCH_PG_URL (default: the local trust-auth server the tests use).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text
from sqlalchemy.engine import make_url

from reports.publication import build_publication, render_xlsx
from storage import migrate
from storage.agencies import import_catalogue
from storage.catalogue import load_catalogue
from storage.db import create_engine, create_session_factory

SERVER = os.environ.get("MINSHENG_BENCH_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
CATALOGUE = Path(__file__).resolve().parent.parent / "storage" / "data" / "agencies.yaml"
ZONE = ZoneInfo("Asia/Shanghai")
MONTH = date(2026, 10, 1)

# Complaints 1..month_rows fall in October 2026 (local); the rest spread over the 30 months before.
# Each complaint's fate is drawn from hash-like arithmetic on its number, so runs are repeatable.
FILL = [
    """
    INSERT INTO complaint (id, tracking_no, channel, status, priority, text, normalized_text, tagging,
        first_contact_agency_id, owner_agency_id, transfer_declines, acknowledge_due_at, acknowledged_at,
        resolve_due_at, resolved_at, closed_at, extended_days, reopen_count, reply_text, major, anonymous,
        version, created_at, updated_at)
    SELECT g, 'B' || g, 'telegram',
        CASE WHEN f.r < 0.80 THEN 'closed' WHEN f.r < 0.90 THEN 'resolved' WHEN f.r < 0.98 THEN 'accepted'
             ELSE 'assigned' END,
        'normal', '群众反映第' || g || '号问题，电话13812345678。', '', '{}'::jsonb,
        f.agency, f.agency, 0,
        f.created + interval '2 days',
        CASE WHEN f.r < 0.98 THEN f.created + (f.r2 * 3) * interval '1 day' END,
        f.created + interval '15 days',
        CASE WHEN f.r < 0.90 THEN f.created + (f.r2 * 20) * interval '1 day' END,
        CASE WHEN f.r < 0.80 THEN f.created + interval '22 days' END,
        0, CASE WHEN g % 33 = 0 THEN 1 ELSE 0 END,
        CASE WHEN f.r < 0.90 THEN '已办结，答复如下。' END, g % 500 = 0, g % 10 = 0, 1, f.created, f.created
    FROM generate_series(1::bigint, :total) AS g
    CROSS JOIN LATERAL (
        SELECT (CAST(:agencies AS integer[]))[1 + (g * 7919) % cardinality(CAST(:agencies AS integer[]))] AS agency,
               ((g * 2654435761) % 1000003) / 1000003.0 AS r,
               ((g * 40503) % 65537) / 65537.0 AS r2,
               CASE WHEN g <= :month_rows
                    THEN timestamptz '2026-09-30 16:00+00' + ((g * 104729) % 2678400) * interval '1 second'
                    ELSE timestamptz '2024-04-01 00:00+00' + ((g * 104729) % 78796800) * interval '1 second'
               END AS created
    ) AS f
    """,
    "SELECT setval(pg_get_serial_sequence('complaint', 'id'), :total)",
    # Every complaint gets ASSIGNED; acknowledged ones ACCEPTED, resolved ones RESOLVED.
    """
    INSERT INTO complaint_event (complaint_id, at, action, actor_kind, agency_id, data)
    SELECT c.id, c.created_at, 'assigned', 'system', c.owner_agency_id, '{}'::jsonb FROM complaint c
    UNION ALL
    SELECT c.id, c.acknowledged_at, 'accepted', 'contact', c.owner_agency_id, '{}'::jsonb
    FROM complaint c WHERE c.acknowledged_at IS NOT NULL
    UNION ALL
    SELECT c.id, c.resolved_at, 'resolved', 'contact', c.owner_agency_id, '{}'::jsonb
    FROM complaint c WHERE c.resolved_at IS NOT NULL
    """,
    # Extensions (1 in 20), reopenings (the reopen_count ones), transfers (1 in 25, a third declined).
    """
    INSERT INTO complaint_event (complaint_id, at, action, actor_kind, agency_id, to_agency_id, data)
    SELECT c.id, c.created_at + interval '5 days', 'extension_approved', 'oversight', c.owner_agency_id, NULL::integer,
           '{}'::jsonb FROM complaint c WHERE c.id % 20 = 0
    UNION ALL
    SELECT c.id, c.created_at + interval '12 days', 'reopened', 'citizen', c.owner_agency_id, NULL::integer, '{}'::jsonb
    FROM complaint c WHERE c.reopen_count > 0
    UNION ALL
    SELECT c.id, c.created_at + interval '1 hour', 'transfer_requested', 'contact', c.first_contact_agency_id,
           c.owner_agency_id, '{}'::jsonb FROM complaint c WHERE c.id % 25 = 0
    UNION ALL
    SELECT c.id, c.created_at + interval '3 hours', 'transfer_declined', 'contact', c.owner_agency_id, NULL::integer,
           '{}'::jsonb FROM complaint c WHERE c.id % 75 = 0
    """,
    # About two problem types for every three complaints.
    """
    INSERT INTO complaint_problem (complaint_id, problem_type, evidence)
    SELECT c.id, (CAST(:problems AS text[]))[1 + (c.id * 31) % cardinality(CAST(:problems AS text[]))], '[]'::jsonb
    FROM complaint c WHERE c.id % 3 <> 0
    """,
    # Ratings for 70% of the resolved complaints.
    """
    INSERT INTO evaluation (kind, agency_id, complaint_id, rating, scores, created_at)
    SELECT 'complaint_rating', c.owner_agency_id, c.id,
           (ARRAY['满意', '满意', '满意', '比较满意', '不满意'])[1 + c.id % 5], '{}'::jsonb,
           c.resolved_at + interval '1 day'
    FROM complaint c WHERE c.resolved_at IS NOT NULL AND c.id % 10 < 7
    """,
    # A few thousand standalone evaluations.
    """
    INSERT INTO evaluation (kind, agency_id, rating, scores, comment, created_at)
    SELECT 'agency_evaluation',
           (CAST(:agencies AS integer[]))[1 + g % cardinality(CAST(:agencies AS integer[]))], '满意',
           jsonb_build_object('服务意识', 1 + g % 5, '行政效能', 1 + (g / 5) % 5),
           CASE WHEN g % 4 = 0 THEN '窗口服务有待改进' END,
           timestamptz '2026-09-30 16:00+00' + (g % 2678400) * interval '1 second'
    FROM generate_series(1, 5000) AS g
    """,
]


async def create_database() -> str:
    name = f"minsheng_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(SERVER)
    async with admin.connect() as connection:
        connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    return make_url(SERVER).set(database=name).render_as_string(hide_password=False)


async def drop_database(url: str) -> None:
    admin = create_engine(SERVER)
    async with admin.connect() as connection:
        connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    await admin.dispose()


async def fill(url: str, total: int, month_rows: int) -> float:
    from storage.vocabulary import PROBLEM_TYPES

    engine = create_engine(url)
    started = time.perf_counter()
    await migrate.upgrade(engine)
    async with create_session_factory(engine)() as session:
        await import_catalogue(session, load_catalogue(CATALOGUE))
        await session.commit()
    async with engine.begin() as connection:
        agencies = list((await connection.execute(text("SELECT id FROM agency WHERE role <> 'oversight'"))).scalars())
        params = {"total": total, "month_rows": month_rows, "agencies": agencies, "problems": list(PROBLEM_TYPES)}
        for statement in FILL:
            needed = {name: value for name, value in params.items() if f":{name}" in statement}
            await connection.execute(text(statement), needed)
    async with engine.connect() as connection:
        connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text("VACUUM ANALYZE"))
    await engine.dispose()
    return time.perf_counter() - started


async def measure(url: str, runs: int) -> dict[str, float]:
    engine = create_engine(url)
    count_times, publication_times, sizes = [], [], []
    received = 0
    for _ in range(runs):
        async with engine.connect() as connection:
            started = time.perf_counter()
            await connection.execute(text("SELECT count(*) FROM complaint"))
            count_times.append(time.perf_counter() - started)
        async with create_session_factory(engine)() as session:
            started = time.perf_counter()
            pub = await build_publication(session, MONTH, ZONE)
            data = render_xlsx(pub)
            publication_times.append(time.perf_counter() - started)
        sizes.append(len(data))
        received = pub.figures.total.received
    async with engine.connect() as connection:
        rows = (await connection.execute(text("SELECT count(*) FROM complaint"))).scalar_one()
        events = (await connection.execute(text("SELECT count(*) FROM complaint_event"))).scalar_one()
    await engine.dispose()
    return {
        "rows": rows,
        "events": events,
        "received": received,
        "count": statistics.median(count_times),
        "publication": statistics.median(publication_times),
        "xlsx_bytes": sizes[-1],
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--total", type=int, default=1_000_000)
    parser.add_argument("--month-rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the database (its URL is printed)")
    parser.add_argument("--reuse", metavar="URL", help="measure a database kept by an earlier --keep run")
    args = parser.parse_args()
    if args.reuse:
        result, fill_time = await measure(args.reuse, args.runs), 0.0
        args.keep = True
    url = args.reuse or await create_database()
    try:
        if not args.reuse:
            fill_time = await fill(url, args.total, args.month_rows)
            result = await measure(url, args.runs)
    finally:
        if args.keep:
            print(f"kept {url}", file=sys.stderr)
        else:
            await drop_database(url)
    ratio = result["publication"] / result["count"]
    print(
        f"publication {MONTH:%Y-%m}: {result['received']:,} complaints received among {result['rows']:,} rows "
        f"({result['events']:,} events); build_publication + xlsx {result['publication']:.2f} s "
        f"(median of {args.runs}) = {ratio:.1f}x a bare SELECT count(*) over the table "
        f"({result['count'] * 1000:.0f} ms); fill {fill_time:.0f} s; load average {os.getloadavg()[0]:.1f} "
        f"on {os.cpu_count()} CPUs; budget 5 s: {'OK' if result['publication'] < 5 else 'OVER'}"
    )


if __name__ == "__main__":
    asyncio.run(main())
