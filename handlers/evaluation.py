"""/evaluate: a short standalone evaluation (评议) of an agency.

Steps, each on one panel message that the buttons edit: pick an agency (areas, then a paged list, or
type part of its name) → overall rating → optional 1–5 scores, one dimension at a time → optional
comment → confirm. Every step has « 返回 and /cancel. The conversation lives in FSM data under ``ev``.
Every button carries the nonce ``c`` of the panel it was drawn on, renewed at each drawing: a button of a
panel since redrawn (a double tap), of a finished or older /evaluate, is stale and changes nothing.
Something typed (a name to search, a comment) brings a new panel message; the last one (``panel``)
loses its buttons then, a typed comment shown on it, so only one panel is ever live.
"""

from __future__ import annotations

import secrets
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.citizen_callbacks import (
    RATINGS,
    EvalAgency,
    EvalArea,
    EvalAreas,
    EvalRating,
    EvalScore,
    EvalStep,
    area_name,
    brief,
    dimension_name,
    drop_buttons,
    rating_of,
    settle,
    show,
)
from handlers.follow_up import citizen_of, not_command
from handlers.menu import Menu
from handlers.texts import Translator
from storage.models import Agency
from storage.vocabulary import AREAS, EVALUATION_DIMENSIONS
from workflow import evaluations
from workflow.clock import Clock
from workflow.errors import DomainError

AGENCIES_PER_PAGE = 8


class Evaluate(StatesGroup):
    agency = State()  # buttons, or a typed name to search
    rating = State()
    scores = State()
    comment = State()  # typed comment, or skip
    confirm = State()


Ev = dict[str, Any]
View = tuple[str, InlineKeyboardMarkup]


def _nav(builder: InlineKeyboardBuilder, c: int, tr: Translator, *, back: bool = True) -> None:
    row = InlineKeyboardBuilder()
    if back:
        row.button(text=tr.plain("evaluate.button.back"), callback_data=EvalStep(c=c, action="back"))
    row.button(text=tr.plain("evaluate.button.cancel"), callback_data=EvalStep(c=c, action="cancel"))
    builder.attach(row)


async def areas_view(session: AsyncSession, c: int, tr: Translator) -> View:
    builder = InlineKeyboardBuilder()
    for area in await evaluations.areas_with_agencies(session):
        builder.button(text=tr.script(area), callback_data=EvalArea(c=c, a=AREAS.index(area)))
    builder.adjust(3)
    _nav(builder, c, tr, back=False)
    return tr("evaluate.start"), builder.as_markup()


def agencies_keyboard(agencies: list[Agency], c: int, tr: Translator) -> InlineKeyboardBuilder:
    builder = InlineKeyboardBuilder()
    for agency in agencies:
        builder.button(text=tr.script(agency.name), callback_data=EvalAgency(c=c, agency_id=agency.id))
    builder.adjust(1)
    return builder


