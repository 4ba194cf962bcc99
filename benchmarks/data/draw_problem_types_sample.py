"""Draw the messages of ``problem_types_real.csv`` from ``unlabeled.csv`` (labels are added by hand).

    uv run python benchmarks/data/draw_problem_types_sample.py --out /tmp/sample.csv
    # a further batch, none of the rows already drawn:
    uv run python benchmarks/data/draw_problem_types_sample.py --out /tmp/b.csv --seed 2 \
        --per-stratum 125 --exclude benchmarks/data/problem_types_real.csv

Two strata of 150 messages each (``--per-stratum``), seed 20260523 (``--seed``):

* ``conduct``: messages where the problem-type rules fire or that contain a conduct-like word
  (CONDUCT_WORDS, general words citizens use about officials, wider than the rules);
* ``random``: a plain random sample of the remaining messages.

The split is fixed by a hash of the row number (``split_of``), decided before any tuning. The committed
sample was drawn with the rules of commit 1e46bf7 (before any tuning); rerunning with later rules gives a
different conduct stratum. Rows are shuffled together so the labeller cannot tell the strata apart.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import logging
import random
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from nlp.tagger import Tagger  # noqa: E402
from storage.catalogue import load_catalogue  # noqa: E402

SEED = 20260523
PER_STRATUM = 150
DATA = REPO.parent / "shared" / "data" / "tipdm2020" / "unlabeled.csv"
CONDUCT_WORDS = (
    "推诿", "踢皮球", "扯皮", "不作为", "乱作为", "慢作为", "不管不问", "没人管", "无人管", "敷衍", "态度",
    "拖延", "拖拉", "迟迟", "乱收费", "罚款", "摊派", "刁难", "腐败", "贪污", "红包", "好处费", "回扣",
    "以权谋私", "滥用职权", "打击报复", "不公开", "暗箱", "公示", "违规", "违法", "强制", "强行",
    "没有回复", "没有回音", "置之不理", "不理", "找不到人", "打不通", "无人接听", "不予", "失职", "渎职",
    "包庇", "黑幕", "官僚", "不负责", "不办", "骂", "监管不力", "相互推", "互相推",
)  # fmt: skip


def split_of(row: int) -> str:
    """``tune`` or ``eval``, from the row number alone."""
    digest = hashlib.sha256(f"problem-types-real:{row}".encode()).digest()
    return "tune" if digest[0] % 2 == 0 else "eval"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--per-stratum", type=int, default=PER_STRATUM)
    parser.add_argument("--exclude", type=Path, action="append", default=[], help="CSV whose rows are not drawn again")
    args = parser.parse_args()
    excluded = set()
    for path in args.exclude:
        with path.open(encoding="utf-8", newline="") as file:
            excluded.update(int(row["row"]) for row in csv.DictReader(file))
    logging.getLogger("jieba").setLevel(logging.WARNING)
    tagger = Tagger.load(REPO / "nlp" / "rules", load_catalogue(REPO / "storage" / "data" / "agencies.yaml").agencies)
    with args.data.open(encoding="utf-8") as file:
        texts = [row["text"] for row in csv.DictReader(file)]
    seen = {texts[row] for row in excluded}  # nor a re-post of one
    rows = []
    for row, text in enumerate(texts):
        if text.strip() and text not in seen:
            seen.add(text)
            rows.append(row)
    conduct = [r for r in rows if tagger.tag(texts[r]).problem_types or any(w in texts[r] for w in CONDUCT_WORDS)]
    rng = random.Random(args.seed)
    picked = {r: "conduct" for r in rng.sample(conduct, args.per_stratum)}
    rest = [r for r in rows if r not in picked]
    picked.update({r: "random" for r in rng.sample(rest, args.per_stratum)})
    order = sorted(picked)
    rng.shuffle(order)
    with args.out.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["row", "split", "stratum", "labels", "text"])
        for row in order:
            writer.writerow([row, split_of(row), picked[row], "", texts[row]])
    print(f"{len(conduct)} of {len(rows)} distinct messages in the conduct stratum; wrote {len(order)} rows")


if __name__ == "__main__":
    main()
