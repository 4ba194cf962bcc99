"""The command menu ("/" in Telegram) in the script of each conversation.

Telegram keys menus by two-letter language codes only ("zh" covers both scripts; "zh-hk" or
"zh-hant" is refused with "invalid language code specified"), so the default menu is Simplified
and a conversation in Traditional gets its own menu for its chat (``BotCommandScopeChat``).
"""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommand, BotCommandScopeChat

from handlers.common import COMMANDS
from handlers.texts import SIMPLIFIED, Translator

log = logging.getLogger(__name__)


def command_menu(tr: Translator) -> list[BotCommand]:
    return [BotCommand(command=name, description=tr.plain(f"command.{name}")) for name in COMMANDS]


async def show_menu_in_script(bot: Bot, chat_id: int, tr: Translator) -> None:
    """The chat's own menu in Traditional, or back to the default one; a failure only costs the menu."""
    scope = BotCommandScopeChat(chat_id=chat_id)
    try:
        if tr.lang == SIMPLIFIED:
            await bot.delete_my_commands(scope=scope)
        else:
            await bot.set_my_commands(command_menu(tr), scope=scope)
    except TelegramAPIError as exc:
        log.warning("command menu for chat %s not changed: %s", chat_id, exc)
