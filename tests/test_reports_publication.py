"""The assembled publication: ranking, change from the previous month, typical cases, evaluations."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from reports.figures import AgencyFigures
from reports.publication import build_publication, read_table, render_csv
from reports.ranking import composite_score, rank_agencies
from storage.models import EventAction
from tests.test_reports_figures import CUT_OFF, OCTOBER, ZONE, build_october, reopened_complaint


def agency(code: str, **counts: int) -> AgencyFigures:
    return AgencyFigures(agency_id=hash(code) % 10_000, code=code, name=code, area=None, **counts)


def perfect(code: str, received: int = 10, satisfied: int = 10) -> AgencyFigures:
    return agency(
        code,
        received=received,
        acknowledged_on_time=received,
        due_for_acknowledgement=received,
        due_for_resolution=received,
        resolved=received,
        resolved_on_time=received,
        rated=10,
        satisfied=satisfied,
    )


def test_score_weighs_response_resolution_on_time_and_satisfaction() -> None:
    row = agency(
        "x",
        received=12,
        acknowledged_on_time=8,
        due_for_acknowledgement=10,
        due_for_resolution=10,
        resolved=5,
        resolved_on_time=4,
        rated=4,
        satisfied=3,
    )
    # 30 × 8/10 + 20 × 5/10 + 20 × 4/10 + 30 × 0.75 = 24 + 10 + 8 + 22.5
    assert composite_score(row) == 64.5


def test_score_leaves_out_an_undefined_rate_instead_of_counting_it_as_zero() -> None:
    row = agency("x", received=4, acknowledged_on_time=4, due_for_acknowledgement=4)  # nothing due to resolve
    # 30 × 1 ÷ 30 of the weights: 办结率, 按期办结率 and 满意率 are undefined
    assert composite_score(row) == 100.0
    row = agency("y", received=4, acknowledged_on_time=4, due_for_acknowledgement=4, due_for_resolution=4)
    # (30 × 1 + 20 × 0 + 20 × 0) ÷ 70 of the weights: nobody rated
    assert composite_score(row) == 42.86
    assert composite_score(agency("idle")) is None


def test_agencies_without_complaints_are_listed_but_not_ranked() -> None:
    ranked = rank_agencies([agency("idle"), perfect("busy")], [])
    assert [(row.figures.code, row.rank) for row in ranked] == [("busy", 1), ("idle", None)]


def test_the_last_three_are_marked_and_equal_scores_share_a_rank() -> None:
    rows = [perfect(f"a{score:02d}", satisfied=score) for score in (10, 9, 9, 8, 7, 6)]
    ranked = rank_agencies(rows, [])
    assert [row.rank for row in ranked] == [1, 2, 2, 4, 5, 6]
    assert [row.figures.code for row in ranked if row.last_three] == ["a08", "a07", "a06"]


def test_a_tie_inside_the_last_three_positions_is_marked_whole() -> None:
    rows = [perfect(f"a{index}", satisfied=score) for index, score in enumerate((10, 9, 8, 8, 8))]
    assert [row.figures.code for row in rank_agencies(rows, []) if row.last_three] == ["a2", "a3", "a4"]


def test_a_tie_straddling_the_last_three_positions_is_not_marked() -> None:
    # Ranks 1, 2, 2, 4, 5: the two at rank 2 take positions 2 and 3 of five, only one of them in the last three.
    rows = [perfect(f"a{index}", satisfied=score) for index, score in enumerate((10, 9, 9, 8, 7))]
    assert [row.figures.code for row in rank_agencies(rows, []) if row.last_three] == ["a3", "a4"]
    # Five agencies tied at the bottom of eight: none can be singled out.
    rows = [perfect(f"b{index}", satisfied=score) for index, score in enumerate((10, 9, 8, 5, 5, 5, 5, 5))]
    assert not any(row.last_three for row in rank_agencies(rows, []))


def test_never_more_than_three_are_marked_and_never_when_all_tie() -> None:
    for scores in ((10, 9, 8, 8, 8, 8), (9, 9, 9, 9), (10, 8, 8, 8, 8), (10, 10, 10, 2)):
        ranked = rank_agencies([perfect(f"a{index}", satisfied=s) for index, s in enumerate(scores)], [])
        marked = [row for row in ranked if row.last_three]
        assert len(marked) <= 3, scores
        assert all(row.rank != 1 for row in marked), scores
    # Everybody at 0.00 (nothing acknowledged, resolved or satisfied): all rank 1, nobody is 末位.
    idle = [agency(f"z{index}", received=3, rated=3) for index in range(6)]
    ranked = rank_agencies(idle, [])
    assert {row.score for row in ranked} == {0.0} and {row.rank for row in ranked} == {1}
    assert not any(row.last_three for row in ranked)


def test_the_marking_rule_is_printed_under_the_table() -> None:
    from reports.ranking import MARKING_RULE

    assert "最多3个" in MARKING_RULE and "不标注" in MARKING_RULE


def test_three_or_fewer_ranked_agencies_are_not_marked() -> None:
    assert not any(row.last_three for row in rank_agencies([perfect("a"), perfect("b"), perfect("c")], []))


async def test_publication_ranks_the_october_agencies_by_their_hand_computed_scores(session: AsyncSession) -> None:
    await build_october(session)
    pub = await build_publication(session, OCTOBER, ZONE, as_of=CUT_OFF)
    # Rates over what was due by the cut-off. A: 30×3/5 + 20×3/4 + 20×2/4 + 30×2/2 = 73 (a4 not due to
    # resolve); B: 30×3/3 + 20×2/2 + 20×2/2 + 30×0/1 = 70 (b2 reopened, due again after the cut-off);
    # C: (30×1/1 + 20×0/1 + 20×0/1) ÷ 70 = 42.86 (c1 overdue, nobody rated); D received nothing.
    assert [(row.figures.code, row.score, row.rank) for row in pub.rows] == [
        ("test-a", 73.0, 1),
        ("test-b", 70.0, 2),
        ("test-c", 42.86, 3),
        ("test-d", None, None),
    ]


async def test_change_from_the_previous_month_uses_the_same_delay_after_its_start(session: AsyncSession) -> None:
    await build_october(session)
    pub = await build_publication(session, OCTOBER, ZONE, as_of=CUT_OFF)
    assert pub.previous.as_of == CUT_OFF - timedelta(days=30)
    a = pub.rows[0].change
    # September: s1 alone, acknowledged and resolved in time, rated 满意.
    assert a.received == 5 - 1
    assert a.rates["response_rate"] == pytest.approx(100 * (3 / 5 - 1))
    assert a.rates["satisfaction_rate"] == 0.0
    assert a.rates["decline_rate"] is None  # no transfers to A in either month
    assert pub.total_change.received == 10 - 1


async def test_typical_cases_are_facts_only_and_never_from_anonymous_citizens(session: AsyncSession) -> None:
    await build_october(session)
    pub = await build_publication(session, OCTOBER, ZONE, as_of=CUT_OFF)
    # Resolved with a reply: a1, a2, a7 (anonymous), b3, b4 (citizen prefers anonymity). Reopened first.
    assert [(case.agency, case.received_on.day) for case in pub.typical_cases] == [
        ("市住建局", 10),
        ("市住建局", 1),
        ("市公安局", 16),
    ]
    a2, a1, b3 = pub.typical_cases
    assert (a2.due_on, a2.resolved_on, a2.on_time) == (date(2026, 11, 12), date(2026, 11, 5), True)
    assert (a2.extensions, a2.transfers, a2.escalated, a2.reopened, a2.major) == (1, 0, False, True, False)
    assert a2.rating == "比较满意"  # the latest rating, given after the 重办
    assert a1.problem_types == ["推诿扯皮", "慢作为"] and a1.rating == "满意" and not a1.reopened
    assert b3.rating == "未评价"  # rated only after the cut-off
    for case in pub.typical_cases:
        assert not any(isinstance(value, str) and len(value) > 10 for value in vars(case).values())


async def test_standalone_evaluations_are_averaged_per_agency_and_dimension(session: AsyncSession) -> None:
    factory = await build_october(session)
    pub = await build_publication(session, OCTOBER, ZONE, as_of=CUT_OFF)
    [summary] = pub.evaluations  # B's evaluation is November's
    assert summary.agency_id == factory.agencies["A"].id
    assert (summary.count, summary.commented) == (2, 1)
    assert summary.dimensions["服务意识"] == (2, 4.5)
    assert summary.dimensions["行政效能"] == (1, 2.0)
    assert summary.dimensions["政务公开"] == (0, None)


async def test_definitions_name_every_published_rate_and_the_cut_off(session: AsyncSession) -> None:
    await build_october(session)
    pub = await build_publication(session, OCTOBER, ZONE, as_of=CUT_OFF)
    terms = dict(pub.definitions)
    published = ("响应率", "办结率", "按期办结率", "超期", "延期", "满意率", "重办率", "回退率", "综合得分与排名")
    assert set(published) <= set(terms)
    assert "2026-11-10 12:00" in terms["统计范围"] and "Asia/Shanghai" in terms["统计范围"]
    assert "—" in terms["满意率"]


async def test_a_snapshot_stored_with_the_old_headers_reads_as_the_new_ones(session: AsyncSession) -> None:
    """Months stored before 受理量/应签收/按时签收 became 收到量/应受理/按时受理 keep their old headers;
    the stored document is read as it is, under today's names."""
    await build_october(session)
    data = render_csv(await build_publication(session, OCTOBER, ZONE, as_of=CUT_OFF))
    header, rest = data.split(b"\r\n", 1)
    old_header = header.decode("utf-8")
    for new, old in (("收到量", "受理量"), ("应受理", "应签收"), ("按时受理", "按时签收")):
        old_header = old_header.replace(new, old)
    assert "收到" not in old_header and "应受理" not in old_header
    stored = old_header.encode("utf-8") + b"\r\n" + rest
    assert read_table(stored) == read_table(data)
    table = read_table(stored)
    assert (table.total["收到量"], table.total["收到量环比"]) == ("10", "+9")
    assert table.agencies[0]["应受理"] and table.agencies[0]["按时受理"]


