"""The one place that turns a workflow ``DomainError`` code into the user's language.

Handlers never format an error text of their own: they let the error rise. The session
middleware has rolled the update's transaction back by the time this router answers.
"""

from __future__ import annotations

import logging
from typing import Any

from aiogram import Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import ErrorEvent

from handlers.texts import Translator, default_texts
from storage.models import ComplaintStatus
from workflow.errors import DomainError

log = logging.getLogger(__name__)


def error_key(error: BaseException, tr: Translator) -> str:
    """The catalogue's ``error.<code>`` for a domain error, a general apology for anything else."""
    code = error.code if isinstance(error, DomainError) else None
    key = f"error.{code}"
    return key if code and tr.has(key) else "error.unknown"


def error_text(error: BaseException, tr: Translator) -> str:
    """The error as a message (HTML); a toast, shown raw, takes ``tr.plain(error_key(...))``. A
    ``bad_state`` that says where the complaint stands (``workflow.guards.standing``) says it in words."""
    if isinstance(error, DomainError) and error.code == "bad_state" and "owner" in error.params:
        return standing_text(error.params, tr)
    return tr(error_key(error, tr))


def standing_text(params: dict[str, Any], tr: Translator) -> str:
    """ "这件投诉已经效能办审定由…办理，不能再审定。": the complaint's state now, and what cannot be done."""
    status = str(params.get("status"))
    which = "ruled" if params.get("ruled") and status == ComplaintStatus.ASSIGNED else status
    if not tr.has(f"error.standing.{which}"):
        return tr("error.bad_state")
    none = tr("agency.none")
    standing = tr(f"error.standing.{which}", owner=params.get("owner") or none, receiver=params.get("receiver") or none)
    action = f"error.action.{params.get('action')}"
    if tr.has(action):
        return tr("error.bad_state.standing", standing=standing, action=tr(action))
    return tr("error.bad_state.standing_any", standing=standing)


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
