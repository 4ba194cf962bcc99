"""What a clerk's walkthrough with many complaints found: long complaints, finding one by its number,
a transfer taken back, colleagues pressing the same button, and what a former owner still sees."""

from __future__ import annotations

from handlers.agency_callbacks import Card, CardAction
from storage.models import ComplaintStatus
from tests.test_agency_bot_support import HANS, Office, label, pick_agency

S = ComplaintStatus


async def show(office: Office, user, complaint_id: int) -> list[str]:
    """Press 查看 (by its data, on the user's newest message) and return every message the bot sent."""
    before = len(user.bot_messages())
    await user.press_data(user.bot_messages()[-1].message_id, Card(id=complaint_id, act=CardAction.SHOW).pack())
    await office.harness.settle()
    return [m.text for m in user.bot_messages()[before:]]


async def test_a_complaint_of_6000_characters_opens_in_pieces_with_the_buttons_last(office: Office) -> None:
    text = ("窗口工作人员推诿扯皮，" * 600)[:6000]
    complaint = await office.file_complaint(text=text)
    await office.police.send("/inbox")
    await office.police.wait_for_reply(contains="待办投诉")
    shown = await show(office, office.police, complaint.id)
    assert len(shown) >= 2 and all(len(piece) <= 4096 for piece in shown)
    assert "".join(shown).count("推诿扯皮") == text.count("推诿扯皮")
    messages = office.police.bot_messages()[-len(shown) :]
    assert [bool(m.inline_keyboard) for m in messages] == [False] * (len(shown) - 1) + [True]


async def test_a_clerk_opens_a_card_by_typing_its_tracking_number_and_only_their_own(office: Office) -> None:
    complaint = await office.file_complaint()
    await office.police.send(complaint.tracking_no)
    assert "投诉人" in (await office.police.wait_for_reply(contains=complaint.tracking_no)).text
    await office.police.send(f"/status {complaint.tracking_no}")
    assert "投诉人" in (await office.police.wait_for_reply(contains=complaint.tracking_no)).text
    await office.housing.send(complaint.tracking_no)
    assert (await office.housing.wait_for_reply()).text == label("error.not_found")
    await office.housing.send("20991231-9999")
    assert (await office.housing.wait_for_reply()).text == label("error.not_found")


async def test_the_sender_withdraws_a_pending_transfer_from_the_card(office: Office) -> None:
    complaint = await office.file_complaint()
    traffic_name = await office.agency_name("traffic-police")
    card = await show(office, office.police, complaint.id)
    assert "地点" in card[-1] and "登记时间" in card[-1]
    await office.police.press(label("agency.button.transfer"))
    await office.police.wait_for_reply(contains="转交哪个单位")
    picker = office.police.bot_messages()[-1]
    assert "市效能办" not in [b["text"] for row in picker.inline_keyboard or [] for b in row]
    await pick_agency(office.police, traffic_name)
    await office.police.wait_for_reply(contains="转办理由")
    await office.police.send("涉及交通管理")
    await office.police.wait_for_reply(contains="已提出转办")
    card = await show(office, office.police, complaint.id)
    assert "转出：转交" in card[-1] and "涉及交通管理" in card[-1]
    await office.police.press(label("agency.button.recall"))
    await office.police.wait_for_reply(contains="已撤回")
    after = await office.complaint(complaint.id)
    assert (after.status, after.transfer_to_agency_id, after.acknowledge_due_at) == (
        S.ASSIGNED,
        None,
        complaint.acknowledge_due_at,
    )
    await office.deliver()
    await office.traffic.wait_for_reply(contains="撤回了投诉")


async def test_after_an_accepted_transfer_the_first_agency_sees_a_summary_only(office: Office) -> None:
    complaint = await office.file_complaint()
    traffic_name = await office.agency_name("traffic-police")
    await show(office, office.police, complaint.id)
    await office.police.press(label("agency.button.transfer"))
    await office.police.wait_for_reply(contains="转交哪个单位")
    await pick_agency(office.police, traffic_name)
    await office.police.wait_for_reply(contains="转办理由")
    await office.police.send("涉及交通管理")
    await office.police.wait_for_reply(contains="已提出转办")
    await office.deliver()
    await office.traffic.wait_for_reply(contains="转交本单位")
    await office.traffic.press(label("agency.button.accept"))
    await office.traffic.wait_for_reply(contains="已受理")
    card = (await show(office, office.police, complaint.id))[-1]
    assert complaint.tracking_no in card and traffic_name in card
    assert "张三" not in card and "13800138000" not in card and "跑了好几趟" not in card
    theirs = (await show(office, office.traffic, complaint.id))[-1]
    assert "13800138000" in theirs and "受理人：赵交警" in theirs


