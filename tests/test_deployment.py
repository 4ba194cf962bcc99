"""docker-compose.yml, read as Compose reads it: no built-in password, the service reachable only from
the host by default, logs that cannot fill the disk; and .env.example says what the file needs."""

from __future__ import annotations

import re

import yaml

from tests.conftest import REPO

REQUIRED_PASSWORD = "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD in .env}"


def _compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))


def test_compose_has_no_fallback_password_and_refuses_to_start_without_one() -> None:
    text = (REPO / "docker-compose.yml").read_text(encoding="utf-8")
    assert re.findall(r"\$\{POSTGRES_PASSWORD[^}]*\}", text) == [REQUIRED_PASSWORD] * 2
    services = _compose()["services"]
    assert services["db"]["environment"]["POSTGRES_PASSWORD"] == REQUIRED_PASSWORD
    url = services["app"]["environment"]["MINSHENG_DATABASE_URL"]
    assert url == f"postgresql://minsheng:{REQUIRED_PASSWORD}@db:5432/minsheng"


def test_compose_publishes_the_web_port_on_the_loopback_address_only() -> None:
    services = _compose()["services"]
    assert services["app"]["ports"] == ["127.0.0.1:${MINSHENG_PUBLISH_PORT:-8080}:8080"]
    assert "ports" not in services["db"]


def test_every_compose_service_rotates_its_logs() -> None:
    for name, service in _compose()["services"].items():
        logging = service.get("logging", {})
        assert logging.get("driver") == "json-file", name
        assert set(logging.get("options", {})) == {"max-size", "max-file"}, name
        assert all(isinstance(value, str) for value in logging["options"].values()), name  # Compose wants strings


def test_env_example_names_every_variable_compose_requires_and_leaves_it_to_be_set() -> None:
    """Left empty, not a sample value: a copied .env.example must not start with a guessable password."""
    text = (REPO / "docker-compose.yml").read_text(encoding="utf-8")
    required = set(re.findall(r"\$\{(\w+):\?", text))
    example = (REPO / ".env.example").read_text(encoding="utf-8")
    assigned = dict(re.findall(r"^(\w+)=(.*)$", example, flags=re.MULTILINE))
    assert required == {"POSTGRES_PASSWORD"}
    assert {name: assigned.get(name) for name in required} == dict.fromkeys(required, "")
