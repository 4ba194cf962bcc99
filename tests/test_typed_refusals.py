"""A clerk who typed a reply or an extension reason while a colleague resolved the complaint is told
where it stands, not the vague "state does not allow". End to end over the Bot API stand-in."""

from __future__ import annotations

from storage.models import Complaint, ComplaintStatus
from tests.test_agency_bot_support import Office, label, press_and_reply
from workflow import lifecycle
from workflow.actors import Actor
from workflow.invites import require_contact

S = ComplaintStatus


async def accepted_card(office: Office) -> Complaint:
    """A complaint the police accepted, its card open in the clerk's chat."""
    complaint = await office.file_complaint()
    async with office.session_factory() as session:
        clerk = Actor.contact(await require_contact(session, office.police.user.id))
        await lifecycle.accept(session, office.clock, office.deadlines, complaint.id, clerk)
        await session.commit()
    await office.police.send(f"/status {complaint.tracking_no}")
    await office.police.wait_for_reply(contains="办理中")
    return complaint


async def resolved_by_a_colleague(office: Office, complaint: Complaint) -> None:
    colleague = office.harness.user(name="王科员")
    await office.bind(colleague, "public-security", "clerk")
    async with office.session_factory() as session:
        actor = Actor.contact(await require_contact(session, colleague.user.id))
        await lifecycle.resolve(session, office.clock, office.deadlines, complaint.id, actor, "已当面答复群众")
        await session.commit()


async def test_a_reply_typed_while_a_colleague_resolved_the_complaint_says_it_is_resolved(office: Office) -> None:
    complaint = await accepted_card(office)
    police = office.police
    await press_and_reply(police, label("agency.button.resolve"), contains="答复")
    await police.send("已约谈窗口人员")
    await police.wait_for_reply(contains="已约谈")
    await resolved_by_a_colleague(office, complaint)

    await police.press(label("agency.button.send_reply"))
    refusal = await police.wait_for_reply(contains="不能再办结")
    name = await office.agency_name("public-security")
    assert f"这件投诉已由{name}办结，等待群众评价" in refusal.text
    assert (await office.complaint(complaint.id)).reply_text == "已当面答复群众"  # the colleague's stands


async def test_an_extension_asked_after_a_colleague_resolved_the_complaint_says_it_is_resolved(
    office: Office,
) -> None:
    complaint = await accepted_card(office)
    police = office.police
    await press_and_reply(police, label("agency.button.extend"), contains="延期几个工作日")
    await press_and_reply(police, label("agency.button.days", days=3), contains="延期理由")
    await resolved_by_a_colleague(office, complaint)

    await police.send("需要调取窗口监控录像")
    refusal = await police.wait_for_reply(contains="不能再申请延期")
    name = await office.agency_name("public-security")
    assert f"这件投诉已由{name}办结，等待群众评价" in refusal.text
    assert (await office.complaint(complaint.id)).status == S.RESOLVED
