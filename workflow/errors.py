"""Domain errors: an action the rules forbid raises one, and nothing changes.

Each error carries a stable ``code``; channels (bot, web) turn codes into the user's language through
their own message catalogues, so no error text is written here for users.

Codes:

- ``not_found``           complaint, agency or citizen does not exist (or is not visible to the caller)
- ``not_allowed``         this kind of actor may not take this action (e.g. a clerk ruling a dispute,
                          a citizen rating someone else's complaint, a read-only web user acting)
- ``not_your_agency``     a contact acting on a complaint its agency neither owns nor is receiving
- ``bad_state``           the complaint's status does not allow the action
- ``not_accepted``        resolving or extending a complaint that was never accepted (受理)
- ``same_agency``         transferring a complaint to the agency that already holds it
- ``agency_inactive``     transferring or ruling to an agency that is no longer active
- ``ruling_binds``        transferring a complaint whose owner was named by an oversight ruling (审定)
- ``reason_required``     a transfer, decline basis, ruling, refusal or major flag without a reason
- ``reply_required``      resolving without a reply to the citizen
- ``text_required``       registering a complaint with no text
- ``bad_value``           an argument out of range (priority, extension days …)
- ``deadline_passed``     asking for an extension after the resolve deadline
- ``too_many_extensions`` the policy's number of extensions is used up
- ``extension_pending``   asking for an extension while one awaits oversight
- ``nothing_pending``     deciding an extension nobody asked for
- ``question_superseded`` a button from an earlier question (an extension request, a transfer) pressed
                          while a newer one of the same kind is open: it must not decide what it never showed
- ``already_rated``       rating a complaint that is already rated and closed
- ``rating_expired``      rating a complaint closed unrated because its rating window passed
- ``rating_superseded``   a rating button from an earlier reply, pressed after a 重办 brought a new one
- ``already_major``       flagging (挂牌) a complaint that is already flagged
- ``not_major``           clearing (消号) a complaint that is not flagged
- ``no_default_owner``    the catalogue has no active default owner (兜底) to route to
- ``conflict``            someone else changed the complaint meanwhile (optimistic lock, double tap)
"""

from __future__ import annotations

from typing import Any

CODES: frozenset[str] = frozenset(
    {
        "not_found",
        "not_allowed",
        "not_your_agency",
        "bad_state",
        "not_accepted",
        "same_agency",
        "agency_inactive",
        "ruling_binds",
        "reason_required",
        "reply_required",
        "text_required",
        "bad_value",
        "deadline_passed",
        "too_many_extensions",
        "extension_pending",
        "nothing_pending",
        "question_superseded",
        "already_rated",
        "rating_expired",
        "rating_superseded",
        "already_major",
        "not_major",
        "no_default_owner",
        "conflict",
    }
)


class DomainError(Exception):
    """A refused action. ``code`` is stable (see the module docstring); ``params`` carry plain values a
    channel may show (e.g. the status the complaint is in)."""

    code: str

    def __init__(self, code: str, detail: str = "", **params: Any) -> None:
        if code not in CODES:
            raise ValueError(f"unknown domain error code {code!r}")
        self.code = code
        self.detail = detail
        self.params = params
        super().__init__(f"{code}: {detail}" if detail else code)


class NotFound(DomainError):
    def __init__(self, detail: str = "", **params: Any) -> None:
        super().__init__("not_found", detail, **params)


class Conflict(DomainError):
    def __init__(self, detail: str = "", **params: Any) -> None:
        super().__init__("conflict", detail, **params)
