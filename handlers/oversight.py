"""The oversight office (效能办) in the bot: /overdue, /pending, extension decisions, dispute rulings
(审定), the major flag (挂牌督办 / 消号).

Who counts as oversight is decided by ``workflow`` (``require_oversight``); the queues themselves
carry no actor, so each view asks it first. Reasons are FSM steps with a way back and /cancel.
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.agency import is_command, is_not_command, replace, send
from handlers.agency_callbacks import Card, CardAction, OverduePage, PickAgency
from handlers.agency_cards import action_label, agency_picker, back_keyboard, local_time, queue_page
from handlers.contact_menu import acting_contact
from handlers.errors import error_text
from handlers.texts import Translator
from workflow import lifecycle
from workflow.actors import Actor
from workflow.clock import Clock
from workflow.deadlines import Deadlines
from workflow.errors import DomainError
from workflow.guards import require_oversight
from workflow.invites import transfer_targets
from workflow.queues import PendingDecision, complaint_for_actor, overdue_queue, pending_decisions

OVERDUE_LIMIT = 200
PENDING_LIMIT = 20


class OversightFlow(StatesGroup):
    refuse_reason = State()
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


async def end_refused_step(
    session: AsyncSession, state: FSMContext, message: Message, tr: Translator, error: DomainError
) -> None:
    """A decision refused after its reason was typed (a colleague decided meanwhile, an old button): the
    step ends with the reason why, so the next text is not taken as another reason."""
    await session.rollback()
    await state.clear()
    await message.answer(error_text(error, tr))


async def overdue_view(
    session: AsyncSession, page: int, tr: Translator, clock: Clock, deadlines: Deadlines
) -> tuple[str, InlineKeyboardMarkup | None]:
    items = await overdue_queue(session, deadlines, clock.now(), limit=OVERDUE_LIMIT)
    if not items:
        return tr("oversight.overdue.empty"), None
    return queue_page(tr, "oversight.overdue.header", items, page, deadlines, OverduePage)


def decision_message(
    tr: Translator, decision: PendingDecision, deadlines: Deadlines
) -> tuple[str, InlineKeyboardMarkup]:
    builder = InlineKeyboardBuilder()
    if decision.kind == "extension":
        text = tr(
            "oversight.pending.extension",
            tracking_no=decision.tracking_no,
            agency=decision.owner_agency or tr("agency.none"),
            days=decision.days,
            reason=decision.reason or tr("agency.none"),
            due=local_time(tr, decision.resolve_due_at, deadlines.zone),
        )
        actions = (CardAction.APPROVE, CardAction.REFUSE, CardAction.SHOW)
    else:
        text = tr(
            "oversight.pending.dispute",
            tracking_no=decision.tracking_no,
            agency=decision.owner_agency or tr("agency.none"),
            reason=decision.reason or tr("agency.none"),
        )
        actions = (CardAction.RULE, CardAction.SHOW)
    for action in actions:
        label = (
            tr.plain("agency.button.show", tracking_no=decision.tracking_no)
            if action == CardAction.SHOW
            else action_label(tr, action)
        )
        builder.button(text=label, callback_data=Card(id=decision.complaint_id, act=action))
    builder.adjust(2)
    return text, builder.as_markup()


def oversight_router() -> Router:
    router = Router(name="oversight")

    @router.message(Command("overdue"))
    async def overdue(
        message: Message, session: AsyncSession, bot: Bot, tr: Translator, clock: Clock, deadlines: Deadlines
    ) -> None:
        await overseer(session, bot, message)
        text, markup = await overdue_view(session, 1, tr, clock, deadlines)
        await message.answer(text, reply_markup=markup)

    @router.callback_query(OverduePage.filter())
    async def overdue_page(
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
            text, markup = decision_message(tr, decision, deadlines)
            await message.answer(text, reply_markup=markup)

    @router.callback_query(Card.filter(F.act == CardAction.APPROVE))
    async def approve(
        query: CallbackQuery,
        callback_data: Card,
        session: AsyncSession,
        bot: Bot,
        tr: Translator,
        clock: Clock,
        deadlines: Deadlines,
    ) -> None:
        actor = await overseer(session, bot, query, callback_data.id)
        complaint = await lifecycle.decide_extension(session, clock, deadlines, callback_data.id, actor, True)
        due = local_time(tr, complaint.resolve_due_at, deadlines.zone)
        await query.answer()
        await send(bot, query.from_user.id, tr("oversight.approve.done", tracking_no=complaint.tracking_no, due=due))

    @router.callback_query(Card.filter(F.act.in_({CardAction.REFUSE, CardAction.MAJOR, CardAction.UNMAJOR})))
    async def ask_reason(
        query: CallbackQuery, callback_data: Card, session: AsyncSession, bot: Bot, state: FSMContext, tr: Translator
    ) -> None:
        actor = await overseer(session, bot, query, callback_data.id)
        complaint = await complaint_for_actor(session, actor, callback_data.id)
        refuse = callback_data.act == CardAction.REFUSE
        await state.set_state(OversightFlow.refuse_reason if refuse else OversightFlow.flag_reason)
        await state.set_data({"complaint_id": complaint.id, "act": callback_data.act.value})
        await query.answer()
        text = tr(f"oversight.{callback_data.act.value}.reason", tracking_no=complaint.tracking_no)
        await send(bot, query.from_user.id, text, back_keyboard(tr, complaint.id))

    @router.callback_query(Card.filter(F.act == CardAction.RULE))
    async def rule_start(
        query: CallbackQuery, callback_data: Card, session: AsyncSession, bot: Bot, tr: Translator
    ) -> None:
        actor = await overseer(session, bot, query, callback_data.id)
        complaint = await complaint_for_actor(session, actor, callback_data.id)
        text, markup = agency_picker(
            tr, "oversight.rule.pick", complaint, await transfer_targets(session), 1, rule=True
        )
        await query.answer()
        await send(bot, query.from_user.id, text, markup)

    @router.callback_query(PickAgency.filter(F.rule))
    async def rule_pick(
        query: CallbackQuery,
        callback_data: PickAgency,
        session: AsyncSession,
        bot: Bot,
        state: FSMContext,
        tr: Translator,
    ) -> None:
        actor = await overseer(session, bot, query, callback_data.id)
        complaint = await complaint_for_actor(session, actor, callback_data.id)
        agencies = await transfer_targets(session)
        await query.answer()
        chosen = next((a for a in agencies if a.id == callback_data.agency), None)
        if chosen is None:
            text, markup = agency_picker(tr, "oversight.rule.pick", complaint, agencies, callback_data.page, rule=True)
            await replace(bot, query, text, markup)
            return
        await state.set_state(OversightFlow.rule_reason)
        await state.set_data({"complaint_id": complaint.id, "agency_id": chosen.id, "agency": chosen.name})
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
        clock: Clock,
        deadlines: Deadlines,
    ) -> None:
        actor = await overseer(session, bot, message)
        data = await state.get_data()
        try:
            complaint = await lifecycle.decide_extension(
                session, clock, deadlines, data["complaint_id"], actor, False, message.text
            )
        except DomainError as error:
            return await end_refused_step(session, state, message, tr, error)
        await state.clear()
        await message.answer(tr("oversight.refuse.done", tracking_no=complaint.tracking_no))

    @router.message(OversightFlow.rule_reason, finishing)
    async def rule_reason(
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
        try:
            complaint = await lifecycle.rule_dispute(
                session, clock, deadlines, data["complaint_id"], actor, data["agency_id"], message.text or ""
            )
        except DomainError as error:
            return await end_refused_step(session, state, message, tr, error)
        await state.clear()
        await message.answer(tr("oversight.rule.done", tracking_no=complaint.tracking_no, agency=data["agency"]))

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
        flag = lifecycle.set_major if data["act"] == CardAction.MAJOR else lifecycle.clear_major
        try:
            complaint = await flag(session, clock, deadlines, data["complaint_id"], actor, message.text or "")
        except DomainError as error:
            return await end_refused_step(session, state, message, tr, error)
        await state.clear()
        await message.answer(tr(f"oversight.{data['act']}.done", tracking_no=complaint.tracking_no))

    @router.message(OversightFlow.refuse_reason, ~F.text.func(is_command))
    @router.message(OversightFlow.rule_reason, ~F.text.func(is_command))
    @router.message(OversightFlow.flag_reason, ~F.text.func(is_command))
    async def need_text(message: Message, tr: Translator) -> None:
        await message.answer(tr("agency.flow.need_text"))

    return router
