"""Personal data in complaint texts: found as spans, so anything published can be redacted.

The monthly publication quotes complaints; phone numbers, ID numbers, bank cards, e-mail addresses,
car plates, WeChat ids and QQ numbers must never appear in it. Detection errs on the side of masking: a
16–19 digit run that is not an ID number is treated as a card number even when its check digit is wrong.
A value recognisable only by the word introducing it (微信：zhang_888, QQ 12345678, 座机83451234) is
found together with that word, so the span's text alone is still recognised when redacted on its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from nlp.normalize import to_half_width

_SEP = r"[ \-]?"
#: Between an introducing word and its value: 微信：x, 微信号 x, QQ号是x, 电话；x.
_INTRO_SEP = r"\s*(?:[:：;；]|是|为)?\s*"
#: The provinces' one-character names, which begin a car plate.
_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("email", re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}", re.ASCII)),
    # An ID number whole or in its parts as people group it: 330106 19800101 1234.
    (
        "id_number",
        re.compile(
            rf"(?<!\d)[1-9]\d{{5}}{_SEP}(?:18|19|20)\d{{2}}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]){_SEP}\d{{3}}[\dXx]"
            r"(?![\dA-Za-z])"
        ),
    ),
    ("bank_card", re.compile(r"(?<!\d)(?:\d{4}[ \-]){3,4}\d{1,7}(?!\d)|(?<!\d)[1-9]\d{15,18}(?!\d)")),
    ("mobile", re.compile(rf"(?<!\d)(?:\+?86{_SEP})?1[3-9]\d{_SEP}\d{{4}}{_SEP}\d{{4}}(?!\d)")),
    # A landline needs its area code: a bare 7–8 digit number is too often an amount or a case number.
    ("landline", re.compile(r"(?<!\d)\(?0\d{2,3}\)?[ \-]?[2-8]\d{6,7}(?:[-转]\d{1,5})?(?!\d)")),
    # ... unless a word says it is a phone: 座机83451234, 联系电话：8345123.
    ("landline", re.compile(rf"(?:电话|座机|固话)(?:号码?)?{_INTRO_SEP}[2-8]\d{{6,7}}(?!\d)")),
)
#: Kinds that need neither an @ nor seven digits, tried after the others.
_CONTACT_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    # 粤B12345, 粤B·D12345 and 粤B12345D (new energy), 粤B1234警; three digits at least (find_personal_data).
    (
        "plate",
        re.compile(
            rf"[{_PROVINCES}][A-Za-z][ ·・.\-]?"
            r"(?:[DFdf][A-Za-z0-9]\d{4}|\d{5}[DFdf]|[A-Za-z0-9]{5}|[A-Za-z0-9]{4}[警学挂港澳领试超])(?![A-Za-z0-9])"
        ),
    ),
    # 微信/V信/vx/wx and an id of 6–20 characters starting with a letter, or wxid_… on its own.
    (
        "wechat",
        re.compile(
            rf"[微vVwW][信xX](?:id_[A-Za-z0-9_-]{{4,30}}|号?{_INTRO_SEP}[A-Za-z][A-Za-z0-9_-]{{5,19}}(?![A-Za-z0-9_-]))"
        ),
    ),
    # QQ 123456789, qq号：12345678, 扣扣12345: 5–11 digits, never starting with 0.
    ("qq", re.compile(rf"[Qq扣]{{2}}(?:号码?)?{_INTRO_SEP}[1-9]\d{{4,10}}(?!\d)")),
)
#: ``_PATTERNS`` need an @ or seven or more digits, possibly split by spaces or dashes; ``_CONTACT_PATTERNS``
#: the first two characters of a plate, a WeChat or a QQ pattern. Tried apart: one alternation is slower.
_DIGIT_RUN = re.compile(r"\d(?:[ \-()]?\d){6}")
_CONTACT_START = re.compile(rf"[{_PROVINCES}微vVwWqQ扣][A-Za-z信扣]")
_AREA_CODE = re.compile(r"^\(?0\d{2,3}")
_MASKS = {
    "id_number": "[身份证号]",
    "bank_card": "[银行卡号]",
    "email": "[电子邮箱]",
    "wechat": "[微信号]",
    "qq": "[QQ号]",
}


@dataclass(frozen=True, slots=True)
class PersonalSpan:
    kind: str  # "mobile" | "landline" | "id_number" | "bank_card" | "email" | "plate" | "wechat" | "qq"
    start: int  # offsets into the text given, end exclusive
    end: int


def find_personal_data(text: str) -> list[PersonalSpan]:
    """Every piece of personal data in ``text``, in order, without overlaps (the stronger kind wins)."""
    half = to_half_width(text)  # same length, so offsets stay valid for ``text``
    patterns = _PATTERNS if "@" in half or _DIGIT_RUN.search(half) else ()
    if _CONTACT_START.search(half):
        patterns += _CONTACT_PATTERNS
    taken: list[PersonalSpan] = []
    for kind, pattern in patterns:  # mostly none
        for match in pattern.finditer(half):
            start, end = match.span()
            digits = sum(ch.isdigit() for ch in match.group())
            if (kind == "bank_card" and digits < 16) or (kind == "plate" and digits < 3):
                continue  # a short grouped number; a word such as 新iPhone
            if any(start < span.end and span.start < end for span in taken):
                continue
            taken.append(PersonalSpan(kind, start, end))
    return sorted(taken, key=lambda span: span.start)


def _mask(kind: str, value: str) -> str:
    digits = [ch for ch in to_half_width(value) if ch.isdigit()]
    if kind == "mobile" and len(digits) >= 11:
        local = "".join(digits[-11:])
        return f"{local[:3]}****{local[-4:]}"
    if kind == "plate":
        return f"{value[:2]}*****"
    if kind == "landline":
        match = _AREA_CODE.match(to_half_width(value))
        return f"{match.group().lstrip('(')}-****" if match else "[电话号码]"
    return _MASKS.get(kind, "[个人信息]")


def redact(text: str) -> str:
    """``text`` fit for publication: 138****5678 for mobiles, 0731-**** for landlines, 粤B***** for plates,
    [身份证号], [微信号] etc."""
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


def excerpt(text: str | None, limit: int = 60) -> str:
    """The start of a text for a list (the dashboard's queues, the office's /overdue in the bot), its
    personal data masked for every viewer: lists are read at a glance, on shared screens. Masked before
    it is cut, so a cut never leaves part of a number showing."""
    masked = redact(text or "")
    return masked if len(masked) <= limit else masked[:limit] + "…"
