"""The published definitions (指标说明) say exactly what the figures count, in unambiguous words."""

from __future__ import annotations

from reports.definitions import DEFINITIONS
from reports.formatting import main_columns

TERMS = dict(DEFINITIONS)


def test_every_published_rate_and_its_denominator_is_defined() -> None:
    headers = [header for header, _, _ in main_columns()]
    for header, kind, _ in main_columns():
        if kind == "rate":
            assert header in TERMS, header
    assert {"应签收", "按时签收", "应办结"} <= set(headers)
    assert {"应签收", "应办结", "签收"} <= set(TERMS)


def test_rates_divide_by_what_was_due_not_by_everything_received() -> None:
    assert TERMS["响应率"].endswith("÷ 应签收件数。")
    assert "÷ 应办结件数" in TERMS["办结率"] and "÷ 应办结件数" in TERMS["按期办结率"]
    for term in ("应签收", "应办结"):
        assert "已过仍未" in TERMS[term] and "时限未到" in TERMS[term] and "不计入" in TERMS[term]
    assert "尚未到期" in TERMS["受理量"]
    assert "“—”" in TERMS["无法计算"]
    assert "均未到期" in TERMS["综合得分与排名"]


def test_shou_li_means_received_and_the_agency_signs_for_a_complaint() -> None:
    """受理 is the citizen's complaint being received (受理量); the agency's act is 签收, never 受理."""
    for term, definition in DEFINITIONS:
        for phrase in ("内受理", "已受理", "未受理", "按时受理", "受理时限", "受理（签收）"):
            assert phrase not in term + definition, (term, phrase)
    assert "签收" in TERMS and "签收" in TERMS["责任单位"]
    assert [header for header, _, _ in main_columns() if "受理" in header] == ["受理量", "受理量环比"]


def test_status_words_are_the_dashboards() -> None:
    assert "已关闭" not in "".join(definition for _, definition in DEFINITIONS)
    assert "已结案" in TERMS["办结率"]


def test_a_missed_deadline_is_overdue_for_good() -> None:
    """超期 is the resolve deadline, not undone by a later 重办 reply or a late-approved extension; a late
    signing is the response rate's."""
    overdue = TERMS["超期"]
    assert "办结时限" in overdue and "签收迟了计入响应率，不计为超期" in overdue
    assert "一经错过即记为超期" in overdue and "重办" in overdue and "时限过后才批准的延期" in overdue
    assert "从未超期" in TERMS["按期办结"] and "按期办结件数 ÷ 应办结件数" in TERMS["按期办结率"]
    assert "已超期的件数" in TERMS["应办结"]
