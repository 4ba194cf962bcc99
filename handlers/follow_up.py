"""The citizen follows their complaints: /my (a paged list), /status (one complaint and its timeline,
only to its own citizen), the rating buttons under a RESOLVED notice, and withdrawing.

不满意 first asks why (a one-step FSM that remembers and restores whatever conversation was going on),
then rates with the reason, which reopens the complaint (重办) per the workflow rules. A refused press
(already rated, withdrawn meanwhile, a double tap that lost the race) is answered in a toast and
changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache

import opencc
from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, User
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.citizen_callbacks import MyPage, RateComplaint, RateStep, StatusOf, Withdraw, rating_of, show
from handlers.citizen_notices import rating_keyboard
from handlers.common import Menu
from handlers.errors import error_text
from handlers.texts import TRADITIONAL, Translator
from storage.models import OPEN_STATUSES, Citizen, Complaint, ComplaintStatus
from storage.vocabulary import Rating
from workflow import lifecycle
from workflow.actors import Actor
from workflow.citizen_view import CitizenComplaint, TimelineEntry, complaint_by_id, complaint_by_number, my_complaints
from workflow.citizens import get_or_create_citizen
from workflow.clock import Clock
from workflow.deadlines import Deadlines
from workflow.errors import DomainError
from workflow.timers import ACKNOWLEDGE_STATUSES

PER_PAGE = 5
#: Refusals that mean "this button is out of date", answered in a toast rather than a new message.
STALE = frozenset({"already_rated", "bad_state", "conflict", "not_found"})
SUMMARY_CHARS = 30


class FollowUp(StatesGroup):
    tracking_no = State()  # /status without a number: waiting for one
    reason = State()  # 不满意: waiting for why


async def citizen_of(session: AsyncSession, user: User, lang: str) -> Citizen:
    """The citizen behind a Telegram user, with the script they read kept current for notices."""
    return await get_or_create_citizen(session, user.id, display_name=user.full_name, language=lang)


def not_command(message: Message) -> bool:
    """A typed answer, not a /command: commands keep working in the middle of a question."""
    return not (message.text or "").startswith("/")


async def refused(query: CallbackQuery, session: AsyncSession, error: DomainError, tr: Translator) -> None:
    """Undo whatever the refused action touched and say why, politely, in a toast."""
    await session.rollback()
    await query.answer(error_text(error, tr), show_alert=True)


# --- rendering -------------------------------------------------------------------------------------


def _when(moment: datetime, deadlines: Deadlines) -> str:
    local = moment.astimezone(deadlines.zone)
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def due_line(complaint: Complaint, tr: Translator, deadlines: Deadlines, now: datetime) -> str | None:
    """The deadline running now, in plain words; None when nothing is due from the agency."""
    status = ComplaintStatus(complaint.status)
    if status == ComplaintStatus.RESOLVED:
        return tr("my.due.rate")
    if status in ACKNOWLEDGE_STATUSES:
        key, due = "my.due.acknowledge", complaint.acknowledge_due_at
    elif status == ComplaintStatus.ACCEPTED:
        key, due = "my.due.resolve", complaint.resolve_due_at
    else:
        return None
    if due is None:
        return None
    return tr(key + ("_overdue" if due <= now else ""), due=in_script(deadlines.describe(due, now=now), tr))


@cache
def _to_traditional() -> opencc.OpenCC:
    return opencc.OpenCC("s2twp")


def in_script(text: str, tr: Translator) -> str:
    """Workflow describes deadlines in Simplified; a Traditional reader gets them converted."""
    return _to_traditional().convert(text) if tr.lang == TRADITIONAL else text


def _summary(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


def list_view(
    complaints: list[Complaint], page: int, more: bool, tr: Translator, deadlines: Deadlines, now: datetime
) -> tuple[str, InlineKeyboardMarkup | None]:
    if not complaints and page == 0:
        return tr("my.empty"), None
    lines = [tr("my.title", page=page + 1)]
    builder = InlineKeyboardBuilder()
    for number, complaint in enumerate(complaints, start=page * PER_PAGE + 1):
        due = due_line(complaint, tr, deadlines, now)
        lines.append(
            tr(
                "my.item",
                number=number,
                tracking_no=complaint.tracking_no,
                status=tr.plain(f"status.word.{complaint.status}"),
                summary=_summary(complaint.text, SUMMARY_CHARS),
            )
            + (f"\n{due}" if due else "")
        )
        builder.button(
            text=tr.plain("my.button.view", tracking_no=complaint.tracking_no),
            callback_data=StatusOf(complaint_id=complaint.id, page=page),
        )
    builder.adjust(1)
    pager = InlineKeyboardBuilder()
    if page > 0:
        pager.button(text=tr.plain("my.button.prev"), callback_data=MyPage(page=page - 1))
    if more:
        pager.button(text=tr.plain("my.button.next"), callback_data=MyPage(page=page + 1))
    builder.attach(pager)
    return "\n\n".join(lines), builder.as_markup()


def _event_text(entry: TimelineEntry, tr: Translator) -> str:
    params = {"agency": entry.agency or "", "rating": entry.data.get("rating", ""), "days": entry.data.get("days", "")}
    key = f"status.event.{entry.action}"
    if entry.reason:
        params["reason"] = entry.reason
        key += "_with_reason"
    return tr(key, **params)


def status_view(
    view: CitizenComplaint, back_page: int, tr: Translator, deadlines: Deadlines, now: datetime
) -> tuple[str, InlineKeyboardMarkup]:
    complaint = view.complaint
    agency = complaint.owner_agency.name if complaint.owner_agency else "—"
    parts = [
        tr(
            "status.header",
            tracking_no=complaint.tracking_no,
            status=tr.plain(f"status.word.{complaint.status}"),
            agency=agency,
        )
    ]
    if due := due_line(complaint, tr, deadlines, now):
        parts.append(due)
    parts.append(tr("status.summary", text=_summary(complaint.text, 200)))
    if complaint.reply_text:
        parts.append(tr("status.reply", agency=agency, reply=_summary(complaint.reply_text, 1500)))
    events = [tr("status.event.line", at=_when(e.at, deadlines), what=_event_text(e, tr)) for e in view.timeline]
    parts.append(tr("status.timeline") + "\n" + "\n".join(events))

    builder = InlineKeyboardBuilder()
    if complaint.status == ComplaintStatus.RESOLVED:
        builder.attach(InlineKeyboardBuilder.from_markup(rating_keyboard(complaint.id, tr)))
    if complaint.status in OPEN_STATUSES:
        builder.row().button(
            text=tr.plain("status.button.withdraw"), callback_data=Withdraw(complaint_id=complaint.id, action="ask")
        )
    builder.row().button(text=tr.plain("status.button.back"), callback_data=MyPage(page=max(back_page, 0)))
    return "\n\n".join(parts), builder.as_markup()


# --- the router -----------------------------------------------------------------------------------


def follow_up_router() -> Router:
    router = Router(name="citizen-follow-up")

    @router.message(Command("my"))
    async def my_command(
        message: Message, session: AsyncSession, lang: str, tr: Translator, clock: Clock, deadlines: Deadlines
    ) -> None:
        assert message.from_user is not None
        citizen = await citizen_of(session, message.from_user, lang)
        complaints, more = await my_complaints(session, citizen, page=0, per_page=PER_PAGE)
        text, markup = list_view(complaints, 0, more, tr, deadlines, clock.now())
        await message.answer(text, reply_markup=markup)

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
        state: FSMContext,
        session: AsyncSession,
        lang: str,
        tr: Translator,
        clock: Clock,
        deadlines: Deadlines,
    ) -> None:
        assert message.from_user is not None
        if not (command.args or "").strip():
            await _remember_and_set(state, FollowUp.tracking_no)
            await message.answer(tr("status.ask_number"))
            return
        citizen = await citizen_of(session, message.from_user, lang)
        view = await complaint_by_number(session, citizen, command.args or "")
        text, markup = status_view(view, 0, tr, deadlines, clock.now())
        await message.answer(text, reply_markup=markup)

    @router.message(FollowUp.tracking_no, F.text, not_command)
    async def status_number(
        message: Message,
        state: FSMContext,
        session: AsyncSession,
        lang: str,
        tr: Translator,
        clock: Clock,
        deadlines: Deadlines,
    ) -> None:
        assert message.from_user is not None and message.text is not None
        citizen = await citizen_of(session, message.from_user, lang)
        view = await complaint_by_number(session, citizen, message.text)
        await _restore(state)
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
        if rating == Rating.DISSATISFIED:
            try:  # ask why only if the complaint can still be rated
                view = await complaint_by_id(session, citizen, callback_data.complaint_id)
                if view.complaint.status != ComplaintStatus.RESOLVED:
                    code = "already_rated" if view.complaint.status == ComplaintStatus.CLOSED else "bad_state"
                    raise DomainError(code)
            except DomainError as error:
                await refused(query, session, error, tr)
                return
            await _remember_and_set(state, FollowUp.reason, rate_complaint=view.complaint.id)
            await query.answer()
            if isinstance(query.message, Message):
                await query.message.answer(
                    tr("rate.ask_reason", tracking_no=view.complaint.tracking_no),
                    reply_markup=_reason_keyboard(view.complaint.id, tr),
                )
            return
        await _rate(query, session, citizen, callback_data.complaint_id, rating, None, tr, clock, deadlines)

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
        if (await state.get_data()).get("rate_complaint") != callback_data.complaint_id:
            await query.answer(tr.plain("hint.stale_button"))
            return
        await _restore(state)
        if callback_data.action == "back":
            await show(query, tr("rate.back"), rating_keyboard(callback_data.complaint_id, tr))
            return
        citizen = await citizen_of(session, query.from_user, lang)
        await _rate(
            query, session, citizen, callback_data.complaint_id, Rating.DISSATISFIED, None, tr, clock, deadlines
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
        complaint_id = int((await state.get_data())["rate_complaint"])
        citizen = await citizen_of(session, message.from_user, lang)
        try:
            complaint = await lifecycle.rate(
                session, clock, deadlines, complaint_id, Actor.citizen(citizen), Rating.DISSATISFIED, message.text
            )
        except DomainError as error:
            await session.rollback()
            await _restore(state)
            await message.answer(error_text(error, tr))
            return
        await _restore(state)
        await message.answer(_rated_text(complaint, Rating.DISSATISFIED, tr, deadlines, clock.now()))

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
            if callback_data.action == "confirm":
                complaint = await lifecycle.withdraw(
                    session, clock, deadlines, callback_data.complaint_id, Actor.citizen(citizen)
                )
                await show(query, tr("status.withdrawn", tracking_no=complaint.tracking_no))
                return
            view = await complaint_by_id(session, citizen, callback_data.complaint_id)
        except DomainError as error:
            await refused(query, session, error, tr)
            return
        if callback_data.action == "ask" and view.complaint.status in OPEN_STATUSES:
            await show(
                query,
                tr("status.withdraw_confirm", tracking_no=view.complaint.tracking_no),
                _withdraw_keyboard(view.complaint.id, tr),
            )
        else:  # back, or no longer open
            await show(query, *status_view(view, 0, tr, deadlines, clock.now()))

    return router


async def _rate(
    query: CallbackQuery,
    session: AsyncSession,
    citizen: Citizen,
    complaint_id: int,
    rating: Rating,
    comment: str | None,
    tr: Translator,
    clock: Clock,
    deadlines: Deadlines,
) -> None:
    try:
        complaint = await lifecycle.rate(
            session, clock, deadlines, complaint_id, Actor.citizen(citizen), rating, comment
        )
    except DomainError as error:
        await refused(query, session, error, tr)
        return
    await show(query, _rated_text(complaint, rating, tr, deadlines, clock.now()))


def _rated_text(complaint: Complaint, rating: Rating, tr: Translator, deadlines: Deadlines, now: datetime) -> str:
    if complaint.status == ComplaintStatus.ACCEPTED:  # 重办
        due = complaint.resolve_due_at
        due_text = in_script(deadlines.describe(due, now=now), tr) if due else "—"
        return tr("rate.reopened", tracking_no=complaint.tracking_no, due=due_text)
    key = "rate.closed_dissatisfied" if rating == Rating.DISSATISFIED else "rate.thanks"
    return tr(key, tracking_no=complaint.tracking_no, rating=rating.value)


def _reason_keyboard(complaint_id: int, tr: Translator) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=tr.plain("rate.button.skip"), callback_data=RateStep(complaint_id=complaint_id, action="skip"))
    builder.button(text=tr.plain("rate.button.back"), callback_data=RateStep(complaint_id=complaint_id, action="back"))
    return builder.as_markup()


def _withdraw_keyboard(complaint_id: int, tr: Translator) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=tr.plain("status.button.withdraw_confirm"),
        callback_data=Withdraw(complaint_id=complaint_id, action="confirm"),
    )
    builder.button(
        text=tr.plain("status.button.withdraw_back"), callback_data=Withdraw(complaint_id=complaint_id, action="back")
    )
    return builder.as_markup()


async def _remember_and_set(state: FSMContext, new_state: State, **data: object) -> None:
    """Enter a one-step question without losing the conversation it interrupts (e.g. a /complain draft)."""
    current = await state.get_state()
    if current not in (FollowUp.tracking_no.state, FollowUp.reason.state):
        await state.update_data(follow_up_previous=current)
    await state.update_data(**data)
    await state.set_state(new_state)


async def _restore(state: FSMContext) -> None:
    """Back to the interrupted conversation (or none), dropping this question's data."""
    data = await state.get_data()
    previous = data.pop("follow_up_previous", None)
    data.pop("rate_complaint", None)
    await state.set_data(data)
    await state.set_state(previous)
