"""The complaint state machine in one table, and the replay of events into state.

``TRANSITIONS`` is the single list of what may happen in which status; the lifecycle checks every
action against it and the hypothesis test drives random sequences through it. ``replay`` folds a
complaint's append-only events back into the state they describe, so the audit log can be checked
against the row (and figures can be rebuilt from events alone).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from storage.models import ComplaintEvent, ComplaintStatus, EventAction

S = ComplaintStatus

#: Declines after which a transfer dispute goes to oversight (审定).
MAX_DECLINES = 2


class Action(StrEnum):
    ASSIGN = "assign"
    ACCEPT = "accept"  # by the owner (首问) or by a transfer's receiver
    TRANSFER = "transfer"
    WITHDRAW_TRANSFER = "withdraw_transfer"  # the sender takes a pending transfer back (撤回转办)
    DECLINE = "decline"  # receiver sends it back; owner unchanged
    DECLINE_TO_DISPUTE = "decline_to_dispute"  # the decline that reaches MAX_DECLINES
    RULE = "rule"  # oversight names the owner
    REQUEST_EXTENSION = "request_extension"
    DECIDE_EXTENSION = "decide_extension"
    RESOLVE = "resolve"
    RATE_CLOSE = "rate_close"  # 满意 / 比较满意, or a second 不满意
    RATE_REOPEN = "rate_reopen"  # first 不满意: 重办
    EXPIRE_RATING = "expire_rating"  # the service: the rating window passed unrated (未评价)
    WITHDRAW = "withdraw"
    SET_MAJOR = "set_major"
    CLEAR_MAJOR = "clear_major"


_OPEN = (S.REGISTERED, S.ASSIGNED, S.TRANSFERRING, S.DISPUTED, S.ACCEPTED)

#: (status, action) -> the status after it. Anything missing is forbidden in that status.
TRANSITIONS: dict[tuple[ComplaintStatus, Action], ComplaintStatus] = {
    (S.REGISTERED, Action.ASSIGN): S.ASSIGNED,
    (S.ASSIGNED, Action.ACCEPT): S.ACCEPTED,
    (S.TRANSFERRING, Action.ACCEPT): S.ACCEPTED,
    (S.ASSIGNED, Action.TRANSFER): S.TRANSFERRING,
    (S.TRANSFERRING, Action.WITHDRAW_TRANSFER): S.ASSIGNED,
    (S.TRANSFERRING, Action.DECLINE): S.ASSIGNED,
    (S.TRANSFERRING, Action.DECLINE_TO_DISPUTE): S.DISPUTED,
    (S.DISPUTED, Action.RULE): S.ASSIGNED,
    (S.ACCEPTED, Action.REQUEST_EXTENSION): S.ACCEPTED,
    (S.ACCEPTED, Action.DECIDE_EXTENSION): S.ACCEPTED,
    (S.ACCEPTED, Action.RESOLVE): S.RESOLVED,
    (S.RESOLVED, Action.RATE_CLOSE): S.CLOSED,
    (S.RESOLVED, Action.RATE_REOPEN): S.ACCEPTED,
    (S.RESOLVED, Action.EXPIRE_RATING): S.CLOSED,
    **{(status, Action.WITHDRAW): S.WITHDRAWN for status in _OPEN},
    **{(status, Action.SET_MAJOR): status for status in (*_OPEN, S.RESOLVED)},
    # 消号 may come after closure: the flag is tracked until explicitly cleared.
    **{(status, Action.CLEAR_MAJOR): status for status in S},
}

#: Statuses before acceptance: resolving or extending here is "not_accepted" rather than "bad_state".
NOT_YET_ACCEPTED = frozenset({S.REGISTERED, S.ASSIGNED, S.TRANSFERRING, S.DISPUTED})


def target(status: str, action: Action) -> ComplaintStatus | None:
    """The status ``action`` leads to from ``status``, or None when the table forbids it."""
    return TRANSITIONS.get((ComplaintStatus(status), action))


@dataclass
class Replayed:
    """The parts of a complaint that its events alone determine."""

    status: str | None = None
    first_contact_agency_id: int | None = None
    owner_agency_id: int | None = None
    transfer_to_agency_id: int | None = None
    transfer_declines: int = 0
    reopen_count: int = 0
    extended_days: int = 0
    major: bool = False


def replay(events: Iterable[ComplaintEvent]) -> Replayed:
    """Fold events (in id order) into the state they describe."""
    state = Replayed()
    for event in events:
        action = event.action
        if event.to_status is not None:
            state.status = event.to_status
        if action == EventAction.ASSIGNED:
            state.first_contact_agency_id = state.first_contact_agency_id or event.to_agency_id
            state.owner_agency_id = event.to_agency_id
        elif action == EventAction.TRANSFER_REQUESTED:
            state.transfer_to_agency_id = event.to_agency_id
        elif action == EventAction.TRANSFER_ACCEPTED:
            state.owner_agency_id = event.to_agency_id
            state.transfer_to_agency_id = None
        elif action == EventAction.TRANSFER_WITHDRAWN:
            state.transfer_to_agency_id = None
        elif action == EventAction.TRANSFER_DECLINED:
            state.transfer_to_agency_id = None
            state.transfer_declines += 1
        elif action == EventAction.DISPUTE_RULED:
            state.owner_agency_id = event.to_agency_id
        elif action == EventAction.WITHDRAWN:
            state.transfer_to_agency_id = None
        elif action == EventAction.REOPENED:
            state.reopen_count += 1
        elif action == EventAction.EXTENSION_APPROVED:
            state.extended_days += int(event.data.get("days", 0))
        elif action == EventAction.MAJOR_SET:
            state.major = True
        elif action == EventAction.MAJOR_CLEARED:
            state.major = False
    return state
