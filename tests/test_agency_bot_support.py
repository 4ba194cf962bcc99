"""Shared set-up for the agency and oversight bot tests (no tests here).

The shipped Dispatcher runs against the Bot API stand-in with a FixedClock, so deadlines, the
timekeeper and the outbox all see the moment the test chooses; notices are delivered through the
bot's real outbox transport with the agency and citizen renderers.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.factory import create_bot, create_dispatcher
from bot.middlewares import FloodMiddleware
from bot.runtime import BotRuntime
from bot.transport import TelegramTransport
from handlers.agency_notices import render_agency_notice
from handlers.citizen_notices import render_citizen_notice
from handlers.texts import default_texts
from storage.fsm import SqlStorage
from storage.models import Agency, Complaint
from tests.botapi import TIMEOUT, ChatUser, Harness, Sandbox, sandbox_server
from tests.factories import ZONE, FakeEvidence, FakeTagging, make_clock, make_deadlines
from web.sandbox.world import ChatMessage
from workflow.citizens import get_or_create_citizen
from workflow.clock import FixedClock
from workflow.deadlines import Deadlines
from workflow.intake import AttachmentIn, register_complaint
from workflow.invites import create_invite
from workflow.outbox import RateLimiter, deliver_due

HANS = default_texts()("zh-Hans")
COMPLAINT_TEXT = "派出所办户口跑了好几趟，窗口态度恶劣"


@asynccontextmanager
async def running_agency_bot(
    session_factory: async_sessionmaker[AsyncSession], sandbox: Sandbox, clock: FixedClock, deadlines: Deadlines
) -> AsyncIterator[Harness]:
    """Like ``tests.botapi.running_bot``, with the test's clock and no flood limit in the way."""
    bot = create_bot(sandbox.world.token, sandbox.api_base)
    flood = FloodMiddleware(rate=10_000, per=1.0, double_tap=0.0)
    dispatcher = create_dispatcher(session_factory, flood=flood, clock=clock, deadlines=deadlines)
    runtime = BotRuntime(bot, dispatcher)
    await runtime.start()
    harness = Harness(sandbox, bot, dispatcher, runtime)
    try:
        async with asyncio.timeout(TIMEOUT):
            while not any(name == "getUpdates" for name, _ in sandbox.world.calls):  # noqa: ASYNC110
                await asyncio.sleep(0.02)
        yield harness
    finally:
        await runtime.stop()


