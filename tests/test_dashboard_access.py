"""Who may see what on the dashboard: every page and action, for anonymous visitors, agency viewers
and oversight; an agency viewer cannot reach another agency's complaint by editing the URL."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import (
    ApiToken,
    Attachment,
    Complaint,
    ComplaintEvent,
    ComplaintStatus,
    EventAction,
    WebRole,
    WebUser,
)
from tests.test_dashboard_files import files, sandbox
from tests.test_dashboard_files import url as file_url
from tests.test_dashboard_support import PASSWORD, World, client, csrf_from, log_in, world
from web.auth import api_token_hash, hash_password

__all__ = ["client", "files", "sandbox", "world"]

PAGES = ["/dashboard/", "/dashboard/complaints", "/dashboard/complaints/20261118-0001"]
ACTIONS = ["rule-dispute", "extension", "major"]


@pytest.mark.parametrize("path", PAGES)
async def test_anonymous_visitor_is_sent_to_login_from_every_page(client: TestClient, world: World, path: str) -> None:
    response = await client.get(path, allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"].startswith("/dashboard/login?next=")


@pytest.mark.parametrize("action", ACTIONS)
async def test_anonymous_visitor_cannot_post_an_action(client: TestClient, world: World, action: str) -> None:
    token = await csrf_from(client, "/dashboard/login")
    response = await client.post(
        f"/dashboard/complaints/20261119-0001/{action}", data={"csrf_token": token}, allow_redirects=False
    )
    assert response.status == 303 and response.headers["Location"].startswith("/dashboard/login")


async def test_agency_viewer_sees_only_own_agency_complaints_in_the_queue(client: TestClient, world: World) -> None:
    await log_in(client, "viewer-a")
    page = await (await client.get("/dashboard/complaints")).text()
    assert world.complaint_a.tracking_no in page and world.complaint_anon.tracking_no in page
    assert world.complaint_b.tracking_no not in page
    forced = await (await client.get(f"/dashboard/complaints?agency={world.agency_b.code}")).text()
    assert world.complaint_b.tracking_no not in forced and world.complaint_a.tracking_no in forced


async def test_agency_viewer_gets_404_for_another_agencys_complaint_like_a_missing_one(
    client: TestClient, world: World
) -> None:
    await log_in(client, "viewer-a")
    other = await client.get(f"/dashboard/complaints/{world.complaint_b.tracking_no}")
    missing = await client.get("/dashboard/complaints/20990101-9999")
    assert other.status == missing.status == 404
    assert world.complaint_b.text not in await other.text()
    assert (await client.get(f"/dashboard/complaints/{world.complaint_a.tracking_no}")).status == 200


@pytest.mark.parametrize("action", ACTIONS)
async def test_agency_viewer_is_forbidden_every_oversight_action(client: TestClient, world: World, action: str) -> None:
    await log_in(client, "viewer-a")
    token = await csrf_from(client, f"/dashboard/complaints/{world.complaint_a.tracking_no}")
    for complaint in (world.complaint_a, world.complaint_b):
        response = await client.post(
            f"/dashboard/complaints/{complaint.tracking_no}/{action}",
            data={"csrf_token": token, "reason": "试图操作", "agency": world.agency_a.code, "decision": "approve"},
            allow_redirects=False,
        )
        assert response.status == 403
        assert "无权" in await response.text()


async def test_agency_viewer_page_has_no_action_forms(client: TestClient, world: World) -> None:
    await log_in(client, "viewer-a")
    page = await (await client.get(f"/dashboard/complaints/{world.complaint_a.tracking_no}")).text()
    assert "效能办操作" not in page and "/major" not in page


async def test_oversight_sees_every_agency_and_the_action_forms(client: TestClient, world: World) -> None:
    await log_in(client, "chief")
    page = await (await client.get("/dashboard/complaints")).text()
    for complaint in (world.complaint_a, world.complaint_b, world.complaint_anon):
        assert complaint.tracking_no in page
    detail = await (await client.get(f"/dashboard/complaints/{world.complaint_b.tracking_no}")).text()
    assert "审定承办单位" in detail and "/rule-dispute" in detail and "消号" in detail


async def test_personal_data_is_shown_only_to_oversight(client: TestClient, world: World) -> None:
    await log_in(client, "viewer-a")
    viewer_page = await (await client.get(f"/dashboard/complaints/{world.complaint_a.tracking_no}")).text()
    assert "13812345678" not in viewer_page and "张三丰" not in viewer_page
    assert "138****5678" in viewer_page  # masked in the text, not deleted
    client.session.cookie_jar.clear()
    await log_in(client, "chief")
    chief_page = await (await client.get(f"/dashboard/complaints/{world.complaint_a.tracking_no}")).text()
    assert "13812345678" in chief_page and "张三丰" in chief_page


@pytest.mark.parametrize("username", ["viewer-a", "chief"])
async def test_queue_excerpts_mask_phone_and_id_numbers_for_every_viewer(
    client: TestClient, world: World, session_factory: async_sessionmaker[AsyncSession], username: str
) -> None:
    async with session_factory() as session:
        await session.execute(
            update(Complaint)
            .where(Complaint.id == world.complaint_anon.id)
            .values(text="乱收费。联系人王老板13822223333，身份证110101199003071234。")
        )
        await session.commit()
    await log_in(client, username)
    page = await (await client.get("/dashboard/complaints")).text()
    assert "13822223333" not in page and "110101199003071234" not in page and "13812345678" not in page
    assert "138****3333" in page and "[身份证号]" in page and "138****5678" in page


async def test_anonymous_complaint_never_shows_the_citizen_even_to_oversight(client: TestClient, world: World) -> None:
    await log_in(client, "chief")
    page = await (await client.get(f"/dashboard/complaints/{world.complaint_anon.tracking_no}")).text()
    assert "匿名投诉" in page
    assert "张三丰" not in page and "13900001111" not in page


async def test_anonymous_complaint_text_is_masked_even_for_oversight(
    client: TestClient, world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with session_factory() as session:
        await session.execute(
            update(Complaint)
            .where(Complaint.id == world.complaint_anon.id)
            .values(text="我叫黄晓明，电话13688889999。", reply_text="已联系黄晓明本人（电话13677776666）。")
        )
        await session.commit()
    await log_in(client, "chief")
    page = await (await client.get(f"/dashboard/complaints/{world.complaint_anon.tracking_no}")).text()
    assert "13688889999" not in page and "136****9999" in page
    # the clerk's reply can name the citizen as well as the complaint can
    assert "答复" in page and "13677776666" not in page and "136****6666" in page


@pytest.mark.parametrize("anonymous", [True, False])
async def test_the_office_reads_a_dispute_basis_as_the_bot_shows_it(
    client: TestClient, world: World, session_factory: async_sessionmaker[AsyncSession], anonymous: bool
) -> None:
    """The 退回 basis of a disputed complaint on its page: masked when it is anonymous, as written when it
    is not (the office handles it), as the office's bot shows it. 待效能办决定 is a list: its excerpt is
    masked for every reader."""
    basis = "已电话13688889999联系群众，不属本单位职责"
    async with session_factory() as session:
        await session.execute(update(Complaint).where(Complaint.id == world.complaint_b.id).values(anonymous=anonymous))
        await session.execute(
            update(ComplaintEvent)
            .where(
                ComplaintEvent.complaint_id == world.complaint_b.id,
                ComplaintEvent.action == EventAction.TRANSFER_DECLINED,
            )
            .values(reason=basis)
        )
        await session.commit()
    await log_in(client, "chief")
    page = await (await client.get(f"/dashboard/complaints/{world.complaint_b.tracking_no}")).text()
    assert "不属本单位职责" in page
    assert ("13688889999" in page) is not anonymous and ("136****9999" in page) is anonymous
    home = await (await client.get("/dashboard/")).text()
    assert "不属本单位职责" in home and "13688889999" not in home and "136****9999" in home


async def test_pages_carry_security_headers_and_are_not_cached(client: TestClient, world: World) -> None:
    await log_in(client, "chief")
    response = await client.get("/dashboard/complaints")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"


async def hand_over(session_factory: async_sessionmaker[AsyncSession], world: World, *, accepted: bool) -> None:
    """Complaint A, first received by agency A, transferred to agency B: still pending, or accepted."""
    owner = world.agency_b.id if accepted else world.agency_a.id
    async with session_factory() as session:
        await session.execute(
            update(Complaint)
            .where(Complaint.id == world.complaint_a.id)
            .values(
                status=ComplaintStatus.ACCEPTED if accepted else ComplaintStatus.TRANSFERRING,
                owner_agency_id=owner,
                transfer_to_agency_id=None if accepted else world.agency_b.id,
                location_text="人民路88号",
            )
        )
        await session.commit()


async def test_first_contact_agency_sees_only_a_summary_once_the_receiver_accepted(
    client: TestClient, world: World, session_factory: async_sessionmaker[AsyncSession], files: dict[str, Attachment]
) -> None:
    await hand_over(session_factory, world, accepted=True)
    await log_in(client, "viewer-a")
    response = await client.get(f"/dashboard/complaints/{world.complaint_a.tracking_no}")
    assert response.status == 200
    page = await response.text()
    assert "仅可查看摘要" in page and "市公安局" in page and "事难办" in page
    for private in ("窗口工作人员", "138****5678", "13812345678", "张三丰", "人民路88号", "窗口.jpg", "/files/"):
        assert private not in page
    assert (await client.get(file_url(world, files["photo"]))).status == 404


async def test_first_contact_agency_sees_everything_while_the_transfer_is_pending(
    client: TestClient, world: World, session_factory: async_sessionmaker[AsyncSession], files: dict[str, Attachment]
) -> None:
    await hand_over(session_factory, world, accepted=False)
    await log_in(client, "viewer-a")
    page = await (await client.get(f"/dashboard/complaints/{world.complaint_a.tracking_no}")).text()
    assert "仅可查看摘要" not in page
    for shown in ("窗口工作人员", "138****5678", "人民路88号", "窗口.jpg", file_url(world, files["photo"])):
        assert shown in page
    assert "张三丰" not in page  # the citizen's name stays oversight's
    assert (await client.get(file_url(world, files["photo"]))).status == 200


async def receiver_logins(session_factory: async_sessionmaker[AsyncSession], world: World) -> str:
    """A dashboard user ("viewer-b") and an API token of agency B, the receiver in ``hand_over``; the token."""
    token = "msk_test_agency_b_token_value"
    async with session_factory() as session:
        session.add_all(
            [
                WebUser(
                    username="viewer-b",
                    password_hash=hash_password(PASSWORD),
                    role=WebRole.AGENCY_VIEWER,
                    agency_id=world.agency_b.id,
                ),
                ApiToken(
                    name="agency_b",
                    token_hash=api_token_hash(token),
                    role=WebRole.AGENCY_VIEWER,
                    agency_id=world.agency_b.id,
                ),
            ]
        )
        await session.commit()
    return token


async def test_an_agency_viewer_lists_what_it_may_see_incoming_transfers_and_handed_over_ones_included(
    client: TestClient, world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    """As the API lists them: a transfer waiting for B's 受理 is in B's list; once B accepted, A (the first
    contact) still lists it, and opening it shows the summary only."""
    await hand_over(session_factory, world, accepted=False)
    await receiver_logins(session_factory, world)
    await log_in(client, "viewer-b")
    assert world.complaint_a.tracking_no in await (await client.get("/dashboard/complaints")).text()
    await hand_over(session_factory, world, accepted=True)
    await log_in(client, "viewer-a")
    listed = await (await client.get("/dashboard/complaints")).text()
    assert world.complaint_a.tracking_no in listed and world.complaint_b.tracking_no not in listed


async def test_the_receiver_of_a_pending_transfer_reads_the_masked_text_without_the_citizen(
    client: TestClient, world: World, session_factory: async_sessionmaker[AsyncSession], files: dict[str, Attachment]
) -> None:
    """首问负责: agency B judges from the words whether the complaint is its own; who wrote it, where, and
    the files wait until it accepts."""
    await hand_over(session_factory, world, accepted=False)
    await receiver_logins(session_factory, world)
    await log_in(client, "viewer-b")
    page = await (await client.get(f"/dashboard/complaints/{world.complaint_a.tracking_no}")).text()
    assert "窗口工作人员" in page and "138****5678" in page and "受理后" in page
    for private in ("13812345678", "张三丰", "人民路88号", "窗口.jpg", "/files/"):
        assert private not in page
    assert (await client.get(file_url(world, files["photo"]))).status == 404

    await hand_over(session_factory, world, accepted=True)
    page = await (await client.get(f"/dashboard/complaints/{world.complaint_a.tracking_no}")).text()
    assert "人民路88号" in page and "窗口.jpg" in page
    assert (await client.get(file_url(world, files["photo"]))).status == 200
