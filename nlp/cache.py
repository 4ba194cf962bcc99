"""Files in the temp directory that make a warm start fast (checked rules, the prepared dictionary).

Losing or failing to write one only costs time, so a write that fails is logged, never raised.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)


def cache_file(name: str, directory: Path | None = None) -> Path:
    return (directory or Path(tempfile.gettempdir())) / name


def write_atomically(path: Path, data: bytes) -> None:
    """The file appears whole or not at all: another process never reads half of one."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, partial = tempfile.mkstemp(dir=path.parent)
    except OSError as exc:
        log.warning("cannot write cache %s: %s", path, exc)
        return
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        os.replace(partial, path)
    except OSError as exc:
        Path(partial).unlink(missing_ok=True)
        log.warning("cannot write cache %s: %s", path, exc)
