"""Rendering for agency contacts and oversight: complaint cards, queue pages, the agency picker,
remaining working time in words. Pure functions of what ``workflow`` returned; no database here.

Buttons are offered by what the presser could plausibly do; whether they may is decided by
``workflow`` when the button is pressed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.agency_callbacks import Card, CardAction, InboxPage, PickAgency
from handlers.texts import Rendered, Translator
from nlp.personal_data import redact
from storage.models import Agency, Citizen, Complaint, ComplaintStatus
from workflow.actors import Actor
from workflow.calendar import weekday_name
from workflow.card_history import CardHistory
from workflow.deadlines import Deadlines
from workflow.extensions import before_resolve_deadline
from workflow.guards import is_ruled
from workflow.privacy import CitizenView, shown
from workflow.queues import InboxFilter, QueueItem
from workflow.timers import ACKNOWLEDGE_STATUSES

PAGE_SIZE = 5
PICKER_PAGE_SIZE = 8
S = ComplaintStatus
#: Builds the callback data of a page button from ``page=``.
PageMaker = Callable[..., CallbackData]


def pages(total: int, size: int) -> int:
    return max(1, -(-total // size))


def duration_words(tr: Translator, amount: timedelta, day_length: timedelta) -> Rendered:
    """Working time as "1个工作日3个工作小时", or "3个工作小时54分钟" within a day (minutes matter then):
    working hours, not the clock's, like the working days."""
    amount = abs(amount)
    days, rest = divmod(amount, day_length) if day_length else (0, amount)
    hours, rest = divmod(rest, timedelta(hours=1))
    minutes = rest // timedelta(minutes=1)
    parts = []
    if days:
        parts.append(tr("agency.duration.days", n=days))
    if hours:
        parts.append(tr("agency.duration.hours", n=hours))
    if minutes and not days:
        parts.append(tr("agency.duration.minutes", n=minutes))
    return Rendered("".join(parts)) or tr("agency.duration.moment")


def remaining_words(tr: Translator, item: QueueItem, deadlines: Deadlines) -> str:
    """ "剩余 1个工作日3个工作小时" or "已超时 2个工作小时", in working time; nothing counted once the
    clock stopped (a reply, a close, a withdrawal), which "已超时" ever growing would belie."""
    if item.due_at is None:
        return tr("agency.remaining.none")
    if item.state == "stopped":
        return tr("agency.remaining.stopped")
    return left_words(tr, item.remaining, item.state == "overdue", deadlines)


def left_words(tr: Translator, remaining: timedelta, overdue: bool, deadlines: Deadlines) -> str:
    amount = duration_words(tr, remaining, deadlines.day_length)
    return tr("agency.remaining.over" if overdue else "agency.remaining.left", amount=amount)


def deadline_lines(
    tr: Translator, key: str, item: QueueItem, resolve_due: datetime | None, deadlines: Deadlines, now: datetime
) -> Rendered:
    """The running deadline, as ``key`` ("{clock}期限：{due}…"); before 受理 the resolve deadline too (the
    one on the citizen's receipt, watched as well), so neither is a surprise."""
    acknowledging = item.status in ACKNOWLEDGE_STATUSES
    clock = "acknowledge" if acknowledging else "resolve"
    lines = [
        tr(
            key,
            clock=tr(f"agency.clock.{clock}"),
            due=local_time(tr, item.due_at, deadlines.zone),
            remaining=remaining_words(tr, item, deadlines),
        )
    ]
    if acknowledging and resolve_due is not None:
        overdue = now >= resolve_due
        lines.append(
            tr(
                key,
                clock=tr("agency.clock.resolve"),
                due=local_time(tr, resolve_due, deadlines.zone),
                remaining=left_words(tr, deadlines.remaining(now, resolve_due), overdue, deadlines),
            )
        )
    return Rendered("\n".join(lines))


def local_time(tr: Translator, moment: datetime | str | None, zone: ZoneInfo, now: datetime | None = None) -> str:
    """A UTC moment (or its ISO text) as local "11月27日（周五）17:30", like the citizen's receipt; with
    ``now`` in another year, the year too ("2027年1月4日（周一）17:30")."""
    if moment is None:
        return tr("agency.none")
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    local = moment.astimezone(zone)
    year = f"{local.year}年" if now is not None and now.astimezone(zone).year != local.year else ""
    return tr(
        "agency.time",
        year=year,
        month=local.month,
        day=local.day,
        weekday=weekday_name(local.date()),  # with its 周: OpenCC reads 周四 as 週四, not a lone 周
        hm=f"{local:%H:%M}",
    )


