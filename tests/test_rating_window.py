"""The rating window (满意度测评): a resolved complaint the citizen never rates is closed by the
timekeeper as unrated (未评价) once the policy's working days have passed — recorded as such, never as
satisfied, told to the citizen and the agency — while a rating or a 重办 before then cancels it.
Before the close, an unrated reply is reminded to its citizen once (评价提醒), and a rating is only
taken for the reply (round) its buttons were sent with."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.citizen_notices import render_citizen_notice
from handlers.texts import default_texts
from storage.models import (
    ActorKind,
    Complaint,
    ComplaintStatus,
    ComplaintTimer,
    Evaluation,
    EventAction,
    OutboxMessage,
)
from storage.vocabulary import Rating
from tests.factories import ZONE, World, events_of, local, make_citizen, outbox_kinds, refused
from workflow import lifecycle, timekeeper
from workflow.actors import Actor
from workflow.timers import reschedule
from workflow.transitions import replay

S = ComplaintStatus
#: Resolved on Monday 23 November 2026 10:00: seven working days later, by close of business.
WINDOW_END = local(2026, 12, 2, 17, 30)
#: Two working days' worth of working hours before it: the start of Tuesday 1 December.
REMINDER_AT = local(2026, 12, 1, 9, 0)


async def resolved(world: World) -> Complaint:
    complaint = await world.complaint()
    await lifecycle.accept(world.session, world.clock, world.deadlines, complaint.id, world.police)
    await lifecycle.resolve(world.session, world.clock, world.deadlines, complaint.id, world.police, "已为您补办。")
    await world.session.commit()
    return complaint


async def timers_of(session: AsyncSession, complaint_id: int) -> list[tuple[str, object, bool, bool]]:
    """(kind, due, done, cancelled) of the complaint's rating-window timers."""
    rows = await session.scalars(
        select(ComplaintTimer)
        .where(ComplaintTimer.complaint_id == complaint_id, ComplaintTimer.kind == "rating_window")
        .order_by(ComplaintTimer.id)
        .execution_options(populate_existing=True)  # the timekeeper changes them in its own sessions
    )
    return [(t.kind, t.due_at.astimezone(ZONE), t.done_at is not None, t.cancelled) for t in rows]


async def reload(world: World, complaint_id: int) -> Complaint:
    """The complaint as the timekeeper (in its own sessions) left it."""
    return await world.session.get_one(Complaint, complaint_id, populate_existing=True)


async def run_timekeeper_at(world: World, factory: async_sessionmaker[AsyncSession], moment: datetime) -> int:
    world.clock.set(moment)
    return await timekeeper.run_once(factory, world.clock, world.deadlines)


async def test_a_reply_opens_a_rating_window_of_seven_working_days(world: World) -> None:
    complaint = await resolved(world)
    assert await timers_of(world.session, complaint.id) == [("rating_window", WINDOW_END, False, False)]
    notice = await world.session.scalar(
        select(OutboxMessage).where(
            OutboxMessage.complaint_id == complaint.id, OutboxMessage.kind == "complaint.resolved"
        )
    )
    assert notice.payload["params"]["rating_due_text"] == "12月2日（周三）17:30前"


