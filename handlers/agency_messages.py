"""Messages to agency contacts: long texts sent in pieces and edited in place, the complaint card as the
presser may see it, a transfer notice's copies spent once it is answered, and a refused step ended with
its reason. Shared by the agency routers (``handlers.agency``) and the oversight ones."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.agency_cards import agency_picker, card_actions, card_keyboard, card_text
from handlers.errors import error_text
from handlers.long_text import TELEGRAM_LIMIT, split_html, utf16_length
from handlers.oversight_cards import show_keyboard
from handlers.texts import SIMPLIFIED, Texts, Translator
from storage.models import Agency, AgencyContact, Citizen, Complaint, ComplaintStatus
from workflow import lifecycle
from workflow.actors import Actor
from workflow.card_history import card_history
from workflow.clock import Clock
from workflow.deadlines import Deadlines
from workflow.errors import DomainError, NotFound
from workflow.invites import acts_as_oversight
from workflow.notifications import Notice
from workflow.outbox import sent_copies
from workflow.privacy import CitizenView, citizen_view, sees_personal_data
from workflow.queues import to_item
from workflow.transfers import declined_by
from workflow.visibility import complaint_for_actor

log = logging.getLogger(__name__)
S = ComplaintStatus


async def send(bot: Bot, chat_id: int, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """A long text (a complaint may run to thousands of characters) goes in pieces Telegram accepts,
    with the buttons on the last one."""
    *first, last = split_html(text)
    for piece in first:
        await bot.send_message(chat_id, piece)
    await bot.send_message(chat_id, last, reply_markup=markup)


async def replace(bot: Bot, query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None) -> None:
    """A page turn edits the page in place; one that cannot be edited (too old, deleted) comes anew."""
    message = query.message
    if isinstance(message, Message) and utf16_length(text) <= TELEGRAM_LIMIT:
        try:
            await bot.edit_message_text(
                text, chat_id=message.chat.id, message_id=message.message_id, reply_markup=markup
            )
            return
        except TelegramBadRequest as exc:
            if "not modified" in str(exc):
                return
            log.info("could not edit message %s in place: %s", message.message_id, exc)
    await send(bot, query.from_user.id, text, markup)


async def edit(
    bot: Bot,
    chat_id: int,
    message_id: int,
    text: str | None,
    markup: InlineKeyboardMarkup | None,
    *,
    quiet: bool = False,
) -> None:
    """Change a message in place; without ``text`` (or with one too long) only its buttons. ``quiet``: a
    colleague's copy, whose edit is a courtesy, so any failure (blocked, deleted…) is only noted."""
    try:
        if text is not None and utf16_length(text) <= TELEGRAM_LIMIT:
            await bot.edit_message_text(text, chat_id=chat_id, message_id=message_id, reply_markup=markup)
        else:
            await bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id, reply_markup=markup)
    except TelegramBadRequest as exc:  # deleted, too old, or already as wanted
        log.log(logging.DEBUG if quiet else logging.INFO, "could not update message %s: %s", message_id, exc)
    except TelegramAPIError as exc:
        if not quiet:
            raise
        log.debug("could not update the copy %s in chat %s: %s", message_id, chat_id, exc)


