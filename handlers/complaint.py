"""The citizen's complaint conversation (/complain): free text over several messages, attachments,
place, the agency (what the tagger understood, a typed name, or the list by area), anonymity, phone
(named complaints only: nobody sees an anonymous complainant's phone), a summary to confirm; then
``workflow.intake.register_complaint`` numbers and routes it, and the receipt with the deadlines comes
from the outbox. ``workflow.filing`` decides what a draft holds and which agencies can be picked.

Everything entered lives in the durable FSM, so a restart loses nothing. Buttons carry the
conversation's ``flow`` id: a button from an earlier conversation is answered as stale. Photos and
files are taken at every step until confirmation; anything typed or sent where a button is expected
re-asks the current step's question, so the citizen is never left without its buttons. The messages
asking the current step are remembered (``asked``): once it is answered, by a button or by typing (a
place, a phone number), they all lose their buttons at once, the typed answer shown on the last one.
A message sent twice in a row (a double send on a bad network) is taken once (``last``). A location pin
or venue answers the place question. Text typed before /complain is offered for filing
(``handlers.citizen_offer``), and taken starts this conversation with it (``begin``).
"""

from __future__ import annotations

import secrets
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, User
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.citizen_callbacks import brief, drop_buttons, settle, show
from handlers.long_text import TELEGRAM_LIMIT, utf16_length
from handlers.menu import Menu
from handlers.texts import Translator
from storage.models import Agency
from storage.vocabulary import AREAS
from workflow import filing
from workflow.citizens import get_or_create_citizen
from workflow.clock import Clock
from workflow.contacts import agency_by_code
from workflow.deadlines import Deadlines
from workflow.intake import AttachmentIn, register_complaint

PAGE_SIZE = 8
BEST = 3
#: How much of a text too long for one summary message is shown (the whole text is still filed).
PREVIEW_CHARS = 1000


class Filing(StatesGroup):
    text = State()
    place = State()
    agency = State()
    anonymity = State()
    phone = State()
    confirm = State()


class Step(CallbackData, prefix="cs"):
    flow: str
    action: str  # done | no_place | suggest | fallback | named | anonymous | no_phone | confirm | cancel


class ChooseAgency(CallbackData, prefix="ca"):
    flow: str
    agency: int


class ChooseArea(CallbackData, prefix="cr"):
    """``a`` indexes ``AREAS`` (-1: the list of areas); ``p`` is the page of that area's agencies."""

    flow: str
    a: int = -1
    p: int = 0


def typed_text(message: Message) -> bool:
    """An answer typed by the citizen, not a /command (commands keep working mid-conversation)."""
    return bool(message.text) and not message.text.startswith("/")


def not_command(message: Message) -> bool:
    return not (message.text or "").startswith("/")


#: Steps whose button reads as another's: each 跳过 names its own step, so an old one skips nothing else.
_LABELS = {"no_place": "skip", "no_phone": "skip"}


