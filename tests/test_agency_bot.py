"""Agency contacts in the bot end to end: the shipped Dispatcher, a real aiogram Bot, the Bot API
stand-in, the outbox transport; nothing mocked."""

from __future__ import annotations

from datetime import timedelta

from handlers.agency_callbacks import SendReply
from storage.models import ComplaintStatus
from tests.test_agency_bot_support import (
    COMPLAINT_TEXT,
    HANS,
    Office,
    label,
    pick_agency,
    press_and_reply,
    wait_for_edit,
)
from workflow.intake import AttachmentIn

S = ComplaintStatus


async def test_bind_gives_contacts_their_own_command_menu(office: Office) -> None:
    menus = {
        params["scope"]["chat_id"]: [c["command"] for c in params["commands"]]
        for name, params in office.harness.world.calls
        if name == "setMyCommands" and isinstance(params.get("scope"), dict)
    }
    assert menus[office.police.user.id] == ["inbox", "cancel", "help"]
    assert menus[office.overseer.user.id][:2] == ["overdue", "pending"]


async def test_help_shows_contacts_their_own_commands(office: Office) -> None:
    await office.police.send("/help")
    clerk_help = await office.police.wait_for_reply(contains="/inbox")
    assert clerk_help.text == HANS.plain("help.contact")
    await office.overseer.send("/help")
    oversight_help = await office.overseer.wait_for_reply(contains="/overdue")
    assert oversight_help.text == HANS.plain("help.oversight")
    await office.citizen.send("/help")
    citizen_help = await office.citizen.wait_for_reply(contains="/complain")
    assert "/inbox" not in citizen_help.text


async def test_the_whole_journey_from_filing_to_a_satisfied_rating(office: Office) -> None:
    police, traffic, overseer, citizen = office.police, office.traffic, office.overseer, office.citizen
    traffic_name = await office.agency_name("traffic-police")
    complaint = await office.file_complaint()
    number = complaint.tracking_no
    await office.deliver()

    notice = await police.wait_for_reply(contains="新投诉")
    assert number in notice.text and "事难办" in notice.text
    assert COMPLAINT_TEXT not in notice.text  # a notice never carries the citizen's words or name

    await police.send("/inbox")
    inbox = await police.wait_for_reply(contains="待办投诉")
    for shown in (number, "事难办", "跑了好几趟", "剩余"):
        assert shown in inbox.text
    card = await press_and_reply(police, label("agency.button.show", tracking_no=number), contains="投诉人")
    assert "张三" in card and "13800138000" in card and COMPLAINT_TEXT in card

    async def transfer_and_decline(round_: int) -> None:
        await police.press(label("agency.button.transfer"))
        await police.wait_for_reply(contains="转交哪个单位")
        declined_once = label("agency.transfer.declined_mark") if round_ == 2 else ""  # marked in the picker
        await pick_agency(police, traffic_name + declined_once)
        await police.wait_for_reply(contains="转办理由")
        await police.send("涉及交通管理，属交警支队职责")
        await police.wait_for_reply(contains="已提出转办")
        await office.deliver()
        await traffic.wait_for_reply(contains="转交本单位")
        await traffic.press(label("agency.button.decline"))
        await traffic.wait_for_reply(contains="依据")
        await traffic.send("户籍业务属公安局户政部门职责，见《户口登记条例》第三条")
        await traffic.wait_for_reply(contains="已退回")
        await office.deliver()
        declined = await police.wait_for_reply(contains="退回了投诉")
        assert f"第 {round_} 次" in declined.text
        if round_ == 1:
            await police.press(label("agency.button.show", tracking_no=number), message=declined)
            await police.wait_for_reply(contains="投诉人")

    await transfer_and_decline(1)
    assert (await office.complaint(complaint.id)).status == S.ASSIGNED
    await transfer_and_decline(2)
    assert (await office.complaint(complaint.id)).status == S.DISPUTED

    await overseer.wait_for_reply(contains="转办有争议")
    await overseer.press(label("oversight.button.rule"))
    await overseer.wait_for_reply(contains="审定投诉")
    await pick_agency(overseer, traffic_name + label("oversight.rule.declined_mark"))  # a party: first
    await overseer.wait_for_reply(contains="审定理由")
    await overseer.send("事发路段的窗口由交警支队负责")
    await overseer.wait_for_reply(contains="已审定")
    await office.deliver()

    ruled = await traffic.wait_for_reply(contains="效能办审定")
    await traffic.press(label("agency.button.show", tracking_no=number), message=ruled)
    await traffic.wait_for_reply(contains="投诉人")
    await press_and_reply(traffic, label("agency.button.accept"), contains="已受理")
    assert (await office.complaint(complaint.id)).owner_agency_id != complaint.owner_agency_id

    async def reply_and_resolve(reply: str) -> None:
        await traffic.send("/inbox")
        await traffic.wait_for_reply(contains=number)
        await press_and_reply(traffic, label("agency.button.show", tracking_no=number), contains="办理中")
        await press_and_reply(traffic, label("agency.button.resolve"), contains="答复")
        await traffic.send(reply)
        preview = await traffic.wait_for_reply(contains="将原文发给群众")
        assert reply in preview.text
        await press_and_reply(traffic, label("agency.button.send_reply"), contains="已办结")
        await office.deliver()

    await reply_and_resolve("已约谈窗口人员，户口已办妥")
    resolved = await citizen.wait_for_reply(contains="已约谈窗口人员")
    await citizen.press(label("rate.button.2"), message=resolved)  # 不满意
    await citizen.wait_for_reply(contains="说说原因")
    await citizen.send("态度还是不好")
    await citizen.wait_for_reply(contains="将重新办理")
    assert (await office.complaint(complaint.id)).status == S.ACCEPTED
    await office.deliver()
    await traffic.wait_for_reply(contains="不满意")

    await reply_and_resolve("窗口人员已调岗，向您致歉")
    resolved = await citizen.wait_for_reply(contains="已调岗")
    await citizen.press(label("rate.button.0"), message=resolved)  # 满意
    await office.harness.world.wait_for(  # thanked in a new message or in the edited notice
        lambda: any("已结案" in m.text for m in citizen.bot_messages() if m.message_id >= resolved.message_id), 10
    )
    await office.deliver()
    rated = await traffic.wait_for_reply(contains="的评价：满意")
    assert number in rated.text
    assert (await office.complaint(complaint.id)).status == S.CLOSED


