"""Outbox notices in the recipient's language: ``{"kind", "params"}`` payloads made readable.

Params are plain values chosen by ``workflow.notifications``; here they become text: ISO times in
local time, lists joined, yes/no in words, then the renderer's one rule (``Translator.param``: in the
reader's script unless a person wrote it; escaped). A missing parameter shows as "—" rather than
failing a delivery that a person is waiting for.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from handlers.texts import Translator

MISSING = "—"


class _Params(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return MISSING


def _local_time(value: str, zone: ZoneInfo) -> str:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _show(name: str, value: Any, zone: ZoneInfo, tr: Translator) -> str:
    if value is None or value == "" or value == [] or value == ():
        return MISSING
    if isinstance(value, bool):
        text = "是" if value else "否"
    elif isinstance(value, list | tuple):
        text = "、".join(str(item) for item in value)
    elif name.endswith("due") and isinstance(value, str):
        text = _local_time(value, zone)
    else:
        text = str(value)
    return tr.param(name, text)


def notice_key(kind: str, params: dict[str, Any]) -> str:
    """The catalogue key of a notice; an extension decision has one text per outcome."""
    if "approved" in params:
        return f"notice.{kind}.{'approved' if params['approved'] else 'refused'}"
    return f"notice.{kind}"


def render_notice(kind: str, params: dict[str, Any], tr: Translator, zone: ZoneInfo) -> str:
    key = notice_key(kind, params)
    if not tr.has(key):
        key = "notice.generic"
    values = _Params({name: _show(name, value, zone, tr) for name, value in params.items()})
    return tr(key).format_map(values)
