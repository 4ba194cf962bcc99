"""Agency contacts in the bot: /bind, /inbox, complaint cards and their actions.

Every update looks the contact up afresh (``acting_contact``): a stranger or a revoked contact is
refused, and ids from buttons are only ever passed to ``workflow`` together with the presser's actor,
which decides (a forged button for another agency's complaint is refused there). Multi-step actions
(transfer reason, decline basis, extension days and reason, the reply) are FSM states with a way back
to the card on every step; /cancel ends them too.
"""

from __future__ import annotations

import logging
from functools import partial

from aiogram import Bot, F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.filters import Command, CommandObject, StateFilter
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
    inbox_filters,
    local_time,
    pages,
    problems_words,
    queue_page,
    status_name,
)
from handlers.contact_menu import acting_contact, set_contact_menu
from handlers.errors import error_text
from handlers.long_text import TELEGRAM_LIMIT, split_html, utf16_length
from handlers.oversight_cards import show_keyboard
from handlers.texts import SIMPLIFIED, Rendered, Texts, Translator
from nlp.personal_data import excerpt
from storage.models import Agency, AgencyContact, Citizen, Complaint, ComplaintStatus
from workflow import lifecycle
from workflow.actors import Actor
from workflow.citizen_view import parse_tracking_no
from workflow.clock import Clock
from workflow.deadlines import Deadlines
from workflow.errors import DomainError, NotFound
from workflow.invites import (
    ContactError,
    acts_as_oversight,
    bind,
    require_contact,
)
from workflow.notifications import Notice
from workflow.outbox import sent_copies
from workflow.privacy import CitizenView, citizen_view, sees_citizen, sees_personal_data
from workflow.queues import (
    InboxFilter,
    accepted_by,
    card_history,
    complaint_for_actor,
    complaint_for_actor_by_tracking_no,
    complaints_by_number_end,
    inbox_counts,
    inbox_queue,
    number_fragment,
    to_item,
)
from workflow.transfers import declined_by, search_transfer_targets, transfer_targets
from workflow.transitions import Action

log = logging.getLogger(__name__)
#: Complaints listed when typed digits end several tracking numbers.
NUMBER_END_LIMIT = 10
#: Offered as buttons when asking for an extension (capped by the policy's maximum).
EXTENSION_DAY_CHOICES = (1, 2, 3, 5, 7, 10, 15)
S = ComplaintStatus


