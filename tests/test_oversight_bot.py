"""The oversight office in the bot: missed deadlines (催办, 督办 to oversight and leads), /overdue,
/pending decisions, the major flag; end to end over the Bot API stand-in."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import ComplaintStatus
from tests.test_agency_bot_support import HANS, Office, open_office, press_and_reply
from workflow import timekeeper


@pytest.fixture
async def office(session_factory: async_sessionmaker[AsyncSession], catalogue_loaded: None) -> AsyncIterator[Office]:
    async with open_office(session_factory) as office:
        yield office


def label(key: str, **params: object) -> str:
    return HANS.plain(key, **params)


def texts_of(user: object) -> list[str]:
    return [m.text for m in user.bot_messages()]  # type: ignore[attr-defined]


async def test_a_missed_deadline_produces_urging_and_escalation_to_oversight_and_leads(office: Office) -> None:
    complaint = await office.file_complaint()
    await office.deliver()
    await office.police.wait_for_reply(contains="新投诉")

    office.clock.advance(timedelta(hours=6))  # Monday 16:00: past the acknowledge deadline (15:30)
    await timekeeper.run_once(office.session_factory, office.clock, office.deadlines)
    await office.deliver()
    urged = await office.police.wait_for_reply(contains="催办")
    assert complaint.tracking_no in urged.text and "受理期限" in urged.text
    assert not any("督办" in text for text in texts_of(office.overseer))

    office.clock.advance(timedelta(days=1))  # and 4 more working hours: 督办
    await timekeeper.run_once(office.session_factory, office.clock, office.deadlines)
    await office.deliver()
    escalated = await office.overseer.wait_for_reply(contains="督办")
    assert complaint.tracking_no in escalated.text
    await office.police_lead.wait_for_reply(contains="已记入承办单位考核")
    assert not any("已记入承办单位考核" in text for text in texts_of(office.police))  # leads only

    await office.overseer.send("/overdue")
    overdue = await office.overseer.wait_for_reply(contains="超时投诉")
    assert complaint.tracking_no in overdue.text and "已超时" in overdue.text
    await office.police.send("/inbox")
    assert "已超时" in (await office.police.wait_for_reply(contains=complaint.tracking_no)).text


async def test_oversight_flags_a_major_complaint_and_clears_it(office: Office) -> None:
    complaint = await office.file_complaint()
    await office.deliver()
    await office.overseer.send("/overdue")
    assert (await office.overseer.wait_for_reply()).text == HANS.plain("oversight.overdue.empty")
    office.clock.advance(timedelta(hours=6))
    await office.overseer.send("/overdue")
    await office.overseer.wait_for_reply(contains=complaint.tracking_no)
    card = await press_and_reply(
        office.overseer, label("agency.button.show", tracking_no=complaint.tracking_no), contains="投诉人"
    )
    assert "张三" in card
    await press_and_reply(office.overseer, label("oversight.button.major"), contains="请写明理由")
    await office.overseer.send("群众反映强烈，限期办结")
    await office.overseer.wait_for_reply(contains="已挂牌督办")
    await office.deliver()
    flagged = await office.police.wait_for_reply(contains="挂牌督办")
    assert "限期办结" in flagged.text
    assert (await office.complaint(complaint.id)).major

    await office.overseer.press(label("agency.button.show", tracking_no=complaint.tracking_no))
    assert HANS.plain("agency.major") in (await office.overseer.wait_for_reply(contains="投诉人")).text
    await press_and_reply(office.overseer, label("oversight.button.unmajor"), contains="办结情况")
    await office.overseer.send("已整改到位")
    await office.overseer.wait_for_reply(contains="已消号")
    assert not (await office.complaint(complaint.id)).major


async def test_pending_lists_extensions_and_disputes_and_a_refusal_needs_a_reason(office: Office) -> None:
    complaint = await office.file_complaint()
    await office.deliver()
    notice = await office.police.wait_for_reply(contains="新投诉")
    await office.police.press(label("agency.button.accept"), message=notice)
    await office.police.wait_for_reply(contains="已受理")
    await office.police.press(label("agency.button.show", tracking_no=complaint.tracking_no), message=notice)
    await office.police.wait_for_reply(contains="办理中")
    await press_and_reply(office.police, label("agency.button.extend"), contains="几个工作日")
    await press_and_reply(office.police, label("agency.button.days", days=2), contains="延期理由")
    await office.police.send("等待鉴定结果")
    await office.police.wait_for_reply(contains="已提交")

    await office.overseer.send("/pending")
    await office.overseer.wait_for_reply(contains="待审批事项共 1 件")
    request = await office.overseer.wait_for_reply(contains="延期申请")
    assert "等待鉴定结果" in request.text and "2 个工作日" in request.text
    await office.overseer.press(label("oversight.button.refuse"), message=request)
    await office.overseer.wait_for_reply(contains="请写明理由")
    await office.overseer.send_kind("sticker")
    assert (await office.overseer.wait_for_reply()).text == HANS.plain("agency.flow.need_text")
    await office.overseer.send("鉴定可以并行，不必延期")
    await office.overseer.wait_for_reply(contains="已驳回")
    await office.deliver()
    refused = await office.police.wait_for_reply(contains="延期申请")  # the shared complaint.* notice
    assert complaint.tracking_no in refused.text and "鉴定可以并行" in refused.text  # the office's reason
    # the old button again: refused once the reason is typed, and the step ends there
    await office.overseer.press(label("oversight.button.refuse"), message=request)
    await office.overseer.wait_for_reply(contains="请写明理由")
    await office.overseer.send("再驳回一次")
    await office.overseer.wait_for_reply(contains="没有待审批")
    await office.overseer.send("这句话不是理由")
    assert "没有待审批" not in (await office.overseer.wait_for_reply()).text
    assert (await office.complaint(complaint.id)).status == ComplaintStatus.ACCEPTED

    await office.overseer.send("/pending")
    await office.overseer.wait_for_reply(contains=HANS.plain("oversight.pending.empty"))
