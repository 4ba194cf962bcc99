"""What the complaint conversation's questions show: the agencies suggested from what the tagger
understood, the list by area, the summary to confirm; and the current step's question asked again
(after /start, a double send, or something sent where a button was expected)."""

from __future__ import annotations

from typing import Any

from aiogram.fsm.context import FSMContext
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.complaint_steps import ChooseAgency, ChooseArea, Filing, Step, ask, step_buttons
from handlers.long_text import TELEGRAM_LIMIT, utf16_length
from handlers.texts import Rendered, Translator
from storage.models import Agency
from storage.vocabulary import AREAS
from workflow import filing
from workflow.contacts import agency_by_code

PAGE_SIZE = 8
BEST = 3
#: How much of a text too long for one summary message is shown (the whole text is still filed).
PREVIEW_CHARS = 1000


def summary(tr: Translator, data: dict[str, Any]) -> str:
    """The summary to confirm; a text too long for one message shows its beginning and its length."""
    agency = data.get("agency_name") or tr.plain("complaint.fallback_agency", fallback=data.get("fallback_name") or "")
    anonymity = tr.plain("complaint.button.anonymous" if data.get("anonymous") else "complaint.button.named")
    fields = {
        "agency": agency,
        "place": data.get("place") or tr.plain("complaint.nothing"),
        "files": len(data.get("files", [])),
        "anonymity": anonymity,
        "phone": data.get("phone") or tr.plain("complaint.nothing"),
    }
    text = "\n".join(data.get("parts", []))
    message = tr("complaint.summary", text=text, **fields)
    if utf16_length(message) <= TELEGRAM_LIMIT:
        return message
    return (
        tr("complaint.summary", text=text[:PREVIEW_CHARS] + "……", **fields)
        + "\n\n"
        + tr("complaint.text_cut", chars=filing.length(data.get("parts", [])))
    )


def choice_row(tr: Translator, flow: str, fallback: str) -> list[InlineKeyboardButton]:
    return [
        InlineKeyboardButton(text=tr.plain("complaint.button.more"), callback_data=ChooseArea(flow=flow).pack()),
        InlineKeyboardButton(
            text=tr.plain("complaint.button.fallback", fallback=fallback),
            callback_data=Step(flow=flow, action="fallback").pack(),
        ),
    ]


def agency_buttons(tr: Translator, agencies: list[Agency], flow: str) -> InlineKeyboardBuilder:
    builder = InlineKeyboardBuilder()
    for agency in agencies:
        builder.button(text=tr.script(agency.name), callback_data=ChooseAgency(flow=flow, agency=agency.id))
    builder.adjust(1)
    return builder


async def understood(
    session: AsyncSession, tagger: Any | None, data: dict[str, Any]
) -> tuple[tuple[str, ...], str | None, list[Agency]]:
    """What the tagger understood of the text: problem types, area and the agencies it suggests."""
    if tagger is None:
        return (), None, []
    tag = tagger.tag("\n".join(data["parts"]))
    candidates = []
    for candidate in tag.candidates[:BEST]:
        agency = await agency_by_code(session, candidate.code)
        if agency is not None and filing.choosable(agency):
            candidates.append(agency)
    return tuple(tag.problem_types), tag.area, candidates


async def suggestions(
    tr: Translator, session: AsyncSession, tagger: Any | None, data: dict[str, Any]
) -> tuple[str, InlineKeyboardMarkup]:
    """What the tagger understood and the agencies it suggests, with the list and the fallback."""
    flow = data["flow"]
    problems, area, candidates = await understood(session, tagger, data)
    fallback = await filing.fallback_name(session)
    builder = agency_buttons(tr, candidates, flow)
    builder.row(*choice_row(tr, flow, fallback))
    return understood_text(tr, problems, area) + tr("complaint.choose_agency", fallback=fallback), builder.as_markup()


def understood_text(tr: Translator, problems: tuple[str, ...], area: str | None) -> str:
    """What the tagger recognised, a line for each part it did; nothing at all when it recognised
    nothing (a line saying 未识别 tells the citizen nothing)."""
    found = [tr("complaint.understood.problems", problems="、".join(problems))] if problems else []
    if area:
        found.append(tr("complaint.understood.area", area=area))
    return tr("complaint.understood", found=Rendered("\n".join(found))) + "\n" if found else ""


