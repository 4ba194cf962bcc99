"""Dashboard pages: login/logout, the home page with this month's figures, the queue and a complaint."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from urllib.parse import quote

from aiohttp import web
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from reports.figures import previous_month
from reports.publication import due_months
from reports.snapshots import waiting_months
from storage.models import (
    OPEN_STATUSES,
    ActorKind,
    AgencyContact,
    Attachment,
    Complaint,
    ComplaintStatus,
    WebRole,
    WebUser,
)
from storage.vocabulary import PROBLEM_TYPES
from web.app import FILES, FileUnavailable
from web.auth import DUMMY_HASH, client_address, verify_password
from web.dashboard import messages
from web.dashboard.context import (
    USER,
    current_user,
    db,
    deadlines,
    not_found,
    render,
    see_other,
    services,
    set_session_cookie,
    viewer_of,
)
from web.dashboard.evidence import segments, shows_personal_data, visible
from web.dashboard.month import month_view
from web.dashboard.queries import (
    PER_PAGE,
    BadFilter,
    ComplaintFilter,
    active_agencies,
    agency_names,
    get_attachment,
    get_complaint,
    list_complaints,
    parse_month,
    view_of,
)
from workflow.citizen_view import parse_tracking_no
from workflow.extensions import pending_extension
from workflow.privacy import CitizenView
from workflow.queues import QueueItem, furthest_running_due, is_overdue, pending_decisions, to_item
from workflow.transitions import Action, target

log = logging.getLogger(__name__)
#: What the oversight officer may do on a complaint page; the state machine says which apply now.
#: How far back the month pickers go.
MONTHS_OFFERED = 24
OVERSIGHT_ACTIONS = (Action.RULE, Action.DECIDE_EXTENSION, Action.SET_MAJOR, Action.CLEAR_MAJOR)
routes = web.RouteTableDef()
#: Shown in the browser; anything else is downloaded, so an uploaded HTML file never runs as a page.
INLINE_IMAGES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})


def _safe_next(target: str | None) -> str:
    """Only our own dashboard paths: never an open redirect to another site, nor a control character
    (no header may carry one)."""
    own = target and target.startswith("/dashboard/") and not target.startswith("//") and "\\" not in target
    if own and target.isprintable():
        return target
    return "/dashboard/"


@routes.get("/dashboard/login")
async def login_page(request: web.Request) -> web.StreamResponse:
    if USER in request:
        return see_other(_safe_next(request.query.get("next")))
    return render(request, "login.html", {"next": _safe_next(request.query.get("next")), "error": None})


@routes.post("/dashboard/login")
async def login(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    username = str(form.get("username", "")).strip()
    password = str(form.get("password", ""))
    target = _safe_next(str(form.get("next", "")))
    throttle = services(request).throttle
    address = client_address(request, services(request).settings.web_trusted_proxies)
    if throttle.blocked(username, address):
        return render(request, "login.html", {"next": target, "error": messages.LOGIN_THROTTLED}, status=429)
    # No user has a name with a control character; PostgreSQL would refuse a NUL rather than find none.
    known = username and username.isprintable()
    user = await db(request).scalar(select(WebUser).where(WebUser.username == username)) if known else None
    valid = verify_password(password, user.password_hash if user else DUMMY_HASH)
    if user is None or not valid or not user.active:
        throttle.failed(username, address)
        return render(request, "login.html", {"next": target, "error": messages.LOGIN_FAILED}, status=401)
    throttle.succeeded(username, address)
    # A new session (new nonce, new CSRF token): a cookie planted before login is worthless after it.
    response = see_other(target)
    session = services(request).signer.new(user.id, user.password_hash, user.session_epoch)
    set_session_cookie(response, request, session)
    return response


@routes.post("/dashboard/logout")
async def logout(request: web.Request) -> web.StreamResponse:
    """Ends the user's sessions on every device (a copied cookie is worthless afterwards)."""
    if USER in request:
        user = current_user(request)
        await db(request).execute(
            update(WebUser).where(WebUser.id == user.id).values(session_epoch=WebUser.session_epoch + 1)
        )
        await db(request).commit()
    response = see_other("/dashboard/login")
    set_session_cookie(response, request, services(request).signer.new())
    return response


