"""Database URLs as operators write them. Plain string work, no SQLAlchemy: settings validate the URL
on every command, and the tagger's command line must start fast."""

from __future__ import annotations

_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}


def async_url(url: str) -> str:
    """Accept ``postgresql://`` and ``sqlite:///`` (or ``postgres://``) and pick the async driver."""
    scheme, separator, rest = url.partition("://")
    if not separator:
        raise ValueError("not a database URL; write e.g. postgresql://user:password@host/db")
    backend, _, driver = scheme.partition("+")
    backend = "postgresql" if backend == "postgres" else backend
    if backend not in _ASYNC_DRIVERS:
        raise ValueError(f"unsupported database {backend!r}: use sqlite or postgresql")
    return f"{backend}+{driver}://{rest}" if driver else f"{_ASYNC_DRIVERS[backend]}://{rest}"
