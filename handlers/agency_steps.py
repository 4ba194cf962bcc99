"""The typed steps of the card's actions (AgencyFlow): an agency's name searched at the transfer picker,
the transfer reason, the decline basis, the extension reason, and the reply shown back before 发送并办结.
A message that is no text gets told a text is needed; a /command goes to its own handler."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.agency_callbacks import Card, CardAction, SendReply
from handlers.agency_messages import edit, end_step, send, spend_preview, spend_transfer_copies, transfer_picker
from handlers.citizen_callbacks import drop_buttons
from handlers.contact_menu import acting_contact
from handlers.texts import Texts, Translator
from storage.models import ComplaintStatus
from workflow import lifecycle
from workflow.clock import Clock
from workflow.deadlines import Deadlines
from workflow.errors import DomainError
from workflow.transfers import MIN_BASIS_CHARS, search_transfer_targets, transfer_targets
from workflow.transitions import Action
from workflow.visibility import complaint_for_actor

S = ComplaintStatus


class AgencyFlow(StatesGroup):
    transfer_pick = State()  # the agency picker is shown: a typed name searches it
    transfer_reason = State()
    decline_basis = State()
    extend_reason = State()
    reply = State()
    reply_confirm = State()  # the reply shown back once before it goes to the citizen


def is_command(text: str | None) -> bool:
    return bool(text) and text.startswith("/")


def is_not_command(text: str | None) -> bool:
    """Text that answers a step; a /command in the middle of a step goes to its own handler."""
    return bool(text and text.strip()) and not text.startswith("/")


def steps_router() -> Router:
    router = Router(name="agency_steps")

    @router.message(AgencyFlow.transfer_pick, F.text.func(is_not_command))
    async def transfer_search(
        message: Message,
        session: AsyncSession,
        bot: Bot,
        state: FSMContext,
        tr: Translator,
        clock: Clock,
        deadlines: Deadlines,
    ) -> None:
        """A name typed at the picker: the transfer targets the catalogue search finds, as buttons."""
        _, actor = await acting_contact(session, bot, message.from_user)
        complaint = await complaint_for_actor(session, actor, (await state.get_data())["complaint_id"])
        try:
            await lifecycle.require_can_start(session, clock, deadlines, complaint, actor, Action.TRANSFER)
        except DomainError as error:
            return await end_step(session, state, message, tr, error)
        typed = (message.text or "").strip()
        exclude, area = complaint.owner_agency_id, complaint.area
        found = await search_transfer_targets(session, typed, exclude=exclude, first_area=area)
        if not found:
            await message.answer(tr("agency.transfer.none_found", name=typed))
        key = "agency.transfer.found" if found else "agency.transfer.pick"
        agencies = found or await transfer_targets(session, exclude=exclude, first_area=area)
        text, markup = await transfer_picker(session, tr, key, complaint, agencies, 1)
        await send(bot, message.chat.id, text, markup)

    finishing = F.text.func(is_not_command)

    @router.message(AgencyFlow.transfer_reason, finishing)
    async def transfer_reason(
        message: Message,
        session: AsyncSession,
        bot: Bot,
        state: FSMContext,
        tr: Translator,
        clock: Clock,
        deadlines: Deadlines,
    ) -> None:
        _, actor = await acting_contact(session, bot, message.from_user)
        data = await state.get_data()
        complaint = await lifecycle.transfer(
            session, clock, deadlines, data["complaint_id"], actor, data["agency_id"], message.text or ""
        )
        await state.clear()
        await message.answer(tr("agency.transfer.done", tracking_no=complaint.tracking_no, agency=data["agency"]))

    @router.message(AgencyFlow.decline_basis, finishing)
    async def decline_basis(
        message: Message,
        session: AsyncSession,
        bot: Bot,
        state: FSMContext,
        tr: Translator,
        texts: Texts,
        clock: Clock,
        deadlines: Deadlines,
    ) -> None:
        _, actor = await acting_contact(session, bot, message.from_user)
        data = await state.get_data()
        if len((message.text or "").strip()) < MIN_BASIS_CHARS:  # the step stays: the basis is asked again
            await message.answer(tr("agency.decline.too_short", minimum=MIN_BASIS_CHARS))
            return
        try:
            complaint = await lifecycle.decline_transfer(
                session, clock, deadlines, data["complaint_id"], actor, message.text or "", data.get("question")
            )
        except DomainError as error:  # a newer transfer came meanwhile…: the step ends, as for an extension
            return await end_step(session, state, message, tr, error)
        await state.clear()
        disputed = complaint.status == S.DISPUTED  # the last permitted decline: oversight rules now
        key = "agency.decline.done_disputed" if disputed else "agency.decline.done"
        await message.answer(tr(key, tracking_no=complaint.tracking_no, declines=complaint.transfer_declines))
        card = (message.chat.id, data["card"]) if data.get("card") else None
        await spend_transfer_copies(session, bot, texts, complaint, data.get("question"), accepted=False, pressed=card)
        if card:  # the card 退回 was pressed on: the complaint is no longer this agency's to act on
            await edit(bot, *card, None, None, quiet=True)

    @router.message(AgencyFlow.extend_reason, finishing)
    async def extend_reason(
        message: Message,
        session: AsyncSession,
        bot: Bot,
        state: FSMContext,
        tr: Translator,
        clock: Clock,
        deadlines: Deadlines,
    ) -> None:
        _, actor = await acting_contact(session, bot, message.from_user)
        data = await state.get_data()
        try:
            complaint = await lifecycle.request_extension(
                session, clock, deadlines, data["complaint_id"], actor, int(data["days"]), message.text or ""
            )
        except DomainError as error:
            # refused (a colleague's request went in meanwhile…): the step ends, so the next text
            # (a tracking number, say) is not taken as another reason
            return await end_step(session, state, message, tr, error)
        await state.clear()
        await message.answer(tr("agency.extend.done", tracking_no=complaint.tracking_no, days=data["days"]))

    @router.message(AgencyFlow.reply, finishing)
    @router.message(AgencyFlow.reply_confirm, finishing)  # a new text replaces the previewed one
    async def reply(message: Message, session: AsyncSession, bot: Bot, state: FSMContext, tr: Translator) -> None:
        """The citizen reads the reply verbatim and it closes the handling: show it back first."""
        _, actor = await acting_contact(session, bot, message.from_user)
        data = await state.get_data()
        complaint = await complaint_for_actor(session, actor, data["complaint_id"])
        await state.set_state(AgencyFlow.reply_confirm)
        await state.update_data(reply=message.text or "")
        builder = InlineKeyboardBuilder()
        builder.button(text=tr.plain("agency.button.send_reply"), callback_data=SendReply(id=complaint.id))
        for key, act in (("rewrite", CardAction.RESOLVE), ("back", CardAction.SHOW)):
            builder.button(text=tr.plain(f"agency.button.{key}"), callback_data=Card(id=complaint.id, act=act))
        builder.adjust(1, 2)
        preview = tr("agency.resolve.preview", tracking_no=complaint.tracking_no, reply=message.text or "")
        await spend_preview(bot, message.chat.id, data.get("preview"))  # its 发送并办结 would send this newer text
        shown = await message.answer(preview, reply_markup=builder.as_markup())
        await state.update_data(preview=shown.message_id)

    @router.callback_query(AgencyFlow.reply_confirm, SendReply.filter())
    async def send_reply(
        query: CallbackQuery,
        callback_data: SendReply,
        session: AsyncSession,
        bot: Bot,
        state: FSMContext,
        tr: Translator,
        clock: Clock,
        deadlines: Deadlines,
    ) -> None:
        _, actor = await acting_contact(session, bot, query.from_user)
        await complaint_for_actor(session, actor, callback_data.id)
        data = await state.get_data()
        pressed = query.message.message_id if isinstance(query.message, Message) else None
        if data.get("complaint_id") != callback_data.id or pressed != data.get("preview"):
            # an earlier preview (or another complaint's): it would send a text it does not show
            await drop_buttons(query, tr.plain("hint.stale_button"))
            return
        complaint = await lifecycle.resolve(session, clock, deadlines, callback_data.id, actor, data["reply"])
        await state.clear()
        await query.answer()
        if isinstance(query.message, Message):  # the preview now says what was sent, without buttons
            sent = tr("agency.resolve.sent", tracking_no=complaint.tracking_no, reply=data["reply"])
            await edit(bot, query.message.chat.id, query.message.message_id, sent, None, quiet=True)
        await send(bot, query.from_user.id, tr("agency.resolve.done", tracking_no=complaint.tracking_no))

    @router.message(AgencyFlow.transfer_pick, ~F.text.func(is_command))
    @router.message(AgencyFlow.transfer_reason, ~F.text.func(is_command))
    @router.message(AgencyFlow.decline_basis, ~F.text.func(is_command))
    @router.message(AgencyFlow.extend_reason, ~F.text.func(is_command))
    @router.message(AgencyFlow.reply, ~F.text.func(is_command))
    @router.message(AgencyFlow.reply_confirm, ~F.text.func(is_command))
    async def need_text(message: Message, tr: Translator) -> None:
        await message.answer(tr("agency.flow.need_text"))

    return router