async def areas_view(tr: Translator, session: AsyncSession, flow: str) -> tuple[str, InlineKeyboardMarkup]:
    builder = InlineKeyboardBuilder()
    for area in await filing.areas(session):
        builder.button(text=tr.script(area), callback_data=ChooseArea(flow=flow, a=AREAS.index(area)))
    builder.adjust(3)
    fallback = await filing.fallback_name(session)
    last = InlineKeyboardBuilder()
    last.button(text=tr.plain("complaint.button.back"), callback_data=Step(flow=flow, action="suggest"))
    last.button(
        text=tr.plain("complaint.button.fallback", fallback=fallback), callback_data=Step(flow=flow, action="fallback")
    )
    last.adjust(1)
    builder.attach(last)
    return tr("complaint.areas"), builder.as_markup()


async def area_view(
    tr: Translator, session: AsyncSession, flow: str, area_index: int, page: int
) -> tuple[str, InlineKeyboardMarkup]:
    area = AREAS[area_index]
    agencies = await filing.agencies_in_area(session, area)
    pages = max(1, -(-len(agencies) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    builder = agency_buttons(tr, agencies[page * PAGE_SIZE : (page + 1) * PAGE_SIZE], flow)
    turns = InlineKeyboardBuilder()
    if page > 0:
        turns.button(
            text=tr.plain("complaint.button.prev"), callback_data=ChooseArea(flow=flow, a=area_index, p=page - 1)
        )
    if page + 1 < pages:
        turns.button(
            text=tr.plain("complaint.button.next"), callback_data=ChooseArea(flow=flow, a=area_index, p=page + 1)
        )
    builder.attach(turns)
    back = InlineKeyboardBuilder()
    back.button(text=tr.plain("complaint.button.back"), callback_data=ChooseArea(flow=flow))
    builder.attach(back)
    return tr("complaint.agency_page", area=area, page=page + 1, pages=pages), builder.as_markup()


async def ask_current_step(
    message: Message, state: FSMContext, tr: Translator, session: AsyncSession, tagger: Any | None
) -> bool:
    """Ask the question of the step the complaint is at again, with its buttons (after /start, or after
    something typed or sent where a button was expected). False if no complaint is being written."""
    current, data = await state.get_state(), await state.get_data()
    flow = data.get("flow")
    if flow is None or current not in {step.state for step in Filing.__states__}:
        return False
    if current == Filing.text.state:  # once something is typed, say it is kept, not ask from scratch
        parts = data.get("parts")
        text = tr("complaint.continue", chars=filing.length(parts)) if parts else tr("complaint.start")
        await ask(message, state, text, step_buttons(tr, flow, "done", "cancel"))
    elif current == Filing.place.state:
        await ask(message, state, tr("complaint.ask_place"), step_buttons(tr, flow, "no_place"))
    elif current == Filing.agency.state:
        await ask(message, state, *await suggestions(tr, session, tagger, data))
    elif current == Filing.anonymity.state:
        await ask(message, state, tr("complaint.ask_anonymous"), step_buttons(tr, flow, "named", "anonymous"))
    elif current == Filing.phone.state:
        await ask(message, state, tr("complaint.ask_phone"), step_buttons(tr, flow, "no_phone"))
    else:
        await ask(message, state, summary(tr, data), step_buttons(tr, flow, "confirm", "cancel"))
    return True


async def repeated(
    message: Message, state: FSMContext, tr: Translator, session: AsyncSession, tagger: Any | None
) -> bool:
    """The message this conversation took last, sent again (a double send on a bad network): said, and
    the current step asked again. Only once: a third copy is meant, and taken."""
    if not filing.is_repeat((await state.get_data()).get("last"), message.text or ""):
        return False
    await state.update_data(last=None)
    await message.answer(tr("complaint.repeated_answer"))
    await ask_current_step(message, state, tr, session, tagger)
    return True
