"""Agency contacts in the bot: /bind, /inbox, complaint cards and their actions.

Every update looks the contact up afresh (``acting_contact``): a stranger or a revoked contact is
refused, and ids from buttons are only ever passed to ``workflow`` together with the presser's actor,
which decides (a forged button for another agency's complaint is refused there). Multi-step actions
(transfer reason, decline basis, extension days and reason, the reply) are FSM states with a way back
to the card on every step; /cancel ends them too.

The conversation is split by what each part handles, composed here:

- ``agency_messages``: sending and editing messages, the card as the presser may see it;
- ``agency_lookup``: /bind, /inbox and its pages, a complaint by its number, the card from a button;
- ``agency_actions``: the card's buttons (受理, 撤回, 转办, 退回, 办结, 申请延期, 附件);
- ``agency_steps``: the texts those buttons ask for (``AgencyFlow``).
"""

from __future__ import annotations

from aiogram import Router

from handlers.agency_actions import actions_router
from handlers.agency_lookup import lookup_router
from handlers.agency_steps import steps_router


def agency_router() -> Router:
    """aiogram takes the first handler that matches, in this order: a tracking number typed at the
    transfer picker opens the card (lookup) before it is searched as an agency's name (steps), and the
    steps' "a text is needed" answer comes after every step's own text handler."""
    router = Router(name="agency")
    router.include_routers(lookup_router(), actions_router(), steps_router())
    return router