async def render_card(
    session: AsyncSession,
    tr: Translator,
    complaint: Complaint,
    actor: Actor,
    oversight: bool,
    clock: Clock,
    deadlines: Deadlines,
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The card as this actor sees it (``workflow.privacy``): anonymous complaints never show the citizen
    and have every text masked, a receiver sees the masked words only until it accepts, and a former
    owner a summary."""
    view = await citizen_view(session, actor, complaint)
    full = view is CitizenView.FULL
    unmasked = await sees_personal_data(session, actor, complaint)
    citizen = None
    if unmasked and not complaint.anonymous and complaint.citizen_id is not None:
        citizen = await session.get(Citizen, complaint.citizen_id)
    item = to_item(complaint, deadlines, clock.now())
    pending = complaint.status == S.ACCEPTED and await lifecycle.pending_extension(session, complaint.id) is not None
    history = await card_history(session, complaint)
    text = card_text(
        tr,
        complaint,
        item,
        citizen,
        deadlines,
        history=history,
        view=view,
        unmasked=unmasked,
        extension_pending=pending,
        viewer_agency_id=actor.agency_id,
        now=clock.now(),
    )
    actions = card_actions(complaint, actor, oversight, now=clock.now(), full=full, extension_pending=pending)
    files = len(complaint.attachments)
    return text, card_keyboard(tr, complaint.id, actions, files=files, transfer=history.transfer_id)


async def send_card(
    session: AsyncSession,
    bot: Bot,
    chat_id: int,
    tr: Translator,
    contact: AgencyContact,
    actor: Actor,
    complaint: Complaint,
    clock: Clock,
    deadlines: Deadlines,
) -> None:
    """The card as it is now: after an action the complaint is read again (owner, receiver may move)."""
    complaint_id = complaint.id
    session.expire(complaint)
    complaint = await complaint_for_actor(session, actor, complaint_id)
    text, markup = await render_card(session, tr, complaint, actor, acts_as_oversight(contact), clock, deadlines)
    await send(bot, chat_id, text, markup)


async def pressed_complaint(
    session: AsyncSession, bot: Bot, query: CallbackQuery, tr: Translator, actor: Actor, complaint_id: int
) -> Complaint | None:
    """The complaint a button is about. A transfer notice's button pressed after the sender took the
    transfer back says so, and a button left on a card of a transfer the presser's agency sent back is
    refused as stale (to that receiver only; anyone else gets "not found"); both give None."""
    try:
        return await complaint_for_actor(session, actor, complaint_id)
    except NotFound:
        sender = await lifecycle.withdrawn_transfer_to(session, complaint_id, actor.agency_id)
        if sender is None:
            if actor.agency_id is None or actor.agency_id not in await declined_by(session, complaint_id):
                raise
            await query.answer(tr.plain("hint.stale_button"))
            return None
    complaint = await session.get(Complaint, complaint_id)
    assert complaint is not None
    await query.answer()
    await send(
        bot,
        query.from_user.id,
        tr("agency.transfer.withdrawn", tracking_no=complaint.tracking_no, agency=sender or tr("agency.none")),
    )
    return None


async def show_only(bot: Bot, query: CallbackQuery, tr: Translator, complaint: Complaint) -> None:
    """After 受理 the message pressed keeps only 查看: its 受理 / 转办 / 退回 are spent."""
    message = query.message
    if isinstance(message, Message):
        await edit(
            bot, message.chat.id, message.message_id, None, show_keyboard(tr, complaint.id, complaint.tracking_no)
        )


async def spend_transfer_copies(
    session: AsyncSession,
    bot: Bot,
    texts: Texts,
    complaint: Complaint,
    question: int | None,
    *,
    accepted: bool,
    pressed: tuple[int, int] | None = None,
) -> None:
    """Once a transfer is answered (受理 or 退回 by one of the receiver's contacts) or taken back by its
    sender, every contact's copy of its notice loses 受理 / 退回 at once, not when pressed: accepted, it
    keeps 查看; declined or taken back, nothing (the complaint is no longer the receiver's to open).
    ``pressed`` (chat id, message id) is the answering message, which its own handler has dealt with. Best
    effort: a copy that cannot be edited keeps its buttons, and they are refused when pressed."""
    for copy in await sent_copies(session, complaint.id, (Notice.TRANSFER_IN,), question):
        if copy.sent_message_id is None or (copy.chat_id, copy.sent_message_id) == pressed:
            continue
        tr = texts(copy.sent_language or SIMPLIFIED)
        markup = show_keyboard(tr, complaint.id, complaint.tracking_no) if accepted else None
        await edit(bot, copy.chat_id, copy.sent_message_id, None, markup, quiet=True)


async def transfer_picker(
    session: AsyncSession, tr: Translator, key: str, complaint: Complaint, agencies: list[Agency], page: int
) -> tuple[str, InlineKeyboardMarkup]:
    """The transfer's agency picker; an agency that already sent this complaint back is marked (one
    more 退回 takes it to the office for a ruling)."""
    mark = tr.plain("agency.transfer.declined_mark")
    marks = dict.fromkeys(await declined_by(session, complaint.id), mark)
    return agency_picker(tr, key, complaint, agencies, page, rule=False, marks=marks)


async def refuse_picker(
    session: AsyncSession,
    bot: Bot,
    query: CallbackQuery,
    state: FSMContext,
    tr: Translator,
    error: DomainError,
    complaint_id: int,
) -> None:
    """A picker (transfer, ruling) pressed once its question is gone (a ruling, a colleague's transfer):
    refused at the press, saying why, rather than after a reason is written. Its step ends, and the
    picker loses its buttons."""
    await session.rollback()
    if (await state.get_data()).get("complaint_id") == complaint_id:
        await state.clear()
    await query.answer()
    await send(bot, query.from_user.id, error_text(error, tr))
    message = query.message
    if isinstance(message, Message):
        await edit(bot, message.chat.id, message.message_id, None, None)


async def spend_preview(bot: Bot, chat_id: int, preview: int | None) -> None:
    """A reply preview's 发送并办结 sends the text kept in the conversation state, not the one it shows:
    before that state changes (a new text, 重写, 返回, another step), the preview on screen (``preview``,
    its message id as the state holds it) loses its buttons."""
    if preview:
        await edit(bot, chat_id, preview, None, None, quiet=True)


async def end_step(
    session: AsyncSession, state: FSMContext, message: Message, tr: Translator, error: DomainError
) -> None:
    """A step refused once its question is gone: it ends with the reason why, so the next text is not
    taken for this step again."""
    await session.rollback()
    await state.clear()
    await message.answer(error_text(error, tr))
