"""Which days are working days: China's official holidays and make-up working days (调休).

`chinese_calendar` knows the State Council's announcements up to its release; `data/holidays.yaml`
adds years it does not know yet (and may correct single dates). A year known to neither falls back to
plain Monday–Friday and says so loudly, once per year, because every deadline in it may be off.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import chinese_calendar
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from storage.datafile import load_model

log = logging.getLogger(__name__)


class YearOverride(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: Days off that would otherwise be working days (statutory holidays on weekdays).
    holidays: list[date] = Field(default_factory=list)
    #: Make-up working days (调休) that fall on a weekend.
    workdays: list[date] = Field(default_factory=list)


class HolidayFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: Keyed by the year as written (string keys keep the file's line numbers in error messages).
    years: dict[str, YearOverride] = Field(default_factory=dict)

    @field_validator("years", mode="before")
    @classmethod
    def _year_keys(cls, value: object) -> object:
        if isinstance(value, dict):
            for key in value:
                if not str(key).isdigit() or len(str(key)) != 4:
                    raise ValueError(f"{key!r} is not a year")
            return {str(key): item for key, item in value.items()}
        return value

    @model_validator(mode="after")
    def _dates_in_their_year(self) -> HolidayFile:
        for year, override in self.years.items():
            for day in (*override.holidays, *override.workdays):
                if str(day.year) != year:
                    raise ValueError(f"{day} is listed under year {year}")
            both = set(override.holidays) & set(override.workdays)
            if both:
                raise ValueError(f"{sorted(both)[0]} is listed as both a holiday and a workday")
        return self


class WorkCalendar:
    """Answers "is this local date a working day?" from the override file, the library, or weekdays."""

    def __init__(self, overrides: HolidayFile | None = None) -> None:
        self._overrides = overrides or HolidayFile()
        self._off = {d for y in self._overrides.years.values() for d in y.holidays}
        self._work = {d for y in self._overrides.years.values() for d in y.workdays}
        self._warned: set[int] = set()

    @classmethod
    def load(cls, path: Path) -> WorkCalendar:
        """Read the override file; a missing file just means "no overrides"."""
        if not Path(path).exists():
            log.info("no holiday override file at %s", path)
            return cls()
        overrides, _ = load_model(path, HolidayFile)
        return cls(overrides)

    def is_working_day(self, day: date) -> bool:
        if day in self._work:
            return True
        if day in self._off:
            return False
        if str(day.year) in self._overrides.years:
            return day.weekday() < 5
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            if day.year not in self._warned:
                self._warned.add(day.year)
                log.warning(
                    "WORKING-DAY CALENDAR: no holiday data for %d (neither chinese_calendar nor the override "
                    "file knows it); counting Monday-Friday only, so deadlines may ignore holidays and 调休. "
                    "Add the year to the holidays file or upgrade chinese_calendar.",
                    day.year,
                )
            return day.weekday() < 5

    def knows(self, year: int) -> bool:
        """Whether holidays for ``year`` come from real data rather than the weekday fallback."""
        if str(year) in self._overrides.years:
            return True
        try:
            chinese_calendar.is_workday(date(year, 6, 1))
        except NotImplementedError:
            return False
        return True
