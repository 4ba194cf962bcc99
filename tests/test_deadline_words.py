"""Deadlines as agencies and the office read them: hours are working hours and say so, and a complaint
not yet signed for (受理) shows its resolve deadline, the one on the citizen's receipt, as well as its
acknowledge deadline. End to end over the Bot API stand-in."""

from __future__ import annotations

from datetime import timedelta

from tests.test_agency_bot_support import Office
from workflow import timekeeper


async def test_a_card_not_yet_signed_for_shows_both_deadlines_in_working_hours(office: Office) -> None:
    complaint = await office.file_complaint()  # Monday 10:00: acknowledge by 15:30
    await office.police.send(f"/status {complaint.tracking_no}")
    card = await office.police.wait_for_reply(contains="投诉人")
    assert "受理期限：11月23日（周一）15:30（剩余 4个工作小时）" in card.text
    assert "办结期限：" in card.text and "个工作日" in card.text  # the receipt's deadline too
    assert "剩余 4小时" not in card.text


async def test_overdue_says_working_hours_and_shows_the_resolve_deadline_of_a_complaint_never_accepted(
    office: Office,
) -> None:
    complaint = await office.file_complaint()
    office.clock.advance(timedelta(days=1))  # Tuesday 10:00: 3 working hours past the acknowledge deadline
    await timekeeper.run_once(office.session_factory, office.clock, office.deadlines)
    await office.overseer.send("/overdue")
    page = await office.overseer.wait_for_reply(contains=complaint.tracking_no)
    assert "受理期限：11月23日（周一）15:30，已超时 3个工作小时" in page.text
    assert "办结期限：" in page.text and "剩余" in page.text
