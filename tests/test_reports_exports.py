"""CSV, XLSX and HTML renderings of the October publication: same figures, typed cells, no personal data."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy.ext.asyncio import AsyncSession

from reports.publication import PREVIEW_MARK, Publication, build_publication, render_csv, render_html, render_xlsx
from tests.test_reports_figures import CUT_OFF, OCTOBER, ZONE, build_october

SECRETS = ("张伟", "李娜", "13812345678", "13900001111", "幸福家园", "501室", "王科长", "王主任")


def rendered_text(output: str | bytes) -> str:
    """Every word of a rendering: the page, the CSV, or each cell of the workbook."""
    if isinstance(output, bytes) and output[:2] == b"PK":
        book = load_workbook(io.BytesIO(output))
        return " ".join(str(cell.value) for sheet in book for row in sheet.iter_rows() for cell in row)
    return output.decode("utf-8") if isinstance(output, bytes) else output


@pytest.fixture
async def pub(session: AsyncSession) -> Publication:
    await build_october(session)
    return await build_publication(session, OCTOBER, ZONE, as_of=CUT_OFF)


def test_csv_is_the_main_table_with_a_total_line_readable_by_excel(pub: Publication) -> None:
    data = render_csv(pub)
    assert data.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert [row["单位"] for row in rows] == ["市住建局", "市公安局", "市税务局", "市人社局", "合计"]
    a, total = rows[0], rows[-1]
    assert (a["排名"], a["收到量"], a["收到量环比"], a["响应率"], a["满意率"]) == ("1", "5", "+4", "60.0%", "100.0%")
    assert rows[2]["满意率"] == "—"  # 市税务局: nobody rated
    assert rows[3]["排名"] == total["排名"] == "—"  # 市人社局: no complaints, not ranked; as in XLSX and HTML
    assert (total["收到量"], total["办结率"], total["重办率"]) == ("10", "71.4%", "33.3%")  # 5 of 7 due
    assert a["主要问题类型"] == "慢作为(2)、推诿扯皮(1)"


def test_workbook_has_a_sheet_per_view_with_typed_cells_and_chinese_headers(pub: Publication) -> None:
    book = load_workbook(io.BytesIO(render_xlsx(pub)))
    assert book.sheetnames == ["各单位情况", "环比", "问题类型", "典型案例", "评议汇总", "指标说明"]
    main = book["各单位情况"]
    headers = [cell.value for cell in main[1]]
    assert headers[:4] == ["排名", "单位", "领域", "收到量"]
    column = {header: index + 1 for index, header in enumerate(headers)}
    received = main.cell(row=2, column=column["收到量"])
    assert received.value == 5 and received.number_format == "0"
    rate = main.cell(row=2, column=column["响应率"])
    assert rate.value == pytest.approx(0.6) and rate.number_format == "0.0%"
    assert main.cell(row=4, column=column["满意率"]).value == "—"
    assert main.cell(row=main.max_row, column=column["单位"]).value == "合计"
    assert main.cell(row=main.max_row, column=column["排名"]).value == "—"
    assert main.cell(row=2, column=column["主要问题类型"]).value == "慢作为(2)、推诿扯皮(1)"
    assert main.freeze_panes == "C2"
    assert main.column_dimensions["B"].width >= 10  # four CJK characters fit
    cases = book["典型案例"]
    assert [cell.value for cell in cases[1]][:2] == ["承办单位", "收到日期"]
    assert cases.cell(row=2, column=2).value.date() == date(2026, 10, 10)
    assert cases.cell(row=2, column=2).number_format == "yyyy-mm-dd"
    assert [cell.value for cell in cases[2]][4:] == ["按期", "慢作为", 1, 0, "否", "是", "否", "比较满意"]
    problems = book["问题类型"]
    assert [cell.value for cell in problems[1]] == ["问题类型", "件数", "占收到量"]
    assert [problems.cell(row=2, column=index).value for index in (1, 2)] == ["慢作为", 2]
    assert problems.cell(row=2, column=3).value == pytest.approx(0.2)
    assert [cell.value for cell in book["环比"][1]][:4] == ["单位", "本月收到量", "上月收到量", "收到量增减"]
    evaluations = book["评议汇总"]
    assert [cell.value for cell in evaluations[2]][:4] == ["市住建局", 2, 1, 4.5]


def test_html_is_printable_on_a4_with_charts_and_definitions_under_the_table(pub: Publication) -> None:
    html = render_html(pub)
    assert "@page { size: A4" in html
    assert html.count("<svg") == 3
    assert "<script" not in html
    table_end, definitions = html.index("</table>"), html.index('id="definitions"')
    assert table_end < definitions < html.index("三、与上月相比")
    assert re.search(r"本月共收到投诉 <strong>10</strong> 件", html)
    assert "10月收到的投诉" in html and "<th>本月收到量</th><th>收到量增减</th>" in html and "<th>占收到量</th>" in html
    assert re.search(r'<span class="label">收到：</span>2026-10-10', html)
    assert "各单位收到量（件）" in html
    assert html.count('class="bar"') == 3 + 4 + 2  # agencies with complaints, problem types, agencies rated


def test_satisfaction_chart_counts_rated_complaints_not_people(pub: Publication) -> None:
    """参评 is complaints rated (one rating per complaint), so the label says 件参评, never 人评价."""
    html = render_html(pub)
    assert "100.0%（2件参评）" in html
    assert not re.search(r"\d+人评价", html)


@pytest.mark.parametrize("render", [render_csv, render_xlsx, render_html])
def test_every_rendering_says_received_and_accepted_in_the_bots_words(pub: Publication, render: object) -> None:
    text = rendered_text(render(pub))  # type: ignore[operator]
    assert "收到量" in text and "应受理" in text and "按时受理" in text
    for old in ("签收", "受理量", "受理日期", "共受理", "月受理"):
        assert old not in text, old


@pytest.mark.parametrize("render", [render_csv, render_xlsx, render_html])
def test_no_rendering_carries_personal_data(pub: Publication, render: object) -> None:
    text = rendered_text(render(pub))  # type: ignore[operator]
    for secret in SECRETS:
        assert secret not in text, secret
    assert "-0001" not in text  # no tracking numbers on the public publication


def test_csv_workbook_and_page_show_the_same_main_table(pub: Publication) -> None:
    rows = list(csv.reader(io.StringIO(render_csv(pub).decode("utf-8-sig"))))
    sheet = load_workbook(io.BytesIO(render_xlsx(pub)))["各单位情况"]
    assert [cell.value for cell in sheet[1]] == rows[0]  # 主要问题类型 included
    column = rows[0].index("主要问题类型")
    assert [sheet.cell(row=index + 1, column=column + 1).value or "" for index in range(1, len(rows))] == [
        row[column] for row in rows[1:]
    ]
    assert [sheet.cell(row=index + 1, column=1).value for index in range(1, len(rows))] == [
        int(row[0]) if row[0].isdigit() else row[0] for row in rows[1:]
    ]
    html = render_html(pub)
    assert "慢作为(2)、推诿扯皮(1)" in html and rows[1][column] == "慢作为(2)、推诿扯皮(1)"


async def test_a_month_without_complaints_says_so_instead_of_listing_zero_rows(session: AsyncSession) -> None:
    await build_october(session)
    august = await build_publication(session, date(2026, 8, 1), ZONE, as_of=CUT_OFF)
    html = render_html(august)
    assert "本月无投诉" in html and "本月投诉未归入问题类型" not in html
    assert 'id="figures"' not in html  # no table of zeros for every agency
    rows = list(csv.DictReader(io.StringIO(render_csv(august).decode("utf-8-sig"))))
    assert [(row["单位"], row["收到量"]) for row in rows] == [("合计", "0")]
    assert load_workbook(io.BytesIO(render_xlsx(august)))["各单位情况"].max_row == 2


def test_long_agency_names_wrap_in_the_charts_instead_of_being_cut_off() -> None:
    from reports.html import bar_chart

    name = "国家税务总局示例市税务局"
    chart = bar_chart("各单位收到量（件）", [(name, 3, "3"), ("市公安局", 1, "1")])
    long_bar, short_bar = chart.bars
    assert "".join(long_bar.lines) == name and len(long_bar.lines) == 2
    assert chart.label_width >= 13 * max(len(line) for line in long_bar.lines)  # 13px per character
    assert short_bar.lines == ["市公安局"]


async def test_a_preview_says_so_in_every_rendering(session: AsyncSession) -> None:
    await build_october(session)
    preview = await build_publication(session, OCTOBER, ZONE, as_of=CUT_OFF, preview=True)
    assert PREVIEW_MARK in render_html(preview)
    assert PREVIEW_MARK in render_csv(preview).decode("utf-8-sig").splitlines()[-1]
    assert PREVIEW_MARK in str(load_workbook(io.BytesIO(render_xlsx(preview)))["指标说明"]["B2"].value)
    final = await build_publication(session, OCTOBER, ZONE, as_of=CUT_OFF)
    assert "预览" not in render_html(final) + render_csv(final).decode("utf-8-sig")
