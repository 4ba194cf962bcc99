"""`minsheng export monthly`: the publication for a month past its cut-off, a marked preview for the
office before that, a refusal for a month not begun, one clear line for a file it cannot write."""

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
from click.testing import CliRunner
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from minsheng.cli import main
from storage.models import Complaint, PublicationSnapshot
from tests.test_reports_figures import ZONE, build_october


@pytest.fixture
async def cli_env(session: AsyncSession, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    await build_october(session)
    monkeypatch.setenv("MINSHENG_DATABASE_URL", database_url)


@pytest.mark.usefixtures("cli_env")
def test_a_past_month_is_the_publication_and_the_current_month_a_marked_preview() -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["export", "monthly", "--month", "2026-10", "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert "预览" not in result.stdout_bytes.decode("utf-8-sig") + result.stderr
    this_month = f"{datetime.now(ZONE):%Y-%m}"
    result = runner.invoke(main, ["export", "monthly", "--month", this_month, "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout_bytes.decode("utf-8-sig"))))
    assert "预览，非正式公示" in rows[-1][1]
    assert "预览，非正式公示" in result.stderr
    result = runner.invoke(main, ["export", "monthly", "--month", this_month, "--format", "html"])
    assert "预览，非正式公示" in result.stdout_bytes.decode("utf-8")


def _export(*args: str) -> bytes:
    result = CliRunner().invoke(main, ["export", "monthly", "--month", "2026-10", *args])
    assert result.exit_code == 0, result.output
    return result.stdout_bytes


@pytest.mark.usefixtures("cli_env")
async def test_a_public_month_exports_the_stored_publication_until_it_is_reissued(session: AsyncSession) -> None:
    exported = await asyncio.to_thread(_export, "--format", "csv")
    stored = await session.get(PublicationSnapshot, date(2026, 10, 1))
    assert stored is not None and stored.csv == exported  # exporting first publishes it, as the page would
    assert await asyncio.to_thread(_export, "--format", "html") == stored.html.encode("utf-8")
    await session.execute(update(Complaint).values(resolved_at=None))  # every reply undone, as by a 重办
    await session.commit()
    assert await asyncio.to_thread(_export, "--format", "csv") == exported
    reissued = await asyncio.to_thread(CliRunner().invoke, main, ["publication", "reissue", "--month", "2026-10"])
    assert "withdrawn" in reissued.output
    assert await asyncio.to_thread(_export, "--format", "csv") != exported


@pytest.mark.usefixtures("cli_env")
def test_a_month_not_begun_is_refused() -> None:
    result = CliRunner().invoke(main, ["export", "monthly", "--month", "2099-05", "--format", "csv"])
    assert result.exit_code == 1
    assert "尚未开始" in result.output and not result.stdout_bytes.startswith("\ufeff".encode())


@pytest.mark.usefixtures("cli_env")
def test_an_unwritable_out_file_is_one_clear_line_and_exit_code_1(tmp_path: Path) -> None:
    out = tmp_path / "missing" / "dir" / "x.csv"
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
