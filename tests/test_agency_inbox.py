"""The /inbox list reads deadlines as the card does: a complaint not yet signed for (受理) shows its
resolve deadline, the one on the citizen's receipt, next to its acknowledge deadline. End to end over
the Bot API stand-in."""

from __future__ import annotations

from tests.test_agency_bot_support import Office
from workflow import lifecycle
from workflow.actors import Actor
from workflow.invites import require_contact


async def test_the_inbox_shows_both_deadlines_until_the_complaint_is_signed_for(office: Office) -> None:
    complaint = await office.file_complaint()  # Monday 10:00: acknowledge by 15:30
    police = office.police
    await police.send("/inbox")
    inbox = await police.wait_for_reply(contains=complaint.tracking_no)
    assert "受理期限：11月23日（周一）15:30，剩余 4个工作小时" in inbox.text
    assert "办结期限：" in inbox.text  # the receipt's deadline too

    async with office.session_factory() as session:
        clerk = Actor.contact(await require_contact(session, police.user.id))
        await lifecycle.accept(session, office.clock, office.deadlines, complaint.id, clerk)
        await session.commit()
    last = inbox.message_id
    await police.send("/inbox")
    await office.harness.settle()
    accepted = [m.text for m in police.bot_messages() if m.message_id > last and complaint.tracking_no in m.text][-1]
    assert "受理期限" not in accepted and "办结期限：" in accepted
