"""The deadline policy file (data/policy.yaml): time limits, reminder points, escalation, extensions.

Operators edit it; `load_policy` validates it and names the line of every problem.
"""

from __future__ import annotations

import re
from datetime import time
from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from storage.datafile import ItemProblems, load_model
from storage.models import Priority
from storage.vocabulary import PROBLEM_TYPES

_PERIOD = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Limits(_Strict):
    acknowledge_hours: float = Field(gt=0, description="working hours to acknowledge (受理)")
    resolve_days: int = Field(ge=1, description="working days to resolve (办结)")


class Override(_Strict):
    """A tighter or looser limit for one problem type, for one priority or (omitted) all of them."""

    problem_type: str
    priority: Priority | None = None
    acknowledge_hours: float | None = Field(default=None, gt=0)
    resolve_days: int | None = Field(default=None, ge=1)

    @field_validator("problem_type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value not in PROBLEM_TYPES:
            raise ValueError(f"unknown problem type {value!r}")
        return value

    @model_validator(mode="after")
    def _sets_something(self) -> Self:
        if self.acknowledge_hours is None and self.resolve_days is None:
            raise ValueError("an override needs acknowledge_hours or resolve_days")
        return self


class ReminderPoint(_Strict):
    """When to send a 预警: exactly one of the three ways of saying "this much working time left"."""

    fraction_left: float | None = Field(default=None, gt=0, lt=1)
    working_hours_before: float | None = Field(default=None, gt=0)
    working_days_before: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        given = [v for v in (self.fraction_left, self.working_hours_before, self.working_days_before) if v is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of fraction_left, working_hours_before, working_days_before")
        return self


class ClockPolicy(_Strict):
    reminders: list[ReminderPoint] = Field(default_factory=list)
    #: 督办 this long after the 催办 at the deadline, if still overdue.
    escalate_after_working_hours: float | None = Field(default=None, gt=0)
    escalate_after_working_days: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _one_escalation_delay(self) -> Self:
        if (self.escalate_after_working_hours is None) == (self.escalate_after_working_days is None):
            raise ValueError("give exactly one of escalate_after_working_hours, escalate_after_working_days")
        return self


class WarningPolicy(_Strict):
    fraction_left: float = Field(default=0.25, gt=0, lt=1)
    working_hours_left: float = Field(default=7, gt=0)


class Extensions(_Strict):
    max_days: int = Field(ge=1)
    max_requests: int = Field(ge=0)


class Policy(_Strict):
    working_hours: list[tuple[time, time]]
    limits: dict[Priority, Limits]
    overrides: list[Override] = Field(default_factory=list)
    acknowledge: ClockPolicy
    resolve: ClockPolicy
    warning: WarningPolicy = Field(default_factory=WarningPolicy)
    extensions: Extensions
    reopen_resolve_days: int = Field(ge=1)
    #: Working days the citizen has to rate a reply; then the complaint closes as unrated (未评价).
    rating_window_days: int = Field(ge=1, le=60)
    #: How many working days (each a working day's worth of working hours) before the window closes the
    #: citizen is reminded of an unrated reply (评价提醒); 0 sends none (the only choice for a 1-day window).
    rating_reminder_days_before: int = Field(ge=0)
    #: The monthly publication (投诉情况每月公示) is taken at the close of business of this many working
    #: days after the month's last day; from then on an officer can release it, always as of that moment.
    publication_cutoff_working_days: int = Field(default=5, ge=1, le=30)

    @field_validator("working_hours", mode="before")
    @classmethod
    def _parse_periods(cls, value: object) -> object:
        if not isinstance(value, list) or not value:
            raise ValueError('give a list of periods like "09:00-12:00"')
        periods = []
        for item in value:
            match = _PERIOD.match(str(item).replace(" ", ""))
            if not match:
                raise ValueError(f'{item!r} is not a period like "09:00-12:00"')
            h1, m1, h2, m2 = (int(g) for g in match.groups())
            try:
                periods.append((time(h1, m1), time(h2, m2)))
            except ValueError as exc:
                raise ValueError(f"{item!r}: {exc}") from None
        previous_end = time(0, 0)
        for start, end in periods:
            if not start < end:
                raise ValueError(f"period {start:%H:%M}-{end:%H:%M} ends before it starts")
            if start < previous_end:
                raise ValueError("periods must be in order and must not overlap")
            previous_end = end
        return periods

    @model_validator(mode="after")
    def _reminder_inside_the_window(self) -> Self:
        # Reported on the reminder's own line: that is the number the operator has to change.
        if self.rating_reminder_days_before >= self.rating_window_days:
            raise ItemProblems(
                [
                    (
                        ("rating_reminder_days_before",),
                        f"must be less than rating_window_days ({self.rating_window_days}), or 0 for no reminder",
                    )
                ]
            )
        return self

    @field_validator("limits")
    @classmethod
    def _every_priority(cls, value: dict[Priority, Limits]) -> dict[Priority, Limits]:
        missing = [p.value for p in Priority if p not in value]
        if missing:
            raise ValueError(f"limits missing for priority {', '.join(missing)}")
        return value


def load_policy(path: Path) -> Policy:
    """Read and validate the policy file; raises storage.datafile.DataFileError with line numbers."""
    policy, _ = load_model(path, Policy)
    return policy
