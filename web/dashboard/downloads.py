"""The month's CSV and Excel for the oversight office: a released month's are the stored files the public
downloads; a month not released yet is its preview (``reports.snapshots.month_file``, the same files
`minsheng export monthly` writes), marked as one in its file name, its CSV's first line and its main
sheet. Oversight only: the files hold every agency's row. The publication's renderers write no personal
data (``reports.publication``): the CSV is the figures table, the workbook adds typical cases as facts only.
"""

from __future__ import annotations

from urllib.parse import quote

from aiohttp import web

from reports.publication import due_months, past_cut_off
from reports.snapshots import MonthFile, month_file
from web.dashboard.context import current_user, db, deadlines, forbidden, not_found, services, viewer_of
from web.dashboard.queries import BadFilter, parse_month

routes = web.RouteTableDef()
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@routes.get(r"/dashboard/months/{month:\d{4}-\d{2}}.{ext:csv|xlsx}")
async def month_download(request: web.Request) -> web.StreamResponse:
    if not viewer_of(current_user(request)).is_oversight:
        return forbidden(request)
    try:
        month = parse_month(request.match_info["month"])
    except BadFilter:
        return not_found(request)
    ext, session, calendar = request.match_info["ext"], db(request), deadlines(request)
    now = services(request).clock.now()
    assert month is not None
    if month > now.astimezone(calendar.zone).date():
        return not_found(request)  # a month to come
    if past_cut_off(month, calendar, now) and month not in await due_months(session, calendar, now):
        return not_found(request)  # over with no complaint on the service yet: never to be published
    return _file(await month_file(session, month, calendar, now, ext), ext)


def _file(found: MonthFile, ext: str) -> web.Response:
    """Named as the public names it; a preview also by its Chinese title (RFC 6266 ``filename*``)."""
    disposition = f'attachment; filename="{found.name}.{ext}"'
    if found.title:
        disposition += f"; filename*=UTF-8''{quote(f'{found.title}.{ext}')}"
    headers = {"Content-Type": CONTENT_TYPES[ext], "Content-Disposition": disposition}
    return web.Response(body=found.body, headers=headers)
