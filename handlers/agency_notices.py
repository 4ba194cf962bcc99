"""Notices to agency contacts and the oversight office, rendered for Telegram.

``render_agency_notice`` turns an outbox row's ``kind`` and ``params`` (see
``workflow.notifications``) into text and buttons in the recipient's language: a new complaint
comes with 受理, a transfer with 受理 / 退回, an extension request with 批准 / 驳回, a dispute with
审定, everything else with a way to open the card. The buttons carry ids only and are checked by
``workflow`` when pressed, so a notice forwarded to the wrong person opens nothing.

The bot's outbox transport calls it for every ``agency.*`` and ``oversight.*`` kind:

    rendered = render_agency_notice(message.kind, message.payload["params"], tr)
    if rendered is not None:
        text, markup = rendered
        await bot.send_message(message.chat_id, text, reply_markup=markup)
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.agency_callbacks import Card, CardAction
from handlers.agency_cards import action_label, local_time
from handlers.texts import Translator, placeholders

DEFAULT_ZONE = ZoneInfo("Asia/Shanghai")
PREFIXES = ("agency.", "oversight.")

#: The buttons each notice offers, besides 查看 (open the card), which every notice about a complaint has.
ACTIONS: dict[str, tuple[CardAction, ...]] = {
    "agency.new_complaint": (CardAction.ACCEPT, CardAction.TRANSFER),
    "agency.transfer_in": (CardAction.ACCEPT, CardAction.DECLINE),
    "oversight.extension_requested": (CardAction.APPROVE, CardAction.REFUSE),
    "oversight.dispute": (CardAction.RULE,),
}


def _shown(value: Any, tr: Translator) -> Any:
    if value is None or value == "" or value == []:
        return tr("agency.none")
    if isinstance(value, list | tuple):
        return "、".join(str(v) for v in value)
    return value


def _keyboard(tr: Translator, kind: str, params: dict[str, Any]) -> InlineKeyboardMarkup | None:
    complaint_id = params.get("complaint_id")
    if not isinstance(complaint_id, int):
        return None
    builder = InlineKeyboardBuilder()
    for action in ACTIONS.get(kind, ()):
        builder.button(text=action_label(tr, action), callback_data=Card(id=complaint_id, act=action))
    show = tr.plain("agency.button.show", tracking_no=params.get("tracking_no") or "")
    builder.button(text=show, callback_data=Card(id=complaint_id, act=CardAction.SHOW))
    builder.adjust(2)
    return builder.as_markup()


def render_agency_notice(
    kind: str, params: dict[str, Any], tr: Translator, zone: ZoneInfo = DEFAULT_ZONE
) -> tuple[str, InlineKeyboardMarkup | None] | None:
    """Text and buttons for an ``agency.*`` / ``oversight.*`` notice; None for any other kind (or
    one this catalogue does not know), so the caller can fall back to its own rendering."""
    if not kind.startswith(PREFIXES):
        return None
    key = f"{kind.split('.', 1)[0]}.notice.{kind.split('.', 1)[1]}"
    if kind == "agency.transfer_declined" and params.get("disputed"):
        key += "_disputed"  # the last permitted decline: the complaint went to oversight, not back
    if not tr.has(key):
        return None
    values = {name: _shown(value, tr) for name, value in params.items()}
    values["acknowledge_due"] = local_time(tr, params.get("acknowledge_due"), zone)
    values["resolve_due"] = local_time(tr, params.get("resolve_due"), zone)
    values["major"] = tr("agency.major") if params.get("major") else ""
    values["anonymous"] = tr("agency.notice.anonymous") if params.get("anonymous") else ""
    if params.get("clock"):
        values["clock"] = tr(f"agency.clock.{params['clock']}")
    for name in placeholders(tr(key)) - values.keys():
        values[name] = tr("agency.none")
    return tr(key, **values), _keyboard(tr, kind, params)
