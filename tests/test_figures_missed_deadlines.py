"""A deadline missed is recorded for good (延时追究制): driven through the real workflow on a moved clock,
a complaint whose deadline passed unmet stays 超期 (and never 按期办结) in the month's figures, the
publication's typical cases and the rectification notice — whatever a later 重办 reply or an extension
approved after the deadline did to the complaint's columns."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from reports.figures import AgencyFigures, figures_for_months, monthly_figures
from reports.publication import publication_cut_off, read_table, typical_cases
from reports.rectification import build_rectification
from reports.snapshots import release, released, render_month
from storage.models import Complaint, ComplaintEvent, EventAction, PublicationSnapshot
from storage.vocabulary import Rating
from tests.factories import ZONE, World, local
from workflow import lifecycle, timekeeper

NOVEMBER = date(2026, 11, 1)
#: Filed Monday 2 November 10:00: signing due that afternoon, resolution due Monday 9 November 17:30.
FILED = local(2026, 11, 2, 10)
RESOLVE_DUE = local(2026, 11, 9, 17, 30)


async def police(session: AsyncSession, as_of: datetime) -> AgencyFigures:
    figures = await monthly_figures(session, NOVEMBER, ZONE, as_of=as_of)
    return {row.code: row for row in figures.agencies}["public-security"]


def on_time_and_overdue(row: AgencyFigures) -> tuple[int, int, int]:
    return row.resolved_on_time, row.due_for_resolution, row.overdue


async def accepted_complaint(world: World) -> Complaint:
    world.clock.set(FILED)
    complaint = await world.complaint()
    world.clock.set(local(2026, 11, 2, 10, 30))
    await lifecycle.accept(world.session, world.clock, world.deadlines, complaint.id, world.police)
    await world.session.commit()
    assert complaint.resolve_due_at == RESOLVE_DUE
    return complaint


async def tick(
    world: World, session_factory: async_sessionmaker[AsyncSession], complaint: Complaint, moment: datetime
) -> None:
    """Move the clock and let the timekeeper do what is due (催办, 督办)."""
    await world.session.commit()
    world.clock.set(moment)
    await timekeeper.run_once(session_factory, world.clock, world.deadlines)
    await world.session.refresh(complaint)


async def missed_actions(session: AsyncSession, complaint: Complaint) -> list[str]:
    """The timekeeper's 催办 and 督办 recorded for the complaint."""
    actions = await session.scalars(
        select(ComplaintEvent.action)
        .where(
            ComplaintEvent.complaint_id == complaint.id,
            ComplaintEvent.action.in_([EventAction.URGED.value, EventAction.ESCALATED.value]),
        )
        .order_by(ComplaintEvent.id)
    )
    return list(actions)


