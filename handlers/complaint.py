"""The citizen's complaint conversation (/complain): free text over several messages, attachments,
place, the agency (what the tagger understood, a typed name, or the list by area), anonymity, phone
(named complaints only: nobody sees an anonymous complainant's phone), a summary to confirm; then
``workflow.intake.register_complaint`` numbers and routes it, and the receipt with the deadlines comes
from the outbox. ``workflow.filing`` decides what a draft holds and which agencies can be picked.

Everything entered lives in the durable FSM, so a restart loses nothing. Buttons carry the
conversation's ``flow`` id: a button from an earlier conversation is answered as stale. Photos and
files are taken at every step until confirmation; anything typed or sent where a button is expected
re-asks the current step's question, so the citizen is never left without its buttons. The messages
asking the current step are remembered (``asked``): once it is answered, by a button or by typing (a
place, a phone number), they all lose their buttons at once, the typed answer shown on the last one.
A message sent twice in a row (a double send on a bad network) is taken once (``last``). A location pin
or venue answers the place question. An edited message changes nothing noted, and the citizen is told
so. Text typed before /complain is offered for filing (``handlers.citizen_offer``); taken, or /complain
or 我要投诉 pressed while it is on offer, it starts this conversation (``begin``).

This module holds the start, the text and place steps, and what no step takes; the steps' plumbing is
in ``complaint_steps``, what the questions show in ``complaint_questions``, the agency step in
``complaint_agency``, anonymity, phone and confirmation in ``complaint_confirm``. ``complaint_router``
puts them together in the order that matters.
"""

from __future__ import annotations

import secrets
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.citizen_callbacks import brief, drop_buttons, show
from handlers.complaint_agency import agency_step_router, ask_agency
from handlers.complaint_confirm import confirm_router
from handlers.complaint_questions import ask_current_step, repeated
from handlers.complaint_steps import (
    ChooseAgency,
    ChooseArea,
    Filing,
    Step,
    answered,
    ask,
    flow_of,
    not_command,
    offer_start,
    step_buttons,
    typed_text,
)
from handlers.menu import Menu
from handlers.texts import Translator
from workflow import filing


async def nothing_entered(state: FSMContext) -> bool:
    """A complaint just started, with no text or file yet: starting over loses nothing."""
    data = await state.get_data()
    return await state.get_state() == Filing.text.state and not data.get("parts") and not data.get("files")


async def begin(message: Message, state: FSMContext, tr: Translator) -> None:
    """Start a complaint: empty, or with the text on offer (typed before /complain), which 作为投诉提交,
    /complain and 我要投诉 all take, since a citizen who typed a complaint and then asks to complain means
    it. The offer's question then shows it taken; the next steps are the same."""
    offer = (await state.get_data()).get("offer")
    parts, files = (offer["parts"], offer.get("files", [])) if offer else ([], [])
    taken = tr("complaint.chosen.offer_file", text=offer_start(parts)) if offer else None
    await answered(message, state, taken)  # an empty draft started over, or the offer taken: its question goes
    flow = secrets.token_hex(3)
    await state.set_state(Filing.text)
    await state.set_data({"flow": flow, "parts": parts, "files": files})
    if parts:
        text = tr("complaint.offer_taken", chars=filing.length(parts))
        await ask(message, state, text, step_buttons(tr, flow, "done", "cancel"))
    else:
        await ask(message, state, tr("complaint.start"), step_buttons(tr, flow, "done", "cancel"))


def file_of(message: Message) -> dict[str, Any]:
    if message.photo:
        photo = message.photo[-1]
        return {"kind": "photo", "id": photo.file_id, "unique": photo.file_unique_id, "size": photo.file_size}
    doc = message.document
    return {
        "kind": "document",
        "id": doc.file_id,
        "unique": doc.file_unique_id,
        "name": doc.file_name,
        "mime": doc.mime_type,
        "size": doc.file_size,
    }


def complaint_router() -> Router:
    """The whole conversation, in the order that matters: a router's own handlers are tried before its
    children's, so the steps come as children first and what no step took last."""
    router = Router(name="complaint")
    router.include_routers(_text_and_place_router(), agency_step_router(), confirm_router(), _leftovers_router())
    return router


