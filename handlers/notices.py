"""Outbox notices in the recipient's language: ``{"kind", "params"}`` payloads made readable.

One text per notice, ``notice.<kind>`` in the catalogue (a few kinds have one per outcome, see
``notice_key``), for citizens, agencies and the office alike; the audience's renderers
(``handlers.citizen_notices``, ``handlers.agency_notices``) only add buttons. Params are plain
values chosen by ``workflow.notifications``; here they become text: ISO times (``…due``) in local
time with the weekday, lists joined, the 挂牌督办 and anonymity marks, the clock a reminder is about,
how late a 催办 is, then the renderer's one rule (``Translator.param``: in the reader's script unless a
person wrote it; escaped). A missing parameter shows as "—" rather than failing a delivery that a person is waiting for.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from handlers.agency_cards import duration_words, local_time
from handlers.texts import Translator

MISSING = "—"


class _Params(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return MISSING


def _show(name: str, value: Any, zone: ZoneInfo, issued_at: datetime | None, tr: Translator) -> str:
    if value is None or value == "" or value == [] or value == ():
        return MISSING
    if isinstance(value, bool):
        text = "是" if value else "否"
    elif isinstance(value, list | tuple):
        text = "、".join(str(item) for item in value)
    elif name.endswith("due") and isinstance(value, str):
        try:
            return local_time(tr, value, zone, issued_at)
        except ValueError:
            text = value
    else:
        text = str(value)
    return tr.param(name, text)


def notice_key(kind: str, params: dict[str, Any]) -> str:
    """The catalogue key of a notice; some kinds have one text per outcome, and one more (``.passed``)
    for a deadline that had already passed when the notice was made."""
    key = f"notice.{kind}"
    if "approved" in params:  # an extension decision
        key += ".approved" if params["approved"] else ".refused"
    elif params.get("disputed"):  # the decline that sent the complaint to oversight
        key += ".disputed"
    elif params.get("decline_disputes"):  # a transfer whose 退回 would go to oversight; back to a decliner?
        key += ".again" if params.get("declined_before") else ".last"
    elif params.get("handles") is False:  # a ruling, to an agency of the dispute that was not named
        key += ".elsewhere"
    if params.get("due_passed"):
        key += ".passed"
    return key


def render_notice(
    kind: str, params: dict[str, Any], tr: Translator, zone: ZoneInfo, issued_at: datetime | None = None
) -> str:
    key = notice_key(kind, params)
    if not tr.has(key):
        key = "notice.generic"
    values = _Params({name: _show(name, value, zone, issued_at, tr) for name, value in params.items()})
    values["major"] = tr("agency.major") if params.get("major") else ""
    values["anonymous"] = tr("notice.anonymous") if params.get("anonymous") else ""
    if params.get("clock"):
        values["clock"] = tr(f"agency.clock.{params['clock']}")
    values["overdue_by"] = _overdue_by(params, tr)
    return tr(key).format_map(values)


def _overdue_by(params: dict[str, Any], tr: Translator) -> str:
    """ "，已超时 2个工作日3小时" for a 催办 or 督办 read after its deadline (the timekeeper's working
    minutes, in the card's words); empty when on time or not about a deadline."""
    minutes = params.get("overdue_by_minutes")
    if not isinstance(minutes, int) or minutes <= 0:
        return ""
    day = timedelta(minutes=params.get("working_day_minutes") or 0)
    return tr("notice.overdue_by", amount=duration_words(tr, timedelta(minutes=minutes), day))
