"""Oversight actions (POST, CSRF-checked by the middleware): rule on a transfer dispute (审定), decide
an extension (延期), set or clear the major flag (挂牌督办 / 消号). Each calls one ``workflow.lifecycle``
function and commits the unit of work here; a refusal is a DomainError whose code becomes a message.
Once committed, the officers' bot copies of the question decided are settled through the bot (``COPIES``),
in the background: the officer's page never waits for Telegram.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from sqlalchemy.orm.exc import StaleDataError

from storage.models import WebRole
from web.app import COPIES
from web.dashboard import messages
from web.dashboard.context import current_user, db, deadlines, forbidden, not_found, render, see_other, services
from web.dashboard.queries import agency_by_code
from web.dashboard.views import complaint_context
from workflow.actors import Actor
from workflow.errors import DomainError
from workflow.transitions import Action

log = logging.getLogger(__name__)
routes = web.RouteTableDef()

#: (lifecycle module, session, clock, deadlines, complaint id, actor) → awaitable
Call = Callable[[Any, Any, Any, Any, int, Actor], Awaitable[Any]]


async def _act(
    request: web.Request,
    done: str,
    call: Call,
    typed: dict[str, str],
    decides: Action,
    question: int | None = None,
) -> web.StreamResponse:
    """Run one oversight action; on a refusal, show the page again with the error and with what the
    officer typed (``typed``: form field values by form) still in the form. ``decides`` (and
    ``question``, the request the page showed) names what was decided, for the bot's copies."""
    user = current_user(request)
    if user.role != WebRole.OVERSIGHT:
        return forbidden(request)
    tracking_no = request.match_info["tracking_no"]
    context = await complaint_context(request, tracking_no)
    if context is None:
        return not_found(request)
    try:
        lifecycle = importlib.import_module("workflow.lifecycle")
    except ImportError:
        page = {**context, "error": messages.UNAVAILABLE, "typed": typed}
        return render(request, "complaint.html", page, status=503)
    # Its own unit of work: a refusal rolls back only the action, and the page the officer is shown
    # afterwards is read by the request's session, untouched by it.
    actor, complaint_id = Actor.web_user(user), context["c"].id
    async with services(request).sessions() as session:
        try:
            await call(lifecycle, session, services(request).clock, deadlines(request), complaint_id, actor)
            await session.commit()
        except (DomainError, StaleDataError) as exc:
            await session.rollback()
            code = exc.code if isinstance(exc, DomainError) else "conflict"
            log.info("oversight action on %s refused: %s", tracking_no, code)
            status = 409 if code in {"conflict", "bad_state", "question_superseded"} else 400
            page = {**context, "error": messages.error_message(code), "typed": typed}
            return render(request, "complaint.html", page, status=status)
    request.app[COPIES].settle_soon(complaint_id, decides, question)
    return see_other(f"/dashboard/complaints/{tracking_no}?done={done}")


def _reason(form: Any) -> str:
    return str(form.get("reason", "")).strip()


@routes.post("/dashboard/complaints/{tracking_no}/rule-dispute")
async def rule_dispute(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    agency = await agency_by_code(db(request), str(form.get("agency", "")))
    reason = _reason(form)

    async def call(lifecycle: Any, session: Any, clock: Any, deadlines: Any, complaint_id: int, actor: Actor) -> Any:
        if agency is None:
            raise DomainError("not_found", "no such agency")
        return await lifecycle.rule_dispute(
            session, clock, deadlines, complaint_id, actor, agency_id=agency.id, reason=reason
        )

    typed = {"rule_reason": reason, "rule_agency": str(form.get("agency", ""))}
    return await _act(request, "ruled", call, typed, Action.RULE)


@routes.post("/dashboard/complaints/{tracking_no}/extension")
async def decide_extension(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    approve = form.get("decision") == "approve"
    reason = _reason(form)
    shown = str(form.get("request", ""))  # the request the page showed: a newer one must be read first
    question = int(shown) if shown.isdigit() else None

    async def call(lifecycle: Any, session: Any, clock: Any, deadlines: Any, complaint_id: int, actor: Actor) -> Any:
        return await lifecycle.decide_extension(
            session, clock, deadlines, complaint_id, actor, approve=approve, reason=reason, question=question
        )

    done = "extension_approved" if approve else "extension_refused"
    return await _act(request, done, call, {"extension": reason}, Action.DECIDE_EXTENSION, question)


@routes.post("/dashboard/complaints/{tracking_no}/major")
async def major_flag(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    setting = form.get("op") != "clear"
    reason = _reason(form)

    async def call(lifecycle: Any, session: Any, clock: Any, deadlines: Any, complaint_id: int, actor: Actor) -> Any:
        function = lifecycle.set_major if setting else lifecycle.clear_major
        return await function(session, clock, deadlines, complaint_id, actor, reason=reason)

    typed = {"set_major" if setting else "clear_major": reason}
    decides = Action.SET_MAJOR if setting else Action.CLEAR_MAJOR
    return await _act(request, "major_set" if setting else "major_cleared", call, typed, decides)
