"""超期: a resolve deadline missed is recorded for good (延时追究制). A complaint is overdue as of a moment
if any of its resolve deadlines (the first, an extended one, a 重办's) passed while it was unmet by then —
even if a later 重办 reply or an extension approved after the deadline came in time. A late signing is
what 响应率 measures, not 超期: a complaint signed late and answered in time is 按期办结. The complaint's
columns only hold the deadlines as they stand (a 重办 sets a new resolve deadline and clears
``resolved_at``; an extension moves it), so the deadlines since replaced are read from the event log.
One rule for the monthly figures, the publication's typical cases and the rectification notice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, literal, or_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from storage.models import Complaint, ComplaintEvent, EventAction
from storage.types import UtcDateTime

C = Complaint.__table__
E = ComplaintEvent.__table__


@dataclass(frozen=True)
class Period:
    """A month's UTC bounds (end exclusive) and its cut-off; with a single period the bounds go unread."""

    start: datetime
    end: datetime
    as_of: datetime


class CutOffs:
    """The cut-off of each complaint's own month: a bind per month keeps the SQL portable."""

    def __init__(self, periods: list[Period]) -> None:
        self.periods = periods

    @classmethod
    def at(cls, as_of: datetime) -> CutOffs:
        """One cut-off for every complaint."""
        as_of = as_of.astimezone(UTC)
        return cls([Period(as_of, as_of, as_of)])

    def _each(self, compare: Callable[[datetime], ColumnElement[bool]]) -> ColumnElement[bool]:
        if len(self.periods) == 1:
            return compare(self.periods[0].as_of)
        received = C.c.created_at
        return or_(
            *(and_(received >= period.start, received < period.end, compare(period.as_of)) for period in self.periods)
        )

    def before_cut_off(self, column: Any) -> ColumnElement[bool]:
        """``column`` <= the cut-off of the complaint's own month."""
        return self._each(lambda as_of: column <= as_of)

    def past(self, deadline: Any) -> ColumnElement[bool]:
        """``deadline`` < the cut-off: meeting a deadline at its very moment is on time, so a complaint
        is only judged once its deadline lies strictly before the cut-off."""
        return self._each(lambda as_of: deadline < as_of)

    def past_recorded(self, deadline: ColumnElement[Any]) -> ColumnElement[bool]:
        """``past`` for a deadline an event recorded as ISO 8601 text in its data."""
        return self._each(lambda as_of: _Moment(deadline) < _Moment(literal(as_of, UtcDateTime)))


class _Moment(FunctionElement[Any]):
    """A moment — a timestamp column, a bound datetime, or ISO 8601 text from an event's data — as a
    value that compares correctly with any other moment on both databases: SQLite stores timestamps as
    text in another format, PostgreSQL cannot compare text with a timestamp."""

    name = "moment"
    inherit_cache = True


@compiles(_Moment)
def _moment(element: _Moment, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} AS TIMESTAMP WITH TIME ZONE)"


@compiles(_Moment, "sqlite")
def _moment_sqlite(element: _Moment, compiler: SQLCompiler, **kw: Any) -> str:
    return f"julianday({compiler.process(element.clauses, **kw)})"


def missed_by_columns(cut_offs: CutOffs) -> ColumnElement[bool]:
    """The resolve deadline as it stands (on ``Complaint``), unmet or met late."""
    return and_(
        C.c.resolve_due_at.is_not(None),
        cut_offs.past(C.c.resolve_due_at),
        or_(C.c.resolved_at.is_(None), C.c.resolved_at > C.c.resolve_due_at),
    )


#: The events that can record a deadline missed.
_MISS_EVENTS = [
    EventAction.RESOLVED.value,
    EventAction.EXTENSION_APPROVED.value,
    EventAction.URGED.value,
    EventAction.ESCALATED.value,
]


def missed_by_events(cut_offs: CutOffs) -> ColumnElement[bool]:
    """The deadlines since replaced, from the event log (an event ``E`` of the complaint ``C``): a reply
    the workflow recorded as late (the RESOLVED event's ``on_time``: a 重办 clears ``resolved_at`` and
    sets a new deadline), an extension approved after the deadline it moved (``old_due``), and the
    timekeeper's 催办 and 督办 of the resolve clock, which it records only for a deadline passed unmet."""
    late_reply = and_(
        E.c.action == EventAction.RESOLVED.value,
        E.c.data["on_time"].as_boolean().is_(False),
        cut_offs.past_recorded(E.c.data["resolve_due"].as_string()),
    )
    old_due = E.c.data["old_due"].as_string()
    late_extension = and_(
        E.c.action == EventAction.EXTENSION_APPROVED.value,
        _Moment(old_due) < _Moment(E.c.at),
        cut_offs.past_recorded(old_due),
    )
    chased = and_(
        E.c.action.in_([EventAction.URGED.value, EventAction.ESCALATED.value]),
        E.c.data["clock"].as_string() == "resolve",
        cut_offs.before_cut_off(E.c.at),
    )
    return and_(E.c.action.in_(_MISS_EVENTS), or_(late_reply, late_extension, chased))


def missed_deadline(as_of: datetime) -> ColumnElement[bool]:
    """超期 as of ``as_of``, for a query on ``Complaint``: any of its resolve deadlines passed while unmet
    by then, even if a later 重办 reply or an extension approved afterwards came
    in time. The one rule for every 超期 the reports show; the monthly figures apply the same two parts
    to a whole month at once (``reports.counts``)."""
    cut_off = CutOffs.at(as_of)
    recorded = exists().where(E.c.complaint_id == C.c.id, missed_by_events(cut_off))
    return or_(missed_by_columns(cut_off), recorded)
