"""How figures are written for people: one place, so CSV, spreadsheet and page agree."""

from __future__ import annotations

from reports.figures import AgencyFigures
from reports.ranking import CHANGED_RATES, Ranked

NOT_DEFINED = "—"


def percent(value: float | None) -> str:
    """95.2%, or “—” when the rate is undefined (never a made-up 0% or 100%)."""
    return NOT_DEFINED if value is None else f"{100 * value:.1f}%"


def points(value: float | None) -> str:
    """A change in percentage points, signed: +1.5 / -0.3 / 0.0."""
    return NOT_DEFINED if value is None else f"{value:+.1f}"


def signed(value: int) -> str:
    return f"{value:+d}"


def score(value: float | None) -> str:
    return NOT_DEFINED if value is None else f"{value:.2f}"


#: The headers of the main table's columns that other readers look up (the dashboard finds an agency's
#: row, its count and its 末位 mark by them): named once, so renaming a header renames it everywhere.
HEADERS = {
    "name": "单位",
    "area": "领域",
    "received": "收到量",
    "resolved": "已办结",
    "overdue": "超期",
    "last_three": "末位",
}


#: The main table: (header, kind, getter) where kind is count | rate | text | change | score.
def main_columns() -> list[tuple[str, str, object]]:
    def figure(name: str):  # type: ignore[no-untyped-def]
        return lambda row: getattr(row.figures, name)

    columns: list[tuple[str, str, object]] = [
        ("排名", "rank", lambda row: row.rank),
        (HEADERS["name"], "text", lambda row: row.figures.name),
        (HEADERS["area"], "text", lambda row: row.figures.area or ""),
        (HEADERS["received"], "count", figure("received")),
        (f"{HEADERS['received']}环比", "change", lambda row: row.change.received),
        ("应受理", "count", figure("due_for_acknowledgement")),
        ("按时受理", "count", figure("acknowledged_on_time")),
        ("响应率", "rate", figure("response_rate")),
        ("应办结", "count", figure("due_for_resolution")),
        (HEADERS["resolved"], "count", figure("resolved")),
        ("办结率", "rate", figure("resolution_rate")),
        ("按期办结", "count", figure("resolved_on_time")),
        ("按期办结率", "rate", figure("on_time_rate")),
        (HEADERS["overdue"], "count", figure("overdue")),
        ("延期", "count", figure("extensions")),
        ("参评", "count", figure("rated")),
        ("满意", "count", figure("satisfied")),
        ("满意率", "rate", figure("satisfaction_rate")),
        ("重办", "count", figure("reopened")),
        ("重办中", "count", figure("reopened_in_progress")),
        ("重办率", "rate", figure("reopen_rate")),
        ("转入", "count", figure("transfers_in")),
        ("退回", "count", figure("declined")),
        ("回退率", "rate", figure("decline_rate")),
        ("综合得分", "score", lambda row: row.score),
        (HEADERS["last_three"], "text", lambda row: "末位" if row.last_three else ""),
    ]
    return columns


def change_columns() -> list[tuple[str, str]]:
    """(attribute, header) of the rates whose change from the previous month is shown."""
    return [(attribute, f"{name}环比（百分点）") for attribute, name in CHANGED_RATES]


def total_row(total: AgencyFigures, change: object) -> Ranked:
    """The 合计 line, shaped like a ranked row so every renderer walks one list."""
    return Ranked(figures=total, score=None, rank=None, last_three=False, change=change)  # type: ignore[arg-type]
