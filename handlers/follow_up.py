"""The citizen follows their complaints: /my (a paged list, also /status without a number), /status with
a number (one complaint and its timeline, only to its own citizen), the rating buttons (under a RESOLVED
notice, the rating reminder and the status view), and withdrawing.

不满意 first asks why (a one-step FSM that remembers and restores whatever conversation was going on),
then rates with the reason, which reopens the complaint (重办) per the workflow rules. A refused press
(already rated, closed unrated after the rating window, a button from a reply superseded by a 重办,
withdrawn meanwhile, a double tap that lost the race) is answered in a toast, changes nothing and
takes the rating buttons off the pressed message. The round a button was sent for travels with the
不满意 question in the FSM data, so the reason rates the reply the citizen saw.
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, MessageOriginUser, User
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.citizen_callbacks import (
    MyPage,
    RateComplaint,
    RateStep,
    StatusOf,
    Withdraw,
    annotate,
    drop_buttons,
    rating_of,
    show,
)
from handlers.citizen_notices import rating_keyboard
from handlers.citizen_views import (
    PER_PAGE,
    list_view,
    rated_text,
    reason_keyboard,
    status_view,
    withdraw_keyboard,
)
from handlers.errors import error_key, error_text
from handlers.menu import Menu
from handlers.texts import Translator
from storage.models import OPEN_STATUSES, Citizen
from storage.vocabulary import Rating
from workflow import lifecycle
from workflow.actors import Actor
from workflow.citizen_view import (
    complaint_by_id,
    complaint_by_number,
    find_tracking_no,
    my_complaints,
    parse_tracking_no,
)
from workflow.citizens import get_or_create_citizen
from workflow.clock import Clock
from workflow.deadlines import Deadlines
from workflow.errors import DomainError


class FollowUp(StatesGroup):
    reason = State()  # 不满意: waiting for why


async def citizen_of(session: AsyncSession, user: User, lang: str) -> Citizen:
    """The citizen behind a Telegram user, with the script they read kept current for notices."""
    return await get_or_create_citizen(session, user.id, display_name=user.full_name, language=lang)


def not_command(message: Message) -> bool:
    """A typed answer, not a /command: commands keep working in the middle of a question."""
    return not (message.text or "").startswith("/")


def tracking_no_of(message: Message, bot: Bot) -> str | None:
    """A tracking number sent on its own, or the one in a message of this bot forwarded back to it (a receipt,
    a notice: how some ask "what about this one?")."""
    origin = message.forward_origin
    if isinstance(origin, MessageOriginUser) and origin.sender_user.id == bot.id:
        return find_tracking_no(message.text or "")
    return parse_tracking_no(message.text or "")


def pasted_tracking_no(message: Message, bot: Bot) -> bool:
    return tracking_no_of(message, bot) is not None


async def only_a_question(state: FSMContext) -> bool:
    """Waiting for a 不满意 reason, asked outside any conversation: nothing the citizen filled in would be
    lost by leaving it."""
    if await state.get_state() != FollowUp.reason.state:
        return False
    return (await state.get_data()).get("follow_up_previous") is None


async def refused(query: CallbackQuery, session: AsyncSession, error: DomainError, tr: Translator) -> None:
    """Undo whatever the refused action touched and say why, politely, in a toast (plain text: Telegram
    shows a toast as it is, markup and entities included)."""
    await session.rollback()
    await query.answer(tr.plain(error_key(error, tr)))


async def rating_refused(query: CallbackQuery, session: AsyncSession, error: DomainError, tr: Translator) -> None:
    """A rating the complaint no longer takes from this button (rated, closed unrated, a reply
    superseded by a 重办, withdrawn): said in a toast, and the pressed message's rating buttons are taken
    off, its other buttons kept, so they are not pressed again in vain. A double tap finds them gone."""
    await refused(query, session, error, tr)
    message = query.message
    if not isinstance(message, Message) or message.reply_markup is None:
        return
    rating = (RateComplaint.__prefix__ + RateComplaint.__separator__, RateStep.__prefix__ + RateStep.__separator__)
    rows = message.reply_markup.inline_keyboard
    kept = [[b for b in row if not (b.callback_data or "").startswith(rating)] for row in rows]
    kept = [row for row in kept if row]
    if kept == rows:
        return
    try:
        await message.edit_reply_markup(reply_markup=InlineKeyboardMarkup(inline_keyboard=kept) if kept else None)
    except TelegramBadRequest as exc:
        if "not modified" not in str(exc):
            raise


# --- the router -----------------------------------------------------------------------------------


def follow_up_router() -> Router:
    router = Router(name="citizen-follow-up")

    @router.message(Command("my"))
    async def my_command(
        message: Message, session: AsyncSession, lang: str, tr: Translator, clock: Clock, deadlines: Deadlines
    ) -> None:
        await _answer_list(message, session, lang, tr, clock, deadlines)

    @router.callback_query(Menu.filter(F.action == "my"))
    @router.callback_query(MyPage.filter())
    async def my_page(
        query: CallbackQuery,
        callback_data: MyPage | Menu,
        session: AsyncSession,
        lang: str,
        tr: Translator,
        clock: Clock,
        deadlines: Deadlines,
    ) -> None:
        page = callback_data.page if isinstance(callback_data, MyPage) else 0
        citizen = await citizen_of(session, query.from_user, lang)
        complaints, more = await my_complaints(session, citizen, page=page, per_page=PER_PAGE)
        text, markup = list_view(complaints, page, more, tr, deadlines, clock.now())
        if isinstance(callback_data, Menu) and isinstance(query.message, Message):
            await query.answer()
            await query.message.answer(text, reply_markup=markup)
        else:
            await show(query, text, markup)

    @router.message(Command("status"))
    async def status_command(
        message: Message,
        command: CommandObject,
        session: AsyncSession,
        lang: str,
        tr: Translator,
        clock: Clock,
        deadlines: Deadlines,
    ) -> None:
        if not (command.args or "").strip():  # the list to pick from, rather than a number to recall
            await _answer_list(message, session, lang, tr, clock, deadlines)
            return
        assert message.from_user is not None
        citizen = await citizen_of(session, message.from_user, lang)
        view = await complaint_by_number(session, citizen, command.args or "")
        text, markup = status_view(view, 0, tr, deadlines, clock.now())
        await message.answer(text, reply_markup=markup)

    @router.message(StateFilter(None), F.text, pasted_tracking_no)
    async def pasted_number(
        message: Message,
        bot: Bot,
        session: AsyncSession,
        lang: str,
        tr: Translator,
        clock: Clock,
        deadlines: Deadlines,
    ) -> None:
        """A tracking number sent on its own (or forwarded back), outside any conversation, works like /status
        with it."""
        assert message.from_user is not None
        citizen = await citizen_of(session, message.from_user, lang)
        view = await complaint_by_number(session, citizen, tracking_no_of(message, bot) or "")
        text, markup = status_view(view, 0, tr, deadlines, clock.now())
        await message.answer(text, reply_markup=markup)

    @router.callback_query(StatusOf.filter())
    async def status_button(
        query: CallbackQuery,
        callback_data: StatusOf,
        session: AsyncSession,
        lang: str,
        tr: Translator,
        clock: Clock,
        deadlines: Deadlines,
    ) -> None:
        citizen = await citizen_of(session, query.from_user, lang)
        try:
            view = await complaint_by_id(session, citizen, callback_data.complaint_id)
        except DomainError as error:
            await refused(query, session, error, tr)
            return
        text, markup = status_view(view, callback_data.page, tr, deadlines, clock.now())
        if callback_data.page < 0 and isinstance(query.message, Message):  # from a notice: keep the notice
            await query.answer()
            await query.message.answer(text, reply_markup=markup)
        else:
            await show(query, text, markup)

    # --- rating -----------------------------------------------------------------------------------

    @router.callback_query(RateComplaint.filter())
    async def rate_button(
        query: CallbackQuery,
        callback_data: RateComplaint,
        state: FSMContext,
        session: AsyncSession,
        lang: str,
        tr: Translator,
        clock: Clock,
        deadlines: Deadlines,
    ) -> None:
        rating = rating_of(callback_data.r)
        if rating is None:
            await query.answer(tr.plain("hint.stale_button"))
            return
        citizen = await citizen_of(session, query.from_user, lang)
        round = callback_data.shown_round
        if rating == Rating.DISSATISFIED:
            try:  # ask why only if the complaint can still be rated, from this button
                view = await complaint_by_id(session, citizen, callback_data.complaint_id)
                await lifecycle.require_ratable(session, view.complaint, round=round)
            except DomainError as error:
                await rating_refused(query, session, error, tr)
                return
            await _remember_and_set(state, FollowUp.reason, rate_complaint=view.complaint.id, rate_round=round)
            await drop_buttons(query)  # offered again by the question's « 返回
            if isinstance(query.message, Message):
                await query.message.answer(
                    tr("rate.ask_reason", tracking_no=view.complaint.tracking_no),
                    reply_markup=reason_keyboard(view.complaint.id, tr),
                )
            return
        # under a notice the outcome is added to the agency's reply; the buttons offered again after
        # « 返回 are only a question, which the outcome replaces
        asked_again = isinstance(query.message, Message) and query.message.text == tr.plain("rate.back")
        await _rate(
            query,
            session,
            citizen,
            callback_data.complaint_id,
            rating,
            round,
            tr,
            clock,
            deadlines,
            keep_message=not asked_again,
        )

    @router.callback_query(RateStep.filter())
    async def rate_step(
        query: CallbackQuery,
        callback_data: RateStep,
        state: FSMContext,
        session: AsyncSession,
        lang: str,
        tr: Translator,
        clock: Clock,
        deadlines: Deadlines,
    ) -> None:
        data = await state.get_data()
        if data.get("rate_complaint") != callback_data.complaint_id:
            await query.answer(tr.plain("hint.stale_button"))
            return
        round = data.get("rate_round")
        await restore(state)
        if callback_data.action == "back":
            await show(query, tr("rate.back"), rating_keyboard(callback_data.complaint_id, round, tr))
            return
        citizen = await citizen_of(session, query.from_user, lang)
        await _rate(
            query,
            session,
            citizen,
            callback_data.complaint_id,
            Rating.DISSATISFIED,
            round,
            tr,
            clock,
            deadlines,
            keep_message=False,
        )

    @router.message(FollowUp.reason, F.text, not_command)
    async def rate_reason(
        message: Message,
        state: FSMContext,
        session: AsyncSession,
        lang: str,
        tr: Translator,
        clock: Clock,
        deadlines: Deadlines,
    ) -> None:
        assert message.from_user is not None
        data = await state.get_data()
        complaint_id = int(data["rate_complaint"])
        citizen = await citizen_of(session, message.from_user, lang)
        try:
            complaint = await lifecycle.rate(
                session,
                clock,
                deadlines,
                complaint_id,
                Actor.citizen(citizen),
                Rating.DISSATISFIED,
                message.text,
                round=data.get("rate_round"),
            )
        except DomainError as error:
            await session.rollback()
            await restore(state)
            await message.answer(error_text(error, tr))
            return
        await restore(state)
        await message.answer(rated_text(complaint, Rating.DISSATISFIED, tr))

    @router.message(FollowUp.reason, not_command)
    async def rate_reason_not_text(message: Message, tr: Translator) -> None:
        await message.answer(tr("rate.reason_hint"))

    # --- withdrawing ------------------------------------------------------------------------------

    @router.callback_query(Withdraw.filter())
    async def withdraw_button(
        query: CallbackQuery,
        callback_data: Withdraw,
        session: AsyncSession,
        lang: str,
        tr: Translator,
        clock: Clock,
        deadlines: Deadlines,
    ) -> None:
        citizen = await citizen_of(session, query.from_user, lang)
        try:
            if callback_data.action == "confirm":  # the news comes once, as the WITHDRAWN notice
                await lifecycle.withdraw(session, clock, deadlines, callback_data.complaint_id, Actor.citizen(citizen))
            view = await complaint_by_id(session, citizen, callback_data.complaint_id)
        except DomainError as error:
            await refused(query, session, error, tr)
            return
        if callback_data.action == "ask" and view.complaint.status in OPEN_STATUSES:
            await show(
                query,
                tr("status.withdraw_confirm", tracking_no=view.complaint.tracking_no),
                withdraw_keyboard(view.complaint.id, tr),
            )
        else:  # back, withdrawn, or no longer open
            await show(query, *status_view(view, 0, tr, deadlines, clock.now()))

    return router


async def _answer_list(
    message: Message, session: AsyncSession, lang: str, tr: Translator, clock: Clock, deadlines: Deadlines
) -> None:
    """The first page of the citizen's complaints (/my, or /status without a number)."""
    assert message.from_user is not None
    citizen = await citizen_of(session, message.from_user, lang)
    complaints, more = await my_complaints(session, citizen, page=0, per_page=PER_PAGE)
    text, markup = list_view(complaints, 0, more, tr, deadlines, clock.now())
    await message.answer(text, reply_markup=markup)


