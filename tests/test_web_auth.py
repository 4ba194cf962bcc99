"""Passwords, signed session cookies, CSRF tokens, login throttling and the server secret."""

from __future__ import annotations

from collections.abc import AsyncIterator
from ipaddress import ip_network
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer, make_mocked_request
from multidict import CIMultiDict
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.models import WebUser
from tests.factories import make_deadlines
from tests.test_dashboard_support import (
    CSRF,
    PASSWORD,
    World,
    client,
    csrf_from,
    log_in,
    make_app,
    make_settings,
    world,
)
from web.app import create_app
from web.auth import (
    SESSION_COOKIE,
    SESSION_LIFETIME,
    LoginThrottle,
    SessionSigner,
    client_address,
    hash_password,
    load_secret,
    verify_password,
)
from web.dashboard.context import SERVICES

__all__ = ["client", "world"]


def test_password_hash_verifies_only_the_right_password_and_salts_differ() -> None:
    first, second = hash_password("s3cret-password"), hash_password("s3cret-password")
    assert first != second and first.startswith("scrypt$")
    assert verify_password("s3cret-password", first)
    assert not verify_password("s3cret-passwore", first)
    assert not verify_password("s3cret-password", "garbage")


def test_session_cookie_rejects_tampering_and_expiry() -> None:
    moment = [1_000_000.0]
    signer = SessionSigner(b"key", clock=lambda: moment[0])
    cookie = signer.dump(signer.new(7, "hash"))
    assert signer.load(cookie).user_id == 7
    body, signature = cookie.split(".")
    forged = SessionSigner(b"other", clock=lambda: moment[0]).dump(signer.new(1, "hash"))
    assert signer.load(forged) is None
    assert signer.load(body[:-2] + "AA." + signature) is None
    moment[0] += SESSION_LIFETIME + 1
    assert signer.load(cookie) is None


def test_csrf_token_is_tied_to_its_session() -> None:
    signer = SessionSigner(b"key")
    mine, theirs = signer.new(1, "h"), signer.new(1, "h")
    assert signer.check_csrf(mine, signer.csrf_token(mine))
    assert not signer.check_csrf(mine, signer.csrf_token(theirs))
    assert not signer.check_csrf(mine, "")


def test_throttle_blocks_after_repeated_failures_until_the_window_passes() -> None:
    moment = [0.0]
    throttle = LoginThrottle(limit=3, address_limit=5, window=60, clock=lambda: moment[0])
    for _ in range(3):
        throttle.failed("chief", "10.0.0.1")
    assert throttle.blocked("Chief", "10.0.0.1")  # that username from that address
    assert not throttle.blocked("chief", "10.0.0.2")  # the real officer elsewhere is not locked out
    assert not throttle.blocked("someone", "10.0.0.1")
    for name in ("a", "b"):
        throttle.failed(name, "10.0.0.1")
    assert throttle.blocked("someone", "10.0.0.1")  # by address, whatever the username
    assert not throttle.blocked("someone", "10.0.0.2")
    moment[0] += 61
    assert not throttle.blocked("chief", "10.0.0.1")
    assert not throttle.blocked("someone", "10.0.0.1")


def test_a_successful_login_clears_only_its_own_address_failures() -> None:
    throttle = LoginThrottle(limit=2, address_limit=10)
    for address in ("10.0.0.1", "10.0.0.2"):
        throttle.failed("chief", address)
    throttle.succeeded("chief", "10.0.0.1")
    throttle.failed("chief", "10.0.0.1")
    throttle.failed("chief", "10.0.0.2")
    assert not throttle.blocked("chief", "10.0.0.1") and throttle.blocked("chief", "10.0.0.2")


def test_generated_secret_is_persisted_next_to_the_sqlite_database(tmp_path: Path) -> None:
    from minsheng.settings import Settings

    settings = Settings(database_url=f"sqlite:///{tmp_path}/minsheng.db")
    first = load_secret(settings)
    assert (tmp_path / "minsheng.db.web-secret").exists()
    assert load_secret(settings) == first
    assert load_secret(Settings(database_url=f"sqlite:///{tmp_path}/minsheng.db", web_secret="s" * 32)) == b"s" * 32


async def test_login_sets_an_httponly_lax_session_cookie(client: TestClient, world: World) -> None:
    response = await log_in(client, "chief")
    assert response.status == 303 and response.headers["Location"] == "/dashboard/"
    header = response.headers["Set-Cookie"]
    assert SESSION_COOKIE in header and "HttpOnly" in header and "SameSite=Lax" in header
    assert "Secure" not in header
    home = await client.get("/dashboard/")
    assert home.status == 200 and "chief" in await home.text()


async def test_secure_cookie_setting_marks_the_cookie_secure(engine: AsyncEngine, tmp_path: Path, world: World) -> None:
    app = make_app(engine, tmp_path, web_secure_cookies=True)
    async with TestClient(TestServer(app, port=0)) as secure_client:
        response = await secure_client.get("/dashboard/login")
        assert "Secure" in response.headers["Set-Cookie"]


