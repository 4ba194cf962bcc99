"""Notices to agency contacts and the oversight office, as Telegram messages.

The text is the catalogue's ``notice.<kind>`` (``handlers.notices``, one text per notice); this adds the
buttons: a new complaint comes with 受理 / 转办, a transfer with 受理 / 退回, a ruling with 受理 for the
agency it names, an extension request with 批准 / 驳回, a dispute with 审定, and every notice about a
complaint with a way to open the card, except those that end the agency's part in it (``ENDS``). The
buttons carry ids only and are checked by ``workflow`` when pressed, so a notice forwarded to the wrong
person opens nothing; a notice that asks a question (an extension request, a transfer) names it, so its
buttons never decide a newer one it did not show. The texts in its params (a 不满意 reason, a basis) come
masked as the recipients may read them (``workflow.notifications``): nothing to mask here. The bot's
outbox transport tries it for every notice (``bot.service.notice_renderers``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.agency_callbacks import Card, CardAction
from handlers.agency_cards import action_label
from handlers.notices import render_notice
from handlers.texts import Translator
from workflow.notifications import Notice

DEFAULT_ZONE = ZoneInfo("Asia/Shanghai")
PREFIXES = ("agency.", "oversight.")

#: The buttons each notice offers, besides 查看 (open the card), which every notice about a complaint has.
ACTIONS: dict[str, tuple[CardAction, ...]] = {
    Notice.NEW_IN_QUEUE: (CardAction.ACCEPT, CardAction.TRANSFER),
    Notice.TRANSFER_IN: (CardAction.ACCEPT, CardAction.DECLINE),
    Notice.RULED: (CardAction.ACCEPT,),  # only to the agency named: the others are done with it
    Notice.EXTENSION_REQUESTED: (CardAction.APPROVE, CardAction.REFUSE),
    Notice.DISPUTE: (CardAction.RULE,),
}
#: Notices that end an agency's part in a complaint: no buttons at all, not even 查看, which would only
#: find that the complaint now belongs to another unit. A ruling to an agency not named is one too.
ENDS = frozenset({Notice.TRANSFER_WITHDRAWN})


def _keyboard(tr: Translator, kind: str, params: dict[str, Any]) -> InlineKeyboardMarkup | None:
    complaint_id = params.get("complaint_id")
    if not isinstance(complaint_id, int) or kind in ENDS or params.get("handles") is False:
        return None
    builder = InlineKeyboardBuilder()
    actions = ACTIONS.get(kind, ())
    question = params.get("question_id")  # the request the notice shows: its buttons decide that one only
    for action in actions:
        builder.button(text=action_label(tr, action), callback_data=Card(id=complaint_id, act=action, q=question))
    show = tr.plain("agency.button.show", tracking_no=params.get("tracking_no") or "")
    builder.button(text=show, callback_data=Card(id=complaint_id, act=CardAction.SHOW))
    builder.adjust(2)
    return builder.as_markup()


def render_agency_notice(
    kind: str,
    params: dict[str, Any],
    tr: Translator,
    zone: ZoneInfo = DEFAULT_ZONE,
    issued_at: datetime | None = None,
) -> tuple[str, InlineKeyboardMarkup | None] | None:
    """Text and buttons for an ``agency.*`` / ``oversight.*`` notice; None for any other kind."""
    if not kind.startswith(PREFIXES):
        return None
    return render_notice(kind, params, tr, zone, issued_at), _keyboard(tr, kind, params)