async def _rate(
    query: CallbackQuery,
    session: AsyncSession,
    citizen: Citizen,
    complaint_id: int,
    rating: Rating,
    round: int | None,
    tr: Translator,
    clock: Clock,
    deadlines: Deadlines,
    *,
    keep_message: bool,
) -> None:
    """Rate the reply of ``round`` (the pressed button's); with ``keep_message`` (a notice carrying the
    agency's reply) the answer is added under the pressed message's text instead of replacing it."""
    try:
        complaint = await lifecycle.rate(
            session, clock, deadlines, complaint_id, Actor.citizen(citizen), rating, round=round
        )
    except DomainError as error:
        await rating_refused(query, session, error, tr)
        return
    text = rated_text(complaint, rating, tr)
    if not keep_message:
        await show(query, text)
        return
    await annotate(query, text)


async def _remember_and_set(state: FSMContext, new_state: State, **data: object) -> None:
    """Enter a one-step question without losing the conversation it interrupts (e.g. a /complain draft)."""
    current = await state.get_state()
    if current != FollowUp.reason.state:
        await state.update_data(follow_up_previous=current)
    await state.update_data(**data)
    await state.set_state(new_state)


async def restore(state: FSMContext) -> None:
    """Back to the interrupted conversation (or none), dropping this question's data."""
    data = await state.get_data()
    previous = data.pop("follow_up_previous", None)
    data.pop("rate_complaint", None)
    data.pop("rate_round", None)
    await state.set_data(data)
    await state.set_state(previous)