def _text_and_place_router() -> Router:
    router = Router(name="complaint-text-place")

    @router.message(Command("complain"))
    @router.callback_query(Menu.filter(F.action == "complain"))
    async def start(event: Message | CallbackQuery, state: FSMContext, tr: Translator) -> None:
        message = event if isinstance(event, Message) else event.message
        if isinstance(event, CallbackQuery):
            await event.answer()
        await begin(message, state, tr)

    @router.message(Filing.text, typed_text)
    async def add_text(message: Message, state: FSMContext, tr: Translator) -> None:
        data = await state.get_data()
        buttons = step_buttons(tr, data["flow"], "done")
        if filing.is_blank(message.text):
            await ask(message, state, tr("hint.empty"), buttons)
            return
        added = filing.append_text(data["parts"], message.text)
        await state.update_data(parts=added.parts, last=message.text)
        if added.repeated:
            key = "complaint.repeated"
        elif added.dropped and added.kept:
            key = "complaint.limit_reached"
        elif added.dropped:
            key = "complaint.limit_full"
        else:
            key = "complaint.noted"
        text = tr(key, chars=added.chars, kept=added.kept, dropped=added.dropped, limit=filing.MAX_CHARS)
        await ask(message, state, text, buttons)

    @router.message(StateFilter(Filing), F.photo | F.document)
    async def add_file(message: Message, state: FSMContext, tr: Translator, session: AsyncSession, tagger: Any) -> None:
        data = await state.get_data()
        files = [*data["files"], file_of(message)]
        parts = data["parts"]
        if message.caption and not filing.is_blank(message.caption):
            parts = filing.append_text(parts, message.caption).parts
        await state.update_data(files=files, parts=parts)
        if await state.get_state() == Filing.text.state:
            await ask(
                message, state, tr("complaint.file_noted", count=len(files)), step_buttons(tr, data["flow"], "done")
            )
            return
        await message.answer(tr("complaint.file_noted_later", count=len(files)))
        await ask_current_step(message, state, tr, session, tagger)

    @router.callback_query(Filing.text, Step.filter(F.action == "done"))
    async def text_done(query: CallbackQuery, callback_data: Step, state: FSMContext, tr: Translator) -> None:
        data = await state.get_data()
        if callback_data.flow != data.get("flow"):
            await query.answer(tr.plain("hint.stale_button"))
            return
        await query.answer()
        if len("".join(data["parts"]).strip()) < filing.MIN_CHARS:
            await query.message.answer(tr("complaint.too_short", minimum=filing.MIN_CHARS))
            return
        await answered(query.message, state)
        await state.set_state(Filing.place)
        await ask(query.message, state, tr("complaint.ask_place"), step_buttons(tr, data["flow"], "no_place"))

    async def take_place(
        message: Message, state: FSMContext, tr: Translator, session: AsyncSession, tagger: Any, place: str
    ) -> None:
        await state.update_data(place=place)
        await answered(message, state, tr("complaint.chosen.place", place=brief(place)))
        await ask_agency(message, state, tr, session, tagger)

    @router.message(Filing.place, typed_text)
    async def place(message: Message, state: FSMContext, tr: Translator, session: AsyncSession, tagger: Any) -> None:
        if filing.is_blank(message.text):
            await ask(message, state, tr("hint.empty"), step_buttons(tr, await flow_of(state), "no_place"))
            return
        if await repeated(message, state, tr, session, tagger):  # the last part again, not a place
            return
        await state.update_data(last=message.text)
        await take_place(message, state, tr, session, tagger, message.text.strip()[:500])

    @router.message(Filing.place, F.location)
    async def place_pin(
        message: Message, state: FSMContext, tr: Translator, session: AsyncSession, tagger: Any
    ) -> None:
        """A location pin or a venue, natural on a phone: the place as text the clerk reads (a bare pin's
        coordinate labels, our words, in the citizen's script like the rest of what they sent)."""
        venue, location = message.venue, message.location
        place = filing.place_of_pin(
            location.latitude, location.longitude, venue.title if venue else None, venue.address if venue else None
        )
        if venue is None:
            place = tr.script(place)
        await state.update_data(last=None)
        await take_place(message, state, tr, session, tagger, place[:500])

    @router.callback_query(Filing.place, Step.filter(F.action == "no_place"))
    async def skip_place(
        query: CallbackQuery, callback_data: Step, state: FSMContext, tr: Translator, session: AsyncSession, tagger: Any
    ) -> None:
        if callback_data.flow != await flow_of(state):
            await query.answer(tr.plain("hint.stale_button"))
            return
        await answered(query.message, state, pressed=query.message.message_id)
        await show(query, tr("complaint.chosen.no_place"))
        await ask_agency(query.message, state, tr, session, tagger)

    return router


def _leftovers_router() -> Router:
    """The cancel button, and whatever no step took: stale buttons, text where a button is expected,
    what is no answer at all."""
    router = Router(name="complaint-leftovers")

    @router.callback_query(Step.filter(F.action == "cancel"))
    async def cancel(query: CallbackQuery, callback_data: Step, state: FSMContext, tr: Translator) -> None:
        if await state.get_state() is None or callback_data.flow != await flow_of(state):
            await query.answer(tr.plain("hint.stale_button"))
            return
        await answered(query.message, state, pressed=query.message.message_id)
        await state.clear()
        await drop_buttons(query)
        await query.message.answer(tr("cancelled"))

    @router.callback_query(Step.filter())
    @router.callback_query(ChooseAgency.filter())
    @router.callback_query(ChooseArea.filter())
    async def answered_already(query: CallbackQuery, tr: Translator) -> None:
        """A button of a step no longer asked (a double tap, a complaint finished or dropped by /cancel):
        said in a toast, and the buttons leave that message so they are not pressed again in vain."""
        await drop_buttons(query, tr.plain("hint.stale_button"))

    @router.message(StateFilter(Filing.anonymity, Filing.confirm), F.text, not_command)
    async def use_the_buttons(
        message: Message, state: FSMContext, tr: Translator, session: AsyncSession, tagger: Any
    ) -> None:
        """Text where only a button will do: point at the buttons, and ask again under this message."""
        await message.answer(tr("complaint.use_buttons"))
        await ask_current_step(message, state, tr, session, tagger)

    @router.edited_message(StateFilter(Filing), F.text | F.caption)
    async def edited(message: Message, state: FSMContext, tr: Translator, session: AsyncSession, tagger: Any) -> None:
        """A sent message edited changes nothing noted (the draft keeps what was sent): said, so a correction
        is sent anew while the text is being written, or seen on the summary after."""
        if await state.get_state() == Filing.text.state:
            await ask(message, state, tr("complaint.edited"), step_buttons(tr, await flow_of(state), "done"))
            return
        await message.answer(tr("complaint.edited_later"))
        await ask_current_step(message, state, tr, session, tagger)

    @router.message(StateFilter(Filing), not_command)
    async def not_text(message: Message, state: FSMContext, tr: Translator, session: AsyncSession, tagger: Any) -> None:
        """A voice note, sticker, a location where no place is asked… is no answer (photos and files
        were taken above): said, naming a location as one, and asked again."""
        await message.answer(tr("complaint.not_text_location" if message.location else "complaint.not_text"))
        await ask_current_step(message, state, tr, session, tagger)

    return router
