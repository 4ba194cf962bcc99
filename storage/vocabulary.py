"""The domain's fixed vocabularies (see shared/DOMAIN.md): their Chinese names are the identifiers
used in tags, filters, rules files and exports, so they live at the bottom layer where all can read them.
"""

from enum import StrEnum

#: The 15 first-level areas (诉求领域) of the classification tree in tipdm2020/taxonomy.csv.
AREAS: tuple[str, ...] = (
    "城乡建设",
    "国土资源",
    "环境保护",
    "交通运输",
    "教育文体",
    "劳动和社会保障",
    "卫生计生",
    "商贸旅游",
    "民政",
    "农村农业",
    "政法",
    "经济管理",
    "科技与信息产业",
    "党务政务",
    "纪检监察",
)

#: The canonical problem types (what a complaint is about), in DOMAIN.md order.
PROBLEM_TYPES: tuple[str, ...] = (
    "门难进",
    "人难见",
    "脸难看",
    "话难听",
    "事难办",
    "推诿扯皮",
    "吃拿卡要",
    "不作为",
    "慢作为",
    "乱作为",
    "乱收费",
    "乱罚款",
    "乱摊派",
    "执法不公",
    "滥用职权",
    "政务不公开",
    "强制服务",
    "工作纪律",
)


class AgencyRole(StrEnum):
    AGENCY = "agency"
    OVERSIGHT = "oversight"  # 效能办: rules on disputes and extensions, receives escalations
    DEFAULT_OWNER = "default_owner"  # 兜底: takes complaints whose agency is unclear


class Rating(StrEnum):
    """After-closure satisfaction (满意度测评); satisfaction rate = (满意 + 比较满意) ÷ rated."""

    SATISFIED = "满意"
    FAIRLY_SATISFIED = "比较满意"
    DISSATISFIED = "不满意"


#: Evaluation dimensions (评议) named in the seeds; a standalone evaluation may score any of them.
EVALUATION_DIMENSIONS: tuple[str, ...] = (
    "服务意识",
    "行政效能",
    "依法行政",
    "政务公开",
    "清正廉洁",
    "服务质量",
)
