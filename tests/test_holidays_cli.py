"""`minsheng holidays check`: the holidays file checked as the service would load it, without starting it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from minsheng.cli import main

REPO = Path(__file__).resolve().parent.parent
HOLIDAYS = REPO / "workflow" / "data" / "holidays.yaml"
YEAR_2027 = (
    "years:\n"
    "  2027:\n"
    "    holidays: [2027-01-01, 2027-02-05, 2027-02-08, 2027-04-05, 2027-06-09, 2027-09-15, 2027-10-01]\n"
)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "holidays.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_holidays_check_passes_the_bundled_file_and_names_the_fallback_years() -> None:
    result = CliRunner().invoke(main, ["holidays", "check"])
    assert result.exit_code == 0, result.output
    assert result.output == (
        f"{HOLIDAYS}: ok: no years listed; chinese_calendar knows 2004-2026; "
        "2027 and later fall back to the statutory holidays\n"
    )


def test_holidays_check_summarises_the_years_a_file_adds(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        YEAR_2027 + "  2029:\n    holidays: [2029-01-01, 2029-02-12, 2029-02-13, 2029-02-14, 2029-02-15,"
        " 2029-04-04, 2029-05-01, 2029-05-02, 2029-06-15, 2029-09-21, 2029-10-01, 2029-10-02, 2029-10-03]\n",
    )
    result = CliRunner().invoke(main, ["holidays", "check", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output == (
        f"{path}: ok: 2027, 2029 from this file; chinese_calendar knows 2004-2026; "
        "2028, 2030 and later fall back to the statutory holidays\n"
    )


def test_holidays_check_prints_each_problem_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "years:\n  2027:\n    holidays:\n      - 2027-01-01\n      - 2027-01-02\n")
    result = CliRunner().invoke(main, ["holidays", "check", str(path)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert f"{path}:5: years.2027.holidays.1: 2027-01-02 是周六：holidays 只列放假的周一至周五，周末本就休息" in lines
    assert any(line.startswith(f"{path}:3: years.2027.holidays: 2027年的放假安排缺少春节") for line in lines)
    assert lines[-1] == f"Error: {path} cannot be used: 6 problems"  # a weekend day, five festivals


def test_holidays_check_defaults_to_the_configured_file(tmp_path: Path) -> None:
    path = write(tmp_path, "years:\n  2027:\n    holidays: [2027-01-01]\n")
    result = CliRunner(env={"MINSHENG_HOLIDAYS_PATH": str(path)}).invoke(main, ["holidays", "check"])
    assert result.exit_code == 1 and f"{path}:3: years.2027.holidays: 2027年的放假安排缺少春节" in result.output


def test_holidays_check_refuses_a_configured_file_that_does_not_exist(tmp_path: Path) -> None:
    absent = tmp_path / "holidays.yaml"
    result = CliRunner(env={"MINSHENG_HOLIDAYS_PATH": str(absent)}).invoke(main, ["holidays", "check"])
    assert result.exit_code == 1
    assert result.output.startswith(f"{absent}:0: no such file") and "MINSHENG_HOLIDAYS_PATH" in result.output


def test_serve_refuses_to_start_with_a_holidays_path_that_does_not_exist(tmp_path: Path) -> None:
    """A real process: before the fix it served without the file, said so at INFO, and ran on."""
    absent = tmp_path / "holidays.yaml"
    env = {key: value for key, value in os.environ.items() if not key.startswith("MINSHENG_")}
    env |= {
        "MINSHENG_HOLIDAYS_PATH": str(absent),
        "MINSHENG_DATABASE_URL": f"sqlite:///{tmp_path / 'm.db'}",
        "MINSHENG_WEB_PORT": "0",
    }
    done = subprocess.run(
        [sys.executable, "-m", "minsheng", "serve"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1, done.stderr
    assert f"{absent}:0: no such file" in done.stderr and "MINSHENG_HOLIDAYS_PATH" in done.stderr
    assert "web server on" not in done.stderr
