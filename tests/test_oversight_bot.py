"""The oversight office in the bot: missed deadlines (催办, 督办 to oversight and leads), /overdue,
/pending decisions, the major flag; end to end over the Bot API stand-in."""

from __future__ import annotations

from datetime import timedelta

from storage.models import Citizen, Complaint, ComplaintStatus
from tests.test_agency_bot_support import (
    COMPLAINT_TEXT,
    HANS,
    Office,
    label,
    press_and_reply,
    wait_for_edit,
)
from web.sandbox.world import ChatMessage
from workflow import lifecycle, timekeeper
from workflow.actors import Actor
from workflow.invites import require_contact


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
    refuse = callback(request, label("oversight.button.refuse"))
    await office.overseer.press(label("oversight.button.refuse"), message=request)
    await office.overseer.wait_for_reply(contains="请写明理由")
    await office.overseer.send_kind("sticker")
    assert (await office.overseer.wait_for_reply()).text == HANS.plain("agency.flow.need_text")
    await office.overseer.send("鉴定可以并行，不必延期")
    await office.overseer.wait_for_reply(contains="已驳回")
    await office.deliver()
    refused = await office.police.wait_for_reply(contains="延期申请")  # the shared complaint.* notice
    assert complaint.tracking_no in refused.text and "鉴定可以并行" in refused.text  # the office's reason
    await office.harness.settle()
    assert "已驳回延期" in request.text and "李督查" in request.text  # the decision, where it was asked
    assert buttons(request) == [label("agency.button.show", tracking_no=complaint.tracking_no)]
    # the old button pressed anyway (a double tap): refused at the press, before any reason is typed
    last = office.overseer.bot_messages()[-1].message_id
    await office.overseer.press_data(request.message_id, refuse)
    await office.overseer.wait_for_reply(contains="没有待审批")
    await office.overseer.send("这句话不是理由")
    assert "没有待审批" not in (await office.overseer.wait_for_reply()).text
    assert not any("请写明理由" in m.text for m in office.overseer.bot_messages() if m.message_id > last)
    assert (await office.complaint(complaint.id)).status == ComplaintStatus.ACCEPTED

    await office.overseer.send("/pending")
    await office.overseer.wait_for_reply(contains=HANS.plain("oversight.pending.empty"))


async def ask_for_extension(office: Office, complaint: Complaint, reason: str = "等待鉴定结果") -> None:
    """The police clerk accepts the complaint and asks for two more working days."""
    await office.deliver()
    notice = await office.police.wait_for_reply(contains="新投诉")
    await office.police.press(label("agency.button.accept"), message=notice)
    await office.police.wait_for_reply(contains="已受理")
    await office.police.press(label("agency.button.show", tracking_no=complaint.tracking_no), message=notice)
    await office.police.wait_for_reply(contains="办理中")
    await press_and_reply(office.police, label("agency.button.extend"), contains="几个工作日")
    await press_and_reply(office.police, label("agency.button.days", days=2), contains="延期理由")
    await office.police.send(reason)
    await office.police.wait_for_reply(contains="已提交")
    await office.deliver()


def buttons(message: ChatMessage) -> list[str]:
    return [button["text"] for row in message.inline_keyboard or [] for button in row]


def callback(message: ChatMessage, text: str) -> str:
    return next(b["callback_data"] for row in message.inline_keyboard or [] for b in row if b["text"] == text)


async def test_an_approval_spends_its_message_and_a_colleagues_copy_shows_who_decided(office: Office) -> None:
    colleague = office.harness.user(name="周督查")
    await office.bind(colleague, "oversight-office", "oversight")
    complaint = await office.file_complaint()
    await ask_for_extension(office, complaint)
    mine = await office.overseer.wait_for_reply(contains="申请将投诉")
    theirs = await colleague.wait_for_reply(contains="申请将投诉")
    approve = callback(mine, label("oversight.button.approve"))
    refuse = callback(theirs, label("oversight.button.refuse"))

    await office.overseer.press(label("oversight.button.approve"), message=mine)
    await office.overseer.wait_for_reply(contains="已批准")
    await office.harness.settle()
    assert "已批准延期" in mine.text and "李督查" in mine.text  # who decided, in the chat history
    assert buttons(mine) == [label("agency.button.show", tracking_no=complaint.tracking_no)]
    # the colleague's copy says so at once, without being pressed
    assert "已批准延期" in theirs.text and "李督查" in theirs.text and "申请将投诉" in theirs.text
    assert buttons(theirs) == [label("agency.button.show", tracking_no=complaint.tracking_no)]
    due = (await office.complaint(complaint.id)).resolve_due_at

    await office.overseer.press_data(mine.message_id, approve)  # a double tap
    await office.overseer.wait_for_reply(contains="没有待审批")
    await office.harness.settle()
    assert mine.text.count("已批准延期") == 1
    assert (await office.complaint(complaint.id)).resolve_due_at == due

    await colleague.press_data(theirs.message_id, refuse)  # a stale client's 驳回: refused at the press
    await colleague.wait_for_reply(contains="没有待审批")
    await office.harness.settle()
    assert theirs.text.count("已批准延期") == 1
    assert not any("请写明理由" in m.text for m in colleague.bot_messages())


