"""Splitting a long HTML reply into messages Telegram accepts (at most 4,096 characters each).

Telegram counts UTF-16 code units, so an emoji counts twice. A cut never falls inside an HTML
tag or entity (``&amp;``), and formatting open at a cut is closed there and reopened in the next
message, so every piece is valid HTML on its own. Cuts prefer a line break, then a sentence end.
"""

from __future__ import annotations

import re

TELEGRAM_LIMIT = 4096
_TOKEN = re.compile(r"<[^<>]*>|&#?[A-Za-z0-9]+;|.", re.DOTALL)
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)")
_LINE_END = "\n"
_SENTENCE_END = set("。！？；!?;…")


def utf16_length(text: str) -> int:
    """Length as Telegram measures it."""
    return len(text.encode("utf-16-le")) // 2


def _after(stack: tuple[tuple[str, str], ...], token: str) -> tuple[tuple[str, str], ...]:
    """The open-tag stack after ``token``: (name, opening tag) pairs, innermost last."""
    tag = _TAG.match(token) if token.startswith("<") else None
    if tag is None:
        return stack
    closing, name = tag.group(1), tag.group(2).lower()
    if not closing:
        return (*stack, (name, token))
    for index in range(len(stack) - 1, -1, -1):
        if stack[index][0] == name:
            return stack[:index] + stack[index + 1 :]
    return stack


def _closing(stack: tuple[tuple[str, str], ...]) -> str:
    return "".join(f"</{name}>" for name, _ in reversed(stack))


def split_html(text: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """``text`` as pieces of at most ``limit`` UTF-16 units, each valid HTML by itself."""
    if utf16_length(text) <= limit:
        return [text]
    tokens = _TOKEN.findall(text)
    pieces: list[str] = []
    stack: tuple[tuple[str, str], ...] = ()
    start = 0
    while start < len(tokens):
        reopen = "".join(opening for _, opening in stack)
        size = utf16_length(reopen)
        current = stack
        # (cut index, stack there, rank): a line break beats a sentence end beats anything.
        best: tuple[int, tuple[tuple[str, str], ...], int] | None = None
        index = start
        while index < len(tokens):
            token = tokens[index]
            following = _after(current, token)
            token_size = utf16_length(token)
            if size + token_size + utf16_length(_closing(following)) > limit and index > start:
                break
            size += token_size
            current = following
            index += 1
            rank = 2 if token == _LINE_END else 1 if token in _SENTENCE_END else 0
            if rank and size * 2 >= limit and (best is None or rank >= best[2]):
                best = (index, current, rank)
        if index < len(tokens) and best is not None:
            index, current = best[0], best[1]
        body = "".join(tokens[start:index])
        piece = reopen + body + _closing(current)
        if body.strip():
            pieces.append(piece.strip("\n"))
        stack, start = current, index
    return pieces