async def test_a_typical_case_reopened_after_the_cut_off_stays_as_it_stood_then(session: AsyncSession) -> None:
    """b5 was replied to on 10-24; its 重办 came after the cut-off, so the month's publication computed
    again still shows it, resolved, with that reply's date and no 重办."""
    f = await build_october(session)
    await reopened_complaint(f, "b5", reopened=CUT_OFF + timedelta(days=20), resolved_again=None)
    cases = (await build_publication(session, OCTOBER, ZONE, as_of=CUT_OFF)).typical_cases
    [b5] = [case for case in cases if case.received_on == date(2026, 10, 18)]
    assert (b5.agency, b5.resolved_on, b5.reopened, b5.rating) == ("市公安局", date(2026, 10, 24), False, "未评价")


async def test_a_typical_case_is_shown_under_its_owner_as_of_the_cut_off(session: AsyncSession) -> None:
    """b3 is 公安's at the cut-off; a transfer to 税务 accepted afterwards does not rename its agency."""
    f = await build_october(session)
    b3 = f.complaints["b3"]
    await f.event("b3", EventAction.TRANSFER_ACCEPTED, CUT_OFF + timedelta(days=1), agency="C", to="C")
    b3.owner_agency_id = f.agencies["C"].id
    await session.commit()
    cases = (await build_publication(session, OCTOBER, ZONE, as_of=CUT_OFF)).typical_cases
    assert [case.agency for case in cases if case.received_on == date(2026, 10, 16)] == ["市公安局"]
