"""The one place that turns a workflow ``DomainError`` code into the user's language.

Handlers never format an error text of their own: they let the error rise. The session
middleware has rolled the update's transaction back by the time this router answers.
"""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import ErrorEvent

from handlers.texts import Translator, default_texts
from workflow.errors import DomainError

log = logging.getLogger(__name__)


def error_key(error: BaseException, tr: Translator) -> str:
    """The catalogue's ``error.<code>`` for a domain error, a general apology for anything else."""
    code = error.code if isinstance(error, DomainError) else None
    key = f"error.{code}"
    return key if code and tr.has(key) else "error.unknown"


def error_text(error: BaseException, tr: Translator) -> str:
    """The error as a message (HTML); a toast, shown raw, takes ``tr.plain(error_key(...))``."""
    return tr(error_key(error, tr))


def errors_router() -> Router:
    router = Router(name="errors")

    @router.errors()
    async def on_error(event: ErrorEvent, tr: Translator | None = None) -> bool:
        error = event.exception
        if isinstance(error, DomainError):
            log.info("update %s refused: %s", event.update.update_id, error)
        else:
            log.error("update %s failed", event.update.update_id, exc_info=error)
        tr = tr or default_texts()(None)
        text = error_text(error, tr)
        update = event.update
        if update.callback_query is not None:
            try:  # the handler may have answered already, or the press is too old to answer
                await update.callback_query.answer()
            except TelegramAPIError as exc:
                log.info("update %s: the press could not be answered: %s", update.update_id, exc)
            if update.callback_query.message is not None:
                await update.callback_query.message.answer(text)
        elif update.message is not None:
            await update.message.answer(text)
        return True

    return router
