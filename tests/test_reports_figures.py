"""Monthly figures against a hand-computed October 2026 (National Day holiday, a transfer declined, a
reopening, an agency nobody rated) — and the factory other report tests build their data with.

The October fixture, cut off at 2026-11-10 12:00 Shanghai time (A = 住建, B = 公安, C = 税务, D = 人社):

| complaint | owner | received (local) | acknowledged | resolved | rating (latest) | notes |
|---|---|---|---|---|---|---|
| a1 | A | 10-01 00:30 (holiday) | on time (due 10-09) | 10-15, on time | 满意 | 推诿扯皮, 慢作为 |
| a2 | A | 10-10 | late | 11-05, on time (re-set due 11-12) | 比较满意 (after 不满意) | 1 extension, reopened, 慢作为 |
| a3 | A | 10-20 | on time | — (due 11-03: overdue) | — | |
| a4 | A | 10-31 23:30 | not yet (due 11-03) | — (due 11-20) | — | |
| a7 | A | 10-05 | on time | 10-18, late (due 10-15): overdue | — | anonymous |
| b2 | B | 10-15 | on time | 10-20, then reopened: in handling again (due 11-20) | 不满意 | 脸难看 |
| b3 | B | 10-16 | on time | 10-22, on time | (rated 11-12, after the cut-off) | |
| b4 | B | 10-17 | on time | 10-25, on time | — | citizen prefers anonymity |
| c1 | C | 10-12 | on time | — (due 11-06: overdue) | — | first at A, declined by B, taken by C; 推诿扯皮 |
| u1 | — | 10-03 | — | — | — | not routed yet; 不作为 |
| a5 | A | 11-01 00:10 | | | | November: not counted |
| a6 | A | 10-08 | | | | withdrawn: not counted |
| s1 | A | 09-10 | on time | 09-20, on time | 满意 | the previous month |
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from reports.figures import AgencyFigures, month_bounds, monthly_figures
from storage.models import (
    ActorKind,
    Agency,
    AgencyRole,
    CatalogueInfo,
    Citizen,
    Complaint,
    ComplaintEvent,
    ComplaintProblem,
    ComplaintStatus,
    Evaluation,
    EvaluationKind,
    EventAction,
)

ZONE = ZoneInfo("Asia/Shanghai")
OCTOBER = date(2026, 10, 1)
CUT_OFF = datetime(2026, 11, 10, 12, 0, tzinfo=ZONE)


def local(month: int, day: int, hour: int = 10, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZONE)


@dataclass
class Factory:
    """Builds complaints, events and ratings directly with the models, as the workflow would leave them."""

    session: AsyncSession
    agencies: dict[str, Agency] = field(default_factory=dict)
    complaints: dict[str, Complaint] = field(default_factory=dict)
    counter: int = 0

    async def agency(self, key: str, name: str, area: str, **extra: object) -> Agency:
        agency = Agency(code=f"test-{key.lower()}", name=name, area=area, **extra)
        self.session.add(agency)
        await self.session.flush()
        self.agencies[key] = agency
        return agency

    async def complaint(
        self,
        key: str,
        owner: str | None,
        received: datetime,
        *,
        status: ComplaintStatus = ComplaintStatus.ACCEPTED,
        problems: tuple[str, ...] = (),
        citizen: Citizen | None = None,
        **columns: object,
    ) -> Complaint:
        self.counter += 1
        owner_id = self.agencies[owner].id if owner else None
        complaint = Complaint(
            tracking_no=f"{received:%Y%m%d}-{self.counter:04d}",
            status=status,
            text=columns.pop("text", f"投诉{key}"),
            created_at=received,
            owner_agency_id=owner_id,
            first_contact_agency_id=columns.pop("first_contact", owner_id),
            citizen_id=citizen.id if citizen else None,
            **columns,
        )
        complaint.problems = [ComplaintProblem(problem_type=problem) for problem in problems]
        self.session.add(complaint)
        await self.session.flush()
        self.complaints[key] = complaint
        return complaint

    async def event(
        self, key: str, action: EventAction, at: datetime, agency: str | None = None, **data: object
    ) -> None:
        complaint = self.complaints[key]
        to_agency = data.pop("to", None)
        self.session.add(
            ComplaintEvent(
                complaint_id=complaint.id,
                at=at,
                action=action,
                actor_kind=ActorKind.SYSTEM,
                agency_id=self.agencies[agency].id if agency else complaint.owner_agency_id,
                to_agency_id=self.agencies[to_agency].id if to_agency else None,  # type: ignore[index]
                **data,
            )
        )

    async def rating(self, key: str, rating: str, at: datetime) -> None:
        complaint = self.complaints[key]
        self.session.add(
            Evaluation(
                kind=EvaluationKind.COMPLAINT_RATING,
                agency_id=complaint.owner_agency_id,
                complaint_id=complaint.id,
                rating=rating,
                created_at=at,
            )
        )

    async def evaluation(self, agency: str, at: datetime, scores: dict[str, int], comment: str | None = None) -> None:
        self.session.add(
            Evaluation(
                kind=EvaluationKind.AGENCY_EVALUATION,
                agency_id=self.agencies[agency].id,
                rating="满意",
                scores=scores,
                comment=comment,
                created_at=at,
            )
        )

    async def citizen(self, name: str, *, prefers_anonymity: bool = False) -> Citizen:
        citizen = Citizen(display_name=name, prefers_anonymity=prefers_anonymity)
        self.session.add(citizen)
        await self.session.flush()
        return citizen


A1_TEXT = (
    "我叫张伟，电话13812345678，住在幸福家园3栋2单元501室。去住建局窗口办房产证，王科长说不归他们管，跑了五趟都没办成。"
)
A1_REPLY = "经核实，已联系张伟先生补办手续，窗口工作人员已批评教育。"


async def build_october(session: AsyncSession) -> Factory:
    """The fixture in the module docstring, committed."""
    f = Factory(session)
    await f.agency("A", "市住建局", "城乡建设")
    await f.agency("B", "市公安局", "政法")
    await f.agency("C", "市税务局", "经济管理")
    await f.agency("D", "市人社局", "劳动和社会保障")
    await f.agency("E", "市效能办", "纪检监察", role=AgencyRole.OVERSIGHT)
    await f.agency("F", "原市工商局", "经济管理", active=False)
    zhang = await f.citizen("张伟")
    private = await f.citizen("李娜", prefers_anonymity=True)

    # a1: received during the National Day holiday; the acknowledgement deadline is after it (10-09).
    await f.complaint(
        "a1",
        "A",
        local(10, 1, 0, 30),
        status=ComplaintStatus.CLOSED,
        problems=("推诿扯皮", "慢作为"),
        citizen=zhang,
        text=A1_TEXT,
        reply_text=A1_REPLY,
        acknowledge_due_at=local(10, 9, 17),
        acknowledged_at=local(10, 8, 9),
        resolve_due_at=local(10, 20, 17),
        resolved_at=local(10, 15),
        closed_at=local(10, 18),
    )
    await f.rating("a1", "满意", local(10, 18))
    # a2: acknowledged late, extended once, resolved, rated 不满意, reopened, resolved again in time.
    await f.complaint(
        "a2",
        "A",
        local(10, 10),
        status=ComplaintStatus.RESOLVED,
        problems=("慢作为",),
        reopen_count=1,
        text="反映小区路灯不亮已经一个月，多次打电话没人管。",
        reply_text="已安排维修，路灯已恢复。",
        acknowledge_due_at=local(10, 12, 17),
        acknowledged_at=local(10, 13),
        extended_days=3,
        resolve_due_at=local(11, 12, 17),
        resolved_at=local(11, 5),
    )
    await f.event("a2", EventAction.EXTENSION_REQUESTED, local(10, 20))
    await f.event("a2", EventAction.EXTENSION_APPROVED, local(10, 21))
    await f.rating("a2", "不满意", local(10, 30))
    await f.event("a2", EventAction.REOPENED, local(10, 30, 11))
    await f.rating("a2", "比较满意", local(11, 6))
    # a3: unresolved past its deadline at the cut-off.
    await f.complaint(
        "a3",
        "A",
        local(10, 20),
        acknowledge_due_at=local(10, 22, 17),
        acknowledged_at=local(10, 21),
        resolve_due_at=local(11, 3, 17),
    )
    # a4: received on the last evening of the month, nothing done yet: late to sign at the cut-off, resolution
    # not due yet.
    await f.complaint(
        "a4",
        "A",
        local(10, 31, 23, 30),
        status=ComplaintStatus.ASSIGNED,
        acknowledge_due_at=local(11, 3, 17),
        resolve_due_at=local(11, 20, 17),
    )
    # a5 is November's (ten past midnight local time, still October 31 in UTC); a6 was withdrawn.
    await f.complaint("a5", "A", local(11, 1, 0, 10), problems=("慢作为",))
    await f.complaint("a6", "A", local(10, 8), status=ComplaintStatus.WITHDRAWN, resolve_due_at=local(10, 9))
    # a7: resolved after its deadline; from an anonymous citizen.
    await f.complaint(
        "a7",
        "A",
        local(10, 5),
        status=ComplaintStatus.CLOSED,
        anonymous=True,
        reply_text="已处理。",
        acknowledge_due_at=local(10, 9, 17),
        acknowledged_at=local(10, 9),
        resolve_due_at=local(10, 15, 17),
        resolved_at=local(10, 18),
        text="匿名反映问题，电话13900001111",
    )
    # B: one rated 不满意 and reopened (the workflow clears resolved_at), one rated only after the cut-off,
    # one from a citizen who prefers anonymity.
    await f.complaint(
        "b2",
        "B",
        local(10, 15),
        status=ComplaintStatus.ACCEPTED,
        problems=("脸难看",),
        reopen_count=1,
        reply_text="已约谈当事民警。",
        acknowledge_due_at=local(10, 16, 17),
        acknowledged_at=local(10, 15, 15),
        resolve_due_at=local(11, 20, 17),
    )
    await f.rating("b2", "不满意", local(10, 21))
    await f.event("b2", EventAction.REOPENED, local(10, 21, 11))
    await f.complaint(
        "b4",
        "B",
        local(10, 17),
        status=ComplaintStatus.CLOSED,
        citizen=private,
        reply_text="已处理。",
        text="反映户籍办理问题，我叫李娜。",
        acknowledge_due_at=local(10, 19, 17),
        acknowledged_at=local(10, 17, 15),
        resolve_due_at=local(10, 30, 17),
        resolved_at=local(10, 25),
    )
    await f.complaint(
        "b3",
        "B",
        local(10, 16),
        status=ComplaintStatus.RESOLVED,
        reply_text="已答复。",
        text="派出所户籍窗口中午无人值守。",
        acknowledge_due_at=local(10, 19, 17),
        acknowledged_at=local(10, 16, 14),
        resolve_due_at=local(10, 30, 17),
        resolved_at=local(10, 22),
    )
    await f.rating("b3", "满意", local(11, 12))
    # c1: first contact A, transferred to B who declined, then to C who took it.
    await f.complaint(
        "c1",
        "C",
        local(10, 12),
        problems=("推诿扯皮",),
        first_contact=f.agencies["A"].id,
        transfer_declines=1,
        acknowledge_due_at=local(10, 19, 17),
        acknowledged_at=local(10, 16),
        resolve_due_at=local(11, 6, 17),
    )
    await f.event("c1", EventAction.TRANSFER_REQUESTED, local(10, 12, 11), agency="A", to="B")
    await f.event("c1", EventAction.TRANSFER_DECLINED, local(10, 13), agency="B", reason="不属于本单位职责")
    await f.event("c1", EventAction.TRANSFER_REQUESTED, local(10, 13, 15), agency="A", to="C")
    await f.event("c1", EventAction.TRANSFER_ACCEPTED, local(10, 14), agency="C", to="C")
    # u1: registered, not routed.
    await f.complaint("u1", None, local(10, 3), status=ComplaintStatus.REGISTERED, problems=("不作为",))
    # s1: September, for the change from the previous month.
    await f.complaint(
        "s1",
        "A",
        local(9, 10),
        status=ComplaintStatus.CLOSED,
        acknowledge_due_at=local(9, 11, 17),
        acknowledged_at=local(9, 10, 15),
        resolve_due_at=local(9, 25, 17),
        resolved_at=local(9, 20),
    )
    await f.rating("s1", "满意", local(9, 21))
    # Standalone evaluations: two of A in October, one of B in November.
    await f.evaluation("A", local(10, 11), {"服务意识": 4, "行政效能": 2})
    await f.evaluation("A", local(10, 25), {"服务意识": 5, "依法行政": 3}, comment="窗口人员态度好，王主任很耐心")
    await f.evaluation("B", local(11, 2), {"服务意识": 1})
    session.add(CatalogueInfo(id=1, region="示例市"))  # as importing the default catalogue records it
    await session.commit()
    return f


def by_code(rows: list[AgencyFigures]) -> dict[str, AgencyFigures]:
    return {row.code: row for row in rows}


def counts(row: AgencyFigures) -> dict[str, int]:
    from reports.figures import COUNT_FIELDS

    return {name: getattr(row, name) for name in COUNT_FIELDS}


def expected(**values: int) -> dict[str, int]:
    from reports.figures import COUNT_FIELDS

    return {name: values.get(name, 0) for name in COUNT_FIELDS}


async def test_october_counts_per_agency_match_the_hand_computed_fixture(session: AsyncSession) -> None:
    await build_october(session)
    figures = await monthly_figures(session, OCTOBER, ZONE, as_of=CUT_OFF)
    rows = by_code(figures.agencies)
    assert counts(rows["test-a"]) == expected(
        received=5,
        acknowledged_on_time=3,
        due_for_acknowledgement=5,
        due_for_resolution=4,  # not a4: its resolve deadline (11-20) is after the cut-off
        resolved=3,
        resolved_on_time=2,
        overdue=2,
        extensions=1,
        rated=2,
        satisfied=2,
        reopened=1,
    )
    assert counts(rows["test-b"]) == expected(
        received=3,
        acknowledged_on_time=3,
        due_for_acknowledgement=3,
        due_for_resolution=2,  # not b2: reopened, due again 11-20
        resolved=2,
        resolved_on_time=2,
        rated=1,
        reopened=1,
        reopened_in_progress=1,
        transfers_in=1,
        declined=1,
    )
    assert counts(rows["test-c"]) == expected(
        received=1, acknowledged_on_time=1, due_for_acknowledgement=1, due_for_resolution=1, overdue=1, transfers_in=1
    )
    assert counts(rows["test-d"]) == expected()


async def test_total_includes_unrouted_complaints_and_rates_are_ratios_of_the_sums(session: AsyncSession) -> None:
    await build_october(session)
    total = (await monthly_figures(session, OCTOBER, ZONE, as_of=CUT_OFF)).total
    assert counts(total) == expected(
        received=10,
        acknowledged_on_time=7,
        due_for_acknowledgement=9,  # not u1: unrouted, no deadline yet
        due_for_resolution=7,
        resolved=5,
        resolved_on_time=4,
        overdue=3,
        extensions=1,
        rated=3,
        satisfied=2,
        reopened=2,
        reopened_in_progress=1,
        transfers_in=2,
        declined=1,
    )
    assert total.response_rate == 7 / 9
    assert total.resolution_rate == 5 / 7
    assert total.on_time_rate == 4 / 7
    assert total.satisfaction_rate == 2 / 3
    assert total.reopen_rate == 2 / (5 + 1)
    assert total.decline_rate == 1 / 2


async def test_rates_are_undefined_not_zero_when_nobody_rated_or_nothing_resolved(session: AsyncSession) -> None:
    await build_october(session)
    rows = by_code((await monthly_figures(session, OCTOBER, ZONE, as_of=CUT_OFF)).agencies)
    assert rows["test-c"].satisfaction_rate is None
    assert rows["test-c"].on_time_rate == 0  # c1 overdue, unresolved
    assert rows["test-c"].decline_rate == 0
    assert rows["test-d"].response_rate is None


async def test_rates_count_only_what_was_due_by_the_cut_off(session: AsyncSession) -> None:
    """At midnight after the month a4 (signing due 11-03), a3 (resolution due 11-03) and c1 are not due
    yet: they count in 收到量 but neither for nor against any rate."""
    await build_october(session)
    rows = by_code((await monthly_figures(session, OCTOBER, ZONE, as_of=local(11, 1, 0, 0))).agencies)
    a, c = rows["test-a"], rows["test-c"]
    assert (a.received, a.due_for_acknowledgement, a.due_for_resolution) == (5, 4, 2)  # a2: resolved 11-05
    assert (a.response_rate, a.resolution_rate, a.on_time_rate) == (3 / 4, 2 / 2, 1 / 2)
    assert (c.received, c.due_for_resolution, c.resolution_rate, c.on_time_rate) == (1, 0, None, None)


async def test_an_agency_with_nothing_due_has_no_rates(session: AsyncSession) -> None:
    await build_october(session)
    november = await monthly_figures(session, date(2026, 11, 1), ZONE, as_of=CUT_OFF)
    a = by_code(november.agencies)["test-a"]  # a5: received, no deadline set yet
    assert (a.received, a.response_rate, a.resolution_rate, a.on_time_rate) == (1, None, None, None)


async def test_oversight_and_inactive_agencies_without_complaints_are_not_listed(session: AsyncSession) -> None:
    await build_october(session)
    codes = [row.code for row in (await monthly_figures(session, OCTOBER, ZONE, as_of=CUT_OFF)).agencies]
    assert codes == ["test-a", "test-b", "test-c", "test-d"]


async def test_month_is_the_local_calendar_month(session: AsyncSession) -> None:
    await build_october(session)
    start, end = month_bounds(OCTOBER, ZONE)
    assert start == local(10, 1, 0, 0) and end == local(11, 1, 0, 0)
    november = await monthly_figures(session, date(2026, 11, 1), ZONE, as_of=CUT_OFF)
    assert november.total.received == 1  # a5, received at 00:10 local on 1 November
    utc = await monthly_figures(session, OCTOBER, ZoneInfo("UTC"), as_of=CUT_OFF)
    assert utc.total.received == 10 - 1 + 1  # in UTC a1 is September's and a5 is October's


async def test_a_rating_after_the_cut_off_is_not_counted(session: AsyncSession) -> None:
    await build_october(session)
    later = await monthly_figures(session, OCTOBER, ZONE, as_of=CUT_OFF + timedelta(days=5))
    b = by_code(later.agencies)["test-b"]
    assert (b.rated, b.satisfied) == (2, 1)


async def test_the_earlier_cut_off_sees_the_earlier_state(session: AsyncSession) -> None:
    """At the end of October a2 was resolved only after its reopening on 11-05, so it is not yet resolved."""
    await build_october(session)
    at_month_end = await monthly_figures(session, OCTOBER, ZONE, as_of=local(11, 1, 0, 0))
    a = by_code(at_month_end.agencies)["test-a"]
    assert (a.resolved, a.overdue, a.rated, a.satisfied) == (2, 1, 2, 1)


async def test_problem_types_are_counted_per_complaint_most_frequent_first(session: AsyncSession) -> None:
    await build_october(session)
    figures = await monthly_figures(session, OCTOBER, ZONE, as_of=CUT_OFF)
    assert dict(figures.problem_types) == {"推诿扯皮": 2, "慢作为": 2, "脸难看": 1, "不作为": 1}
    assert [count for _, count in figures.problem_types] == [2, 2, 1, 1]
    a = figures.problems_by_agency[figures.agencies[0].agency_id]
    assert dict(a) == {"慢作为": 2, "推诿扯皮": 1}


async def test_one_agency_only(session: AsyncSession) -> None:
    factory = await build_october(session)
    figures = await monthly_figures(session, OCTOBER, ZONE, agency_id=factory.agencies["B"].id, as_of=CUT_OFF)
    # b2 reopened and in handling again, b3 and b4 resolved: resolved at least once 3, reopened 1.
    assert figures.agencies[0].reopen_rate == 1 / 3
    assert [row.code for row in figures.agencies] == ["test-b"]
    assert counts(figures.total) == counts(figures.agencies[0])


async def test_a_month_without_complaints_has_zero_counts_and_no_rates(session: AsyncSession) -> None:
    await build_october(session)
    figures = await monthly_figures(session, date(2026, 12, 1), ZONE, as_of=CUT_OFF)
    assert figures.total.received == 0
    assert figures.total.response_rate is None and figures.total.satisfaction_rate is None
    assert figures.problem_types == []


async def test_two_months_in_one_pass_equal_each_month_computed_alone(session: AsyncSession) -> None:
    from reports.figures import figures_for_months

    await build_october(session)
    september_cut_off = CUT_OFF - timedelta(days=30)
    both = await figures_for_months(session, [(date(2026, 9, 1), september_cut_off), (OCTOBER, CUT_OFF)], ZONE)
    alone = [
        await monthly_figures(session, date(2026, 9, 1), ZONE, as_of=september_cut_off),
        await monthly_figures(session, OCTOBER, ZONE, as_of=CUT_OFF),
    ]
    assert both == alone
    assert both[0].total.received == 1 and both[0].total.satisfied == 1


async def withdrawn_transfer(f: Factory, *, withdrawn_at: datetime) -> None:
    """w1: D asks B to take it, takes the request back, and keeps the complaint."""
    await f.complaint(
        "w1",
        "D",
        local(10, 20),
        acknowledge_due_at=local(10, 23, 17),
        acknowledged_at=local(10, 21),
        resolve_due_at=local(11, 20, 17),
    )
    await f.event("w1", EventAction.TRANSFER_REQUESTED, local(10, 20, 11), agency="D", to="B")
    await f.event(
        "w1", EventAction.TRANSFER_WITHDRAWN, withdrawn_at, agency="D", to="D", from_agency_id=f.agencies["B"].id
    )


async def test_a_withdrawn_transfer_is_no_transfer_in_for_the_receiver(session: AsyncSession) -> None:
    """撤回转办 happens before the receiver answers: it could neither accept nor decline, so the request
    is not in 回退率's denominator (B declined c1, its one real transfer in: 1/1)."""
    f = await build_october(session)
    await withdrawn_transfer(f, withdrawn_at=local(10, 20, 15))
    figures = await monthly_figures(session, OCTOBER, ZONE, as_of=CUT_OFF)
    b = by_code(figures.agencies)["test-b"]
    assert (b.transfers_in, b.declined, b.decline_rate) == (1, 1, 1.0)
    assert (figures.total.transfers_in, figures.total.declined) == (2, 1)


