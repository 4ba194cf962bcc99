"""The oversight office (效能办) in the bot: /overdue, /pending, extension decisions, dispute rulings
(审定), the major flag (挂牌督办 / 消号).

Who counts as oversight is decided by ``workflow`` (``require_oversight``); the queues themselves
carry no actor, so each view asks it first. Reasons are FSM steps with a way back and /cancel.

The pages and pickers shown, and the message a decision was asked on settled once it is decided, are
``handlers.oversight_messages``'s.
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.agency_callbacks import Card, CardAction, OverdueAct, OverduePage, PickAgency
from handlers.agency_cards import back_keyboard, local_time
from handlers.agency_messages import edit, end_step, refuse_picker, replace, send
from handlers.agency_steps import is_command, is_not_command
from handlers.contact_menu import acting_contact
from handlers.oversight_cards import decision_message
from handlers.oversight_messages import (
    DECIDES,
    end_refused_step,
    overdue_view,
    pressed,
    question_of,
    require_open,
    ruling_picker,
    settle,
    settle_copies,
)
from handlers.texts import Texts, Translator
from workflow import lifecycle
from workflow.actors import Actor
from workflow.clock import Clock
from workflow.deadlines import Deadlines
from workflow.decisions import declined_transfers
from workflow.errors import DomainError
from workflow.guards import require_oversight
from workflow.queues import pending_decisions
from workflow.transfers import transfer_targets
from workflow.transitions import Action
from workflow.visibility import complaint_for_actor

PENDING_LIMIT = 20
FLAGS = {CardAction.MAJOR, CardAction.UNMAJOR}


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
