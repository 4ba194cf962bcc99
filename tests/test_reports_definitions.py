"""The published definitions (指标说明) say exactly what the figures count, in unambiguous words."""

from __future__ import annotations

from pathlib import Path

from reports.definitions import DEFINITIONS
from reports.formatting import main_columns

TERMS = dict(DEFINITIONS)


def test_every_published_rate_and_its_denominator_is_defined() -> None:
    headers = [header for header, _, _ in main_columns()]
    for header, kind, _ in main_columns():
        if kind == "rate":
            assert header in TERMS, header
    assert {"应受理", "按时受理", "应办结"} <= set(headers)
    assert {"应受理", "应办结", "受理"} <= set(TERMS)


def test_rates_divide_by_what_was_due_not_by_everything_received() -> None:
    assert TERMS["响应率"] == "在受理时限内受理的件数 ÷ 应受理件数。"
    assert "÷ 应办结件数" in TERMS["办结率"] and "÷ 应办结件数" in TERMS["按期办结率"]
    for term in ("应受理", "应办结"):
        assert "已过仍未" in TERMS[term] and "时限未到" in TERMS[term] and "不计入" in TERMS[term]
    assert "尚未到期" in TERMS["收到量"]
    assert "“—”" in TERMS["无法计算"]
    assert "均未到期" in TERMS["综合得分与排名"]


def test_shou_li_is_the_agencys_acceptance_as_in_the_bot_and_registered_complaints_are_received() -> None:
    """受理 is the agency accepting a complaint (the bot's 待受理, 受理期限); complaints registered in the month
    are 收到 (the dashboard's word). 签收 is gone: one word per concept."""
    text = "".join(term + definition for term, definition in DEFINITIONS)
    headers = [header for header, _, _ in main_columns()]
    for word in ("签收", "受理量", "本月受理"):
        assert word not in text and not any(word in header for header in headers), word
    assert [header for header in headers if "收到" in header] == ["收到量", "收到量环比"]
    assert [header for header in headers if "受理" in header] == ["应受理", "按时受理"]
    assert "已受理的为承办单位，尚未受理的为首问责任单位" in TERMS["责任单位"]
    assert TERMS["统计范围"].startswith("本月收到的投诉：")


def test_no_user_facing_file_says_qian_shou() -> None:
    """签收 was the publication's word for what the bot calls 受理; no text, template or document uses it."""
    root = Path(__file__).resolve().parent.parent
    files = [root / "README.md", *(root / "docs").rglob("*.md"), *(root / "handlers" / "texts").glob("*.yaml")]
    files += [*(root / "reports" / "templates").glob("*.html"), *(root / "web").rglob("*.html")]
    assert len(files) > 10
    assert [path.relative_to(root) for path in files if "签收" in path.read_text(encoding="utf-8")] == []


def test_status_words_are_the_dashboards() -> None:
    assert "已关闭" not in "".join(definition for _, definition in DEFINITIONS)
    assert "已结案" in TERMS["办结率"]


def test_a_missed_deadline_is_overdue_for_good() -> None:
    """超期 is the resolve deadline, not undone by a later 重办 reply or a late-approved extension; a late
    acceptance is the response rate's."""
    overdue = TERMS["超期"]
    assert "办结时限" in overdue and "受理迟了计入响应率，不计为超期" in overdue
    assert "一经错过即记为超期" in overdue and "重办" in overdue and "时限过后才批准的延期" in overdue
    assert "从未超期" in TERMS["按期办结"] and "按期办结件数 ÷ 应办结件数" in TERMS["按期办结率"]
    assert "已超期的件数" in TERMS["应办结"]