async def test_a_transfer_withdrawn_after_the_cut_off_still_counts_as_pending_then(session: AsyncSession) -> None:
    f = await build_october(session)
    await withdrawn_transfer(f, withdrawn_at=CUT_OFF + timedelta(hours=1))
    b = by_code((await monthly_figures(session, OCTOBER, ZONE, as_of=CUT_OFF)).agencies)["test-b"]
    assert (b.transfers_in, b.declined) == (2, 1)


async def test_a_transfer_asked_again_after_a_withdrawal_counts_once(session: AsyncSession) -> None:
    f = await build_october(session)
    await withdrawn_transfer(f, withdrawn_at=local(10, 20, 15))
    await f.event("w1", EventAction.TRANSFER_REQUESTED, local(10, 21, 9), agency="D", to="B")
    await f.event("w1", EventAction.TRANSFER_DECLINED, local(10, 21, 16), agency="B", reason="不属于本单位职责")
    b = by_code((await monthly_figures(session, OCTOBER, ZONE, as_of=CUT_OFF)).agencies)["test-b"]
    assert (b.transfers_in, b.declined) == (2, 2)


async def reopened_complaint(f: Factory, key: str, *, reopened: datetime, resolved_again: datetime | None) -> None:
    """``key``: B's, replied to on 10-24 in time, rated 不满意 and reopened (重办) at ``reopened``, replied
    to again at ``resolved_again`` — the columns as the workflow leaves them, the events it appends."""
    resolve_due = local(10, 30, 17)
    reopen_due = reopened + timedelta(days=10)
    await f.complaint(
        key,
        "B",
        local(10, 18),
        status=ComplaintStatus.ACCEPTED if resolved_again is None else ComplaintStatus.RESOLVED,
        reopen_count=1,
        reply_text="已处理。",
        acknowledge_due_at=local(10, 20, 17),
        acknowledged_at=local(10, 18, 15),
        resolve_due_at=reopen_due,
        resolved_at=resolved_again,
    )
    first_reply = {"on_time": True, "resolve_due": resolve_due.isoformat()}
    await f.event(key, EventAction.RESOLVED, local(10, 24), data=first_reply)
    await f.rating(key, "不满意", reopened)
    await f.event(key, EventAction.REOPENED, reopened, data={"resolve_due": reopen_due.isoformat()})
    if resolved_again is not None:
        await f.event(
            key, EventAction.RESOLVED, resolved_again, data={"on_time": True, "resolve_due": reopen_due.isoformat()}
        )
    await f.session.commit()


