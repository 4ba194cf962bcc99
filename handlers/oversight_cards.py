"""Rendering for the oversight office: decision messages, both sides of a dispute, the outcome line a
decided message keeps, the /overdue page and the ruling picker. Pure functions of what ``workflow``
returned; no database here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.agency_callbacks import Card, CardAction, OverdueAct, OverduePage
from handlers.agency_cards import (
    PAGE_SIZE,
    action_label,
    agency_picker,
    deadline_lines,
    local_time,
    nav_row,
    pages,
    status_name,
)
from handlers.texts import Rendered, Translator
from storage.models import Agency, Complaint, ComplaintStatus
from workflow.deadlines import Deadlines
from workflow.decisions import DeclinedTransfer, Outcome
from workflow.queues import PendingDecision, QueueItem


def by_words(tr: Translator, name: str | None, at: datetime, zone: ZoneInfo) -> Rendered:
    """ "李督查，11月23日（周一）16:00", or the moment alone when no person is known."""
    when = local_time(tr, at, zone)
    return tr("oversight.by", name=name, at=when) if name else when


def dispute_words(tr: Translator, rounds: Sequence[DeclinedTransfer], zone: ZoneInfo) -> Rendered:
    """Both sides of every declined transfer: the sender's reason and the receiver's basis."""
    none = tr("agency.none")
    return Rendered(
        "\n".join(
            tr(
                "oversight.dispute.round",
                n=n,
                from_agency=one.sent.agency or none,
                sent_by=by_words(tr, one.sent.by, one.sent.at, zone),
                to_agency=one.to_agency or none,
                reason=one.sent.reason or none,
                declined_by=by_words(tr, one.declined.by, one.declined.at, zone),
                basis=one.declined.reason or none,
            )
            for n, one in enumerate(rounds, start=1)
        )
        or none
    )


def outcome_line(tr: Translator, outcome: Outcome, zone: ZoneInfo) -> Rendered:
    """What became of a decision message's question, and who answered it, in one line."""
    key = f"oversight.outcome.{outcome.action}"
    if not tr.has(key):
        key = "oversight.outcome.other"
    return tr(key, agency=outcome.agency or tr("agency.none"), by=by_words(tr, outcome.by, outcome.at, zone))


def settled(
    tr: Translator, html: str, outcome: Outcome, zone: ZoneInfo, complaint_id: int, tracking_no: str
) -> tuple[str, InlineKeyboardMarkup] | None:
    """A decision message once its question is decided, wherever it was asked (the decider's message, a
    colleague's copy): its text with the outcome below, and only 查看. None when it shows it already."""
    line = outcome_line(tr, outcome, zone)
    if line in html:  # a double tap, or a copy settled before
        return None
    return f"{html}\n\n{line}", show_keyboard(tr, complaint_id, tracking_no)


def show_keyboard(tr: Translator, complaint_id: int, tracking_no: str) -> InlineKeyboardMarkup:
    """What a decided message keeps: the way to the card as it is now."""
    button = InlineKeyboardButton(
        text=tr.plain("agency.button.show", tracking_no=tracking_no),
        callback_data=Card(id=complaint_id, act=CardAction.SHOW).pack(),
    )
    return InlineKeyboardMarkup(inline_keyboard=[[button]])


def decision_message(
    tr: Translator, decision: PendingDecision, deadlines: Deadlines, rounds: Sequence[DeclinedTransfer] = ()
) -> tuple[str, InlineKeyboardMarkup]:
    builder = InlineKeyboardBuilder()
    agency = decision.owner_agency or tr("agency.none")
    if decision.kind == "extension":
        text = tr(
            "oversight.pending.extension",
            tracking_no=decision.tracking_no,
            agency=agency,
            days=decision.days,
            reason=decision.reason or tr("agency.none"),
            due=local_time(tr, decision.resolve_due_at, deadlines.zone),
        )
        actions = (CardAction.APPROVE, CardAction.REFUSE, CardAction.SHOW)
    else:
        rounds_text = dispute_words(tr, rounds, deadlines.zone)
        text = tr("oversight.pending.dispute", tracking_no=decision.tracking_no, agency=agency, rounds=rounds_text)
        actions = (CardAction.RULE, CardAction.SHOW)
    for action in actions:
        label = (
            tr.plain("agency.button.show", tracking_no=decision.tracking_no)
            if action == CardAction.SHOW
            else action_label(tr, action)
        )
        question = decision.question_id if action != CardAction.SHOW else None
        builder.button(text=label, callback_data=Card(id=decision.complaint_id, act=action, q=question))
    builder.adjust(2)
    return text, builder.as_markup()


