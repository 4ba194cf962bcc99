"""Working days: China's official holidays and 调休 make-up days, the override file, the statutory fallback."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest

from storage.datafile import DataFileError
from workflow import calendar as calendar_module
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


#: The statutory holidays of 2027 that fall on weekdays, and an invented arrangement around them.
YEAR_2027 = (
    "years:\n"
    "  2027:\n"
    "    holidays: [2027-01-01, 2027-02-05, 2027-02-08, 2027-02-09, 2027-04-05, 2027-06-09, 2027-09-15,"
    " 2027-10-01, 2027-10-04]\n"
    "    workdays: [2027-02-20]\n"
)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "holidays.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_override_file_supplies_a_year_the_library_does_not_know(tmp_path: Path) -> None:
    calendar = WorkCalendar.load(write(tmp_path, YEAR_2027))
    assert calendar.knows(2027)
    assert not calendar.is_working_day(date(2027, 1, 1))  # Friday, New Year
    assert calendar.is_working_day(date(2027, 2, 20))  # Saturday 调休
    assert not calendar.is_working_day(date(2027, 2, 9))  # an extra day off of the arrangement
    assert calendar.is_working_day(date(2027, 3, 1))  # unlisted Monday: a weekday
    assert not calendar.is_working_day(date(2027, 3, 6))  # unlisted Saturday


def test_a_known_year_in_the_file_replaces_the_library_for_that_year(tmp_path: Path) -> None:
    """A correction inside a year the library knows is the whole year's arrangement, like any other."""
    year = [date(2026, 1, 1) + timedelta(days=i) for i in range(365)]
    weekdays_off = [day for day in year if day.weekday() < 5 and not chinese_calendar.is_workday(day)]
    workdays = [day for day in year if day.weekday() >= 5 and chinese_calendar.is_workday(day)]
    listed = ", ".join(str(day) for day in [*weekdays_off, date(2026, 12, 31)])
    path = write(
        tmp_path,
        f"years:\n  2026:\n    holidays: [{listed}]\n    workdays: [{', '.join(str(d) for d in workdays)}]\n",
    )
    assert WorkCalendar().is_working_day(date(2026, 12, 31))
    corrected = WorkCalendar.load(path)
    assert not corrected.is_working_day(date(2026, 12, 31))
    assert not corrected.is_working_day(date(2026, 10, 1))
    assert corrected.is_working_day(date(2026, 9, 20))  # Sunday 调休


def test_a_year_listing_only_some_days_off_is_refused_naming_the_missing_festivals(tmp_path: Path) -> None:
    path = write(tmp_path, "years:\n  2027:\n    holidays: [2027-01-01]\n")
    with pytest.raises(DataFileError) as caught:
        WorkCalendar.load(path)
    problems = caught.value.problems
    assert problems[0].startswith(
        "3: years.2027.holidays: 2027年的放假安排缺少春节 2027-02-05（周五）、2027-02-08（周一）"
    )
    for festival in ("清明节 2027-04-05（周一）", "端午节 2027-06-09（周三）", "中秋节 2027-09-15（周三）"):
        assert any(festival in problem for problem in problems), problems
    assert any("国庆节 2027-10-01（周五）" in problem for problem in problems)
    assert not any("元旦" in problem or "劳动节" in problem for problem in problems)  # listed; on a weekend
    assert all(problem.startswith("3: ") for problem in problems)


def test_a_known_year_with_a_single_correction_is_refused(tmp_path: Path) -> None:
    """It would otherwise turn 2026's National Day week into working days."""
    path = write(tmp_path, "years:\n  2026:\n    holidays: [2026-12-31]\n")
    with pytest.raises(DataFileError, match="2026年的放假安排缺少国庆节 2026-10-01（周四）、2026-10-02（周五）"):
        WorkCalendar.load(path)


def test_a_year_without_a_holidays_list_is_refused_on_the_years_line(tmp_path: Path) -> None:
    path = write(tmp_path, "years:\n  2027:\n    workdays: []\n")
    with pytest.raises(DataFileError) as caught:
        WorkCalendar.load(path)
    assert caught.value.problems[0].startswith("2: years.2027: 2027年的放假安排缺少元旦 2027-01-01（周五）")


def test_weekend_days_off_and_weekday_workdays_are_refused_on_their_lines(tmp_path: Path) -> None:
    text = YEAR_2027.replace("    workdays: [2027-02-20]\n", "    workdays:\n      - 2027-02-20\n      - 2027-03-03\n")
    text = text.replace("2027-10-04]", "2027-10-04,\n      2027-10-09]")
    with pytest.raises(DataFileError) as caught:
        WorkCalendar.load(write(tmp_path, text))
    assert caught.value.problems == [
        "4: years.2027.holidays.9: 2027-10-09 是周六：holidays 只列放假的周一至周五，周末本就休息",
        "7: years.2027.workdays.1: 2027-03-03 是周三：workdays 只列调休上班的周六、周日",
    ]


