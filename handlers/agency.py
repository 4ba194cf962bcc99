"""Agency contacts in the bot: /bind, /inbox, complaint cards and their actions.

Every update looks the contact up afresh (``acting_contact``): a stranger or a revoked contact is
refused, and ids from buttons are only ever passed to ``workflow`` together with the presser's actor,
which decides (a forged button for another agency's complaint is refused there). Multi-step actions
(transfer reason, decline basis, extension days and reason, the reply) are FSM states with a way back
to the card on every step; /cancel ends them too.
"""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.agency_callbacks import Card, CardAction, ExtendDays, InboxPage, PickAgency, SendReply
from handlers.agency_cards import (
    PAGE_SIZE,
    agency_picker,
    back_keyboard,
    card_actions,
    card_keyboard,
    card_text,
    evidence_words,
    local_time,
    pages,
    queue_page,
    status_name,
)
from handlers.contact_menu import acting_contact, set_contact_menu
from handlers.texts import Translator
from storage.models import Citizen, Complaint
from workflow import lifecycle
from workflow.actors import Actor
from workflow.clock import Clock
from workflow.deadlines import Deadlines
from workflow.invites import acts_as_oversight, bind, transfer_targets
from workflow.queues import complaint_for_actor, first_contact_queue, time_limited_queue, to_item

log = logging.getLogger(__name__)
#: Queue rows read per inbox view; pages are cut from them.
INBOX_LIMIT = 200
#: Offered as buttons when asking for an extension (capped by the policy's maximum).
EXTENSION_DAY_CHOICES = (1, 2, 3, 5, 7, 10, 15)


class AgencyFlow(StatesGroup):
    transfer_reason = State()
    decline_basis = State()
    extend_reason = State()
    reply = State()
    reply_confirm = State()  # the reply shown back once before it goes to the citizen