async def test_wrong_password_is_refused_without_saying_which_part_was_wrong(client: TestClient, world: World) -> None:
    wrong_password = await log_in(client, "chief", "not the password")
    unknown_user = await log_in(client, "nobody", PASSWORD)
    assert wrong_password.status == unknown_user.status == 401
    assert "用户名或密码不正确" in await wrong_password.text()
    assert (await client.get("/dashboard/", allow_redirects=False)).status == 303


async def test_repeated_failures_throttle_even_the_right_password(client: TestClient, world: World) -> None:
    for _ in range(5):
        assert (await log_in(client, "chief", "wrong")).status == 401
    response = await log_in(client, "chief")
    assert response.status == 429
    assert "登录失败次数过多" in await response.text()


async def test_login_without_csrf_token_is_rejected(client: TestClient, world: World) -> None:
    await client.get("/dashboard/login")
    response = await client.post("/dashboard/login", data={"username": "chief", "password": PASSWORD})
    assert response.status == 403
    assert (await client.get("/dashboard/", allow_redirects=False)).status == 303


async def test_post_with_a_token_from_another_session_is_rejected(client: TestClient, world: World) -> None:
    other_token = await csrf_from(client, "/dashboard/login")
    client.session.cookie_jar.clear()
    await log_in(client, "chief")
    response = await client.post("/dashboard/logout", data={"csrf_token": other_token}, allow_redirects=False)
    assert response.status == 403
    assert (await client.get("/dashboard/")).status == 200  # still logged in


async def test_logout_ends_the_session(client: TestClient, world: World) -> None:
    await log_in(client, "chief")
    token = await csrf_from(client, "/dashboard/")
    response = await client.post("/dashboard/logout", data={"csrf_token": token}, allow_redirects=False)
    assert response.status == 303
    assert (await client.get("/dashboard/", allow_redirects=False)).status == 303


async def test_a_cookie_replayed_after_logout_gets_the_login_page(client: TestClient, world: World) -> None:
    await log_in(client, "chief")
    stolen = client.session.cookie_jar.filter_cookies(client.make_url("/"))[SESSION_COOKIE].value
    page = f"/dashboard/complaints/{world.complaint_a.tracking_no}"
    assert (await client.get(page, allow_redirects=False)).status == 200
    token = await csrf_from(client, "/dashboard/")
    await client.post("/dashboard/logout", data={"csrf_token": token}, allow_redirects=False)
    client.session.cookie_jar.clear()
    replay = await client.get(page, headers={"Cookie": f"{SESSION_COOKIE}={stolen}"}, allow_redirects=False)
    assert replay.status == 303 and replay.headers["Location"].startswith("/dashboard/login?")
    client.session.cookie_jar.clear()
    await log_in(client, "chief")  # logging in again works, with a fresh session
    assert (await client.get(page, allow_redirects=False)).status == 200


async def test_logout_ends_the_users_sessions_on_other_devices_too(client: TestClient, world: World) -> None:
    def cookie() -> str:
        return client.session.cookie_jar.filter_cookies(client.make_url("/"))[SESSION_COOKIE].value

    await log_in(client, "chief")
    phone = cookie()
    client.session.cookie_jar.clear()
    await log_in(client, "chief")
    page = await (await client.get("/dashboard/")).text()
    assert "所有设备" in page  # the button says what it does
    await client.post("/dashboard/logout", data={"csrf_token": CSRF.search(page)[1]}, allow_redirects=False)
    client.session.cookie_jar.clear()
    replay = await client.get("/dashboard/", headers={"Cookie": f"{SESSION_COOKIE}={phone}"}, allow_redirects=False)
    assert replay.status == 303