def test_a_statutory_holiday_on_a_weekend_cannot_be_a_make_up_workday(tmp_path: Path) -> None:
    text = YEAR_2027.replace("workdays: [2027-02-20]", "workdays: [2027-02-20, 2027-05-01]")
    with pytest.raises(DataFileError) as caught:
        WorkCalendar.load(write(tmp_path, text))
    assert caught.value.problems == ["4: years.2027.workdays.1: 2027-05-01（周六）是劳动节，不能列入 workdays"]


def test_the_example_in_the_bundled_file_passes_the_check(tmp_path: Path) -> None:
    """The commented 2027 example is what an operator copies: it must load once uncommented."""
    lines = HOLIDAYS.read_text(encoding="utf-8").splitlines()
    start = lines.index("# years:")
    example = [line.removeprefix("# ") for line in lines[start : start + 4]]
    calendar = WorkCalendar.load(write(tmp_path, "\n".join(example) + "\n"))
    assert calendar.knows(2027) and not calendar.is_working_day(date(2027, 2, 8))


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


def test_unknown_years_are_those_of_a_span_left_to_the_statutory_fallback(tmp_path: Path) -> None:
    span = (date(2026, 12, 1), date(2028, 1, 5))
    assert WorkCalendar().unknown_years(*span) == [2027, 2028]
    assert WorkCalendar.load(write(tmp_path, YEAR_2027)).unknown_years(*span) == [2028]
    assert WorkCalendar().unknown_years(date(2026, 1, 1), date(2026, 12, 31)) == []


def test_uncertain_years_reach_the_furthest_deadline_in_play() -> None:
    """Today plus the longest limit (15 working days for a complex complaint), or an open complaint's
    deadline further away."""
    deadlines = Deadlines(load_policy(POLICY), WorkCalendar.load(HOLIDAYS), ZONE)
    early, late = datetime(2026, 12, 1, 10, 0, tzinfo=ZONE), datetime(2026, 12, 21, 10, 0, tzinfo=ZONE)
    assert deadlines.uncertain_years(early) == []
    assert deadlines.uncertain_years(early, datetime(2027, 1, 8, 17, 30, tzinfo=ZONE)) == [2027]
    assert deadlines.uncertain_years(late) == [2027]


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


def test_override_file_rejects_a_date_filed_under_the_wrong_year_on_its_line(tmp_path: Path) -> None:
    text = YEAR_2027.replace("workdays: [2027-02-20]", "workdays:\n      - 2027-02-20\n      - 2028-01-08")
    with pytest.raises(DataFileError) as caught:
        WorkCalendar.load(write(tmp_path, text))
    assert caught.value.problems == ["6: years.2027.workdays.1: 2028-01-08 is listed under year 2027"]


def test_a_day_both_off_and_working_is_refused_on_its_workdays_line(tmp_path: Path) -> None:
    path = write(tmp_path, YEAR_2027 + "  2031:\n    holidays: [2031-01-01]\n    workdays: [2031-01-01]\n")
    with pytest.raises(DataFileError) as caught:
        WorkCalendar.load(path)
    assert "7: years.2031.workdays.0: 2031-01-01 is listed as both a holiday and a workday" in caught.value.problems


def test_a_key_that_is_not_a_year_is_refused_on_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, YEAR_2027 + "  twenty-28:\n    holidays: []\n")
    with pytest.raises(DataFileError) as caught:
        WorkCalendar.load(path)
    assert caught.value.problems == ["5: years.twenty-28: 'twenty-28' is not a year"]


def test_a_missing_file_at_a_configured_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DataFileError) as caught:
        WorkCalendar.load(tmp_path / "absent.yaml")
    (problem,) = caught.value.problems
    assert problem.startswith("0: no such file") and "MINSHENG_HOLIDAYS_PATH" in problem


def test_a_missing_bundled_file_means_library_only_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Said at each load: `serve` loads the calendar once (tests.test_service checks it says it once)."""
    absent = tmp_path / "holidays.yaml"
    monkeypatch.setattr(calendar_module, "DEFAULT_HOLIDAYS", absent)
    with caplog.at_level(logging.INFO, logger="workflow.calendar"):
        calendar = WorkCalendar.load(absent)
    assert not calendar.is_working_day(date(2026, 10, 1))
    assert [r.getMessage() for r in caplog.records] == [f"no holiday override file at {absent}"]


def test_the_bundled_file_is_the_settings_default() -> None:
    """The one path whose absence is not a mistake."""
    from minsheng.settings import Settings

    assert Settings.model_fields["holidays_path"].default == calendar_module.DEFAULT_HOLIDAYS == HOLIDAYS
