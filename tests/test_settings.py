"""Settings as an operator writes them: in the environment or in a .env file, with their typos."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from minsheng.cli import main
from minsheng.settings import SettingsError, load_settings

TOKEN = "123456:ABCdefGHIjklMNOpqrSTUvwxYZ012345678"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No MINSHENG_ variable of the machine, and a working directory without a .env."""
    for name in [name for name in os.environ if name.startswith("MINSHENG_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_a_token_is_stripped_of_surrounding_whitespace(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MINSHENG_BOT_TOKEN", f" {TOKEN}\n")
    token = load_settings().bot_token
    assert token is not None and token.get_secret_value() == TOKEN


@pytest.mark.parametrize("value", ["abc", "123456:", ":abc", "12ab:cd", "123456:AB CD"])
def test_a_token_in_the_wrong_format_is_a_bad_setting(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("MINSHENG_BOT_TOKEN", value)
    with pytest.raises(SettingsError) as refused:
        load_settings()
    assert str(refused.value).startswith("bad setting MINSHENG_BOT_TOKEN: ")
    assert value.strip() not in str(refused.value), "a token is never echoed"


@pytest.mark.parametrize("name", ["MINSHENG_BOT_TOKEN", "MINSHENG_WEBHOOK_URL"])
@pytest.mark.parametrize("value", ["", "  "])
def test_an_empty_token_or_webhook_url_counts_as_unset(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.bot_token is None and settings.webhook_url is None


def test_a_plain_http_webhook_url_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MINSHENG_WEBHOOK_URL", "http://minsheng.example.org/telegram/webhook")
    with pytest.raises(SettingsError, match=r"^bad setting MINSHENG_WEBHOOK_URL: .*https://"):
        load_settings()
    monkeypatch.setenv("MINSHENG_WEBHOOK_URL", "https://minsheng.example.org/telegram/webhook")
    assert str(load_settings().webhook_url) == "https://minsheng.example.org/telegram/webhook"


@pytest.mark.parametrize("value", ["", "set", "x" * 31])
def test_a_web_secret_set_but_short_is_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("MINSHENG_WEB_SECRET", value)
    with pytest.raises(SettingsError, match=r"^bad setting MINSHENG_WEB_SECRET: .*32 characters"):
        load_settings()


def test_a_long_web_secret_is_kept_and_an_unset_one_stays_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().web_secret is None
    monkeypatch.setenv("MINSHENG_WEB_SECRET", "x" * 32)
    secret = load_settings().web_secret
    assert secret is not None and secret.get_secret_value() == "x" * 32


def test_unknown_names_are_warned_about_with_the_closest_known_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("MINSHENG_DATABSE_URL", "postgresql://minsheng@db/minsheng")
    monkeypatch.setenv("MINSHENG_PUBLISH_PORT", "8080")  # docker compose's, not the service's
    monkeypatch.setenv("MINSHENG_TEST_PG_URL", "postgresql://postgres@127.0.0.1/postgres")  # the tests'
    (tmp_path / ".env").write_text("minsheng_log_levle=DEBUG\nMINSHENG_XYZZY=1\nMINSHENG_TIMEZONE=Asia/Shanghai\n")
    with caplog.at_level(logging.WARNING, logger="minsheng.settings"):
        settings = load_settings()
    assert settings.is_sqlite, "not fatal: the misspelled name is still ignored"
    assert sorted(record.getMessage() for record in caplog.records) == [
        "unknown setting MINSHENG_DATABSE_URL ignored (did you mean MINSHENG_DATABASE_URL?)",
        "unknown setting MINSHENG_LOG_LEVLE ignored (did you mean MINSHENG_LOG_LEVEL?)",
        "unknown setting MINSHENG_XYZZY ignored",
    ]


def test_version_prints_the_package_version() -> None:
    from importlib.metadata import version

    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"minsheng, version {version('minsheng')}"
