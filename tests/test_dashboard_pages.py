"""What the dashboard pages show: home figures, queue filters and paging, the complaint timeline with
highlighted tag evidence, and the oversight actions' outcome messages."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import (
    ActorKind,
    AgencyContact,
    Complaint,
    ComplaintEvent,
    ComplaintStatus,
    ContactRole,
    EventAction,
    WebUser,
)
from tests.test_dashboard_support import NOW, PASSWORD, World, client, csrf_from, log_in, world

__all__ = ["client", "world"]


def tracking_numbers(page: str) -> set[str]:
    return set(re.findall(r'class="no">(\d{8}-\d{4})<', page))


async def test_home_shows_this_months_figures_per_agency(client: TestClient, world: World) -> None:
    await log_in(client, "chief")
    page = await (await client.get("/dashboard/")).text()
    assert "2026年11月投诉情况" in page
    row = re.search(r"<td>市住建局</td><td>(\d+)</td>", page)
    assert row and row.group(1) == "2"
    assert re.search(r"<strong>1</strong>目前超期未办（全部月份）", page)
    assert re.search(r"<strong>1</strong>争议待审定（全部月份）", page)
    # the month is not over: no link to a publication that would be a 404, but when it may be released
    assert 'href="/publication/2026-11"' not in page
    assert "11月尚未公示（2026-12-07 17:30 截止后可由效能办核对发布）" in page


async def test_home_shows_an_earlier_month_picked_and_says_so_for_a_bad_one(
    client: TestClient, world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with session_factory() as session:
        await session.execute(
            update(Complaint).where(Complaint.id == world.complaint_b.id).values(created_at=NOW - timedelta(days=40))
        )
        await session.commit()
    await log_in(client, "chief")
    page = await (await client.get("/dashboard/?month=2026-10")).text()
    assert "2026年10月投诉情况" in page and '<option value="2026-10" selected>' in page
    assert re.search(r"<td>市公安局</td><td>1</td>", page) and "<td>市住建局</td>" not in page
    # past its cut-off, not released: no link to a public page that is a 404 until then, the 发布 button
    assert 'href="/publication/2026-10"' not in page and 'href="/dashboard/months/2026-10/release"' in page
    assert "统计截至 2026-11-06 17:30" in page  # the figures releasing will publish, at its cut-off
    assert re.search(r"<strong>1</strong>目前超期未办", page)  # the open work is not tied to the month
    bad = await client.get("/dashboard/?month=2026-13")
    assert bad.status == 400 and "月份格式不正确" in await bad.text() and "2026年11月投诉情况" in await bad.text()


async def test_agency_viewer_home_counts_only_its_agency(client: TestClient, world: World) -> None:
    await log_in(client, "viewer-a")
    page = await (await client.get("/dashboard/")).text()
    assert "市住建局" in page and "市公安局" not in page
    assert re.search(r"<strong>0</strong>挂牌督办", page)


async def test_queue_filters_by_status_problem_type_overdue_major_and_agency(client: TestClient, world: World) -> None:
    await log_in(client, "chief")
    a, b, anon = world.complaint_a.tracking_no, world.complaint_b.tracking_no, world.complaint_anon.tracking_no

    async def shown(query: str) -> set[str]:
        return tracking_numbers(await (await client.get(f"/dashboard/complaints?{query}")).text())

    assert await shown("") == {a, b, anon}
    assert await shown("status=disputed") == {b}
    assert await shown("problem_type=脸难看") == {a}
    assert await shown("overdue=true") == {a}
    assert await shown("overdue=false") == {b, anon}
    assert await shown("major=true") == {b}
    assert await shown(f"agency={world.agency_a.code}") == {a, anon}
    assert await shown("month=2026-10") == set()
    assert await shown("month=2026-11") == {a, b, anon}


@pytest.mark.parametrize(
    ("query", "message"), [("month=2026-13", "月份格式不正确"), ("status=nonsense", "未知的办理状态")]
)
async def test_a_bad_queue_filter_is_explained_instead_of_showing_everything(
    client: TestClient, world: World, query: str, message: str
) -> None:
    await log_in(client, "chief")
    response = await client.get(f"/dashboard/complaints?{query}&problem_type=脸难看")
    page = await response.text()
    assert response.status == 400 and message in page
    assert tracking_numbers(page) == set()
    assert "<option selected>脸难看</option>" in page  # the rest of the filter is kept in the form


async def test_queue_pages_through_many_complaints(
    client: TestClient, world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with session_factory() as session:
        session.add_all(
            Complaint(
                tracking_no=f"20261101-{n:04d}",
                text=f"第{n}件",
                status=ComplaintStatus.ASSIGNED,
                owner_agency_id=world.agency_b.id,
                created_at=NOW - timedelta(days=10, minutes=n),
            )
            for n in range(1, 31)
        )
        await session.commit()
    await log_in(client, "chief")
    first = await (await client.get("/dashboard/complaints?status=assigned")).text()
    second = await (await client.get("/dashboard/complaints?status=assigned&page=2")).text()
    assert "共 31 件" in first and "第 1 / 2 页" in first and "page=2" in first
    assert len(tracking_numbers(first)) == 25 and len(tracking_numbers(second)) == 6
    assert not tracking_numbers(first) & tracking_numbers(second)


async def test_complaint_page_shows_the_timeline_with_actor_time_move_and_reason(
    client: TestClient, world: World
) -> None:
    await log_in(client, "chief")
    page = await (await client.get(f"/dashboard/complaints/{world.complaint_a.tracking_no}")).text()
    assert "登记" in page and "申请转办" in page
    assert "理由：属于住建职责" in page
    assert "市公安局 → 市住建局" in page
    assert "待受理 → 转办中" in page
    assert "2026-11-18" in page  # local time of the events
    assert "窗口.jpg" in page


async def test_timeline_names_each_actors_own_affiliation_and_the_citizens_rating(
    client: TestClient, world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    a, b = world.agency_a.id, world.agency_b.id
    async with session_factory() as session:
        clerk = AgencyContact(telegram_user_id=5005, agency_id=b, role=ContactRole.CLERK, display_name="李四")
        session.add(clerk)
        await session.flush()
        chief = await session.scalar(select(WebUser).where(WebUser.username == "chief"))
        base = dict(complaint_id=world.complaint_a.id, at=NOW, agency_id=a)
        session.add_all(
            [
                ComplaintEvent(
                    **base,
                    action=EventAction.TRANSFER_DECLINED,
                    actor_kind=ActorKind.CONTACT,
                    actor_id=clerk.id,
                    from_agency_id=b,
                    to_agency_id=a,
                ),
                ComplaintEvent(
                    **base,
                    action=EventAction.ACCEPTED,
                    actor_kind=ActorKind.SYSTEM,
                    from_agency_id=a,
                    to_agency_id=a,
                ),
                ComplaintEvent(**base, action=EventAction.MAJOR_SET, actor_kind=ActorKind.WEB_USER, actor_id=chief.id),
                ComplaintEvent(
                    **base,
                    action=EventAction.RATED,
                    actor_kind=ActorKind.CITIZEN,
                    actor_id=1,
                    reason="答复敷衍，问题没解决",
                    data={"rating": "不满意", "round": 1},
                ),
            ]
        )
        await session.commit()
    await log_in(client, "chief")
    page = await (await client.get(f"/dashboard/complaints/{world.complaint_a.tracking_no}")).text()
    actors = re.findall(r'<div class="actor">([^<]*)</div>', page)
    assert "承办单位联系人：李四（市公安局）" in actors
    assert "管理平台用户：chief（效能办）" in actors
    assert "群众" in actors and not any("群众（" in actor for actor in actors)
    assert "市住建局 → 市住建局" not in page  # 受理 without a change of agency shows no move
    assert "评价：<strong>不满意</strong>" in page and "群众意见：答复敷衍，问题没解决" in page


async def test_complaint_page_says_a_closure_after_the_rating_window_was_unrated(
    client: TestClient, world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with session_factory() as session:
        await session.execute(
            update(Complaint).where(Complaint.id == world.complaint_a.id).values(status=ComplaintStatus.CLOSED)
        )
        session.add(
            ComplaintEvent(
                complaint_id=world.complaint_a.id,
                at=NOW,
                action=EventAction.CLOSED,
                actor_kind=ActorKind.SYSTEM,
                from_status=ComplaintStatus.RESOLVED,
                to_status=ComplaintStatus.CLOSED,
                data={"unrated": True, "cause": "rating_window_passed"},
            )
        )
        await session.commit()
    await log_in(client, "chief")
    page = await (await client.get(f"/dashboard/complaints/{world.complaint_a.tracking_no}")).text()
    assert "已办结待评价 → 已结案" in page
    assert "评价期限已过，群众未评价（未评价结案）" in page


async def test_tag_evidence_is_highlighted_at_its_offsets(client: TestClient, world: World) -> None:
    await log_in(client, "chief")
    page = await (await client.get(f"/dashboard/complaints/{world.complaint_a.tracking_no}")).text()
    marks = dict(re.findall(r'<mark class="ev ev-problem_type" title="问题类型：([^"]+)">([^<]+)</mark>', page))
    assert marks == {"事难办": "跑了好几趟", "脸难看": "态度恶劣"}


async def post_action(client: TestClient, tracking_no: str, action: str, **fields: str):
    token = await csrf_from(client, f"/dashboard/complaints/{tracking_no}")
    return await client.post(
        f"/dashboard/complaints/{tracking_no}/{action}", data={"csrf_token": token, **fields}, allow_redirects=False
    )


async def test_oversight_flags_a_major_complaint_and_the_timeline_records_it(client: TestClient, world: World) -> None:
    await log_in(client, "chief")
    tracking_no = world.complaint_a.tracking_no
    response = await post_action(client, tracking_no, "major", op="set", reason="群众反映强烈")
    assert response.status == 303 and response.headers["Location"].endswith("?done=major_set")
    page = await (await client.get(response.headers["Location"])).text()
    assert "已挂牌督办。" in page
    assert "挂牌督办</strong>" in page and "理由：群众反映强烈" in page and "管理平台用户：chief" in page
    cleared = await post_action(client, tracking_no, "major", op="clear", reason="已整改到位")
    assert cleared.headers["Location"].endswith("?done=major_cleared")


async def test_refused_action_shows_the_domain_error_in_chinese(client: TestClient, world: World) -> None:
    await log_in(client, "chief")
    already = await post_action(client, world.complaint_b.tracking_no, "major", op="set", reason="重复挂牌")
    assert already.status == 400 and "该投诉已挂牌督办。" in await already.text()
    no_reason = await post_action(client, world.complaint_a.tracking_no, "major", op="set", reason=" ")
    assert no_reason.status == 400 and "请填写理由。" in await no_reason.text()
    nothing = await post_action(client, world.complaint_a.tracking_no, "extension", decision="approve")
    assert nothing.status in (400, 409) and "没有待审批的延期申请。" in await nothing.text()


async def test_a_closed_complaint_offers_only_the_actions_its_state_allows(
    client: TestClient, world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with session_factory() as session:
        for complaint, major in ((world.complaint_a, False), (world.complaint_b, True)):
            await session.execute(
                update(Complaint).where(Complaint.id == complaint.id).values(status=ComplaintStatus.CLOSED, major=major)
            )
        await session.commit()
    await log_in(client, "chief")
    closed = await (await client.get(f"/dashboard/complaints/{world.complaint_a.tracking_no}")).text()
    assert "/major" not in closed and "/rule-dispute" not in closed and "无可办理的效能办操作" in closed
    closed_major = await (await client.get(f"/dashboard/complaints/{world.complaint_b.tracking_no}")).text()
    assert "/major" in closed_major and 'value="clear"' in closed_major  # 消号 may follow closure
    assert "/rule-dispute" not in closed_major


async def test_a_refused_action_keeps_the_typed_reason_in_the_form(
    client: TestClient, world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    await log_in(client, "chief")
    token = await csrf_from(client, f"/dashboard/complaints/{world.complaint_a.tracking_no}")
    async with session_factory() as session:  # closed by someone else while the officer was typing
        await session.execute(
            update(Complaint).where(Complaint.id == world.complaint_a.id).values(status=ComplaintStatus.CLOSED)
        )
        await session.commit()
    response = await client.post(
        f"/dashboard/complaints/{world.complaint_a.tracking_no}/major",
        data={"csrf_token": token, "op": "set", "reason": "群众多次反映，影响恶劣"},
    )
    page = await response.text()
    assert response.status == 409 and "投诉当前状态不允许此操作。" in page
    assert re.search(r"<textarea name=\"reason\" required>群众多次反映，影响恶劣</textarea>", page)


async def test_ruling_a_dispute_names_the_owner_who_then_sees_it(client: TestClient, world: World) -> None:
    await log_in(client, "chief")
    tracking_no = world.complaint_b.tracking_no
    response = await post_action(
        client, tracking_no, "rule-dispute", agency=world.agency_a.code, reason="路灯维护属住建职责"
    )
    assert response.status == 303
    page = await (await client.get(response.headers["Location"])).text()
    assert "已审定承办单位。" in page and "效能办审定" in page and "市公安局 → 市住建局" in page
    client.session.cookie_jar.clear()
    await log_in(client, "viewer-a")
    assert (await client.get(f"/dashboard/complaints/{tracking_no}")).status == 200


async def test_action_post_without_csrf_token_changes_nothing(client: TestClient, world: World) -> None:
    await log_in(client, "chief")
    response = await client.post(
        f"/dashboard/complaints/{world.complaint_a.tracking_no}/major", data={"op": "set", "reason": "x"}
    )
    assert response.status == 403
    assert "页面已过期" in await response.text()


async def test_queue_shows_remaining_working_time_of_open_complaints(
    client: TestClient, world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with session_factory() as session:
        await session.execute(
            update(Complaint)
            .where(Complaint.id == world.complaint_anon.id)
            .values(acknowledge_due_at=NOW + timedelta(days=3))
        )
        await session.commit()
    await log_in(client, "chief")
    page = await (await client.get("/dashboard/complaints")).text()
    rows = {number: row for row in page.split("<li") for number in tracking_numbers("<li" + row)}
    assert "已超" in rows[world.complaint_a.tracking_no]  # resolve deadline passed an hour ago
    assert "剩余" in rows[world.complaint_anon.tracking_no]  # acknowledgement due in three days
    assert "工作小时" not in rows[world.complaint_b.tracking_no]  # disputed: no clock running for it


async def test_overdue_list_is_most_overdue_first_in_working_days(
    client: TestClient, world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with session_factory() as session:
        session.add_all(
            Complaint(
                tracking_no=f"20261102-000{n}",
                text="久拖不办",
                status=ComplaintStatus.ACCEPTED,
                owner_agency_id=world.agency_b.id,
                created_at=NOW - timedelta(days=20 - n),
                resolve_due_at=NOW - timedelta(days=days),
            )
            for n, days in ((1, 3), (2, 14), (3, 7))
        )
        await session.commit()
    await log_in(client, "chief")
    page = await (await client.get("/dashboard/complaints?overdue=true")).text()
    order = re.findall(r'class="no">(\d{8}-\d{4})<', page)
    assert order == ["20261102-0002", "20261102-0003", "20261102-0001", world.complaint_a.tracking_no]
    rows = {number: row for row in page.split("<li") for number in tracking_numbers("<li" + row)}
    assert re.search(r"已超 \d+ 个工作日", rows["20261102-0002"])
    assert re.search(r"已超 \d\.\d 工作小时", rows[world.complaint_a.tracking_no])  # an hour: under a day


async def test_due_soon_filter_lists_complaints_in_their_warning_band(
    client: TestClient, world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with session_factory() as session:
        session.add_all(
            Complaint(
                tracking_no=f"20261103-000{n}",
                text="办理中",
                status=ComplaintStatus.ACCEPTED,
                owner_agency_id=world.agency_b.id,
                created_at=NOW - timedelta(days=5),
                resolve_due_at=NOW + due,
            )
            for n, due in ((1, timedelta(hours=2)), (2, timedelta(days=10)))
        )
        await session.commit()
    await log_in(client, "chief")
    page = await (await client.get("/dashboard/complaints?due_soon=true")).text()
    assert tracking_numbers(page) == {"20261103-0001"}  # not the overdue one, not the one due in ten days
    assert '<option value="true" selected>仅临期</option>' in page and "临期</span>" in page


async def test_oversight_home_lists_decisions_waiting_for_it(client: TestClient, world: World) -> None:
    await log_in(client, "chief")
    page = await (await client.get("/dashboard/")).text()
    assert "待效能办决定" in page and "转办争议" in page and "不属于本单位职责" in page
    assert f'href="/dashboard/complaints/{world.complaint_b.tracking_no}"' in page
    client.session.cookie_jar.clear()
    await log_in(client, "viewer-a")
    assert "待效能办决定" not in await (await client.get("/dashboard/")).text()


async def test_a_page_past_the_last_goes_to_the_last(client: TestClient, world: World) -> None:
    await log_in(client, "chief")
    response = await client.get("/dashboard/complaints?status=accepted&page=99", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/dashboard/complaints?status=accepted"


@pytest.mark.parametrize("month", ["0000-01", "0001-01", "1999-12", "9999-12", "2100-01"])
async def test_home_says_a_month_outside_the_supported_years_is_bad_not_a_crash(
    client: TestClient, world: World, month: str
) -> None:
    """One month parser for the API, the dashboard and the public pages: 2000-01 to 2099-12."""
    await log_in(client, "chief")
    response = await client.get(f"/dashboard/?month={month}")
    page = await response.text()
    assert response.status == 400 and "月份格式不正确" in page and "2026年11月投诉情况" in page


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("month=0000-01", "月份格式不正确"),
        ("month=0001-01", "月份格式不正确"),
        ("month=9999-12", "月份格式不正确"),
        ("agency=%00", "筛选条件不正确"),
        ("agency=City-Police", "筛选条件不正确"),
        ("page=99999999999999999999999", "页码应为正整数"),
        ("page=2147483648", "页码应为正整数"),
    ],
)
async def test_an_odd_queue_filter_is_explained_not_a_crash(
    client: TestClient, world: World, query: str, message: str
) -> None:
    await log_in(client, "chief")
    response = await client.get(f"/dashboard/complaints?{query}")
    page = await response.text()
    assert response.status == 400 and message in page and tracking_numbers(page) == set()


@pytest.mark.parametrize(
    "path",
    [
        "/dashboard/complaints/20261118-0001%00",
        "/dashboard/complaints/%00",
        "/dashboard/complaints/20261118-0001%00/files/1",
        "/dashboard/complaints/20261118-0001/files/99999999999999999999",
    ],
)
async def test_a_tracking_number_or_file_of_another_shape_is_not_found(
    client: TestClient, world: World, path: str
) -> None:
    """PostgreSQL refuses a NUL (or a number past its integers) in a parameter: not found, never a 500."""
    await log_in(client, "chief")
    response = await client.get(path)
    assert response.status == 404 and "未找到" in await response.text()


async def test_an_action_on_a_tracking_number_of_another_shape_is_not_found(client: TestClient, world: World) -> None:
    await log_in(client, "chief")
    token = await csrf_from(client, "/dashboard/")
    response = await client.post(
        "/dashboard/complaints/20261118-0001%00/major", data={"csrf_token": token, "major": "1"}, allow_redirects=False
    )
    assert response.status == 404


@pytest.mark.parametrize(
    "path", ["/dashboard/", "/dashboard/complaints", "/dashboard/complaints/nothing", "/dashboard/login"]
)
async def test_dashboard_pages_are_never_stored_by_caches(client: TestClient, world: World, path: str) -> None:
    """They carry citizens' words and contact details."""
    await log_in(client, "chief")
    response = await client.get(path, allow_redirects=False)
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(("username", "target"), [("chief\x00", "/dashboard/"), ("chief", "/dashboard/\x00")])
async def test_a_nul_in_the_login_form_is_no_crash(
    client: TestClient, world: World, username: str, target: str
) -> None:
    """PostgreSQL refuses a NUL in a parameter and no header may carry one: a failed login or home."""
    token = await csrf_from(client, "/dashboard/login")
    password = PASSWORD if username == "chief" else "wrong"
    form = {"username": username, "password": password, "csrf_token": token, "next": target}
    response = await client.post("/dashboard/login", data=form, allow_redirects=False)
    assert response.status in (303, 401)
    if response.status == 303:
        assert response.headers["Location"] == "/dashboard/"
