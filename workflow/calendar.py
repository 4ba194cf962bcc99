"""Which days are working days: China's official holidays and make-up working days (调休).

`chinese_calendar` knows the State Council's announcements up to its release; `data/holidays.yaml`
adds years it does not know yet (or replaces one it knows): a listed year is that year's whole arrangement,
so it must give at least every statutory holiday on a weekday. A year known to neither falls back to
weekends plus the statutory public holidays, which the law fixes for every year; the yearly 调休
arrangement cannot be known in advance, so the fallback says so loudly, once per year.
"""

from __future__ import annotations

import functools
import logging
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import chinese_calendar
from lunar_python import Lunar
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from storage.datafile import DataFileError, ItemProblems, load_model

log = logging.getLogger(__name__)

#: The file that ships with the code (the settings' default): the one path that may be absent.
DEFAULT_HOLIDAYS = Path(__file__).resolve().parent / "data" / "holidays.yaml"

_WEEKDAYS = "一二三四五六日"

#: Logged at start-up (workflow.deadlines) and the first time a day of such a year is counted.
UNKNOWN_YEAR_WARNING = (
    "WORKING-DAY CALENDAR: no holiday data for %d beyond the statutory holidays: neither chinese_calendar nor "
    "the holidays file knows the State Council's arrangement (调休) for it. Deadlines count weekends and the "
    "statutory public holidays (元旦, 春节, 清明, 劳动节, 端午, 中秋, 国庆) as days off, but not the arrangement's "
    "extra days off, make-up working days or 补假 for a holiday on a weekend, so a deadline near a holiday may be "
    "a few days off. Once the arrangement is published, add the year to the holidays file "
    "(MINSHENG_HOLIDAYS_PATH; see workflow/data/holidays.yaml) or upgrade chinese_calendar."
)


def _lunar(year: int, month: int, day: int) -> date:
    """The Gregorian date of a lunar date in an ordinary (not leap) month. lunar_python: maintained and MIT
    (lunardate and zhdate are GPL-3.0, lunarcalendar unmaintained since 2018)."""
    solar = Lunar.fromYmd(year, month, day).getSolar()
    return date(solar.getYear(), solar.getMonth(), solar.getDay())


@functools.cache
def statutory_festivals(year: int) -> dict[date, str]:
    """The days off for all citizens that 《全国年节及纪念日放假办法》 art. 2 fixes, with their festival:
    knowable for any year.

    As amended by the State Council's decision of 10 November 2024, in force from 2025; consolidated text:
    http://shandan.gov.cn/zfxxgk/xzzfxgk/hcz_7411/xzswgk3/ggflfw_7422/fzxcjy_7424/202412/t20241225_1334930.html
    元旦 1 January; 春节 农历除夕 to 正月初三; 清明节 the 清明 solar term; 劳动节 1-2 May; 端午节 lunar 5/5;
    中秋节 lunar 8/15; 国庆节 1-3 October. Before 2025 (the 2013 text) 春节 was 初一 to 初三 and 劳动节 1 May
    only; older texts are not modelled, chinese_calendar knows those years. Art. 6's 补假 for a holiday on a
    weekend and the 调休 are named by each year's arrangement, so they are not here.
    """
    new_year = _lunar(year, 1, 1)
    spring_festival = [new_year + timedelta(days=i) for i in range(3)]
    labour_day = [date(year, 5, 1)]
    if year >= 2025:
        spring_festival.insert(0, new_year - timedelta(days=1))  # 除夕: the last day of the old lunar year
        labour_day.append(date(year, 5, 2))
    april_terms = {term: day for day, term in chinese_calendar.get_solar_terms(date(year, 4, 1), date(year, 4, 30))}
    festivals: dict[date, str] = {}
    for name, days in (
        ("元旦", [date(year, 1, 1)]),
        ("春节", spring_festival),
        ("清明节", [april_terms["清明"]]),
        ("劳动节", labour_day),
        ("端午节", [_lunar(year, 5, 5)]),
        ("中秋节", [_lunar(year, 8, 15)]),
        ("国庆节", [date(year, 10, day) for day in (1, 2, 3)]),
    ):
        for day in days:  # 中秋 may fall on 1 October (2020)
            festivals[day] = f"{festivals[day]}、{name}" if day in festivals else name
    return festivals


def statutory_holidays(year: int) -> frozenset[date]:
    """The statutory days off of ``year`` (see statutory_festivals)."""
    return frozenset(statutory_festivals(year))


def weekday_name(day: date) -> str:
    """周一 … 周日, as deadlines and file errors name a day."""
    return "周" + _WEEKDAYS[day.weekday()]


