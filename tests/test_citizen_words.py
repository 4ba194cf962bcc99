"""What the citizen reads about deadlines and decisions, through the bot and the Bot API stand-in: an
extension in their words (a refusal is the agency's business), a deadline already passed said so, the
/status card with the deadlines they were promised, their own choices kept in the chat, and no office
jargon.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest

from bot.factory import create_bot
from bot.transport import TelegramTransport
from handlers.agency_notices import render_agency_notice
from handlers.citizen_notices import render_citizen_notice
from handlers.texts import default_texts
from storage.models import AgencyContact, Complaint, ContactRole
from tests.botapi import ChatUser
from tests.factories import agency, make_contact
from tests.test_citizen_followup import HANS, ZONE, Scene, scene  # noqa: F401 - the fixture
from workflow import lifecycle
from workflow.actors import Actor
from workflow.outbox import RateLimiter, deliver_due

REASON = "需要现场勘验，涉及多个部门。"  # typed with a full stop, as people do
REFUSAL = "理由不充分！"


@dataclass
class Office:
    scene: Scene
    clerk: ChatUser  # the police clerk's chat
    overseer: Actor

    async def deliver(self) -> None:
        bot = create_bot(self.scene.harness.world.token, self.scene.harness.sandbox.api_base)
        transport = TelegramTransport(
            bot,
            default_texts(),
            self.scene.session_factory,
            ZONE,
            renderers=[render_citizen_notice, render_agency_notice],
        )
        try:
            limiter = RateLimiter(self.scene.clock, chat_interval=0)
            await deliver_due(self.scene.session_factory, transport, self.scene.clock, limiter=limiter)
        finally:
            await bot.session.close()
        await self.scene.harness.settle()

    async def extension(self, complaint: Complaint, *, approve: bool, late: bool = False) -> Complaint:
        """The police ask for 3 more working days; the office decides (after the deadline, if ``late``)."""
        s = self.scene
        async with s.session_factory() as session:
            await lifecycle.request_extension(session, s.clock, s.deadlines, complaint.id, s.police, 3, REASON)
            await session.commit()
        if late:
            s.clock.set((await s.reload(complaint.id)).resolve_due_at + timedelta(days=1))
        async with s.session_factory() as session:
            decided = await lifecycle.decide_extension(
                session, s.clock, s.deadlines, complaint.id, self.overseer, approve, None if approve else REFUSAL
            )
            await session.commit()
        await self.deliver()
        return decided


@pytest.fixture
async def office(scene: Scene) -> AsyncIterator[Office]:  # noqa: F811 - the imported fixture
    clerk = scene.harness.user(name="李经办")
    async with scene.session_factory() as session:
        police = await agency(session, "public-security")
        session.add(
            AgencyContact(
                telegram_user_id=clerk.user.id, agency_id=police.id, role=ContactRole.CLERK.value, display_name="李经办"
            )
        )
        _, overseer = await make_contact(session, "oversight-office", ContactRole.OVERSIGHT)
        await session.commit()
    yield Office(scene, clerk, overseer)


def texts_to(user: ChatUser) -> list[str]:
    return [m.text for m in user.bot_messages()]


# --- extensions ----------------------------------------------------------------------------------


async def test_an_approved_extension_tells_the_citizen_why_and_the_new_deadline_in_their_words(
    office: Office,
) -> None:
    s = office.scene
    complaint = await s.complaint()
    await s.act("accept", complaint.id)
    decided = await office.extension(complaint, approve=True)
    new_due = s.deadlines.describe(decided.resolve_due_at, now=s.clock.now())

    told = await s.me.wait_for_reply(contains="延长")
    assert told.text.startswith(f"您的投诉 {complaint.tracking_no}")
    assert "市效能办（负责督促各单位办理投诉的部门）" in told.text and new_due in told.text
    assert "“需要现场勘验，涉及多个部门”" in told.text  # quoted without its own full stop
    assert [b["text"] for row in told.inline_keyboard or [] for b in row] == [HANS.plain("notice.button.progress")]

    [agency_news] = [t for t in texts_to(office.clerk) if "延期" in t]
    assert "效能办已批准" in agency_news and "3 个工作日" in agency_news
    assert "您的" not in agency_news
    [decided] = [m for m in office.clerk.bot_messages() if "延期" in m.text]  # the agency's own buttons
    assert [b["text"] for row in decided.inline_keyboard or [] for b in row] == [
        HANS.plain("agency.button.show", tracking_no=complaint.tracking_no)
    ]


async def test_a_refused_extension_reaches_the_agency_as_its_order_and_not_the_citizen(office: Office) -> None:
    s = office.scene
    complaint = await s.complaint()
    await s.act("accept", complaint.id)
    await office.deliver()  # the receipt and the acceptance
    before = len(s.me.bot_messages())
    accepted = await s.reload(complaint.id)
    await office.extension(complaint, approve=False)

    assert len(s.me.bot_messages()) == before  # never told of the request, so not of its refusal
    [agency_news] = [t for t in texts_to(office.clerk) if "延期" in t]
    assert "没有批准" in agency_news and "理由不充分" in agency_news and "！。" not in agency_news
    assert s.deadlines.describe_moment(accepted.resolve_due_at) in agency_news and "已过" not in agency_news


async def test_a_refusal_after_the_deadline_tells_the_agency_the_deadline_has_passed(office: Office) -> None:
    s = office.scene
    complaint = await s.complaint()
    await s.act("accept", complaint.id)
    due = (await s.reload(complaint.id)).resolve_due_at
    await office.extension(complaint, approve=False, late=True)

    [agency_news] = [t for t in texts_to(office.clerk) if "延期" in t]
    assert f"{s.deadlines.describe_moment(due)}已过" in agency_news
    assert "前" not in agency_news.replace(s.deadlines.describe_moment(due), "")


def test_the_offices_refusal_prompt_promises_only_what_happens() -> None:
    prompt = HANS.plain("oversight.refuse.reason", tracking_no="20261203-0001")
    assert "承办单位" in prompt and "群众" not in prompt


# --- a deadline already passed ---------------------------------------------------------------------


async def test_a_late_acceptance_tells_the_citizen_the_deadline_has_passed_and_that_it_is_chased(
    scene: Scene,  # noqa: F811
) -> None:
    complaint = await scene.complaint()
    scene.clock.set(complaint.resolve_due_at + timedelta(days=21))
    await scene.act("accept", complaint.id)
    await scene.deliver()
    told = await scene.me.wait_for_reply(contains="已由")
    passed = scene.deadlines.describe_moment(complaint.resolve_due_at)
    assert f"办结期限{passed}已过" in told.text and "催促" in told.text
    assert f"{passed}前" not in told.text


# --- /status -------------------------------------------------------------------------------------


async def test_status_of_a_complaint_never_accepted_shows_both_promised_deadlines_as_passed(
    scene: Scene,  # noqa: F811
) -> None:
    complaint = await scene.complaint()
    scene.clock.set(complaint.resolve_due_at + timedelta(days=21))
    await scene.me.send(f"/status {complaint.tracking_no}")
    view = await scene.me.wait_for_reply(contains=HANS.plain("status.timeline"))
    acknowledge = scene.deadlines.describe_moment(complaint.acknowledge_due_at)
    resolve = scene.deadlines.describe_moment(complaint.resolve_due_at)
    assert f"受理期限：{acknowledge}（已超期" in view.text
    assert f"办结期限：{resolve}（已超期" in view.text
    assert "前（" not in view.text


async def test_the_status_card_has_no_blank_line_between_the_agency_and_its_deadline(
    scene: Scene,  # noqa: F811
) -> None:
    complaint = await scene.complaint()
    await scene.act("accept", complaint.id)
    await scene.me.send(f"/status {complaint.tracking_no}")
    view = await scene.me.wait_for_reply(contains=HANS.plain("status.timeline"))
    assert "承办单位：市公安局\n办结期限：" in view.text
    assert "受理期限" not in view.text


async def test_status_without_a_number_lists_the_citizens_complaints(scene: Scene) -> None:  # noqa: F811
    complaint = await scene.complaint()
    await scene.me.send("/status")
    listing = await scene.me.wait_for_reply()
    assert "我的投诉" in listing.text and complaint.tracking_no in listing.text
    assert HANS.plain("my.button.view", tracking_no=complaint.tracking_no) in [
        b["text"] for row in listing.inline_keyboard or [] for b in row
    ]


async def test_status_without_a_number_and_no_complaints_says_there_are_none(scene: Scene) -> None:  # noqa: F811
    await scene.me.send("/status")
    assert (await scene.me.wait_for_reply()).text == HANS.plain("my.empty")


# --- the citizen's own choices -----------------------------------------------------------------------


async def test_the_citizens_choices_stay_in_the_chat_and_an_old_skip_button_is_answered_and_removed(
    scene: Scene,  # noqa: F811
) -> None:
    me = scene.me
    await me.send("/complain")
    await me.wait_for_reply(contains="写完了")
    await me.send("派出所办户口，窗口让我跑了好几趟都没办成。")
    await me.wait_for_reply(contains="已记下")
    await me.press(HANS.plain("complaint.button.done"))
    # as it arrived: a typed place takes its 跳过 off, but a client that has not redrawn it can press it
    place_question = copy.deepcopy(await me.wait_for_reply(contains="发生在哪里"))
    await me.send("城东派出所")
    await me.wait_for_reply(contains="请选择要投诉的单位")
    await me.send("公安")
    found = await me.wait_for_reply(contains="相关的单位")
    await me.press("市公安局", message=found)
    await me.wait_for_reply(contains="是否匿名")
    await scene.harness.settle()
    picked = me.world.find_message(me.user.id, found.message_id)
    assert picked.text == "请选择要投诉的单位：✔ 市公安局" and not picked.inline_keyboard

    anonymity = me.bot_messages()[-1]
    await me.press(HANS.plain("complaint.button.named"), message=anonymity)
    await me.wait_for_reply(contains="联系电话")
    await scene.harness.settle()
    answered = me.world.find_message(me.user.id, anonymity.message_id)
    assert answered.text == "是否匿名投诉？✔ 实名" and not answered.inline_keyboard

    # the place question's old 跳过 pressed now: it does not skip the phone
    skip = next(b["callback_data"] for row in place_question.inline_keyboard or [] for b in row)
    before = len(me.bot_messages())
    await me.press_data(place_question.message_id, skip)
    await scene.harness.settle()
    assert me.answers()[-1] == HANS.plain("hint.stale_button")
    assert not me.world.find_message(me.user.id, place_question.message_id).inline_keyboard
    assert len(me.bot_messages()) == before  # still asked for the phone, nothing skipped
    await me.send("13812345678")
    assert "13812345678" in (await me.wait_for_reply(contains="请确认")).text


# --- words ----------------------------------------------------------------------------------------

#: The office's terms, which a citizen is never taught: 首问责任, 提请审定, 督办.
JARGON = ("首问", "审定", "提请", "督办")
CITIZEN_TEXTS = ("notice.complaint.", "status.", "my.", "rate.", "complaint.", "welcome")


def test_what_the_citizen_reads_has_no_office_jargon_and_names_the_office_plainly() -> None:
    catalogue = default_texts()("zh-Hans")._messages
    citizens = {key: text for key, text in catalogue.items() if key.startswith(CITIZEN_TEXTS) or key == "help"}
    assert "status.event.assigned" in citizens and "notice.complaint.ruled" in citizens
    for key, text in citizens.items():
        assert not [word for word in JARGON if word in text], key
        if "效能办" in text:  # said once, with what it is
            assert text.count("效能办") == 1 and "市效能办（负责督促各单位办理投诉的部门）" in text, key