def status_name(tr: Translator, status: str) -> str:
    key = f"agency.status.{status}"
    return tr(key) if tr.has(key) else status


def evidence_words(tr: Translator, complaint: Complaint) -> Rendered:
    """The tagger's matched words per problem type: "事难办：跑了好几趟", masked for every reader like any
    excerpt (``nlp.personal_data.excerpt``): a matched phrase could hold a number, and lists are read at a
    glance. Each part is rendered (its words escaped), so the joined whole stays ``Rendered``: a message
    it goes into must not escape it again."""
    parts = []
    for problem in complaint.problems:
        words = list(dict.fromkeys(redact(str(e.get("word", ""))) for e in problem.evidence if e.get("word")))
        if words:
            parts.append(tr("agency.evidence", problem=problem.problem_type, words="、".join(words)))
    return Rendered("；".join(parts)) or tr("agency.none")


def problems_words(tr: Translator, problem_types: Sequence[str]) -> str:
    return "、".join(problem_types) or tr("agency.card.no_problems")


def citizen_words(tr: Translator, complaint: Complaint, citizen: Citizen | None) -> str:
    """Never the citizen (nor their phone) when they chose anonymity."""
    if complaint.anonymous:
        return tr("agency.card.anonymous")
    name = (citizen.display_name if citizen else "") or tr("agency.card.unnamed")
    if complaint.contact_phone:
        return tr("agency.card.citizen_phone", name=name, phone=complaint.contact_phone)
    return tr("agency.card.citizen", name=name)


def card_text(
    tr: Translator,
    complaint: Complaint,
    item: QueueItem,
    citizen: Citizen | None,
    deadlines: Deadlines,
    *,
    history: CardHistory | None = None,
    view: CitizenView = CitizenView.FULL,
    unmasked: bool = False,
    extension_pending: bool = False,
    viewer_agency_id: int | None = None,
    now: datetime,
) -> str:
    """The card as ``workflow.privacy`` allows: ``view`` says which parts (a receiver's has the words and
    no citizen or place, a former owner's summary no words at all), ``unmasked`` whether its texts (the
    words, the transfer and 不满意 reasons) and the citizen's name and phone show as written."""
    history = history or CardHistory()
    full = view is CitizenView.FULL
    unmasked = unmasked and full
    history = replace(
        history,
        transfer_reason=shown(history.transfer_reason, unmasked),
        reopen_reason=shown(history.reopen_reason, unmasked),
    )
    extras = []  # plain text: escaped once, with the card
    if history.transfer_reason and view is not CitizenView.SUMMARY:
        extras.append(transfer_line(tr, complaint, history, viewer_agency_id))
    if history.accepted_by:
        extras.append(tr.plain("agency.card.accepted_by", name=history.accepted_by))
    if history.resolved_by:
        extras.append(tr.plain("agency.card.resolved_by", name=history.resolved_by))
    if history.reopened and complaint.status == S.ACCEPTED and full:
        extras.append(tr.plain("agency.card.reopened", reason=history.reopen_reason or tr("agency.none")))
    if extension_pending:
        extras.append(tr.plain("agency.card.extension_pending"))
    values = {
        "tracking_no": complaint.tracking_no,
        "major": tr.plain("agency.major") if complaint.major else "",
        "status": status_name(tr, complaint.status),
        "filed": local_time(tr, complaint.created_at, deadlines.zone),
        "first_contact": item.first_contact_agency or tr("agency.none"),
        "owner": item.owner_agency or tr("agency.none"),
        "extra": "".join("\n" + line for line in extras),
        "problems": problems_words(tr, item.problem_types),
        "deadlines": deadline_lines(tr, "agency.card.due", item, complaint.resolve_due_at, deadlines, now),
    }
    if view is CitizenView.SUMMARY:
        return tr("agency.card.summary", **values)
    withheld = tr("agency.card.withheld")
    if complaint.anonymous:
        who = tr("agency.card.anonymous")
    else:
        who = citizen_words(tr, complaint, citizen) if unmasked else withheld
    return tr(
        "agency.card",
        **values,
        evidence=evidence_words(tr, complaint),
        place=(complaint.location_text or tr("agency.none")) if full else withheld,
        citizen=who,
        text=shown(complaint.text, unmasked),
    )


