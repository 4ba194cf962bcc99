"""The end of the complaint conversation: anonymity, the phone (named complaints only: nobody sees an
anonymous complainant's phone), the summary to confirm; then ``workflow.intake.register_complaint``
numbers and routes it, and the receipt with the deadlines comes from the outbox."""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, User
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.citizen_callbacks import show
from handlers.complaint_questions import summary
from handlers.complaint_steps import Filing, Step, answered, ask, flow_of, step_buttons, typed_text
from handlers.texts import Translator
from workflow import filing
from workflow.citizens import get_or_create_citizen
from workflow.clock import Clock
from workflow.deadlines import Deadlines
from workflow.intake import AttachmentIn, register_complaint


async def show_summary(message: Message, state: FSMContext, tr: Translator) -> None:
    await state.set_state(Filing.confirm)
    data = await state.get_data()
    await ask(message, state, summary(tr, data), step_buttons(tr, data["flow"], "confirm", "cancel"))


def confirm_router() -> Router:
    router = Router(name="complaint-confirm")

    @router.callback_query(Filing.anonymity, Step.filter(F.action.in_({"named", "anonymous"})))
    async def anonymity(query: CallbackQuery, callback_data: Step, state: FSMContext, tr: Translator) -> None:
        if callback_data.flow != await flow_of(state):
            await query.answer(tr.plain("hint.stale_button"))
            return
        anonymous = callback_data.action == "anonymous"
        await state.update_data(anonymous=anonymous, phone=None)
        await answered(query.message, state, pressed=query.message.message_id)
        await show(query, tr("complaint.chosen.anonymity", choice=tr.plain(f"complaint.button.{callback_data.action}")))
        if anonymous:  # no one may see an anonymous complainant's phone, so none is asked for
            await show_summary(query.message, state, tr)
            return
        await state.set_state(Filing.phone)
        await ask(query.message, state, tr("complaint.ask_phone"), step_buttons(tr, callback_data.flow, "no_phone"))

    @router.message(Filing.phone, typed_text)
    async def phone(message: Message, state: FSMContext, tr: Translator) -> None:
        number = filing.parse_phone(message.text)
        if number is None:
            await ask(message, state, tr("complaint.bad_phone"), step_buttons(tr, await flow_of(state), "no_phone"))
            return
        await state.update_data(phone=number)
        await answered(message, state, tr("complaint.chosen.phone", phone=number))
        await show_summary(message, state, tr)

    @router.callback_query(Filing.phone, Step.filter(F.action == "no_phone"))
    async def skip_phone(query: CallbackQuery, callback_data: Step, state: FSMContext, tr: Translator) -> None:
        if callback_data.flow != await flow_of(state):
            await query.answer(tr.plain("hint.stale_button"))
            return
        await answered(query.message, state, pressed=query.message.message_id)
        await show(query, tr("complaint.chosen.no_phone"))
        await show_summary(query.message, state, tr)

    @router.callback_query(Filing.confirm, Step.filter(F.action == "confirm"))
    async def confirm(
        query: CallbackQuery,
        callback_data: Step,
        state: FSMContext,
        tr: Translator,
        lang: str,
        session: AsyncSession,
        clock: Clock,
        deadlines: Deadlines,
        tagger: Any,
    ) -> None:
        data = await state.get_data()
        if callback_data.flow != data.get("flow"):
            await query.answer(tr.plain("hint.stale_button"))
            return
        await query.answer()
        user: User = query.from_user
        citizen = await get_or_create_citizen(session, user.id, display_name=user.full_name, language=lang)
        text = "\n".join(data["parts"])
        complaint = await register_complaint(
            session,
            clock,
            deadlines,
            citizen=citizen,
            text=text,
            tagging=tagger.tag(text) if tagger is not None else None,
            agency_code=data.get("agency_code"),
            anonymous=bool(data.get("anonymous")),
            contact_phone=None if data.get("anonymous") else data.get("phone"),
            location_text=data.get("place"),
            attachments=[
                AttachmentIn(f["kind"], f["id"], f.get("unique"), f.get("name"), f.get("mime"), f.get("size"))
                for f in data["files"]
            ],
        )
        await answered(query.message, state, pressed=query.message.message_id)
        await state.clear()
        await query.message.edit_reply_markup(reply_markup=None)
        await query.message.answer(tr("complaint.submitted", tracking_no=complaint.tracking_no))

    return router
