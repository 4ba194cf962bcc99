"""The citizen's menu: its buttons, shown under the welcome, /help and the hints. Each conversation
answers its own action; ``handlers.common`` answers the rest."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.texts import Translator

#: Menu actions, in the order the buttons are shown; each also has a /command of the same name.
MENU_ACTIONS = ("complain", "evaluate", "my", "help")


class Menu(CallbackData, prefix="menu"):
    action: str


def menu_keyboard(tr: Translator) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for action in MENU_ACTIONS:
        builder.button(text=tr.plain(f"menu.{action}"), callback_data=Menu(action=action))
    builder.adjust(2)
    return builder.as_markup()