async def test_a_reopening_after_the_cut_off_leaves_the_complaint_resolved_as_of_the_cut_off(
    session: AsyncSession,
) -> None:
    """The 重办 clears ``resolved_at``, but at the cut-off the reply stood: a month computed again after
    a later 重办 must not change (b5 adds to B's resolved, on time, not reopened)."""
    f = await build_october(session)
    await reopened_complaint(f, "b5", reopened=CUT_OFF + timedelta(days=20), resolved_again=None)
    b = by_code((await monthly_figures(session, OCTOBER, ZONE, as_of=CUT_OFF)).agencies)["test-b"]
    assert (b.received, b.due_for_resolution, b.resolved, b.resolved_on_time, b.overdue) == (4, 3, 3, 3, 0)
    assert (b.reopened, b.reopened_in_progress, b.rated) == (1, 1, 1)  # b2's; b5's 不满意 came after
    assert b.reopen_rate == 1 / (3 + 1)


async def test_a_reopening_before_the_cut_off_replied_to_after_it_is_reopened_and_in_progress(
    session: AsyncSession,
) -> None:
    f = await build_october(session)
    await reopened_complaint(f, "b6", reopened=local(10, 26), resolved_again=CUT_OFF + timedelta(days=2))
    b = by_code((await monthly_figures(session, OCTOBER, ZONE, as_of=CUT_OFF)).agencies)["test-b"]
    assert (b.received, b.due_for_resolution, b.resolved, b.resolved_on_time, b.overdue) == (4, 3, 2, 2, 1)
    assert (b.reopened, b.reopened_in_progress, b.rated) == (2, 2, 2)
    assert b.reopen_rate == 2 / (2 + 2)


