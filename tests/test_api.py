"""The JSON API: bearer tokens, agency scoping, filters, one complaint with events, monthly figures,
and the OpenAPI document matching the routes the application really serves."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime

import pytest
import yaml
from aiohttp.test_utils import TestClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.catalogue import CODE_PATTERN
from storage.models import ActorKind, ApiToken, Complaint, ComplaintStatus, EventAction, Priority
from storage.vocabulary import PROBLEM_TYPES
from tests.test_dashboard_access import hand_over, receiver_logins
from tests.test_dashboard_support import World, client, world
from web.api import OPENAPI

__all__ = ["client", "world"]

#: With a bad parameter too: who asks is checked first, so a caller without a token learns nothing.
API_ROUTES = [
    "/api/v1/complaints",
    "/api/v1/complaints?per_page=0",
    "/api/v1/complaints/20261118-0001",
    "/api/v1/complaints/not-a-number",
    "/api/v1/figures/2026-11",
    "/api/v1/figures/0000-01",
]


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


def spec() -> dict:
    return yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))


def schema_problems(value: object, schema: dict, document: dict, where: str = "$") -> list[str]:
    """Where ``value`` breaks ``schema``: the part of JSON Schema that web/openapi.yaml uses ($ref, allOf,
    type lists with null, enum, pattern, properties and required), and any property it does not document,
    so the document cannot fall behind what the API returns."""
    if "$ref" in schema:
        target = document
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        return schema_problems(value, target, document, where)
    if "allOf" in schema:
        merged: dict = {"type": "object", "properties": {}, "required": []}
        for part in schema["allOf"]:
            while "$ref" in part:
                part = document["components"]["schemas"][part["$ref"].rsplit("/", 1)[1]]
            merged["properties"] |= part.get("properties", {})
            merged["required"] += part.get("required", [])
        return schema_problems(value, merged, document, where)
    kinds = schema.get("type", [])
    kinds = [kinds] if isinstance(kinds, str) else kinds
    python = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}
    if kinds and not any(
        isinstance(value, python[kind])
        if kind in python
        else isinstance(value, int if kind == "integer" else (int, float)) and not isinstance(value, bool)
        for kind in kinds
    ):
        return [f"{where}: {value!r} is not {kinds}"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{where}: {value!r} is not one of {schema['enum']}"]
    if "pattern" in schema and isinstance(value, str) and not re.search(schema["pattern"], value):
        return [f"{where}: {value!r} does not match {schema['pattern']}"]
    problems = []
    if isinstance(value, dict) and "properties" in schema:
        documented = schema["properties"]
        problems += [f"{where}.{key}: not in the document" for key in value if key not in documented]
        problems += [f"{where}.{key}: required, missing" for key in schema.get("required", []) if key not in value]
        for key, item in value.items():
            if key in documented:
                problems += schema_problems(item, documented[key], document, f"{where}.{key}")
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            problems += schema_problems(item, schema["items"], document, f"{where}[{index}]")
    return problems


@pytest.mark.parametrize(
    ("operation", "url", "token", "status"),
    [
        ("/api/v1/complaints", "/api/v1/complaints", "oversight", 200),
        ("/api/v1/complaints", "/api/v1/complaints?overdue=true&per_page=1", "agency_a", 200),
        ("/api/v1/complaints", "/api/v1/complaints?per_page=0", "oversight", 400),
        ("/api/v1/complaints", "/api/v1/complaints", "nobody", 401),
        ("/api/v1/complaints/{tracking_no}", "/api/v1/complaints/20261118-0001", "oversight", 200),
        ("/api/v1/complaints/{tracking_no}", "/api/v1/complaints/20261118-0001", "agency_a", 200),
        ("/api/v1/complaints/{tracking_no}", "/api/v1/complaints/20261119-0002", "oversight", 200),
        ("/api/v1/complaints/{tracking_no}", "/api/v1/complaints/20261119-0001", "agency_a", 404),
        ("/api/v1/figures/{month}", "/api/v1/figures/2026-11", "oversight", 200),
        ("/api/v1/figures/{month}", "/api/v1/figures/2026-11", "agency_a", 200),
        ("/api/v1/figures/{month}", "/api/v1/figures/2026-13", "oversight", 400),
    ],
)
async def test_every_response_is_what_the_openapi_document_says(
    client: TestClient, world: World, operation: str, url: str, token: str, status: int
) -> None:
    response = await client.get(url, headers=bearer(world.tokens.get(token, "msk_unknown")))
    assert response.status == status
    assert response.content_type == "application/json"
    document = spec()
    described = document["paths"][operation]["get"]["responses"][str(status)]
    if "$ref" in described:
        described = document["components"]["responses"][described["$ref"].rsplit("/", 1)[1]]
    assert schema_problems(await response.json(), described["content"]["application/json"]["schema"], document) == []


def test_the_documents_vocabularies_are_the_services() -> None:
    schemas = spec()["components"]["schemas"]
    parameters = {p["name"]: p for p in spec()["paths"]["/api/v1/complaints"]["get"]["parameters"]}
    detail = schemas["ComplaintDetail"]["allOf"][1]["properties"]
    assert schemas["Status"]["enum"] == [status.value for status in ComplaintStatus]
    assert schemas["ComplaintSummary"]["properties"]["priority"]["enum"] == [p.value for p in Priority]
    assert parameters["problem_type"]["schema"]["enum"] == list(PROBLEM_TYPES)
    assert parameters["agency"]["schema"]["pattern"] == CODE_PATTERN
    assert detail["events"]["items"]["properties"]["action"]["enum"] == [action.value for action in EventAction]
    assert detail["events"]["items"]["properties"]["actor_kind"]["enum"] == [kind.value for kind in ActorKind]


@pytest.mark.parametrize(
    "query",
    [
        "per_page=0",
        "per_page=201",
        "per_page=-5",
        "per_page=1_0",
        "page=0",
        "page=-1",
        "page=٣",
        "page=2147483648",
        "page=99999999999999999999999",
        "month=0000-01",
        "month=0001-01",
        "month=9999-12",
        "month=1999-12",
        "month=2026-11%20",
        "status=%20closed",
        "status=",
        "major=",
        "overdue=yes",
        "agency=%00",
        "agency=City-Police",
        "due_soon=true",
        "stauts=closed",
        "status=closed&status=resolved",
    ],
)
async def test_a_query_the_document_does_not_allow_is_a_400_naming_the_parameter(
    client: TestClient, world: World, query: str
) -> None:
    """Never a 500, and never a silently different list: a clamped page size, an ignored typo or a
    dashboard-only filter would hand an integrator other complaints than it asked for."""
    response = await client.get(f"/api/v1/complaints?{query}", headers=bearer(world.tokens["oversight"]))
    assert response.status == 400
    body = await response.json()
    assert body["error"] == "bad_filter" and body["message"].startswith(query.split("=")[0] + ":")


async def test_the_last_page_the_document_allows_is_empty_not_an_error(client: TestClient, world: World) -> None:
    response = await client.get(
        "/api/v1/complaints?page=2147483647&per_page=200", headers=bearer(world.tokens["oversight"])
    )
    assert response.status == 200
    assert await response.json() == {"items": [], "total": 3, "page": 2147483647, "per_page": 200}


@pytest.mark.parametrize("month", ["0000-01", "0001-01", "9999-12", "1999-12", "2026-11%20"])
async def test_figures_for_a_month_outside_the_documented_years_are_a_400(
    client: TestClient, world: World, month: str
) -> None:
    response = await client.get(f"/api/v1/figures/{month}", headers=bearer(world.tokens["oversight"]))
    assert response.status == 400 and (await response.json())["error"] == "bad_month"


@pytest.mark.parametrize("number", ["20261118-0001%00", "%FF", "20261118-0001%20", "２０２６１１１８-０００１"])
async def test_a_tracking_number_of_another_shape_is_not_found(client: TestClient, world: World, number: str) -> None:
    """PostgreSQL refuses a NUL in a text parameter: the API answers before asking it."""
    response = await client.get(f"/api/v1/complaints/{number}", headers=bearer(world.tokens["oversight"]))
    assert response.status == 404
    assert await response.json() == {"error": "not_found", "message": "no such complaint"}


async def test_a_token_that_is_not_ascii_is_refused_not_a_crash(client: TestClient, world: World) -> None:
    """aiohttp keeps undecodable header bytes as surrogates, which cannot be hashed as UTF-8."""
    server = client.server
    reader, writer = await asyncio.open_connection(server.host, server.port)
    writer.write(
        b"GET /api/v1/complaints HTTP/1.1\r\nHost: localhost\r\n"
        b"Authorization: Bearer \xff\xfe\xe9\r\nConnection: close\r\n\r\n"
    )
    await writer.drain()
    status_line = await reader.readline()
    writer.close()
    await writer.wait_closed()
    assert status_line.split()[1] == b"401"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/v1/nothing", 404),
        ("GET", "/api/", 404),
        ("OPTIONS", "/api/v1/complaints", 405),
        ("POST", "/api/v1/complaints/20261118-0001", 405),
    ],
)
async def test_an_unknown_path_or_method_under_api_answers_json_too(
    client: TestClient, world: World, method: str, path: str, status: int
) -> None:
    response = await client.request(method, path, headers=bearer(world.tokens["oversight"]))
    assert response.status == status and response.content_type == "application/json"
    assert set(await response.json()) == {"error", "message"}
    if status == 405:
        assert "GET" in response.headers["Allow"]


@pytest.mark.parametrize(
    ("path", "token"),
    [
        ("/api/v1/complaints", "oversight"),
        ("/api/v1/complaints/20261118-0001", "oversight"),
        ("/api/v1/complaints/20261118-0001", "nobody"),
        ("/api/v1/nothing", "oversight"),
        ("/api/v1/figures/2026-11", "agency_a"),
    ],
)
async def test_api_responses_are_never_stored_by_caches(
    client: TestClient, world: World, path: str, token: str
) -> None:
    """They carry citizens' words and contact details."""
    response = await client.get(path, headers=bearer(world.tokens.get(token, "msk_unknown")))
    assert response.headers["Cache-Control"] == "no-store"
