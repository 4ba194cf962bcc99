"""Contacts get their own command menu, and every agency update starts by finding who acts.

The menu is a ``BotCommandScopeChat`` for the contact's private chat, set on /bind. A revoke from
the command line cannot reach Telegram, so the next agency update from a revoked contact resets the
menu to the citizens' default before the refusal is shown.
"""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommand, BotCommandScopeChat, User
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.texts import Translator
from storage.models import AgencyContact
from workflow.actors import Actor
from workflow.invites import ContactError, acts_as_oversight, require_contact

log = logging.getLogger(__name__)

AGENCY_COMMANDS = ("inbox", "cancel", "help")
OVERSIGHT_COMMANDS = ("overdue", "pending", "inbox", "cancel", "help")


def contact_commands(contact: AgencyContact) -> tuple[str, ...]:
    return OVERSIGHT_COMMANDS if acts_as_oversight(contact) else AGENCY_COMMANDS


async def set_contact_menu(bot: Bot, contact: AgencyContact, tr: Translator) -> None:
    commands = [
        BotCommand(command=name, description=tr.plain(f"contact.menu.{name}")) for name in contact_commands(contact)
    ]
    await bot.set_my_commands(commands, scope=BotCommandScopeChat(chat_id=contact.telegram_user_id))


async def reset_menu(bot: Bot, chat_id: int) -> None:
    """Back to the default (citizen) menu; a failure only means the old menu stays a while."""
    try:
        await bot.delete_my_commands(scope=BotCommandScopeChat(chat_id=chat_id))
    except TelegramAPIError as exc:
        log.warning("could not reset the command menu of chat %s: %s", chat_id, exc)


async def acting_contact(session: AsyncSession, bot: Bot, user: User | None) -> tuple[AgencyContact, Actor]:
    """The active contact behind this update, looked up afresh every time; a stranger or a revoked
    contact is refused (the refusal is logged and shown by ``handlers.errors``)."""
    if user is None:
        raise ContactError("not_a_contact")
    try:
        contact = await require_contact(session, user.id)
    except ContactError as exc:
        log.info("telegram user %s refused agency access: %s", user.id, exc.code)
        if exc.code == "contact_revoked":
            await reset_menu(bot, user.id)
        raise
    return contact, Actor.contact(contact)
