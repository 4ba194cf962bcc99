"""Complaints per second through the whole /complain conversation, and a bare echo bot on the same harness.

Both run the real aiogram Bot, polling the local Bot API stand-in over HTTP (tests/botapi.py), with
USERS citizens at once. A complaint is eight updates (/complain, the text, 写完了, skip the place, pick
the agency, anonymity, skip the phone, confirm); the echo bot answers eight plain messages per user.
The ratio complaint/echo says what the workflow, the tagger and the database cost on top of aiogram and
HTTP. Prints one summary line.

    uv run python benchmarks/bot_throughput.py [--users 20] [--rounds 3] [--database-url URL]

The database is a throw-away PostgreSQL database on the test server (MINSHENG_TEST_PG_URL), or the
URL given.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiogram import Router
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.middlewares import FloodMiddleware
from bot.service import load_tagger
from minsheng.settings import Settings
from storage import migrate
from storage.agencies import import_catalogue
from storage.catalogue import load_catalogue
from storage.db import create_engine, create_session_factory
from tests.botapi import ChatUser, Sandbox, running_bot, sandbox_server
from tests.conftest import PG_SERVER_URL, PostgresServer

TEXT = "我去社保窗口办医保卡，工作人员态度恶劣，爱理不理，让我跑了好几趟都没办成。"
STEPS_PER_COMPLAINT = 8
WITHIN = 120.0


async def timed(latencies: list[float], user: ChatUser, action: object, contains: str) -> None:
    started = time.perf_counter()
    await action  # type: ignore[misc]
    await user.wait_for_reply(contains=contains, within=WITHIN)
    latencies.append(time.perf_counter() - started)


async def file_complaint(user: ChatUser, latencies: list[float]) -> None:
    await timed(latencies, user, user.send("/complain"), "写完了")
    await timed(latencies, user, user.send(TEXT), "已记下")
    await timed(latencies, user, user.press("✅ 写完了"), "发生在哪里")
    await timed(latencies, user, user.press("跳过"), "问题类型")
    understood = user.bot_messages()[-1]
    await timed(latencies, user, user.press(understood.inline_keyboard[0][0]["text"]), "匿名")
    await timed(latencies, user, user.press("匿名"), "联系电话")
    await timed(latencies, user, user.press("跳过"), "请确认")
    await timed(latencies, user, user.press("✅ 确认提交"), "受理编号")


async def echo_conversation(user: ChatUser, latencies: list[float]) -> None:
    for step in range(STEPS_PER_COMPLAINT):
        await timed(latencies, user, user.send(f"echo {user.user.id} {step}"), f"echo {user.user.id} {step}")


def echo_router() -> Router:
    router = Router(name="echo")

    @router.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "")

    return router


async def measure(
    session_factory: async_sessionmaker[AsyncSession], sandbox: Sandbox, tagger: object, users: int, *, echo: bool
) -> tuple[float, list[float]]:
    """One bot on the shared stand-in (update ids keep counting up, so none looks like a duplicate)."""
    latencies: list[float] = []
    lenient = FloodMiddleware(rate=1000, per=1.0)
    routers = [echo_router()] if echo else None
    async with running_bot(session_factory, sandbox, routers=routers, flood=lenient, tagger=tagger) as harness:
        people = [harness.user(name=f"用户{n}") for n in range(users)]
        conversation = echo_conversation if echo else file_complaint
        started = time.perf_counter()
        await asyncio.gather(*(conversation(person, latencies) for person in people))
        elapsed = time.perf_counter() - started
    return users / elapsed, latencies


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98] if len(values) > 1 else values[0]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url")
    args = parser.parse_args()

    server = PostgresServer(os.environ.get("MINSHENG_TEST_PG_URL", PG_SERVER_URL))
    url = args.database_url or await server.create_database()
    engine = create_engine(url)
    try:
        await migrate.upgrade(engine)
        session_factory = create_session_factory(engine)
        async with session_factory() as session:
            await import_catalogue(session, load_catalogue(Settings().catalogue_path))
            await session.commit()
        tagger = await load_tagger(session_factory, Settings())

        complaint_rates, echo_rates, complaint_lat, echo_lat = [], [], [], []
        async with sandbox_server() as sandbox:
            for _ in range(args.rounds):
                rate, latencies = await measure(session_factory, sandbox, tagger, args.users, echo=False)
                complaint_rates.append(rate)
                complaint_lat += latencies
                rate, latencies = await measure(session_factory, sandbox, tagger, args.users, echo=True)
                echo_rates.append(rate)
                echo_lat += latencies
    finally:
        await engine.dispose()
        await server.drop_all()

    complaints, echoes = max(complaint_rates), max(echo_rates)
    print(
        f"SUMMARY bot on {engine.dialect.name}: {complaints:.1f} complaints/s ({STEPS_PER_COMPLAINT} updates each, "
        f"{args.users} citizens at once) vs echo bot {echoes:.1f} conversations/s: ratio {complaints / echoes:.2f} | "
        f"update-to-reply p50 {statistics.median(complaint_lat) * 1000:.0f} ms p99 {p99(complaint_lat) * 1000:.0f} ms "
        f"(echo p99 {p99(echo_lat) * 1000:.0f} ms) | best of {args.rounds} rounds, load {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    asyncio.run(main())