async def test_a_month_computed_again_after_a_reopening_keeps_its_figures(session: AsyncSession) -> None:
    """The tester's case: October computed, a December 重办 of a B complaint, October computed again."""
    f = await build_october(session)
    before = await monthly_figures(session, OCTOBER, ZONE, as_of=CUT_OFF)
    b4 = f.complaints["b4"]
    await f.event("b4", EventAction.RESOLVED, local(10, 25), data={"on_time": True})
    await f.event("b4", EventAction.REOPENED, local(12, 2))
    b4.status, b4.resolved_at, b4.resolve_due_at, b4.reopen_count = ComplaintStatus.ACCEPTED, None, local(12, 16), 1
    await session.commit()
    assert await monthly_figures(session, OCTOBER, ZONE, as_of=CUT_OFF) == before


async def test_a_complaint_withdrawn_after_the_cut_off_still_counts_as_of_the_cut_off(session: AsyncSession) -> None:
    """b7 was overdue and open at the cut-off; the citizen withdrew it a week later. Withdrawn complaints
    are not the agency's work — from the withdrawal on, not retroactively."""
    f = await build_october(session)
    await f.complaint(
        "b7",
        "B",
        local(10, 20),
        status=ComplaintStatus.WITHDRAWN,
        acknowledge_due_at=local(10, 22, 17),
        acknowledged_at=local(10, 21),
        resolve_due_at=local(11, 3, 17),
        closed_at=CUT_OFF + timedelta(days=7),
    )
    await session.commit()
    b = by_code((await monthly_figures(session, OCTOBER, ZONE, as_of=CUT_OFF)).agencies)["test-b"]
    assert (b.received, b.due_for_resolution, b.overdue) == (4, 3, 1)
    later = by_code((await monthly_figures(session, OCTOBER, ZONE, as_of=CUT_OFF + timedelta(days=8))).agencies)
    assert (later["test-b"].received, later["test-b"].overdue) == (3, 0)