async def test_overdue_shows_agency_lateness_and_a_masked_excerpt_and_flags_from_the_list(office: Office) -> None:
    complaint = await office.file_complaint(text=COMPLAINT_TEXT + "，我的电话13912345678，请回电")
    await office.deliver()
    office.clock.advance(timedelta(days=1))  # Tuesday 10:00: the acknowledge deadline (Monday 15:30) passed
    await office.overseer.send("/overdue")
    page = await office.overseer.wait_for_reply(contains="超时投诉")
    police = await office.agency_name("public-security")
    for shown in (complaint.tracking_no, police, "已超时", "派出所办户口", "139****5678"):
        assert shown in page.text
    assert "13912345678" not in page.text  # lists are read on shared screens: masked like the dashboard's
    assert "1个工作日" in page.text or "小时" in page.text  # lateness in working time

    await press_and_reply(office.overseer, label("oversight.overdue.button.major", n=1), contains="请写明理由")
    await office.overseer.send("群众反映强烈，限期办结")
    await office.overseer.wait_for_reply(contains="已挂牌督办")
    await office.harness.settle()
    assert HANS.plain("agency.major") in page.text  # the page, redrawn in place
    assert label("oversight.overdue.button.unmajor", n=1) in buttons(page)
    assert label("oversight.overdue.button.major", n=1) not in buttons(page)
    assert (await office.complaint(complaint.id)).major


async def test_overdue_pages_a_long_list(office: Office) -> None:
    numbers = [(await office.file_complaint()).tracking_no for _ in range(7)]
    office.clock.advance(timedelta(days=1))
    await office.overseer.send("/overdue")
    page = await office.overseer.wait_for_reply(contains="超时投诉")
    assert "共 7 件" in page.text and "第 1/2 页" in page.text
    assert sum(number in page.text for number in numbers) == 5
    before = page.text
    await office.overseer.press(label("agency.button.next", page=2), message=page)
    page = await wait_for_edit(office.overseer, page.message_id, before)
    assert "第 2/2 页" in page.text and sum(number in page.text for number in numbers) == 2


async def dispute(office: Office, complaint: Complaint) -> None:
    """The police send the complaint to the traffic police twice; both times it is sent back."""
    async with office.session_factory() as session:
        police = Actor.contact(await require_contact(session, office.police.user.id))
        traffic = Actor.contact(await require_contact(session, office.traffic.user.id))
        assert traffic.agency_id is not None
        for basis in ("户籍业务属公安局户政部门职责", "仍属户政职责，见《户口登记条例》第三条"):
            await lifecycle.transfer(
                session, office.clock, office.deadlines, complaint.id, police, traffic.agency_id, "涉及交通管理"
            )
            office.clock.advance(timedelta(hours=1))
            await lifecycle.decline_transfer(session, office.clock, office.deadlines, complaint.id, traffic, basis)
        await session.commit()


