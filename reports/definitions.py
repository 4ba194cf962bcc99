"""The definitions printed under the publication's table (指标说明): one place, so the page, the
spreadsheet and the tests say the same thing as the SQL in ``reports.figures``.
"""

from __future__ import annotations

from reports.ranking import LAST_MARKED, SCORE_WEIGHTS

_WEIGHTS = "、".join(f"{name}{weight}%" for _, name, weight in SCORE_WEIGHTS)

DEFINITIONS: tuple[tuple[str, str], ...] = (
    (
        "统计范围",
        "本月受理的投诉：按本地时间（{zone}）计算的自然月内登记的投诉，群众撤回的除外；各项状态统计截至{as_of}。",
    ),
    ("责任单位", "投诉的责任单位：已受理的为承办单位，尚未受理的为首问责任单位；尚未分派的投诉只计入合计。"),
    ("受理量", "本月登记的投诉件数。"),
    ("响应率", "在受理时限内受理（签收）的件数 ÷ 受理量。"),
    ("办结率", "已办结（已答复群众，含其后已关闭）的件数 ÷ 受理量。"),
    ("按期办结率", "在办结时限（含经批准的延期）内办结的件数 ÷ 已办结件数。"),
    ("超期", "截至统计时点已过办结时限仍未办结的件数，加上超过时限才办结的件数。"),
    ("延期", "经效能办批准的延期次数。"),
    (
        "满意率",
        "（满意 + 比较满意）÷ 参评件数；每件投诉以最后一次测评为准（重办后未再评价的，以重办前的评价为准）；"
        "评价期限内从未评价、按“未评价”结案的投诉不计入参评件数，也不视为满意；无人评价时显示“—”。",
    ),
    ("重办率", "因群众不满意重新办理过的件数 ÷ 办结过的件数（已办结件数加正在重办的件数）。"),
    ("回退率", "该单位以“非本单位职责”退回的转办次数 ÷ 转给该单位的转办次数（按本月受理的投诉统计）。"),
    (
        "综合得分与排名",
        f"综合得分 = {_WEIGHTS} 的加权平均（0–100分）；某项无法计算时（如无人评价）按其余各项的权重折算。"
        f"本月无投诉的单位列出但不参与排名；得分相同名次并列；排名最后{LAST_MARKED}位标注“末位”。",
    ),
    ("环比", "与上月相比：受理量为件数之差，各项比率为百分点之差；上月状态按同等统计时长截取。"),
    (
        "个人信息",
        "典型案例已删除姓名、电话、证件号码、银行卡号、电子邮箱及街道以下的详细地址，不公开投诉人身份；匿名投诉不作为典型案例。",
    ),
)


def definitions_text(zone: str, as_of: str) -> list[tuple[str, str]]:
    """The definitions with the time zone and the cut-off filled in."""
    return [(term, text.format(zone=zone, as_of=as_of)) for term, text in DEFINITIONS]
