"""Finding a complaint as a contact: /bind, /inbox and its filtered pages, a tracking number (or its last
digits) typed or sent with /status, and the card opened from a button (also the way "back" from any step)."""

from __future__ import annotations

import logging
from functools import partial

from aiogram import Bot, F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.agency_callbacks import Card, CardAction, InboxPage
from handlers.agency_cards import (
    PAGE_SIZE,
    evidence_words,
    inbox_filters,
    pages,
    problems_words,
    queue_page,
    status_name,
)
from handlers.agency_messages import pressed_complaint, render_card, replace, send, spend_preview
from handlers.agency_steps import AgencyFlow
from handlers.contact_menu import acting_contact, set_contact_menu
from handlers.texts import Rendered, Translator
from nlp.personal_data import excerpt
from workflow.actors import Actor
from workflow.citizen_view import parse_tracking_no
from workflow.clock import Clock
from workflow.deadlines import Deadlines
from workflow.errors import NotFound
from workflow.invites import ContactError, acts_as_oversight, bind, require_contact
from workflow.queues import InboxFilter, inbox_counts, inbox_queue
from workflow.visibility import (
    complaint_for_actor,
    complaint_for_actor_by_tracking_no,
    complaints_by_number_end,
    number_fragment,
)

log = logging.getLogger(__name__)

#: Complaints listed when typed digits end several tracking numbers.
NUMBER_END_LIMIT = 10


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


def lookup_router() -> Router:
    router = Router(name="agency_lookup")

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
        # "back" from any step lands here
        await spend_preview(bot, query.from_user.id, (await state.get_data()).get("preview"))
        await state.clear()
        complaint = await pressed_complaint(session, bot, query, tr, actor, callback_data.id)
        if complaint is None:
            return
        text, markup = await render_card(session, tr, complaint, actor, acts_as_oversight(contact), clock, deadlines)
        await query.answer()
        await send(bot, query.from_user.id, text, markup)

    return router
