"""The month's CSV and Excel for the oversight office: a public month's are the stored files the public
downloads (stored by this request if nobody has yet, as the public page and ``minsheng export`` do); a
month not public yet is a preview built now, marked as one in its file name, its CSV's first line and
its main sheet. Oversight only: the files hold every agency's row. The publication's renderers write no
personal data (``reports.publication``): the CSV is the figures table, the workbook adds typical cases
as facts only.
"""

from __future__ import annotations

import io
from datetime import datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

from aiohttp import web
from openpyxl import load_workbook
from openpyxl.styles import Font
from openpyxl.utils.cell import coordinate_from_string

from reports.publication import (
    Publication,
    build_publication,
    is_published,
    publication_cut_off,
    published_months,
    render_csv,
    render_xlsx,
)
from reports.snapshots import publish
from web.dashboard import messages
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
    months = await published_months(session, calendar, now)
    if month in months:
        snapshot = await publish(session, month, months, calendar, now)
        return _file(snapshot.csv if ext == "csv" else snapshot.xlsx, ext, f"publication-{month:%Y-%m}", None)
    if is_published(month, calendar, now) or month > now.astimezone(calendar.zone).date():
        return not_found(request)  # over with no complaint on the service yet: never published; or to come
    pub = await build_publication(session, month, calendar.zone, as_of=now, preview=True)
    line = preview_line(pub, publication_cut_off(month, calendar))
    body = preview_csv(pub, line) if ext == "csv" else preview_xlsx(pub, line)
    return _file(body, ext, f"publication-{month:%Y-%m}-preview", f"{pub.title}（{messages.PREVIEW}）")


def preview_line(pub: Publication, cut_off: datetime) -> str:
    when = cut_off.astimezone(ZoneInfo(pub.zone))
    return messages.PREVIEW_LINE.format(
        title=pub.title, preview=messages.PREVIEW, as_of=pub.as_of_local, cut_off=when.strftime("%Y-%m-%d %H:%M")
    )


def preview_csv(pub: Publication, line: str) -> bytes:
    """The publication's CSV (its table, and its own closing preview note) under a first line saying so."""
    table = render_csv(pub).decode("utf-8-sig")
    return ("\ufeff" + line + "\r\n" + table).encode("utf-8")


def preview_xlsx(pub: Publication, line: str) -> bytes:
    """The publication's workbook with its first sheet (the table) retitled and headed by the line."""
    book = load_workbook(io.BytesIO(render_xlsx(pub)))
    sheet = book.worksheets[0]
    sheet.title = f"{sheet.title}（{messages.PREVIEW}）"
    frozen = sheet.freeze_panes
    sheet.insert_rows(1)
    sheet["A1"] = line
    sheet["A1"].font = Font(bold=True, color="B3261E")
    if frozen:
        column, row = coordinate_from_string(frozen)
        sheet.freeze_panes = f"{column}{row + 1}"
    book.active = 0
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _file(body: bytes, ext: str, ascii_name: str, name: str | None) -> web.Response:
    """Named as the public names it; a preview also by its Chinese title (RFC 6266 ``filename*``)."""
    disposition = f'attachment; filename="{ascii_name}.{ext}"'
    if name:
        disposition += f"; filename*=UTF-8''{quote(f'{name}.{ext}')}"
    response = web.Response(body=body, headers={"Content-Type": CONTENT_TYPES[ext], "Content-Disposition": disposition})
    response.headers["Cache-Control"] = "no-store"
    return response
