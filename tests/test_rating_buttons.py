"""Rating buttons the complaint no longer takes: the citizen is told why and the buttons leave the
message they were pressed on (other buttons stay), harmlessly on a double tap; a button of a reply
that a 重办 superseded never rates the new reply. Through the shipped Dispatcher and the Bot API
stand-in, like ``tests.test_citizen_followup`` whose scene this uses."""

from __future__ import annotations

from storage.models import ComplaintStatus
from tests.test_citizen_followup import (
    HANS,
    Scene,
    rating_buttons,
    rating_data,
    resolved_and_delivered,
    run_timekeeper,
    scene,
)

__all__ = ["scene"]
S = ComplaintStatus


def buttons_now(scene: Scene, message_id: int) -> dict[str, str]:
    """Label → callback data of the buttons the message carries now."""
    return rating_buttons(scene.me.world.find_message(scene.me.user.id, message_id))


async def press_twice(scene: Scene, message_id: int, data: str) -> None:
    """A double tap: both presses reach the bot with the message as it was when pressed."""
    for _ in range(2):
        await scene.me.world.user_presses(scene.me.user.id, message_id, data)
    await scene.harness.settle()


async def test_a_rating_button_pressed_after_the_window_closed_is_refused_and_leaves_the_message(
    scene: Scene,
) -> None:
    complaint, notice = await resolved_and_delivered(scene)
    satisfied = rating_data(complaint, 1)[HANS.plain("rate.button.0")]
    scene.clock.set(scene.deadlines.rating_due(scene.clock.now()))
    await run_timekeeper(scene)
    await scene.me.wait_for_reply(contains="未评价")
    before = len(scene.me.bot_messages())

    await press_twice(scene, notice.message_id, satisfied)
    assert scene.me.answers()[-2:] == [HANS.plain("error.rating_expired")] * 2
    assert buttons_now(scene, notice.message_id) == {}
    assert "已为您加急办理户口迁移" in scene.me.world.find_message(scene.me.user.id, notice.message_id).text
    assert len(scene.me.bot_messages()) == before
    assert await scene.ratings(complaint.id) == 0 and (await scene.reload(complaint.id)).status == S.CLOSED


async def test_a_rating_button_of_a_rated_complaint_leaves_the_status_view_which_keeps_its_way_back(
    scene: Scene,
) -> None:
    complaint, notice = await resolved_and_delivered(scene)
    await scene.me.send(f"/status {complaint.tracking_no}")
    view = await scene.me.wait_for_reply(contains=HANS.plain("status.timeline"))
    assert rating_data(complaint, 1).items() <= rating_buttons(view).items()
    await scene.me.press(HANS.plain("rate.button.0"), message=notice)
    await scene.harness.settle()

    await press_twice(scene, view.message_id, rating_data(complaint, 1)[HANS.plain("rate.button.2")])
    assert scene.me.answers()[-2:] == [HANS.plain("error.already_rated")] * 2
    assert list(buttons_now(scene, view.message_id)) == [HANS.plain("status.button.back")]
    assert await scene.ratings(complaint.id) == 1


async def test_an_old_reply_button_left_after_a_reopen_never_rates_the_new_reply(scene: Scene) -> None:
    """不满意 given from /status leaves the first reply's notice with its buttons; pressed while the
    complaint is handled again, and again once the new reply has come, they rate nothing."""
    complaint, first = await resolved_and_delivered(scene)
    old = rating_data(complaint, 1)
    await scene.me.send(f"/status {complaint.tracking_no}")
    view = await scene.me.wait_for_reply(contains=HANS.plain("status.timeline"))
    await scene.me.press(HANS.plain("rate.button.2"), message=view)
    await scene.me.wait_for_reply(contains="原因")
    await scene.me.send("户口还是没有迁过来")
    await scene.me.wait_for_reply(contains="重新办理")
    assert buttons_now(scene, first.message_id) == old

    await press_twice(scene, first.message_id, old[HANS.plain("rate.button.0")])  # while handled again
    assert scene.me.answers()[-1] == HANS.plain("error.bad_state")
    assert buttons_now(scene, first.message_id) == {}
    assert (await scene.reload(complaint.id)).status == S.ACCEPTED and await scene.ratings(complaint.id) == 1

    await scene.act("resolve", complaint.id, "材料已补齐，户口已迁入。")
    await scene.deliver()
    second = await scene.me.wait_for_reply(contains="户口已迁入")
    for data in (old[HANS.plain("rate.button.0")], f"rat:{complaint.id}:1"):  # a client that kept them
        await scene.me.press_data(first.message_id, data)
    await scene.harness.settle()
    assert scene.me.answers()[-2:] == [HANS.plain("error.rating_superseded")] * 2
    assert (await scene.reload(complaint.id)).status == S.RESOLVED and await scene.ratings(complaint.id) == 1
    assert buttons_now(scene, second.message_id) == rating_data(complaint, 2)

    await scene.me.press(HANS.plain("rate.button.0"), message=second)
    await scene.harness.settle()
    assert (await scene.reload(complaint.id)).status == S.CLOSED and await scene.ratings(complaint.id) == 2