async def test_the_timekeeper_closes_an_unrated_complaint_when_the_window_passes(
    world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    complaint = await resolved(world)
    assert await run_timekeeper_at(world, session_factory, WINDOW_END - timedelta(minutes=1)) == 1  # 评价提醒
    assert (await reload(world, complaint.id)).status == S.RESOLVED

    assert await run_timekeeper_at(world, session_factory, WINDOW_END) == 1
    closed = await reload(world, complaint.id)
    assert closed.status == S.CLOSED and closed.closed_at == WINDOW_END
    event = (await events_of(world.session, complaint.id))[-1]
    assert (event.action, event.from_status, event.to_status) == (EventAction.CLOSED, S.RESOLVED, S.CLOSED)
    assert (event.actor_kind, event.agency_id) == (ActorKind.SYSTEM, closed.owner_agency_id)
    assert event.data["unrated"] is True and event.data["cause"] == "rating_window_passed"
    assert datetime.fromisoformat(event.data["rating_due"]) == WINDOW_END
    assert replay(await events_of(world.session, complaint.id)).status == S.CLOSED
    # Not rated, so not satisfied either: no Evaluation exists.
    ratings = await world.session.scalar(
        select(func.count()).select_from(Evaluation).where(Evaluation.complaint_id == complaint.id)
    )
    assert ratings == 0
    # The citizen and the agency are told once; the timer is done, not cancelled, and fires no more.
    kinds = await outbox_kinds(world.session, complaint.id)
    assert kinds.count((world.citizen.telegram_user_id, "complaint.closed_unrated")) == 1
    assert any(kind == "agency.closed_unrated" for _, kind in kinds)
    assert await timers_of(world.session, complaint.id) == [("rating_window", WINDOW_END, True, False)]
    assert await run_timekeeper_at(world, session_factory, WINDOW_END + timedelta(days=30)) == 0


async def test_a_rating_within_the_window_cancels_it(
    world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    complaint = await resolved(world)
    world.clock.set(WINDOW_END - timedelta(hours=1))
    await lifecycle.rate(world.session, world.clock, world.deadlines, complaint.id, world.me, Rating.SATISFIED)
    await world.session.commit()
    assert await timers_of(world.session, complaint.id) == [("rating_window", WINDOW_END, False, True)]

    before = len(await events_of(world.session, complaint.id))
    assert await run_timekeeper_at(world, session_factory, WINDOW_END + timedelta(days=1)) == 0
    assert len(await events_of(world.session, complaint.id)) == before
    close = (await events_of(world.session, complaint.id))[-1]
    assert close.action == EventAction.CLOSED and "unrated" not in close.data


async def test_a_reopening_cancels_the_window_and_the_next_reply_opens_a_new_one(
    world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    complaint = await resolved(world)
    world.clock.advance(timedelta(days=1))
    await lifecycle.rate(world.session, world.clock, world.deadlines, complaint.id, world.me, Rating.DISSATISFIED)
    await world.session.commit()
    assert await timers_of(world.session, complaint.id) == [("rating_window", WINDOW_END, False, True)]

    await run_timekeeper_at(world, session_factory, WINDOW_END + timedelta(minutes=1))  # 重办 overdue timers
    assert (await reload(world, complaint.id)).status == S.ACCEPTED

    await lifecycle.resolve(world.session, world.clock, world.deadlines, complaint.id, world.police, "重新办理完毕")
    await world.session.commit()
    second_end = local(2026, 12, 11, 17, 30)  # seven working days after Wednesday 2 December
    assert (await timers_of(world.session, complaint.id))[-1] == ("rating_window", second_end, False, False)
    assert await run_timekeeper_at(world, session_factory, second_end - timedelta(minutes=1)) == 1  # 评价提醒
    assert await run_timekeeper_at(world, session_factory, second_end) == 1
    closed = await reload(world, complaint.id)
    assert closed.status == S.CLOSED and closed.reopen_count == 1
    event = (await events_of(world.session, complaint.id))[-1]
    assert event.data["unrated"] is True and event.data["round"] == 2


async def test_a_rating_after_the_close_is_refused_as_expired_and_changes_nothing(
    world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    complaint = await resolved(world)
    await run_timekeeper_at(world, session_factory, WINDOW_END)
    complaint = await reload(world, complaint.id)
    for rating in Rating:
        await refused(world, "rating_expired", lifecycle.rate, complaint, world.me, rating)


async def test_only_the_service_closes_as_unrated_and_only_after_the_window(world: World) -> None:
    complaint = await resolved(world)
    await refused(world, "not_allowed", lifecycle.expire_rating, complaint, world.me)
    await refused(world, "not_allowed", lifecycle.expire_rating, complaint, world.oversight)
    world.clock.set(WINDOW_END - timedelta(minutes=1))
    await refused(world, "bad_state", lifecycle.expire_rating, complaint, Actor.system())
    other = await world.complaint()
    await refused(world, "bad_state", lifecycle.expire_rating, other, Actor.system())


async def test_a_stale_window_timer_does_not_close_a_complaint_replied_to_again(
    world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    """A window timer that somehow survived (rows changed by hand, a crash between steps) is checked
    against the current reply's window, not its own due moment."""
    complaint = await resolved(world)
    complaint.resolved_at = local(2026, 11, 30, 10)  # a later reply, timers not rescheduled
    await world.session.commit()
    assert await run_timekeeper_at(world, session_factory, WINDOW_END) == 2  # reminder and window, silently
    assert (await reload(world, complaint.id)).status == S.RESOLVED
    assert "complaint.rating_reminder" not in [kind for _, kind in await outbox_kinds(world.session, complaint.id)]


def test_the_closed_unrated_notice_reads_in_both_scripts_with_a_progress_button() -> None:
    params = {"complaint_id": 7, "tracking_no": "20261123-0001"}
    for lang, words in (("zh-Hans", ("未评价", "/complain")), ("zh-Hant", ("未評價", "/complain"))):
        rendered = render_citizen_notice("complaint.closed_unrated", params, default_texts()(lang))
        assert rendered is not None
        text, markup = rendered
        assert "20261123-0001" in text and all(word in text for word in words), text
        assert markup is not None and len(markup.inline_keyboard) == 1


# --- 评价提醒: the reminder before the window closes ---------------------------------------------------


async def reminders(session: AsyncSession, complaint_id: int) -> list[OutboxMessage]:
    """The rating reminders queued for a complaint, to anyone."""
    rows = await session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.complaint_id == complaint_id, OutboxMessage.kind == "complaint.rating_reminder")
        .order_by(OutboxMessage.id)
        .execution_options(populate_existing=True)
    )
    return list(rows)


async def test_an_unrated_reply_is_reminded_once_two_working_days_before_the_window_closes(
    world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    complaint = await resolved(world)
    timer = await world.session.scalar(
        select(ComplaintTimer).where(
            ComplaintTimer.complaint_id == complaint.id, ComplaintTimer.kind == "rating_reminder"
        )
    )
    assert timer is not None and timer.due_at.astimezone(ZONE) == REMINDER_AT

    assert await run_timekeeper_at(world, session_factory, REMINDER_AT - timedelta(minutes=1)) == 0
    assert await reminders(world.session, complaint.id) == []
    assert await run_timekeeper_at(world, session_factory, REMINDER_AT) == 1
    [reminder] = await reminders(world.session, complaint.id)
    params = reminder.payload["params"]
    assert reminder.chat_id == world.citizen.telegram_user_id
    assert (params["tracking_no"], params["round"]) == (complaint.tracking_no, 1)
    assert params["rating_due_text"] == "12月2日（周三）17:30前"
    assert datetime.fromisoformat(params["rating_due"]) == WINDOW_END
    # Nothing changed but the outbox: no event, still awaiting the rating.
    assert (await reload(world, complaint.id)).status == S.RESOLVED
    assert [e.action for e in await events_of(world.session, complaint.id)][-1] == EventAction.RESOLVED

    # Not twice: a later run, a reschedule (any change of the complaint) and the close add none.
    assert await run_timekeeper_at(world, session_factory, REMINDER_AT + timedelta(hours=3)) == 0
    await reschedule(world.session, await reload(world, complaint.id), world.deadlines)
    await world.session.commit()
    assert await run_timekeeper_at(world, session_factory, WINDOW_END) == 1  # the close only
    assert (await reload(world, complaint.id)).status == S.CLOSED
    assert len(await reminders(world.session, complaint.id)) == 1


async def test_no_reminder_once_the_citizen_has_rated(
    world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    complaint = await resolved(world)
    world.clock.set(REMINDER_AT - timedelta(hours=1))
    await lifecycle.rate(world.session, world.clock, world.deadlines, complaint.id, world.me, Rating.SATISFIED)
    await world.session.commit()
    cancelled = await world.session.scalar(
        select(ComplaintTimer.cancelled).where(
            ComplaintTimer.complaint_id == complaint.id, ComplaintTimer.kind == "rating_reminder"
        )
    )
    assert cancelled is True
    assert await run_timekeeper_at(world, session_factory, WINDOW_END + timedelta(days=1)) == 0
    assert await reminders(world.session, complaint.id) == []


async def test_a_reopening_drops_the_reminder_and_the_next_reply_is_reminded_for_its_own_window(
    world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    complaint = await resolved(world)
    await lifecycle.rate(world.session, world.clock, world.deadlines, complaint.id, world.me, Rating.DISSATISFIED)
    world.clock.set(local(2026, 11, 25, 15))  # Wednesday: the second reply
    await lifecycle.resolve(world.session, world.clock, world.deadlines, complaint.id, world.police, "已重新办理")
    await world.session.commit()
    assert await run_timekeeper_at(world, session_factory, REMINDER_AT) == 0  # the first reply's is gone
    # Seven working days after Wednesday 25 November end on Friday 4 December; two before: Thursday 9:00.
    assert await run_timekeeper_at(world, session_factory, local(2026, 12, 3, 9)) == 1
    [reminder] = await reminders(world.session, complaint.id)
    assert reminder.payload["params"]["round"] == 2
    assert reminder.payload["params"]["rating_due_text"] == "12月4日（周五）17:30前"


async def test_no_reminder_reaches_anyone_for_a_complaint_without_a_telegram_citizen(
    world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    web_citizen, _ = await make_citizen(world.session, telegram=False)
    ids = []
    for citizen in (None, web_citizen):  # anonymous intake, and a citizen known only from the web
        complaint = await world.complaint(citizen=citizen)
        await lifecycle.accept(world.session, world.clock, world.deadlines, complaint.id, world.police)
        await lifecycle.resolve(world.session, world.clock, world.deadlines, complaint.id, world.police, "已处理")
        await world.session.commit()
        ids.append(complaint.id)
    assert await run_timekeeper_at(world, session_factory, REMINDER_AT) == 2  # the timers are done …
    for complaint_id in ids:
        assert await reminders(world.session, complaint_id) == []  # … and nobody was messaged
        assert (await reload(world, complaint_id)).status == S.RESOLVED


def test_the_rating_reminder_reads_in_both_scripts_with_the_rating_buttons_of_its_round() -> None:
    params = {
        "complaint_id": 7,
        "tracking_no": "20261123-0001",
        "rating_due_text": "12月2日（周三）17:30前",
        "round": 2,
    }
    for lang, words in (("zh-Hans", ("评价提醒", "未评价", "周三")), ("zh-Hant", ("評價提醒", "未評價", "週三"))):
        tr = default_texts()(lang)
        rendered = render_citizen_notice("complaint.rating_reminder", params, tr)
        assert rendered is not None
        text, markup = rendered
        assert "20261123-0001" in text and "12月2日" in text and all(word in text for word in words), text
        assert markup is not None
        buttons = [button for row in markup.inline_keyboard for button in row]
        assert [b.text for b in buttons] == [tr.plain(f"rate.button.{i}") for i in range(3)]
        assert [b.callback_data for b in buttons] == ["rat:7:0:2", "rat:7:1:2", "rat:7:2:2"]


# --- rounds: a rating is for the reply its buttons came with -------------------------------------------


async def test_a_rating_for_an_earlier_reply_is_refused_as_superseded_and_the_current_one_is_taken(
    world: World,
) -> None:
    complaint = await resolved(world)
    notice = await world.session.scalar(
        select(OutboxMessage).where(
            OutboxMessage.complaint_id == complaint.id, OutboxMessage.kind == "complaint.resolved"
        )
    )
    assert notice is not None and notice.payload["params"]["round"] == 1
    await lifecycle.rate(
        world.session, world.clock, world.deadlines, complaint.id, world.me, Rating.DISSATISFIED, "没解决", round=1
    )
    await lifecycle.resolve(world.session, world.clock, world.deadlines, complaint.id, world.police, "重新办理完毕")
    await world.session.commit()
    for rating in Rating:
        await refused(world, "rating_superseded", partial(lifecycle.rate, round=1), complaint, world.me, rating)
    await refused(world, "rating_superseded", partial(lifecycle.rate, round=3), complaint, world.me, Rating.SATISFIED)
    done = await lifecycle.rate(
        world.session, world.clock, world.deadlines, complaint.id, world.me, Rating.SATISFIED, round=2
    )
    assert done.status == S.CLOSED
    rated = [e for e in await events_of(world.session, complaint.id) if e.action == EventAction.RATED]
    assert [(e.data["rating"], e.data["round"]) for e in rated] == [("不满意", 1), ("满意", 2)]
    # A closed complaint says so first, whatever the round: rated already.
    await refused(world, "already_rated", partial(lifecycle.rate, round=1), complaint, world.me, Rating.SATISFIED)
