"""What people read when the timekeeper chases a deadline, end to end over the Bot API stand-in: a
passed deadline without 前, how late it is when the notice is read, and no notice at night."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from handlers.notices import render_notice
from storage.models import ComplaintTimer
from tests.factories import ZONE, local
from tests.test_agency_bot_support import HANS, Office
from workflow import timekeeper
from workflow.notifications import Notice


def texts_of(user: object) -> list[str]:
    return [m.text for m in user.bot_messages()]  # type: ignore[attr-defined]


async def run_timekeeper_until(office: Office, end: datetime) -> None:
    """The service's loop up to ``end``: each timer handled at its due moment, its notices delivered."""
    while True:
        async with office.session_factory() as session:
            due = await session.scalar(
                select(func.min(ComplaintTimer.due_at)).where(
                    ComplaintTimer.done_at.is_(None), ComplaintTimer.cancelled.is_(False)
                )
            )
        if due is None or due > end:
            break
        office.clock.set(max(office.clock.now(), due))
        await timekeeper.run_once(office.session_factory, office.clock, office.deadlines)
        await office.deliver()
    office.clock.set(end)
    await office.deliver()


async def test_a_complaint_nobody_accepts_is_urged_at_the_resolve_deadline_on_its_receipt(office: Office) -> None:
    complaint = await office.file_complaint()  # Monday 23 November, 10:00
    await run_timekeeper_until(office, local(2026, 11, 30, 17, 30))
    urged = await office.police.wait_for_reply(contains="办结期限（")
    assert urged.text == f"❗ 催办：投诉 {complaint.tracking_no} 已超过办结期限（11月30日（周一）17:30），请立即办理。"
    assert "前）" not in "".join(texts_of(office.police))  # no passed deadline reads as still ahead
    warned = [text for text in texts_of(office.police) if text.startswith("⏰ 预警") and "办结期限" in text]
    assert warned == [f"⏰ 预警：投诉 {complaint.tracking_no} 的办结期限是11月30日（周一）17:30前，请抓紧办理。"]

    await run_timekeeper_until(office, local(2026, 12, 1, 17, 30))
    escalated = await office.overseer.wait_for_reply(contains="办结期限（")
    assert escalated.text == (
        f"🔺 督办：投诉 {complaint.tracking_no} 已超过办结期限（11月30日（周一）17:30），已超时 1个工作日，"
        "已记入承办单位考核。"
    )


async def test_after_a_restart_at_night_the_agency_hears_in_the_morning_how_late_it_is(office: Office) -> None:
    complaint = await office.file_complaint()  # acknowledge deadline Monday 23 November 15:30
    await office.deliver()
    await office.police.wait_for_reply(contains="新投诉")
    before = (len(texts_of(office.police)), len(texts_of(office.overseer)))

    office.clock.set(local(2026, 11, 28, 3, 0))  # the timekeeper comes back on Saturday night
    assert await timekeeper.run_once(office.session_factory, office.clock, office.deadlines) == 3
    await office.deliver()
    assert (len(texts_of(office.police)), len(texts_of(office.overseer))) == before  # nobody woken up

    office.clock.set(local(2026, 11, 30, 9, 0))  # Monday morning
    await office.deliver()
    urged = await office.police.wait_for_reply(contains="催办")
    assert urged.text == (
        f"❗ 催办：投诉 {complaint.tracking_no} 已超过受理期限（11月23日（周一）15:30），已超时 4个工作日2个工作小时，"
        "请立即办理。"
    )
    escalated = await office.overseer.wait_for_reply(contains="督办")
    assert "已超时 4个工作日2个工作小时" in escalated.text
    assert len([text for text in texts_of(office.police) if text.startswith("❗ 催办")]) == 1  # once


def test_a_dispute_is_chased_in_the_offices_words() -> None:
    params = {
        "tracking_no": "20261123-0001",
        "clock": "resolve",
        "due_text": "11月30日（周一）17:30",
        "disputed": True,
        "overdue_by_minutes": 0,
        "working_day_minutes": 420,
    }
    assert render_notice(Notice.REMINDER, params, HANS, ZONE) == (
        "⏰ 预警：投诉 <b>20261123-0001</b> 转办有争议，仍待审定；办结期限是11月30日（周一）17:30前，"
        "请尽快审定由哪个单位办理。"
    )
    assert render_notice(Notice.OVERDUE, params, HANS, ZONE) == (
        "❗ 催办：投诉 <b>20261123-0001</b> 转办有争议，仍待审定，已超过办结期限（11月30日（周一）17:30），"
        "请立即审定由哪个单位办理。"
    )
    late = params | {"overdue_by_minutes": 430}
    assert render_notice(Notice.ESCALATED, late, HANS, ZONE) == (
        "🔺 督办：投诉 <b>20261123-0001</b> 转办争议仍未审定，已超过办结期限（11月30日（周一）17:30），"
        "已超时 1个工作日，请立即审定由哪个单位办理。"
    )
