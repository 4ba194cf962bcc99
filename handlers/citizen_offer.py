"""A complaint typed with no conversation under way (before pressing 我要投诉 or sending /complain) is
not lost: the text (or a photo's caption, with the photo) is kept in the FSM data (``offer``) and the
citizen asked whether to file it. 作为投诉提交 starts /complain with that text and files as its first
parts, as if sent after it; 不用了 forgets it. More text, however short, or a photo or file sent
meanwhile joins the same offer, asked again under it; so does /start (a reflex on a phone), under
its welcome. The question quotes the text's beginning, as it may be several messages up. /complain and
我要投诉 pressed while it is on offer take it as 作为投诉提交 does (``handlers.complaint.begin``): the
citizen who typed a complaint and then asks to complain means it. The offer's buttons carry its id:
pressed twice, after /cancel, 不用了 or once taken, they are answered as stale.
Bound agency contacts get no offer: their stray text is not a complaint.
"""

from __future__ import annotations

import secrets
from typing import Any

from aiogram import Router
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.citizen_callbacks import drop_buttons, settle, show
from handlers.complaint import begin, file_of
from handlers.complaint_steps import offer_start
from handlers.texts import Translator
from handlers.work_in_progress import has_work_in_progress
from workflow import filing
from workflow.contacts import contact_by_telegram


class FileOffer(CallbackData, prefix="fo"):
    offer: str
    action: str  # file | no


def _buttons(tr: Translator, offer: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for action in ("file", "no"):
        builder.button(
            text=tr.plain(f"complaint.button.offer_{action}"), callback_data=FileOffer(offer=offer, action=action)
        )
    return builder.as_markup()


async def offer_to_file(message: Message, state: FSMContext, tr: Translator, session: AsyncSession) -> bool:
    """Keep stray text (or a photo's or file's caption) long enough to be a complaint and offer to file it,
    the file with it, and any text or file after it (a time, a floor, a photo) with it; False when it is
    not one (short with nothing on offer, blank, a command nobody handles, a conversation under way, an
    agency contact), for the usual hint."""
    text = message.text or message.caption or ""
    file = file_of(message) if message.photo or message.document else None
    if (filing.is_blank(text) and file is None) or text.startswith("/"):
        return False
    if await state.get_state() is not None or not message.from_user:
        return False
    data = await state.get_data()
    if not data.get("offer") and not filing.worth_offering(text):
        return False
    if await contact_by_telegram(session, message.from_user.id) is not None:
        return False
    offer = data.get("offer") or {"id": secrets.token_hex(3), "parts": []}
    parts, files = offer["parts"], offer.get("files", [])
    if not filing.is_blank(text):
        added = filing.append_text(parts, text)
        if added.repeated and file is None:
            await message.answer(tr("complaint.repeated_offer"))
            return True
        parts = added.parts
    if file is not None:
        files = [*files, file]
        await message.answer(tr("complaint.file_noted_later", count=len(files)))
    await ask_to_file(message, state, tr, {"id": offer["id"], "parts": parts, "files": files}, data.get("asked"))
    return True


async def ask_to_file(
    message: Message, state: FSMContext, tr: Translator, offer: dict[str, Any], asked: list[int] | None
) -> None:
    """Ask whether to file the offer, under the newest message; the earlier question (``asked``) loses
    its buttons, so one live question only."""
    if asked:
        await settle(message, asked)
    parts = offer["parts"]
    key = "complaint.offer" if len(parts) == 1 else "complaint.offer_many"
    question = tr(key, count=len(parts), text=offer_start(parts))
    sent = await message.answer(question, reply_markup=_buttons(tr, offer["id"]))
    await state.update_data(offer=offer, asked=[sent.message_id])


def offer_router() -> Router:
    router = Router(name="complaint-offer")

    @router.callback_query(FileOffer.filter())
    async def answered(query: CallbackQuery, callback_data: FileOffer, state: FSMContext, tr: Translator) -> None:
        offer = (await state.get_data()).get("offer")
        if not offer or offer.get("id") != callback_data.offer:
            await drop_buttons(query, tr.plain("hint.stale_button"))
            return
        if await has_work_in_progress(query, state):  # /evaluate begun since: it keeps going
            await query.answer(tr.plain("hint.in_progress"), show_alert=True)
            return
        if callback_data.action == "file":  # as /complain or 我要投诉 take it
            await query.answer()
            await begin(query.message, state, tr)
            return
        await show(query, tr("complaint.chosen.offer_no", text=offer_start(offer["parts"])))
        data = await state.get_data()
        for key in ("offer", "asked"):
            data.pop(key, None)
        await state.set_data(data)

    return router
