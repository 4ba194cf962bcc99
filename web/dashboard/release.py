"""Releasing a month (发布), the one act that makes a month's publication public: after its cut-off an
oversight officer reviews the month on the home page, opens the confirmation (GET) that says what
releasing does, and confirms (POST, CSRF-checked by the middleware). ``reports.snapshots.release`` stores
the month as of its cut-off with who released it; a second release changes nothing and says so.
Oversight only: an agency viewer gets 403 for both.
"""

from __future__ import annotations

from datetime import date

from aiohttp import web

from reports.publication import due_months, publication_cut_off
from reports.snapshots import NotReleasable, release, released
from web.dashboard import messages
from web.dashboard.context import (
    current_user,
    db,
    deadlines,
    forbidden,
    not_found,
    region,
    render,
    see_other,
    services,
    viewer_of,
)
from web.dashboard.queries import BadFilter, parse_month

routes = web.RouteTableDef()
PATH = r"/dashboard/months/{month:\d{4}-\d{2}}/release"


def _month(request: web.Request) -> date | None:
    try:
        return parse_month(request.match_info["month"])
    except BadFilter:
        return None


def _back(month: date, done: str | None = None) -> web.Response:
    """To the month on the home page, saying what the POST did (``done``); a GET says nothing."""
    return see_other(f"/dashboard/?month={month:%Y-%m}" + (f"&done={done}" if done else ""))


def _refused(request: web.Request, month: date, reason: str) -> web.Response:
    cut_off = publication_cut_off(month, deadlines(request)).astimezone(services(request).settings.zone)
    message = messages.RELEASE_REFUSED[reason].format(
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
    month = _month(request)
    if month is None:
        return not_found(request)
    session, calendar, now = db(request), deadlines(request), services(request).clock.now()
    if await released(session, month) is not None:
        return _back(month)
    cut_off = publication_cut_off(month, calendar)
    if now < cut_off:
        return _refused(request, month, "before_cut_off")
    if month not in await due_months(session, calendar, now):
        return _refused(request, month, "no_service")
    return render(request, "release.html", {"month": month, "cut_off": cut_off})


@routes.post(PATH)
async def release_month(request: web.Request) -> web.StreamResponse:
    user = current_user(request)
    if not viewer_of(user).is_oversight:
        return forbidden(request)
    month = _month(request)
    if month is None:
        return not_found(request)
    try:
        outcome = await release(
            db(request),
            month,
            deadlines(request),
            services(request).clock.now(),
            user.username,
            region=await region(request),
        )
    except NotReleasable as refused:
        return _refused(request, month, refused.reason)
    return _back(month, "released" if outcome.fresh else "already_released")
