"""Months as people write them in URLs and filters (``YYYY-MM``), within the years the service supports.

One parser for the JSON API, the dashboard and the public pages: each says "bad month" or "not found" in
its own way, but none passes on a month whose local bounds are no dates (year 0, year 10000) or lie
before the service could have had a complaint.
"""

from __future__ import annotations

import re
from datetime import date

#: The months the service supports (2000-01 … 2099-12), as the API's document states them.
_MONTH = re.compile(r"(20[0-9]{2})-(0[1-9]|1[0-2])")
#: How to write one: the end of an error message.
MONTH_HINT = "use YYYY-MM, from 2000-01 to 2099-12"


def month_of(text: str) -> date | None:
    """The first day of the month ``text`` names exactly (no spaces), or None when it names none of
    2000-01 … 2099-12."""
    match = _MONTH.fullmatch(text)
    return date(int(match[1]), int(match[2]), 1) if match else None
