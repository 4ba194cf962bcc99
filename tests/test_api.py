"""The JSON API: bearer tokens, agency scoping, filters, one complaint with events, monthly figures,
and the OpenAPI document matching the routes the application really serves."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import yaml
from aiohttp.test_utils import TestClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import ApiToken, Complaint
from tests.test_dashboard_access import hand_over, receiver_logins
from tests.test_dashboard_support import World, client, world
from web.api import OPENAPI

__all__ = ["client", "world"]

API_ROUTES = ["/api/v1/complaints", "/api/v1/complaints/20261118-0001", "/api/v1/figures/2026-11"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("path", API_ROUTES)
@pytest.mark.parametrize("header", [None, "Bearer msk_not_a_real_token", "Basic Y2hpZWY6cHc="])
async def test_every_route_refuses_a_missing_or_unknown_token(
    client: TestClient, world: World, path: str, header: str | None
) -> None:
    response = await client.get(path, headers={"Authorization": header} if header else {})
    assert response.status == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert (await response.json())["error"] == "unauthorized"


async def test_revoked_token_is_refused(
    client: TestClient, world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with session_factory() as session:
        await session.execute(update(ApiToken).where(ApiToken.name == "oversight").values(revoked_at=datetime.now(UTC)))
        await session.commit()
    response = await client.get("/api/v1/complaints", headers=bearer(world.tokens["oversight"]))
    assert response.status == 401


async def test_oversight_token_lists_every_complaint_and_filters(client: TestClient, world: World) -> None:
    async def numbers(query: str = "") -> set[str]:
        response = await client.get(f"/api/v1/complaints?{query}", headers=bearer(world.tokens["oversight"]))
        assert response.status == 200
        return {item["tracking_no"] for item in (await response.json())["items"]}

    a, b, anon = world.complaint_a.tracking_no, world.complaint_b.tracking_no, world.complaint_anon.tracking_no
    assert await numbers() == {a, b, anon}
    assert await numbers("status=disputed") == {b}
    assert await numbers("problem_type=事难办") == {a}
    assert await numbers("overdue=true") == {a}
    assert await numbers("major=false") == {a, anon}
    assert await numbers(f"agency={world.agency_b.code}") == {b}
    assert await numbers("month=2026-11") == {a, b, anon}
    assert await numbers("month=2026-12") == set()


async def test_list_reports_total_and_pages(client: TestClient, world: World) -> None:
    response = await client.get("/api/v1/complaints?per_page=2&page=2", headers=bearer(world.tokens["oversight"]))
    body = await response.json()
    assert body["total"] == 3 and body["page"] == 2 and body["per_page"] == 2 and len(body["items"]) == 1


@pytest.mark.parametrize("query", ["status=lost", "problem_type=不存在", "month=2026-13", "overdue=maybe", "page=x"])
async def test_bad_filter_is_a_400_naming_the_parameter(client: TestClient, world: World, query: str) -> None:
    response = await client.get(f"/api/v1/complaints?{query}", headers=bearer(world.tokens["oversight"]))
    assert response.status == 400
    assert (await response.json())["message"].startswith(query.split("=")[0])


async def test_agency_token_sees_only_its_agency_whatever_the_filter(client: TestClient, world: World) -> None:
    headers = bearer(world.tokens["agency_a"])
    own = await (await client.get("/api/v1/complaints", headers=headers)).json()
    assert {item["tracking_no"] for item in own["items"]} == {
        world.complaint_a.tracking_no,
        world.complaint_anon.tracking_no,
    }
    other = await (await client.get(f"/api/v1/complaints?agency={world.agency_b.code}", headers=headers)).json()
    assert other["items"] == [] and other["total"] == 0


async def test_agency_token_gets_404_for_another_agencys_complaint(client: TestClient, world: World) -> None:
    headers = bearer(world.tokens["agency_a"])
    other = await client.get(f"/api/v1/complaints/{world.complaint_b.tracking_no}", headers=headers)
    missing = await client.get("/api/v1/complaints/20990101-0001", headers=headers)
    assert other.status == missing.status == 404
    assert await other.json() == await missing.json()


async def test_complaint_detail_carries_events_attachments_and_personal_data_for_oversight(
    client: TestClient, world: World
) -> None:
    response = await client.get(
        f"/api/v1/complaints/{world.complaint_a.tracking_no}", headers=bearer(world.tokens["oversight"])
    )
    body = await response.json()
    assert body["status"] == "accepted" and body["overdue"] is True
    assert body["owner_agency"] == {"code": world.agency_a.code, "name": "市住建局"}
    assert [event["action"] for event in body["events"]] == ["registered", "transfer_requested"]
    moved = body["events"][1]
    assert moved["from_agency"]["code"] == world.agency_b.code and moved["reason"] == "属于住建职责"
    assert body["attachments"][0]["file_name"] == "窗口.jpg"
    assert body["citizen"] == {"display_name": "张三丰", "contact_phone": "13812345678"}
    assert "13812345678" in body["text"]
    assert {(e["value"], body["text"][e["start"] : e["end"]]) for e in body["evidence"]} >= {("事难办", "跑了好几趟")}


async def test_agency_token_never_gets_personal_data(client: TestClient, world: World) -> None:
    response = await client.get(
        f"/api/v1/complaints/{world.complaint_a.tracking_no}", headers=bearer(world.tokens["agency_a"])
    )
    body = await response.json()
    assert body["citizen"] is None
    assert "13812345678" not in body["text"] and "138****5678" in body["text"]


async def test_anonymous_complaint_has_no_citizen_even_for_oversight(client: TestClient, world: World) -> None:
    response = await client.get(
        f"/api/v1/complaints/{world.complaint_anon.tracking_no}", headers=bearer(world.tokens["oversight"])
    )
    assert (await response.json())["citizen"] is None


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
    for token in ("oversight", "agency_a"):
        response = await client.get(
            f"/api/v1/complaints/{world.complaint_anon.tracking_no}", headers=bearer(world.tokens[token])
        )
        body = await response.json()
        assert "13688889999" not in body["text"] and "136****9999" in body["text"]
        assert "13677776666" not in body["reply_text"] and "136****6666" in body["reply_text"]


async def test_first_contact_token_gets_a_summary_once_the_receiver_accepted(
    client: TestClient, world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    await hand_over(session_factory, world, accepted=True)
    headers = bearer(world.tokens["agency_a"])
    listed = await (await client.get("/api/v1/complaints", headers=headers)).json()
    assert world.complaint_a.tracking_no in {item["tracking_no"] for item in listed["items"]}
    response = await client.get(f"/api/v1/complaints/{world.complaint_a.tracking_no}", headers=headers)
    assert response.status == 200
    body = await response.json()
    assert body["summary_only"] is True
    assert body["owner_agency"]["code"] == world.agency_b.code and set(body["problem_types"]) == {"事难办", "脸难看"}
    assert body["text"] is None and body["location_text"] is None and body["citizen"] is None
    assert body["attachments"] == [] and {event["reason"] for event in body["events"]} == {None}


async def test_first_contact_token_gets_everything_while_the_transfer_is_pending(
    client: TestClient, world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    await hand_over(session_factory, world, accepted=False)
    response = await client.get(
        f"/api/v1/complaints/{world.complaint_a.tracking_no}", headers=bearer(world.tokens["agency_a"])
    )
    body = await response.json()
    assert body["summary_only"] is False and body["location_text"] == "人民路88号"
    assert "138****5678" in body["text"] and body["attachments"][0]["file_name"] == "窗口.jpg"
    assert body["events"][1]["reason"] == "属于住建职责"


async def test_monthly_figures_count_by_agency_and_scope_agency_tokens(client: TestClient, world: World) -> None:
    everything = await (await client.get("/api/v1/figures/2026-11", headers=bearer(world.tokens["oversight"]))).json()
    assert everything["month"] == "2026-11" and everything["total"]["received"] == 3
    by_code = {row["agency"]["code"]: row for row in everything["agencies"]}
    assert by_code[world.agency_a.code]["received"] == 2 and by_code[world.agency_b.code]["received"] == 1
    own = await (await client.get("/api/v1/figures/2026-11", headers=bearer(world.tokens["agency_a"]))).json()
    assert [row["agency"]["code"] for row in own["agencies"]] == [world.agency_a.code]
    assert own["total"]["received"] == 2
    bad = await client.get("/api/v1/figures/2026-1", headers=bearer(world.tokens["oversight"]))
    assert bad.status == 400


async def test_openapi_document_is_served_and_lists_every_api_route(client: TestClient, world: World) -> None:
    response = await client.get("/api/v1/openapi.yaml")
    assert response.status == 200
    document = yaml.safe_load(await response.text())
    assert document == yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))
    served = {
        route.resource.canonical
        for route in client.app.router.routes()
        if route.resource is not None and route.resource.canonical.startswith("/api/") and route.method == "GET"
    }
    assert served == set(document["paths"])


async def test_receiver_token_gets_the_masked_text_but_not_the_citizen_while_the_transfer_is_pending(
    client: TestClient, world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    await hand_over(session_factory, world, accepted=False)
    headers = bearer(await receiver_logins(session_factory, world))
    listed = await (await client.get("/api/v1/complaints", headers=headers)).json()
    assert world.complaint_a.tracking_no in {item["tracking_no"] for item in listed["items"]}
    body = await (await client.get(f"/api/v1/complaints/{world.complaint_a.tracking_no}", headers=headers)).json()
    assert body["view"] == "text" and body["summary_only"] is False
    assert "窗口工作人员" in body["text"] and "138****5678" in body["text"] and "13812345678" not in body["text"]
    assert body["location_text"] is None and body["attachments"] == [] and body["citizen"] is None
    assert body["events"][1]["reason"] == "属于住建职责"
    await hand_over(session_factory, world, accepted=True)
    body = await (await client.get(f"/api/v1/complaints/{world.complaint_a.tracking_no}", headers=headers)).json()
    assert body["view"] == "full" and body["location_text"] == "人民路88号"
    assert body["attachments"][0]["file_name"] == "窗口.jpg"
