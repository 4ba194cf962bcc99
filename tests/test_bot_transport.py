"""The outbox Transport against the Bot API stand-in: rendering, splitting, Telegram's refusals."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.factory import create_bot
from bot.service import notice_renderers
from bot.transport import TelegramTransport
from handlers.long_text import utf16_length
from handlers.texts import default_texts
from storage.fsm import SqlStorage
from storage.models import Citizen, OutboxMessage, OutboxStatus
from tests.botapi import Sandbox, sandbox_server
from workflow.clock import FixedClock
from workflow.notifications import Notice
from workflow.outbox import PermanentFailure, RetryAfter, deliver_due, enqueue

ZONE = ZoneInfo("Asia/Shanghai")
CITIZEN = 10001


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with sandbox_server() as sandbox:
        yield sandbox


@pytest.fixture
async def transport(
    sandbox: Sandbox, session_factory: async_sessionmaker[AsyncSession]
) -> AsyncIterator[TelegramTransport]:
    bot = create_bot(sandbox.world.token, sandbox.api_base)
    yield TelegramTransport(bot, default_texts(), session_factory, ZONE, storage=SqlStorage(session_factory))
    await bot.session.close()


def notice(kind: Notice, chat_id: int = CITIZEN, **params: object) -> OutboxMessage:
    params = {"tracking_no": "20261122-0001", **params}
    return OutboxMessage(id=1, chat_id=chat_id, kind=kind.value, payload={"kind": kind.value, "params": params})


def test_every_notice_kind_has_a_text_in_the_catalogue() -> None:
    tr = default_texts()("zh-Hans")
    for kind in Notice:
        if kind is Notice.EXTENSION_DECIDED:
            for outcome in ("approved", "refused", "approved.passed", "refused.passed"):
                assert tr.has(f"notice.{kind.value}.{outcome}"), outcome
        else:
            assert tr.has(f"notice.{kind.value}"), kind
    for kind in (Notice.TRANSFER_DECLINED, Notice.TRANSFER_DECLINED_FOR_CITIZEN):
        assert tr.has(f"notice.{kind.value}.disputed"), kind
    assert tr.has(f"notice.{Notice.RULED.value}.elsewhere")
    for kind in (Notice.ACCEPTED, Notice.EXTENDED):  # told after the deadline: said to have passed
        assert tr.has(f"notice.{kind.value}.passed"), kind


async def test_a_receipt_reaches_the_citizen_with_the_tracking_number_and_local_deadlines(
    transport: TelegramTransport, sandbox: Sandbox
) -> None:
    await transport.deliver(
        notice(
            Notice.RECEIPT, agency_name="市公安局", acknowledge_due_text="11月24日17:00前", resolve_due_text="12月8日"
        )
    )
    [message] = [m for m in sandbox.world.chats[CITIZEN] if m.from_bot]
    assert "20261122-0001" in message.text and "市公安局" in message.text and "12月8日" in message.text


async def test_an_agency_notice_shows_iso_deadlines_in_local_time(
    transport: TelegramTransport, sandbox: Sandbox
) -> None:
    due = datetime(2026, 11, 24, 9, 0, tzinfo=UTC).isoformat()
    await transport.deliver(notice(Notice.NEW_IN_QUEUE, acknowledge_due=due, problem_types=["推诿扯皮", "慢作为"]))
    [message] = [m for m in sandbox.world.chats[CITIZEN] if m.from_bot]
    assert "11月24日（周二）17:00" in message.text and "推诿扯皮、慢作为" in message.text
    assert "办结期限：—" in message.text  # a parameter the notice did not carry


async def test_the_conversations_renderers_show_times_in_the_configured_zone(
    sandbox: Sandbox, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    bot = create_bot(sandbox.world.token, sandbox.api_base)
    transport = TelegramTransport(bot, default_texts(), session_factory, ZoneInfo("UTC"), renderers=notice_renderers())
    due = datetime(2026, 11, 24, 9, 0, tzinfo=UTC).isoformat()
    try:
        await transport.deliver(notice(Notice.NEW_IN_QUEUE, complaint_id=7, acknowledge_due=due))
    finally:
        await bot.session.close()
    [message] = [m for m in sandbox.world.chats[CITIZEN] if m.from_bot]
    assert "11月24日（周二）09:00" in message.text and message.inline_keyboard


async def test_a_deadline_in_another_year_than_the_notice_shows_its_year(
    transport: TelegramTransport, sandbox: Sandbox
) -> None:
    due = datetime(2027, 1, 4, 9, 30, tzinfo=UTC).isoformat()
    made = notice(Notice.NEW_IN_QUEUE, complaint_id=7, resolve_due=due, acknowledge_due=due)
    made.created_at = datetime(2026, 12, 28, 2, 0, tzinfo=UTC)
    await transport.deliver(made)
    made.created_at = datetime(2027, 1, 2, 2, 0, tzinfo=UTC)
    await transport.deliver(made)
    december, january = [m for m in sandbox.world.chats[CITIZEN] if m.from_bot]
    assert "办结期限：2027年1月4日（周一）17:30" in december.text
    assert "办结期限：1月4日（周一）17:30" in january.text


async def test_a_reply_longer_than_telegram_allows_arrives_in_several_messages_in_order(
    transport: TelegramTransport, sandbox: Sandbox
) -> None:
    reply = "".join(f"第{n}条：经核查，窗口工作人员已批评教育，整改措施已落实。\n" for n in range(400))
    await transport.deliver(notice(Notice.RESOLVED, agency_name="市政务服务中心", reply=reply))
    pieces = [m.text for m in sandbox.world.chats[CITIZEN] if m.from_bot]
    assert len(pieces) >= 2
    assert all(utf16_length(piece) <= 4096 for piece in pieces)
    joined = "\n".join(pieces)
    assert joined.index("第0条") < joined.index("第399条") and "请对办理结果作出评价" in pieces[-1]


async def test_a_citizen_recorded_as_traditional_gets_the_notice_in_traditional(
    transport: TelegramTransport, sandbox: Sandbox, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with session_factory() as session:
        session.add(Citizen(telegram_user_id=10002, language="zh-Hant"))
        await session.commit()
    await transport.deliver(
        notice(Notice.ACCEPTED, chat_id=10002, agency_name="市公安局", resolve_due_text="12月8日前")
    )
    [message] = [m for m in sandbox.world.chats[10002] if m.from_bot]
    assert "投訴" in message.text and "受理" in message.text


async def test_telegram_429_becomes_retry_after(transport: TelegramTransport, sandbox: Sandbox) -> None:
    sandbox.world.throttled[CITIZEN] = 7
    with pytest.raises(RetryAfter) as raised:
        await transport.deliver(notice(Notice.CLOSED))
    assert raised.value.seconds == 7


async def test_a_blocked_bot_or_unknown_chat_is_a_permanent_failure(
    transport: TelegramTransport, sandbox: Sandbox
) -> None:
    sandbox.world.users[CITIZEN].blocked_bot = True
    with pytest.raises(PermanentFailure, match="blocked"):
        await transport.deliver(notice(Notice.CLOSED))
    with pytest.raises(PermanentFailure, match="chat not found"):
        await transport.deliver(notice(Notice.CLOSED, chat_id=424242))


async def test_the_outbox_sender_delivers_through_the_transport_and_records_failures(
    transport: TelegramTransport, sandbox: Sandbox, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    clock = FixedClock(datetime(2026, 11, 22, 2, 0, tzinfo=UTC))
    async with session_factory() as session:
        enqueue(session, chat_id=CITIZEN, kind=Notice.CLOSED.value, params={"tracking_no": "X-1"}, now=clock.now())
        enqueue(session, chat_id=999, kind=Notice.CLOSED.value, params={"tracking_no": "X-2"}, now=clock.now())
        await session.commit()
    assert await deliver_due(session_factory, transport, clock) == 2
    async with session_factory() as session:
        statuses = dict((await session.execute(select(OutboxMessage.chat_id, OutboxMessage.status))).all())
    assert statuses == {CITIZEN: OutboxStatus.SENT, 999: OutboxStatus.FAILED}
    assert any("X-1" in m.text for m in sandbox.world.chats[CITIZEN])


async def test_a_renderer_for_a_kind_supplies_text_and_buttons_others_fall_back_to_the_catalogue(
    sandbox: Sandbox, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    from aiogram.utils.keyboard import InlineKeyboardBuilder

    def closed_with_button(
        kind: str, params: dict, tr, zone: ZoneInfo, issued_at: datetime
    ) -> tuple[str, object] | None:
        if kind != Notice.CLOSED.value:
            return None
        builder = InlineKeyboardBuilder()
        builder.button(text="查看", callback_data="status:1")
        return f"结案 {params['tracking_no']}", builder.as_markup()

    bot = create_bot(sandbox.world.token, sandbox.api_base)
    transport = TelegramTransport(bot, default_texts(), session_factory, ZONE, renderers=[closed_with_button])
    try:
        await transport.deliver(notice(Notice.CLOSED))
        await transport.deliver(notice(Notice.WITHDRAWN))
    finally:
        await bot.session.close()
    closed, withdrawn = [m for m in sandbox.world.chats[CITIZEN] if m.from_bot]
    assert closed.text == "结案 20261122-0001" and closed.inline_keyboard[0][0]["text"] == "查看"
    assert "撤回" in withdrawn.text and withdrawn.inline_keyboard is None
