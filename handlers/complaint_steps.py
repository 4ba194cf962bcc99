"""The steps of the complaint conversation (``handlers.complaint``) and how each is asked: the states,
the buttons' callback data, and the remembered questions (``asked``) that lose their buttons once their
step is answered. Every module of the conversation builds on these."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.citizen_callbacks import brief, settle
from handlers.texts import Translator


class Filing(StatesGroup):
    text = State()
    place = State()
    agency = State()
    anonymity = State()
    phone = State()
    confirm = State()


class Step(CallbackData, prefix="cs"):
    flow: str
    action: str  # done | no_place | suggest | fallback | named | anonymous | no_phone | confirm | cancel


class ChooseAgency(CallbackData, prefix="ca"):
    flow: str
    agency: int


class ChooseArea(CallbackData, prefix="cr"):
    """``a`` indexes ``AREAS`` (-1: the list of areas); ``p`` is the page of that area's agencies."""

    flow: str
    a: int = -1
    p: int = 0


def typed_text(message: Message) -> bool:
    """An answer typed by the citizen, not a /command (commands keep working mid-conversation)."""
    return bool(message.text) and not message.text.startswith("/")


def not_command(message: Message) -> bool:
    return not (message.text or "").startswith("/")


#: Steps whose button reads as another's: each 跳过 names its own step, so an old one skips nothing else.
_LABELS = {"no_place": "skip", "no_phone": "skip"}


def step_buttons(tr: Translator, flow: str, *actions: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for action in actions:
        label = tr.plain(f"complaint.button.{_LABELS.get(action, action)}")
        builder.button(text=label, callback_data=Step(flow=flow, action=action))
    builder.adjust(2)
    return builder.as_markup()


def offer_start(parts: list[str]) -> str:
    """The beginning of a text on offer, quoted in its question so the citizen knows which text is meant
    (asked again under the welcome, it is several messages up). Not masked, unlike
    ``nlp.personal_data.excerpt``: it shows citizens their own words, in their own chat."""
    return brief(" ".join(parts))


async def flow_of(state: FSMContext) -> str | None:
    return (await state.get_data()).get("flow")


async def ask(message: Message, state: FSMContext, text: str, markup: InlineKeyboardMarkup) -> None:
    """Ask (or ask again) the current step, in a new message remembered until the step is answered."""
    sent = await message.answer(text, reply_markup=markup)
    await state.update_data(asked=[*(await state.get_data()).get("asked", []), sent.message_id])


async def answered(
    message: Message, state: FSMContext, answer: str | None = None, *, pressed: int | None = None
) -> None:
    """The current step is answered: its questions lose their buttons (but ``pressed``, which the press
    edits itself), a typed ``answer`` shown on the last one."""
    asked = [m for m in (await state.get_data()).get("asked", []) if m != pressed]
    await state.update_data(asked=[])
    if asked:
        await settle(message, asked, answer)
