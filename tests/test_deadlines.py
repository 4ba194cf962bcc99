"""Deadline arithmetic in working time, and the policy file that drives it."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from storage.datafile import DataFileError
from workflow.deadlines import Deadlines
from workflow.policy import load_policy

REPO = Path(__file__).resolve().parent.parent
POLICY = REPO / "workflow" / "data" / "policy.yaml"
HOLIDAYS = REPO / "workflow" / "data" / "holidays.yaml"
ZONE = ZoneInfo("Asia/Shanghai")


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZONE)


@pytest.fixture(scope="module")
def deadlines() -> Deadlines:
    return Deadlines.load(POLICY, HOLIDAYS, ZONE)


def ack(deadlines: Deadlines, start: datetime, priority: str = "normal", types: tuple[str, ...] = ()) -> datetime:
    return deadlines.acknowledge_due(start, priority=priority, problem_types=types).astimezone(ZONE)


def resolve(deadlines: Deadlines, start: datetime, priority: str = "normal", types=(), promised=None) -> datetime:
    due = deadlines.resolve_due(start, priority=priority, problem_types=types, promised_days=promised)
    return due.astimezone(ZONE)


# --- working hours --------------------------------------------------------------------------------


def test_acknowledge_hours_skip_the_lunch_break(deadlines: Deadlines) -> None:
    assert ack(deadlines, local(2026, 11, 23, 11, 0)) == local(2026, 11, 23, 16, 30)


def test_acknowledge_deadline_landing_on_a_period_end_stays_there(deadlines: Deadlines) -> None:
    assert ack(deadlines, local(2026, 11, 23, 8, 0), "urgent") == local(2026, 11, 23, 11, 0)
    assert deadlines.add_working_time(local(2026, 11, 23, 9, 0), timedelta(hours=3)) == local(2026, 11, 23, 12, 0)


def test_acknowledge_hours_carry_over_night(deadlines: Deadlines) -> None:
    assert ack(deadlines, local(2026, 11, 23, 17, 0)) == local(2026, 11, 24, 14, 0)


def test_acknowledge_hours_carry_over_the_weekend(deadlines: Deadlines) -> None:
    assert ack(deadlines, local(2026, 11, 27, 16, 30)) == local(2026, 11, 30, 12, 0)


def test_complaint_filed_at_night_starts_counting_next_morning(deadlines: Deadlines) -> None:
    assert ack(deadlines, local(2026, 11, 24, 23, 40)) == local(2026, 11, 25, 14, 30)


def test_acknowledge_clock_sleeps_through_national_day(deadlines: Deadlines) -> None:
    assert ack(deadlines, local(2026, 9, 30, 16, 0)) == local(2026, 10, 8, 11, 30)


def test_complaint_filed_on_a_make_up_saturday_counts_that_day(deadlines: Deadlines) -> None:
    assert ack(deadlines, local(2026, 10, 10, 10, 0)) == local(2026, 10, 10, 15, 30)


# --- working days ---------------------------------------------------------------------------------


def test_resolve_ends_at_close_of_the_fifth_working_day_after_the_start_day(deadlines: Deadlines) -> None:
    assert resolve(deadlines, local(2026, 11, 23, 10, 0)) == local(2026, 11, 30, 17, 30)
    assert resolve(deadlines, local(2026, 11, 23, 20, 0)) == local(2026, 11, 30, 17, 30)


def test_resolve_counts_make_up_saturday_and_skips_national_day(deadlines: Deadlines) -> None:
    # Sep 30 → Oct 8, 9, 10 (Saturday 调休), 12, 13.
    assert resolve(deadlines, local(2026, 9, 30, 10, 0)) == local(2026, 10, 13, 17, 30)


def test_resolve_across_spring_festival_2026(deadlines: Deadlines) -> None:
    # Feb 12 → Feb 13, 14 (Saturday 调休), [15–23 off], 24, 25, 26.
    assert resolve(deadlines, local(2026, 2, 12, 10, 0)) == local(2026, 2, 26, 17, 30)


def test_complex_and_urgent_priorities_use_their_limits(deadlines: Deadlines) -> None:
    assert resolve(deadlines, local(2026, 11, 23, 10, 0), "urgent") == local(2026, 11, 25, 17, 30)
    assert resolve(deadlines, local(2026, 11, 2, 10, 0), "complex") == local(2026, 11, 23, 17, 30)


def test_agency_promise_tightens_but_never_loosens_the_limit(deadlines: Deadlines) -> None:
    start = local(2026, 11, 23, 10, 0)
    assert resolve(deadlines, start, promised=3) == local(2026, 11, 26, 17, 30)
    assert resolve(deadlines, start, promised=10) == local(2026, 11, 30, 17, 30)


def test_problem_type_override_applies_to_its_priority_only(deadlines: Deadlines) -> None:
    start = local(2026, 11, 2, 10, 0)
    assert resolve(deadlines, start, "normal", ("吃拿卡要",)) == local(2026, 11, 16, 17, 30)
    assert resolve(deadlines, start, "complex", ("吃拿卡要",)) == local(2026, 11, 23, 17, 30)


def test_strictest_matching_override_wins_and_unmatched_types_do_not_count(deadlines: Deadlines) -> None:
    start = local(2026, 11, 2, 10, 0)
    assert resolve(deadlines, start, "normal", ("吃拿卡要", "工作纪律")) == local(2026, 11, 5, 17, 30)
    assert resolve(deadlines, start, "normal", ("吃拿卡要", "脸难看")) == local(2026, 11, 16, 17, 30)


def test_a_shorter_limit_for_a_problem_type_never_gives_an_urgent_complaint_longer(deadlines: Deadlines) -> None:
    start = local(2026, 11, 2, 10, 0)
    urgent = resolve(deadlines, start, "urgent")
    assert urgent == local(2026, 11, 4, 17, 30)
    assert resolve(deadlines, start, "urgent", ("工作纪律",)) == urgent  # not the 3 days meant to shorten 5 and 15
    assert resolve(deadlines, start, "normal", ("工作纪律",)) == local(2026, 11, 5, 17, 30)
    assert resolve(deadlines, start, "complex", ("工作纪律",)) == local(2026, 11, 5, 17, 30)


def test_extension_adds_working_days_from_the_current_deadline(deadlines: Deadlines) -> None:
    due = local(2026, 9, 29, 17, 30)
    assert deadlines.extend(due, 3).astimezone(ZONE) == local(2026, 10, 9, 17, 30)


def test_policy_caps_are_exposed(deadlines: Deadlines) -> None:
    assert (deadlines.max_extension_days, deadlines.max_extensions, deadlines.reopen_resolve_days) == (10, 2, 5)


# --- reading a deadline ---------------------------------------------------------------------------


def test_remaining_counts_only_working_time(deadlines: Deadlines) -> None:
    assert deadlines.remaining(local(2026, 11, 27, 17, 0), local(2026, 11, 30, 10, 0)) == timedelta(hours=1, minutes=30)


def test_remaining_is_negative_working_time_when_overdue(deadlines: Deadlines) -> None:
    late = deadlines.remaining(local(2026, 11, 30, 14, 0), local(2026, 11, 30, 10, 0))
    assert late == -timedelta(hours=2, minutes=30)


def test_state_moves_from_normal_to_warning_to_overdue(deadlines: Deadlines) -> None:
    due = local(2026, 11, 30, 17, 30)
    assert deadlines.state(local(2026, 11, 26, 10, 0), due) == "normal"
    assert deadlines.state(local(2026, 11, 30, 9, 0), due) == "warning"
    assert deadlines.state(due, due) == "overdue"
    assert deadlines.state(local(2026, 12, 1, 9, 0), due) == "overdue"


def test_state_with_a_start_warns_in_the_last_quarter_of_a_short_clock(deadlines: Deadlines) -> None:
    start, due = local(2026, 11, 23, 9, 0), local(2026, 11, 23, 14, 30)  # four working hours
    assert deadlines.state(local(2026, 11, 23, 11, 0), due, start=start) == "normal"
    assert deadlines.state(local(2026, 11, 23, 13, 30), due, start=start) == "warning"


def test_resolve_reminder_comes_on_the_morning_of_the_last_day(deadlines: Deadlines) -> None:
    start, due = local(2026, 11, 23, 10, 0), local(2026, 11, 30, 17, 30)
    moments = deadlines.reminder_moments(deadlines.policy.resolve, start, due)
    assert [m.astimezone(ZONE) for m in moments] == [local(2026, 11, 30, 9, 0)]


def test_acknowledge_reminder_when_a_quarter_is_left(deadlines: Deadlines) -> None:
    start = local(2026, 11, 23, 11, 0)
    due = deadlines.acknowledge_due(start, priority="normal", problem_types=())
    moments = deadlines.reminder_moments(deadlines.policy.acknowledge, start, due)
    assert [m.astimezone(ZONE) for m in moments] == [local(2026, 11, 23, 15, 30)]


def test_escalation_comes_a_working_day_after_a_missed_resolve_deadline(deadlines: Deadlines) -> None:
    due = local(2026, 9, 30, 17, 30)
    escalation = deadlines.escalation_moment(deadlines.policy.resolve, due)
    assert escalation.astimezone(ZONE) == local(2026, 10, 8, 17, 30)


def test_describe_speaks_plain_chinese(deadlines: Deadlines) -> None:
    due = local(2026, 11, 27, 17, 30).astimezone(UTC)
    assert deadlines.describe(due) == "11月27日（周五）17:30前"
    assert deadlines.describe(due, now=local(2025, 12, 30)) == "2026年11月27日（周五）17:30前"


# --- the policy file ------------------------------------------------------------------------------


def write_policy(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_policy_file_is_valid() -> None:
    policy = load_policy(POLICY)
    assert policy.limits["normal"].acknowledge_hours == 4
    assert policy.limits["complex"].resolve_days == 15


def test_policy_error_names_the_line_of_an_unknown_problem_type(tmp_path: Path) -> None:
    text = POLICY.read_text(encoding="utf-8").replace("problem_type: 工作纪律", "problem_type: 上班迟到", 1)
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "上班迟到" in row)
    with pytest.raises(DataFileError) as caught:
        load_policy(write_policy(tmp_path, text))
    assert caught.value.problems == [f"{line}: overrides.2.problem_type: unknown problem type '上班迟到'"]


def test_policy_error_names_the_line_of_a_bad_working_period(tmp_path: Path) -> None:
    text = POLICY.read_text(encoding="utf-8").replace('"13:30-17:30"', '"17:30-13:30"')
    line = next(i for i, row in enumerate(text.splitlines(), 1) if row.startswith("working_hours:"))
    with pytest.raises(DataFileError) as caught:
        load_policy(write_policy(tmp_path, text))
    assert caught.value.problems[0].startswith(f"{line}: working_hours:")
    assert "ends before it starts" in caught.value.problems[0]


def test_policy_rejects_a_reminder_with_two_ways_of_saying_when(tmp_path: Path) -> None:
    text = POLICY.read_text(encoding="utf-8").replace(
        "    - working_days_before: 1", "    - working_days_before: 1\n      fraction_left: 0.5"
    )
    line = next(i for i, row in enumerate(text.splitlines(), 1) if row.strip() == "- working_days_before: 1")
    with pytest.raises(DataFileError) as caught:
        load_policy(write_policy(tmp_path, text))
    assert caught.value.problems[0].startswith(f"{line}: resolve.reminders.0:")


def test_policy_requires_limits_for_every_priority(tmp_path: Path) -> None:
    text = POLICY.read_text(encoding="utf-8").replace("  urgent:  {acknowledge_hours: 2, resolve_days: 2}\n", "")
    with pytest.raises(DataFileError, match="limits missing for priority urgent"):
        load_policy(write_policy(tmp_path, text))


def test_policy_refuses_a_duplicated_key_with_its_line(tmp_path: Path) -> None:
    text = POLICY.read_text(encoding="utf-8") + "reopen_resolve_days: 7\n"
    with pytest.raises(DataFileError) as caught:
        load_policy(write_policy(tmp_path, text))
    assert f"{len(text.splitlines())}: invalid YAML: duplicate key" in caught.value.problems[0]


def test_rating_window_counts_working_days_past_national_day_and_its_make_up_saturday(deadlines: Deadlines) -> None:
    assert deadlines.rating_window_days == 7
    # 10-01..07 off; 10-08, 09, 10 (a make-up Saturday), 12, 13, 14, 15: close of business on the 7th.
    assert deadlines.rating_due(local(2026, 9, 30, 15, 0)).astimezone(ZONE) == local(2026, 10, 15, 17, 30)


@pytest.mark.parametrize(
    ("key", "default", "value"),
    [
        ("rating_window_days", "7", "0"),
        ("rating_window_days", "7", "61"),
        ("rating_window_days", "7", "一周"),
        ("rating_reminder_days_before", "2", "-1"),
        ("rating_reminder_days_before", "2", "两天"),
    ],
)
def test_policy_refuses_a_bad_rating_setting_with_its_line(tmp_path: Path, key: str, default: str, value: str) -> None:
    text = POLICY.read_text(encoding="utf-8").replace(f"{key}: {default}", f"{key}: {value}")
    line = next(i for i, row in enumerate(text.splitlines(), 1) if row.startswith(f"{key}:"))
    with pytest.raises(DataFileError) as caught:
        load_policy(write_policy(tmp_path, text))
    assert caught.value.problems[0].startswith(f"{line}: {key}:"), caught.value.problems


@pytest.mark.parametrize(("key", "default"), [("rating_window_days", "7"), ("rating_reminder_days_before", "2")])
def test_policy_requires_each_rating_setting(tmp_path: Path, key: str, default: str) -> None:
    text = POLICY.read_text(encoding="utf-8").replace(f"{key}: {default}\n", "")
    assert text != POLICY.read_text(encoding="utf-8")
    with pytest.raises(DataFileError, match=key):
        load_policy(write_policy(tmp_path, text))


def test_the_rating_reminder_comes_two_working_days_before_the_window_closes_skipping_the_holiday(
    deadlines: Deadlines,
) -> None:
    assert deadlines.policy.rating_reminder_days_before == 2
    # A reply on Monday 21 September: 22, 23, 24, 28, 29, 30 September (25th: Mid-Autumn) and 8 October,
    # so the window closes on Thursday 8 October at 17:30. Two working days' worth before that is the
    # start of Wednesday 30 September: the seven days of the National Day break count for nothing.
    resolved_at = local(2026, 9, 21, 15, 0)
    assert deadlines.rating_due(resolved_at).astimezone(ZONE) == local(2026, 10, 8, 17, 30)
    assert deadlines.rating_reminder(resolved_at).astimezone(ZONE) == local(2026, 9, 30, 9, 0)


@pytest.mark.parametrize(("window", "reminder"), [(7, 7), (7, 9), (1, 1)])
def test_policy_refuses_a_rating_reminder_not_inside_the_window_with_its_line(
    tmp_path: Path, window: int, reminder: int
) -> None:
    text = (
        POLICY.read_text(encoding="utf-8")
        .replace("rating_window_days: 7", f"rating_window_days: {window}")
        .replace("rating_reminder_days_before: 2", f"rating_reminder_days_before: {reminder}")
    )
    line = next(i for i, row in enumerate(text.splitlines(), 1) if row.startswith("rating_reminder_days_before:"))
    with pytest.raises(DataFileError) as caught:
        load_policy(write_policy(tmp_path, text))
    assert caught.value.problems == [
        f"{line}: rating_reminder_days_before: must be less than rating_window_days ({window}), or 0 for no reminder"
    ]


def test_a_zero_rating_reminder_sends_none_and_allows_a_one_day_window(tmp_path: Path) -> None:
    text = (
        POLICY.read_text(encoding="utf-8")
        .replace("rating_window_days: 7", "rating_window_days: 1")
        .replace("rating_reminder_days_before: 2", "rating_reminder_days_before: 0")
    )
    policy = load_policy(write_policy(tmp_path, text))
    deadlines = Deadlines.load(write_policy(tmp_path, text), HOLIDAYS, ZONE)
    assert policy.rating_reminder_days_before == 0
    assert deadlines.rating_reminder(local(2026, 11, 23, 10)) is None


def test_start_up_warns_loudly_about_years_without_holiday_data(
    deadlines: Deadlines, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="workflow.deadlines"):
        assert deadlines.warn_about_unknown_years(local(2040, 3, 1)) == [2040, 2041]
        assert deadlines.warn_about_unknown_years(local(2025, 3, 1)) == []
    assert [r.getMessage()[:40] for r in caplog.records] == ["WORKING-DAY CALENDAR: no holiday data fo"] * 2


def test_an_impossible_date_in_the_holidays_file_is_reported_with_its_line(tmp_path: Path) -> None:
    holidays = tmp_path / "holidays.yaml"
    holidays.write_text("years:\n  2027:\n    holidays: [2027-01-01, 2027-02-30]\n    workdays: []\n", encoding="utf-8")
    with pytest.raises(DataFileError) as caught:
        Deadlines.load(POLICY, holidays, ZONE)
    assert caught.value.problems == ["3: invalid value: day is out of range for month"]