def _year_problems(year: str, override: YearOverride) -> list[tuple[tuple[Any, ...], str]]:
    """What makes a year's entry unusable, each at its entry: a date off its year or in both lists, a
    weekend day off, a weekday make-up workday, a statutory holiday left out or made a workday.

    A listed year replaces every other source for that year, so a statutory holiday it leaves out
    would quietly become a working day; the rest of an arrangement cannot be checked, only its shape."""
    problems: list[tuple[tuple[Any, ...], str]] = []
    festivals = statutory_festivals(int(year))
    for index, day in enumerate(override.holidays):
        if str(day.year) != year:
            problems.append((("holidays", index), f"{day} is listed under year {year}"))
        elif day.weekday() >= 5:
            problems.append(
                (("holidays", index), f"{day} 是{weekday_name(day)}：holidays 只列放假的周一至周五，周末本就休息")
            )
    for index, day in enumerate(override.workdays):
        if str(day.year) != year:
            problems.append((("workdays", index), f"{day} is listed under year {year}"))
        elif day in override.holidays:
            problems.append((("workdays", index), f"{day} is listed as both a holiday and a workday"))
        elif day.weekday() < 5:
            problems.append((("workdays", index), f"{day} 是{weekday_name(day)}：workdays 只列调休上班的周六、周日"))
        elif day in festivals:
            problems.append((("workdays", index), f"{day}（{weekday_name(day)}）是{festivals[day]}，不能列入 workdays"))
    missing: dict[str, list[date]] = {}
    for day in sorted(festivals):
        if day.weekday() < 5 and day not in override.holidays:
            missing.setdefault(festivals[day], []).append(day)
    where = ("holidays",) if "holidays" in override.model_fields_set else ()
    for name, days in missing.items():
        listed = "、".join(f"{day}（{weekday_name(day)}）" for day in days)
        problems.append(
            (
                where,
                f"{year}年的放假安排缺少{name} {listed}：《全国年节及纪念日放假办法》规定的节日落在周一至周五的，"
                "须列入 holidays（列出的年份不再按法定节日兜底）",
            )
        )
    return problems


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
            problems = [((str(key),), f"{key!r} is not a year") for key in value if not _is_year(key)]
            if problems:
                raise ItemProblems(problems)
            return {str(key): item for key, item in value.items()}
        return value

    @model_validator(mode="after")
    def _usable_years(self) -> HolidayFile:
        problems = [
            (("years", year, *loc), message)
            for year, override in self.years.items()
            for loc, message in _year_problems(year, override)
        ]
        if problems:
            raise ItemProblems(problems)
        return self


def _is_year(key: object) -> bool:
    return str(key).isdigit() and len(str(key)) == 4


class WorkCalendar:
    """Answers "is this local date a working day?" from the override file, the library, or the statutory
    fallback."""

    def __init__(self, overrides: HolidayFile | None = None) -> None:
        self._overrides = overrides or HolidayFile()
        self._off = {d for y in self._overrides.years.values() for d in y.holidays}
        self._work = {d for y in self._overrides.years.values() for d in y.workdays}
        self._warned: set[int] = set()
        self._answers: dict[date, bool] = {}

    @classmethod
    def load(cls, path: Path) -> WorkCalendar:
        """Read the override file. Without the bundled file there are no overrides; any other path names a
        file the operator meant to be read."""
        path = Path(path)
        if not path.exists():
            if path.resolve() != DEFAULT_HOLIDAYS:
                raise DataFileError(path, ["0: no such file: MINSHENG_HOLIDAYS_PATH must name an existing file"])
            log.info("no holiday override file at %s", path)
            return cls()
        overrides, _ = load_model(path, HolidayFile)
        return cls(overrides)

    @property
    def listed_years(self) -> list[int]:
        """The years the override file gives."""
        return sorted(int(year) for year in self._overrides.years)

    def is_working_day(self, day: date) -> bool:
        """Remembered per date: the library takes ~0.1 ms a call (more for a year it does not know), and
        every deadline, reminder and "time left" walks the days one by one."""
        known = self._answers.get(day)
        if known is None:
            known = self._answers[day] = self._is_working_day(day)
        return known

    def _is_working_day(self, day: date) -> bool:
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
                log.warning(UNKNOWN_YEAR_WARNING, day.year)
            return day.weekday() < 5 and day not in statutory_holidays(day.year)

    @staticmethod
    def library_years() -> tuple[int, int]:
        """The first and last year chinese_calendar knows."""
        years = [day.year for day in chinese_calendar.holidays]
        return min(years), max(years)

    def unknown_years(self, first: date, last: date) -> list[int]:
        """The years from ``first`` to ``last`` whose holidays are the statutory fallback's (``knows``):
        a deadline counted in them misses the arrangement's extra days off, 调休 and 补假."""
        return [year for year in range(first.year, last.year + 1) if not self.knows(year)]

    def knows(self, year: int) -> bool:
        """Whether holidays for ``year`` come from the real arrangement rather than the statutory fallback."""
        if str(year) in self._overrides.years:
            return True
        try:
            chinese_calendar.is_workday(date(year, 6, 1))
        except NotImplementedError:
            return False
        return True
