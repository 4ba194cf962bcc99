"""The tagger's segmenter cuts exactly like ``jieba.Tokenizer.lcut(text, HMM=False)``."""

from __future__ import annotations

import csv
from pathlib import Path

import jieba
import pytest

from nlp.normalize import normalize
from nlp.segmenter import Segmenter

DEV = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "tipdm2020" / "dev.csv"


@pytest.fixture(scope="module")
def tokenizer() -> jieba.Tokenizer:
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    tokenizer.add_word("推诿扯皮")
    return tokenizer


@pytest.mark.parametrize(
    "text",
    [
        "",
        "推诿扯皮还吃拿卡要",
        "A市A3区ab12 路 3号 楼，电话13812345678！",
        "hello world\r\n再见\t了 x.y_z%+#&",
        "𠀀生僻字和emoji😀混排",
    ],
)
def test_segmenter_matches_jieba_on_tricky_text(tokenizer: jieba.Tokenizer, text: str) -> None:
    assert Segmenter(tokenizer).lcut(text) == tokenizer.lcut(text, HMM=False)


@pytest.mark.skipif(not DEV.exists(), reason="shared data not present")
def test_segmenter_matches_jieba_on_real_messages(tokenizer: jieba.Tokenizer) -> None:
    segmenter = Segmenter(tokenizer)
    with DEV.open(encoding="utf-8", newline="") as file:
        texts = [row["text"] for _, row in zip(range(800), csv.DictReader(file), strict=False)]
    for text in texts:
        for variant in (text, normalize(text).text):
            assert segmenter.lcut(variant) == tokenizer.lcut(variant, HMM=False)