def _buttons(tr: Translator, flow: str, *actions: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for action in actions:
        label = tr.plain(f"complaint.button.{_LABELS.get(action, action)}")
        builder.button(text=label, callback_data=Step(flow=flow, action=action))
    builder.adjust(2)
    return builder.as_markup()


async def _flow_of(state: FSMContext) -> str | None:
    return (await state.get_data()).get("flow")


async def _ask(message: Message, state: FSMContext, text: str, markup: InlineKeyboardMarkup) -> None:
    """Ask (or ask again) the current step, in a new message remembered until the step is answered."""
    sent = await message.answer(text, reply_markup=markup)
    await state.update_data(asked=[*(await state.get_data()).get("asked", []), sent.message_id])


async def _answered(
    message: Message, state: FSMContext, answer: str | None = None, *, pressed: int | None = None
) -> None:
    """The current step is answered: its questions lose their buttons (but ``pressed``, which the press
    edits itself), a typed ``answer`` shown on the last one."""
    asked = [m for m in (await state.get_data()).get("asked", []) if m != pressed]
    await state.update_data(asked=[])
    if asked:
        await settle(message, asked, answer)


def _summary(tr: Translator, data: dict[str, Any]) -> str:
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
    summary = tr("complaint.summary", text=text, **fields)
    if utf16_length(summary) <= TELEGRAM_LIMIT:
        return summary
    return (
        tr("complaint.summary", text=text[:PREVIEW_CHARS] + "……", **fields)
        + "\n\n"
        + tr("complaint.text_cut", chars=filing.length(data.get("parts", [])))
    )


def _choice_row(tr: Translator, flow: str, fallback: str) -> list[InlineKeyboardButton]:
    return [
        InlineKeyboardButton(text=tr.plain("complaint.button.more"), callback_data=ChooseArea(flow=flow).pack()),
        InlineKeyboardButton(
            text=tr.plain("complaint.button.fallback", fallback=fallback),
            callback_data=Step(flow=flow, action="fallback").pack(),
        ),
    ]


def _agency_buttons(tr: Translator, agencies: list[Agency], flow: str) -> InlineKeyboardBuilder:
    builder = InlineKeyboardBuilder()
    for agency in agencies:
        builder.button(text=tr.script(agency.name), callback_data=ChooseAgency(flow=flow, agency=agency.id))
    builder.adjust(1)
    return builder


async def _understood(
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


async def _suggestions(
    tr: Translator, session: AsyncSession, tagger: Any | None, data: dict[str, Any]
) -> tuple[str, InlineKeyboardMarkup]:
    """What the tagger understood and the agencies it suggests, with the list and the fallback."""
    flow = data["flow"]
    problems, area, candidates = await _understood(session, tagger, data)
    fallback = await filing.fallback_name(session)
    builder = _agency_buttons(tr, candidates, flow)
    builder.row(*_choice_row(tr, flow, fallback))
    unknown = tr.plain("complaint.unknown")
    text = tr("complaint.understood", problems="、".join(problems) or unknown, area=area or unknown, fallback=fallback)
    return text, builder.as_markup()


async def _areas_view(tr: Translator, session: AsyncSession, flow: str) -> tuple[str, InlineKeyboardMarkup]:
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


async def _area_view(
    tr: Translator, session: AsyncSession, flow: str, area_index: int, page: int
) -> tuple[str, InlineKeyboardMarkup]:
    area = AREAS[area_index]
    agencies = await filing.agencies_in_area(session, area)
    pages = max(1, -(-len(agencies) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    builder = _agency_buttons(tr, agencies[page * PAGE_SIZE : (page + 1) * PAGE_SIZE], flow)
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
    if current == Filing.text.state:
        await _ask(message, state, tr("complaint.start"), _buttons(tr, flow, "done", "cancel"))
    elif current == Filing.place.state:
        await _ask(message, state, tr("complaint.ask_place"), _buttons(tr, flow, "no_place"))
    elif current == Filing.agency.state:
        await _ask(message, state, *await _suggestions(tr, session, tagger, data))
    elif current == Filing.anonymity.state:
        await _ask(message, state, tr("complaint.ask_anonymous"), _buttons(tr, flow, "named", "anonymous"))
    elif current == Filing.phone.state:
        await _ask(message, state, tr("complaint.ask_phone"), _buttons(tr, flow, "no_phone"))
    else:
        await _ask(message, state, _summary(tr, data), _buttons(tr, flow, "confirm", "cancel"))
    return True


async def nothing_entered(state: FSMContext) -> bool:
    """A complaint just started, with no text or file yet: starting over loses nothing."""
    data = await state.get_data()
    return await state.get_state() == Filing.text.state and not data.get("parts") and not data.get("files")


async def begin(message: Message, state: FSMContext, tr: Translator, parts: list[str] | None = None) -> None:
    """Start a complaint, empty (/complain) or with ``parts`` already written (text typed before
    /complain and offered for filing): the next steps are the same."""
    flow = secrets.token_hex(3)
    await _answered(message, state)  # an empty draft started over (or an offer taken): its question goes
    await state.set_state(Filing.text)
    await state.set_data({"flow": flow, "parts": parts or [], "files": []})
    if parts:
        text = tr("complaint.offer_taken", chars=filing.length(parts))
        await _ask(message, state, text, _buttons(tr, flow, "done", "cancel"))
    else:
        await _ask(message, state, tr("complaint.start"), _buttons(tr, flow, "done", "cancel"))


async def _repeated(
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


def _file_of(message: Message) -> dict[str, Any]:
    if message.photo:
        photo = message.photo[-1]
        return {"kind": "photo", "id": photo.file_id, "unique": photo.file_unique_id, "size": photo.file_size}
    doc = message.document
    return {
        "kind": "document",
        "id": doc.file_id,
        "unique": doc.file_unique_id,
        "name": doc.file_name,
        "mime": doc.mime_type,
        "size": doc.file_size,
    }


def complaint_router() -> Router:
    router = Router(name="complaint")

    @router.message(Command("complain"))
    @router.callback_query(Menu.filter(F.action == "complain"))
    async def start(event: Message | CallbackQuery, state: FSMContext, tr: Translator) -> None:
        message = event if isinstance(event, Message) else event.message
        if isinstance(event, CallbackQuery):
            await event.answer()
        await begin(message, state, tr)

    @router.message(Filing.text, typed_text)
    async def add_text(message: Message, state: FSMContext, tr: Translator) -> None:
        data = await state.get_data()
        buttons = _buttons(tr, data["flow"], "done")
        if filing.is_blank(message.text):
            await _ask(message, state, tr("hint.empty"), buttons)
            return
        added = filing.append_text(data["parts"], message.text)
        await state.update_data(parts=added.parts, last=message.text)
        if added.repeated:
            key = "complaint.repeated"
        elif added.dropped and added.kept:
            key = "complaint.limit_reached"
        elif added.dropped:
            key = "complaint.limit_full"
        else:
            key = "complaint.noted"
        text = tr(key, chars=added.chars, kept=added.kept, dropped=added.dropped, limit=filing.MAX_CHARS)
        await _ask(message, state, text, buttons)

    @router.message(StateFilter(Filing), F.photo | F.document)
    async def add_file(message: Message, state: FSMContext, tr: Translator, session: AsyncSession, tagger: Any) -> None:
        data = await state.get_data()
        files = [*data["files"], _file_of(message)]
        parts = data["parts"]
        if message.caption and not filing.is_blank(message.caption):
            parts = filing.append_text(parts, message.caption).parts
        await state.update_data(files=files, parts=parts)
        if await state.get_state() == Filing.text.state:
            await _ask(message, state, tr("complaint.file_noted", count=len(files)), _buttons(tr, data["flow"], "done"))
            return
        await message.answer(tr("complaint.file_noted_later", count=len(files)))
        await ask_current_step(message, state, tr, session, tagger)

    @router.callback_query(Filing.text, Step.filter(F.action == "done"))
    async def text_done(query: CallbackQuery, callback_data: Step, state: FSMContext, tr: Translator) -> None:
        data = await state.get_data()
        if callback_data.flow != data.get("flow"):
            await query.answer(tr.plain("hint.stale_button"))
            return
        await query.answer()
        if len("".join(data["parts"]).strip()) < filing.MIN_CHARS:
            await query.message.answer(tr("complaint.too_short", minimum=filing.MIN_CHARS))
            return
        await _answered(query.message, state)
        await state.set_state(Filing.place)
        await _ask(query.message, state, tr("complaint.ask_place"), _buttons(tr, data["flow"], "no_place"))

    async def ask_agency(
        message: Message, state: FSMContext, tr: Translator, session: AsyncSession, tagger: Any
    ) -> None:
        await state.set_state(Filing.agency)
        await _ask(message, state, *await _suggestions(tr, session, tagger, await state.get_data()))

    async def take_place(
        message: Message, state: FSMContext, tr: Translator, session: AsyncSession, tagger: Any, place: str
    ) -> None:
        await state.update_data(place=place)
        await _answered(message, state, tr("complaint.chosen.place", place=brief(place)))
        await ask_agency(message, state, tr, session, tagger)

    @router.message(Filing.place, typed_text)
    async def place(message: Message, state: FSMContext, tr: Translator, session: AsyncSession, tagger: Any) -> None:
        if filing.is_blank(message.text):
            await _ask(message, state, tr("hint.empty"), _buttons(tr, await _flow_of(state), "no_place"))
            return
        if await _repeated(message, state, tr, session, tagger):  # the last part again, not a place
            return
        await state.update_data(last=message.text)
        await take_place(message, state, tr, session, tagger, message.text.strip()[:500])

    @router.message(Filing.place, F.location)
    async def place_pin(
        message: Message, state: FSMContext, tr: Translator, session: AsyncSession, tagger: Any
    ) -> None:
        """A location pin or a venue, natural on a phone: the place as text the clerk reads."""
        venue, location = message.venue, message.location
        place = filing.place_of_pin(
            location.latitude, location.longitude, venue.title if venue else None, venue.address if venue else None
        )
        await state.update_data(last=None)
        await take_place(message, state, tr, session, tagger, place[:500])

    @router.callback_query(Filing.place, Step.filter(F.action == "no_place"))
    async def skip_place(
        query: CallbackQuery, callback_data: Step, state: FSMContext, tr: Translator, session: AsyncSession, tagger: Any
    ) -> None:
        if callback_data.flow != await _flow_of(state):
            await query.answer(tr.plain("hint.stale_button"))
            return
        await _answered(query.message, state, pressed=query.message.message_id)
        await show(query, tr("complaint.chosen.no_place"))
        await ask_agency(query.message, state, tr, session, tagger)

    @router.message(Filing.agency, typed_text)
    async def search_agency(
        message: Message, state: FSMContext, tr: Translator, session: AsyncSession, tagger: Any
    ) -> None:
        """A typed name searches the agencies, as /evaluate does; nothing found offers the suggestions
        again, so they are at hand under the newest message."""
        if filing.is_blank(message.text):
            await message.answer(tr("hint.empty"))
            return
        if await _repeated(message, state, tr, session, tagger):  # the place again, not a name
            return
        await state.update_data(last=message.text)
        data = await state.get_data()
        query = " ".join(message.text.split())[:30]
        found = await filing.search(session, message.text)
        fallback = await filing.fallback_name(session)
        builder = _agency_buttons(tr, found or (await _understood(session, tagger, data))[2], data["flow"])
        builder.row(*_choice_row(tr, data["flow"], fallback))
        key = "complaint.search_results" if found else "complaint.search_none"
        await _ask(message, state, tr(key, query=query, fallback=fallback), builder.as_markup())

    @router.callback_query(Filing.agency, ChooseArea.filter())
    async def browse(
        query: CallbackQuery, callback_data: ChooseArea, state: FSMContext, tr: Translator, session: AsyncSession
    ) -> None:
        if callback_data.flow != await _flow_of(state):
            await query.answer(tr.plain("hint.stale_button"))
            return
        if 0 <= callback_data.a < len(AREAS):
            await show(query, *await _area_view(tr, session, callback_data.flow, callback_data.a, callback_data.p))
        else:
            await show(query, *await _areas_view(tr, session, callback_data.flow))

    @router.callback_query(Filing.agency, Step.filter(F.action == "suggest"))
    async def back_to_suggestions(
        query: CallbackQuery, callback_data: Step, state: FSMContext, tr: Translator, session: AsyncSession, tagger: Any
    ) -> None:
        data = await state.get_data()
        if callback_data.flow != data.get("flow"):
            await query.answer(tr.plain("hint.stale_button"))
            return
        await show(query, *await _suggestions(tr, session, tagger, data))

    @router.callback_query(Filing.agency, ChooseAgency.filter())
    @router.callback_query(Filing.agency, Step.filter(F.action == "fallback"))
    async def agency_chosen(
        query: CallbackQuery,
        callback_data: ChooseAgency | Step,
        state: FSMContext,
        tr: Translator,
        session: AsyncSession,
    ) -> None:
        data = await state.get_data()
        if callback_data.flow != data.get("flow"):
            await query.answer(tr.plain("hint.stale_button"))
            return
        chosen = None
        if isinstance(callback_data, ChooseAgency):
            chosen = await filing.pickable_agency(session, callback_data.agency)
            if chosen is None:
                await query.answer(tr.plain("hint.stale_button"))
                return
        fallback = None if chosen else await filing.fallback_name(session)
        await state.update_data(
            agency_code=chosen.code if chosen else None,
            agency_name=chosen.name if chosen else None,
            fallback_name=fallback,
        )
        await _answered(query.message, state, pressed=query.message.message_id)
        await state.set_state(Filing.anonymity)
        picked = chosen.name if chosen else tr("complaint.fallback_agency", fallback=fallback)
        await show(query, tr("complaint.chosen.agency", agency=picked))  # the question keeps the answer
        await _ask(
            query.message, state, tr("complaint.ask_anonymous"), _buttons(tr, data["flow"], "named", "anonymous")
        )

    async def show_summary(message: Message, state: FSMContext, tr: Translator) -> None:
        await state.set_state(Filing.confirm)
        data = await state.get_data()
        await _ask(message, state, _summary(tr, data), _buttons(tr, data["flow"], "confirm", "cancel"))

    @router.callback_query(Filing.anonymity, Step.filter(F.action.in_({"named", "anonymous"})))
    async def anonymity(query: CallbackQuery, callback_data: Step, state: FSMContext, tr: Translator) -> None:
        if callback_data.flow != await _flow_of(state):
            await query.answer(tr.plain("hint.stale_button"))
            return
        anonymous = callback_data.action == "anonymous"
        await state.update_data(anonymous=anonymous, phone=None)
        await _answered(query.message, state, pressed=query.message.message_id)
        await show(query, tr("complaint.chosen.anonymity", choice=tr.plain(f"complaint.button.{callback_data.action}")))
        if anonymous:  # no one may see an anonymous complainant's phone, so none is asked for
            await show_summary(query.message, state, tr)
            return
        await state.set_state(Filing.phone)
        await _ask(query.message, state, tr("complaint.ask_phone"), _buttons(tr, callback_data.flow, "no_phone"))

    @router.message(Filing.phone, typed_text)
    async def phone(message: Message, state: FSMContext, tr: Translator) -> None:
        number = filing.parse_phone(message.text)
        if number is None:
            await _ask(message, state, tr("complaint.bad_phone"), _buttons(tr, await _flow_of(state), "no_phone"))
            return
        await state.update_data(phone=number)
        await _answered(message, state, tr("complaint.chosen.phone", phone=number))
        await show_summary(message, state, tr)

    @router.callback_query(Filing.phone, Step.filter(F.action == "no_phone"))
    async def skip_phone(query: CallbackQuery, callback_data: Step, state: FSMContext, tr: Translator) -> None:
        if callback_data.flow != await _flow_of(state):
            await query.answer(tr.plain("hint.stale_button"))
            return
        await _answered(query.message, state, pressed=query.message.message_id)
        await show(query, tr("complaint.chosen.no_phone"))
        await show_summary(query.message, state, tr)

    @router.callback_query(Filing.confirm, Step.filter(F.action == "confirm"))
    async def confirm(
        query: CallbackQuery,
        callback_data: Step,
        state: FSMContext,
        tr: Translator,
        lang: str,
        session: AsyncSession,
        clock: Clock,
        deadlines: Deadlines,
        tagger: Any,
    ) -> None:
        data = await state.get_data()
        if callback_data.flow != data.get("flow"):
            await query.answer(tr.plain("hint.stale_button"))
            return
        await query.answer()
        user: User = query.from_user
        citizen = await get_or_create_citizen(session, user.id, display_name=user.full_name, language=lang)
        text = "\n".join(data["parts"])
        complaint = await register_complaint(
            session,
            clock,
            deadlines,
            citizen=citizen,
            text=text,
            tagging=tagger.tag(text) if tagger is not None else None,
            agency_code=data.get("agency_code"),
            anonymous=bool(data.get("anonymous")),
            contact_phone=None if data.get("anonymous") else data.get("phone"),
            location_text=data.get("place"),
            attachments=[
                AttachmentIn(f["kind"], f["id"], f.get("unique"), f.get("name"), f.get("mime"), f.get("size"))
                for f in data["files"]
            ],
        )
        await _answered(query.message, state, pressed=query.message.message_id)
        await state.clear()
        await query.message.edit_reply_markup(reply_markup=None)
        await query.message.answer(tr("complaint.submitted", tracking_no=complaint.tracking_no))

    @router.callback_query(Step.filter(F.action == "cancel"))
    async def cancel(query: CallbackQuery, callback_data: Step, state: FSMContext, tr: Translator) -> None:
        if await state.get_state() is None or callback_data.flow != await _flow_of(state):
            await query.answer(tr.plain("hint.stale_button"))
            return
        await _answered(query.message, state, pressed=query.message.message_id)
        await state.clear()
        await drop_buttons(query)
        await query.message.answer(tr("cancelled"))

    @router.callback_query(Step.filter())
    @router.callback_query(ChooseAgency.filter())
    @router.callback_query(ChooseArea.filter())
    async def answered_already(query: CallbackQuery, tr: Translator) -> None:
        """A button of a step no longer asked (a double tap, a complaint finished or dropped by /cancel):
        said in a toast, and the buttons leave that message so they are not pressed again in vain."""
        await drop_buttons(query, tr.plain("hint.stale_button"))

    @router.message(StateFilter(Filing.anonymity, Filing.confirm), F.text, not_command)
    async def use_the_buttons(
        message: Message, state: FSMContext, tr: Translator, session: AsyncSession, tagger: Any
    ) -> None:
        """Text where only a button will do: point at the buttons, and ask again under this message."""
        await message.answer(tr("complaint.use_buttons"))
        await ask_current_step(message, state, tr, session, tagger)

    @router.message(StateFilter(Filing), not_command)
    async def not_text(message: Message, state: FSMContext, tr: Translator, session: AsyncSession, tagger: Any) -> None:
        """A voice note, sticker, a location where no place is asked… is no answer (photos and files
        were taken above): said, naming a location as one, and asked again."""
        await message.answer(tr("complaint.not_text_location" if message.location else "complaint.not_text"))
        await ask_current_step(message, state, tr, session, tagger)

    return router
