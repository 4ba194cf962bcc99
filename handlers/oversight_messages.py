"""The oversight office's messages: the /overdue page and the ruling picker as drawn from the database,
and the message a decision was asked on, settled once it is decided.

A decision is asked on a message (a /pending entry, a notice, a card, the /overdue page). Once it is
decided, by this officer or a colleague, that message shows the outcome and who decided it instead of
its buttons: an /overdue page is redrawn, anything else keeps its text with the outcome below and
only 查看. The message pressed is kept in the step's data, since the decision comes with the reason.
Every other officer's copy of the notice that asked is settled the same way as soon as it is decided
(``settle_copies``), so nobody finds live buttons on a question already answered.
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.agency_callbacks import Card, CardAction, OverdueAct
from handlers.agency_cards import PAGE_SIZE, pages
from handlers.agency_messages import edit
from handlers.agency_notices import render_agency_notice
from handlers.errors import error_text
from handlers.long_text import split_html
from handlers.oversight_cards import overdue_page, rule_picker, settled
from handlers.texts import SIMPLIFIED, Texts, Translator
from nlp.personal_data import excerpt
from storage.models import Complaint
from workflow import lifecycle
from workflow.actors import Actor
from workflow.clock import Clock
from workflow.deadlines import Deadlines
from workflow.decisions import decision_outcome, declined_transfers
from workflow.errors import DomainError
from workflow.notifications import Notice
from workflow.outbox import sent_copies
from workflow.queues import overdue_count, overdue_queue
from workflow.transfers import declined_by, search_transfer_targets, transfer_targets
from workflow.transitions import Action

#: The workflow action each oversight button decides.
DECIDES = {
    CardAction.APPROVE: Action.DECIDE_EXTENSION,
    CardAction.REFUSE: Action.DECIDE_EXTENSION,
    CardAction.RULE: Action.RULE,
    CardAction.MAJOR: Action.SET_MAJOR,
    CardAction.UNMAJOR: Action.CLEAR_MAJOR,
}
#: The notices that ask each question the office decides: every officer gets a copy (``settle_copies``).
ASKED_BY = {Action.DECIDE_EXTENSION: (Notice.EXTENSION_REQUESTED,), Action.RULE: (Notice.DISPUTE,)}


def question_of(callback_data: Card | OverdueAct) -> int | None:
    """The request a button decides, when its message named one (an extension request's event id)."""
    return callback_data.q if isinstance(callback_data, Card) else None


def pressed(query: CallbackQuery, callback_data: Card | OverdueAct) -> dict[str, Any] | None:
    """The message a decision was asked on, as the step's data keeps it until the decision: an /overdue
    page by its page number, anything else by its text (the outcome goes below it)."""
    message = query.message
    if not isinstance(message, Message):
        return None  # too old for Telegram to show: nothing to update
    if isinstance(callback_data, OverdueAct):
        return {"chat": message.chat.id, "message": message.message_id, "page": callback_data.page}
    return {"chat": message.chat.id, "message": message.message_id, "html": message.html_text}


async def settle(
    session: AsyncSession,
    bot: Bot,
    tr: Translator,
    clock: Clock,
    deadlines: Deadlines,
    origin: dict[str, Any] | None,
    complaint: Complaint,
    action: Action,
    question: int | None = None,
) -> None:
    """The message the decision was asked on, once decided: the outcome and who decided instead of its
    buttons (an /overdue page redrawn). Nothing while its question (``question``, or the latest) is
    still open."""
    if origin is None:
        return
    if "page" in origin:
        text, markup = await overdue_view(session, origin["page"], tr, clock, deadlines)
        await edit(bot, origin["chat"], origin["message"], text, markup)
        return
    outcome = await decision_outcome(session, complaint.id, action, question)
    if outcome is None:  # still open
        return
    if done := settled(tr, origin["html"], outcome, deadlines.zone, complaint.id, complaint.tracking_no):
        await edit(bot, origin["chat"], origin["message"], *done)


async def settle_copies(
    session: AsyncSession,
    bot: Bot,
    texts: Texts,
    deadlines: Deadlines,
    origin: dict[str, Any] | None,
    complaint: Complaint,
    action: Action,
    question: int | None = None,
) -> None:
    """Every officer's copy of the notice that asked the question just decided shows the outcome and who
    decided, as the decider's own message does (``settled``), so no colleague finds live buttons on a
    settled question. Each copy is drawn again as it was sent, in its reader's script; the decider's
    message (``origin``) is ``settle``'s. Best effort: a copy that cannot be edited stays as it is, and
    its buttons are refused when pressed."""
    kinds = ASKED_BY.get(action)
    outcome = await decision_outcome(session, complaint.id, action, question) if kinds else None
    if kinds is None or outcome is None:
        return
    spent = (origin["chat"], origin["message"]) if origin is not None else None
    for copy in await sent_copies(session, complaint.id, kinds, question):
        if copy.sent_message_id is None or (copy.chat_id, copy.sent_message_id) == spent:
            continue
        tr = texts(copy.sent_language or SIMPLIFIED)
        params = (copy.payload or {}).get("params", {})
        notice = render_agency_notice(copy.kind, params, tr, deadlines.zone, copy.created_at)
        if notice is None:
            continue
        html = split_html(notice[0])[-1]  # the piece that carries the buttons
        if done := settled(tr, html, outcome, deadlines.zone, complaint.id, complaint.tracking_no):
            await edit(bot, copy.chat_id, copy.sent_message_id, *done, quiet=True)


async def require_open(
    session: AsyncSession,
    bot: Bot,
    tr: Translator,
    clock: Clock,
    deadlines: Deadlines,
    actor: Actor,
    complaint: Complaint,
    act: CardAction,
    origin: dict[str, Any] | None,
    question: int | None = None,
) -> None:
    """Refuse a decided question at the press, before a reason is typed (a newer request open meanwhile
    is no excuse: it was not shown), and show on the message pressed what was decided instead."""
    try:
        await lifecycle.require_can_start(session, clock, deadlines, complaint, actor, DECIDES[act], question)
    except DomainError:
        await settle(session, bot, tr, clock, deadlines, origin, complaint, DECIDES[act], question)
        raise


async def end_refused_step(
    session: AsyncSession,
    bot: Bot,
    state: FSMContext,
    message: Message,
    tr: Translator,
    clock: Clock,
    deadlines: Deadlines,
    error: DomainError,
    action: Action,
) -> None:
    """A decision refused after its reason was typed (a colleague decided meanwhile, an old button): the
    step ends with the reason why, so the next text is not taken as another reason, and the message it
    was asked on shows what was decided."""
    await session.rollback()
    data = await state.get_data()
    await state.clear()
    await message.answer(error_text(error, tr))
    complaint = await session.get(Complaint, data["complaint_id"])
    if complaint is not None:
        await settle(session, bot, tr, clock, deadlines, data.get("origin"), complaint, action, data.get("question"))


async def overdue_view(
    session: AsyncSession, page: int, tr: Translator, clock: Clock, deadlines: Deadlines
) -> tuple[str, InlineKeyboardMarkup | None]:
    """One page of every agency's overdue complaints, with a masked excerpt of each (lists are read at a
    glance, on shared screens; the card shows the whole text)."""
    now = clock.now()
    total = await overdue_count(session, now)
    if not total:
        return tr("oversight.overdue.empty"), None
    page = min(max(page, 1), pages(total, PAGE_SIZE))
    offset = (page - 1) * PAGE_SIZE
    items = await overdue_queue(session, deadlines, now, limit=PAGE_SIZE, offset=offset)
    # the page's complaints are loaded already (``overdue_queue``): their text, not another query
    complaints = {item.id: await session.get_one(Complaint, item.id) for item in items}
    excerpts = {i: excerpt(complaint.text) for i, complaint in complaints.items()}
    resolve_dues = {i: complaint.resolve_due_at for i, complaint in complaints.items()}
    return overdue_page(tr, items, excerpts, total, page, deadlines, now, resolve_dues)


async def ruling_picker(
    session: AsyncSession, tr: Translator, deadlines: Deadlines, complaint: Complaint, page: int, typed: str = ""
) -> tuple[str, InlineKeyboardMarkup, bool]:
    """The ruling's picker, the parties of the dispute first, with both sides of it; a typed name
    narrows it by the catalogue search (the sides were shown already: not again, on a phone). The
    flag says whether something typed was found."""
    found = await search_transfer_targets(session, typed) if typed else []
    key = "oversight.rule.found" if found else "oversight.rule.pick"
    agencies = found or await transfer_targets(session)
    rounds = await declined_transfers(session, complaint.id) if not typed else []
    decliners = await declined_by(session, complaint.id)
    text, markup = rule_picker(
        tr, key, complaint, agencies, page, rounds, deadlines.zone, decliners=decliners, sides=not typed
    )
    return text, markup, bool(found)
