"""Deadlines in working time (限时办结制): the one place that does deadline arithmetic.

Rules (also in data/policy.yaml's comments):
- acknowledge: N working hours counted from the start; outside working hours the count begins at the
  next working period. A deadline that lands exactly on a period's end stays there (12:00, not 13:30).
- resolve and extensions: the close of business of the Nth working day after the start's local date.
- remaining time and reminder points are measured in working time, so lunch, nights, weekends and
  holidays neither count down nor trigger anything.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from workflow.calendar import UNKNOWN_YEAR_WARNING, WorkCalendar, weekday_name
from workflow.policy import ClockPolicy, Policy, load_policy

log = logging.getLogger(__name__)

#: A search bound: no limit in the policy comes near ten years of working days.
_MAX_DAYS = 3660


class Deadlines:
    def __init__(self, policy: Policy, calendar: WorkCalendar, zone: ZoneInfo) -> None:
        self.policy = policy
        self.calendar = calendar
        self.zone = zone
        self.max_extension_days = policy.extensions.max_days
        self.max_extensions = policy.extensions.max_requests
        self.reopen_resolve_days = policy.reopen_resolve_days
        self.rating_window_days = policy.rating_window_days
        self.day_length = sum(
            (
                datetime.combine(date.min, end) - datetime.combine(date.min, start)
                for start, end in policy.working_hours
            ),
            timedelta(),
        )

    @classmethod
    def load(cls, policy_path: Path, holidays_path: Path, zone: ZoneInfo) -> Deadlines:
        return cls(load_policy(policy_path), WorkCalendar.load(holidays_path), zone)

    def warn_about_unknown_years(self, now: datetime) -> list[int]:
        """At start-up: this year and next without holiday data get a loud warning now, not at the
        first deadline that silently ignores a holiday. Returns the unknown years."""
        this_year = now.astimezone(self.zone).year
        unknown = [year for year in (this_year, this_year + 1) if not self.calendar.knows(year)]
        for year in unknown:
            log.warning(UNKNOWN_YEAR_WARNING, year)
        return unknown

    def uncertain_years(self, now: datetime, furthest_due: datetime | None = None) -> list[int]:
        """The years without the holiday arrangement (``WorkCalendar.unknown_years``) from today to the
        furthest deadline in play: ``furthest_due`` (an open complaint's) or one set today with the
        policy's longest limit. Deadlines in them are estimates, so the people reading them are told."""
        furthest = self.add_working_days(now, self._longest_days())
        if furthest_due is not None:
            furthest = max(furthest, furthest_due)
        return self.calendar.unknown_years(now.astimezone(self.zone).date(), furthest.astimezone(self.zone).date())

    def _longest_days(self) -> int:
        """The most working days any deadline set from now counts: a resolve limit, a 重办, a rating window."""
        overrides = [o.resolve_days for o in self.policy.overrides if o.resolve_days is not None]
        limits = [limit.resolve_days for limit in self.policy.limits.values()]
        return max(*limits, *overrides, self.reopen_resolve_days, self.rating_window_days)

    # --- limits -------------------------------------------------------------------------------

    def _limit(self, field: str, priority: str, problem_types: Sequence[str]) -> float:
        matching = [
            getattr(o, field)
            for o in self.policy.overrides
            if o.problem_type in problem_types and o.priority in (None, priority) and getattr(o, field) is not None
        ]
        if matching:
            return min(matching)
        return getattr(self.policy.limits[priority], field)

    def acknowledge_due(self, start: datetime, *, priority: str, problem_types: Sequence[str]) -> datetime:
        hours = self._limit("acknowledge_hours", priority, problem_types)
        return self.add_working_time(start, timedelta(hours=hours))

    def resolve_due(
        self, start: datetime, *, priority: str, problem_types: Sequence[str], promised_days: int | None = None
    ) -> datetime:
        """``promised_days`` is the agency's published promise (服务承诺); it only ever tightens."""
        days = int(self._limit("resolve_days", priority, problem_types))
        if promised_days is not None and promised_days > 0:
            days = min(days, promised_days)
        return self.add_working_days(start, days)

    def extend(self, due: datetime, days: int) -> datetime:
        return self.add_working_days(due, days)

    def rating_due(self, resolved_at: datetime) -> datetime:
        """End of the citizen's rating window (满意度测评) for a reply given at ``resolved_at``."""
        return self.add_working_days(resolved_at, self.rating_window_days)

    def rating_reminder(self, resolved_at: datetime) -> datetime | None:
        """When to remind a citizen who has not rated the reply given at ``resolved_at`` (评价提醒): the
        policy's working days before the window closes, each a working day's worth of working hours as
        for a 预警's ``working_days_before`` (so it lands at the start of a working day, not at its
        close). None when the policy sends no reminder."""
        days = self.policy.rating_reminder_days_before
        if days <= 0:
            return None
        moment = self.subtract_working_time(self.rating_due(resolved_at), self.day_length * days)
        return moment if moment > resolved_at else None

    # --- working-time arithmetic ----------------------------------------------------------------

    def _periods(self, day: date) -> list[tuple[datetime, datetime]]:
        if not self.calendar.is_working_day(day):
            return []
        return [
            (datetime.combine(day, start, self.zone), datetime.combine(day, end, self.zone))
            for start, end in self.policy.working_hours
        ]

    def _close_of(self, day: date) -> datetime:
        return datetime.combine(day, self.policy.working_hours[-1][1], self.zone).astimezone(UTC)

    def is_working_day(self, day: date) -> bool:
        return self.calendar.is_working_day(day)

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """Close of business of the ``days``-th working day after ``start``'s local date."""
        day = start.astimezone(self.zone).date()
        counted = 0
        for _ in range(_MAX_DAYS):
            day += timedelta(days=1)
            if self.calendar.is_working_day(day):
                counted += 1
                if counted >= days:
                    return self._close_of(day)
        raise ValueError(f"no {days} working days found after {start}")

    def add_working_time(self, start: datetime, amount: timedelta) -> datetime:
        local = start.astimezone(self.zone)
        left = amount
        day = local.date()
        for _ in range(_MAX_DAYS):
            for begin, end in self._periods(day):
                if end <= local:
                    continue
                begin = max(begin, local)
                if left <= end - begin:
                    return (begin + left).astimezone(UTC)
                left -= end - begin
            day += timedelta(days=1)
        raise ValueError(f"cannot add {amount} of working time to {start}")

    def subtract_working_time(self, end: datetime, amount: timedelta) -> datetime:
        """The earliest moment from which ``amount`` of working time remains until ``end``."""
        local = end.astimezone(self.zone)
        left = amount
        day = local.date()
        for _ in range(_MAX_DAYS):
            for begin, finish in reversed(self._periods(day)):
                if begin >= local:
                    continue
                finish = min(finish, local)
                if left <= finish - begin:
                    return (finish - left).astimezone(UTC)
                left -= finish - begin
            day -= timedelta(days=1)
        raise ValueError(f"cannot subtract {amount} of working time from {end}")

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Working time in [start, end); negative when ``end`` is before ``start``."""
        if end < start:
            return -self.working_time_between(end, start)
        a, b = start.astimezone(self.zone), end.astimezone(self.zone)
        total = timedelta()
        day = a.date()
        while day <= b.date():
            for begin, finish in self._periods(day):
                overlap = min(finish, b) - max(begin, a)
                if overlap > timedelta():
                    total += overlap
            day += timedelta(days=1)
        return total

    # --- reading a deadline ----------------------------------------------------------------------

    def remaining(self, now: datetime, due: datetime) -> timedelta:
        """Working time left; negative (working time since the deadline) when overdue."""
        return self.working_time_between(now, due)

    def state(self, now: datetime, due: datetime, *, start: datetime | None = None) -> str:
        """ "normal" | "warning" | "overdue". With ``start`` the warning band is a fraction of the whole
        clock (right for short acknowledge clocks); without it, a fixed number of working hours."""
        if now >= due:
            return "overdue"
        left = self.remaining(now, due)
        warning = self.policy.warning
        if start is not None:
            band = self.working_time_between(start, due) * warning.fraction_left
        else:
            band = timedelta(hours=warning.working_hours_left)
        return "warning" if left <= band else "normal"

    def reminder_moments(self, clock: ClockPolicy, start: datetime, due: datetime) -> list[datetime]:
        """When to send each 预警 of ``clock``; points at or before ``start`` are dropped."""
        total = self.working_time_between(start, due)
        moments = set()
        for point in clock.reminders:
            if point.fraction_left is not None:
                lead = total * point.fraction_left
            elif point.working_hours_before is not None:
                lead = timedelta(hours=point.working_hours_before)
            else:
                lead = self.day_length * (point.working_days_before or 0)
            if lead <= timedelta() or lead >= total:
                continue
            moment = self.subtract_working_time(due, lead)
            if start < moment < due:
                moments.add(moment)
        return sorted(moments)

    def escalation_moment(self, clock: ClockPolicy, due: datetime) -> datetime:
        """When a still-overdue deadline goes to oversight (督办)."""
        if clock.escalate_after_working_hours is not None:
            return self.add_working_time(due, timedelta(hours=clock.escalate_after_working_hours))
        return self.add_working_days(due, clock.escalate_after_working_days or 1)

    def describe(self, due: datetime, *, now: datetime | None = None) -> str:
        """Plain Chinese for citizens: "11月27日（周五）17:30前"; with ``now`` in another year, the year too."""
        return f"{self.describe_moment(due, now=now)}前"

    def describe_moment(self, moment: datetime, *, now: datetime | None = None) -> str:
        """A moment as "11月27日（周五）17:30" (no 前: right for a deadline that has passed)."""
        local = moment.astimezone(self.zone)
        year = f"{local.year}年" if now is not None and now.astimezone(self.zone).year != local.year else ""
        return f"{year}{local.month}月{local.day}日（{weekday_name(local.date())}）{local:%H:%M}"

    # --- when people are told ---------------------------------------------------------------------

    def next_working_moment(self, moment: datetime) -> datetime:
        """``moment`` itself if it falls in working hours, else the start of the next working period.

        A period's end counts as inside it: deadlines land on 12:00 and 17:30, and their 催办 is sent
        then. Used to hold a timer's notices (after a restart, say) until people are at work.
        """
        local = moment.astimezone(self.zone)
        day = local.date()
        for _ in range(_MAX_DAYS):
            for begin, end in self._periods(day):
                if local <= end:
                    return moment if local >= begin else begin.astimezone(UTC)
            day += timedelta(days=1)
        raise ValueError(f"no working period found after {moment}")
