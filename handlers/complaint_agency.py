"""The agency step of the complaint conversation: the agencies suggested from what the tagger
understood, a typed name searched, the list by area page by page, or the fallback (the office that
forwards it); then the anonymity question."""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.citizen_callbacks import show
from handlers.complaint_questions import (
    agency_buttons,
    area_view,
    areas_view,
    choice_row,
    repeated,
    suggestions,
    understood,
)
from handlers.complaint_steps import (
    ChooseAgency,
    ChooseArea,
    Filing,
    Step,
    answered,
    ask,
    flow_of,
    step_buttons,
    typed_text,
)
from handlers.texts import Translator
from storage.vocabulary import AREAS
from workflow import filing


async def ask_agency(message: Message, state: FSMContext, tr: Translator, session: AsyncSession, tagger: Any) -> None:
    await state.set_state(Filing.agency)
    await ask(message, state, *await suggestions(tr, session, tagger, await state.get_data()))


def agency_step_router() -> Router:
    router = Router(name="complaint-agency")

    @router.message(Filing.agency, typed_text)
    async def search_agency(
        message: Message, state: FSMContext, tr: Translator, session: AsyncSession, tagger: Any
    ) -> None:
        """A typed name searches the agencies, as /evaluate does; nothing found offers the suggestions
        again, so they are at hand under the newest message."""
        if filing.is_blank(message.text):
            await message.answer(tr("hint.empty"))
            return
        if await repeated(message, state, tr, session, tagger):  # the place again, not a name
            return
        await state.update_data(last=message.text)
        data = await state.get_data()
        query = " ".join(message.text.split())[:30]
        found = await filing.search(session, message.text)
        fallback = await filing.fallback_name(session)
        builder = agency_buttons(tr, found or (await understood(session, tagger, data))[2], data["flow"])
        builder.row(*choice_row(tr, data["flow"], fallback))
        key = "complaint.search_results" if found else "complaint.search_none"
        await ask(message, state, tr(key, query=query, fallback=fallback), builder.as_markup())

    @router.callback_query(Filing.agency, ChooseArea.filter())
    async def browse(
        query: CallbackQuery, callback_data: ChooseArea, state: FSMContext, tr: Translator, session: AsyncSession
    ) -> None:
        if callback_data.flow != await flow_of(state):
            await query.answer(tr.plain("hint.stale_button"))
            return
        if 0 <= callback_data.a < len(AREAS):
            await show(query, *await area_view(tr, session, callback_data.flow, callback_data.a, callback_data.p))
        else:
            await show(query, *await areas_view(tr, session, callback_data.flow))

    @router.callback_query(Filing.agency, Step.filter(F.action == "suggest"))
    async def back_to_suggestions(
        query: CallbackQuery, callback_data: Step, state: FSMContext, tr: Translator, session: AsyncSession, tagger: Any
    ) -> None:
        data = await state.get_data()
        if callback_data.flow != data.get("flow"):
            await query.answer(tr.plain("hint.stale_button"))
            return
        await show(query, *await suggestions(tr, session, tagger, data))

    @router.callback_query(Filing.agency, ChooseAgency.filter())
    @router.callback_query(Filing.agency, Step.filter(F.action == "fallback"))
    async def agency_chosen(
        query: CallbackQuery,
        callback_data: ChooseAgency | Step,
        state: FSMContext,
        tr: Translator,
        session: AsyncSession,
    ) -> None:
        data = await state.get_data()
        if callback_data.flow != data.get("flow"):
            await query.answer(tr.plain("hint.stale_button"))
            return
        chosen = None
        if isinstance(callback_data, ChooseAgency):
            chosen = await filing.pickable_agency(session, callback_data.agency)
            if chosen is None:
                await query.answer(tr.plain("hint.stale_button"))
                return
        fallback = None if chosen else await filing.fallback_name(session)
        await state.update_data(
            agency_code=chosen.code if chosen else None,
            agency_name=chosen.name if chosen else None,
            fallback_name=fallback,
        )
        await answered(query.message, state, pressed=query.message.message_id)
        await state.set_state(Filing.anonymity)
        picked = chosen.name if chosen else tr("complaint.fallback_agency", fallback=fallback)
        await show(query, tr("complaint.chosen.agency", agency=picked))  # the question keeps the answer
        await ask(
            query.message, state, tr("complaint.ask_anonymous"), step_buttons(tr, data["flow"], "named", "anonymous")
        )

    return router
