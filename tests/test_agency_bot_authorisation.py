"""Authorisation in the bot: a contact acts only on their own agency's complaints, whatever callback
data they send; a revoked or unknown user can do nothing; every refusal is explained."""

from __future__ import annotations

from datetime import timedelta

from aiogram.filters.callback_data import CallbackData
from sqlalchemy import select, update

from handlers.agency_callbacks import Card, CardAction, ExtendDays, InboxPage, PickAgency
from storage.models import AgencyContact, Complaint
from tests.botapi import ChatUser
from tests.test_agency_bot_support import HANS, Office, wait_for_edit
from workflow.intake import AttachmentIn
from workflow.invites import revoke


async def forge(user: ChatUser, data: CallbackData) -> str:
    """Press a button the bot never gave this user: the packed data sent on an old message of theirs."""
    await user.world.user_presses(user.user.id, user.bot_messages()[-1].message_id, data.pack())
    return (await user.wait_for_reply()).text


def refusal(code: str) -> str:
    return HANS.plain(f"error.{code}")


#: Every action on a complaint the contact may not see answers the same "not found", whether or not it
#: exists: no error tells a forger more (it used to say "not your agency" or "not allowed").
FORGED_BY_ANOTHER_AGENCY = [(action, "not_found") for action in CardAction]


async def test_a_contact_of_another_agency_cannot_touch_a_complaint_by_forging_callback_data(office: Office) -> None:
    assert {action for action, _ in FORGED_BY_ANOTHER_AGENCY} == set(CardAction)
    complaint = await office.file_complaint(attachments=(AttachmentIn("photo", "photo-file-1", "u1"),))
    before = await office.complaint(complaint.id)
    traffic_id = await _agency_id(office, "traffic-police")
    for action, code in FORGED_BY_ANOTHER_AGENCY:
        answer = await forge(office.housing, Card(id=complaint.id, act=action))
        assert answer == refusal(code), action
    for data, code in [
        (PickAgency(id=complaint.id, rule=False, agency=traffic_id), "not_found"),
        (PickAgency(id=complaint.id, rule=True, agency=traffic_id), "not_found"),
        (ExtendDays(id=complaint.id, days=3), "not_found"),
    ]:
        assert await forge(office.housing, data) == refusal(code)
    after = await office.complaint(complaint.id)
    assert (after.status, after.owner_agency_id, after.transfer_to_agency_id, after.version) == (
        before.status,
        before.owner_agency_id,
        before.transfer_to_agency_id,
        before.version,
    )
    await office.housing.send("/inbox")
    assert complaint.tracking_no not in (await office.housing.wait_for_reply()).text
    assert not [name for name, _ in office.harness.world.calls if name in ("sendPhoto", "sendDocument")]


async def test_a_forged_step_cannot_smuggle_a_transfer_into_another_agencys_complaint(office: Office) -> None:
    """Even after starting a legitimate step on its own complaint, the state only ever carries ids
    that workflow checks again when the text arrives."""
    theirs = await office.file_complaint()
    traffic_id = await _agency_id(office, "traffic-police")
    answer = await forge(office.traffic, PickAgency(id=theirs.id, rule=False, agency=traffic_id))
    assert answer == refusal("not_found")
    await office.traffic.send("随便写的理由")
    await office.traffic.wait_for_reply()
    assert (await office.complaint(theirs.id)).status == theirs.status


async def test_an_agency_contact_cannot_use_the_oversight_commands(office: Office) -> None:
    for command in ("/overdue", "/pending"):
        await office.police.send(command)
        assert (await office.police.wait_for_reply()).text == refusal("not_allowed")
    pressed = office.police.bot_messages()[-1]  # a page turn edits the page it was pressed on
    await office.police.press_data(pressed.message_id, InboxPage(page=1).pack())
    edited = await wait_for_edit(office.police, pressed.message_id, pressed.text)
    assert edited.text == HANS.plain("agency.inbox.empty")


async def test_a_revoked_contact_can_do_nothing_and_loses_the_contact_menu(office: Office) -> None:
    complaint = await office.file_complaint()
    async with office.session_factory() as session:
        contact = await session.scalar(
            select(AgencyContact).where(AgencyContact.telegram_user_id == office.police.user.id)
        )
        assert contact is not None
        await revoke(session, office.clock, contact)
        await session.commit()
    await office.police.send("/inbox")
    assert (await office.police.wait_for_reply()).text == refusal("contact_revoked")
    resets = [
        params
        for name, params in office.harness.world.calls
        if name == "deleteMyCommands" and params.get("scope", {}).get("chat_id") == office.police.user.id
    ]
    assert resets
    assert await forge(office.police, Card(id=complaint.id, act=CardAction.ACCEPT)) == refusal("contact_revoked")
    assert (await office.complaint(complaint.id)).status == complaint.status


async def test_a_stranger_is_told_the_agency_commands_are_for_contacts(office: Office) -> None:
    stranger = office.harness.user(name="路人甲")
    await stranger.send("/inbox")
    assert (await stranger.wait_for_reply()).text == refusal("not_a_contact")


