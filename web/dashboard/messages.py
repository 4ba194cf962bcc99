"""Every Chinese text the dashboard shows for a code: statuses, event actions, actors, and the ONE
mapping from workflow's domain error codes to messages (handlers never write error strings)."""

from __future__ import annotations

from reports.publication import PREVIEW_MARK
from storage.models import STATUS_NAMES, ActorKind, EventAction, Priority, WebRole

STATUS = STATUS_NAMES

ACTION = {
    EventAction.REGISTERED: "登记",
    EventAction.ASSIGNED: "派单（首问）",
    EventAction.ACCEPTED: "受理",
    EventAction.TRANSFER_REQUESTED: "申请转办",
    EventAction.TRANSFER_ACCEPTED: "接收转办",
    EventAction.TRANSFER_DECLINED: "退回转办",
    EventAction.TRANSFER_WITHDRAWN: "撤回转办",
    EventAction.DISPUTE_RULED: "效能办审定",
    EventAction.EXTENSION_REQUESTED: "申请延期",
    EventAction.EXTENSION_APPROVED: "批准延期",
    EventAction.EXTENSION_REFUSED: "不予延期",
    EventAction.RESOLVED: "办结答复",
    EventAction.RATED: "群众评价",
    EventAction.REOPENED: "重办",
    EventAction.CLOSED: "结案",
    EventAction.WITHDRAWN: "撤回",
    EventAction.MAJOR_SET: "挂牌督办",
    EventAction.MAJOR_CLEARED: "消号",
    EventAction.REMINDED: "到期预警",
    EventAction.URGED: "催办",
    EventAction.ESCALATED: "督办",
    EventAction.NOTE: "备注",
}

ACTOR = {
    ActorKind.CITIZEN: "群众",
    ActorKind.CONTACT: "承办单位联系人",
    ActorKind.OVERSIGHT: "效能办",
    ActorKind.WEB_USER: "管理平台用户",
    ActorKind.SYSTEM: "系统",
}

ROLE = {WebRole.OVERSIGHT: "效能办", WebRole.AGENCY_VIEWER: "单位查看员"}

PRIORITY = {Priority.NORMAL: "普通", Priority.URGENT: "紧急", Priority.COMPLEX: "复杂"}

EVIDENCE_KIND = {"problem_type": "问题类型", "agency": "单位", "area": "领域"}

#: Domain error code (workflow.errors) → what the oversight officer reads.
ERRORS = {
    "not_found": "未找到该投诉或相关单位。",
    "not_allowed": "您的账号无权执行此操作。",
    "not_your_agency": "该投诉不属于您的单位。",
    "bad_state": "投诉当前状态不允许此操作。",
    "not_accepted": "该投诉尚未受理，不能办理此项。",
    "same_agency": "不能转给当前已负责的单位。",
    "agency_inactive": "所选单位已停用。",
    "ruling_binds": "该投诉的承办单位已由效能办审定，不能再转办。",
    "reason_required": "请填写理由。",
    "reply_required": "请填写答复内容。",
    "text_required": "投诉内容不能为空。",
    "bad_value": "填写的数值不在允许范围内。",
    "deadline_passed": "已超过办结期限，不能再申请延期。",
    "too_many_extensions": "延期次数已用完。",
    "extension_pending": "已有延期申请等待审批。",
    "nothing_pending": "没有待审批的延期申请。",
    "question_superseded": "页面上的延期申请已经处理过了，现在待审批的是一项新的申请，请看过后再决定。",
    "already_rated": "该投诉已评价结案。",
    "rating_expired": "该投诉评价期限已过，已按未评价结案。",
    "already_major": "该投诉已挂牌督办。",
    "not_major": "该投诉未挂牌督办。",
    "no_default_owner": "目录中没有可用的兜底单位。",
    "conflict": "该投诉刚被他人修改，请刷新页面后重试。",
}
UNKNOWN_ERROR = "操作未能完成，请稍后重试。"
UNAVAILABLE = "办理功能暂不可用，请联系管理员。"
FILE_UNAVAILABLE = "附件保存在 Telegram，暂时无法取回（机器人未运行或网络不通），请稍后再试。"

#: Shown after a successful oversight action (the ``done`` query parameter of the redirect).
DONE = {
    "ruled": "已审定承办单位。",
    "extension_approved": "已批准延期。",
    "extension_refused": "已驳回延期申请。",
    "major_set": "已挂牌督办。",
    "major_cleared": "已消号。",
}

#: A bad queue filter or month, by query parameter (shown instead of silently ignoring it).
FILTER_ERRORS = {
    "month": "月份格式不正确：请用“年-月”，如 2026-11（年份 2000–2099，月份 01–12）。",
    "status": "未知的办理状态。",
    "problem_type": "未知的问题类型。",
    "overdue": "“超期”筛选值不正确。",
    "major": "“挂牌督办”筛选值不正确。",
    "page": "页码应为正整数。",
}
BAD_FILTER = "筛选条件不正确。"
FUTURE_MONTH = "该月份尚未到来，已显示本月。"

LOGIN_FAILED = "用户名或密码不正确。"
LOGIN_THROTTLED = "登录失败次数过多，请15分钟后再试。"
CSRF_FAILED = "页面已过期，请刷新后重试。"


def error_message(code: str) -> str:
    return ERRORS.get(code, UNKNOWN_ERROR)


#: A month not released yet, as its downloads are marked (``reports.preview``).
PREVIEW = PREVIEW_MARK

#: Releasing a month (发布): the outcome, by the ``done`` query parameter of the redirect, and refusals.
RELEASED = {
    "released": "已发布：该月公示现已公开，所有人可见。",
    "already_released": "该月公示此前已发布，本次未作任何改动。",
}
RELEASE_REFUSED = {
    "before_cut_off": "{month}的公示截止时间（{cut_off}）未到，不能发布；截止后方可核对发布。",
    "no_service": "{month}本平台尚未受理投诉，没有可发布的公示。",
}