async def test_deactivating_or_changing_the_password_ends_existing_sessions(
    client: TestClient, world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    await log_in(client, "chief")
    async with session_factory() as session:
        await session.execute(
            update(WebUser).where(WebUser.username == "chief").values(password_hash=hash_password("a new password!"))
        )
        await session.commit()
    assert (await client.get("/dashboard/", allow_redirects=False)).status == 303
    await log_in(client, "viewer-a")
    async with session_factory() as session:
        await session.execute(update(WebUser).where(WebUser.username == "viewer-a").values(active=False))
        await session.commit()
    assert (await client.get("/dashboard/", allow_redirects=False)).status == 303


async def test_login_never_redirects_off_site(client: TestClient, world: World) -> None:
    token = await csrf_from(client, "/dashboard/login")
    response = await client.post(
        "/dashboard/login",
        data={"username": "chief", "password": PASSWORD, "csrf_token": token, "next": "//evil.example/"},
        allow_redirects=False,
    )
    assert response.headers["Location"] == "/dashboard/"


async def test_login_returns_to_the_page_asked_for(client: TestClient, world: World) -> None:
    response = await client.get("/dashboard/complaints?status=disputed", allow_redirects=False)
    assert response.status == 303 and "next=" in response.headers["Location"]
    token = await csrf_from(client, response.headers["Location"])
    login = await client.post(
        "/dashboard/login",
        data={
            "username": "chief",
            "password": PASSWORD,
            "csrf_token": token,
            "next": "/dashboard/complaints?status=disputed",
        },
        allow_redirects=False,
    )
    assert login.headers["Location"] == "/dashboard/complaints?status=disputed"


def test_throttle_forgets_keys_whose_failures_expired() -> None:
    moment = [0.0]
    throttle = LoginThrottle(limit=3, window=60, clock=lambda: moment[0])
    for name in ("a", "b", "c"):
        throttle.failed(name, "10.0.0.9")
    assert not throttle.blocked("never-failed", "10.0.0.8")
    moment[0] += 61
    for name in ("a", "b", "c", "never-failed"):
        assert not throttle.blocked(name, "10.0.0.9")
    assert throttle._failures == {}


async def _log_in_from(client: TestClient, username: str, forwarded_for: str, password: str = "wrong") -> int:
    token = await csrf_from(client, "/dashboard/login")
    response = await client.post(
        "/dashboard/login",
        data={"username": username, "password": password, "csrf_token": token},
        headers={"X-Forwarded-For": forwarded_for},
        allow_redirects=False,
    )
    return response.status


@pytest.fixture
async def proxied(engine: AsyncEngine, world: World, tmp_path: Path) -> AsyncIterator[TestClient]:
    """The application behind a trusted reverse proxy on localhost."""
    settings = make_settings(engine, tmp_path, web_trusted_proxies="127.0.0.1, ::1")
    async with TestClient(TestServer(create_app(engine, settings, make_deadlines()), port=0)) as test_client:
        yield test_client


async def test_behind_a_trusted_proxy_the_throttle_counts_each_client_not_the_proxy(proxied: TestClient) -> None:
    for _ in range(5):
        assert await _log_in_from(proxied, "chief", "203.0.113.7") == 401
    assert await _log_in_from(proxied, "chief", "203.0.113.7", PASSWORD) == 429  # that client is blocked…
    assert await _log_in_from(proxied, "chief", "198.51.100.2") == 401  # …the others behind the proxy not
    assert await _log_in_from(proxied, "chief", "198.51.100.2, 203.0.113.7", PASSWORD) == 429  # forged left part


async def test_an_attacker_elsewhere_cannot_lock_the_officer_out(proxied: TestClient) -> None:
    for _ in range(6):
        await _log_in_from(proxied, "chief", "203.0.113.7")
    assert await _log_in_from(proxied, "chief", "198.51.100.2", PASSWORD) == 303


async def test_one_address_guessing_many_usernames_is_blocked(proxied: TestClient) -> None:
    limit = proxied.app[SERVICES].throttle.address_limit
    for attempt in range(limit):
        assert await _log_in_from(proxied, f"guess{attempt}", "203.0.113.7") == 401
    assert await _log_in_from(proxied, "chief", "203.0.113.7", PASSWORD) == 429
    assert await _log_in_from(proxied, "chief", "198.51.100.2", PASSWORD) == 303


async def test_without_trusted_proxies_a_forged_forwarded_for_changes_nothing(client: TestClient, world: World) -> None:
    for attempt in range(5):
        assert await _log_in_from(client, "chief", f"203.0.113.{attempt}") == 401
    assert await _log_in_from(client, "chief", "198.51.100.2", PASSWORD) == 429


@pytest.mark.parametrize(
    ("peer", "forwarded", "client_ip"),
    [
        ("10.0.0.5", [], "10.0.0.5"),
        ("10.0.0.5", ["1.2.3.4"], "10.0.0.5"),  # not a trusted proxy: its header is not believed
        ("127.0.0.1", ["1.2.3.4"], "1.2.3.4"),
        ("127.0.0.1", ["9.9.9.9, 1.2.3.4"], "1.2.3.4"),  # the client forged 9.9.9.9
        ("127.0.0.1", ["9.9.9.9", "172.18.0.3, 1.2.3.4"], "1.2.3.4"),
        ("127.0.0.1", ["1.2.3.4, 172.18.0.3"], "1.2.3.4"),  # two proxies in a row
        ("127.0.0.1", ["not-an-ip"], "not-an-ip"),
    ],
)
def test_client_address_walks_forwarded_for_through_trusted_proxies_only(
    peer: str, forwarded: list[str], client_ip: str
) -> None:
    headers = CIMultiDict(("X-Forwarded-For", value) for value in forwarded)
    request = make_mocked_request("POST", "/dashboard/login", headers=headers, transport=_Transport(peer))
    trusted = [ip_network("127.0.0.0/8"), ip_network("172.16.0.0/12")]
    assert client_address(request, trusted) == client_ip


class _Transport:
    """The peer end of a connection, as aiohttp reads ``request.remote`` from it."""

    def __init__(self, peer: str) -> None:
        self.peer = peer

    def get_extra_info(self, name: str, default: object = None) -> object:
        return (self.peer, 40000) if name == "peername" else default