class AgencyFlow(StatesGroup):
    transfer_pick = State()  # the agency picker is shown: a typed name searches it
    transfer_reason = State()
    decline_basis = State()
    extend_reason = State()
    reply = State()
    reply_confirm = State()  # the reply shown back once before it goes to the citizen


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
    transfer back says so (to that receiver only; anyone else gets "not found") and gives None."""
    try:
        return await complaint_for_actor(session, actor, complaint_id)
    except NotFound:
        sender = await lifecycle.withdrawn_transfer_to(session, complaint_id, actor.agency_id)
        if sender is None:
            raise
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
    pressed: Message | None = None,
) -> None:
    """Once a transfer is answered (受理 or 退回 by one of the receiver's contacts) or taken back by its
    sender, every contact's copy of its notice loses 受理 / 退回 at once, not when pressed: accepted, it
    keeps 查看; declined or taken back, nothing (the complaint is no longer the receiver's to open).
    ``pressed`` is the answering message, which its own handler has dealt with. Best effort: a copy that
    cannot be edited keeps its buttons, and they are refused when pressed."""
    spent = (pressed.chat.id, pressed.message_id) if pressed is not None else None
    for copy in await sent_copies(session, complaint.id, (Notice.TRANSFER_IN,), question):
        if copy.sent_message_id is None or (copy.chat_id, copy.sent_message_id) == spent:
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


async def end_step(
    session: AsyncSession, state: FSMContext, message: Message, tr: Translator, error: DomainError
) -> None:
    """A step refused once its question is gone: it ends with the reason why, so the next text is not
    taken for this step again."""
    await session.rollback()
    await state.clear()
    await message.answer(error_text(error, tr))


async def bound_contact(message: Message, session: AsyncSession) -> bool:
    """Only an active contact's messages: anyone else's go on to the citizen conversations."""
    if message.from_user is None:
        return False
    try:
        await require_contact(session, message.from_user.id)
    except ContactError:
        return False
    return True


async def inbox_view(
    session: AsyncSession,
    actor: Actor,
    page: int,
    tr: Translator,
    clock: Clock,
    deadlines: Deadlines,
    shown: InboxFilter = InboxFilter.ALL,
) -> tuple[str, InlineKeyboardMarkup | None]:
    """A page of the agency's first-contact and time-limited queues as one list, nearest deadline first,
    narrowed by ``shown`` (in the query), with the filters to switch to and their counts."""
    assert actor.agency_id is not None
    now = clock.now()
    counts = await inbox_counts(session, actor.agency_id, now)
    if not counts[InboxFilter.ALL]:
        return tr("agency.inbox.empty"), None
    filters = inbox_filters(tr, shown, counts)
    name = tr(f"agency.inbox.filter.{shown}")
    total = counts[shown]
    if not total:  # the filters stay, to switch back
        markup = InlineKeyboardMarkup(inline_keyboard=[filters[i : i + 2] for i in range(0, len(filters), 2)])
        return tr("agency.inbox.empty_filter", name=name), markup
    title = tr("agency.inbox.filter_title", name=name) if shown is not InboxFilter.ALL else Rendered("")
    page = min(max(page, 1), pages(total, PAGE_SIZE))
    items = await inbox_queue(
        session, deadlines, actor.agency_id, now, shown, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    complaints = {item.id: await complaint_for_actor(session, actor, item.id) for item in items}
    header = tr("agency.inbox.header", filter=title, page=page, pages=pages(total, PAGE_SIZE), total=total)
    return queue_page(
        tr,
        header,
        items,
        total,
        page,
        deadlines,
        partial(InboxPage, f=shown),
        now,
        excerpts={i: excerpt(complaint.text) for i, complaint in complaints.items()},
        evidence={i: evidence_words(tr, complaint) for i, complaint in complaints.items()},
        resolve_dues={i: complaint.resolve_due_at for i, complaint in complaints.items()},
        filters=filters,
    )


async def answer_contact_text(
    message: Message, session: AsyncSession, bot: Bot, tr: Translator, clock: Clock, deadlines: Deadlines
) -> None:
    """Free text from a contact, no step under way: a tracking number's last digits open the one
    complaint the contact may see that ends so, or list several (without their words: a former owner
    may see no more than a summary); anything else gets the hint of how to find a complaint (not the
    citizens' menu)."""
    contact, actor = await acting_contact(session, bot, message.from_user)
    oversight = acts_as_oversight(contact)
    hint = tr("agency.hint.oversight" if oversight else "agency.hint.contact")
    digits = number_fragment(message.text or "")
    if digits is None:
        await message.answer(hint)
        return
    found = await complaints_by_number_end(session, actor, digits, limit=NUMBER_END_LIMIT + 1)
    if len(found) == 1:
        text, markup = await render_card(session, tr, found[0], actor, oversight, clock, deadlines)
        await send(bot, message.chat.id, text, markup)
        return
    if not found:
        await message.answer(tr("agency.number_end.none", digits=digits, hint=hint))
        return
    builder = InlineKeyboardBuilder()
    lines = [tr("agency.number_end.several", digits=digits)]
    for complaint in found[:NUMBER_END_LIMIT]:
        lines.append(
            tr(
                "agency.number_end.item",
                tracking_no=complaint.tracking_no,
                status=status_name(tr, complaint.status),
                problems=problems_words(tr, [p.problem_type for p in complaint.problems]),
            )
        )
        builder.button(
            text=tr.plain("agency.button.show", tracking_no=complaint.tracking_no),
            callback_data=Card(id=complaint.id, act=CardAction.SHOW),
        )
    if len(found) > NUMBER_END_LIMIT:
        lines.append(tr("agency.number_end.more", limit=NUMBER_END_LIMIT))
    builder.adjust(1)
    await send(bot, message.chat.id, "\n".join(lines), builder.as_markup())


def typed_tracking_no(message: Message) -> bool:
    """A tracking number however it is pasted (``#20261203-0001``, ``202612030001``, full-width, with
    its label): the same reading as the citizen's side."""
    return parse_tracking_no(message.text or "") is not None


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
        await send(bot, message.chat.id, text, markup)

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
        text, markup = await inbox_view(session, actor, callback_data.page, tr, clock, deadlines, callback_data.f)
        await query.answer()
        await replace(bot, query, text, markup)

    @router.message(Command("status"), bound_contact)
    @router.message(StateFilter(None, AgencyFlow.transfer_pick), F.text, typed_tracking_no, bound_contact)
    async def by_number(
        message: Message,
        session: AsyncSession,
        bot: Bot,
        state: FSMContext,
        tr: Translator,
        clock: Clock,
        deadlines: Deadlines,
    ) -> None:
        """A clerk types a tracking number (or /status N): the card, if the contact may see it. A number
        typed at the transfer picker is no agency's name: the picker is left for the card."""
        contact, actor = await acting_contact(session, bot, message.from_user)
        if await state.get_state() == AgencyFlow.transfer_pick.state:
            await state.clear()
        text = message.text or ""
        number = parse_tracking_no(text.partition(" ")[2] if text.startswith("/") else text)
        if number is None:
            await message.answer(tr("agency.lookup.usage"))
            return
        try:
            complaint = await complaint_for_actor_by_tracking_no(session, actor, number)
        except NotFound:
            if (message.text or "").startswith("/"):
                raise SkipHandler from None  # perhaps the contact's own complaint as a citizen
            raise
        text, markup = await render_card(session, tr, complaint, actor, acts_as_oversight(contact), clock, deadlines)
        await send(bot, message.chat.id, text, markup)

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
        complaint = await pressed_complaint(session, bot, query, tr, actor, callback_data.id)
        if complaint is None:
            return
        text, markup = await render_card(session, tr, complaint, actor, acts_as_oversight(contact), clock, deadlines)
        await query.answer()
        await send(bot, query.from_user.id, text, markup)

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
            pressed = query.message if isinstance(query.message, Message) else None
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
        await state.set_state(AgencyFlow.decline_basis if decline else AgencyFlow.reply)
        await state.set_data({"complaint_id": complaint.id, "question": callback_data.q})
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
        await spend_transfer_copies(session, bot, texts, complaint, data.get("question"), accepted=False)

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
        if data.get("preview"):  # the earlier preview's 发送并办结 would send this newer text: spent
            await edit(bot, message.chat.id, data["preview"], None, None, quiet=True)
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
        if data.get("complaint_id") != callback_data.id:  # a preview of an earlier reply
            await query.answer(tr.plain("hint.stale_button"))
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
