"""Normalisation: one canonical form for matching, and every index maps back to what was written."""

from __future__ import annotations

import pytest

from nlp.normalize import normalize, to_half_width


def test_traditional_is_converted_to_simplified_and_reported_as_traditional() -> None:
    result = normalize("縣機關工作作風評議")
    assert result.text == "县机关工作作风评议"
    assert result.script == "zh-Hant"


def test_simplified_text_is_left_alone_and_reported_as_simplified() -> None:
    result = normalize("窗口工作人员态度恶劣")
    assert result.text == "窗口工作人员态度恶劣"
    assert result.script == "zh-Hans"


def test_one_stray_variant_character_does_not_make_a_text_traditional() -> None:
    assert normalize("他在窗口前面等了很久，乾着急").script == "zh-Hans"


def test_pinyin_glosses_from_the_seeds_are_removed() -> None:
    result = normalize("縣機關(guān)工作作風(fēng)建設(shè)")
    assert result.text == "县机关工作作风建设"


def test_brackets_that_are_not_pinyin_are_kept() -> None:
    assert normalize("县(区)效能办(简称效能办)").text == "县(区)效能办(简称效能办)"


def test_full_width_letters_and_digits_become_half_width() -> None:
    assert normalize("ＡＢＣ１２３").text == "ABC123"
    assert to_half_width("１２３　ａ") == "123 a"


def test_emoji_and_spaces_between_chinese_are_dropped_but_words_keep_one_space() -> None:
    result = normalize("我家 门口\n有个坑😡😡 ！  road   work")
    assert result.text == "我家门口有个坑!road work"


def test_every_normalised_character_maps_back_to_its_original_character() -> None:
    original = "縣機關(guān) 工作😀作風(fēng)，１２３ abc"
    result = normalize(original)
    for index, char in enumerate(result.text):
        source = original[result.original_index(index)]
        assert to_half_width(source) == char or normalize(source).text == char


def test_a_span_of_normalised_text_maps_to_the_word_as_written() -> None:
    original = "關(guān)於建設(shè)局的投訴"
    result = normalize(original)
    start = result.text.index("建设局")
    begin, end = result.original_span(start, start + 3)
    assert original[begin:end] == "建設(shè)局"


@pytest.mark.parametrize("text", ["", "   ", "😀"])
def test_empty_or_pure_noise_text_normalises_to_nothing(text: str) -> None:
    result = normalize(text)
    assert result.text == ""
    assert result.original_span(0, 0) == (len(text), len(text))
