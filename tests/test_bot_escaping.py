"""What people typed reads in the chat exactly as they typed it: every card, queue, notice and view is
sent with parse_mode HTML, so each piece of a person's text must be escaped exactly once on its way
into a message (escaped twice, an ``&`` shows as ``&amp;``). Checked on what the Bot API stand-in
receives, for agency cards and queues, oversight's decision cards, the citizen's notices and views."""

from __future__ import annotations

import html

from tests.botapi import ChatUser
from tests.factories import FakeEvidence, FakeTagging
from tests.test_agency_bot_support import Office, label, pick_agency, press_and_reply
from web.sandbox.world import ChatMessage
from workflow.citizens import get_or_create_citizen
from workflow.intake import register_complaint

#: Everything HTML cares about, and an entity typed literally (it must show as "&amp;", not "&").
TYPED = "窗口贴着\"A&B须知\"，说<必须>找'王科长'，跑了好几趟 & 没人管 <b>x</b> &amp;"
#: The tagger's evidence: a phrase of the text with an ampersand in it.
WORD = "A&B须知"
NAME = "张&三<丁>"


def showing(user: ChatUser, typed: str) -> list[ChatMessage]:
    """The messages ``user`` got that quote ``typed``, as Telegram would display them (tags gone,
    entities decoded once); each must carry it escaped once in the HTML it was sent as."""
    found = [m for m in user.bot_messages() if typed in m.text]
    for message in found:
        assert html.escape(typed, quote=False) in message.html, message.html
    return found


async def test_what_people_typed_reads_as_typed_on_cards_queues_notices_and_views(office: Office) -> None:
    police, traffic, overseer, citizen = office.police, office.traffic, office.overseer, office.citizen
    start = TYPED.index(WORD)
    tagging = FakeTagging(
        normalized_text=TYPED,
        problem_types=("事难办",),
        evidence=(FakeEvidence("problem_type", "事难办", WORD, start, start + len(WORD)),),
    )
    async with office.session_factory() as session:
        person = await get_or_create_citizen(session, citizen.user.id, display_name=NAME)
        complaint = await register_complaint(
            session,
            office.clock,
            office.deadlines,
            citizen=person,
            text=TYPED,
            tagging=tagging,
            agency_code="public-security",
            anonymous=False,
            contact_phone="13800138000",
        )
        await session.commit()
    number = complaint.tracking_no
    await office.deliver()

    await police.send("/inbox")
    await police.wait_for_reply(contains="待办投诉")
    await press_and_reply(police, label("agency.button.show", tracking_no=number), contains="投诉人")
    await police.press(label("agency.button.transfer"))
    await police.wait_for_reply(contains="转交哪个单位")
    await pick_agency(police, await office.agency_name("traffic-police"))
    await police.wait_for_reply(contains="转办理由")
    await police.send("转办：" + TYPED)
    await police.wait_for_reply(contains="已提出转办")
    await office.deliver()

    transferred = await traffic.wait_for_reply(contains="转交本单位")
    await traffic.press(label("agency.button.show", tracking_no=number), message=transferred)
    await traffic.wait_for_reply(contains="投诉人")
    await press_and_reply(traffic, label("agency.button.accept"), contains="已受理")
    await traffic.press(label("agency.button.show", tracking_no=number), message=transferred)
    await traffic.wait_for_reply(contains="办理中")
    await press_and_reply(traffic, label("agency.button.extend"), contains="延期几个工作日")
    await press_and_reply(traffic, label("agency.button.days", days=3), contains="延期理由")
    await traffic.send("延期：" + TYPED)
    await traffic.wait_for_reply(contains="已提交效能办审批")
    await office.deliver()

    await overseer.wait_for_reply(contains="申请将投诉")
    await overseer.send("/pending")
    await overseer.wait_for_reply(contains="延期申请")
    await overseer.press(label("oversight.button.refuse"))
    await overseer.wait_for_reply(contains="理由")
    await overseer.send("驳回：" + TYPED)
    await overseer.wait_for_reply(contains="已驳回")
    await office.deliver()

    await traffic.press(label("agency.button.show", tracking_no=number), message=transferred)
    await traffic.wait_for_reply(contains="办理中")
    await press_and_reply(traffic, label("agency.button.resolve"), contains="答复")
    await traffic.send("答复：" + TYPED)
    await traffic.wait_for_reply(contains="将原文发给群众")
    await press_and_reply(traffic, label("agency.button.send_reply"), contains="已办结")
    await office.deliver()

    replied = await citizen.wait_for_reply(contains="答复：")
    await citizen.press(label("rate.button.2"), message=replied)
    await citizen.wait_for_reply(contains="说说原因")
    await citizen.send("不满意：" + TYPED)
    await citizen.wait_for_reply(contains="将重新办理")
    await office.deliver()
    await traffic.wait_for_reply(contains="不满意")
    await traffic.send("/inbox")
    await traffic.wait_for_reply(contains="待办投诉")
    await press_and_reply(traffic, label("agency.button.show", tracking_no=number), contains="重办")
    await citizen.send("/my")
    await citizen.wait_for_reply(contains="我的投诉")
    await citizen.send(f"/status {number}")
    await citizen.wait_for_reply(contains="不满意：")
    await office.harness.settle()

    # The complaint itself, on both agencies' cards (and the police /inbox's excerpt) and in the /status.
    assert len(showing(police, TYPED)) == 2
    assert len(showing(traffic, TYPED)) >= 3
    assert len(showing(citizen, TYPED)) >= 1
    # The tagger's evidence in both queues and on every card; the citizen's name on the cards.
    for user in (police, traffic):
        assert len(showing(user, f"事难办：{WORD}")) >= 2
    assert len(showing(police, f"投诉人：{NAME}，电话")) == 1
    # Each clerk's or citizen's reason, wherever it is quoted.
    assert showing(traffic, "转办：" + TYPED) and showing(citizen, "转办：" + TYPED)
    assert showing(overseer, "延期：" + TYPED)  # the request and oversight's /pending card
    assert len(showing(overseer, "延期：" + TYPED)) == 2
    assert showing(traffic, "驳回：" + TYPED) and not showing(citizen, "驳回：" + TYPED)  # never told of it
    assert showing(traffic, "答复：" + TYPED) and showing(citizen, "答复：" + TYPED)
    assert len(showing(traffic, "不满意：" + TYPED)) == 2  # the 重办 notice and the card
    assert showing(citizen, "不满意：" + TYPED)
    # /my shortens the text to a summary, escaped once like the rest.
    assert showing(citizen, TYPED[:30] + "…")
