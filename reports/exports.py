"""CSV and XLSX renderings of the publication. The CSV is the main table alone (one table, so any tool
can read it); the workbook has a sheet per view, numbers as numbers and rates as percentages.

Text never becomes a formula: every text cell of the workbook is a string cell, and a CSV text field
that a spreadsheet would read as a formula (leading = + - @ tab or CR) gets a leading apostrophe (the
OWASP rule for CSV injection)."""

from __future__ import annotations

import csv
import io
import zipfile
from typing import TYPE_CHECKING, Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from reports.formatting import NOT_DEFINED, change_columns, main_columns, percent, points, score, signed, total_row
from reports.ranking import Ranked

if TYPE_CHECKING:
    from reports.publication import Publication


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _rows(pub: Publication) -> list[Ranked]:
    return [*pub.rows, total_row(pub.figures.total, pub.total_change)]


def main_problems(pub: Publication, row: Ranked) -> str:
    """The 主要问题类型 column: the three most frequent, with counts; the total's for the 合计 line."""
    if row.figures.agency_id is None:
        problems = pub.figures.problem_types
    else:
        problems = pub.figures.problems_by_agency.get(row.figures.agency_id, [])
    return "、".join(f"{name}({count})" for name, count in problems[:3])


def csv_safe(text: str) -> str:
    """A text field no spreadsheet will evaluate."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _text(kind: str, value: Any) -> str:
    if kind == "rate":
        return percent(value)
    if kind == "change":
        return signed(value)
    if kind == "score":
        return score(value)
    if kind == "rank":
        return NOT_DEFINED if value is None else str(value)
    return csv_safe(str(value))


def render_csv(pub: Publication) -> bytes:
    """UTF-8 with a byte-order mark, so Excel on a Chinese Windows opens it without mojibake."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    columns = main_columns()
    writer.writerow([header for header, _, _ in columns] + ["主要问题类型"])
    for row in _rows(pub):
        values = [_text(kind, getter(row)) for _, kind, getter in columns]  # type: ignore[operator]
        if row.figures.agency_id is None:
            values[1] = "合计"
        writer.writerow([*values, csv_safe(main_problems(pub, row))])
    if pub.preview:
        writer.writerow(["", pub.preview_note])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDE6F0")
_MARKED_FILL = PatternFill("solid", fgColor="FBE3E3")
_FORMATS = {"count": "0", "change": "+0;-0;0", "rate": "0.0%", "score": "0.00", "rank": "0", "points": "+0.0;-0.0;0.0"}


def _sheet(book: Workbook, title: str, headers: list[str], rows: list[list[Any]], kinds: list[str]) -> Worksheet:
    """A sheet with bold frozen headers, typed cells and widths that fit Chinese text."""
    sheet = book.create_sheet(title)
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for values in rows:
        sheet.append(
            [
                NOT_DEFINED if value is None and kind not in ("text",) else value
                for value, kind in zip(values, kinds, strict=True)
            ]
        )
    for sheet_row in sheet.iter_rows():
        for cell in sheet_row:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # openpyxl stores "=…" as a formula otherwise
    for index, kind in enumerate(kinds, start=1):
        letter = get_column_letter(index)
        width = max(_display_width(str(cell.value or "")) for cell in sheet[letter])
        sheet.column_dimensions[letter].width = min(max(width + 2, 6), 60 if kind == "long" else 30)
        for cell in sheet[letter][1:]:
            if kind in _FORMATS and isinstance(cell.value, int | float):
                cell.number_format = _FORMATS[kind]
            if kind == "long":
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            elif cell.value == NOT_DEFINED:
                cell.alignment = Alignment(horizontal="right")
    sheet.freeze_panes = "C2" if len(kinds) > 8 else "A2"
    return sheet


def _display_width(text: str) -> int:
    """Column width in Excel units: a CJK character takes two."""
    return sum(2 if ord(char) > 0x2E80 else 1 for char in text)


