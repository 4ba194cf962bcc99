"""Working days: China's official holidays and 调休 make-up days, the override file, the statutory fallback."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest

from storage.datafile import DataFileError
from workflow.calendar import WorkCalendar, statutory_holidays
from workflow.deadlines import Deadlines
from workflow.policy import load_policy

REPO = Path(__file__).resolve().parent.parent
HOLIDAYS = REPO / "workflow" / "data" / "holidays.yaml"
POLICY = REPO / "workflow" / "data" / "policy.yaml"
ZONE = ZoneInfo("Asia/Shanghai")


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


def test_unknown_year_counts_weekends_and_statutory_holidays_with_one_loud_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calendar = WorkCalendar()
    assert not calendar.knows(2031)
    with caplog.at_level(logging.WARNING, logger="workflow.calendar"):
        assert not calendar.is_working_day(date(2031, 1, 1))  # a Wednesday: 元旦
        assert calendar.is_working_day(date(2031, 1, 2))  # no bridge day is invented
        assert not calendar.is_working_day(date(2031, 1, 4))  # Saturday
        assert calendar.is_working_day(date(2031, 1, 6))
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    message = warnings[0].getMessage()
    assert "2031" in message and "statutory" in message and "调休" in message and "holidays file" in message


def test_unknown_year_2027_rests_on_each_statutory_holiday_and_invents_no_arrangement() -> None:
    calendar = WorkCalendar()
    assert not calendar.knows(2027)
    off = [
        date(2027, 1, 1),  # Friday, 元旦
        date(2027, 2, 5),  # Friday, 除夕
        date(2027, 2, 8),  # Monday, 正月初三
        date(2027, 4, 5),  # Monday, 清明
        date(2027, 6, 9),  # Wednesday, 端午 (lunar 5/5)
        date(2027, 9, 15),  # Wednesday, 中秋 (lunar 8/15)
        date(2027, 10, 1),  # Friday, 国庆
    ]
    assert [day for day in off if calendar.is_working_day(day)] == []
    # No 调休 is known yet: the days around the holidays, and the weekdays after a holiday that fell
    # on a weekend (劳动节 on Saturday 1 and Sunday 2 May), stay working days until it is published.
    assert calendar.is_working_day(date(2027, 2, 9))
    assert calendar.is_working_day(date(2027, 5, 3))
    assert calendar.is_working_day(date(2027, 10, 4))
    assert not calendar.is_working_day(date(2027, 2, 6))  # Saturday, 正月初一


def test_complaint_filed_at_christmas_2026_is_not_due_on_new_years_day() -> None:
    deadlines = Deadlines(load_policy(POLICY), WorkCalendar.load(HOLIDAYS), ZONE)
    filed = datetime(2026, 12, 25, 10, 0, tzinfo=ZONE)  # a Friday; five working days for a normal complaint
    due = deadlines.resolve_due(filed, priority="normal", problem_types=()).astimezone(ZONE)
    assert due == datetime(2027, 1, 4, 17, 30, tzinfo=ZONE)  # 28-31 December, then Monday 4 January


def test_start_up_warning_says_statutory_holidays_are_counted_but_not_the_arrangement(
    caplog: pytest.LogCaptureFixture,
) -> None:
    deadlines = Deadlines(load_policy(POLICY), WorkCalendar.load(HOLIDAYS), ZONE)
    with caplog.at_level(logging.WARNING, logger="workflow.deadlines"):
        assert deadlines.warn_about_unknown_years(datetime(2026, 12, 3, 9, 0, tzinfo=ZONE)) == [2027]
    (message,) = [r.getMessage() for r in caplog.records]
    assert "2027" in message and "statutory public holidays" in message
    assert "调休" in message and "holidays file" in message and "Monday-Friday" not in message


def test_statutory_holidays_follow_the_law_in_force_that_year() -> None:
    """The 2024 amendment added 除夕 and 2 May from 2025 on; before it, 春节 was 初一 to 初三."""
    assert statutory_holidays(2025) == {
        date(2025, 1, 1),
        *(date(2025, 1, 28) + timedelta(days=i) for i in range(4)),  # 除夕 to 初三
        date(2025, 4, 4),
        date(2025, 5, 1),
        date(2025, 5, 2),
        date(2025, 5, 31),
        date(2025, 10, 6),  # 中秋
        *(date(2025, 10, 1) + timedelta(days=i) for i in range(3)),
    }
    old_law = statutory_holidays(2024)
    assert len(old_law) == 11
    assert date(2024, 2, 9) not in old_law and date(2024, 2, 10) in old_law  # 除夕 was not a holiday yet
    assert date(2024, 5, 2) not in old_law


@pytest.mark.parametrize("year", range(2020, 2027))
def test_statutory_holidays_are_days_off_in_every_year_the_library_knows(year: int) -> None:
    """Against the State Council's real arrangements: the fallback never calls a day off that was not."""
    not_off = [day for day in sorted(statutory_holidays(year)) if chinese_calendar.is_workday(day)]
    assert not_off == []


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
