"""Working days: China's official holidays and 调休 make-up days, the override file, the fallback."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from pathlib import Path

import pytest

from storage.datafile import DataFileError
from workflow.calendar import WorkCalendar

REPO = Path(__file__).resolve().parent.parent
HOLIDAYS = REPO / "workflow" / "data" / "holidays.yaml"


@pytest.fixture(scope="module")
def calendar() -> WorkCalendar:
    return WorkCalendar.load(HOLIDAYS)


def test_national_day_week_2026_is_off(calendar: WorkCalendar) -> None:
    week = [date(2026, 10, 1) + timedelta(days=i) for i in range(7)]
    assert [calendar.is_working_day(day) for day in week] == [False] * 7
    assert calendar.is_working_day(date(2026, 10, 8))
    assert calendar.is_working_day(date(2026, 10, 9))


def test_national_day_make_up_weekend_days_are_working_days(calendar: WorkCalendar) -> None:
    assert date(2026, 9, 20).weekday() == 6 and calendar.is_working_day(date(2026, 9, 20))
    assert date(2026, 10, 10).weekday() == 5 and calendar.is_working_day(date(2026, 10, 10))
    assert not calendar.is_working_day(date(2026, 10, 11))  # the Sunday after stays a rest day


def test_spring_festival_2026_and_its_make_up_saturdays(calendar: WorkCalendar) -> None:
    festival = [date(2026, 2, 15) + timedelta(days=i) for i in range(9)]  # Sun 15th to Mon 23rd
    assert not any(calendar.is_working_day(day) for day in festival)
    assert calendar.is_working_day(date(2026, 2, 14))  # Saturday 调休
    assert calendar.is_working_day(date(2026, 2, 28))  # Saturday 调休
    assert calendar.is_working_day(date(2026, 2, 24))


def test_ordinary_weekends_are_off_and_weekdays_on(calendar: WorkCalendar) -> None:
    assert calendar.is_working_day(date(2026, 11, 23))  # Monday
    assert not calendar.is_working_day(date(2026, 11, 22))  # Sunday
    assert not calendar.is_working_day(date(2026, 11, 28))  # Saturday


def test_override_file_supplies_a_year_the_library_does_not_know(tmp_path: Path) -> None:
    path = tmp_path / "holidays.yaml"
    path.write_text(
        "years:\n  2027:\n    holidays: [2027-01-01, 2027-02-08]\n    workdays: [2027-02-06]\n", encoding="utf-8"
    )
    calendar = WorkCalendar.load(path)
    assert calendar.knows(2027)
    assert not calendar.is_working_day(date(2027, 1, 1))  # Friday, New Year
    assert calendar.is_working_day(date(2027, 2, 6))  # Saturday 调休
    assert not calendar.is_working_day(date(2027, 2, 8))
    assert calendar.is_working_day(date(2027, 3, 1))  # unlisted Monday: a weekday
    assert not calendar.is_working_day(date(2027, 3, 6))  # unlisted Saturday


def test_override_date_wins_over_the_library_inside_a_known_year(tmp_path: Path) -> None:
    path = tmp_path / "holidays.yaml"
    path.write_text("years:\n  2026:\n    holidays: [2026-12-31]\n", encoding="utf-8")
    assert WorkCalendar().is_working_day(date(2026, 12, 31))
    corrected = WorkCalendar.load(path)
    assert not corrected.is_working_day(date(2026, 12, 31))


def test_unknown_year_falls_back_to_weekdays_with_one_loud_warning(caplog: pytest.LogCaptureFixture) -> None:
    calendar = WorkCalendar()
    assert not calendar.knows(2031)
    with caplog.at_level(logging.WARNING, logger="workflow.calendar"):
        assert calendar.is_working_day(date(2031, 1, 1))  # a Wednesday; the real New Year is unknown
        assert not calendar.is_working_day(date(2031, 1, 4))  # Saturday
        assert calendar.is_working_day(date(2031, 1, 6))
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "2031" in warnings[0].getMessage() and "Monday-Friday" in warnings[0].getMessage()


def test_override_file_errors_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "holidays.yaml"
    path.write_text("years:\n  2027:\n    holidays: [2027-01-01]\n    weekend: [2027-01-02]\n", encoding="utf-8")
    with pytest.raises(DataFileError) as caught:
        WorkCalendar.load(path)
    assert caught.value.problems[0].startswith("4: years.2027.weekend")


def test_override_file_rejects_a_date_filed_under_the_wrong_year(tmp_path: Path) -> None:
    path = tmp_path / "holidays.yaml"
    path.write_text("years:\n  2027:\n    holidays: [2028-01-01]\n", encoding="utf-8")
    with pytest.raises(DataFileError, match="listed under year 2027"):
        WorkCalendar.load(path)


def test_missing_override_file_means_library_only(tmp_path: Path) -> None:
    calendar = WorkCalendar.load(tmp_path / "absent.yaml")
    assert not calendar.is_working_day(date(2026, 10, 1))