async def test_a_colleague_pressing_accept_second_is_told_who_accepted(office: Office) -> None:
    complaint = await office.file_complaint()
    await office.deliver()
    await office.police.wait_for_reply(contains="新投诉")
    await office.police_lead.wait_for_reply(contains="新投诉")
    await office.police.press(label("agency.button.accept"))
    await office.police.wait_for_reply(contains="已受理")
    await office.police_lead.press(label("agency.button.accept"))
    told = await office.police_lead.wait_for_reply(contains="王警官")
    assert "已由王警官受理" in told.text
    assert "受理人：王警官" in (await office.police_lead.wait_for_reply(contains="办理中")).text
    assert (await office.complaint(complaint.id)).status == S.ACCEPTED


async def test_an_extension_on_a_resolved_complaint_is_refused_before_any_typing(office: Office) -> None:
    complaint = await office.file_complaint()
    await show(office, office.police, complaint.id)
    await office.police.press(label("agency.button.accept"))
    await office.police.wait_for_reply(contains="已受理")
    await show(office, office.police, complaint.id)  # the card with ⏳ 申请延期
    async with office.session_factory() as session:
        from workflow import lifecycle
        from workflow.actors import Actor
        from workflow.invites import require_contact

        contact = await require_contact(session, office.police.user.id)
        await lifecycle.resolve(session, office.clock, office.deadlines, complaint.id, Actor.contact(contact), "已办")
        await session.commit()
    assert label("agency.button.extend") in [
        b["text"] for row in office.police.bot_messages()[-1].inline_keyboard or [] for b in row
    ]
    await office.police.press(label("agency.button.extend"))
    await office.police.wait_for_reply(contains="办结，等待群众评价，不能再申请延期")
    assert not [m for m in office.police.bot_messages() if "需要延期几个工作日" in m.text]


def test_the_notices_say_where_a_complaint_went_and_why_it_came_back() -> None:
    from handlers.agency_notices import render_agency_notice

    base = {"complaint_id": 7, "tracking_no": "20261203-0030", "by_agency": "市医疗保障局", "basis": "不属本局"}
    second = render_agency_notice("agency.transfer_declined", base | {"declines": 2, "disputed": True}, HANS)
    first = render_agency_notice("agency.transfer_declined", base | {"declines": 1, "disputed": False}, HANS)
    assert second is not None and first is not None
    assert "效能办审定" in second[0] and "仍由本单位负责" not in second[0]
    assert "仍由本单位负责" in first[0]
    redo = render_agency_notice(
        "agency.reopened", {"complaint_id": 7, "tracking_no": "x", "comment": "还是推诿", "reopen_days": 5}, HANS
    )
    assert redo is not None and "还是推诿" in redo[0] and "新的办结期限" not in redo[0]
    new = render_agency_notice("agency.new_complaint", {"complaint_id": 7, "tracking_no": "x"}, HANS)
    assert new is not None and new[1] is not None
    assert label("agency.button.transfer") in [b.text for row in new[1].inline_keyboard for b in row]
    withdrawn = render_agency_notice("agency.transfer_withdrawn", base, HANS)
    assert withdrawn is not None and "撤回" in withdrawn[0]


def test_remaining_time_within_a_day_keeps_its_minutes_and_times_show_the_weekday() -> None:
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    from handlers.agency_cards import duration_words, local_time

    assert duration_words(HANS, timedelta(hours=3, minutes=54), timedelta(hours=8)) == "3个工作小时54分钟"
    assert duration_words(HANS, timedelta(hours=11, minutes=54), timedelta(hours=8)) == "1个工作日3个工作小时"
    friday = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
    assert local_time(HANS, friday, ZoneInfo("Asia/Shanghai")) == "11月27日（周五）17:30"
