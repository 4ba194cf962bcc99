"""Standalone evaluations (评议): the workflow's validation on both backends, and /evaluate end to end
through the shipped Dispatcher, a real aiogram Bot and the Bot API stand-in."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.middlewares import FloodMiddleware
from handlers.texts import default_texts
from storage.models import Agency, Evaluation, EvaluationKind
from storage.vocabulary import EVALUATION_DIMENSIONS, Rating
from tests.botapi import ChatUser, Harness, running_bot, sandbox_server
from tests.factories import agency, make_citizen, make_clock
from workflow.errors import DomainError
from workflow.evaluations import MAX_COMMENT, record_evaluation, search_agencies

HANS = default_texts()("zh-Hans")
HANT = default_texts()("zh-Hant")


# --- workflow ---------------------------------------------------------------------------------------


async def test_record_evaluation_stores_a_standalone_evaluation_with_scores_and_comment(
    session: AsyncSession, catalogue_loaded: None
) -> None:
    citizen, _ = await make_citizen(session)
    police = await agency(session, "public-security")
    clock = make_clock()
    stored = await record_evaluation(
        session,
        clock,
        citizen=citizen,
        agency_id=police.id,
        rating="比较满意",
        scores={"服务意识": 4, "行政效能": 2},
        comment="  窗口人员耐心，但排队太久  ",
    )
    await session.commit()
    row = await session.get(Evaluation, stored.id)
    assert row is not None
    assert (row.kind, row.complaint_id, row.citizen_id, row.agency_id) == (
        EvaluationKind.AGENCY_EVALUATION,
        None,
        citizen.id,
        police.id,
    )
    assert (row.rating, row.scores, row.comment) == (
        Rating.FAIRLY_SATISFIED,
        {"服务意识": 4, "行政效能": 2},
        "窗口人员耐心，但排队太久",
    )
    assert row.created_at == clock.now()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"rating": "还行"}, "rating"),
        ({"scores": {"颜值": 3}}, "dimension"),
        ({"scores": {"服务意识": 0}}, "score"),
        ({"scores": {"服务意识": 6}}, "score"),
        ({"scores": {"服务意识": True}}, "score"),
        ({"scores": {"服务意识": "5"}}, "score"),
        ({"comment": "长" * (MAX_COMMENT + 1)}, "comment"),
    ],
)
async def test_record_evaluation_refuses_bad_input_and_stores_nothing(
    session: AsyncSession, catalogue_loaded: None, change: dict[str, object], field: str
) -> None:
    citizen, _ = await make_citizen(session)
    arguments: dict[str, object] = {"rating": "满意", "scores": None, "comment": None, **change}
    police = await agency(session, "public-security")
    with pytest.raises(DomainError) as refused:
        await record_evaluation(session, make_clock(), citizen=citizen, agency_id=police.id, **arguments)  # type: ignore[arg-type]
    assert refused.value.code == "bad_value" and refused.value.params["field"] == field
    assert (await session.scalars(select(Evaluation))).all() == []


async def test_record_evaluation_refuses_an_unknown_or_inactive_agency(
    session: AsyncSession, catalogue_loaded: None
) -> None:
    citizen, _ = await make_citizen(session)
    with pytest.raises(DomainError) as missing:
        await record_evaluation(session, make_clock(), citizen=citizen, agency_id=987_654, rating="满意")
    assert missing.value.code == "not_found"
    police = await agency(session, "public-security")
    police.active = False
    await session.flush()
    with pytest.raises(DomainError) as inactive:
        await record_evaluation(session, make_clock(), citizen=citizen, agency_id=police.id, rating="满意")
    assert inactive.value.code == "agency_inactive"


async def test_search_finds_agencies_by_alias_in_either_script_and_by_a_longer_phrase(
    session: AsyncSession, catalogue_loaded: None
) -> None:
    assert (await search_agencies(session, "社保"))[0].code == "social-insurance"
    assert "health-commission" in [a.code for a in await search_agencies(session, "衛生局")]
    assert "public-security" in [a.code for a in await search_agencies(session, "市公安局户籍科的人")]
    assert await search_agencies(session, "火星殖民局") == []
    assert await search_agencies(session, "   ") == []


# --- /evaluate end to end ---------------------------------------------------------------------------


@dataclass
class Scene:
    harness: Harness
    session_factory: async_sessionmaker[AsyncSession]
    me: ChatUser

    async def evaluations(self) -> list[Evaluation]:
        async with self.session_factory() as session:
            return list(await session.scalars(select(Evaluation).order_by(Evaluation.id)))

    def panel_text(self, message_id: int) -> str:
        return self.me.world.find_message(self.me.user.id, message_id).text

    async def press(self, label: str) -> None:
        await self.me.press(label)
        await self.harness.settle()


@pytest.fixture
async def scene(session_factory: async_sessionmaker[AsyncSession], catalogue_loaded: None) -> AsyncIterator[Scene]:
    flood = FloodMiddleware(double_tap=0.0)  # the handlers themselves must act once
    async with (
        sandbox_server() as sandbox,
        running_bot(session_factory, sandbox, flood=flood, clock=make_clock()) as harness,
    ):
        yield Scene(harness, session_factory, harness.user(name="赵敏"))


async def test_evaluate_by_area_with_rating_scores_and_comment_stores_it_after_confirmation(scene: Scene) -> None:
    await scene.me.send("/evaluate")
    panel = await scene.me.wait_for_reply(contains="评议单位")
    await scene.press("政法")
    assert "市公安局" in [b["text"] for row in scene.me.button("市公安局")[0].inline_keyboard or [] for b in row]
    await scene.press("市公安局")
    assert "市公安局" in scene.panel_text(panel.message_id)
    await scene.press(HANS.plain("rate.button.1"))
    assert EVALUATION_DIMENSIONS[0] in scene.panel_text(panel.message_id)
    await scene.press("4")
    assert EVALUATION_DIMENSIONS[1] in scene.panel_text(panel.message_id)
    await scene.press(HANS.plain("evaluate.button.skip_dimension"))
    await scene.press("2")
    await scene.press(HANS.plain("evaluate.button.skip_scores"))
    assert await scene.evaluations() == []  # nothing stored before confirmation
    await scene.me.send("排队两个小时，只有一个窗口开着")
    confirm = await scene.me.wait_for_reply(contains="请确认")
    assert "服务意识 4 分" in confirm.text and "依法行政 2 分" in confirm.text and "比较满意" in confirm.text
    await scene.press(HANS.plain("evaluate.button.confirm"))
    assert "感谢您的评议" in scene.panel_text(confirm.message_id)

    [stored] = await scene.evaluations()
    async with scene.session_factory() as session:
        police_id = (await agency(session, "public-security")).id
    assert stored.kind == EvaluationKind.AGENCY_EVALUATION and stored.agency_id == police_id
    assert stored.rating == "比较满意" and stored.complaint_id is None
    assert stored.scores == {"服务意识": 4, "依法行政": 2}
    assert stored.comment == "排队两个小时，只有一个窗口开着"


async def test_typing_an_alias_finds_the_agency_and_skipping_everything_still_records_the_rating(
    scene: Scene,
) -> None:
    await scene.me.send("/evaluate")
    await scene.me.wait_for_reply(contains="评议单位")
    await scene.me.send("社保")
    await scene.me.wait_for_reply(contains=HANS.plain("evaluate.search_results"))
    await scene.press("市社会保险事业管理中心")
    await scene.press(HANS.plain("rate.button.2"))
    await scene.press(HANS.plain("evaluate.button.skip_scores"))
    await scene.press(HANS.plain("evaluate.button.skip_comment"))
    await scene.press(HANS.plain("evaluate.button.confirm"))
    [stored] = await scene.evaluations()
    assert (stored.rating, stored.scores, stored.comment) == ("不满意", {}, None)


async def test_an_unknown_name_says_so_and_offers_the_area_list(scene: Scene) -> None:
    await scene.me.send("/evaluate")
    await scene.me.wait_for_reply(contains="评议单位")
    await scene.me.send("火星殖民局")
    await scene.me.wait_for_reply(contains="没有找到")
    await scene.press(HANS.plain("evaluate.button.areas"))
    assert scene.me.button("政法")


async def test_a_long_area_list_pages_and_back_returns_to_the_page_then_the_areas(scene: Scene) -> None:
    await scene.me.send("/evaluate")
    panel = await scene.me.wait_for_reply(contains="评议单位")
    await scene.press("经济管理")
    assert "第 1/2 页" in scene.panel_text(panel.message_id)
    first_page = scene.me.world.find_message(scene.me.user.id, panel.message_id).inline_keyboard
    await scene.press(HANS.plain("evaluate.button.next"))
    assert "第 2/2 页" in scene.panel_text(panel.message_id)
    second_page = scene.me.world.find_message(scene.me.user.id, panel.message_id).inline_keyboard
    assert first_page != second_page
    agency_button = (second_page or [[]])[0][0]["text"]
    await scene.press(agency_button)
    await scene.press(HANS.plain("evaluate.button.back"))
    assert "第 2/2 页" in scene.panel_text(panel.message_id)
    await scene.press(HANS.plain("evaluate.button.back"))
    assert HANS.plain("evaluate.start").splitlines()[1] in scene.panel_text(panel.message_id)


async def test_back_walks_the_steps_in_reverse_and_drops_the_undone_score(scene: Scene) -> None:
    await scene.me.send("/evaluate")
    panel = await scene.me.wait_for_reply(contains="评议单位")
    await scene.press("政法")
    await scene.press("市公安局")
    await scene.press(HANS.plain("rate.button.0"))
    await scene.press("5")  # 服务意识
    await scene.press(HANS.plain("evaluate.button.back"))
    assert EVALUATION_DIMENSIONS[0] in scene.panel_text(panel.message_id)
    await scene.press(HANS.plain("evaluate.button.back"))
    assert "总体来说" in scene.panel_text(panel.message_id)
    await scene.press(HANS.plain("rate.button.0"))
    await scene.press(HANS.plain("evaluate.button.skip_scores"))
    await scene.press(HANS.plain("evaluate.button.skip_comment"))
    await scene.press(HANS.plain("evaluate.button.back"))
    assert "还有什么意见" in scene.panel_text(panel.message_id)
    await scene.press(HANS.plain("evaluate.button.skip_comment"))
    assert "各项打分：未打分" in scene.panel_text(panel.message_id)
    await scene.press(HANS.plain("evaluate.button.confirm"))
    [stored] = await scene.evaluations()
    assert stored.scores == {}


async def test_cancel_by_button_or_command_stores_nothing(scene: Scene) -> None:
    await scene.me.send("/evaluate")
    panel = await scene.me.wait_for_reply(contains="评议单位")
    await scene.press("政法")
    await scene.press(HANS.plain("evaluate.button.cancel"))
    assert scene.panel_text(panel.message_id) == HANS.plain("evaluate.cancelled")
    await scene.me.send("/evaluate")
    await scene.me.wait_for_reply(contains="评议单位")
    await scene.press("政法")
    await scene.press("市公安局")
    await scene.me.send("/cancel")
    await scene.me.wait_for_reply(contains=HANS.plain("cancelled")[:6])
    await scene.me.send("市公安局")  # no longer a search
    assert "没有找到" not in (await scene.me.wait_for_reply()).text
    assert await scene.evaluations() == []


async def test_a_double_tapped_confirm_stores_once_and_old_buttons_are_stale(scene: Scene) -> None:
    await scene.me.send("/evaluate")
    old = await scene.me.wait_for_reply(contains="评议单位")
    await scene.me.send("/evaluate")  # not over the one under way
    assert (await scene.me.wait_for_reply()).text == HANS.plain("hint.in_progress")
    await scene.me.send("/cancel")
    await scene.me.wait_for_reply(contains="已取消")
    await scene.me.send("/evaluate")  # a fresh conversation makes the first panel's buttons stale
    panel = await scene.me.wait_for_reply(contains="评议单位")
    await scene.me.press("政法", message=old)
    await scene.harness.settle()
    assert scene.me.answers()[-1] == HANS.plain("hint.stale_button")
    assert "评议单位" in scene.panel_text(old.message_id)  # unchanged

    await scene.press("政法")
    await scene.press("市公安局")
    await scene.press(HANS.plain("rate.button.0"))
    await scene.press(HANS.plain("evaluate.button.skip_scores"))
    await scene.press(HANS.plain("evaluate.button.skip_comment"))
    message, button = scene.me.button(HANS.plain("evaluate.button.confirm"))
    for _ in range(2):
        await scene.me.world.user_presses(scene.me.user.id, message.message_id, button["callback_data"])
    await scene.harness.settle()
    assert len(await scene.evaluations()) == 1
    assert scene.me.answers()[-1] == HANS.plain("hint.stale_button")
    assert panel.message_id == message.message_id


async def test_typing_where_a_button_is_expected_points_at_the_buttons(scene: Scene) -> None:
    await scene.me.send("/evaluate")
    await scene.me.wait_for_reply(contains="评议单位")
    await scene.press("政法")
    await scene.press("市公安局")
    await scene.me.send("满意")
    assert (await scene.me.wait_for_reply()).text == HANS.plain("evaluate.use_buttons")


async def test_a_traditional_chinese_reader_evaluates_in_traditional_script(scene: Scene) -> None:
    reader = scene.harness.user(name="陳小姐", language_code="zh-hk")
    await reader.send("/evaluate")
    panel = await reader.wait_for_reply(contains="評議單位")
    await reader.press("政法")
    await scene.harness.settle()
    await reader.press("市公安局")
    await scene.harness.settle()
    assert "總體來說" in reader.world.find_message(reader.user.id, panel.message_id).text
    assert reader.button(HANT.plain("rate.button.0"))


async def test_the_menu_button_starts_an_evaluation(
    scene: Scene, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    await scene.me.send("/start")
    await scene.me.wait_for_reply(contains="民声")
    await scene.me.press(HANS.plain("menu.evaluate"))
    await scene.me.wait_for_reply(contains="评议单位")
    async with session_factory() as session:  # an inactive agency is not offered
        await session.execute(update(Agency).where(Agency.code == "justice").values(active=False))
        await session.commit()
    await scene.press("政法")
    labels = [b["text"] for row in scene.me.button("市公安局")[0].inline_keyboard or [] for b in row]
    assert "市司法局" not in labels