async def test_accept_from_the_new_complaint_notice_and_ask_for_an_extension(office: Office) -> None:
    complaint = await office.file_complaint()
    await office.deliver()
    notice = await office.police.wait_for_reply(contains="新投诉")
    await office.police.press(label("agency.button.accept"), message=notice)
    await office.police.wait_for_reply(contains="已受理")
    await office.police.press(label("agency.button.show", tracking_no=complaint.tracking_no), message=notice)
    await office.police.wait_for_reply(contains="办理中")
    await press_and_reply(office.police, label("agency.button.extend"), contains="延期几个工作日")
    await press_and_reply(office.police, label("agency.button.days", days=3), contains="延期理由")
    await office.police.send("需要调取窗口监控录像")
    await office.police.wait_for_reply(contains="已提交效能办审批")
    await office.deliver()
    request = await office.overseer.wait_for_reply(contains="申请将投诉")
    assert "3 个工作日" in request.text and "调取窗口监控录像" in request.text
    before = (await office.complaint(complaint.id)).resolve_due_at
    await office.overseer.press(label("oversight.button.approve"), message=request)
    await office.overseer.wait_for_reply(contains="已批准")
    after = (await office.complaint(complaint.id)).resolve_due_at
    assert before is not None and after is not None and after > before


async def test_an_anonymous_complaint_never_shows_the_citizen(office: Office) -> None:
    complaint = await office.file_complaint(anonymous=True)
    await office.deliver()
    notice = await office.police.wait_for_reply(contains="新投诉")
    assert "匿名" in notice.text
    card = await press_and_reply(
        office.police, label("agency.button.show", tracking_no=complaint.tracking_no), contains="投诉人"
    )
    assert "匿名" in card and "张三" not in card and "13800138000" not in card


async def test_every_step_has_a_way_back_and_cancel_ends_it(office: Office) -> None:
    complaint = await office.file_complaint()
    await office.deliver()
    await office.police.wait_for_reply(contains="新投诉")
    await press_and_reply(office.police, label("agency.button.show", tracking_no=complaint.tracking_no), "投诉人")
    await press_and_reply(office.police, label("agency.button.transfer"), contains="转交哪个单位")
    await press_and_reply(office.police, label("agency.button.back"), contains="投诉人")
    await press_and_reply(office.police, label("agency.button.accept"), contains="已受理")
    await office.police.press(label("agency.button.show", tracking_no=complaint.tracking_no))
    await office.police.wait_for_reply(contains="办理中")
    await press_and_reply(office.police, label("agency.button.resolve"), contains="答复")
    await office.police.send("/cancel")
    await office.police.wait_for_reply(contains=HANS.plain("cancelled")[:6])
    await office.police.send("一段不应成为答复的文字")
    await office.police.wait_for_reply()
    assert (await office.complaint(complaint.id)).status == S.ACCEPTED


