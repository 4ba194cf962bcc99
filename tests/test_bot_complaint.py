"""Filing a complaint in the bot, end to end on both backends, with a restart in the middle."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from bot.service import load_tagger
from handlers.texts import default_texts
from minsheng.settings import Settings
from storage.models import Complaint, FsmRecord
from tests.botapi import Sandbox, running_bot, sandbox_server
from web.sandbox.world import SandboxWorld

HANS = default_texts()("zh-Hans")
PART_ONE = "我去市民中心社保窗口办医保卡，工作人员态度恶劣，爱理不理，让我跑了好几趟都没办成。"
PART_TWO = "最后还说这事不归他们管，让我去找别的部门。"


class DurabilityWatch(SandboxWorld):
    """Notes, as each message carrying a tracking number reaches the chat, whether that complaint is
    already committed: a citizen must never hold a number the database could still roll back."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        super().__init__()
        self.session_factory = session_factory
        self.committed_when_told: dict[str, bool] = {}

    async def bot_sends(self, chat_id: int, html: str, **options: Any) -> dict[str, Any]:
        if (found := TRACKING_NO.search(html)) and found.group(0) not in self.committed_when_told:
            async with self.session_factory() as session:
                stored = await session.scalar(select(func.count()).where(Complaint.tracking_no == found.group(0)))
            self.committed_when_told[found.group(0)] = stored == 1
        return await super().bot_sends(chat_id, html, **options)


TRACKING_NO = re.compile(r"\d{8}-\d{4}")


@pytest.fixture
async def sandbox(session_factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[Sandbox]:
    async with sandbox_server(DurabilityWatch(session_factory)) as sandbox:
        yield sandbox


@pytest.fixture
async def tagger(session_factory: async_sessionmaker[AsyncSession], catalogue_loaded: None) -> object:
    return await load_tagger(session_factory, Settings())


async def test_a_citizen_files_a_complaint_across_a_restart_and_gets_a_tracking_number_and_receipt(
    session_factory: async_sessionmaker[AsyncSession], sandbox: Sandbox, tagger: object
) -> None:
    async with running_bot(session_factory, sandbox, tagger=tagger) as first:
        user = first.user()
        await user.send("/complain")
        await user.wait_for_reply(contains="写完了")
        await user.send("窗口太差")
        await user.wait_for_reply(contains="已记下")
        await user.press("✅ 写完了")
        await user.wait_for_reply(contains="内容有点少")
        await user.send(PART_ONE)
        await user.wait_for_reply(contains="已记下")
        await user.send(PART_TWO)
        await user.wait_for_reply(contains="已记下")
        await user.send_kind("photo", caption="这是窗口的照片")
        await user.wait_for_reply(contains="附件")
        await user.press("✅ 写完了")
        await user.wait_for_reply(contains="发生在哪里")

    # The service restarts here; everything entered so far is in the database.
    async with running_bot(session_factory, sandbox, tagger=tagger, outbox=True) as harness:
        user = harness.user()
        user.seen = max(m.message_id for m in user.bot_messages())
        await user.send("市民中心二楼社保窗口")
        understood = await user.wait_for_reply(contains="问题类型")
        assert "脸难看" in understood.text or "事难办" in understood.text or "推诿扯皮" in understood.text
        await user.press("其他单位…")
        await harness.settle()
        await user.press("经济管理")
        await harness.settle()
        await user.press("下一页 ▶")
        await harness.settle()
        page = next(m for m in user.bot_messages() if m.message_id == understood.message_id)
        assert "经济管理" in page.text and "第 2/" in page.text
        chosen = page.inline_keyboard[0][0]["text"]
        await user.press(chosen)
        await user.wait_for_reply(contains="匿名")
        await user.press("实名")
        await user.wait_for_reply(contains="联系电话")
        await user.send("12345")
        await user.wait_for_reply(contains="号码好像不对")
        await user.send("138 1234 5678")
        summary = await user.wait_for_reply(contains="请确认")
        assert chosen in summary.text and "市民中心二楼" in summary.text and "13812345678" in summary.text
        assert PART_ONE in summary.text and PART_TWO in summary.text
        _, confirm_button = user.button("✅ 确认提交")
        await user.press("✅ 确认提交")
        submitted = await user.wait_for_reply(contains="受理编号")
        tracking_no = TRACKING_NO.search(submitted.text).group(0)
        assert sandbox.world.committed_when_told == {tracking_no: True}
        receipt = await user.wait_for_reply(contains=tracking_no)
        assert "前" in receipt.text  # the deadlines, in words
        answered = len(user.answers())
        await user.press_data(summary.message_id, confirm_button["callback_data"])  # a double tap
        await harness.settle()
        assert user.answers()[answered:] and set(user.answers()[answered:]) <= {
            HANS.plain("hint.double_tap"),
            HANS.plain("hint.stale_button"),
        }

    async with session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Complaint)) == 1
        complaint = await session.scalar(
            select(Complaint).options(selectinload(Complaint.attachments), selectinload(Complaint.owner_agency))
        )
    assert complaint.tracking_no == tracking_no
    assert complaint.text == "\n".join(["窗口太差", PART_ONE, PART_TWO, "这是窗口的照片"])
    assert not complaint.anonymous and complaint.contact_phone == "13812345678"
    assert complaint.location_text == "市民中心二楼社保窗口"
    assert [a.kind for a in complaint.attachments] == ["photo"]
    assert complaint.owner_agency.name == chosen


async def test_a_stale_button_from_a_cancelled_complaint_does_nothing(
    session_factory: async_sessionmaker[AsyncSession], sandbox: Sandbox, tagger: object
) -> None:
    async with running_bot(session_factory, sandbox, tagger=tagger) as harness:
        user = harness.user()
        await user.send("/complain")
        first = await user.wait_for_reply(contains="写完了")
        _, done_button = user.button("✅ 写完了")
        await user.send("/cancel")
        await user.wait_for_reply(contains="已取消")
        await user.send("/complain")
        await user.wait_for_reply(contains="写完了")
        await user.send(PART_ONE)
        await user.wait_for_reply(contains="已记下")
        await user.press_data(first.message_id, done_button["callback_data"])
        await user.wait_for_answer("失效")
        await harness.settle()
        assert not any("发生在哪里" in m.text for m in user.bot_messages())


async def test_start_or_complain_again_mid_complaint_keeps_the_draft(
    session_factory: async_sessionmaker[AsyncSession], sandbox: Sandbox, tagger: object
) -> None:
    async with running_bot(session_factory, sandbox, tagger=tagger) as harness:
        user = harness.user()
        await user.send("/complain")
        await user.wait_for_reply(contains="写完了")
        await user.send(PART_ONE)
        await user.wait_for_reply(contains="已记下")
        await user.send("/start")
        assert "/cancel" in (await user.wait_for_reply(contains="没有完成")).text
        await user.wait_for_reply(contains="写完了")  # the current question, asked again
        await user.send("/complain")
        assert (await user.wait_for_reply()).text == HANS.plain("hint.in_progress")
        await user.send("/help")  # answers in any state, with the menu buttons
        menu = await user.wait_for_reply(contains="/complain")
        await user.press(HANS.plain("menu.complain"), message=menu)
        await harness.settle()
        assert user.answers()[-1] == HANS.plain("hint.in_progress")
        await user.send(PART_TWO)
        await user.wait_for_reply(contains="已记下")
    async with session_factory() as session:
        (record,) = (await session.scalars(select(FsmRecord).where(FsmRecord.state.is_not(None)))).all()
    assert record.data["parts"] == [PART_ONE, PART_TWO]
