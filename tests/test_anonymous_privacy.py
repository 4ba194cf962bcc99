"""An anonymous complaint's personal data, as agencies and the office read it in the bot: masked
everywhere (its words, the 不满意 reason in the 重办 notice and on the card), because the citizen was
promised 匿名：承办单位看不到您的姓名. A named complaint's owner still reads them, to call the citizen back.

The shipped Dispatcher against the Bot API stand-in, notices through the real outbox transport."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from storage.models import Complaint, OutboxMessage
from tests.factories import World
from tests.test_agency_bot_support import COMPLAINT_TEXT, Office, label, press_and_reply
from web.dashboard.evidence import shows_personal_data, visible
from web.dashboard.queries import Viewer
from workflow import lifecycle
from workflow.actors import Actor
from workflow.invites import require_contact
from workflow.privacy import CitizenView, citizen_view, sees_personal_data
from workflow.queues import pending_decisions

ID_NUMBER = "110105198001011234"
PHONE = "13698765432"
MASKED_PHONE = "136****5432"
MASKED_ID = "[身份证号]"
#: Starts with the shared text, so the tagger's evidence offsets still point at "跑了好几趟".
TEXT = f"{COMPLAINT_TEXT}。我的身份证号{ID_NUMBER}，电话{PHONE}"
REASON = f"还是没有办好，我的身份证号{ID_NUMBER}"


async def open_card(office: Office, complaint: Complaint) -> str:
    return await press_and_reply(
        office.police, label("agency.button.show", tracking_no=complaint.tracking_no), contains="投诉人"
    )


async def resolve_and_reopen(office: Office, complaint: Complaint, reason: str) -> str:
    """The owner accepts and replies; the citizen is 不满意 with ``reason``: the owner's 重办 notice."""
    police, citizen = office.police, office.citizen
    await open_card(office, complaint)
    await press_and_reply(police, label("agency.button.accept"), contains="已受理")
    await press_and_reply(police, label("agency.button.show", tracking_no=complaint.tracking_no), "办理中")
    await press_and_reply(police, label("agency.button.resolve"), contains="答复")
    await police.send("已约谈窗口人员")
    await police.wait_for_reply(contains="将原文发给群众")
    await press_and_reply(police, label("agency.button.send_reply"), contains="已办结")
    await office.deliver()
    resolved = await citizen.wait_for_reply(contains="已约谈窗口人员")
    await citizen.press(label("rate.button.2"), message=resolved)  # 不满意
    await citizen.wait_for_reply(contains="说说原因")
    await citizen.send(reason)
    await citizen.wait_for_reply(contains="将重新办理")
    await office.deliver()
    return (await police.wait_for_reply(contains="退回本单位重办")).text


async def stored_params(office: Office, complaint: Complaint, kind: str) -> list[str]:
    async with office.session_factory() as session:
        rows = await session.scalars(
            select(OutboxMessage).where(OutboxMessage.complaint_id == complaint.id, OutboxMessage.kind == kind)
        )
        return [str(row.payload) for row in rows]


async def test_an_anonymous_complaints_card_and_notice_mask_its_id_number_and_phone(office: Office) -> None:
    complaint = await office.file_complaint(anonymous=True, text=TEXT)
    await office.deliver()
    notice = await office.police.wait_for_reply(contains="新投诉")
    assert ID_NUMBER not in notice.text and PHONE not in notice.text
    card = await open_card(office, complaint)
    assert ID_NUMBER not in card and PHONE not in card
    assert MASKED_ID in card and MASKED_PHONE in card and "跑了好几趟" in card  # masked, not withheld
    assert "张三" not in card and "13800138000" not in card


async def test_an_anonymous_complaints_dissatisfied_reason_is_masked_in_the_redo_notice_and_card(
    office: Office,
) -> None:
    complaint = await office.file_complaint(anonymous=True, text=TEXT)
    await office.deliver()
    redo = await resolve_and_reopen(office, complaint, REASON)
    assert "🔁" in redo and ID_NUMBER not in redo and MASKED_ID in redo
    assert not [p for p in await stored_params(office, complaint, "agency.reopened") if ID_NUMBER in p]
    card = await press_and_reply(
        office.police, label("agency.button.show", tracking_no=complaint.tracking_no), contains="重办"
    )
    assert ID_NUMBER not in card and MASKED_ID in card


async def test_a_named_complaints_owner_still_reads_the_phone_and_the_reason(office: Office) -> None:
    complaint = await office.file_complaint(text=TEXT)
    await office.deliver()
    await office.police.wait_for_reply(contains="新投诉")
    card = await open_card(office, complaint)
    assert "张三" in card and PHONE in card and ID_NUMBER in card
    redo = await resolve_and_reopen(office, complaint, REASON)
    assert ID_NUMBER in redo  # the owner handles it and may call back


