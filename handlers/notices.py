"""Outbox notices in the recipient's language: ``{"kind", "params"}`` payloads made readable.

Params are plain values chosen by ``workflow.notifications``; here they become text: ISO times in
local time, lists joined, yes/no in words. A missing parameter shows as "—" rather than failing a
delivery that a person is waiting for.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import opencc

from handlers.texts import TRADITIONAL, Translator

MISSING = "—"
_TO_TRADITIONAL = opencc.OpenCC("s2twp")


class _Params(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return MISSING


def _local_time(value: str, zone: ZoneInfo) -> str:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _show(name: str, value: Any, zone: ZoneInfo, lang: str) -> str:
    if value is None or value == "":
        return MISSING
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list | tuple):
        return "、".join(str(item) for item in value) or MISSING
    text = str(value)
    if name.endswith("due") and isinstance(value, str):
        text = _local_time(text, zone)
    elif name.endswith("_text") and lang == TRADITIONAL:
        text = _TO_TRADITIONAL.convert(text)  # workflow describes deadlines in Simplified
    return html.escape(text, quote=False)


def notice_key(kind: str, params: dict[str, Any]) -> str:
    """The catalogue key of a notice; an extension decision has one text per outcome."""
    if "approved" in params:
        return f"notice.{kind}.{'approved' if params['approved'] else 'refused'}"
    return f"notice.{kind}"


def render_notice(kind: str, params: dict[str, Any], tr: Translator, zone: ZoneInfo) -> str:
    key = notice_key(kind, params)
    if not tr.has(key):
        key = "notice.generic"
    values = _Params({name: _show(name, value, zone, tr.lang) for name, value in params.items()})
    return tr(key).format_map(values)