@routes.get("/dashboard/")
async def home(request: web.Request) -> web.StreamResponse:
    """The open work across all months (for oversight, with the months waiting to be released), and one
    month's figures (this month unless ``?month=``; a released month's as its publication has them, see
    ``web.dashboard.month``)."""
    user = current_user(request)
    viewer = viewer_of(user)
    session = db(request)
    now = services(request).clock.now()
    zone = services(request).settings.zone
    months = recent_months(now.astimezone(zone).date())
    this_month = months[0]
    error = None
    try:
        month = parse_month(request.query.get("month")) or this_month
    except BadFilter:
        month, error = this_month, messages.FILTER_ERRORS["month"]
    if month > this_month:
        month, error = this_month, messages.FUTURE_MONTH
    # An agency's cards count its current work, as its bot /inbox does, and link to that list: a
    # complaint another agency has since accepted, or was named for (审定), is no longer the first
    # contact's (首问) to answer for.
    queues = {}
    for key, wanted in (
        ("open_overdue", ComplaintFilter(overdue=True, inbox=not viewer.is_oversight)),
        ("disputed", ComplaintFilter(status=ComplaintStatus.DISPUTED, inbox=not viewer.is_oversight)),
        ("major", ComplaintFilter(major=True, inbox=not viewer.is_oversight)),
    ):
        count = (await list_complaints(session, viewer, wanted, now=now, zone=zone, per_page=1))[1]
        queues[key] = {"count": count, "link": f"/dashboard/complaints?{wanted.query_string()}"}
    decisions = await pending_decisions(session, limit=20) if viewer.is_oversight else []
    due = await due_months(session, deadlines(request), now)  # once: the waiting months and the month's 发布
    waiting = await waiting_months(session, due) if viewer.is_oversight else []
    page = {
        "figures": await month_view(session, viewer, month, deadlines(request), now, due),
        "month": month,
        "months": months,
        "this_month": this_month,
        "now": now,
        "queues": queues,
        "decisions": decisions,
        "waiting": waiting,
        # Deadlines stated as firm everywhere else: here the reader learns which are estimates.
        "calendar_gaps": deadlines(request).uncertain_years(now, await furthest_running_due(session)),
        "done": messages.RELEASED.get(request.query.get("done", "")),
        "error": error,
    }
    return render(request, "home.html", page, status=400 if error else 200)


