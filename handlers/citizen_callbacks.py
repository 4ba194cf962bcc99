"""Typed callback data for the citizen's buttons: ids and small indexes only (64-byte limit; a Chinese
character is 3 bytes). Areas, ratings and dimensions travel as their index in ``storage.vocabulary``.

The /evaluate buttons carry ``c``, the conversation's nonce kept in the FSM data: a button from an
older or finished conversation no longer matches and is answered as stale without acting.
"""

from __future__ import annotations

from aiogram.exceptions import TelegramBadRequest
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

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
    """Navigation: search | back | skip_scores | skip_comment | confirm | cancel."""

    c: int
    action: str


# --- follow-up and rating ------------------------------------------------------------------------


class MyPage(CallbackData, prefix="myp"):
    page: int


class StatusOf(CallbackData, prefix="sto"):
    complaint_id: int
    page: int = 0  # the /my page to go back to


class RateComplaint(CallbackData, prefix="rat"):
    """A rating button under a RESOLVED notice; ``r`` indexes ``RATINGS``."""

    complaint_id: int
    r: int


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


async def drop_buttons(query: CallbackQuery) -> None:
    """Answer the press and take the buttons off the pressed message, keeping its text."""
    await query.answer()
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
