"""Releasing a month (发布), the one act that makes a month's publication public: after its cut-off an
oversight officer reviews the month on the home page, opens the confirmation (GET) that says what
releasing does, and confirms (POST, CSRF-checked by the middleware). ``reports.snapshots.release`` stores
the month as of its cut-off with who released it; a second release changes nothing and says so.
Oversight only: an agency viewer gets 403 for both.
"""

from __future__ import annotations

from datetime import date

from aiohttp import web

from reports.months import month_of
from reports.snapshots import NotReleasable, release, released, require_releasable
from web.dashboard import messages
from web.dashboard.context import (
    current_user,
    db,
    deadlines,
    forbidden,
    not_found,
    render,
    see_other,
    services,
    viewer_of,
)

routes = web.RouteTableDef()
PATH = r"/dashboard/months/{month:\d{4}-\d{2}}/release"


def _back(month: date, done: str | None = None) -> web.Response:
    """To the month on the home page, saying what the POST did (``done``); a GET says nothing."""
    return see_other(f"/dashboard/?month={month:%Y-%m}" + (f"&done={done}" if done else ""))


def _refused(request: web.Request, refused: NotReleasable) -> web.Response:
    month, cut_off = refused.month, refused.cut_off.astimezone(services(request).settings.zone)
    message = messages.RELEASE_REFUSED[refused.reason].format(
        month=f"{month.year}年{month.month}月", cut_off=cut_off.strftime("%Y-%m-%d %H:%M")
    )
    return render(request, "error.html", {"title": "不能发布", "message": message}, status=409)


@routes.get(PATH)
async def confirm_release(request: web.Request) -> web.StreamResponse:
    """The confirmation step: which month, as of when, and that releasing cannot be taken back quietly.
    A month released already (e.g. the back button after 确认发布) is simply the month again: nothing was
    tried, so nothing is said."""
    if not viewer_of(current_user(request)).is_oversight:
        return forbidden(request)
    month = month_of(request.match_info["month"])
    if month is None:
        return not_found(request)
    session, calendar, now = db(request), deadlines(request), services(request).clock.now()
    if await released(session, month) is not None:
        return _back(month)
    try:
        cut_off = await require_releasable(session, month, calendar, now)
    except NotReleasable as refused:
        return _refused(request, refused)
    return render(request, "release.html", {"month": month, "cut_off": cut_off})


@routes.post(PATH)
async def release_month(request: web.Request) -> web.StreamResponse:
    user = current_user(request)
    if not viewer_of(user).is_oversight:
        return forbidden(request)
    month = month_of(request.match_info["month"])
    if month is None:
        return not_found(request)
    try:
        outcome = await release(
            db(request),
            month,
            deadlines(request),
            services(request).clock.now(),
            user.username,
        )
    except NotReleasable as refused:
        return _refused(request, refused)
    return _back(month, "released" if outcome.fresh else "already_released")