async def send(bot: Bot, chat_id: int, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    await bot.send_message(chat_id, text, reply_markup=markup)


async def render_card(
    session: AsyncSession,
    tr: Translator,
    complaint: Complaint,
    actor: Actor,
    oversight: bool,
    clock: Clock,
    deadlines: Deadlines,
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The card as this actor sees it: anonymous complaints never show the citizen."""
    citizen = None
    if not complaint.anonymous and complaint.citizen_id is not None:
        citizen = await session.get(Citizen, complaint.citizen_id)
    item = to_item(complaint, deadlines, clock.now())
    text = card_text(tr, complaint, item, citizen, deadlines)
    actions = card_actions(complaint, actor, oversight)
    return text, card_keyboard(tr, complaint.id, actions, files=len(complaint.attachments))


async def inbox_view(
    session: AsyncSession, actor: Actor, page: int, tr: Translator, clock: Clock, deadlines: Deadlines
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The agency's first-contact and time-limited queues as one list, nearest deadline first."""
    assert actor.agency_id is not None
    now = clock.now()
    items = [
        *await first_contact_queue(session, deadlines, actor.agency_id, now, limit=INBOX_LIMIT),
        *await time_limited_queue(session, deadlines, actor.agency_id, now, limit=INBOX_LIMIT),
    ]
    if not items:
        return tr("agency.inbox.empty"), None
    items.sort(key=lambda item: (item.due_at is None, item.due_at, item.id))
    page = min(max(page, 1), pages(len(items), PAGE_SIZE))
    shown = items[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    evidence = {item.id: evidence_words(tr, await complaint_for_actor(session, actor, item.id)) for item in shown}
    return queue_page(tr, "agency.inbox.header", items, page, deadlines, InboxPage, evidence)


def is_command(text: str | None) -> bool:
    return bool(text) and text.startswith("/")


def is_not_command(text: str | None) -> bool:
    """Text that answers a step; a /command in the middle of a step goes to its own handler."""
    return bool(text and text.strip()) and not text.startswith("/")


def agency_router() -> Router:
    router = Router(name="agency")

    @router.message(Command("bind"))
    async def bind_command(
        message: Message, command: CommandObject, session: AsyncSession, bot: Bot, tr: Translator, clock: Clock
    ) -> None:
        if not command.args or message.from_user is None:
            await message.answer(tr("bind.usage"))
            return
        user = message.from_user
        contact = await bind(session, clock, command.args, user.id, user.full_name)
        log.info(
            "telegram user %s bound as %s contact %s of agency %s", user.id, contact.role, contact.id, contact.agency_id
        )
        await set_contact_menu(bot, contact, tr)
        key = "bind.done_oversight" if acts_as_oversight(contact) else "bind.done"
        await message.answer(tr(key, agency=contact.agency.name, role=tr(f"contact.role.{contact.role}")))

    @router.message(Command("inbox"))
    async def inbox(
        message: Message, session: AsyncSession, bot: Bot, tr: Translator, clock: Clock, deadlines: Deadlines
    ) -> None:
        _, actor = await acting_contact(session, bot, message.from_user)
        text, markup = await inbox_view(session, actor, 1, tr, clock, deadlines)
        await message.answer(text, reply_markup=markup)

    @router.callback_query(InboxPage.filter())
    async def inbox_page(
        query: CallbackQuery,
        callback_data: InboxPage,
        session: AsyncSession,
        bot: Bot,
        tr: Translator,
        clock: Clock,
        deadlines: Deadlines,
    ) -> None:
        _, actor = await acting_contact(session, bot, query.from_user)
        text, markup = await inbox_view(session, actor, callback_data.page, tr, clock, deadlines)
        await query.answer()
        await send(bot, query.from_user.id, text, markup)

    @router.callback_query(Card.filter(F.act == CardAction.SHOW))
    async def show(
        query: CallbackQuery,
        callback_data: Card,
        session: AsyncSession,
        bot: Bot,
        state: FSMContext,
        tr: Translator,
        clock: Clock,
        deadlines: Deadlines,
    ) -> None:
        contact, actor = await acting_contact(session, bot, query.from_user)
        await state.clear()  # "back" from any step lands here
        complaint = await complaint_for_actor(session, actor, callback_data.id)
        text, markup = await render_card(session, tr, complaint, actor, acts_as_oversight(contact), clock, deadlines)
        await query.answer()
        await send(bot, query.from_user.id, text, markup)

    @router.callback_query(Card.filter(F.act == CardAction.FILES))
    async def files(query: CallbackQuery, callback_data: Card, session: AsyncSession, bot: Bot, tr: Translator) -> None:
        """The evidence as the citizen sent it: Telegram resends a file by its id, nothing is downloaded."""
        _, actor = await acting_contact(session, bot, query.from_user)
        complaint = await complaint_for_actor(session, actor, callback_data.id)
        await query.answer()
        count = len(complaint.attachments)
        if not count:
            await send(bot, query.from_user.id, tr("agency.files.none"))
        for index, attachment in enumerate(complaint.attachments, start=1):
            caption = tr("agency.files.caption", tracking_no=complaint.tracking_no, index=index, count=count)
            if attachment.kind == "photo":
                await bot.send_photo(query.from_user.id, attachment.telegram_file_id, caption=caption)
            else:
                await bot.send_document(query.from_user.id, attachment.telegram_file_id, caption=caption)

    @router.callback_query(Card.filter(F.act == CardAction.ACCEPT))
    async def accept(
        query: CallbackQuery,
        callback_data: Card,
        session: AsyncSession,
        bot: Bot,
        tr: Translator,
        clock: Clock,
        deadlines: Deadlines,
    ) -> None:
        _, actor = await acting_contact(session, bot, query.from_user)
        complaint = await lifecycle.accept(session, clock, deadlines, callback_data.id, actor)
        due = local_time(tr, complaint.resolve_due_at, deadlines.zone)
        await query.answer()
        await send(bot, query.from_user.id, tr("agency.accept.done", tracking_no=complaint.tracking_no, due=due))

    @router.callback_query(Card.filter(F.act == CardAction.TRANSFER))
    async def transfer_start(
        query: CallbackQuery, callback_data: Card, session: AsyncSession, bot: Bot, tr: Translator
    ) -> None:
        _, actor = await acting_contact(session, bot, query.from_user)
        complaint = await complaint_for_actor(session, actor, callback_data.id)
        agencies = await transfer_targets(session, exclude=complaint.owner_agency_id)
        text, markup = agency_picker(tr, "agency.transfer.pick", complaint, agencies, 1, rule=False)
        await query.answer()
        await send(bot, query.from_user.id, text, markup)

    @router.callback_query(PickAgency.filter(~F.rule))
    async def transfer_pick(
        query: CallbackQuery,
        callback_data: PickAgency,
        session: AsyncSession,
        bot: Bot,
        state: FSMContext,
        tr: Translator,
    ) -> None:
        _, actor = await acting_contact(session, bot, query.from_user)
        complaint = await complaint_for_actor(session, actor, callback_data.id)
        agencies = await transfer_targets(session, exclude=complaint.owner_agency_id)
        await query.answer()
        chosen = next((a for a in agencies if a.id == callback_data.agency), None)
        if chosen is None:  # a page turn (or an agency no longer active): show the picker again
            text, markup = agency_picker(
                tr, "agency.transfer.pick", complaint, agencies, callback_data.page, rule=False
            )
            await send(bot, query.from_user.id, text, markup)
            return
        await state.set_state(AgencyFlow.transfer_reason)
        await state.set_data({"complaint_id": complaint.id, "agency_id": chosen.id, "agency": chosen.name})
        await send(
            bot, query.from_user.id, tr("agency.transfer.reason", agency=chosen.name), back_keyboard(tr, complaint.id)
        )

    @router.callback_query(Card.filter(F.act.in_({CardAction.DECLINE, CardAction.RESOLVE})))
    async def ask_text(
        query: CallbackQuery, callback_data: Card, session: AsyncSession, bot: Bot, state: FSMContext, tr: Translator
    ) -> None:
        _, actor = await acting_contact(session, bot, query.from_user)
        complaint = await complaint_for_actor(session, actor, callback_data.id)
        decline = callback_data.act == CardAction.DECLINE
        await state.set_state(AgencyFlow.decline_basis if decline else AgencyFlow.reply)
        await state.set_data({"complaint_id": complaint.id})
        key = "agency.decline.basis" if decline else "agency.resolve.reply"
        await query.answer()
        await send(bot, query.from_user.id, tr(key, tracking_no=complaint.tracking_no), back_keyboard(tr, complaint.id))

    @router.callback_query(Card.filter(F.act == CardAction.EXTEND))
    async def extend_start(
        query: CallbackQuery, callback_data: Card, session: AsyncSession, bot: Bot, tr: Translator, deadlines: Deadlines
    ) -> None:
        _, actor = await acting_contact(session, bot, query.from_user)
        complaint = await complaint_for_actor(session, actor, callback_data.id)
        builder = InlineKeyboardBuilder()
        for days in (d for d in EXTENSION_DAY_CHOICES if d <= deadlines.max_extension_days):
            builder.button(
                text=tr.plain("agency.button.days", days=days), callback_data=ExtendDays(id=complaint.id, days=days)
            )
        builder.adjust(4)
        builder.row(*back_keyboard(tr, complaint.id).inline_keyboard[0])
        await query.answer()
        await send(
            bot, query.from_user.id, tr("agency.extend.days", tracking_no=complaint.tracking_no), builder.as_markup()
        )

    @router.callback_query(ExtendDays.filter())
    async def extend_days(
        query: CallbackQuery,
        callback_data: ExtendDays,
        session: AsyncSession,
        bot: Bot,
        state: FSMContext,
        tr: Translator,
    ) -> None:
        _, actor = await acting_contact(session, bot, query.from_user)
        complaint = await complaint_for_actor(session, actor, callback_data.id)
        await state.set_state(AgencyFlow.extend_reason)
        await state.set_data({"complaint_id": complaint.id, "days": callback_data.days})
        await query.answer()
        text = tr("agency.extend.reason", days=callback_data.days)
        await send(bot, query.from_user.id, text, back_keyboard(tr, complaint.id))

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
        clock: Clock,
        deadlines: Deadlines,
    ) -> None:
        _, actor = await acting_contact(session, bot, message.from_user)
        data = await state.get_data()
        complaint = await lifecycle.decline_transfer(
            session, clock, deadlines, data["complaint_id"], actor, message.text or ""
        )
        await state.clear()
        await message.answer(tr("agency.decline.done", tracking_no=complaint.tracking_no))

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
        complaint = await lifecycle.request_extension(
            session, clock, deadlines, data["complaint_id"], actor, int(data["days"]), message.text or ""
        )
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
        await message.answer(preview, reply_markup=builder.as_markup())

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
        data = await state.get_data()
        if data.get("complaint_id") != callback_data.id:  # a preview of an earlier reply
            await query.answer(tr.plain("hint.stale_button"))
            return
        complaint = await lifecycle.resolve(session, clock, deadlines, callback_data.id, actor, data["reply"])
        await state.clear()
        await query.answer()
        status = status_name(tr, complaint.status)
        await send(bot, query.from_user.id, tr("agency.resolve.done", tracking_no=complaint.tracking_no, status=status))

    @router.message(AgencyFlow.transfer_reason, ~F.text.func(is_command))
    @router.message(AgencyFlow.decline_basis, ~F.text.func(is_command))
    @router.message(AgencyFlow.extend_reason, ~F.text.func(is_command))
    @router.message(AgencyFlow.reply, ~F.text.func(is_command))
    @router.message(AgencyFlow.reply_confirm, ~F.text.func(is_command))
    async def need_text(message: Message, tr: Translator) -> None:
        await message.answer(tr("agency.flow.need_text"))

    return router