async def test_a_dispute_shows_both_sides_and_the_ruling_picker_searches_by_name(office: Office) -> None:
    complaint = await office.file_complaint()
    await dispute(office, complaint)
    traffic = await office.agency_name("traffic-police")
    await office.overseer.send("/pending")
    request = await office.overseer.wait_for_reply(contains="转办争议")
    for side in ("王警官", "涉及交通管理", "赵交警", "户籍业务属公安局户政部门职责", "《户口登记条例》第三条", traffic):
        assert side in request.text  # the sender's reason and the receiver's basis, who and when
    rule = callback(request, label("oversight.button.rule"))

    await office.overseer.press(label("oversight.button.rule"), message=request)
    picker = await office.overseer.wait_for_reply(contains="审定投诉")
    assert "涉及交通管理" in picker.text and "户政职责" in picker.text  # both sides where the choice is made
    await office.overseer.send("交警")  # an alias, typed
    found = await office.overseer.wait_for_reply(contains="找到以下单位")
    marked = traffic + label("oversight.rule.declined_mark")  # a party of the dispute
    assert buttons(found) == [marked, label("agency.button.back")]
    await office.overseer.press(marked, message=found)
    await office.overseer.wait_for_reply(contains="审定理由")
    await office.overseer.send("事发路段的窗口由交警支队负责")
    await office.overseer.wait_for_reply(contains="已审定")
    await office.harness.settle()
    assert "已审定" in request.text and traffic in request.text and "李督查" in request.text
    assert buttons(request) == [label("agency.button.show", tracking_no=complaint.tracking_no)]
    assert buttons(found) == []  # the picker is spent too

    await office.overseer.press_data(request.message_id, rule)  # a double tap
    await office.overseer.wait_for_reply(contains=f"已经效能办审定由{traffic}办理（尚未受理），不能再审定")
    assert not any("审定投诉" in m.text for m in office.overseer.bot_messages() if m.message_id > found.message_id)


async def test_a_name_typed_at_the_ruling_picker_that_matches_nothing_keeps_the_picker(office: Office) -> None:
    complaint = await office.file_complaint()
    await dispute(office, complaint)
    await office.overseer.send("/pending")
    request = await office.overseer.wait_for_reply(contains="转办争议")
    await office.overseer.press(label("oversight.button.rule"), message=request)
    await office.overseer.wait_for_reply(contains="审定投诉")
    await office.overseer.send("火星局")
    await office.overseer.wait_for_reply(contains="没有找到")
    picker = await office.overseer.wait_for_reply(contains="审定投诉")
    assert len(buttons(picker)) > 3


async def test_a_ruling_shows_on_a_colleagues_copy_of_the_dispute_notice_at_once(office: Office) -> None:
    colleague = office.harness.user(name="周督查")
    await office.bind(colleague, "oversight-office", "oversight")
    complaint = await office.file_complaint()
    await dispute(office, complaint)
    await office.deliver()
    mine = await office.overseer.wait_for_reply(contains="转办有争议")
    theirs = await colleague.wait_for_reply(contains="转办有争议")
    assert label("oversight.button.rule") in buttons(theirs)
    traffic = await office.agency_name("traffic-police")

    await office.overseer.press(label("oversight.button.rule"), message=mine)
    await office.overseer.wait_for_reply(contains="审定投诉")
    await office.overseer.send("交警")
    found = await office.overseer.wait_for_reply(contains="找到以下单位")
    await office.overseer.press(traffic + label("oversight.rule.declined_mark"), message=found)
    await office.overseer.wait_for_reply(contains="审定理由")
    await office.overseer.send("事发路段的窗口由交警支队负责")
    await office.overseer.wait_for_reply(contains="已审定")
    await office.harness.settle()
    for copy in (mine, theirs):
        assert f"已审定由{traffic}办理" in copy.text and "李督查" in copy.text and "转办有争议" in copy.text
        assert buttons(copy) == [label("agency.button.show", tracking_no=complaint.tracking_no)]


async def test_a_card_of_a_complaint_settled_in_time_is_never_shown_as_overdue_later(office: Office) -> None:
    answered, withdrawn = await office.file_complaint(), await office.file_complaint()
    async with office.session_factory() as session:
        clerk = Actor.contact(await require_contact(session, office.police.user.id))
        citizen = Actor.citizen(await session.get_one(Citizen, answered.citizen_id))
        await lifecycle.accept(session, office.clock, office.deadlines, answered.id, clerk)
        await lifecycle.resolve(session, office.clock, office.deadlines, answered.id, clerk, "已当面致歉并办结")
        await lifecycle.withdraw(session, office.clock, office.deadlines, withdrawn.id, citizen)
        await session.commit()
    office.clock.advance(timedelta(days=14))  # well past the resolve deadline both were given (11-30 17:30)

    for complaint in (answered, withdrawn):
        await office.overseer.send(complaint.tracking_no)
        card = (await office.overseer.wait_for_reply(contains="办结期限")).text
        assert "已超时" not in card and HANS.plain("agency.remaining.stopped") in card
    await office.overseer.send("/overdue")
    assert (await office.overseer.wait_for_reply()).text == HANS.plain("oversight.overdue.empty")