async def moved_complaint(f: Factory, change: EventAction, at: datetime) -> None:
    """d1: first contact A, now D's after ``change`` (a transfer accepted or a 审定) at ``at`` — the
    columns as the workflow leaves them. Rated, extended and tagged before the cut-off, so every figure
    query must attribute it."""
    await f.complaint(
        "d1",
        "D",
        local(10, 21),
        status=ComplaintStatus.ACCEPTED,
        problems=("乱作为",),
        first_contact=f.agencies["A"].id,
        acknowledge_due_at=local(10, 23, 17),
        resolve_due_at=local(11, 20, 17),
    )
    await f.event("d1", EventAction.EXTENSION_APPROVED, local(10, 22), agency="A")
    await f.rating("d1", "满意", local(10, 25))
    if change == EventAction.TRANSFER_ACCEPTED:
        await f.event("d1", EventAction.TRANSFER_REQUESTED, at - timedelta(hours=1), agency="A", to="D")
    await f.event("d1", change, at, agency="D", to="D")
    await f.session.commit()


async def owner_rows(session: AsyncSession, agency: Agency | None = None) -> dict[str, tuple[int, int, int, int]]:
    """(received, extensions, rated, 乱作为) per agency code, as of the October cut-off."""
    agency_id = agency.id if agency is not None else None
    figures = await monthly_figures(session, OCTOBER, ZONE, as_of=CUT_OFF, agency_id=agency_id)
    problems = {owner: dict(found) for owner, found in figures.problems_by_agency.items()}
    return {
        row.code: (row.received, row.extensions, row.rated, problems.get(row.agency_id or 0, {}).get("乱作为", 0))
        for row in figures.agencies
    }


