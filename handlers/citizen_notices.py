"""Citizen notices (``complaint.*`` kinds of ``workflow.notifications.Notice``) as Telegram messages.

The text is the catalogue's ``notice.<kind>`` (one text per notice, shared with ``handlers.notices``);
this adds the buttons that make a notice actionable: the RESOLVED notice and the rating reminder carry
the three rating buttons (for the round in their params), the others addressed only to the citizen a
button to the complaint's progress. Withdrawals also go to agency contacts under the same kind, so they
get no citizen button.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.citizen_callbacks import RATINGS, RateComplaint, StatusOf
from handlers.notices import render_notice
from handlers.texts import Translator
from workflow.notifications import Notice

Rendered = tuple[str, InlineKeyboardMarkup | None]

#: The service's default time zone (``minsheng.settings``); pass the configured one when it differs.
DEFAULT_ZONE = ZoneInfo("Asia/Shanghai")
CITIZEN_KINDS = frozenset(
    {
        Notice.RECEIPT,
        Notice.TRANSFERRED,
        Notice.TRANSFER_WITHDRAWN_FOR_CITIZEN,
        Notice.TRANSFER_DECLINED_FOR_CITIZEN,
        Notice.RULED_FOR_CITIZEN,
        Notice.ACCEPTED,
        Notice.RESOLVED,
        Notice.RATING_REMINDER,
        Notice.REOPENED,
        Notice.EXTENDED,
        Notice.CLOSED,
        Notice.CLOSED_UNRATED,
        Notice.WITHDRAWN,
    }
)
#: Kinds that reach only the citizen, so a citizen's button is safe on them.
_WITH_PROGRESS = frozenset(
    {
        Notice.RECEIPT,
        Notice.TRANSFERRED,
        Notice.TRANSFER_WITHDRAWN_FOR_CITIZEN,
        Notice.TRANSFER_DECLINED_FOR_CITIZEN,
        Notice.RULED_FOR_CITIZEN,
        Notice.ACCEPTED,
        Notice.REOPENED,
        Notice.EXTENDED,
        Notice.CLOSED,
        Notice.CLOSED_UNRATED,
    }
)
#: Kinds that ask the citizen for a rating.
_WITH_RATING = frozenset({Notice.RESOLVED, Notice.RATING_REMINDER})


def rating_keyboard(complaint_id: int, round: int | None, tr: Translator) -> InlineKeyboardMarkup:
    """The three rating buttons for the reply of ``round`` (None only for a notice queued before rounds
    were carried: such a button rates as the first reply's)."""
    builder = InlineKeyboardBuilder()
    for index in range(len(RATINGS)):
        builder.button(
            text=tr.plain(f"rate.button.{index}"),
            callback_data=RateComplaint(complaint_id=complaint_id, r=index, round=round),
        )
    builder.adjust(3)
    return builder.as_markup()


def progress_keyboard(complaint_id: int, tr: Translator) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=tr.plain("notice.button.progress"), callback_data=StatusOf(complaint_id=complaint_id, page=-1))
    return builder.as_markup()


def render_citizen_notice(
    kind: str,
    params: dict[str, Any],
    tr: Translator,
    zone: ZoneInfo = DEFAULT_ZONE,
    issued_at: datetime | None = None,
) -> Rendered | None:
    """(HTML text, buttons) for a citizen notice; None for kinds that are not the citizen's."""
    if kind not in CITIZEN_KINDS:
        return None
    text = render_notice(kind, params, tr, zone, issued_at)
    complaint_id = params.get("complaint_id")
    if complaint_id is None:
        return text, None
    if kind in _WITH_RATING:
        round = params.get("round")
        return text, rating_keyboard(int(complaint_id), None if round is None else int(round), tr)
    if kind in _WITH_PROGRESS:
        return text, progress_keyboard(int(complaint_id), tr)
    return text, None
