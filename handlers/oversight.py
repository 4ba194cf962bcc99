"""The oversight office (效能办) in the bot: /overdue, /pending, extension decisions, dispute rulings
(审定), the major flag (挂牌督办 / 消号).

Who counts as oversight is decided by ``workflow`` (``require_oversight``); the queues themselves
carry no actor, so each view asks it first. Reasons are FSM steps with a way back and /cancel.

A decision is asked on a message (a /pending entry, a notice, a card, the /overdue page). Once it is
decided, by this officer or a colleague, that message shows the outcome and who decided it instead of
its buttons: an /overdue page is redrawn, anything else keeps its text with the outcome below and
only 查看. The message pressed is kept in the step's data, since the decision comes with the reason.
Every other officer's copy of the notice that asked is settled the same way as soon as it is decided
(``settle_copies``), so nobody finds live buttons on a question already answered.
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.agency_callbacks import Card, CardAction, OverdueAct, OverduePage, PickAgency
from handlers.agency_cards import PAGE_SIZE, back_keyboard, local_time, pages
from handlers.agency_messages import edit, end_step, refuse_picker, replace, send
from handlers.agency_notices import render_agency_notice
from handlers.agency_steps import is_command, is_not_command
from handlers.contact_menu import acting_contact
from handlers.errors import error_text
from handlers.long_text import split_html
from handlers.oversight_cards import decision_message, overdue_page, rule_picker, settled
from handlers.texts import SIMPLIFIED, Texts, Translator
from nlp.personal_data import excerpt
from storage.models import Complaint
from workflow import lifecycle
from workflow.actors import Actor
from workflow.clock import Clock
from workflow.deadlines import Deadlines
from workflow.decisions import decision_outcome, declined_transfers
from workflow.errors import DomainError
from workflow.guards import require_oversight
from workflow.notifications import Notice
from workflow.outbox import sent_copies
from workflow.queues import overdue_count, overdue_queue, pending_decisions
from workflow.transfers import declined_by, search_transfer_targets, transfer_targets
from workflow.transitions import Action
from workflow.visibility import complaint_for_actor

PENDING_LIMIT = 20
#: The workflow action each oversight button decides.
DECIDES = {
    CardAction.APPROVE: Action.DECIDE_EXTENSION,
    CardAction.REFUSE: Action.DECIDE_EXTENSION,
    CardAction.RULE: Action.RULE,
    CardAction.MAJOR: Action.SET_MAJOR,
    CardAction.UNMAJOR: Action.CLEAR_MAJOR,
}
FLAGS = {CardAction.MAJOR, CardAction.UNMAJOR}
#: The notices that ask each question the office decides: every officer gets a copy (``settle_copies``).
ASKED_BY = {Action.DECIDE_EXTENSION: (Notice.EXTENSION_REQUESTED,), Action.RULE: (Notice.DISPUTE,)}


class OversightFlow(StatesGroup):
    refuse_reason = State()
    rule_pick = State()  # the ruling picker is shown: a typed name searches it
    rule_reason = State()
    flag_reason = State()


async def overseer(
    session: AsyncSession, bot: Bot, query_or_message: CallbackQuery | Message, complaint_id: int | None = None
) -> Actor:
    """The presser, if they are oversight; anyone else is refused (and told so) by ``workflow``. With a
    complaint, whether the presser may see it comes first, so a forged button on a complaint they may not
    see answers "not found" like any other, whether or not it exists."""
    _, actor = await acting_contact(session, bot, query_or_message.from_user)
    if complaint_id is not None:
        await complaint_for_actor(session, actor, complaint_id)
    await require_oversight(session, actor)
    return actor


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


def oversight_router() -> Router:
    router = Router(name="oversight")

    @router.message(Command("overdue"))
    async def overdue(
        message: Message, session: AsyncSession, bot: Bot, tr: Translator, clock: Clock, deadlines: Deadlines
    ) -> None:
        await overseer(session, bot, message)
        text, markup = await overdue_view(session, 1, tr, clock, deadlines)
        await send(bot, message.chat.id, text, markup)

    @router.callback_query(OverduePage.filter())
    async def overdue_turn(
        query: CallbackQuery,
        callback_data: OverduePage,
        session: AsyncSession,
        bot: Bot,
        tr: Translator,
        clock: Clock,
        deadlines: Deadlines,
    ) -> None:
        await overseer(session, bot, query)
        text, markup = await overdue_view(session, callback_data.page, tr, clock, deadlines)
        await query.answer()
        await replace(bot, query, text, markup)

    @router.message(Command("pending"))
    async def pending(message: Message, session: AsyncSession, bot: Bot, tr: Translator, deadlines: Deadlines) -> None:
        await overseer(session, bot, message)
        decisions = await pending_decisions(session, limit=PENDING_LIMIT)
        if not decisions:
            await message.answer(tr("oversight.pending.empty"))
            return
        await message.answer(tr("oversight.pending.header", total=len(decisions)))
        for decision in decisions:
            rounds = await declined_transfers(session, decision.complaint_id) if decision.kind == "dispute" else []
            text, markup = decision_message(tr, decision, deadlines, rounds)
            await send(bot, message.chat.id, text, markup)

    @router.callback_query(Card.filter(F.act == CardAction.APPROVE))
    async def approve(
        query: CallbackQuery,
        callback_data: Card,
        session: AsyncSession,
        bot: Bot,
        tr: Translator,
        texts: Texts,
        clock: Clock,
        deadlines: Deadlines,
    ) -> None:
        actor = await overseer(session, bot, query, callback_data.id)
        complaint = await complaint_for_actor(session, actor, callback_data.id)
        origin, question = pressed(query, callback_data), callback_data.q
        await require_open(session, bot, tr, clock, deadlines, actor, complaint, callback_data.act, origin, question)
        complaint = await lifecycle.decide_extension(
            session, clock, deadlines, callback_data.id, actor, True, question=question
        )
        due = local_time(tr, complaint.resolve_due_at, deadlines.zone)
        await query.answer()
        await send(bot, query.from_user.id, tr("oversight.approve.done", tracking_no=complaint.tracking_no, due=due))
        await settle(session, bot, tr, clock, deadlines, origin, complaint, Action.DECIDE_EXTENSION, question)
        await settle_copies(session, bot, texts, deadlines, origin, complaint, Action.DECIDE_EXTENSION, question)

    @router.callback_query(Card.filter(F.act.in_({CardAction.REFUSE, *FLAGS})))
    @router.callback_query(OverdueAct.filter(F.act.in_(FLAGS)))
    async def ask_reason(
        query: CallbackQuery,
        callback_data: Card | OverdueAct,
        session: AsyncSession,
        bot: Bot,
        state: FSMContext,
        tr: Translator,
        clock: Clock,
        deadlines: Deadlines,
    ) -> None:
        actor = await overseer(session, bot, query, callback_data.id)
        complaint = await complaint_for_actor(session, actor, callback_data.id)
        origin, question = pressed(query, callback_data), question_of(callback_data)
        await require_open(session, bot, tr, clock, deadlines, actor, complaint, callback_data.act, origin, question)
        refuse = callback_data.act == CardAction.REFUSE
        await state.set_state(OversightFlow.refuse_reason if refuse else OversightFlow.flag_reason)
        data = {"complaint_id": complaint.id, "act": callback_data.act.value, "origin": origin, "question": question}
        await state.set_data(data)
        await query.answer()
        text = tr(f"oversight.{callback_data.act.value}.reason", tracking_no=complaint.tracking_no)
        await send(bot, query.from_user.id, text, back_keyboard(tr, complaint.id))

    @router.callback_query(Card.filter(F.act == CardAction.RULE))
    @router.callback_query(OverdueAct.filter(F.act == CardAction.RULE))
    async def rule_start(
        query: CallbackQuery,
        callback_data: Card | OverdueAct,
        session: AsyncSession,
        bot: Bot,
        state: FSMContext,
        tr: Translator,
        clock: Clock,
        deadlines: Deadlines,
    ) -> None:
        actor = await overseer(session, bot, query, callback_data.id)
        complaint = await complaint_for_actor(session, actor, callback_data.id)
        origin = pressed(query, callback_data)
        await require_open(session, bot, tr, clock, deadlines, actor, complaint, callback_data.act, origin)
        text, markup, _ = await ruling_picker(session, tr, deadlines, complaint, 1)
        await state.set_state(OversightFlow.rule_pick)
        await state.set_data({"complaint_id": complaint.id, "origin": origin})
        await query.answer()
        await send(bot, query.from_user.id, text, markup)

    @router.message(OversightFlow.rule_pick, F.text.func(is_not_command))
    async def rule_search(
        message: Message,
        session: AsyncSession,
        bot: Bot,
        state: FSMContext,
        tr: Translator,
        clock: Clock,
        deadlines: Deadlines,
    ) -> None:
        """A name typed at the ruling picker: the agencies the catalogue search finds, as buttons."""
        actor = await overseer(session, bot, message)
        complaint = await complaint_for_actor(session, actor, (await state.get_data())["complaint_id"])
        try:
            await lifecycle.require_can_start(session, clock, deadlines, complaint, actor, Action.RULE)
        except DomainError as error:
            return await end_step(session, state, message, tr, error)
        typed = (message.text or "").strip()
        text, markup, found = await ruling_picker(session, tr, deadlines, complaint, 1, typed)
        if not found:
            await message.answer(tr("agency.transfer.none_found", name=typed))
        await send(bot, message.chat.id, text, markup)

    @router.callback_query(PickAgency.filter(F.rule))
    async def rule_pick(
        query: CallbackQuery,
        callback_data: PickAgency,
        session: AsyncSession,
        bot: Bot,
        state: FSMContext,
        tr: Translator,
        clock: Clock,
        deadlines: Deadlines,
    ) -> None:
        actor = await overseer(session, bot, query, callback_data.id)
        complaint = await complaint_for_actor(session, actor, callback_data.id)
        data = await state.get_data()
        origin = data.get("origin") if data.get("complaint_id") == complaint.id else None  # not an older picker's
        try:  # a picker left from before a ruling (this officer's or a colleague's) decides nothing
            await require_open(session, bot, tr, clock, deadlines, actor, complaint, CardAction.RULE, origin)
        except DomainError as error:
            return await refuse_picker(session, bot, query, state, tr, error, complaint.id)
        agencies = await transfer_targets(session)
        await query.answer()
        chosen = next((a for a in agencies if a.id == callback_data.agency), None)
        if chosen is None:  # a page turn (or an agency no longer active): the picker's page, in place
            text, markup, _ = await ruling_picker(session, tr, deadlines, complaint, callback_data.page)
            await replace(bot, query, text, markup)
            return
        picker = query.message.message_id if isinstance(query.message, Message) else None
        await state.set_state(OversightFlow.rule_reason)
        await state.set_data(
            {
                "complaint_id": complaint.id,
                "agency_id": chosen.id,
                "agency": chosen.name,
                "origin": origin,
                "picker": picker,
            }
        )
        await send(
            bot, query.from_user.id, tr("oversight.rule.reason", agency=chosen.name), back_keyboard(tr, complaint.id)
        )

    finishing = F.text.func(is_not_command)

    @router.message(OversightFlow.refuse_reason, finishing)
    async def refuse_reason(
        message: Message,
        session: AsyncSession,
        bot: Bot,
        state: FSMContext,
        tr: Translator,
        texts: Texts,
        clock: Clock,
        deadlines: Deadlines,
    ) -> None:
        actor = await overseer(session, bot, message)
        data = await state.get_data()
        action, question = Action.DECIDE_EXTENSION, data.get("question")
        try:
            complaint = await lifecycle.decide_extension(
                session, clock, deadlines, data["complaint_id"], actor, False, message.text, question
            )
        except DomainError as error:
            return await end_refused_step(session, bot, state, message, tr, clock, deadlines, error, action)
        await state.clear()
        await message.answer(tr("oversight.refuse.done", tracking_no=complaint.tracking_no))
        await settle(session, bot, tr, clock, deadlines, data.get("origin"), complaint, action, question)
        await settle_copies(session, bot, texts, deadlines, data.get("origin"), complaint, action, question)

    @router.message(OversightFlow.rule_reason, finishing)
    async def rule_reason(
        message: Message,
        session: AsyncSession,
        bot: Bot,
        state: FSMContext,
        tr: Translator,
        texts: Texts,
        clock: Clock,
        deadlines: Deadlines,
    ) -> None:
        actor = await overseer(session, bot, message)
        data = await state.get_data()
        try:
            complaint = await lifecycle.rule_dispute(
                session, clock, deadlines, data["complaint_id"], actor, data["agency_id"], message.text or ""
            )
        except DomainError as error:
            return await end_refused_step(session, bot, state, message, tr, clock, deadlines, error, Action.RULE)
        await state.clear()
        await message.answer(tr("oversight.rule.done", tracking_no=complaint.tracking_no, agency=data["agency"]))
        await settle(session, bot, tr, clock, deadlines, data.get("origin"), complaint, Action.RULE)
        await settle_copies(session, bot, texts, deadlines, data.get("origin"), complaint, Action.RULE)
        if data.get("picker") is not None:  # the picker is spent too
            await edit(bot, message.chat.id, data["picker"], None, None)

    @router.message(OversightFlow.flag_reason, finishing)
    async def flag_reason(
        message: Message,
        session: AsyncSession,
        bot: Bot,
        state: FSMContext,
        tr: Translator,
        clock: Clock,
        deadlines: Deadlines,
    ) -> None:
        actor = await overseer(session, bot, message)
        data = await state.get_data()
        act = CardAction(data["act"])
        flag = lifecycle.set_major if act == CardAction.MAJOR else lifecycle.clear_major
        try:
            complaint = await flag(session, clock, deadlines, data["complaint_id"], actor, message.text or "")
        except DomainError as error:
            return await end_refused_step(session, bot, state, message, tr, clock, deadlines, error, DECIDES[act])
        await state.clear()
        await message.answer(tr(f"oversight.{act.value}.done", tracking_no=complaint.tracking_no))
        await settle(session, bot, tr, clock, deadlines, data.get("origin"), complaint, DECIDES[act])

    @router.message(OversightFlow.refuse_reason, ~F.text.func(is_command))
    @router.message(OversightFlow.rule_pick, ~F.text.func(is_command))
    @router.message(OversightFlow.rule_reason, ~F.text.func(is_command))
    @router.message(OversightFlow.flag_reason, ~F.text.func(is_command))
    async def need_text(message: Message, tr: Translator) -> None:
        await message.answer(tr("agency.flow.need_text"))

    return router