async def test_a_transfer_accepted_after_the_cut_off_leaves_the_complaint_with_its_first_contact(
    session: AsyncSession,
) -> None:
    """首问负责制: until the receiver accepts, the complaint is the first agency's; a month computed again
    after a later acceptance must not move it."""
    f = await build_october(session)
    before = await owner_rows(session)
    await moved_complaint(f, EventAction.TRANSFER_ACCEPTED, CUT_OFF + timedelta(days=3))
    after = await owner_rows(session)
    assert after["test-a"] == (6, 2, 3, 1) and before["test-a"] == (5, 1, 2, 0)
    assert after["test-d"] == before["test-d"] == (0, 0, 0, 0)
    assert (await owner_rows(session, f.agencies["A"]))["test-a"] == (6, 2, 3, 1)
    assert (await owner_rows(session, f.agencies["D"]))["test-d"] == (0, 0, 0, 0)


async def test_a_transfer_accepted_before_the_cut_off_moves_the_complaint_to_the_receiver(
    session: AsyncSession,
) -> None:
    f = await build_october(session)
    await moved_complaint(f, EventAction.TRANSFER_ACCEPTED, local(10, 24))
    rows = await owner_rows(session)
    assert (rows["test-a"], rows["test-d"]) == ((5, 1, 2, 0), (1, 1, 1, 1))
    assert (await owner_rows(session, f.agencies["D"]))["test-d"] == (1, 1, 1, 1)


async def test_a_ruling_after_the_cut_off_leaves_the_complaint_with_its_first_contact(session: AsyncSession) -> None:
    f = await build_october(session)
    await moved_complaint(f, EventAction.DISPUTE_RULED, CUT_OFF + timedelta(days=3))
    rows = await owner_rows(session)
    assert (rows["test-a"], rows["test-d"]) == ((6, 2, 3, 1), (0, 0, 0, 0))
    later = await monthly_figures(session, OCTOBER, ZONE, as_of=CUT_OFF + timedelta(days=4))
    assert by_code(later.agencies)["test-d"].received == 1
