"""Text normalisation before matching: one canonical form for rules, with a way back to the original.

Citizens write Traditional or Simplified, type full-width digits, paste text with pinyin glosses
(`建設(shè)`), spaces and emoji. Rules are written once, in Simplified; matching runs on the normalised
text, and every index in it maps back to the original so evidence points at what the citizen wrote.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import cache

import opencc

_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ"
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
#: A plain pinyin syllable (no tone mark): initial, vowels, optional nasal or r ending.
_SYLLABLE = re.compile(r"(?:zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])?[aeiouvü]{1,3}(?:ng|n|r)?")
#: A gloss in brackets right after a Chinese character: `設(shè)`, `導（dǎo）`.
_GLOSS = re.compile(rf"(?<=[{_CJK}])[(（]([a-z{_TONED}]{{1,7}})[)）]")
_EMOJI = re.compile(
    "[\U0001f000-\U0001faff\U00002600-\U000027bf\U0001f1e6-\U0001f1ff\u2b00-\u2bff\ufe0e\ufe0f\u200b-\u200d\u2060]+"
)
_SPACE = re.compile(r"\s+")
#: Full-width ASCII (U+FF01–U+FF5E) and the ideographic space, to their half-width forms.
_HALF_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


@cache
def _converter(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(config)


def to_half_width(text: str) -> str:
    """Full-width letters, digits and punctuation to ASCII; the length never changes."""
    return text.translate(_HALF_WIDTH)


@dataclass(frozen=True, slots=True)
class Normalized:
    """The normalised text, which script the writer used, and the way back to the original.

    ``_anchors`` are sorted ``(index in text, index in original)`` pairs; between two anchors the
    characters correspond one to one, so an index maps back with one binary search.
    """

    original: str
    text: str
    script: str  # "zh-Hans" | "zh-Hant"
    _norm_starts: tuple[int, ...]
    _orig_starts: tuple[int, ...]

    def original_index(self, index: int) -> int:
        """The index in the original text of the character at ``index`` in ``text``."""
        if index >= len(self.text):
            return len(self.original)
        slot = bisect_right(self._norm_starts, index) - 1
        return self._orig_starts[slot] + index - self._norm_starts[slot]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """``text[start:end]`` as a span of the original text (end exclusive)."""
        if end <= start:
            at = self.original_index(start)
            return at, at
        return self.original_index(start), self.original_index(end - 1) + 1


def _removals(text: str) -> list[tuple[int, int, str]]:
    """Spans to drop or replace: pinyin glosses, emoji, whitespace (one space kept between ASCII words)."""
    spans: list[tuple[int, int, str]] = []
    for match in _GLOSS.finditer(text):
        syllable = match.group(1)
        if any(ch in _TONED for ch in syllable) or _SYLLABLE.fullmatch(syllable):
            spans.append((match.start(), match.end(), ""))
    for match in _EMOJI.finditer(text):
        spans.append((match.start(), match.end(), ""))
    for match in _SPACE.finditer(text):
        start, end = match.span()
        before = text[start - 1] if start else ""
        after = text[end] if end < len(text) else ""
        between_words = before.isascii() and before.isalnum() and after.isascii() and after.isalnum()
        if not between_words:
            spans.append((start, end, ""))
        elif match.group() != " ":
            spans.append((start, end, " "))
    spans.sort()
    merged: list[tuple[int, int, str]] = []
    for span in spans:
        if merged and span[0] < merged[-1][1]:
            continue  # overlapping noise (a space inside an emoji run): the first one wins
        merged.append(span)
    return merged


def _script_of(text: str, simplified: str) -> str:
    """zh-Hant when the writer used Traditional forms: a stray variant (one 著 or 乾) is not enough."""
    changed = sum(1 for a, b in zip(text, simplified, strict=True) if a != b)
    han = max(1, sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff"))
    return "zh-Hant" if changed >= 2 or changed / han >= 0.1 else "zh-Hans"


def normalize(text: str) -> Normalized:
    """Simplified, half-width, without pinyin glosses, emoji or stray spaces; original kept as written."""
    half = to_half_width(text)
    removals = _removals(half)
    if removals:
        pieces: list[str] = []
        norm_starts, orig_starts = [0], [0]
        cursor, length = 0, 0
        for start, end, replacement in removals:
            pieces.append(half[cursor:start])
            length += start - cursor
            if replacement:
                norm_starts.append(length)
                orig_starts.append(start)
                pieces.append(replacement)
                length += len(replacement)
            norm_starts.append(length)
            orig_starts.append(end)
            cursor = end
        pieces.append(half[cursor:])
        cleaned = "".join(pieces)
    else:
        cleaned, norm_starts, orig_starts = half, [0], [0]
    simplified = _converter("t2s").convert(cleaned)
    if len(simplified) != len(cleaned):
        # Phrase conversion changed the length (very rare): convert character by character instead.
        simplified = "".join(_converter("t2s").convert(ch) or ch for ch in cleaned)
        if len(simplified) != len(cleaned):
            simplified = cleaned
    script = "zh-Hans" if simplified == cleaned else _script_of(cleaned, simplified)
    return Normalized(text, simplified, script, tuple(norm_starts), tuple(orig_starts))
