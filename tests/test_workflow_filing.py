"""The rules of a draft complaint and of numbers as people type them (pure functions)."""

from __future__ import annotations

import pytest

from workflow.citizen_view import parse_tracking_no
from workflow.filing import MAX_CHARS, append_text, is_blank, parse_phone


def test_text_beyond_the_limit_is_cut_and_counted() -> None:
    full = append_text(["字" * (MAX_CHARS - 5)], "一二三四五六七")
    assert (full.chars, full.kept, full.dropped) == (MAX_CHARS, 5, 2)
    over = append_text(full.parts, "还有")
    assert (over.parts, over.kept, over.dropped) == (full.parts, 0, 2)


@pytest.mark.parametrize("blank", ["", "   ", "\n\u3000\n", "\t"])
def test_blank_is_only_whitespace(blank: str) -> None:
    assert is_blank(blank) and not is_blank(" 有 ")


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("13812345678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("８６１３８１２３４５６７８", "13812345678"),
        ("(0571) 87654321", "057187654321"),
        ("0571-87654321", "0571-87654321"),
        ("12345", None),
        ("23812345678", None),
    ],
)
def test_phone_numbers_as_people_type_them(typed: str, stored: str | None) -> None:
    assert parse_phone(typed) == stored


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("202612030001", "20261203-0001"),
        ("#20261203-0001", "20261203-0001"),
        ("受理编号20261203-0001", "20261203-0001"),
        ("受理编号：２０２６１２０３－０００１", "20261203-0001"),
        ("受理編號：20261203-0001", "20261203-0001"),
        ("投訴編號 20261203 0001", "20261203-0001"),
        ("（20261203-0001）。", "20261203-0001"),
        ("20261203.0001?", "20261203-0001"),
        ("abc", None),
        ("20261203", None),
        ("我的编号是20261203-0001吗", None),
    ],
)
def test_tracking_numbers_as_people_paste_them(typed: str, stored: str | None) -> None:
    assert parse_tracking_no(typed) == stored
