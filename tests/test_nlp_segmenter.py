"""The tagger's segmenter cuts exactly like ``jieba.Tokenizer.lcut(text, HMM=False)``."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import jieba
import pytest

from nlp.normalize import normalize
from nlp.segmenter import Segmenter

REPO = Path(__file__).resolve().parent.parent
DEV = REPO.parent / "shared" / "data" / "tipdm2020" / "dev.csv"


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
    assert Segmenter.from_tokenizer(tokenizer).lcut(text) == tokenizer.lcut(text, HMM=False)


@pytest.mark.skipif(not DEV.exists(), reason="shared data not present")
def test_segmenter_matches_jieba_on_real_messages(tokenizer: jieba.Tokenizer) -> None:
    segmenter = Segmenter.from_tokenizer(tokenizer)
    with DEV.open(encoding="utf-8", newline="") as file:
        texts = [row["text"] for _, row in zip(range(800), csv.DictReader(file), strict=False)]
    for text in texts:
        for variant in (text, normalize(text).text):
            assert segmenter.lcut(variant) == tokenizer.lcut(variant, HMM=False)


RULE_WORDS = {"推诿扯皮", "不动产登记中心", "吃拿卡要"}
SAMPLE = "到不动产登记中心办证，工作人员推诿扯皮还吃拿卡要，A3区ab12路"


def test_the_cached_dictionary_cuts_like_the_one_it_was_built_from(tmp_path: Path) -> None:
    built = Segmenter.for_words(RULE_WORDS, tmp_path)
    (cache,) = tmp_path.iterdir()
    loaded = Segmenter.for_words(RULE_WORDS, tmp_path)
    assert loaded.lcut(SAMPLE) == built.lcut(SAMPLE)
    assert "推诿扯皮" in loaded.lcut(SAMPLE)
    assert len(loaded._logp) == len(built._logp)

    cache.write_bytes(cache.read_bytes()[:-5])  # a torn write: rebuilt, not trusted
    rebuilt = Segmenter.for_words(RULE_WORDS, tmp_path)
    assert rebuilt.lcut(SAMPLE) == built.lcut(SAMPLE)
    assert len(Segmenter._read(cache)._logp) == len(built._logp)


def test_a_warm_start_does_not_import_jieba(tmp_path: Path) -> None:
    Segmenter.for_words(RULE_WORDS, tmp_path)
    script = (
        "import sys; from pathlib import Path; from nlp.segmenter import Segmenter; "
        f"s = Segmenter.for_words({sorted(RULE_WORDS)!r}, Path({str(tmp_path)!r})); "
        f"print(s.lcut({SAMPLE!r})[1], 'jieba' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=REPO)
    assert result.stdout.split() == ["不动产登记中心", "False"]
