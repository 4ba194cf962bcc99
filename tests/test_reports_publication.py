"""The assembled publication: ranking, change from the previous month, typical cases, evaluations."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from reports.figures import AgencyFigures
from reports.publication import build_publication
from reports.ranking import composite_score, rank_agencies
from tests.test_reports_figures import CUT_OFF, OCTOBER, ZONE, build_october


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


def test_a_tie_at_the_boundary_marks_every_agency_in_it() -> None:
    rows = [perfect(f"a{index}", satisfied=score) for index, score in enumerate((10, 9, 8, 8, 8))]
    assert sum(row.last_three for row in rank_agencies(rows, [])) == 3
    rows = [perfect(f"a{index}", satisfied=score) for index, score in enumerate((10, 9, 9, 8, 7))]
    assert [row.figures.code for row in rank_agencies(rows, []) if row.last_three] == ["a1", "a2", "a3", "a4"]


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


async def test_typical_cases_are_redacted_and_never_from_anonymous_citizens(session: AsyncSession) -> None:
    await build_october(session)
    pub = await build_publication(session, OCTOBER, ZONE, as_of=CUT_OFF)
    # Resolved with a reply: a1, a2, a7 (anonymous), b3, b4 (citizen prefers anonymity). Reopened first.
    assert [(case.agency, case.received_on.day) for case in pub.typical_cases] == [
        ("市住建局", 10),
        ("市住建局", 1),
        ("市公安局", 16),
    ]
    a1 = pub.typical_cases[1]
    assert a1.problem_types == ["推诿扯皮", "慢作为"]
    for secret in ("张伟", "13812345678", "幸福家园", "501室", "王科长"):
        assert secret not in a1.text + a1.reply
    assert "跑了五趟" in a1.text


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
