"""`minsheng export monthly`: the publication for a released month, the dashboard's marked preview for
a month not released, a refusal for a month not begun, one clear line for a file it cannot write; and
`minsheng publication release` / `reissue`: after the cut-off only, idempotent, withdrawn to unreleased."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import pty
import select
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from click.testing import CliRunner, Result
from openpyxl import load_workbook
from sqlalchemy import select as select_rows
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from minsheng.cli import main
from reports.publication import PREVIEW_MARK
from reports.snapshots import released as released_snapshot
from storage.models import Complaint, PublicationSnapshot
from tests.publication_support import at, client
from tests.test_dashboard_support import log_in
from tests.test_publication_web import _env
from tests.test_reports_figures import ZONE, build_october

__all__ = ["client"]


@pytest.fixture
async def cli_env(session: AsyncSession, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    await build_october(session)
    monkeypatch.setenv("MINSHENG_DATABASE_URL", database_url)


def _export(*args: str, month: str = "2026-10") -> Result:
    result = CliRunner().invoke(main, ["export", "monthly", "--month", month, *args])
    assert result.exit_code == 0, result.output
    return result


def _publication(command: str, month: str = "2026-10", *args: str, answer: str | None = None) -> Result:
    return CliRunner().invoke(main, ["publication", command, "--month", month, *args], input=answer)


@pytest.mark.usefixtures("cli_env")
def test_a_month_not_released_exports_its_marked_preview_this_month_too() -> None:
    october = _export("--format", "csv")
    first, *table = list(csv.reader(io.StringIO(october.stdout_bytes.decode("utf-8-sig"))))
    assert PREVIEW_MARK in first[0] and "待效能办核对发布" in first[0] and "2026-11-06 17:30" in first[0]
    assert PREVIEW_MARK in table[-1][1] and PREVIEW_MARK in october.stderr
    this_month = f"{datetime.now(ZONE):%Y-%m}"
    result = _export("--format", "csv", month=this_month)
    first = next(csv.reader(io.StringIO(result.stdout_bytes.decode("utf-8-sig"))))
    assert PREVIEW_MARK in first[0] and "截止后由效能办核对发布" in first[0]
    assert PREVIEW_MARK in _export("--format", "html", month=this_month).stdout_bytes.decode("utf-8")


@pytest.mark.usefixtures("cli_env")
def test_a_preview_workbook_is_marked_as_the_dashboards(tmp_path: Path) -> None:
    out = tmp_path / "october.xlsx"
    _export("--out", str(out))
    sheet = load_workbook(out).worksheets[0]
    assert PREVIEW_MARK in sheet.title and PREVIEW_MARK in sheet["A1"].value


async def test_the_preview_export_equals_the_dashboard_download(client: TestClient, database_url: str) -> None:
    at(client, datetime.now(ZONE))  # the command's clock is the system's
    await log_in(client, "chief")
    downloaded = await (await client.get("/dashboard/months/2026-10.csv")).read()
    command = ["export", "monthly", "--month", "2026-10", "--format", "csv"]
    result = await asyncio.to_thread(CliRunner().invoke, main, command, env=_env(database_url))
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == downloaded and PREVIEW_MARK.encode() in downloaded


@pytest.mark.usefixtures("cli_env")
async def test_a_released_month_exports_the_stored_publication_until_it_is_reissued(session: AsyncSession) -> None:
    released = await asyncio.to_thread(_publication, "release")
    assert released.exit_code == 0 and "released at" in released.output
    stored = await released_snapshot(session, date(2026, 10, 1))
    assert stored is not None and (stored.released_by or "").startswith("cli")
    assert "<h1>示例市2026年10月投诉情况公示</h1>" in stored.html  # the catalogue's region, as on the web
    exported = (await asyncio.to_thread(_export, "--format", "csv")).stdout_bytes
    assert stored.csv == exported and "预览" not in exported.decode("utf-8-sig")
    assert (await asyncio.to_thread(_export, "--format", "html")).stdout_bytes == stored.html.encode("utf-8")
    await session.execute(update(Complaint).values(resolved_at=None))  # every reply undone, as by a 重办
    await session.commit()
    assert (await asyncio.to_thread(_export, "--format", "csv")).stdout_bytes == exported
    reissued = await asyncio.to_thread(_publication, "reissue", "2026-10", "--reason", "重办后更正", "--yes")
    assert reissued.exit_code == 0 and "withdrawn" in reissued.output
    session.expunge_all()
    assert await released_snapshot(session, date(2026, 10, 1)) is None
    preview = (await asyncio.to_thread(_export, "--format", "csv")).stdout_bytes.decode("utf-8-sig")
    assert preview.startswith(f"示例市2026年10月投诉情况公示（{PREVIEW_MARK}）")


@pytest.mark.usefixtures("cli_env")
async def test_releasing_twice_changes_nothing_and_says_so(session: AsyncSession) -> None:
    assert (await asyncio.to_thread(_publication, "release")).exit_code == 0
    first = await released_snapshot(session, date(2026, 10, 1))
    again = await asyncio.to_thread(_publication, "release")
    assert again.exit_code == 0 and "already released" in again.output and "nothing changed" in again.output
    session.expunge_all()
    after = await released_snapshot(session, date(2026, 10, 1))
    assert first is not None and after is not None
    assert (after.created_at, after.csv, after.released_by) == (first.created_at, first.csv, first.released_by)


@pytest.mark.usefixtures("cli_env")
async def test_a_month_before_its_cut_off_or_before_the_service_is_not_released(session: AsyncSession) -> None:
    this_month = f"{datetime.now(ZONE):%Y-%m}"
    refused = await asyncio.to_thread(_publication, "release", this_month)
    assert refused.exit_code == 1 and "cannot be released before its cut-off" in refused.output
    before_service = await asyncio.to_thread(_publication, "release", "2026-08")
    assert before_service.exit_code == 1 and "nothing to release" in before_service.output
    assert list(await session.scalars(select_rows(PublicationSnapshot.month))) == []


@pytest.mark.usefixtures("cli_env")
def test_a_month_not_begun_is_refused() -> None:
    result = CliRunner().invoke(main, ["export", "monthly", "--month", "2099-05", "--format", "csv"])
    assert result.exit_code == 1
    assert "尚未开始" in result.output and not result.stdout_bytes.startswith("\ufeff".encode())


@pytest.mark.usefixtures("cli_env")
def test_an_unwritable_out_file_is_one_clear_line_and_exit_code_1(tmp_path: Path) -> None:
    out = tmp_path / "missing" / "dir" / "x.csv"
    assert _publication("release").exit_code == 0  # a released month: no preview note on stderr
    result = CliRunner().invoke(main, ["export", "monthly", "--month", "2026-10", "--format", "csv", "--out", str(out)])
    assert result.exit_code == 1
    assert ("Traceback" not in result.output and result.exception is None) or isinstance(result.exception, SystemExit)
    [line] = result.stderr.strip().splitlines()
    assert "无法写入" in line and "cannot write" in line and str(out) in line


def _on_a_terminal(*args: str) -> tuple[int, bytes, str]:
    """Run the command with its stdout on a real terminal (a pty), as an operator types it."""
    primary, terminal = pty.openpty()
    try:
        command = [sys.executable, "-m", "minsheng", *args]
        process = subprocess.run(command, stdout=terminal, stderr=subprocess.PIPE, timeout=120, check=False)
        os.close(terminal)
        shown = b""
        while select.select([primary], [], [], 0)[0]:
            try:
                chunk = os.read(primary, 65536)
            except OSError:  # Linux: the terminal's other end is closed and drained
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(primary)
    return process.returncode, shown, process.stderr.decode()


@pytest.mark.usefixtures("cli_env")
def test_xlsx_is_refused_on_a_terminal_but_csv_is_shown_and_xlsx_may_be_piped() -> None:
    code, shown, errors = _on_a_terminal("export", "monthly", "--month", "2026-10")
    assert code != 0 and shown == b""
    assert "XLSX is binary" in errors and "--out FILE" in errors
    code, shown, errors = _on_a_terminal("export", "monthly", "--month", "2026-10", "--format", "csv")
    assert code == 0, errors
    assert "市住建局" in shown.decode("utf-8") and not shown.startswith("\ufeff".encode())  # the BOM is Excel's
    csv_piped = CliRunner().invoke(main, ["export", "monthly", "--month", "2026-10", "--format", "csv"])
    assert csv_piped.stdout_bytes.startswith("\ufeff".encode())  # `> file.csv` opens in Excel
    piped = CliRunner().invoke(main, ["export", "monthly", "--month", "2026-10"])  # stdout is a pipe here
    assert piped.exit_code == 0, piped.output
    assert piped.stdout_bytes.startswith(b"PK")  # the XLSX file itself, for `> file.xlsx`


@pytest.mark.usefixtures("cli_env")
async def test_reissuing_needs_a_reason_and_a_confirmation_and_keeps_the_withdrawn_version(
    session: AsyncSession,
) -> None:
    october = date(2026, 10, 1)
    assert (await asyncio.to_thread(_publication, "release")).exit_code == 0
    first = await released_snapshot(session, october)
    assert first is not None
    no_reason = await asyncio.to_thread(_publication, "reissue")
    assert no_reason.exit_code == 2 and "--reason" in no_reason.output
    declined = await asyncio.to_thread(_publication, "reissue", "2026-10", "--reason", "数字有误", answer="n\n")
    assert declined.exit_code == 1 and "released at" in declined.output and "Withdraw" in declined.output
    session.expunge_all()
    assert await released_snapshot(session, october) is not None  # nothing withdrawn
    confirmed = await asyncio.to_thread(_publication, "reissue", "2026-10", "--reason", "数字有误", answer="y\n")
    assert confirmed.exit_code == 0 and "withdrawn" in confirmed.output
    session.expunge_all()
    assert await released_snapshot(session, october) is None
    [kept] = await session.scalars(select_rows(PublicationSnapshot).where(PublicationSnapshot.month == october))
    assert (kept.csv, kept.html, kept.xlsx, kept.released_by) == (first.csv, first.html, first.xlsx, first.released_by)
    assert kept.withdraw_reason == "数字有误" and (kept.withdrawn_by or "").startswith("cli")
    assert kept.withdrawn_at is not None
    assert (await asyncio.to_thread(_publication, "release")).exit_code == 0  # released again beside the kept one
    session.expunge_all()
    versions = list(await session.scalars(select_rows(PublicationSnapshot).where(PublicationSnapshot.month == october)))
    assert len(versions) == 2 and (await released_snapshot(session, october)) is not None
