"""Rectification notices, and the `minsheng export` commands that write them and the publication."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.ext.asyncio import AsyncSession

from minsheng.cli import main
from reports.rectification import (
    NoComplaintsInPeriod,
    UnknownAgency,
    build_rectification,
    render_rectification_html,
)
from storage.models import STATUS_NAMES, ComplaintStatus
from tests.factories import make_deadlines
from tests.test_reports_figures import A1_REPLY, A1_TEXT, CUT_OFF, ZONE, build_october

DEADLINES = make_deadlines()


async def test_notice_lists_the_agencys_complaints_by_their_facts_and_comments_redacted(
    session: AsyncSession,
) -> None:
    factory = await build_october(session)
    notice = await build_rectification(
        session,
        "test-a",
        date(2026, 10, 1),
        date(2026, 10, 31),
        ZONE,
        deadlines=DEADLINES,
        now=CUT_OFF,
        due_on=date(2026, 12, 10),
    )
    # a1, a2, a3, a4, a7 — not a5 (November) nor a6 (withdrawn); in order of receipt.
    assert [item.received_on.day for item in notice.complaints] == [1, 5, 10, 20, 31]
    assert [item.overdue for item in notice.complaints] == [False, True, False, True, False]
    assert [item.resolved_on for item in notice.complaints] == [
        date(2026, 10, 15),
        date(2026, 10, 18),
        date(2026, 11, 5),
        None,
        None,
    ]
    assert notice.problem_types == [("慢作为", 2), ("推诿扯皮", 1)]
    a1 = notice.complaints[0]
    assert a1.tracking_no.startswith("20261001-") and a1.problem_types == ["推诿扯皮", "慢作为"]
    # Comments verbatim but redacted: the 评议 comment and nothing from the comment-less ratings.
    assert [(comment.source, comment.text) for comment in notice.comments] == [("评议", "窗口人员态度好，某主任很耐心")]
    assert notice.due_on == date(2026, 12, 10)
    assert notice.number == f"整改〔2026〕第{factory.agencies['A'].id:02d}2610011031号"  # from 26-10-01 to 10-31


async def test_notice_quotes_no_complaint_text_or_reply(session: AsyncSession) -> None:
    """The agency finds the case by its tracking number; names, addresses and plates in the citizen's
    words (which redaction may miss) never travel in the notice."""
    await build_october(session)
    notice = await build_rectification(
        session, "test-a", date(2026, 10, 1), date(2026, 10, 31), ZONE, deadlines=DEADLINES, now=CUT_OFF
    )
    html = render_rectification_html(notice)
    for words in ("跑了五趟", "幸福家园", "张伟", "13812345678", "路灯", "已安排维修", "13900001111"):
        assert words not in html, words
    assert A1_TEXT not in html and A1_REPLY not in html
    assert notice.complaints[0].tracking_no in html


async def test_notice_uses_the_dashboards_status_names(session: AsyncSession) -> None:
    await build_october(session)
    notice = await build_rectification(
        session, "test-a", date(2026, 10, 1), date(2026, 10, 31), ZONE, deadlines=DEADLINES, now=CUT_OFF
    )
    assert [item.status for item in notice.complaints] == [
        STATUS_NAMES[status]
        for status in (
            ComplaintStatus.CLOSED,
            ComplaintStatus.CLOSED,
            ComplaintStatus.RESOLVED,
            ComplaintStatus.ACCEPTED,
            ComplaintStatus.ASSIGNED,
        )
    ]
    html = render_rectification_html(notice)
    assert "已结案" in html and "已关闭" not in html


async def test_notice_number_is_chinese_and_tells_agencies_and_periods_apart(session: AsyncSession) -> None:
    await build_october(session)

    async def number(code: str, first: date, last: date) -> str:
        notice = await build_rectification(session, code, first, last, ZONE, deadlines=DEADLINES, now=CUT_OFF)
        return notice.number

    october_a = await number("test-a", date(2026, 10, 1), date(2026, 10, 31))
    assert re.fullmatch(r"整改〔2026〕第\d+号", october_a)
    assert october_a == await number("test-a", date(2026, 10, 1), date(2026, 10, 31))  # stable
    assert october_a != await number("test-b", date(2026, 10, 1), date(2026, 10, 31))
    assert october_a != await number("test-a", date(2026, 10, 1), date(2026, 10, 20))
    # Periods ending the same day are told apart by their start, even a year earlier.
    ending_together = {
        await number("test-a", first, date(2026, 10, 31))
        for first in (date(2026, 10, 1), date(2026, 9, 1), date(2025, 10, 1), date(2026, 10, 5))
    }
    assert len(ending_together) == 4 and october_a in ending_together


async def test_default_reply_date_is_counted_in_working_days(session: AsyncSession) -> None:
    """Issued 3 December, thirty calendar days was Saturday 2 January 2027; twenty working days is 31
    December. Across National Day and Mid-Autumn (25 September) the make-up days count and the holidays
    do not."""
    await build_october(session)
    for issued, due in ((date(2026, 12, 3), date(2026, 12, 31)), (date(2026, 9, 18), date(2026, 10, 22))):
        notice = await build_rectification(
            session,
            "test-a",
            date(2026, 10, 1),
            date(2026, 12, 31),
            ZONE,
            deadlines=DEADLINES,
            issued_on=issued,
            now=CUT_OFF,
        )
        assert notice.due_on == due and DEADLINES.is_working_day(notice.due_on)


async def test_an_agency_without_complaints_in_the_period_gets_no_notice(session: AsyncSession) -> None:
    """市人社局 (D) received nothing; 市住建局 (A) had only a withdrawn complaint on 8 October."""
    await build_october(session)
    with pytest.raises(NoComplaintsInPeriod):
        await build_rectification(
            session, "test-d", date(2026, 10, 1), date(2026, 10, 31), ZONE, deadlines=DEADLINES, now=CUT_OFF
        )
    with pytest.raises(NoComplaintsInPeriod):
        await build_rectification(
            session, "test-a", date(2026, 10, 8), date(2026, 10, 9), ZONE, deadlines=DEADLINES, now=CUT_OFF
        )


async def test_notice_period_is_in_local_dates_inclusive(session: AsyncSession) -> None:
    await build_october(session)
    notice = await build_rectification(
        session, "test-a", date(2026, 10, 31), date(2026, 11, 1), ZONE, deadlines=DEADLINES, now=CUT_OFF
    )
    assert [item.received_on for item in notice.complaints] == [date(2026, 10, 31), date(2026, 11, 1)]
    assert notice.due_on == date(2026, 12, 8)  # 20 working days after it was issued on 11-10


async def test_printable_notice_names_the_deadline_and_the_problem_types(session: AsyncSession) -> None:
    await build_october(session)
    notice = await build_rectification(
        session, "test-b", date(2026, 10, 1), date(2026, 10, 31), ZONE, deadlines=DEADLINES, now=CUT_OFF
    )
    html = render_rectification_html(notice)
    assert "整改通知书" in html and "市公安局" in html
    assert "size: A4 portrait" in html
    assert f"{notice.due_on.year}年{notice.due_on.month}月{notice.due_on.day}日" in html
    assert "脸难看（1件）" in html
    assert "李娜" not in html


async def test_every_date_in_the_notice_is_in_the_official_chinese_style(session: AsyncSession) -> None:
    """2026年10月1日 throughout, as an official document writes dates; never 2026-10-01 beside it."""
    await build_october(session)
    notice = await build_rectification(
        session,
        "test-a",
        date(2026, 10, 1),
        date(2026, 10, 31),
        ZONE,
        deadlines=DEADLINES,
        now=CUT_OFF,
        due_on=date(2026, 12, 10),
    )
    html = render_rectification_html(notice)
    assert "2026年10月1日至2026年10月31日期间" in html
    assert "2026年10月15日" in html  # a1 was resolved then (the table)
    assert html.count("2026年12月10日") == 2  # the reply date, in the text and in the requirements
    assert not re.search(r"\d{4}-\d{2}-\d{2}", html)


async def test_unknown_agency_code_is_an_error(session: AsyncSession) -> None:
    with pytest.raises(UnknownAgency):
        await build_rectification(session, "nope", date(2026, 10, 1), date(2026, 10, 31), ZONE, deadlines=DEADLINES)


@pytest.fixture
async def cli_env(session: AsyncSession, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    await build_october(session)
    monkeypatch.setenv("MINSHENG_DATABASE_URL", database_url)


@pytest.mark.usefixtures("cli_env")
def test_export_monthly_writes_csv_xlsx_and_html(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["export", "monthly", "--month", "2026-10", "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout_bytes.decode("utf-8-sig"))))
    heading, *table, closing = rows  # not released: the office's preview, marked above and below
    assert "（预览，尚未公示）" in heading[0] and "预览，尚未公示" in "".join(closing)
    assert table[0][:2] == ["排名", "单位"] and table[-1][1] == "合计" and table[-1][3] == "10"
    for fmt, magic in (("xlsx", b"PK"), ("html", b"<!doctype html>")):
        out = tmp_path / f"october.{fmt}"
        result = runner.invoke(main, ["export", "monthly", "--month", "2026-10", "--format", fmt, "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert out.read_bytes().startswith(magic)


@pytest.mark.usefixtures("cli_env")
def test_export_rectification_writes_the_notice_and_rejects_unknown_agencies(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "notice.html"
    arguments = ["export", "rectification", "--agency", "test-c", "--from", "2026-10-01", "--to", "2026-10-31"]
    result = runner.invoke(main, [*arguments, "--due", "2026-12-01", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "2026年12月1日" in out.read_text(encoding="utf-8")
    unknown = [argument if argument != "test-c" else "nope" for argument in arguments]
    result = runner.invoke(main, unknown)
    assert result.exit_code != 0 and "no agency with code 'nope'" in result.output
    nothing = [argument if argument != "test-c" else "test-d" for argument in arguments]
    result = runner.invoke(main, [*nothing, "--out", str(tmp_path / "nothing.html")])
    assert result.exit_code != 0 and "received no complaints" in result.output
    assert not (tmp_path / "nothing.html").exists()
    result = runner.invoke(main, ["export", "monthly", "--month", "2026/10"])
    assert result.exit_code != 0 and "YYYY-MM" in result.output
