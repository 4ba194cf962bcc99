"""Service settings: environment variables with the ``MINSHENG_`` prefix, or a ``.env`` file."""

from __future__ import annotations

import difflib
import logging
import os
import re
from functools import cached_property
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AnyHttpUrl, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, DotEnvSettingsSource, NoDecode, SettingsConfigDict

from storage.urls import async_url

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
PREFIX = "MINSHENG_"
#: MINSHENG_ names that are not the service's settings: docker compose's (read from the same .env) and
#: the test suites' and benchmarks'.
OTHER_NAMES = frozenset({"MINSHENG_PUBLISH_PORT", "MINSHENG_TEST_PG_URL", "MINSHENG_BENCH_PG_URL"})
#: What Telegram's tokens look like (the bot's id, a colon, the secret); aiogram refuses anything else.
TOKEN_FORMAT = re.compile(r"\d+:\S+")
#: A shorter key for the session cookies can be guessed offline from one cookie.
MIN_WEB_SECRET_LENGTH = 32

log = logging.getLogger(__name__)


class SettingsError(Exception):
    """One line per bad setting, naming the environment variable."""


class ListenError(Exception):
    """The web server cannot take its address (in use, or not this machine's): a setting to change."""


class TokenRejected(Exception):
    """Telegram refuses MINSHENG_BOT_TOKEN: a setting to change, not a hiccup to wait out."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=PREFIX, env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite+aiosqlite:///minsheng.db",
        description="SQLAlchemy URL; postgresql://… in production, a SQLite file by default",
    )
    bot_token: SecretStr | None = Field(default=None, description="Telegram bot token; none serves the local sandbox")
    bot_api_base: AnyHttpUrl | None = Field(
        default=None, description="Base URL of a self-hosted Telegram Bot API server"
    )
    webhook_url: AnyHttpUrl | None = Field(default=None, description="Public HTTPS URL; set it to use a webhook")
    webhook_secret: SecretStr | None = Field(default=None, description="Secret token Telegram sends with webhooks")
    web_host: str = Field(default="127.0.0.1", description="Address the web server listens on")
    web_port: int = Field(default=8080, ge=0, le=65535, description="Port the web server listens on")
    timezone: str = Field(default="Asia/Shanghai", description="Local time zone for deadlines and tracking numbers")
    catalogue_path: Path = Field(
        default=PACKAGE_ROOT / "storage" / "data" / "agencies.yaml", description="Agency catalogue (YAML)"
    )
    policy_path: Path = Field(
        default=PACKAGE_ROOT / "workflow" / "data" / "policy.yaml", description="Time limits and reminders (YAML)"
    )
    holidays_path: Path = Field(
        default=PACKAGE_ROOT / "workflow" / "data" / "holidays.yaml",
        description="Holiday overrides for years the calendar library does not know (YAML)",
    )
    rules_dir: Path = Field(default=PACKAGE_ROOT / "nlp" / "rules", description="Tagger rules directory (YAML)")
    log_level: str = Field(default="INFO", description="Logging level")
    web_secret: SecretStr | None = Field(
        default=None,
        description="Key that signs dashboard session cookies, at least 32 characters; unset: generated once "
        "and kept in a file "
        "next to the SQLite database (or in the working directory on PostgreSQL)",
    )
    web_secure_cookies: bool = Field(default=False, description="Mark cookies Secure; set true behind HTTPS")
    web_trusted_proxies: Annotated[list[IPv4Network | IPv6Network], NoDecode] = Field(
        default_factory=list,
        description="Reverse proxies (addresses or networks, comma-separated) whose X-Forwarded-For names "
        "the client, e.g. 172.16.0.0/12 for a proxy in Docker; none: the peer is the client",
    )

    @field_validator("web_trusted_proxies", mode="before")
    @classmethod
    def _networks(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [ip_network(part.strip(), strict=False) for part in value.split(",") if part.strip()]
        return value

    @field_validator("bot_token", "webhook_url", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        """Surrounding whitespace is a copy-and-paste accident; an empty value (``NAME=``) means unset."""
        if isinstance(value, str):
            return value.strip() or None
        return value

    @field_validator("bot_token")
    @classmethod
    def _token_format(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not TOKEN_FORMAT.fullmatch(value.get_secret_value()):
            raise ValueError("not a bot token: it looks like 123456789:AA… (ask @BotFather)")
        return value

    @field_validator("webhook_url")
    @classmethod
    def _https_webhook(cls, value: AnyHttpUrl | None) -> AnyHttpUrl | None:
        if value is not None and value.scheme != "https":
            raise ValueError("Telegram sends webhooks only to https:// URLs")
        return value

    @field_validator("web_secret")
    @classmethod
    def _long_web_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_WEB_SECRET_LENGTH:
            raise ValueError(
                f"shorter than {MIN_WEB_SECRET_LENGTH} characters; "
                "leave it unset to have one generated, or use e.g. `openssl rand -base64 48`"
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        try:
            return async_url(value)
        except Exception as exc:
            raise ValueError(str(exc)) from None

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        if value.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("use DEBUG, INFO, WARNING or ERROR")
        return value.upper()

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def warn_about_unknown_names() -> None:
    """A misspelled name is ignored like any foreign variable; say so, or the default silently applies
    (a typo in MINSHENG_DATABASE_URL would run the service on a new SQLite file)."""
    known = [name.upper() for name in Settings.model_fields]
    names = {name.upper() for name in [*os.environ, *DotEnvSettingsSource(Settings).env_vars]}
    for name in sorted(names):
        if not name.startswith(PREFIX) or name.removeprefix(PREFIX) in known or name in OTHER_NAMES:
            continue
        # Compared without the prefix, which every name shares and would make anything look close.
        closest = difflib.get_close_matches(name.removeprefix(PREFIX), known, n=1)
        hint = f" (did you mean {PREFIX}{closest[0]}?)" if closest else ""
        log.warning("unknown setting %s ignored%s", name, hint)


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment; a bad value becomes one line per setting."""
    warn_about_unknown_names()
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            name = "MINSHENG_" + "_".join(str(part) for part in error["loc"]).upper()
            lines.append(f"bad setting {name}: {error['msg'].removeprefix('Value error, ')}")
        raise SettingsError("\n".join(lines)) from None
