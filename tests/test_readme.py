"""The README is the newcomer's contract: its configuration table must match the settings."""

from __future__ import annotations

import re

from minsheng.settings import Settings
from tests.conftest import REPO


def test_every_setting_is_documented_in_the_readme_and_nothing_else_is() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `(MINSHENG_[A-Z_]+)` \|", readme, flags=re.MULTILINE))
    expected = {f"MINSHENG_{name.upper()}" for name in Settings.model_fields}
    assert documented == expected


def test_readme_names_the_two_commands() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "uv run minsheng serve" in readme
    assert "uv run pytest" in readme
