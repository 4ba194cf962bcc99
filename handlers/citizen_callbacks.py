"""Typed callback data for the citizen's buttons: ids and small indexes only (64-byte limit; a Chinese
character is 3 bytes). Areas, ratings and dimensions travel as their index in ``storage.vocabulary``.

The /evaluate buttons carry ``c``, the nonce of the panel they were drawn on, kept in the FSM data and
renewed at each drawing: a button of a panel since redrawn (a double tap), or from an older or finished
conversation, no longer matches and is answered as stale without acting.
"""

from __future__ import annotations

from typing import Self

from aiogram.exceptions import TelegramBadRequest
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from handlers.agency_messages import edit
from storage.vocabulary import AREAS, EVALUATION_DIMENSIONS, Rating

RATINGS: tuple[Rating, ...] = tuple(Rating)


# --- /evaluate -----------------------------------------------------------------------------------


class EvalAreas(CallbackData, prefix="eva"):
    """Back to the list of areas."""

    c: int


class EvalArea(CallbackData, prefix="evr"):
    """One page of an area's agencies; ``a`` indexes ``AREAS``."""

    c: int
    a: int
    p: int = 0


class EvalAgency(CallbackData, prefix="evg"):
    c: int
    agency_id: int


class EvalRating(CallbackData, prefix="evt"):
    """``r`` indexes ``RATINGS``."""

    c: int
    r: int


class EvalScore(CallbackData, prefix="evs"):
    """A score 1–5 for dimension ``d`` (indexes ``EVALUATION_DIMENSIONS``)."""

    c: int
    d: int
    s: int


class EvalStep(CallbackData, prefix="evx"):
    """Navigation: back | skip_dimension | skip_scores | skip_comment | confirm | cancel."""

    c: int
    action: str


# --- follow-up and rating ------------------------------------------------------------------------


class MyPage(CallbackData, prefix="myp"):
    page: int


class StatusOf(CallbackData, prefix="sto"):
    complaint_id: int
    page: int = 0  # the /my page to go back to


class RateComplaint(CallbackData, prefix="rat"):
    """A rating button (the RESOLVED notice, the rating reminder, the status view); ``r`` indexes
    ``RATINGS``, ``round`` is the reply's round the buttons were sent with (``workflow.ratings``)."""

    complaint_id: int
    r: int
    round: int | None = None

    @classmethod
    def unpack(cls, value: str) -> Self:
        """Buttons sent before the round was carried (``rat:<id>:<r>``, still in chats) parse with
        ``round`` None instead of failing as a stale button."""
        if value.count(cls.__separator__) == len(cls.model_fields) - 1:
            value += cls.__separator__
        return super().unpack(value)

    @property
    def shown_round(self) -> int:
        """The round this button rates. One sent before rounds were carried is taken as the first
        reply's: it still rates a complaint never reopened, and is refused as superseded after a 重办
        (fresh buttons come with /status and the rating reminder)."""
        return 1 if self.round is None else self.round


class RateStep(CallbackData, prefix="rax"):
    """While asked why 不满意: skip the reason, or go back to the three buttons."""

    complaint_id: int
    action: str  # skip | back


class Withdraw(CallbackData, prefix="wdr"):
    """ask → the confirmation; confirm → withdraw; back → the status view again."""

    complaint_id: int
    action: str


def area_name(index: int) -> str | None:
    return AREAS[index] if 0 <= index < len(AREAS) else None


def dimension_name(index: int) -> str | None:
    return EVALUATION_DIMENSIONS[index] if 0 <= index < len(EVALUATION_DIMENSIONS) else None


def rating_of(index: int) -> Rating | None:
    return RATINGS[index] if 0 <= index < len(RATINGS) else None


async def show(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Replace the pressed message's text and buttons (a step of the same conversation); an identical
    edit (the same button pressed again) is not an error."""
    await query.answer()
    if not isinstance(query.message, Message):
        return
    try:
        await query.message.edit_text(text, reply_markup=markup)
    except TelegramBadRequest as exc:
        if "not modified" not in str(exc):
            raise


async def drop_buttons(query: CallbackQuery, toast: str | None = None) -> None:
    """Answer the press (with ``toast``, if any) and take the buttons off the pressed message, keeping its
    text."""
    await query.answer(toast)
    if not isinstance(query.message, Message) or not query.message.reply_markup:
        return
    try:
        await query.message.edit_reply_markup(reply_markup=None)
    except TelegramBadRequest as exc:
        if "not modified" not in str(exc):
            raise


async def annotate(query: CallbackQuery, text: str) -> None:
    """Answer the press by adding ``text`` under the pressed message and taking its buttons off, so a
    notice keeps what it said (the agency's reply) and shows the outcome; if the message cannot grow
    (Telegram's length limit), the buttons go and ``text`` comes as a new message."""
    await query.answer()
    message = query.message
    if not isinstance(message, Message):
        return
    try:
        await message.edit_text(f"{message.html_text}\n\n{text}", reply_markup=None)
    except TelegramBadRequest:
        if message.reply_markup:
            try:
                await message.edit_reply_markup(reply_markup=None)
            except TelegramBadRequest as exc:
                if "not modified" not in str(exc):
                    raise
        await message.answer(text)


#: How much of a typed answer a settled question shows (the whole answer is kept).
BRIEF_CHARS = 30


def brief(text: str) -> str:
    """A typed answer on one short line, as a settled question shows it."""
    text = " ".join(text.split())
    return text if len(text) <= BRIEF_CHARS else text[:BRIEF_CHARS] + "…"


async def settle(message: Message, asked: list[int], answer: str | None = None) -> None:
    """A question answered by typing (or on another of its messages): the messages that asked it
    (``asked``, in the chat of ``message``) lose their buttons, so none stays live to be pressed in vain;
    the last one shows ``answer``, as a pressed button shows the choice."""
    for message_id in asked:
        text = answer if message_id == asked[-1] else None
        await edit(message.bot, message.chat.id, message_id, text, None)
