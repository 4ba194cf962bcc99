"""Personal data in complaint texts: found as spans, so anything published can be redacted.

The monthly publication quotes complaints; phone numbers, ID numbers, bank cards and e-mail
addresses must never appear in it. Detection errs on the side of masking: a 16–19 digit run that is
not an ID number is treated as a card number even when its check digit is wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from nlp.normalize import to_half_width

_SEP = r"[ \-]?"
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("email", re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}", re.ASCII)),
    (
        "id_number",
        re.compile(
            r"(?<!\d)[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![\dA-Za-z])"
        ),
    ),
    ("bank_card", re.compile(r"(?<!\d)(?:\d{4}[ \-]){3,4}\d{1,7}(?!\d)|(?<!\d)[1-9]\d{15,18}(?!\d)")),
    ("mobile", re.compile(rf"(?<!\d)(?:\+?86{_SEP})?1[3-9]\d{_SEP}\d{{4}}{_SEP}\d{{4}}(?!\d)")),
    # A landline needs its area code: a bare 7–8 digit number is too often an amount or a case number.
    ("landline", re.compile(r"(?<!\d)\(?0\d{2,3}\)?[ \-]?[2-8]\d{6,7}(?:[-转]\d{1,5})?(?!\d)")),
)
#: Every kind but e-mail needs seven or more digits, possibly split by spaces or dashes.
_DIGIT_RUN = re.compile(r"\d(?:[ \-()]?\d){6}")
_AREA_CODE = re.compile(r"^\(?0\d{2,3}")
_MASKS = {"id_number": "[身份证号]", "bank_card": "[银行卡号]", "email": "[电子邮箱]"}


@dataclass(frozen=True, slots=True)
class PersonalSpan:
    kind: str  # "mobile" | "landline" | "id_number" | "bank_card" | "email"
    start: int  # offsets into the text given, end exclusive
    end: int


def find_personal_data(text: str) -> list[PersonalSpan]:
    """Every piece of personal data in ``text``, in order, without overlaps (the stronger kind wins)."""
    half = to_half_width(text)  # same length, so offsets stay valid for ``text``
    if "@" not in half and not _DIGIT_RUN.search(half):
        return []  # the common case, decided in one pass
    taken: list[PersonalSpan] = []
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(half):
            start, end = match.span()
            if kind == "bank_card" and sum(ch.isdigit() for ch in match.group()) < 16:
                continue
            if any(start < span.end and span.start < end for span in taken):
                continue
            taken.append(PersonalSpan(kind, start, end))
    return sorted(taken, key=lambda span: span.start)


def _mask(kind: str, value: str) -> str:
    digits = [ch for ch in to_half_width(value) if ch.isdigit()]
    if kind == "mobile" and len(digits) >= 11:
        local = "".join(digits[-11:])
        return f"{local[:3]}****{local[-4:]}"
    if kind == "landline":
        match = _AREA_CODE.match(to_half_width(value))
        return f"{match.group().lstrip('(')}-****" if match else "[电话号码]"
    return _MASKS.get(kind, "[个人信息]")


def redact(text: str) -> str:
    """``text`` fit for publication: 138****5678 for mobiles, 0731-**** for landlines, [身份证号] etc."""
    spans = find_personal_data(text)
    if not spans:
        return text
    pieces, cursor = [], 0
    for span in spans:
        pieces.append(text[cursor : span.start])
        pieces.append(_mask(span.kind, text[span.start : span.end]))
        cursor = span.end
    pieces.append(text[cursor:])
    return "".join(pieces)