def render_xlsx(pub: Publication) -> bytes:
    book = Workbook()
    book.remove(book.active)
    columns = main_columns()
    kinds = [kind for _, kind, _ in columns]
    table = []
    for row in _rows(pub):
        values = [getter(row) for _, _, getter in columns]  # type: ignore[operator]
        if row.figures.agency_id is None:
            values[1] = "合计"
        table.append(values)
    for row, values in zip(_rows(pub), table, strict=True):
        values.append(main_problems(pub, row))
    headers = [header for header, _, _ in columns] + ["主要问题类型"]
    main = _sheet(book, "各单位情况", headers, table, [*kinds, "text"])
    for row_index, row in enumerate(pub.rows, start=2):
        if row.last_three:
            for cell in main[row_index]:
                cell.fill = _MARKED_FILL
    for cell in main[main.max_row]:
        cell.font = _HEADER_FONT

    changes = change_columns()
    change_rows = [
        [
            row.figures.name or "合计",
            row.figures.received,
            row.figures.received - row.change.received,
            row.change.received,
        ]
        + [row.change.rates[attribute] for attribute, _ in changes]
        for row in _rows(pub)
    ]
    change_rows[-1][0] = "合计"
    _sheet(
        book,
        "环比",
        ["单位", "本月收到量", "上月收到量", "收到量增减", *[header for _, header in changes]],
        change_rows,
        ["text", "count", "count", "change", *["points"] * len(changes)],
    )
    received = pub.figures.total.received
    _sheet(
        book,
        "问题类型",
        ["问题类型", "件数", "占收到量"],
        [[name, count, count / received if received else None] for name, count in pub.problem_types],
        ["text", "count", "rate"],
    )
    _sheet(
        book,
        "典型案例",
        [
            "承办单位",
            "收到日期",
            "办结时限",
            "办结日期",
            "是否按期办结",
            "问题类型",
            "延期（次）",
            "转办（次）",
            "督办",
            "重办",
            "挂牌督办",
            "群众评价",
        ],
        [
            [
                case.agency,
                case.received_on,
                case.due_on,
                case.resolved_on,
                on_time_text(case.on_time),
                "、".join(case.problem_types),
                case.extensions,
                case.transfers,
                yes_no(case.escalated),
                yes_no(case.reopened),
                yes_no(case.major),
                case.rating,
            ]
            for case in pub.typical_cases
        ],
        ["text", "date", "date", "date", "text", "text", "count", "count", "text", "text", "text", "text"],
    )
    for sheet_row in book["典型案例"].iter_rows(min_row=2, max_col=4, min_col=2):
        for cell in sheet_row:
            cell.number_format = "yyyy-mm-dd"
    from storage.vocabulary import EVALUATION_DIMENSIONS

    _sheet(
        book,
        "评议汇总",
        ["单位", "评议件数", "留言条数", *[f"{name}（平均分）" for name in EVALUATION_DIMENSIONS]],
        [
            [summary.agency, summary.count, summary.commented]
            + [summary.dimensions[name][1] for name in EVALUATION_DIMENSIONS]
            for summary in pub.evaluations
        ],
        ["text", "count", "count", *["score"] * len(EVALUATION_DIMENSIONS)],
    )
    definitions = [list(item) for item in pub.definitions]
    if pub.preview:
        definitions.insert(0, ["状态", pub.preview_note])
    _sheet(book, "指标说明", ["指标", "说明"], definitions, ["text", "long"])
    for sheet in book.worksheets:
        sheet.sheet_properties.pageSetUpPr.fitToPage = True
        sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
        sheet.page_setup.orientation = "landscape"
        sheet.page_setup.fitToHeight = 0
    book.properties.title = pub.title + ("（预览）" if pub.preview else "")
    book.properties.created = book.properties.modified = pub.as_of.replace(tzinfo=None)
    buffer = io.BytesIO()
    # Not book.save(): it stamps the document properties with the wall clock.
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(book, archive).write_data()
    return _stamped(buffer.getvalue(), pub.as_of.replace(tzinfo=None).timetuple()[:6])


def _stamped(archive: bytes, moment: tuple[int, ...]) -> bytes:
    """The workbook's zip with every entry dated ``moment`` (zip entries are dated now), so a month's
    workbook downloaded twice is the same file."""
    result = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(archive)) as source, zipfile.ZipFile(result, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=moment)  # type: ignore[arg-type]
            entry.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(entry, source.read(info.filename))
    return result.getvalue()


def on_time_text(on_time: bool | None) -> str:
    return NOT_DEFINED if on_time is None else ("按期" if on_time else "超期")


def yes_no(flag: bool) -> str:
    return "是" if flag else "否"


__all__ = ["points", "render_csv", "render_xlsx"]
