"""The message catalogue and the safe splitting of long replies."""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.errors import error_text
from handlers.long_text import split_html, utf16_length
from handlers.texts import TEXTS_DIR, Texts, default_texts
from storage.datafile import DataFileError
from workflow.errors import CODES, DomainError


@pytest.fixture
def texts_dir(tmp_path: Path) -> Path:
    """A copy of the shipped catalogue to break."""
    target = tmp_path / "texts"
    shutil.copytree(TEXTS_DIR, target)
    return target


def test_every_domain_error_code_has_its_own_text_in_both_scripts() -> None:
    for lang in ("zh-Hans", "zh-Hant"):
        tr = default_texts()(lang)
        for code in CODES:
            assert error_text(DomainError(code), tr) != tr("error.unknown"), code
    assert error_text(RuntimeError("boom"), default_texts()("zh-Hans")) == default_texts()("zh-Hans")("error.unknown")


def test_traditional_is_converted_from_simplified_with_the_overrides_applied() -> None:
    hant = default_texts()("zh-Hant")
    assert "投訴" in hant("welcome", name="x") and "窗口單位" in hant("welcome", name="x")
    assert "權限" in hant("error.not_allowed") and "許可權" not in hant("error.not_allowed")


def test_parameters_are_escaped_but_the_catalogues_markup_is_kept() -> None:
    text = default_texts()("zh-Hans")("welcome", name="<b>李</b>&")
    assert "&lt;b&gt;李&lt;/b&gt;&amp;" in text and "<b>民声</b>" in text


def test_a_message_defined_in_two_catalogue_files_is_refused_with_its_line(texts_dir: Path) -> None:
    (texts_dir / "zh-Hans.extra.yaml").write_text("messages:\n  other: 好\n  help: 重复\n", encoding="utf-8")
    with pytest.raises(DataFileError) as raised:
        Texts.load(texts_dir)
    assert "zh-Hans.extra.yaml:3: messages.help: already defined in zh-Hans.yaml" in str(raised.value)


def test_a_malformed_placeholder_is_refused_with_its_line(texts_dir: Path) -> None:
    (texts_dir / "zh-Hans.extra.yaml").write_text("messages:\n  ok: 好\n  broken: 您好 {name\n", encoding="utf-8")
    with pytest.raises(DataFileError) as raised:
        Texts.load(texts_dir)
    assert "zh-Hans.extra.yaml:3: messages.broken: expected '}'" in str(raised.value)


def test_an_override_must_name_an_existing_message_with_the_same_placeholders(texts_dir: Path) -> None:
    (texts_dir / "zh-Hant.overrides.yaml").write_text(
        "messages:\n  welcome: 您好！\n  nonexistent: 什麼\n", encoding="utf-8"
    )
    with pytest.raises(DataFileError) as raised:
        Texts.load(texts_dir)
    problems = str(raised.value)
    assert "overrides.yaml:2: messages.welcome: placeholders differ" in problems
    assert "overrides.yaml:3: messages.nonexistent: no such message" in problems


TOKENS = st.sampled_from(["字", "😀", "&amp;", "&lt;", "。", "\n", "a", " ", "<b>粗</b>", "<i>斜<b>粗</b></i>"])


@settings(max_examples=60, deadline=None)
@given(st.lists(TOKENS, min_size=1, max_size=600), st.integers(min_value=20, max_value=300))
def test_split_pieces_fit_the_limit_keep_entities_and_pairs_whole_and_balance_tags(
    tokens: list[str], limit: int
) -> None:
    text = "".join(tokens)
    pieces = split_html(text, limit)
    for piece in pieces:
        assert utf16_length(piece) <= limit
        assert not re.search(r"&[a-z]*$|^[a-z]*;", piece)  # no entity cut in half
        assert "\ud83d" not in piece  # never half an emoji
        for tag in ("b", "i"):
            assert piece.count(f"<{tag}>") == piece.count(f"</{tag}>")
    visible = html.unescape(re.sub(r"<[^>]+>", "", "".join(pieces)))
    assert re.sub(r"\s", "", visible) == re.sub(r"\s", "", html.unescape(re.sub(r"<[^>]+>", "", text)))


def test_a_split_prefers_a_line_break() -> None:
    text = "第一段" * 30 + "\n" + "第二段" * 30
    first, second = split_html(text, 120)
    assert first == "第一段" * 30 and second == "第二段" * 30
