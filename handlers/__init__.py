"""aiogram routers, thin: read the update, call one workflow function, render the answer.

Routers are built fresh for each Dispatcher (an aiogram router can have one parent only), in the
order that matters: commands that work in any state, then the conversations, then the catch-alls.
"""

from __future__ import annotations

from aiogram import Router


def build_routers() -> list[Router]:
    from handlers import common, errors

    return [errors.errors_router(), common.commands_router(), *conversation_routers(), common.fallback_router()]


def conversation_routers() -> list[Router]:
    """The citizen and agency conversations; each module adds its own router here."""
    from handlers import agency, citizen_offer, complaint, evaluation, follow_up, oversight

    return [
        agency.agency_router(),
        oversight.oversight_router(),
        follow_up.follow_up_router(),
        evaluation.evaluation_router(),
        citizen_offer.offer_router(),
        complaint.complaint_router(),
    ]
