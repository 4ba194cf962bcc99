"""Rectification notices, and the `minsheng export` commands that write them and the publication."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.ext.asyncio import AsyncSession

from minsheng.cli import main
from reports.rectification import UnknownAgency, build_rectification, render_rectification_html
from tests.test_reports_figures import CUT_OFF, ZONE, build_october


async def test_notice_lists_the_agencys_complaints_and_comments_redacted(session: AsyncSession) -> None:
    await build_october(session)
    notice = await build_rectification(
        session, "test-a", date(2026, 10, 1), date(2026, 10, 31), ZONE, now=CUT_OFF, due_on=date(2026, 12, 10)
    )
    # a1, a2, a3, a4, a7 — not a5 (November) nor a6 (withdrawn); in order of receipt.
    assert [item.received_on.day for item in notice.complaints] == [1, 5, 10, 20, 31]
    assert [item.overdue for item in notice.complaints] == [False, True, False, True, False]
    assert notice.problem_types == [("慢作为", 2), ("推诿扯皮", 1)]
    a1 = notice.complaints[0]
    assert a1.tracking_no.startswith("20261001-")
    assert "跑了五趟" in a1.text and "张伟" not in a1.text and "13812345678" not in a1.text
    # Comments verbatim but redacted: the 评议 comment and nothing from the comment-less ratings.
    assert [(comment.source, comment.text) for comment in notice.comments] == [("评议", "窗口人员态度好，某主任很耐心")]
    assert notice.due_on == date(2026, 12, 10)
    assert notice.number == "整改〔2026〕test-a-20261001-20261031"


async def test_notice_period_is_in_local_dates_inclusive(session: AsyncSession) -> None:
    await build_october(session)
    notice = await build_rectification(session, "test-a", date(2026, 10, 31), date(2026, 11, 1), ZONE, now=CUT_OFF)
    assert [item.received_on for item in notice.complaints] == [date(2026, 10, 31), date(2026, 11, 1)]
    assert notice.due_on == date(2026, 12, 10)  # 30 days after it was issued on 11-10


async def test_printable_notice_names_the_deadline_and_the_problem_types(session: AsyncSession) -> None:
    await build_october(session)
    notice = await build_rectification(session, "test-b", date(2026, 10, 1), date(2026, 10, 31), ZONE, now=CUT_OFF)
    html = render_rectification_html(notice)
    assert "整改通知书" in html and "市公安局" in html
    assert "size: A4 portrait" in html
    assert f"{notice.due_on.year}年{notice.due_on.month}月{notice.due_on.day}日" in html
    assert "脸难看（1件）" in html
    assert "李娜" not in html


async def test_unknown_agency_code_is_an_error(session: AsyncSession) -> None:
    with pytest.raises(UnknownAgency):
        await build_rectification(session, "nope", date(2026, 10, 1), date(2026, 10, 31), ZONE)


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
    assert rows[0][:2] == ["排名", "单位"] and rows[-1][1] == "合计" and rows[-1][3] == "10"
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
    result = runner.invoke(main, ["export", "monthly", "--month", "2026/10"])
    assert result.exit_code != 0 and "YYYY-MM" in result.output