async def test_a_reopening_does_not_wipe_out_a_late_first_reply(
    world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    s, clock, deadlines = world.session, world.clock, world.deadlines
    complaint = await accepted_complaint(world)
    await tick(world, session_factory, complaint, local(2026, 11, 9, 17, 31))  # 催办
    await tick(world, session_factory, complaint, local(2026, 11, 10, 17, 31))  # 督办
    assert await missed_actions(s, complaint) == ["urged", "escalated"]

    clock.set(local(2026, 11, 12, 10))
    await lifecycle.resolve(s, clock, deadlines, complaint.id, world.police, "已处理")
    await s.commit()
    assert on_time_and_overdue(await police(s, local(2026, 11, 12, 12))) == (0, 1, 1)

    clock.set(local(2026, 11, 13, 10))
    await lifecycle.rate(s, clock, deadlines, complaint.id, world.me, Rating.DISSATISFIED)
    await s.commit()
    # Being redone, with its new deadline ahead: still late on the first one.
    assert on_time_and_overdue(await police(s, local(2026, 11, 13, 12))) == (0, 1, 1)
    clock.set(local(2026, 11, 16, 10))
    await lifecycle.resolve(s, clock, deadlines, complaint.id, world.police, "重新办理后答复")
    await s.commit()
    assert complaint.resolve_due_at is not None and complaint.resolved_at <= complaint.resolve_due_at

    cut_off = publication_cut_off(NOVEMBER, deadlines)
    row = await police(s, cut_off)
    assert (row.resolved, *on_time_and_overdue(row)) == (1, 0, 1, 1)
    assert row.on_time_rate == 0.0
    # The figures of an earlier moment, taken after the 重办 rewrote the columns, say what they said then.
    assert on_time_and_overdue(await police(s, local(2026, 11, 12, 12))) == (0, 1, 1)

    [case] = await typical_cases(s, NOVEMBER, ZONE, cut_off)
    assert (case.reopened, case.escalated, case.on_time) == (True, True, False)
    notice = await build_rectification(
        s, "public-security", date(2026, 11, 1), date(2026, 11, 30), ZONE, deadlines=deadlines, now=cut_off
    )
    assert [item.overdue for item in notice.complaints] == [True]


async def test_a_late_reply_stays_late_after_a_reopening_even_when_no_reminder_was_recorded(world: World) -> None:
    """The timekeeper was down: the RESOLVED event's own on_time says the first reply was late."""
    s, clock, deadlines = world.session, world.clock, world.deadlines
    complaint = await accepted_complaint(world)
    clock.set(local(2026, 11, 10, 10))
    await lifecycle.resolve(s, clock, deadlines, complaint.id, world.police, "已处理")
    clock.set(local(2026, 11, 11, 10))
    await lifecycle.rate(s, clock, deadlines, complaint.id, world.me, Rating.DISSATISFIED)
    clock.set(local(2026, 11, 12, 10))
    await lifecycle.resolve(s, clock, deadlines, complaint.id, world.police, "重新办理后答复")
    await s.commit()
    assert await missed_actions(s, complaint) == []
    cut_off = publication_cut_off(NOVEMBER, deadlines)
    assert on_time_and_overdue(await police(s, cut_off)) == (0, 1, 1)
    # Before the deadline it was not late yet; after it, late (a reply not in yet counts as unmet).
    assert on_time_and_overdue(await police(s, RESOLVE_DUE)) == (0, 0, 0)
    assert on_time_and_overdue(await police(s, RESOLVE_DUE + timedelta(seconds=1))) == (0, 1, 1)


async def test_a_timely_reply_to_a_reopening_after_a_timely_first_reply_is_on_time(world: World) -> None:
    s, clock, deadlines = world.session, world.clock, world.deadlines
    complaint = await accepted_complaint(world)
    clock.set(local(2026, 11, 6, 10))
    await lifecycle.resolve(s, clock, deadlines, complaint.id, world.police, "已处理")
    clock.set(local(2026, 11, 9, 10))
    await lifecycle.rate(s, clock, deadlines, complaint.id, world.me, Rating.DISSATISFIED)
    clock.set(local(2026, 11, 12, 10))
    await lifecycle.resolve(s, clock, deadlines, complaint.id, world.police, "重新办理后答复")
    await s.commit()
    # The first deadline (11-09) has passed meanwhile, but it was met on 11-06.
    assert on_time_and_overdue(await police(s, publication_cut_off(NOVEMBER, deadlines))) == (1, 1, 0)


async def test_a_missed_reopening_deadline_counts_as_overdue(world: World) -> None:
    s, clock, deadlines = world.session, world.clock, world.deadlines
    complaint = await accepted_complaint(world)
    clock.set(local(2026, 11, 6, 10))
    await lifecycle.resolve(s, clock, deadlines, complaint.id, world.police, "已处理")
    clock.set(local(2026, 11, 9, 10))
    await lifecycle.rate(s, clock, deadlines, complaint.id, world.me, Rating.DISSATISFIED)
    await s.commit()
    redo_due = complaint.resolve_due_at
    assert redo_due is not None
    assert on_time_and_overdue(await police(s, redo_due)) == (0, 0, 0)  # being redone, nothing due yet
    assert on_time_and_overdue(await police(s, redo_due + timedelta(seconds=1))) == (0, 1, 1)
    clock.set(redo_due + timedelta(days=1))
    await lifecycle.resolve(s, clock, deadlines, complaint.id, world.police, "重新办理后答复")
    await s.commit()
    assert on_time_and_overdue(await police(s, publication_cut_off(NOVEMBER, deadlines))) == (0, 1, 1)


async def ask_for_three_days(world: World, complaint: Complaint, at: datetime) -> None:
    world.clock.set(at)
    await lifecycle.request_extension(
        world.session, world.clock, world.deadlines, complaint.id, world.police, 3, "需现场勘验"
    )
    await world.session.commit()


async def approve(world: World, complaint: Complaint, at: datetime) -> None:
    world.clock.set(at)
    await lifecycle.decide_extension(
        world.session, world.clock, world.deadlines, complaint.id, world.oversight, True, "同意"
    )
    await world.session.commit()


async def test_an_extension_approved_after_the_deadline_does_not_make_it_on_time(
    world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    s, clock, deadlines = world.session, world.clock, world.deadlines
    complaint = await accepted_complaint(world)
    await ask_for_three_days(world, complaint, local(2026, 11, 9, 16))
    await tick(world, session_factory, complaint, local(2026, 11, 9, 17, 31))  # 催办
    await tick(world, session_factory, complaint, local(2026, 11, 10, 17, 31))  # 督办
    assert on_time_and_overdue(await police(s, local(2026, 11, 10, 18))) == (0, 1, 1)
    await approve(world, complaint, local(2026, 11, 11, 10))
    assert complaint.resolve_due_at == local(2026, 11, 12, 17, 30)
    clock.set(local(2026, 11, 12, 10))
    await lifecycle.resolve(s, clock, deadlines, complaint.id, world.police, "已处理")
    await s.commit()

    assert on_time_and_overdue(await police(s, local(2026, 11, 12, 12))) == (0, 1, 1)
    assert on_time_and_overdue(await police(s, publication_cut_off(NOVEMBER, deadlines))) == (0, 1, 1)
    # Taken after the approval moved the deadline, the figures of 11-10 still see it overdue then.
    assert on_time_and_overdue(await police(s, local(2026, 11, 10, 18))) == (0, 1, 1)


async def test_a_late_approval_counts_even_when_no_reminder_was_recorded(world: World) -> None:
    """The timekeeper was down: no 催办 was recorded, but the deadline history says it passed unmet."""
    s, clock, deadlines = world.session, world.clock, world.deadlines
    complaint = await accepted_complaint(world)
    await ask_for_three_days(world, complaint, local(2026, 11, 9, 16))
    await approve(world, complaint, local(2026, 11, 10, 9, 30))
    clock.set(local(2026, 11, 11, 10))
    await lifecycle.resolve(s, clock, deadlines, complaint.id, world.police, "已处理")
    await s.commit()
    assert await missed_actions(s, complaint) == []
    assert on_time_and_overdue(await police(s, publication_cut_off(NOVEMBER, deadlines))) == (0, 1, 1)


async def test_an_extension_approved_before_the_deadline_keeps_a_timely_reply_on_time(
    world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    s, clock, deadlines = world.session, world.clock, world.deadlines
    complaint = await accepted_complaint(world)
    await ask_for_three_days(world, complaint, local(2026, 11, 9, 10))
    await approve(world, complaint, local(2026, 11, 9, 17, 30))  # at the very moment: in time
    await tick(world, session_factory, complaint, local(2026, 11, 10, 17, 31))
    assert await missed_actions(s, complaint) == []
    clock.set(local(2026, 11, 12, 10))
    await lifecycle.resolve(s, clock, deadlines, complaint.id, world.police, "已处理")
    await s.commit()
    assert on_time_and_overdue(await police(s, publication_cut_off(NOVEMBER, deadlines))) == (1, 1, 0)
    [case] = await typical_cases(s, NOVEMBER, ZONE, publication_cut_off(NOVEMBER, deadlines))
    assert case.on_time is True


async def test_a_late_signing_counts_against_the_response_rate_not_as_overdue(
    world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    s, clock, deadlines = world.session, world.clock, world.deadlines
    clock.set(FILED)
    complaint = await world.complaint()
    ack_due = complaint.acknowledge_due_at
    assert ack_due is not None
    # Not signed for yet, its signing deadline passed: late to sign, not yet due for resolution.
    row = await police(s, ack_due + timedelta(minutes=1))
    assert (row.due_for_acknowledgement, row.acknowledged_on_time, *on_time_and_overdue(row)) == (1, 0, 0, 0, 0)
    await tick(world, session_factory, complaint, ack_due + timedelta(minutes=1))  # 催办 of the signing clock
    clock.set(local(2026, 11, 3, 10))
    await lifecycle.accept(s, clock, deadlines, complaint.id, world.police)
    clock.set(local(2026, 11, 4, 10))
    await lifecycle.resolve(s, clock, deadlines, complaint.id, world.police, "已处理")
    await s.commit()
    assert complaint.resolve_due_at is not None and complaint.resolved_at <= complaint.resolve_due_at
    row = await police(s, publication_cut_off(NOVEMBER, deadlines))
    assert (row.resolved, row.acknowledged_on_time, *on_time_and_overdue(row)) == (1, 0, 1, 1, 0)


async def test_two_months_in_one_pass_keep_each_months_missed_deadlines(world: World) -> None:
    """The publication computes its month and the month before in one pass, each with its own cut-off."""
    s, clock, deadlines = world.session, world.clock, world.deadlines
    # October: replied a day late, reopened, replied again in time.
    clock.set(local(2026, 10, 26, 10))
    october = await world.complaint()
    await lifecycle.accept(s, clock, deadlines, october.id, world.police)
    assert october.resolve_due_at is not None
    clock.set(october.resolve_due_at + timedelta(days=1))
    await lifecycle.resolve(s, clock, deadlines, october.id, world.police, "已处理")
    await lifecycle.rate(s, clock, deadlines, october.id, world.me, Rating.DISSATISFIED)
    await lifecycle.resolve(s, clock, deadlines, october.id, world.police, "重新办理后答复")
    # November: an extension approved the day after the deadline.
    november = await accepted_complaint(world)
    await ask_for_three_days(world, november, local(2026, 11, 9, 16))
    await approve(world, november, local(2026, 11, 10, 10))
    clock.set(local(2026, 11, 11, 10))
    await lifecycle.resolve(s, clock, deadlines, november.id, world.police, "已处理")
    await s.commit()

    months = [(date(2026, 10, 1), local(2026, 11, 6, 17, 30)), (NOVEMBER, local(2026, 12, 7, 17, 30))]
    both = await figures_for_months(s, months, ZONE)
    alone = [await monthly_figures(s, month, ZONE, as_of=as_of) for month, as_of in months]
    assert both == alone
    for figures in both:
        row = {row.code: row for row in figures.agencies}["public-security"]
        assert (row.resolved, *on_time_and_overdue(row)) == (1, 0, 1, 1)


async def test_a_month_released_before_the_rule_keeps_its_published_document(world: World) -> None:
    """A released publication is a document: the rule changes the figures of months released from now on,
    not those already released (only `minsheng publication reissue` takes a month back to be released
    afresh). A month stored by its first reader before releasing existed counts as released."""
    s, clock, deadlines = world.session, world.clock, world.deadlines
    complaint = await accepted_complaint(world)
    clock.set(local(2026, 11, 10, 10))
    await lifecycle.resolve(s, clock, deadlines, complaint.id, world.police, "已处理")
    await s.commit()
    now = publication_cut_off(NOVEMBER, deadlines) + timedelta(days=1)
    fresh = await render_month(s, NOVEMBER, deadlines, now)
    assert read_table(fresh.csv).total["超期"] == "1"
    # Stored earlier, under the rule before this one, by nobody recorded: served as stored.
    s.add(PublicationSnapshot(month=NOVEMBER, html="<p>旧文档</p>", csv=b"old", xlsx=b"old", created_at=now))
    await s.commit()
    outcome = await release(s, NOVEMBER, deadlines, now + timedelta(days=1), "chief")
    assert not outcome.fresh and outcome.snapshot.released_by is None and outcome.snapshot.created_at == now
    public = await released(s, NOVEMBER)
    assert public is not None
    assert (public.html, public.csv, public.xlsx) == ("<p>旧文档</p>", b"old", b"old")