async def test_the_inbox_pages_with_numbered_arrows(office: Office) -> None:
    numbers = [(await office.file_complaint()).tracking_no for _ in range(7)]
    await office.police.send("/inbox")
    first = await office.police.wait_for_reply(contains="第 1/2 页")
    assert sum(number in first.text for number in numbers) == 5
    await office.police.press(label("agency.button.next", page=2), message=first)
    second = await wait_for_edit(office.police, first.message_id, first.text)  # the page turns in place
    assert "第 2/2 页" in second.text
    assert sum(number in second.text for number in numbers) == 2
    assert label("agency.button.prev", page=1) in [b["text"] for row in second.inline_keyboard or [] for b in row]


async def test_the_card_offers_the_citizens_files_and_sends_them_by_their_telegram_ids(office: Office) -> None:
    police = office.police
    files = (
        AttachmentIn("photo", "photo-file-1", "u1"),
        AttachmentIn("document", "doc-file-2", "u2", file_name="收据.pdf", mime_type="application/pdf"),
    )
    complaint = await office.file_complaint(anonymous=True, attachments=files)
    await police.send("/inbox")
    await police.wait_for_reply(contains="待办投诉")
    await press_and_reply(police, label("agency.button.show", tracking_no=complaint.tracking_no), contains="匿名")
    await police.press(label("agency.button.files", count=2))
    await office.harness.settle()
    sent = [(name, params) for name, params in office.harness.world.calls if name in ("sendPhoto", "sendDocument")]
    assert [(name, params.get("photo") or params.get("document")) for name, params in sent] == [
        ("sendPhoto", "photo-file-1"),
        ("sendDocument", "doc-file-2"),
    ]
    assert [params["chat_id"] for _, params in sent] == [str(police.user.id)] * 2
    assert label("agency.files.caption", tracking_no=complaint.tracking_no, index=2, count=2) in sent[1][1]["caption"]


async def test_the_reply_is_shown_back_and_only_the_confirmed_text_reaches_the_citizen(office: Office) -> None:
    police = office.police
    complaint = await office.file_complaint()
    await police.send("/inbox")
    await police.wait_for_reply(contains="待办投诉")
    await press_and_reply(police, label("agency.button.show", tracking_no=complaint.tracking_no), contains="投诉人")
    await press_and_reply(police, label("agency.button.accept"), contains="已受理")
    await police.press(label("agency.button.show", tracking_no=complaint.tracking_no))
    await police.wait_for_reply(contains="办理中")
    await press_and_reply(police, label("agency.button.resolve"), contains="答复")
    await police.send("初稿：已处理")
    draft = await police.wait_for_reply(contains="初稿")
    await police.send("已约谈窗口人员并当场办结")  # replaces the draft
    final = await police.wait_for_reply(contains="已约谈")
    await office.harness.settle()
    # the draft's 发送并办结 would send the newer text: it is spent
    assert not police.world.find_message(police.user.id, draft.message_id).inline_keyboard
    assert (await office.complaint(complaint.id)).status == S.ACCEPTED  # nothing sent yet

    forged = SendReply(id=complaint.id).pack()  # another agency's contact, with no preview of their own
    traffic = office.traffic
    await traffic.world.user_presses(traffic.user.id, traffic.bot_messages()[-1].message_id, forged)
    await office.harness.settle()
    assert traffic.answers()[-1] == HANS.plain("hint.stale_button")
    assert (await office.complaint(complaint.id)).status == S.ACCEPTED

    await press_and_reply(police, label("agency.button.send_reply"), contains="已办结")
    resolved = await office.complaint(complaint.id)
    assert (resolved.status, resolved.reply_text) == (S.RESOLVED, "已约谈窗口人员并当场办结")
    await office.harness.settle()
    sent = police.world.find_message(police.user.id, final.message_id)
    assert sent.text.startswith("✔ 以下答复已原文发给群众") and "已约谈窗口人员并当场办结" in sent.text
    assert not sent.inline_keyboard  # nothing left to press on what was sent


async def test_accepting_after_the_resolve_deadline_says_it_is_already_overdue(office: Office) -> None:
    complaint = await office.file_complaint()
    await office.deliver()
    notice = await office.police.wait_for_reply(contains="新投诉")
    assert complaint.resolve_due_at is not None
    office.clock.set(complaint.resolve_due_at + timedelta(hours=1))  # the deadline counts from filing
    await office.police.press(label("agency.button.accept"), message=notice)
    done = await office.police.wait_for_reply(contains="已受理")
    assert "已过" in done.text and "请在" not in done.text