async def test_one_rule_for_every_reader_of_an_anonymous_complaint(world: World) -> None:
    """Owner, oversight (a contact or the web), the dashboard: masked; the citizen alone reads it as written."""
    session = world.session
    named = await world.complaint(text=TEXT)
    anonymous = await world.complaint(text=TEXT, anonymous=True)
    oversight_web = Viewer("oversight", None)
    agency_web = Viewer("agency", named.owner_agency_id)
    for actor in (world.police, world.oversight, oversight_web.actor):
        assert await citizen_view(session, actor, anonymous) is CitizenView.FULL  # place and files, to act on
        assert not await sees_personal_data(session, actor, anonymous)
    assert await sees_personal_data(session, world.me, anonymous)
    assert await sees_personal_data(session, world.police, named)
    assert await sees_personal_data(session, world.oversight, named)
    assert not await sees_personal_data(session, agency_web.actor, named)  # a web viewer reads, not handles
    assert shows_personal_data(oversight_web, named) and not shows_personal_data(oversight_web, anonymous)
    assert not shows_personal_data(agency_web, named)
    assert visible(oversight_web, anonymous, REASON) == f"还是没有办好，我的身份证号{MASKED_ID}"


async def test_the_office_reads_an_anonymous_complaints_extension_reason_masked(world: World) -> None:
    """In /pending and in the request's notice, stored masked in the outbox; a named one's as written."""
    reason = f"需要联系投诉人核实，电话{PHONE}"
    requested = {}
    for anonymous in (True, False):
        complaint = await world.complaint(text=TEXT, anonymous=anonymous)
        await lifecycle.accept(world.session, world.clock, world.deadlines, complaint.id, world.police)
        await lifecycle.request_extension(
            world.session, world.clock, world.deadlines, complaint.id, world.police, 3, reason
        )
        await world.session.commit()
        requested[anonymous] = complaint
    pending = {d.complaint_id: d.reason for d in await pending_decisions(world.session)}
    assert pending[requested[True].id] == f"需要联系投诉人核实，电话{MASKED_PHONE}"
    assert pending[requested[False].id] == reason
    notices = await world.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "oversight.extension_requested")
    )
    by_complaint = {row.complaint_id: str(row.payload) for row in notices}
    assert PHONE not in by_complaint[requested[True].id] and MASKED_PHONE in by_complaint[requested[True].id]
    assert PHONE in by_complaint[requested[False].id]


async def dispute_quoting(office: Office, complaint: Complaint, reason: str, basis: str) -> None:
    """The police send the complaint to the traffic police with ``reason`` twice; both times it comes
    back with ``basis``: a dispute for the office."""
    async with office.session_factory() as session:
        police = Actor.contact(await require_contact(session, office.police.user.id))
        traffic = Actor.contact(await require_contact(session, office.traffic.user.id))
        assert traffic.agency_id is not None
        for _ in range(2):
            await lifecycle.transfer(
                session, office.clock, office.deadlines, complaint.id, police, traffic.agency_id, reason
            )
            office.clock.advance(timedelta(hours=1))
            await lifecycle.decline_transfer(session, office.clock, office.deadlines, complaint.id, traffic, basis)
        await session.commit()


async def test_the_office_reads_an_anonymous_disputes_both_sides_masked_in_the_bot(office: Office) -> None:
    """The sender's reason and the receiver's basis (退回) in /pending and above the ruling's picker: masked
    for an anonymous complaint, as every other text of it; a named one's as written, for the office."""
    reason = f"群众身份证号{ID_NUMBER}显示户籍在外地"
    basis = f"已电话{PHONE}联系群众，确属户政职责"
    anonymous = await office.file_complaint(anonymous=True, text=TEXT)
    named = await office.file_complaint(text=TEXT)
    for complaint in (anonymous, named):
        await dispute_quoting(office, complaint, reason, basis)
    await office.overseer.send("/pending")
    shown = {}
    for _ in range(2):
        message = await office.overseer.wait_for_reply(contains="转办争议")
        shown[anonymous.tracking_no if anonymous.tracking_no in message.text else named.tracking_no] = message
    masked = shown[anonymous.tracking_no]
    assert PHONE not in masked.text and ID_NUMBER not in masked.text
    assert MASKED_PHONE in masked.text and MASKED_ID in masked.text and "确属户政职责" in masked.text
    assert PHONE in shown[named.tracking_no].text and ID_NUMBER in shown[named.tracking_no].text

    await office.overseer.press(label("oversight.button.rule"), message=masked)
    picker = await office.overseer.wait_for_reply(contains="审定投诉")
    assert PHONE not in picker.text and ID_NUMBER not in picker.text and MASKED_PHONE in picker.text


async def test_an_anonymous_complaint_masks_an_id_number_and_phone_written_in_groups(office: Office) -> None:
    """People write an ID number as its parts (330106 19500307 1234), as they group a phone number."""
    spaced_id, wide_phone = "110105 19800101 1234", "１３６ ９８７６ ５４３２"
    text = f"{COMPLAINT_TEXT}。身份證號：{spaced_id}，電話{wide_phone}"
    complaint = await office.file_complaint(anonymous=True, text=text)
    await office.deliver()
    card = await open_card(office, complaint)
    assert spaced_id not in card and wide_phone not in card
    assert MASKED_ID in card and MASKED_PHONE in card
