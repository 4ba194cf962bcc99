"""Dashboard authentication: password hashes, signed session cookies, CSRF tokens, login throttling
and API token hashes.

Everything here is stdlib: scrypt for passwords (memory-hard, per-user salt), HMAC-SHA256 for the
session cookie and for CSRF tokens. The session lives in the cookie, so a restart or a second
instance needs only the same secret; the user row is re-read on every request and the cookie carries a
mark of the user's password hash and session epoch, so a deactivated account, a changed password or
a logout (which bumps the epoch) ends that user's sessions at once, on every device.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import secrets
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Network, IPv6Network, ip_address
from pathlib import Path

from aiohttp import web
from sqlalchemy.engine import make_url

from minsheng.settings import Settings

log = logging.getLogger(__name__)

SESSION_COOKIE = "minsheng_session"
SESSION_LIFETIME = 8 * 3600  # one working day; then log in again
CSRF_FIELD = "csrf_token"

# --- passwords ----------------------------------------------------------------------------------

_SCRYPT_N, _SCRYPT_R, _SCRYPT_P, _SCRYPT_LEN = 2**14, 8, 1, 32


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str) -> str:
    """``scrypt$N$r$p$salt$hash``: the parameters travel with the hash so they can be raised later."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=_SCRYPT_LEN, maxmem=64 * 2**20
    )
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, expected = stored.split("$")
        if scheme != "scrypt":
            return False
        digest = hashlib.scrypt(
            password.encode(),
            salt=_unb64(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(_unb64(expected)),
            maxmem=64 * 2**20,
        )
    except ValueError:
        return False
    return hmac.compare_digest(digest, _unb64(expected))


#: Verified against when the username is unknown, so both paths take the same time.
DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


# --- API tokens ---------------------------------------------------------------------------------


def new_api_token() -> str:
    """256 random bits: a fast hash is enough to store it, unlike a password."""
    return "msk_" + secrets.token_urlsafe(32)


def api_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- the server secret --------------------------------------------------------------------------


def secret_file_for(settings: Settings) -> Path:
    """Next to the SQLite database; on PostgreSQL (or in-memory SQLite) in the working directory."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).resolve().with_name(Path(url.database).name + ".web-secret")
    return Path.cwd() / "minsheng.web-secret"


def load_secret(settings: Settings) -> bytes:
    """MINSHENG_WEB_SECRET, or a random key generated once and persisted so sessions survive restarts."""
    if settings.web_secret is not None:
        return settings.web_secret.get_secret_value().encode()
    path = secret_file_for(settings)
    try:
        return path.read_text().strip().encode()
    except FileNotFoundError:
        pass
    value = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race: use its key
        return path.read_text().strip().encode()
    with os.fdopen(fd, "w") as file:
        file.write(value + "\n")
    log.warning("MINSHENG_WEB_SECRET is not set: generated a session key in %s", path)
    return value.encode()


# --- sessions and CSRF --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Session:
    """What the cookie carries. ``user_id`` None is an anonymous session (it still has a CSRF nonce,
    so the login form itself is CSRF-protected)."""

    nonce: str
    expires: int
    user_id: int | None = None
    #: Part of an HMAC of the password hash and session epoch: a password change or a logout
    #: invalidates old cookies.
    user_mark: str = ""


class SessionSigner:
    def __init__(self, secret: bytes, clock: Callable[[], float] = time.time) -> None:
        self._key = hashlib.sha256(b"minsheng-session:" + secret).digest()
        self._csrf_key = hashlib.sha256(b"minsheng-csrf:" + secret).digest()
        self._clock = clock

    def new(self, user_id: int | None = None, password_hash: str = "", epoch: int = 0) -> Session:
        mark = self.user_mark(password_hash, epoch) if user_id is not None else ""
        return Session(secrets.token_urlsafe(16), int(self._clock()) + SESSION_LIFETIME, user_id, mark)

    def user_mark(self, password_hash: str, epoch: int) -> str:
        """Changes when the password or the session epoch does, so either ends every older session."""
        return hmac.new(self._key, f"{epoch}:{password_hash}".encode(), hashlib.sha256).hexdigest()[:16]

    def dump(self, session: Session) -> str:
        body = _b64(
            json.dumps(
                {"n": session.nonce, "e": session.expires, "u": session.user_id, "p": session.user_mark},
                separators=(",", ":"),
            ).encode()
        )
        return f"{body}.{_b64(hmac.new(self._key, body.encode(), hashlib.sha256).digest())}"

    def load(self, cookie: str | None) -> Session | None:
        """The session in a cookie, or None if it is missing, forged, malformed or expired."""
        if not cookie or cookie.count(".") != 1:
            return None
        body, signature = cookie.split(".")
        expected = _b64(hmac.new(self._key, body.encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(signature, expected):
            return None
        try:
            data = json.loads(_unb64(body))
            session = Session(str(data["n"]), int(data["e"]), data["u"], str(data["p"]))
        except (ValueError, KeyError, TypeError):
            return None
        return session if session.expires > self._clock() else None

    def csrf_token(self, session: Session) -> str:
        return _b64(hmac.new(self._csrf_key, session.nonce.encode(), hashlib.sha256).digest())

    def check_csrf(self, session: Session | None, token: str | None) -> bool:
        if session is None or not token:
            return False
        return hmac.compare_digest(token, self.csrf_token(session))


# --- login throttling ---------------------------------------------------------------------------


@dataclass
class LoginThrottle:
    """At most ``limit`` failed logins per (username, client address) and ``address_limit`` per client
    address in ``window`` seconds.

    Never per username alone: then anyone anywhere could lock the officer out with a few wrong
    passwords. An address may fail more often than a pair, since a whole office may sit behind one
    address. In memory: enough for one instance; several instances each apply their own limit, which
    still bounds guessing to a small multiple of it.
    """

    limit: int = 5
    address_limit: int = 20
    window: float = 15 * 60
    clock: Callable[[], float] = time.monotonic
    _failures: dict[str, deque[float]] = field(default_factory=dict)

    def _count(self, key: str) -> int:
        """Recent failures under ``key``; expired ones are dropped, and so is a key left with none."""
        stamps = self._failures.get(key)
        if stamps is None:
            return 0
        cutoff = self.clock() - self.window
        while stamps and stamps[0] <= cutoff:
            stamps.popleft()
        if not stamps:
            del self._failures[key]
        return len(stamps)

    @staticmethod
    def _keys(username: str, address: str) -> tuple[str, str]:
        return f"u:{username.lower()}@{address}", f"a:{address}"

    def blocked(self, username: str, address: str) -> bool:
        pair, anyone = self._keys(username, address)
        return self._count(pair) >= self.limit or self._count(anyone) >= self.address_limit

    def failed(self, username: str, address: str) -> None:
        for key in self._keys(username, address):
            self._count(key)
            self._failures.setdefault(key, deque()).append(self.clock())

    def succeeded(self, username: str, address: str) -> None:
        self._failures.pop(self._keys(username, address)[0], None)


def client_address(request: web.Request, trusted_proxies: Sequence[IPv4Network | IPv6Network]) -> str:
    """Who is really asking: the peer, unless the peer is a trusted proxy; then, walking
    X-Forwarded-For from the right, the first hop that is not one (a client can forge the left part)."""
    address = request.remote or "-"
    hops = [hop.strip() for value in request.headers.getall("X-Forwarded-For", []) for hop in value.split(",")]
    for hop in reversed([hop for hop in hops if hop]):
        if not _is_trusted(address, trusted_proxies):
            break
        address = hop
    return address


def _is_trusted(address: str, trusted_proxies: Sequence[IPv4Network | IPv6Network]) -> bool:
    try:
        ip = ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted_proxies)
