"""Ranking agencies by a composite score, and the change from the previous month.

The score weighs the three rates 12345 hotlines are judged on (响应率, 解决率, 满意率), with 办结率 split into
"resolved at all" and "resolved on time". A rate that is undefined for an agency (nobody rated, nothing
resolved) is left out and the remaining weights are scaled up, so silence is neither a reward nor a
penalty. Agencies that received no complaints are listed but not ranked.
"""

from __future__ import annotations

from dataclasses import dataclass

from reports.figures import AgencyFigures

#: (attribute of AgencyFigures, weight in points); the weights sum to 100.
SCORE_WEIGHTS: tuple[tuple[str, str, int], ...] = (
    ("response_rate", "响应率", 30),
    ("resolution_rate", "办结率", 20),
    ("on_time_rate", "按期办结率", 20),
    ("satisfaction_rate", "满意率", 30),
)
#: How many agencies at the bottom of the ranking are marked (末位).
LAST_MARKED = 3
#: The marking rule as printed under the table (指标说明).
MARKING_RULE = (
    f"名次在参与排名单位的最后{LAST_MARKED}位之内的单位标注“末位”，标注的单位最多{LAST_MARKED}个："
    f"得分相同的单位名次并列，并列名次跨越倒数第{LAST_MARKED}位的均不标注；"
    f"全部单位得分相同、或参与排名的单位不足{LAST_MARKED + 1}个时不标注；名列第1的单位从不标注。"
)

#: The rates whose month-on-month change is published, with their Chinese names.
CHANGED_RATES: tuple[tuple[str, str], ...] = (
    ("response_rate", "响应率"),
    ("resolution_rate", "办结率"),
    ("on_time_rate", "按期办结率"),
    ("satisfaction_rate", "满意率"),
    ("reopen_rate", "重办率"),
    ("decline_rate", "回退率"),
)


def composite_score(row: AgencyFigures) -> float | None:
    """0–100, or None for an agency with no complaints (nothing to judge it on)."""
    if row.received == 0:
        return None
    weighted, weights = 0.0, 0
    for attribute, _, weight in SCORE_WEIGHTS:
        value = getattr(row, attribute)
        if value is not None:
            weighted += value * weight
            weights += weight
    return round(100 * weighted / weights, 2) if weights else None


@dataclass(frozen=True)
class Change:
    """This month minus the previous month: a count for 收到量, percentage points for the rates."""

    received: int
    rates: dict[str, float | None]  # attribute -> change in percentage points, None if either side is undefined


def change(current: AgencyFigures, previous: AgencyFigures | None) -> Change:
    rates: dict[str, float | None] = {}
    for attribute, _ in CHANGED_RATES:
        now = getattr(current, attribute)
        before = getattr(previous, attribute) if previous is not None else None
        rates[attribute] = None if now is None or before is None else round(100 * (now - before), 1)
    return Change(received=current.received - (previous.received if previous else 0), rates=rates)


@dataclass(frozen=True)
class Ranked:
    figures: AgencyFigures
    score: float | None
    rank: int | None  # 1 is best; equal scores share a rank; None: not ranked
    last_three: bool
    change: Change


def rank_agencies(current: list[AgencyFigures], previous: list[AgencyFigures]) -> list[Ranked]:
    """Ranked agencies first (best first, ties by code), then the unranked ones in catalogue order."""
    before = {row.agency_id: row for row in previous}
    scored = [(row, composite_score(row)) for row in current]
    ranked = sorted(
        ((row, score) for row, score in scored if score is not None), key=lambda item: (-item[1], item[0].code)
    )
    unranked = [(row, score) for row, score in scored if score is None]
    result: list[Ranked] = []
    for position, (row, score) in enumerate(ranked, start=1):
        rank = result[-1].rank if result and result[-1].score == score else position
        result.append(Ranked(row, score, rank, _is_last(rank, len(ranked)), change(row, before.get(row.agency_id))))
    result.extend(Ranked(row, None, None, False, change(row, before.get(row.agency_id))) for row, _ in unranked)
    return result


def _is_last(rank: int, ranked: int) -> bool:
    """末位 (see ``MARKING_RULE``): a shared rank is the group's best position, so a tie is marked only
    when the whole group lies in the last three positions; never rank 1, never with too few ranked."""
    return ranked > LAST_MARKED and rank != 1 and rank > ranked - LAST_MARKED