def transfer_line(tr: Translator, complaint: Complaint, history: CardHistory, viewer_agency_id: int | None) -> str:
    """The standing transfer as the viewer sees it: the sender's 转出 while it waits, the receiver's
    转来, and for anyone else (oversight) both ends."""
    none = tr.plain("agency.none")
    reason = history.transfer_reason or none
    pending = complaint.status == S.TRANSFERRING
    if viewer_agency_id is not None and viewer_agency_id == history.transfer_from_id and pending:
        return tr.plain("agency.card.transfer_out", agency=history.transfer_to or none, reason=reason)
    if viewer_agency_id is not None and viewer_agency_id == history.transfer_to_id:
        return tr.plain("agency.card.transfer_in", agency=history.transfer_from or none, reason=reason)
    return tr.plain(
        "agency.card.transfer_between",
        from_agency=history.transfer_from or none,
        to_agency=history.transfer_to or none,
        reason=reason,
    )


def card_actions(
    complaint: Complaint,
    actor: Actor,
    oversight: bool,
    *,
    now: datetime,
    full: bool = True,
    extension_pending: bool = False,
) -> list[CardAction]:
    """What the card offers this presser; ``workflow`` still decides when one is pressed. 申请延期 only
    while ``workflow`` would take the request (before the resolve deadline, none pending)."""
    mine = actor.agency_id is not None and actor.agency_id == complaint.owner_agency_id
    receiving = actor.agency_id is not None and actor.agency_id == complaint.transfer_to_agency_id
    actions: list[CardAction] = []
    status = complaint.status
    if status == S.ASSIGNED and mine:
        actions.append(CardAction.ACCEPT)
        if not is_ruled(complaint):
            actions.append(CardAction.TRANSFER)
    elif status == S.TRANSFERRING and receiving:
        actions += [CardAction.ACCEPT, CardAction.DECLINE]
    elif status == S.TRANSFERRING and mine:
        actions.append(CardAction.RECALL)
    elif status == S.ACCEPTED and mine:
        if not extension_pending and before_resolve_deadline(complaint, now):
            actions.append(CardAction.EXTEND)
        actions.append(CardAction.RESOLVE)
    if oversight:
        if status == S.DISPUTED:
            actions.append(CardAction.RULE)
        if complaint.major:
            actions.append(CardAction.UNMAJOR)
        elif status not in (S.CLOSED, S.WITHDRAWN):
            actions.append(CardAction.MAJOR)
    if complaint.attachments and full:
        actions.append(CardAction.FILES)
    return actions


def action_label(tr: Translator, action: CardAction, files: int = 0) -> str:
    prefix = "oversight" if action in _OVERSIGHT_ACTIONS else "agency"
    return tr.plain(f"{prefix}.button.{action.value}", count=files)


_OVERSIGHT_ACTIONS = {CardAction.APPROVE, CardAction.REFUSE, CardAction.RULE, CardAction.MAJOR, CardAction.UNMAJOR}


def card_keyboard(
    tr: Translator, complaint_id: int, actions: Sequence[CardAction], files: int = 0, transfer: int | None = None
) -> InlineKeyboardMarkup | None:
    """``transfer``: the request event of the transfer the card shows, which its 受理 / 退回 answer."""
    if not actions:
        return None
    builder = InlineKeyboardBuilder()
    for action in actions:
        question = transfer if action in (CardAction.ACCEPT, CardAction.DECLINE) else None
        builder.button(
            text=action_label(tr, action, files), callback_data=Card(id=complaint_id, act=action, q=question)
        )
    builder.adjust(2)
    return builder.as_markup()


def back_keyboard(tr: Translator, complaint_id: int) -> InlineKeyboardMarkup:
    """Every step of a multi-step action has a way back to the card (and /cancel)."""
    button = InlineKeyboardButton(
        text=tr.plain("agency.button.back"), callback_data=Card(id=complaint_id, act=CardAction.SHOW).pack()
    )
    return InlineKeyboardMarkup(inline_keyboard=[[button]])


def nav_row(
    tr: Translator, page: int, total_pages: int, make: Callable[..., CallbackData]
) -> list[InlineKeyboardButton]:
    """◀ ▶ with the page numbers they lead to; ``make(page=…)`` builds the callback data."""
    targets = [("agency.button.prev", page - 1)] if page > 1 else []
    targets += [("agency.button.next", page + 1)] if page < total_pages else []
    return [
        InlineKeyboardButton(text=tr.plain(key, page=target), callback_data=make(page=target).pack())
        for key, target in targets
    ]