def rule_picker(
    tr: Translator,
    key: str,
    complaint: Complaint,
    agencies: Sequence[Agency],
    page: int,
    rounds: Sequence[DeclinedTransfer],
    zone: ZoneInfo,
    *,
    decliners: Sequence[int] = (),
    sides: bool = True,
) -> tuple[str, InlineKeyboardMarkup]:
    """The transfer picker, for a ruling: the parties of the dispute (the owner, then who declined)
    first and marked, and both sides of it above the question (``sides``: not again under a search)."""
    parties = list(dict.fromkeys(i for i in (complaint.owner_agency_id, *decliners) if i is not None))
    marks = {i: tr.plain("oversight.rule.declined_mark") for i in decliners}
    if complaint.owner_agency_id is not None:
        marks[complaint.owner_agency_id] = tr.plain("oversight.rule.owner_mark")
    ordered = sorted(agencies, key=lambda a: parties.index(a.id) if a.id in parties else len(parties))
    question, markup = agency_picker(tr, key, complaint, ordered, page, rule=True, marks=marks)
    if not sides:
        return question, markup
    header = tr("oversight.dispute.header", tracking_no=complaint.tracking_no, rounds=dispute_words(tr, rounds, zone))
    return f"{header}\n\n{question}", markup


def overdue_actions(item: QueueItem) -> list[CardAction]:
    """What the office can do about an overdue complaint from the list; ``workflow`` still decides."""
    actions = [CardAction.UNMAJOR if item.major else CardAction.MAJOR]
    if item.status == ComplaintStatus.DISPUTED:
        actions.append(CardAction.RULE)
    return actions


def overdue_page(
    tr: Translator,
    items: Sequence[QueueItem],
    excerpts: dict[int, str],
    total: int,
    page: int,
    deadlines: Deadlines,
    now: datetime,
    resolve_dues: dict[int, datetime | None] | None = None,
) -> tuple[str, InlineKeyboardMarkup]:
    """One page of the overdue list (``items`` are that page's): for each complaint what the office needs
    to act on it, and the actions it can take there."""
    total_pages = pages(total, PAGE_SIZE)
    lines = [tr("oversight.overdue.header", page=page, pages=total_pages, total=total)]
    builder = InlineKeyboardBuilder()
    for n, item in enumerate(items, start=(page - 1) * PAGE_SIZE + 1):
        resolve_due = (resolve_dues or {}).get(item.id)
        lines.append(
            tr(
                "oversight.overdue.item",
                n=n,
                tracking_no=item.tracking_no,
                major=tr("agency.major") if item.major else "",
                status=status_name(tr, item.status),
                agency=item.owner_agency or tr("agency.none"),
                deadlines=deadline_lines(tr, "oversight.overdue.due", item, resolve_due, deadlines, now),
                text=excerpts.get(item.id) or tr("agency.none"),
            )
        )
        row = [
            InlineKeyboardButton(
                text=tr.plain("agency.button.show", tracking_no=item.tracking_no),
                callback_data=Card(id=item.id, act=CardAction.SHOW).pack(),
            )
        ]
        row += [
            InlineKeyboardButton(
                text=tr.plain(f"oversight.overdue.button.{action.value}", n=n),
                callback_data=OverdueAct(id=item.id, act=action, page=page).pack(),
            )
            for action in overdue_actions(item)
        ]
        builder.row(*row)
    if row := nav_row(tr, page, total_pages, OverduePage):
        builder.row(*row)
    return "\n\n".join(lines), builder.as_markup()
