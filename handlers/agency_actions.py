"""The card's buttons: 附件, 受理, 撤回转办, and the first step of 转办 (the agency picker), 退回 and 办结 (asking
for the text), 申请延期 (the days). The text each asks for is taken in ``handlers.agency_steps``."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.agency_callbacks import Card, CardAction, ExtendDays, PickAgency
from handlers.agency_cards import back_keyboard, local_time, status_name
from handlers.agency_messages import (
    pressed_complaint,
    refuse_picker,
    replace,
    send,
    send_card,
    show_only,
    spend_preview,
    spend_transfer_copies,
    transfer_picker,
)
from handlers.agency_steps import AgencyFlow
from handlers.contact_menu import acting_contact
from handlers.texts import Texts, Translator
from storage.models import ComplaintStatus
from workflow import lifecycle
from workflow.card_history import accepted_by
from workflow.clock import Clock
from workflow.deadlines import Deadlines
from workflow.errors import DomainError, NotFound
from workflow.privacy import sees_citizen
from workflow.transfers import transfer_targets
from workflow.transitions import Action
from workflow.visibility import complaint_for_actor

S = ComplaintStatus

#: Offered as buttons when asking for an extension (capped by the policy's maximum).
EXTENSION_DAY_CHOICES = (1, 2, 3, 5, 7, 10, 15)


def actions_router() -> Router:
    router = Router(name="agency_actions")

    @router.callback_query(Card.filter(F.act == CardAction.FILES))
    async def files(query: CallbackQuery, callback_data: Card, session: AsyncSession, bot: Bot, tr: Translator) -> None:
        """The evidence as the citizen sent it: Telegram resends a file by its id, nothing is downloaded."""
        _, actor = await acting_contact(session, bot, query.from_user)
        complaint = await complaint_for_actor(session, actor, callback_data.id)
        if not await sees_citizen(session, actor, complaint):  # only a full card has files
            raise NotFound(f"complaint {complaint.id}")
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
        texts: Texts,
        clock: Clock,
        deadlines: Deadlines,
    ) -> None:
        contact, actor = await acting_contact(session, bot, query.from_user)
        complaint = await pressed_complaint(session, bot, query, tr, actor, callback_data.id)
        if complaint is None:
            return
        chat_id = query.from_user.id
        if complaint.owner_agency_id == actor.agency_id and complaint.status not in (S.ASSIGNED, S.TRANSFERRING):
            # a colleague was quicker (or the card is old): say so and show where it stands now
            await query.answer()
            if complaint.acknowledged_at is not None:
                name = await accepted_by(session, complaint) or tr("agency.colleague")
                intro = tr("agency.accept.already", tracking_no=complaint.tracking_no, name=name)
            else:
                status = status_name(tr, complaint.status)
                intro = tr("agency.accept.already_other", tracking_no=complaint.tracking_no, status=status)
            await send(bot, chat_id, intro)
            await send_card(session, bot, chat_id, tr, contact, actor, complaint, clock, deadlines)
            return
        transfer = complaint.status == S.TRANSFERRING
        complaint = await lifecycle.accept(session, clock, deadlines, callback_data.id, actor, callback_data.q)
        due = local_time(tr, complaint.resolve_due_at, deadlines.zone)
        await query.answer()
        # Accepted late, the resolve deadline (counted from filing) may have passed already: say so.
        overdue = complaint.resolve_due_at is not None and complaint.resolve_due_at <= clock.now()
        key = "agency.accept.done_overdue" if overdue else "agency.accept.done"
        await send(bot, chat_id, tr(key, tracking_no=complaint.tracking_no, due=due))
        await show_only(bot, query, tr, complaint)
        # the card as it is now (办理中, with 办结 / 申请延期), under the message pressed, which it replaces
        await send_card(session, bot, chat_id, tr, contact, actor, complaint, clock, deadlines)
        if transfer:
            pressed = (query.message.chat.id, query.message.message_id) if isinstance(query.message, Message) else None
            await spend_transfer_copies(session, bot, texts, complaint, callback_data.q, accepted=True, pressed=pressed)

    @router.callback_query(Card.filter(F.act == CardAction.RECALL))
    async def recall(
        query: CallbackQuery,
        callback_data: Card,
        session: AsyncSession,
        bot: Bot,
        tr: Translator,
        texts: Texts,
        clock: Clock,
        deadlines: Deadlines,
    ) -> None:
        """撤回转办: the transfer waits on the receiver, and the sender (still answerable) takes it back."""
        contact, actor = await acting_contact(session, bot, query.from_user)
        complaint = await complaint_for_actor(session, actor, callback_data.id)
        receiver = complaint.transfer_to_agency.name if complaint.transfer_to_agency else tr("agency.none")
        complaint = await lifecycle.withdraw_transfer(session, clock, deadlines, complaint.id, actor)
        await query.answer()
        chat_id = query.from_user.id
        await send(bot, chat_id, tr("agency.recall.done", tracking_no=complaint.tracking_no, agency=receiver))
        await spend_transfer_copies(session, bot, texts, complaint, None, accepted=False)
        await send_card(session, bot, chat_id, tr, contact, actor, complaint, clock, deadlines)

    @router.callback_query(Card.filter(F.act == CardAction.TRANSFER))
    async def transfer_start(
        query: CallbackQuery,
        callback_data: Card,
        session: AsyncSession,
        bot: Bot,
        state: FSMContext,
        tr: Translator,
        clock: Clock,
        deadlines: Deadlines,
    ) -> None:
        _, actor = await acting_contact(session, bot, query.from_user)
        complaint = await complaint_for_actor(session, actor, callback_data.id)
        await lifecycle.require_can_start(session, clock, deadlines, complaint, actor, Action.TRANSFER)
        agencies = await transfer_targets(session, exclude=complaint.owner_agency_id, first_area=complaint.area)
        text, markup = await transfer_picker(session, tr, "agency.transfer.pick", complaint, agencies, 1)
        await state.set_state(AgencyFlow.transfer_pick)
        await state.set_data({"complaint_id": complaint.id})
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
        clock: Clock,
        deadlines: Deadlines,
    ) -> None:
        _, actor = await acting_contact(session, bot, query.from_user)
        complaint = await complaint_for_actor(session, actor, callback_data.id)
        try:
            await lifecycle.require_can_start(session, clock, deadlines, complaint, actor, Action.TRANSFER)
        except DomainError as error:
            return await refuse_picker(session, bot, query, state, tr, error, complaint.id)
        agencies = await transfer_targets(session, exclude=complaint.owner_agency_id, first_area=complaint.area)
        await query.answer()
        chosen = next((a for a in agencies if a.id == callback_data.agency), None)
        if chosen is None:  # a page turn (or an agency no longer active): the picker's page, in place
            text, markup = await transfer_picker(
                session, tr, "agency.transfer.pick", complaint, agencies, callback_data.page
            )
            await replace(bot, query, text, markup)
            return
        await state.set_state(AgencyFlow.transfer_reason)
        await state.set_data({"complaint_id": complaint.id, "agency_id": chosen.id, "agency": chosen.name})
        await send(
            bot, query.from_user.id, tr("agency.transfer.reason", agency=chosen.name), back_keyboard(tr, complaint.id)
        )

    @router.callback_query(Card.filter(F.act.in_({CardAction.DECLINE, CardAction.RESOLVE})))
    async def ask_text(
        query: CallbackQuery,
        callback_data: Card,
        session: AsyncSession,
        bot: Bot,
        state: FSMContext,
        tr: Translator,
        clock: Clock,
        deadlines: Deadlines,
    ) -> None:
        _, actor = await acting_contact(session, bot, query.from_user)
        complaint = await pressed_complaint(session, bot, query, tr, actor, callback_data.id)
        if complaint is None:
            return
        decline = callback_data.act == CardAction.DECLINE
        action = Action.DECLINE if decline else Action.RESOLVE
        await lifecycle.require_can_start(session, clock, deadlines, complaint, actor, action, callback_data.q)
        # 重写 forgets the text a shown preview would send
        await spend_preview(bot, query.from_user.id, (await state.get_data()).get("preview"))
        await state.set_state(AgencyFlow.decline_basis if decline else AgencyFlow.reply)
        # the message pressed: after 退回, its 受理 / 退回 are spent
        card = query.message.message_id if isinstance(query.message, Message) else None
        await state.set_data({"complaint_id": complaint.id, "question": callback_data.q, "card": card})
        key = "agency.decline.basis" if decline else "agency.resolve.reply"
        await query.answer()
        await send(bot, query.from_user.id, tr(key, tracking_no=complaint.tracking_no), back_keyboard(tr, complaint.id))

    @router.callback_query(Card.filter(F.act == CardAction.EXTEND))
    async def extend_start(
        query: CallbackQuery,
        callback_data: Card,
        session: AsyncSession,
        bot: Bot,
        tr: Translator,
        clock: Clock,
        deadlines: Deadlines,
    ) -> None:
        _, actor = await acting_contact(session, bot, query.from_user)
        complaint = await complaint_for_actor(session, actor, callback_data.id)
        await lifecycle.require_can_start(session, clock, deadlines, complaint, actor, Action.REQUEST_EXTENSION)
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
        clock: Clock,
        deadlines: Deadlines,
    ) -> None:
        _, actor = await acting_contact(session, bot, query.from_user)
        complaint = await complaint_for_actor(session, actor, callback_data.id)
        # a days picker still on screen after a request went in: refuse before the reason is written
        await lifecycle.require_can_start(session, clock, deadlines, complaint, actor, Action.REQUEST_EXTENSION)
        await state.set_state(AgencyFlow.extend_reason)
        await state.set_data({"complaint_id": complaint.id, "days": callback_data.days})
        await query.answer()
        text = tr("agency.extend.reason", days=callback_data.days)
        await send(bot, query.from_user.id, text, back_keyboard(tr, complaint.id))

    return router