@routes.get("/dashboard/complaints")
async def complaints(request: web.Request) -> web.StreamResponse:
    user = current_user(request)
    viewer = viewer_of(user)
    wanted, bad = ComplaintFilter.parse_dashboard(request.query)
    session = db(request)
    agencies = await active_agencies(session)
    if viewer.is_oversight:
        wanted.inbox = False  # the office answers for no queue of its own: it sees everything
    else:
        wanted.agency = None  # an agency viewer lists what it may see (``visible_to``), as the API does
    now = services(request).clock.now()
    zone = services(request).settings.zone
    # A bad filter shows what was wrong and no list: silently dropping it would show everything.
    items, total = [], 0
    if not bad:
        items, total = await list_complaints(session, viewer, wanted, now=now, zone=zone, deadlines=deadlines(request))
    pages = max(1, -(-total // PER_PAGE))
    if wanted.page > pages:  # an old link after the list shrank: its last page, not an empty one
        return see_other(f"/dashboard/complaints?{wanted.query_string(page=pages if pages > 1 else None)}")
    return render(
        request,
        "complaints.html",
        {
            "filter": wanted,
            "errors": [messages.FILTER_ERRORS.get(name, messages.BAD_FILTER) for name in bad],
            "raw_month": request.query.get("month", ""),
            "months": recent_months(now.astimezone(zone).date()),
            "items": [
                (
                    item,
                    is_overdue(item, now),
                    *_clock_of(item, request, now),
                    await view_of(session, viewer, item) is not CitizenView.SUMMARY,
                )
                for item in items
            ],
            "total": total,
            "pages": pages,
            "agencies": agencies,
            "statuses": list(ComplaintStatus),
            "problem_types": PROBLEM_TYPES,
            "zone": zone,
        },
        status=400 if bad else 200,
    )


def recent_months(today: date) -> list[date]:
    """This month and the ones before it, newest first, for the month pickers."""
    months = [today.replace(day=1)]
    while len(months) < MONTHS_OFFERED:
        months.append(previous_month(months[-1]))
    return months


def _clock_of(complaint: Complaint, request: web.Request, now: datetime) -> tuple[QueueItem | None, str]:
    """The running deadline (remaining working time, normal/warning/overdue) of an open complaint, and
    how it reads: in working days, or in working hours when less than a day is left or overdue."""
    if complaint.status not in OPEN_STATUSES:
        return None, ""
    item = to_item(complaint, deadlines(request), now)
    return item, working_time_text(item.remaining, deadlines(request).day_length)


def working_time_text(remaining: timedelta, day: timedelta) -> str:
    """ "剩余 3 个工作日" / "已超 2 个工作日"; under one working day "剩余 5.5 工作小时"."""
    left = abs(remaining)
    amount = f"{left // day} 个工作日" if left >= day else f"{left.total_seconds() / 3600:.1f} 工作小时"
    return f"剩余 {amount}" if remaining >= timedelta() else f"已超 {amount}"


async def complaint_context(request: web.Request, tracking_no: str) -> dict | None:
    """Everything the complaint page shows; None when the viewer may not see it (a 404, never a 403)."""
    user = current_user(request)
    viewer = viewer_of(user)
    session = db(request)
    complaint = await get_complaint(session, viewer, tracking_no)
    if complaint is None:
        return None
    events = complaint.events
    agency_ids = {i for e in events for i in (e.agency_id, e.from_agency_id, e.to_agency_id) if i is not None}
    agencies = await agency_names(session, agency_ids)
    actors = await _actor_labels(session, events)
    now = services(request).clock.now()
    settings = services(request).settings
    # A receiver reads the masked words only until it accepts; a former owner (首问 after the transfer
    # was accepted, or the owner before a ruling) gets a summary.
    view = await view_of(session, viewer, complaint)
    full, words = view is CitizenView.FULL, view is not CitizenView.SUMMARY
    show_personal = shows_personal_data(viewer, complaint)
    extension_request = await pending_extension(session, complaint.id)
    return {
        "c": complaint,
        "overdue": is_overdue(complaint, now),
        "full": full,
        "words": words,
        "segments": segments(complaint, show_personal_data=show_personal) if words else [],
        "events": events,
        "reply": visible(viewer, complaint, complaint.reply_text),
        "reasons": {event.id: visible(viewer, complaint, event.reason) for event in events},
        "agencies": agencies,
        "actors": actors,
        "show_personal": show_personal,
        "zone": settings.zone,
        "extension_pending": extension_request is not None,
        "extension_request": extension_request.id if extension_request is not None else None,
        "choices": await active_agencies(session) if viewer.is_oversight else [],
        "allowed": {action.value for action in OVERSIGHT_ACTIONS if target(complaint.status, action)},
        "typed": {},
        "error": None,
        "done": messages.DONE.get(request.query.get("done", "")),
    }


async def _actor_labels(session: AsyncSession, events: list) -> dict[tuple[str, int], str]:
    """Each web user and agency contact with their own affiliation ("officer（效能办）", "李四（市住建局）"),
    never the complaint's owner; citizens stay "群众" (no personal data in timelines)."""
    labels: dict[tuple[str, int], str] = {}
    user_ids = {e.actor_id for e in events if e.actor_kind == ActorKind.WEB_USER and e.actor_id}
    contact_ids = {e.actor_id for e in events if e.actor_kind == ActorKind.CONTACT and e.actor_id}
    users = (await session.scalars(select(WebUser).where(WebUser.id.in_(user_ids)))).all() if user_ids else []
    query = select(AgencyContact).where(AgencyContact.id.in_(contact_ids))
    contacts = (await session.scalars(query)).all() if contact_ids else []
    agency_ids = {u.agency_id for u in users if u.agency_id} | {c.agency_id for c in contacts}
    agencies = await agency_names(session, agency_ids)

    def affiliated(name: str, agency_id: int | None, oversight: bool = False) -> str:
        where = "效能办" if oversight else (agencies[agency_id].name if agency_id in agencies else "")
        return f"{name}（{where}）" if where else name

    for user in users:
        oversight = user.role == WebRole.OVERSIGHT
        labels[(ActorKind.WEB_USER, user.id)] = affiliated(user.username, user.agency_id, oversight)
    for contact in contacts:
        name = contact.display_name or f"#{contact.id}"
        labels[(ActorKind.CONTACT, contact.id)] = affiliated(name, contact.agency_id)
    return labels


@routes.get("/dashboard/find")
async def find(request: web.Request) -> web.StreamResponse:
    """The queue's search box: straight to the complaint with this tracking number, typed or pasted
    (``20261203-0016``, ``202612030016``, ``20261203 0016``). A number the viewer may not see is the
    same not-found page as no such number, so an agency viewer learns nothing of other agencies'."""
    number = parse_tracking_no(request.query.get("no", ""))
    complaint = await get_complaint(db(request), viewer_of(current_user(request)), number) if number else None
    if complaint is None:
        return not_found(request)
    return see_other(f"/dashboard/complaints/{complaint.tracking_no}")


@routes.get("/dashboard/complaints/{tracking_no}")
async def complaint_page(request: web.Request) -> web.StreamResponse:
    context = await complaint_context(request, request.match_info["tracking_no"])
    if context is None:
        return not_found(request)
    return render(request, "complaint.html", context)


@routes.get(r"/dashboard/complaints/{tracking_no}/files/{attachment_id:\d+}")
async def attachment_file(request: web.Request) -> web.StreamResponse:
    """A photo or document of a complaint the viewer may see, fetched from Telegram through the bot."""
    viewer = viewer_of(current_user(request))
    tracking_no, wanted = request.match_info["tracking_no"], int(request.match_info["attachment_id"])
    attachment = await get_attachment(db(request), viewer, tracking_no, wanted)
    if attachment is None:
        return not_found(request)
    fetch = request.app[FILES].fetch
    try:
        if fetch is None:
            raise FileUnavailable("no bot runs in this process")
        content = await fetch(attachment.telegram_file_id)
    except FileUnavailable as exc:
        log.warning("attachment %s of %s unavailable: %s", attachment.id, attachment.complaint_id, exc)
        page = {"title": "附件暂时无法查看", "message": messages.FILE_UNAVAILABLE}
        return render(request, "error.html", page, status=502)
    return _file_response(attachment, content)


def _file_response(attachment: Attachment, content: bytes) -> web.Response:
    mime = attachment.mime_type or ("image/jpeg" if attachment.kind == "photo" else "")
    inline = mime in INLINE_IMAGES
    name = attachment.file_name or f"附件{attachment.id}" + (".jpg" if attachment.kind == "photo" else "")
    response = web.Response(body=content, content_type=mime if inline else "application/octet-stream")
    response.headers["Content-Disposition"] = f"{'inline' if inline else 'attachment'}; filename*=UTF-8''{quote(name)}"
    response.headers["Cache-Control"] = "private, no-store"  # evidence with personal data: no caches
    return response
