"""What every user can do in any state: /start, /help, /cancel; and the catch-alls that answer
whatever no conversation claimed (stickers, voice notes, stray text, edited messages, stale buttons)."""

from __future__ import annotations

from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, ReplyKeyboardRemove
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.agency_lookup import answer_contact_text, bound_contact
from handlers.citizen_offer import ask_to_file, offer_to_file
from handlers.complaint_questions import ask_current_step
from handlers.follow_up import FollowUp, only_a_question, restore
from handlers.menu import MENU_ACTIONS, Menu, menu_keyboard
from handlers.texts import Translator
from handlers.work_in_progress import has_work_in_progress
from workflow.clock import Clock
from workflow.contacts import contact_by_telegram
from workflow.deadlines import Deadlines
from workflow.invites import acts_as_oversight

#: Commands registered with setMyCommands, described from the catalogue (``command.<name>``).
COMMANDS = ("start", "complain", "evaluate", "my", "status", "cancel", "help")


def commands_router() -> Router:
    """Included first, so these work in the middle of any conversation."""
    router = Router(name="commands")

    @router.message(CommandStart())
    async def start(
        message: Message, state: FSMContext, tr: Translator, session: AsyncSession, tagger: Any = None
    ) -> None:
        name = message.from_user.full_name if message.from_user else ""
        if not await has_work_in_progress(message, state):
            data = await state.get_data()
            await state.clear()  # at most a question nobody answered
            await message.answer(tr("welcome", name=name), reply_markup=menu_keyboard(tr))
            if data.get("offer"):  # a complaint typed before /start stays on offer: only /cancel drops it
                await ask_to_file(message, state, tr, data["offer"], data.get("asked"))
        else:  # /start is no way to lose what was typed: only /cancel drops it
            await message.answer(tr("welcome.in_progress", name=name))
            await ask_current_step(message, state, tr, session, tagger)

    @router.message(Command("complain", "evaluate"), has_work_in_progress)
    @router.callback_query(Menu.filter(F.action.in_({"complain", "evaluate"})), has_work_in_progress)
    async def busy(event: Message | CallbackQuery, tr: Translator) -> None:
        """Starting over would wipe the conversation under way (a half-written complaint)."""
        if isinstance(event, CallbackQuery):
            await event.answer(tr.plain("hint.in_progress"), show_alert=True)
        else:
            await event.answer(tr("hint.in_progress"))

    @router.message(Command("help"))
    async def help_command(message: Message, session: AsyncSession, tr: Translator) -> None:
        contact = await contact_by_telegram(session, message.from_user.id) if message.from_user else None
        if contact is None:
            await message.answer(tr("help"), reply_markup=menu_keyboard(tr))
        else:  # a contact's own commands; the citizens' ones still work for them
            await message.answer(tr("help.oversight" if acts_as_oversight(contact) else "help.contact"))

    @router.callback_query(Menu.filter(F.action == "help"))
    async def help_button(query: CallbackQuery, tr: Translator) -> None:
        await query.answer()
        if query.message is not None:
            await query.message.answer(tr("help"))

    @router.message(Command("cancel"))
    async def cancel(
        message: Message, state: FSMContext, tr: Translator, session: AsyncSession, tagger: Any = None
    ) -> None:
        if await state.get_state() is None and not await state.get_data():
            await message.answer(tr("nothing_to_cancel"), reply_markup=ReplyKeyboardRemove())
            return
        if await state.get_state() == FollowUp.reason.state and not await only_a_question(state):
            await restore(state)  # the 不满意 question only: the draft it interrupted goes on
            await message.answer(tr("cancelled.question"))
            await ask_current_step(message, state, tr, session, tagger)
            return
        key = "cancelled" if await has_work_in_progress(message, state) else "cancelled.question"
        await state.clear()
        await message.answer(tr(key), reply_markup=ReplyKeyboardRemove())

    return router


def fallback_router() -> Router:
    """Included last: answers what no conversation handled, politely, changing nothing."""
    router = Router(name="fallback")

    @router.message(Command(*MENU_ACTIONS[:-1], "status"))
    @router.callback_query(Menu.filter())
    async def coming_soon(event: Message | CallbackQuery, tr: Translator) -> None:
        if isinstance(event, CallbackQuery):
            await event.answer(tr.plain("coming_soon"), show_alert=True)
        else:
            await event.answer(tr("coming_soon"))

    @router.message(F.text, bound_contact)
    async def contact_text(
        message: Message, session: AsyncSession, bot: Bot, tr: Translator, clock: Clock, deadlines: Deadlines
    ) -> None:
        """A contact's stray text (a name, a phone, a number's last digits) is about their complaints, not
        a citizen's wish to complain: a hint, or the complaint the digits name."""
        await answer_contact_text(message, session, bot, tr, clock, deadlines)

    @router.message(F.text)
    async def stray_text(message: Message, state: FSMContext, tr: Translator, session: AsyncSession) -> None:
        if await offer_to_file(message, state, tr, session):  # a citizen's complaint typed before /complain
            return
        key = "hint.unknown_text" if (message.text or "").strip() else "hint.empty"
        await message.answer(tr(key), reply_markup=menu_keyboard(tr))

    @router.message()
    async def not_text(message: Message, state: FSMContext, tr: Translator, session: AsyncSession) -> None:
        if await offer_to_file(message, state, tr, session):  # a photo with a complaint, or for one on offer
            return
        await message.answer(tr("hint.not_text"))

    @router.edited_message(F.text | F.caption)  # not a live location moving, also sent as an edit
    async def edited(message: Message, tr: Translator) -> None:
        """Never dropped in silence: the edit changes nothing received, and the user is told so."""
        await message.answer(tr("hint.edited"))

    @router.callback_query()
    async def stale_button(query: CallbackQuery, tr: Translator) -> None:
        await query.answer(tr.plain("hint.stale_button"))

    return router
