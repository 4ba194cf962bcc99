from __future__ import annotations

import pytest

from storage.urls import async_url


@pytest.mark.parametrize(
    ("written", "used"),
    [
        ("sqlite:///minsheng.db", "sqlite+aiosqlite:///minsheng.db"),
        ("postgresql://app:secret@db:5432/minsheng", "postgresql+asyncpg://app:secret@db:5432/minsheng"),
        ("postgres://app@db/minsheng", "postgresql+asyncpg://app@db/minsheng"),
        ("postgresql+asyncpg://app@db/minsheng", "postgresql+asyncpg://app@db/minsheng"),
    ],
)
def test_operators_write_plain_urls_and_the_async_driver_is_chosen(written: str, used: str) -> None:
    assert async_url(written) == used


@pytest.mark.parametrize(("written", "message"), [("mysql://a@b/c", "unsupported database"), ("minsheng.db", "not a")])
def test_an_unusable_url_is_refused_with_a_reason(written: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        async_url(written)