async def test_used_expired_and_unknown_invite_codes_are_refused_clearly(office: Office) -> None:
    newcomer = office.harness.user(name="周新人")
    used = await office.invite("education", "clerk")
    other = office.harness.user(name="吴同事")
    await other.send(f"/bind {used}")
    await other.wait_for_reply(contains="绑定成功")
    await newcomer.send(f"/bind {used}")
    assert (await newcomer.wait_for_reply()).text == refusal("invite_used")
    await newcomer.send("/bind ZZZZ2222")
    assert (await newcomer.wait_for_reply()).text == refusal("invite_unknown")
    expiring = await office.invite("education", "clerk", valid_days=1)
    office.clock.advance(timedelta(days=2))
    await newcomer.send(f"/bind {expiring}")
    assert (await newcomer.wait_for_reply()).text == refusal("invite_expired")
    await newcomer.send("/bind")
    assert "邀请码" in (await newcomer.wait_for_reply()).text
    await office.police.send(f"/bind {await office.invite('education', 'lead')}")
    assert (await office.police.wait_for_reply()).text == refusal("already_bound")


async def _agency_id(office: Office, code: str) -> int:
    from tests.factories import agency

    async with office.session_factory() as session:
        return (await agency(session, code)).id


async def _transfer(office: Office, complaint_id: int, to_code: str, reason: str) -> None:
    """The owner (市公安局) proposes ``to_code`` through workflow, as its 转办 button does."""
    from workflow import lifecycle
    from workflow.actors import Actor
    from workflow.invites import require_contact

    to_agency_id = await _agency_id(office, to_code)
    async with office.session_factory() as session:
        contact = await require_contact(session, office.police.user.id)
        await lifecycle.transfer(
            session, office.clock, office.deadlines, complaint_id, Actor.contact(contact), to_agency_id, reason
        )
        await session.commit()


async def test_a_transfer_receiver_reads_the_masked_text_but_not_the_citizen_until_it_accepts(office: Office) -> None:
    """首问负责: the receiver needs the words to judge whether the complaint is theirs, not who wrote it."""
    complaint = await office.file_complaint(
        text="派出所办户口跑了好几趟，窗口态度恶劣，我的手机13912345678",
        attachments=(AttachmentIn("photo", "photo-file-1", "u1"),),
    )
    async with office.session_factory() as session:
        await session.execute(update(Complaint).where(Complaint.id == complaint.id).values(location_text="人民路88号"))
        await session.commit()
    await _transfer(office, complaint.id, "traffic-police", "涉及交通管理，群众电话13912345678")
    private = ("张三", "13800138000", "13912345678", "人民路88号")
    await office.deliver()
    notice = await office.traffic.wait_for_reply(contains="转交本单位")
    assert "139****5678" in notice.text and not [p for p in private if p in notice.text]
    await office.traffic.press(HANS.plain("agency.button.show", tracking_no=complaint.tracking_no))
    card = await office.traffic.wait_for_reply(contains="跑了好几趟")
    assert "139****5678" in card.text and "涉及交通管理" in card.text
    assert not [p for p in private if p in card.text]
    labels = [b["text"] for row in card.inline_keyboard or [] for b in row]
    assert HANS.plain("agency.button.files", count=1) not in labels
    assert await forge(office.traffic, Card(id=complaint.id, act=CardAction.FILES)) == refusal("not_found")
    assert not [name for name, _ in office.harness.world.calls if name in ("sendPhoto", "sendDocument")]
    await office.traffic.send("/inbox")
    inbox = await office.traffic.wait_for_reply(contains=complaint.tracking_no)
    assert not [p for p in private if p in inbox.text]

    await office.traffic.press(HANS.plain("agency.button.accept"), message=card)
    await office.traffic.wait_for_reply(contains="已受理")
    await office.traffic.press(HANS.plain("agency.button.show", tracking_no=complaint.tracking_no))
    accepted = await office.traffic.wait_for_reply(contains="办理中")
    assert "张三" in accepted.text and "13800138000" in accepted.text and "人民路88号" in accepted.text


async def test_a_declined_transfer_leaves_the_receiver_no_personal_data_in_its_chat(office: Office) -> None:
    complaint = await office.file_complaint()
    await _transfer(office, complaint.id, "traffic-police", "涉及交通管理")
    await office.deliver()
    await office.traffic.wait_for_reply(contains="转交本单位")
    await office.traffic.press(HANS.plain("agency.button.show", tracking_no=complaint.tracking_no))
    await office.traffic.wait_for_reply(contains="跑了好几趟")
    await office.traffic.press(HANS.plain("agency.button.decline"))
    await office.traffic.wait_for_reply()
    await office.traffic.send("依据《道路交通安全法》不属本单位职责")
    await office.traffic.wait_for_reply()
    assert (await office.complaint(complaint.id)).transfer_to_agency_id is None
    chat = "\n".join(m.text for m in office.traffic.bot_messages())
    assert "张三" not in chat and "13800138000" not in chat
