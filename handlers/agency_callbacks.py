"""Typed callback data for the agency and oversight buttons: ids and short action names only.

Nothing here is trusted: every id is looked up through ``workflow`` with the presser's actor, so a
forged button can do no more than the presser could do by typing.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from aiogram.filters.callback_data import CallbackData

from workflow.queues import InboxFilter


class CardAction(StrEnum):
    SHOW = "show"
    ACCEPT = "accept"  # 受理
    TRANSFER = "transfer"  # 转办: pick an agency, then the reason
    RECALL = "recall"  # 撤回转办: the sender takes a pending transfer back
    DECLINE = "decline"  # 退回, with its basis
    EXTEND = "extend"  # 申请延期: days, then the reason
    RESOLVE = "resolve"  # 回复并办结
    FILES = "files"  # the citizen's photos and documents, sent into the chat
    # oversight
    APPROVE = "approve"  # 批准延期
    REFUSE = "refuse"  # 驳回延期, with a reason
    RULE = "rule"  # 审定: pick the owner, then the reason
    MAJOR = "major"  # 挂牌督办
    UNMAJOR = "unmajor"  # 消号


class Card(CallbackData, prefix="ag"):
    """An action on one complaint's card. ``q`` names the question a decision button answers (the event
    id of an extension request or a transfer), so a button left on an old message cannot decide a newer
    question it never showed; None answers whatever is open."""

    id: int
    act: CardAction
    q: int | None = None

    @classmethod
    def unpack(cls, value: str) -> Self:
        """Buttons sent before ``q`` existed ("ag:12:approve") still work, as answering what is open."""
        if value.count(cls.__separator__) == len(cls.model_fields) - 1:
            value += cls.__separator__
        return super().unpack(value)


class InboxPage(CallbackData, prefix="agi"):
    """A page of /inbox under a filter, which page turns keep."""

    page: int
    f: InboxFilter = InboxFilter.ALL

    @classmethod
    def unpack(cls, value: str) -> Self:
        """Buttons sent before filters existed ("agi:2") still turn the whole inbox's pages."""
        if value.count(cls.__separator__) == 1:
            value += cls.__separator__ + InboxFilter.ALL
        return super().unpack(value)


class OverduePage(CallbackData, prefix="ovp"):
    page: int


class OverdueAct(CallbackData, prefix="ova"):
    """An oversight action on an entry of the /overdue list: ``page`` is redrawn once it is done."""

    id: int
    act: CardAction
    page: int


class PickAgency(CallbackData, prefix="agp"):
    """In the agency picker of a transfer (``rule`` False) or an oversight ruling (``rule`` True):
    ``agency`` 0 turns to ``page``, otherwise the agency is chosen."""

    id: int
    rule: bool
    agency: int = 0
    page: int = 0


class ExtendDays(CallbackData, prefix="agd"):
    id: int
    days: int


class SendReply(CallbackData, prefix="agr"):
    """Send the previewed reply (kept in the presser's own conversation state) and resolve."""

    id: int
