"""Citizen notices (``complaint.*`` kinds of ``workflow.notifications.Notice``) as Telegram messages.

The outbox stores what happened (kind and plain params); this renders it in the citizen's language at
send time. The RESOLVED notice carries the agency's reply and the three rating buttons; the others a
button to the complaint's progress.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.citizen_callbacks import RATINGS, RateComplaint, StatusOf
from handlers.texts import Translator
from workflow.notifications import Notice

Rendered = tuple[str, InlineKeyboardMarkup | None]


def rating_keyboard(complaint_id: int, tr: Translator) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for index in range(len(RATINGS)):
        builder.button(
            text=tr.plain(f"rate.button.{index}"),
            callback_data=RateComplaint(complaint_id=complaint_id, r=index),
        )
    builder.adjust(3)
    return builder.as_markup()


def progress_keyboard(complaint_id: int, tr: Translator) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=tr.plain("notice.button.progress"), callback_data=StatusOf(complaint_id=complaint_id))
    return builder.as_markup()


def _receipt(p: dict[str, Any], tr: Translator) -> str:
    return tr(
        "notice.receipt",
        tracking_no=p["tracking_no"],
        agency=p.get("agency_name") or "",
        acknowledge_due=p.get("acknowledge_due_text") or "",
        resolve_due=p.get("resolve_due_text") or "",
    )


def _transferred(p: dict[str, Any], tr: Translator) -> str:
    return tr(
        "notice.transferred",
        tracking_no=p["tracking_no"],
        from_agency=p.get("from_agency") or "",
        to_agency=p.get("to_agency") or "",
    )


def _accepted(p: dict[str, Any], tr: Translator) -> str:
    key = "notice.accepted" if p.get("resolve_due_text") else "notice.accepted_no_due"
    return tr(
        key, tracking_no=p["tracking_no"], agency=p.get("agency_name") or "", resolve_due=p.get("resolve_due_text")
    )


def _resolved(p: dict[str, Any], tr: Translator) -> str:
    return tr(
        "notice.resolved", tracking_no=p["tracking_no"], agency=p.get("agency_name") or "", reply=p.get("reply") or ""
    )


def _reopened(p: dict[str, Any], tr: Translator) -> str:
    key = "notice.reopened" if p.get("resolve_due_text") else "notice.reopened_no_due"
    return tr(key, tracking_no=p["tracking_no"], resolve_due=p.get("resolve_due_text"))


def _extension(p: dict[str, Any], tr: Translator) -> str:
    key = "notice.extension_approved" if p.get("approved") else "notice.extension_refused"
    return tr(key, tracking_no=p["tracking_no"], days=p.get("days") or 0, resolve_due=p.get("resolve_due_text") or "")


def _simple(key: str) -> Callable[[dict[str, Any], Translator], str]:
    return lambda p, tr: tr(key, tracking_no=p["tracking_no"])


_RENDERERS: dict[str, Callable[[dict[str, Any], Translator], str]] = {
    Notice.RECEIPT: _receipt,
    Notice.TRANSFERRED: _transferred,
    Notice.ACCEPTED: _accepted,
    Notice.RESOLVED: _resolved,
    Notice.REOPENED: _reopened,
    Notice.EXTENSION_DECIDED: _extension,
    Notice.CLOSED: _simple("notice.closed"),
    Notice.WITHDRAWN: _simple("notice.withdrawn"),
}


def render_citizen_notice(kind: str, params: dict[str, Any], tr: Translator) -> Rendered | None:
    """(HTML text, buttons) for a citizen notice; None for kinds that are not the citizen's."""
    render = _RENDERERS.get(kind)
    if render is None:
        return None
    text = render(params, tr)
    complaint_id = params.get("complaint_id")
    if complaint_id is None:
        return text, None
    if kind == Notice.RESOLVED:
        return text, rating_keyboard(int(complaint_id), tr)
    if kind == Notice.WITHDRAWN:
        return text, None
    return text, progress_keyboard(int(complaint_id), tr)