async def area_view(session: AsyncSession, c: int, area_index: int, page: int, tr: Translator) -> View:
    area = area_name(area_index) or ""
    agencies, total = await evaluations.agencies_in_area(
        session, area, limit=AGENCIES_PER_PAGE, offset=page * AGENCIES_PER_PAGE
    )
    pages = max(1, -(-total // AGENCIES_PER_PAGE))
    builder = agencies_keyboard(agencies, c, tr)
    pager = InlineKeyboardBuilder()
    if page > 0:
        pager.button(text=tr.plain("evaluate.button.prev"), callback_data=EvalArea(c=c, a=area_index, p=page - 1))
    if page + 1 < pages:
        pager.button(text=tr.plain("evaluate.button.next"), callback_data=EvalArea(c=c, a=area_index, p=page + 1))
    builder.attach(pager)
    _nav(builder, c, tr)
    return tr("evaluate.area", area=area, page=page + 1, pages=pages), builder.as_markup()


def rating_view(ev: Ev, tr: Translator) -> View:
    builder = InlineKeyboardBuilder()
    for index in range(len(RATINGS)):
        builder.button(text=tr.plain(f"rate.button.{index}"), callback_data=EvalRating(c=ev["c"], r=index))
    builder.adjust(3)
    _nav(builder, ev["c"], tr)
    return tr("evaluate.rating", agency=ev["agency"]), builder.as_markup()


def score_view(ev: Ev, tr: Translator) -> View:
    c, d = ev["c"], ev["d"]
    builder = InlineKeyboardBuilder()
    for score in range(1, 6):
        builder.button(text=str(score), callback_data=EvalScore(c=c, d=d, s=score))
    extra = InlineKeyboardBuilder()
    extra.button(text=tr.plain("evaluate.button.skip_dimension"), callback_data=EvalStep(c=c, action="skip_dimension"))
    extra.button(text=tr.plain("evaluate.button.skip_scores"), callback_data=EvalStep(c=c, action="skip_scores"))
    builder.attach(extra)
    _nav(builder, c, tr)
    text = tr(
        "evaluate.score",
        agency=ev["agency"],
        rating=RATINGS[ev["rating"]].value,
        index=d + 1,
        total=len(EVALUATION_DIMENSIONS),
        dimension=dimension_name(d) or "",
    )
    return text, builder.as_markup()


def comment_view(ev: Ev, tr: Translator) -> View:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=tr.plain("evaluate.button.skip_comment"), callback_data=EvalStep(c=ev["c"], action="skip_comment")
    )
    _nav(builder, ev["c"], tr)
    return tr("evaluate.comment", limit=evaluations.MAX_COMMENT), builder.as_markup()


def confirm_view(ev: Ev, tr: Translator) -> View:
    scores = ev.get("scores") or {}
    scores_text = (
        "，".join(tr.plain("evaluate.score_item", dimension=name, score=value) for name, value in scores.items())
        if scores
        else tr.plain("evaluate.scores_none")
    )
    text = tr(
        "evaluate.confirm",
        agency=ev["agency"],
        rating=RATINGS[ev["rating"]].value,
        scores=scores_text,
        comment=ev.get("comment") or tr.plain("evaluate.comment_none"),
    )
    builder = InlineKeyboardBuilder()
    builder.button(text=tr.plain("evaluate.button.confirm"), callback_data=EvalStep(c=ev["c"], action="confirm"))
    _nav(builder, ev["c"], tr)
    return text, builder.as_markup()


async def _ev(state: FSMContext, c: int) -> Ev | None:
    """The running evaluation if the button belongs to it, else None (a stale button)."""
    ev = (await state.get_data()).get("ev")
    return ev if isinstance(ev, dict) and ev.get("c") == c else None


async def _save(state: FSMContext, ev: Ev, step: State) -> None:
    """Store the conversation at ``step``, with a new nonce for the panel about to be drawn."""
    ev["c"] = secrets.randbelow(2**31 - 1) + 1
    await state.update_data(ev=ev)
    await state.set_state(step)


async def _new_panel(message: Message, state: FSMContext, ev: Ev, view: View, answer: str | None = None) -> None:
    """Send the panel as a new message, after what the citizen typed; the last panel loses its buttons
    (showing ``answer``, as a pressed button shows the choice)."""
    if "panel" in ev:
        await settle(message, [ev["panel"]], answer)
    sent = await message.answer(view[0], reply_markup=view[1])
    ev["panel"] = sent.message_id
    await state.update_data(ev=ev)


async def _finish(state: FSMContext) -> None:
    data = await state.get_data()
    data.pop("ev", None)
    await state.set_data(data)
    await state.set_state(None)


def evaluation_router() -> Router:
    router = Router(name="citizen-evaluation")

    @router.message(Command("evaluate"))
    @router.callback_query(Menu.filter(F.action == "evaluate"))
    async def start(event: Message | CallbackQuery, state: FSMContext, session: AsyncSession, tr: Translator) -> None:
        ev: Ev = {}
        await _save(state, ev, Evaluate.agency)
        if isinstance(event, CallbackQuery):
            await event.answer()
            event = event.message  # type: ignore[assignment]
        if isinstance(event, Message):
            await _new_panel(event, state, ev, await areas_view(session, ev["c"], tr))

    @router.callback_query(EvalAreas.filter())
    @router.callback_query(EvalArea.filter())
    async def area(
        query: CallbackQuery,
        callback_data: EvalArea | EvalAreas,
        state: FSMContext,
        session: AsyncSession,
        tr: Translator,
    ) -> None:
        if (ev := await _ev(state, callback_data.c)) is None:
            return await _stale(query, state, tr)
        if isinstance(callback_data, EvalAreas) or area_name(callback_data.a) is None:
            ev.pop("area", None)
            await _save(state, ev, Evaluate.agency)
            return await show(query, *await areas_view(session, ev["c"], tr))
        ev["area"], ev["page"] = callback_data.a, max(callback_data.p, 0)
        await _save(state, ev, Evaluate.agency)
        await show(query, *await area_view(session, ev["c"], ev["area"], ev["page"], tr))

    @router.message(Evaluate.agency, F.text, not_command)
    async def search(message: Message, state: FSMContext, session: AsyncSession, tr: Translator) -> None:
        ev = (await state.get_data()).get("ev") or {}
        if "c" not in ev:  # state without its data (edited storage): start over
            await message.answer(tr("evaluate.use_buttons"))
            return
        found = await evaluations.search_agencies(session, message.text or "")
        await _save(state, ev, Evaluate.agency)
        builder = agencies_keyboard(found, ev["c"], tr)
        back = InlineKeyboardBuilder()
        back.button(text=tr.plain("evaluate.button.areas"), callback_data=EvalAreas(c=ev["c"]))
        builder.attach(back)
        key = "evaluate.search_results" if found else "evaluate.search_none"
        text = tr(key, query=(message.text or "").strip()[:30])
        await _new_panel(message, state, ev, (text, builder.as_markup()))

    @router.callback_query(EvalAgency.filter())
    async def agency(
        query: CallbackQuery, callback_data: EvalAgency, state: FSMContext, session: AsyncSession, tr: Translator
    ) -> None:
        if (ev := await _ev(state, callback_data.c)) is None:
            return await _stale(query, state, tr)
        chosen = await evaluations.evaluable_agency(session, callback_data.agency_id)
        ev.update(agency_id=chosen.id, agency=chosen.name)
        await _save(state, ev, Evaluate.rating)
        await show(query, *rating_view(ev, tr))

    @router.callback_query(EvalRating.filter())
    async def rating(query: CallbackQuery, callback_data: EvalRating, state: FSMContext, tr: Translator) -> None:
        ev = await _ev(state, callback_data.c)
        if ev is None or "agency_id" not in ev or rating_of(callback_data.r) is None:
            return await _stale(query, state, tr)
        ev.update(rating=callback_data.r, scores={}, d=0)
        await _save(state, ev, Evaluate.scores)
        await show(query, *score_view(ev, tr))

    @router.callback_query(EvalScore.filter())
    async def score(query: CallbackQuery, callback_data: EvalScore, state: FSMContext, tr: Translator) -> None:
        ev = await _ev(state, callback_data.c)
        dimension = dimension_name(callback_data.d)
        if ev is None or ev.get("d") != callback_data.d or dimension is None or not 1 <= callback_data.s <= 5:
            return await _stale(query, state, tr)
        ev["scores"] = {**ev.get("scores", {}), dimension: callback_data.s}
        await _next_dimension(query, state, ev, tr)

    @router.message(Evaluate.comment, F.text, not_command)
    @router.message(Evaluate.confirm, F.text, not_command)
    async def comment(message: Message, state: FSMContext, tr: Translator) -> None:
        """A typed comment answers the comment panel as its 跳过 would: the panel shows it, and the
        confirmation comes as a new panel under it. Text typed at the confirmation adds to the comment:
        a long one comes in pieces (typed so, or split by Telegram), and none may be turned away."""
        ev = (await state.get_data()).get("ev") or {}
        if "agency_id" not in ev:  # state without its data (edited storage): start over
            await message.answer(tr("evaluate.use_buttons"))
            return
        confirming = await state.get_state() == Evaluate.confirm.state
        text = "\n".join(filter(None, [ev.get("comment") if confirming else None, message.text]))
        try:
            ev["comment"] = evaluations.check_comment(text)
        except DomainError:
            chars = len(text.strip())  # as check_comment counts
            await message.answer(tr("evaluate.comment_too_long", chars=chars, limit=evaluations.MAX_COMMENT))
            return
        await _save(state, ev, Evaluate.confirm)
        typed = brief(ev["comment"]) if ev["comment"] else tr("evaluate.comment_none")
        answer = None if confirming else tr("evaluate.chosen.comment", comment=typed)
        await _new_panel(message, state, ev, confirm_view(ev, tr), answer)

    @router.callback_query(EvalStep.filter())
    async def step(
        query: CallbackQuery,
        callback_data: EvalStep,
        state: FSMContext,
        session: AsyncSession,
        lang: str,
        tr: Translator,
        clock: Clock,
    ) -> None:
        if (ev := await _ev(state, callback_data.c)) is None:
            return await _stale(query, state, tr)
        action, current = callback_data.action, await state.get_state()
        if action == "cancel":
            await _finish(state)
            return await show(query, tr("evaluate.cancelled"))
        if action == "skip_dimension" and current == Evaluate.scores.state:
            return await _next_dimension(query, state, ev, tr)
        if action == "skip_scores" and current == Evaluate.scores.state:
            await _save(state, ev, Evaluate.comment)
            return await show(query, *comment_view(ev, tr))
        if action == "skip_comment" and current == Evaluate.comment.state:
            ev["comment"] = None
            await _save(state, ev, Evaluate.confirm)
            return await show(query, *confirm_view(ev, tr))
        if action == "confirm" and current == Evaluate.confirm.state:
            citizen = await citizen_of(session, query.from_user, lang)
            await evaluations.record_evaluation(
                session,
                clock,
                citizen=citizen,
                agency_id=ev["agency_id"],
                rating=RATINGS[ev["rating"]],
                scores=ev.get("scores") or None,
                comment=ev.get("comment"),
            )
            await _finish(state)
            return await show(query, tr("evaluate.done", agency=ev["agency"]))
        if action == "back":
            return await _back(query, state, session, ev, current, tr)
        await _stale(query, state, tr)

    @router.message(Evaluate.rating, not_command)
    @router.message(Evaluate.scores, not_command)
    @router.message(Evaluate.confirm, not_command)
    @router.message(Evaluate.agency, not_command)
    @router.message(Evaluate.comment, not_command)
    async def use_the_buttons(message: Message, tr: Translator) -> None:
        await message.answer(tr("evaluate.use_buttons"))

    return router


async def _stale(query: CallbackQuery, state: FSMContext, tr: Translator) -> None:
    """A button of a panel since redrawn: said in a toast. On the live panel (a double tap) its current
    buttons stay; any other message (an older panel, a finished /evaluate) loses them, as in /complain."""
    ev = (await state.get_data()).get("ev")
    if isinstance(ev, dict) and isinstance(query.message, Message) and ev.get("panel") == query.message.message_id:
        await query.answer(tr.plain("hint.stale_button"))
        return
    await drop_buttons(query, tr.plain("hint.stale_button"))


async def _next_dimension(query: CallbackQuery, state: FSMContext, ev: Ev, tr: Translator) -> None:
    ev["d"] = ev.get("d", 0) + 1
    if ev["d"] >= len(EVALUATION_DIMENSIONS):
        await _save(state, ev, Evaluate.comment)
        return await show(query, *comment_view(ev, tr))
    await _save(state, ev, Evaluate.scores)
    await show(query, *score_view(ev, tr))


async def _back(
    query: CallbackQuery, state: FSMContext, session: AsyncSession, ev: Ev, current: str | None, tr: Translator
) -> None:
    """One step back from wherever the conversation is."""
    if current == Evaluate.confirm.state:
        await _save(state, ev, Evaluate.comment)
        return await show(query, *comment_view(ev, tr))
    if current == Evaluate.comment.state:
        ev["d"] = len(EVALUATION_DIMENSIONS) - 1
        await _save(state, ev, Evaluate.scores)
        return await show(query, *score_view(ev, tr))
    if current == Evaluate.scores.state and ev.get("d", 0) > 0:
        ev["d"] -= 1
        ev.get("scores", {}).pop(dimension_name(ev["d"]), None)
        await _save(state, ev, Evaluate.scores)
        return await show(query, *score_view(ev, tr))
    if current == Evaluate.scores.state:
        await _save(state, ev, Evaluate.rating)
        return await show(query, *rating_view(ev, tr))
    if current == Evaluate.rating.state and "area" in ev:
        await _save(state, ev, Evaluate.agency)
        return await show(query, *await area_view(session, ev["c"], ev["area"], ev.get("page", 0), tr))
    ev.pop("area", None)
    await _save(state, ev, Evaluate.agency)
    await show(query, *await areas_view(session, ev["c"], tr))
