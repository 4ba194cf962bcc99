"""No public output carries free text: complaints and replies full of personal data (names a redactor
cannot know, plates, WeChat ids, landlines, door numbers, shops) are filed, made the month's typical
cases, and looked for in every public output — the web page and its downloads, the CSV, every cell of
the workbook, the HTML export."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from openpyxl import load_workbook
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from minsheng.settings import Settings
from reports.exports import csv_safe
from reports.publication import Publication, build_publication, render_csv, render_html, render_xlsx
from storage.models import ComplaintStatus, EventAction
from tests.factories import make_deadlines
from tests.publication_support import release_months
from tests.test_reports_figures import CUT_OFF, OCTOBER, ZONE, Factory, build_october, local
from web.app import create_app
from web.publication import CLOCK
from workflow.clock import FixedClock

COMPLAINT = (
    "我是个体户赵德柱，身份证440106198001011234，手机13698765432，座机87654321，微信号zdz_shop88。"
    "我父亲张建军在天河区中山大道西88号华景新城12栋门302住，我们开的德柱烧烤店被城管李卫东扣了车粤B12345，"
    "张伟局长说不归他管。邮箱zhaodezhu@example.com。"
)
REPLY = (
    "已与赵德柱本人沟通，李卫东已作检讨，车辆粤B12345已退还；张建军反映的门302问题已转街道，"
    "联系电话020-87654321，微信zdz_shop88。"
)
#: Everything above that identifies someone, and the two texts themselves in pieces.
PERSONAL = (
    "赵德柱",
    "张建军",
    "李卫东",
    "张伟",
    "440106198001011234",
    "13698765432",
    "87654321",
    "zdz_shop88",
    "粤B12345",
    "B12345",
    "华景新城",
    "中山大道",
    "门302",
    "烧烤店",
    "zhaodezhu",
    "个体户",
    "已作检讨",
    "不归他管",
)
FORMULA = '=HYPERLINK("http://evil.example/x","点此")'


async def file_personal_complaints(session: AsyncSession) -> Factory:
    """October, plus two resolved major complaints full of personal data, one at an agency whose
    catalogue name and area start like formulas."""
    factory = await build_october(session)
    await factory.agency("X", FORMULA, "@SUM(1)")
    citizen = await factory.citizen("赵德柱")
    for key, owner in (("p1", "A"), ("p2", "X")):
        await factory.complaint(
            key,
            owner,
            local(10, 14),
            status=ComplaintStatus.CLOSED,
            major=True,
            citizen=citizen,
            problems=("吃拿卡要",),
            text=COMPLAINT,
            reply_text=REPLY,
            contact_phone="13698765432",
            location_text="天河区中山大道西88号华景新城12栋门302",
            acknowledge_due_at=local(10, 15, 17),
            acknowledged_at=local(10, 14, 15),
            resolve_due_at=local(10, 21, 17),
            resolved_at=local(10, 23),
            closed_at=local(10, 30),
        )
        await factory.event(key, EventAction.ESCALATED, local(10, 22, 9), reason="群众赵德柱多次来电")
        await factory.rating(key, "不满意", local(10, 24))
    await session.commit()
    return factory


def workbook_text(data: bytes) -> str:
    book = load_workbook(io.BytesIO(data))
    return "\n".join(str(cell.value) for sheet in book for row in sheet.iter_rows() for cell in row)


def assert_no_personal_data(text: str, where: str) -> None:
    for secret in PERSONAL:
        assert secret not in text, f"{secret} in {where}"


@pytest.fixture
async def pub(session: AsyncSession) -> Publication:
    await file_personal_complaints(session)
    return await build_publication(session, OCTOBER, ZONE, as_of=CUT_OFF)


def test_the_personal_complaints_are_the_typical_cases_as_facts(pub: Publication) -> None:
    first, second = pub.typical_cases[:2]
    assert (first.agency, second.agency) == ("市住建局", FORMULA)
    assert first.major and first.escalated and first.on_time is False and first.rating == "不满意"
    assert first.problem_types == ["吃拿卡要"]


@pytest.mark.parametrize("render", [render_csv, render_xlsx, render_html])
def test_no_rendering_carries_any_of_the_complaints_text(pub: Publication, render: object) -> None:
    output = render(pub)  # type: ignore[operator]
    if isinstance(output, bytes) and output[:2] == b"PK":
        text = workbook_text(output)
    else:
        text = output.decode("utf-8") if isinstance(output, bytes) else output
    assert_no_personal_data(text, render.__name__)  # type: ignore[attr-defined]


@pytest.fixture
async def client(engine: AsyncEngine, session: AsyncSession, tmp_path: Path) -> AsyncIterator[TestClient]:
    await file_personal_complaints(session)
    settings = Settings(
        database_url=engine.url.render_as_string(hide_password=False),
        web_secret="test-session-key-at-least-32-characters-" + tmp_path.name,
    )
    app = create_app(engine, settings, make_deadlines())
    app[CLOCK] = FixedClock(CUT_OFF)
    async with TestClient(TestServer(app, port=0)) as test_client:
        await release_months(test_client, OCTOBER)
        yield test_client


async def test_no_public_page_or_download_carries_any_of_the_complaints_text(client: TestClient) -> None:
    page = await (await client.get("/publication/2026-10")).text()
    assert "挂牌督办" in page and "督办" in page  # the typical case is there, as facts
    assert_no_personal_data(page, "page")
    assert_no_personal_data(await (await client.get("/publication/")).text(), "index")
    csv_text = (await (await client.get("/publication/2026-10.csv")).read()).decode("utf-8-sig")
    assert_no_personal_data(csv_text, "csv download")
    assert_no_personal_data(workbook_text(await (await client.get("/publication/2026-10.xlsx")).read()), "xlsx")


def test_workbook_text_cells_are_strings_never_formulas(pub: Publication) -> None:
    book = load_workbook(io.BytesIO(render_xlsx(pub)))
    cells = [cell for sheet in book for row in sheet.iter_rows() for cell in row if cell.value == FORMULA]
    assert {cell.parent.title for cell in cells} >= {"各单位情况", "环比", "典型案例"}
    assert all(cell.data_type == "s" for cell in cells)
    area = [cell for row in book["各单位情况"].iter_rows() for cell in row if cell.value == "@SUM(1)"]
    assert area and all(cell.data_type == "s" for cell in area)
    for sheet in book:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)


def test_csv_text_that_would_be_a_formula_gets_an_apostrophe(pub: Publication) -> None:
    rows = list(csv.DictReader(io.StringIO(render_csv(pub).decode("utf-8-sig"))))
    [row] = [row for row in rows if "HYPERLINK" in row["单位"]]
    assert row["单位"] == "'" + FORMULA and row["领域"] == "'@SUM(1)"
    assert row["收到量环比"] == "+1"  # figures are ours, never text: they stay as they are


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@A1", "\tx", "\rx"])
def test_csv_guard_covers_every_formula_start(text: str) -> None:
    assert csv_safe(text) == "'" + text
    assert csv_safe("市" + text) == "市" + text
