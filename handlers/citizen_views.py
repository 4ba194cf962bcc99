"""How the citizen's complaints read in the chat: the /my list, the /status view with its timeline, and
the answers to a rating. Plain functions from workflow data to (HTML text, buttons)."""

from __future__ import annotations

from datetime import datetime

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.citizen_callbacks import MyPage, RateStep, StatusOf, Withdraw
from handlers.citizen_notices import rating_keyboard
from handlers.texts import Translator
from storage.models import OPEN_STATUSES, Complaint, ComplaintStatus, EventAction
from storage.vocabulary import Rating
from workflow.citizen_view import CitizenComplaint, TimelineEntry
from workflow.deadlines import Deadlines
from workflow.ratings import current_round
from workflow.timers import ACKNOWLEDGE_STATUSES, rating_window_end

PER_PAGE = 5
SUMMARY_CHARS = 30


def _when(moment: datetime, deadlines: Deadlines) -> str:
    local = moment.astimezone(deadlines.zone)
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def due_lines(complaint: Complaint, tr: Translator, deadlines: Deadlines, now: datetime) -> list[str]:
    """The deadlines the citizen was promised and that still run, in plain words: both of the receipt's
    until the complaint is signed for (受理), then the resolve one; a passed one is said to be overdue."""
    status = ComplaintStatus(complaint.status)
    if status == ComplaintStatus.RESOLVED:
        window_end = rating_window_end(complaint, deadlines)
        due_text = deadlines.describe(window_end, now=now) if window_end else None
        return [tr("my.due.rate", due=due_text or tr.plain("agency.none"))]
    if status in ACKNOWLEDGE_STATUSES:
        clocks = [("my.due.acknowledge", complaint.acknowledge_due_at), ("my.due.resolve", complaint.resolve_due_at)]
    elif status == ComplaintStatus.ACCEPTED:
        clocks = [("my.due.resolve", complaint.resolve_due_at)]
    else:
        return []
    lines = []
    for key, due in clocks:
        if due is None:
            continue
        if due <= now:
            lines.append(tr(f"{key}_overdue", due=deadlines.describe_moment(due, now=now)))
        else:
            lines.append(tr(key, due=deadlines.describe(due, now=now)))
    return lines


def _summary(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


def list_view(
    complaints: list[Complaint], page: int, more: bool, tr: Translator, deadlines: Deadlines, now: datetime
) -> tuple[str, InlineKeyboardMarkup | None]:
    if not complaints and page == 0:
        return tr("my.empty"), None
    lines = [tr("my.title", page=page + 1)]
    builder = InlineKeyboardBuilder()
    for number, complaint in enumerate(complaints, start=page * PER_PAGE + 1):
        lines.append(
            tr(
                "my.item",
                number=number,
                tracking_no=complaint.tracking_no,
                status=tr.plain(f"status.word.{complaint.status}"),
                summary=_summary(complaint.text, SUMMARY_CHARS),
            )
            + "".join(f"\n{line}" for line in due_lines(complaint, tr, deadlines, now))
        )
        builder.button(
            text=tr.plain("my.button.view", tracking_no=complaint.tracking_no),
            callback_data=StatusOf(complaint_id=complaint.id, page=page),
        )
    builder.adjust(1)
    pager = InlineKeyboardBuilder()
    if page > 0:
        pager.button(text=tr.plain("my.button.prev"), callback_data=MyPage(page=page - 1))
    if more:
        pager.button(text=tr.plain("my.button.next"), callback_data=MyPage(page=page + 1))
    builder.attach(pager)
    return "\n\n".join(lines), builder.as_markup()


def _event_text(entry: TimelineEntry, tr: Translator) -> str:
    params = {
        "agency": entry.agency or "",
        "from_agency": entry.from_agency or "",
        "rating": entry.data.get("rating", ""),
        "days": entry.data.get("days", ""),
    }
    key = f"status.event.{entry.action}"
    if entry.action == EventAction.CLOSED and entry.data.get("unrated"):
        key += "_unrated"
    if entry.reason:
        params["reason"] = entry.reason
        key += "_with_reason"
    return tr(key, **params)


def status_view(
    view: CitizenComplaint, back_page: int, tr: Translator, deadlines: Deadlines, now: datetime
) -> tuple[str, InlineKeyboardMarkup]:
    complaint = view.complaint
    agency = complaint.owner_agency.name if complaint.owner_agency else "—"
    header = tr(
        "status.header",
        tracking_no=complaint.tracking_no,
        status=tr.plain(f"status.word.{complaint.status}"),
        agency=agency,
    )
    parts = ["\n".join([header, *due_lines(complaint, tr, deadlines, now)])]
    parts.append(tr("status.summary", text=_summary(complaint.text, 200)))
    if complaint.reply_text:
        parts.append(tr("status.reply", agency=agency, reply=_summary(complaint.reply_text, 1500)))
    events = [tr("status.event.line", at=_when(e.at, deadlines), what=_event_text(e, tr)) for e in view.timeline]
    parts.append(tr("status.timeline") + "\n" + "\n".join(events))

    builder = InlineKeyboardBuilder()
    if complaint.status == ComplaintStatus.RESOLVED:
        keyboard = rating_keyboard(complaint.id, current_round(complaint), tr)
        builder.attach(InlineKeyboardBuilder.from_markup(keyboard))
    if complaint.status in OPEN_STATUSES:
        builder.row().button(
            text=tr.plain("status.button.withdraw"), callback_data=Withdraw(complaint_id=complaint.id, action="ask")
        )
    builder.row().button(text=tr.plain("status.button.back"), callback_data=MyPage(page=max(back_page, 0)))
    return "\n\n".join(parts), builder.as_markup()


def rated_text(complaint: Complaint, rating: Rating, tr: Translator) -> str:
    if complaint.status == ComplaintStatus.ACCEPTED:  # 重办: the REOPENED notice brings the new deadline
        return tr("rate.reopened", tracking_no=complaint.tracking_no)
    key = "rate.closed_dissatisfied" if rating == Rating.DISSATISFIED else "rate.thanks"
    return tr(key, tracking_no=complaint.tracking_no, rating=rating.value)


def reason_keyboard(complaint_id: int, tr: Translator) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=tr.plain("rate.button.skip"), callback_data=RateStep(complaint_id=complaint_id, action="skip"))
    builder.button(text=tr.plain("rate.button.back"), callback_data=RateStep(complaint_id=complaint_id, action="back"))
    return builder.as_markup()


def withdraw_keyboard(complaint_id: int, tr: Translator) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=tr.plain("status.button.withdraw_confirm"),
        callback_data=Withdraw(complaint_id=complaint_id, action="confirm"),
    )
    builder.button(
        text=tr.plain("status.button.withdraw_back"), callback_data=Withdraw(complaint_id=complaint_id, action="back")
    )
    return builder.as_markup()