@dataclass
class Office:
    """The bot running, the people in it and the means to move time and deliver notices."""

    harness: Harness
    session_factory: async_sessionmaker[AsyncSession]
    clock: FixedClock
    deadlines: Deadlines
    citizen: ChatUser
    police: ChatUser  # clerk of 市公安局 (public-security)
    police_lead: ChatUser  # lead of 市公安局: gets escalations
    traffic: ChatUser  # clerk of 市公安局交通警察支队 (traffic-police)
    housing: ChatUser  # clerk of 市住房和城乡建设局, an unrelated agency
    overseer: ChatUser  # of 市效能办

    async def invite(self, agency_code: str, role: str, valid_days: int = 7) -> str:
        async with self.session_factory() as session:
            code = await create_invite(session, self.clock, agency_code, role, valid_days)
            await session.commit()
        return code

    async def bind(self, user: ChatUser, agency_code: str, role: str) -> None:
        await user.send(f"/bind {await self.invite(agency_code, role)}")
        await user.wait_for_reply(contains="绑定成功")

    async def file_complaint(
        self,
        *,
        anonymous: bool = False,
        phone: str | None = "13800138000",
        attachments: Sequence[AttachmentIn] = (),
        text: str = COMPLAINT_TEXT,
    ) -> Complaint:
        """The citizen's complaint, registered through the real intake (the /complain conversation
        is the citizen engineer's); the tagger's evidence is a matched phrase."""
        evidence = (FakeEvidence("problem_type", "事难办", "跑了好几趟", 6, 11),)
        tagging = FakeTagging(normalized_text=text, problem_types=("事难办",), evidence=evidence)
        async with self.session_factory() as session:
            citizen = await get_or_create_citizen(session, self.citizen.user.id, display_name="张三")
            complaint = await register_complaint(
                session,
                self.clock,
                self.deadlines,
                citizen=citizen,
                text=text,
                tagging=tagging,
                agency_code="public-security",
                anonymous=anonymous,
                contact_phone=phone,
                attachments=attachments,
            )
            await session.commit()
        return complaint

    async def deliver(self) -> None:
        """Send every due notice through the bot's transport (no per-chat spacing: the clock is fixed).

        Updates in hand are settled first: a handler answers before its transaction commits."""
        await self.harness.settle()
        transport = TelegramTransport(
            self.harness.bot,
            default_texts(),
            self.session_factory,
            ZONE,
            storage=SqlStorage(self.session_factory),
            renderers=[render_agency_notice, render_citizen_notice],
        )
        limiter = RateLimiter(self.clock, per_second=10_000, chat_interval=0)
        while await deliver_due(self.session_factory, transport, self.clock, limiter=limiter):
            pass

    async def complaint(self, complaint_id: int) -> Complaint:
        """The complaint as committed once every update in hand is handled."""
        await self.harness.settle()
        async with self.session_factory() as session:
            found = await session.get(Complaint, complaint_id)
            assert found is not None
            return found

    async def agency_name(self, code: str) -> str:
        async with self.session_factory() as session:
            name = await session.scalar(select(Agency.name).where(Agency.code == code))
            assert name is not None
            return name


async def press_and_reply(user: ChatUser, label: str, contains: str | None = None) -> str:
    await user.press(label)
    return (await user.wait_for_reply(contains=contains)).text


async def pick_agency(user: ChatUser, name: str) -> None:
    """Turn the agency picker's pages (◀ ▶, edited in place) until ``name`` shows, then choose it."""
    picker = user.bot_messages()[-1]
    for _ in range(20):
        picker = next(m for m in user.bot_messages() if m.message_id == picker.message_id)
        labels = [b["text"] for row in picker.inline_keyboard or [] for b in row]
        if name in labels:
            await user.press(name, message=picker)
            return
        before = picker.text
        await user.press(next(label for label in labels if label.endswith("▶")), message=picker)
        await wait_for_edit(user, picker.message_id, before)
    raise AssertionError(f"agency {name} not in the picker")


async def wait_for_edit(user: ChatUser, message_id: int, before: str) -> ChatMessage:
    """The bot message ``message_id`` once its text is no longer ``before`` (a page turned in place)."""
    async with asyncio.timeout(TIMEOUT):
        while True:
            message = next(m for m in user.bot_messages() if m.message_id == message_id)
            if message.text != before:
                return message
            await asyncio.sleep(0.02)


@asynccontextmanager
async def open_office(session_factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[Office]:
    """The bot running with five contacts bound through /bind (the catalogue must be loaded)."""
    clock, deadlines = make_clock(), make_deadlines()
    async with sandbox_server() as sandbox, running_agency_bot(session_factory, sandbox, clock, deadlines) as harness:
        people = [harness.user(name=name) for name in ("王警官", "钱所长", "赵交警", "孙科员", "李督查")]
        office = Office(harness, session_factory, clock, deadlines, harness.user(10001), *people)
        await office.bind(office.police, "public-security", "clerk")
        await office.bind(office.police_lead, "public-security", "lead")
        await office.bind(office.traffic, "traffic-police", "clerk")
        await office.bind(office.housing, "housing-construction", "clerk")
        await office.bind(office.overseer, "oversight-office", "oversight")
        yield office


def label(key: str, **params: object) -> str:
    """A button or message text as the Simplified Chinese user sees it."""
    return HANS.plain(key, **params)
