"""Whether a citizen's conversation holds something entered, which /start, /complain, /evaluate or an
offer's button must not wipe (only /cancel does)."""

from __future__ import annotations

from aiogram.fsm.context import FSMContext

from handlers.complaint import nothing_entered
from handlers.follow_up import only_a_question


async def has_work_in_progress(event: object, state: FSMContext) -> bool:
    """A conversation holding what the citizen entered (a draft complaint, an evaluation), which starting
    over would wipe; a lone question (a 不满意 waiting for its reason) or an empty draft holds nothing."""
    if await state.get_state() is None:
        return False
    return not (await only_a_question(state) or await nothing_entered(state))
