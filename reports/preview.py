"""A month not released yet, as the office reviews it: the publication built live (as of now before the
cut-off, as of the cut-off after it, i.e. what releasing would store) and marked as a preview in every
file, so a preview can never pass for the publication. The dashboard's downloads and `minsheng export
monthly` both take their preview files from here: one way to mark a preview.
"""

from __future__ import annotations

import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from openpyxl.styles import Font
from openpyxl.utils.cell import coordinate_from_string
from sqlalchemy.ext.asyncio import AsyncSession

from reports.publication import (
    PREVIEW_MARK,
    Publication,
    build_publication,
    publication_cut_off,
    render_csv,
    render_html,
    render_xlsx,
)
from workflow.deadlines import Deadlines


async def preview_publication(session: AsyncSession, month: date, deadlines: Deadlines, now: datetime) -> Publication:
    """The month as releasing it now would show it (as of its cut-off, or as of now before then), marked."""
    as_of = min(now, publication_cut_off(month, deadlines))
    return await build_publication(session, month, deadlines.zone, as_of=as_of, preview=True)


def preview_title(pub: Publication) -> str:
    """The preview's name: in its file name, its first line and its main sheet."""
    return f"{pub.title}（{PREVIEW_MARK}）"


def heading_line(pub: Publication, cut_off: datetime) -> str:
    """The line heading a CSV file (the publication's and a preview's): which month, as of when, and for a
    preview when it may become the publication."""
    when = cut_off.astimezone(ZoneInfo(pub.zone)).strftime("%Y-%m-%d %H:%M")
    if not pub.preview:
        return f"{pub.title}：数据截至公示截止时间 {when}。"
    if pub.as_of < cut_off:
        return f"{preview_title(pub)}：数据截至 {pub.as_of_local}；{when} 截止后由效能办核对发布，以正式公示为准。"
    return f"{preview_title(pub)}：数据截至公示截止时间 {when}，待效能办核对发布，以正式公示为准。"


def headed_csv(pub: Publication, line: str) -> bytes:
    """The publication's CSV (its table, and a preview's own closing note) under a first line saying what
    it is (``heading_line``)."""
    table = render_csv(pub).decode("utf-8-sig")
    return ("\ufeff" + line + "\r\n" + table).encode("utf-8")


def preview_xlsx(pub: Publication, line: str) -> bytes:
    """The publication's workbook with its first sheet (the table) retitled and headed by the line."""
    book = load_workbook(io.BytesIO(render_xlsx(pub)))
    sheet = book.worksheets[0]
    sheet.title = f"{sheet.title}（{PREVIEW_MARK}）"
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


def preview_file(pub: Publication, cut_off: datetime, ext: str) -> bytes:
    """The preview as a CSV, an Excel workbook or a page (the page carries the publication's own note)."""
    if ext == "html":
        return render_html(pub).encode("utf-8")
    line = heading_line(pub, cut_off)
    return headed_csv(pub, line) if ext == "csv" else preview_xlsx(pub, line)