def inbox_filters(tr: Translator, shown: InboxFilter, counts: dict[InboxFilter, int]) -> list[InlineKeyboardButton]:
    """A button per filter with its count, the one shown marked; each opens its first page."""
    buttons = []
    for choice in InboxFilter:
        name = tr.plain(f"agency.inbox.filter.{choice}")
        label = tr.plain("agency.inbox.filter_button", name=name, count=counts[choice])
        if choice is shown:
            label = tr.plain("agency.inbox.filter_shown", label=label)
        buttons.append(InlineKeyboardButton(text=label, callback_data=InboxPage(page=1, f=choice).pack()))
    return buttons


def queue_page(
    tr: Translator,
    header: Rendered,
    items: Sequence[QueueItem],
    total: int,
    page: int,
    deadlines: Deadlines,
    nav: PageMaker,
    now: datetime,
    *,
    excerpts: dict[int, str] | None = None,
    evidence: dict[int, Rendered] | None = None,
    resolve_dues: dict[int, datetime | None] | None = None,
    filters: Sequence[InlineKeyboardButton] = (),
) -> tuple[str, InlineKeyboardMarkup]:
    """One page of a queue (``items`` are that page's, of ``total``): a line per complaint with the start
    of its words, masked (a list is glanced at over a shoulder; the card has the whole text), a button
    per complaint, ``filters`` two to a row, ◀ ▶ to turn pages. Before 受理 an item shows both deadlines,
    as its card does, given the page's ``resolve_dues``."""
    total_pages = pages(total, PAGE_SIZE)
    lines = [header]
    builder = InlineKeyboardBuilder()
    for number, item in enumerate(items, start=(page - 1) * PAGE_SIZE + 1):
        lines.append(
            tr(
                "agency.queue.item",
                n=number,
                tracking_no=item.tracking_no,
                major=tr("agency.major") if item.major else "",
                status=status_name(tr, item.status),
                agency=item.owner_agency or tr("agency.none"),
                text=(excerpts or {}).get(item.id) or tr("agency.none"),
                problems=problems_words(tr, item.problem_types),
                evidence=(evidence or {}).get(item.id) or tr("agency.none"),
                deadlines=deadline_lines(
                    tr, "agency.queue.due", item, (resolve_dues or {}).get(item.id), deadlines, now
                ),
            )
        )
        builder.row(
            InlineKeyboardButton(
                text=tr.plain("agency.button.show", tracking_no=item.tracking_no),
                callback_data=Card(id=item.id, act=CardAction.SHOW).pack(),
            )
        )
    for start in range(0, len(filters), 2):
        builder.row(*filters[start : start + 2])
    if row := nav_row(tr, page, total_pages, nav):
        builder.row(*row)
    return "\n\n".join(lines), builder.as_markup()


def agency_picker(
    tr: Translator,
    key: str,
    complaint: Complaint,
    agencies: Sequence[Agency],
    page: int,
    *,
    rule: bool,
    marks: dict[int, str] | None = None,
) -> tuple[str, InlineKeyboardMarkup]:
    """Choose the agency of a transfer or a ruling, a page at a time, with a way back. ``marks``: a
    word after an agency's name (one that declined this complaint already, say)."""
    marks = marks or {}
    total_pages = pages(len(agencies), PICKER_PAGE_SIZE)
    page = min(max(page, 1), total_pages)
    builder = InlineKeyboardBuilder()
    for agency in agencies[(page - 1) * PICKER_PAGE_SIZE : page * PICKER_PAGE_SIZE]:
        builder.row(
            InlineKeyboardButton(
                text=tr.script(agency.name) + marks.get(agency.id, ""),
                callback_data=PickAgency(id=complaint.id, rule=rule, agency=agency.id).pack(),
            )
        )

    def turn(page: int) -> PickAgency:
        return PickAgency(id=complaint.id, rule=rule, page=page)

    if row := nav_row(tr, page, total_pages, turn):
        builder.row(*row)
    builder.row(*back_keyboard(tr, complaint.id).inline_keyboard[0])
    return tr(key, tracking_no=complaint.tracking_no, page=page, pages=total_pages), builder.as_markup()
