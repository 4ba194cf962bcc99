"""The citizen's complaint conversation (/complain): free text over several messages, attachments,
place, the agency (what the tagger understood, then a paged list), anonymity, phone, a summary to
confirm; then ``workflow.intake.register_complaint`` numbers and routes it, and the receipt with the
deadlines comes from the outbox.

Everything entered lives in the durable FSM, so a restart loses nothing. Buttons carry the
conversation's ``flow`` id: a button from an earlier conversation is answered as stale.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, User
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common import Menu
from handlers.texts import Translator
from storage.models import AgencyRole
from workflow.citizens import get_or_create_citizen
from workflow.clock import Clock
from workflow.contacts import agency_by_code
from workflow.deadlines import Deadlines
from workflow.intake import AttachmentIn, register_complaint
from workflow.invites import transfer_targets

MIN_CHARS = 10
MAX_CHARS = 20_000
PAGE_SIZE = 8
BEST = 3
_PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")


class Filing(StatesGroup):
    text = State()
    place = State()
    agency = State()
    anonymity = State()
    phone = State()
    confirm = State()


class Step(CallbackData, prefix="cs"):
    flow: str
    action: str  # done | skip | more | fallback | named | anonymous | confirm | cancel


class ChooseAgency(CallbackData, prefix="ca"):
    """``agency`` 0 turns the list to ``page``; otherwise that agency (by id) is chosen."""

    flow: str
    agency: int = 0
    page: int = 0


def typed_text(message: Message) -> bool:
    """An answer typed by the citizen, not a /command (commands keep working mid-conversation)."""
    return bool(message.text) and not message.text.startswith("/")


def _buttons(tr: Translator, flow: str, *actions: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for action in actions:
        builder.button(text=tr.plain(f"complaint.button.{action}"), callback_data=Step(flow=flow, action=action))
    builder.adjust(2)
    return builder.as_markup()


def _phone(text: str) -> str | None:
    digits = re.sub(r"[\s()（）]", "", text).replace("+86", "")
    return digits if _PHONE.match(digits) else None


async def _flow_of(state: FSMContext) -> str | None:
    return (await state.get_data()).get("flow")


def _summary(tr: Translator, data: dict[str, Any]) -> str:
    agency = data.get("agency_name") or tr.plain("complaint.fallback_agency")
    anonymity = tr.plain("complaint.button.anonymous" if data.get("anonymous") else "complaint.button.named")
    return tr(
        "complaint.summary",
        agency=agency,
        place=data.get("place") or tr.plain("complaint.nothing"),
        files=len(data.get("files", [])),
        anonymity=anonymity,
        phone=data.get("phone") or tr.plain("complaint.nothing"),
        text="\n".join(data.get("parts", [])),
    )


async def _ask_agency(
    message: Message, state: FSMContext, tr: Translator, session: AsyncSession, tagger: Any | None
) -> None:
    data = await state.get_data()
    flow = data["flow"]
    problems, area, candidates = (), None, []
    if tagger is not None:
        tag = tagger.tag("\n".join(data["parts"]))
        problems, area = tag.problem_types, tag.area
        for candidate in tag.candidates[:BEST]:
            agency = await agency_by_code(session, candidate.code)
            if agency is not None and agency.active:
                candidates.append(agency)
    builder = InlineKeyboardBuilder()
    for agency in candidates:
        builder.row(
            InlineKeyboardButton(text=agency.name, callback_data=ChooseAgency(flow=flow, agency=agency.id).pack())
        )
    builder.row(
        InlineKeyboardButton(
            text=tr.plain("complaint.button.more"), callback_data=ChooseAgency(flow=flow, page=1).pack()
        ),
        InlineKeyboardButton(
            text=tr.plain("complaint.button.fallback"), callback_data=Step(flow=flow, action="fallback").pack()
        ),
    )
    await state.set_state(Filing.agency)
    unknown = tr.plain("complaint.unknown")
    text = tr("complaint.understood", problems="、".join(problems) or unknown, area=area or unknown)
    await message.answer(text, reply_markup=builder.as_markup())


async def _agency_page(tr: Translator, session: AsyncSession, flow: str, page: int) -> tuple[str, InlineKeyboardMarkup]:
    choosable = {AgencyRole.AGENCY, AgencyRole.DEFAULT_OWNER}
    agencies = [a for a in await transfer_targets(session) if a.role in choosable]
    pages = max(1, -(-len(agencies) // PAGE_SIZE))
    page = min(max(page, 1), pages)
    builder = InlineKeyboardBuilder()
    for agency in agencies[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]:
        builder.row(
            InlineKeyboardButton(text=agency.name, callback_data=ChooseAgency(flow=flow, agency=agency.id).pack())
        )
    turns = []
    if page > 1:
        turns.append(("prev", page - 1))
    if page < pages:
        turns.append(("next", page + 1))
    builder.row(
        *(
            InlineKeyboardButton(
                text=tr.plain(f"complaint.button.{name}"), callback_data=ChooseAgency(flow=flow, page=to).pack()
            )
            for name, to in turns
        )
    )
    return tr("complaint.agency_page", page=page, pages=pages), builder.as_markup()


def complaint_router() -> Router:
    router = Router(name="complaint")

    @router.message(Command("complain"))
    @router.callback_query(Menu.filter(F.action == "complain"))
    async def start(event: Message | CallbackQuery, state: FSMContext, tr: Translator) -> None:
        message = event if isinstance(event, Message) else event.message
        if isinstance(event, CallbackQuery):
            await event.answer()
        flow = secrets.token_hex(3)
        await state.set_state(Filing.text)
        await state.set_data({"flow": flow, "parts": [], "files": []})
        await message.answer(tr("complaint.start"), reply_markup=_buttons(tr, flow, "done", "cancel"))

    @router.message(Filing.text, typed_text)
    async def add_text(message: Message, state: FSMContext, tr: Translator) -> None:
        data = await state.get_data()
        parts = [*data["parts"], message.text]
        if sum(len(part) for part in parts) > MAX_CHARS:
            parts = data["parts"]
        await state.update_data(parts=parts)
        chars = sum(len(part) for part in parts)
        await message.answer(tr("complaint.noted", chars=chars), reply_markup=_buttons(tr, data["flow"], "done"))

    @router.message(Filing.text, F.photo | F.document)
    async def add_file(message: Message, state: FSMContext, tr: Translator) -> None:
        data = await state.get_data()
        if message.photo:
            photo = message.photo[-1]
            file = {"kind": "photo", "id": photo.file_id, "unique": photo.file_unique_id, "size": photo.file_size}
        else:
            doc = message.document
            file = {
                "kind": "document",
                "id": doc.file_id,
                "unique": doc.file_unique_id,
                "name": doc.file_name,
                "mime": doc.mime_type,
                "size": doc.file_size,
            }
        parts = [*data["parts"], message.caption] if message.caption else data["parts"]
        await state.update_data(files=[*data["files"], file], parts=parts)
        await message.answer(
            tr("complaint.file_noted", count=len(data["files"]) + 1), reply_markup=_buttons(tr, data["flow"], "done")
        )

    @router.callback_query(Filing.text, Step.filter(F.action == "done"))
    async def text_done(query: CallbackQuery, callback_data: Step, state: FSMContext, tr: Translator) -> None:
        data = await state.get_data()
        if callback_data.flow != data.get("flow"):
            await query.answer(tr.plain("hint.stale_button"))
            return
        await query.answer()
        if len("".join(data["parts"]).strip()) < MIN_CHARS:
            await query.message.answer(tr("complaint.too_short", minimum=MIN_CHARS))
            return
        await state.set_state(Filing.place)
        await query.message.answer(tr("complaint.ask_place"), reply_markup=_buttons(tr, data["flow"], "skip"))

    @router.message(Filing.place, typed_text)
    async def place(message: Message, state: FSMContext, tr: Translator, session: AsyncSession, tagger: Any) -> None:
        await state.update_data(place=message.text[:500])
        await _ask_agency(message, state, tr, session, tagger)

    @router.callback_query(Filing.place, Step.filter(F.action == "skip"))
    async def skip_place(
        query: CallbackQuery, callback_data: Step, state: FSMContext, tr: Translator, session: AsyncSession, tagger: Any
    ) -> None:
        if callback_data.flow != await _flow_of(state):
            await query.answer(tr.plain("hint.stale_button"))
            return
        await query.answer()
        await _ask_agency(query.message, state, tr, session, tagger)

    @router.callback_query(Filing.agency, ChooseAgency.filter(F.agency == 0))
    async def turn_page(
        query: CallbackQuery, callback_data: ChooseAgency, state: FSMContext, tr: Translator, session: AsyncSession
    ) -> None:
        if callback_data.flow != await _flow_of(state):
            await query.answer(tr.plain("hint.stale_button"))
            return
        await query.answer()
        text, markup = await _agency_page(tr, session, callback_data.flow, callback_data.page)
        await query.message.edit_text(text, reply_markup=markup)

    @router.callback_query(Filing.agency, ChooseAgency.filter(F.agency > 0))
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
        await query.answer()
        chosen = None
        if isinstance(callback_data, ChooseAgency):
            chosen = next((a for a in await transfer_targets(session) if a.id == callback_data.agency), None)
        await state.update_data(
            agency_code=chosen.code if chosen else None, agency_name=chosen.name if chosen else None
        )
        await state.set_state(Filing.anonymity)
        await query.message.edit_reply_markup(reply_markup=None)
        await query.message.answer(
            tr("complaint.ask_anonymous"), reply_markup=_buttons(tr, data["flow"], "named", "anonymous")
        )

    @router.callback_query(Filing.anonymity, Step.filter(F.action.in_({"named", "anonymous"})))
    async def anonymity(query: CallbackQuery, callback_data: Step, state: FSMContext, tr: Translator) -> None:
        if callback_data.flow != await _flow_of(state):
            await query.answer(tr.plain("hint.stale_button"))
            return
        await query.answer()
        await state.update_data(anonymous=callback_data.action == "anonymous")
        await state.set_state(Filing.phone)
        await query.message.edit_reply_markup(reply_markup=None)
        await query.message.answer(tr("complaint.ask_phone"), reply_markup=_buttons(tr, callback_data.flow, "skip"))

    async def show_summary(message: Message, state: FSMContext, tr: Translator) -> None:
        await state.set_state(Filing.confirm)
        data = await state.get_data()
        await message.answer(_summary(tr, data), reply_markup=_buttons(tr, data["flow"], "confirm", "cancel"))

    @router.message(Filing.phone, typed_text)
    async def phone(message: Message, state: FSMContext, tr: Translator) -> None:
        number = _phone(message.text)
        if number is None:
            await message.answer(tr("complaint.bad_phone"), reply_markup=_buttons(tr, await _flow_of(state), "skip"))
            return
        await state.update_data(phone=number)
        await show_summary(message, state, tr)

    @router.callback_query(Filing.phone, Step.filter(F.action == "skip"))
    async def skip_phone(query: CallbackQuery, callback_data: Step, state: FSMContext, tr: Translator) -> None:
        if callback_data.flow != await _flow_of(state):
            await query.answer(tr.plain("hint.stale_button"))
            return
        await query.answer()
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
            contact_phone=data.get("phone"),
            location_text=data.get("place"),
            attachments=[
                AttachmentIn(f["kind"], f["id"], f.get("unique"), f.get("name"), f.get("mime"), f.get("size"))
                for f in data["files"]
            ],
        )
        await state.clear()
        await query.message.edit_reply_markup(reply_markup=None)
        await query.message.answer(tr("complaint.submitted", tracking_no=complaint.tracking_no))

    @router.callback_query(Step.filter(F.action == "cancel"))
    async def cancel(query: CallbackQuery, callback_data: Step, state: FSMContext, tr: Translator) -> None:
        if await state.get_state() is None or callback_data.flow != await _flow_of(state):
            await query.answer(tr.plain("hint.stale_button"))
            return
        await state.clear()
        await query.answer()
        await query.message.edit_reply_markup(reply_markup=None)
        await query.message.answer(tr("cancelled"))

    return router
