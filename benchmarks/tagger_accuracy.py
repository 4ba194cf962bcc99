"""Area accuracy of the rule tagger on labelled messages, next to a TF-IDF + linear SVM peer.

    uv run --group bench python benchmarks/tagger_accuracy.py [--data ../shared/data/tipdm2020/dev.csv]
    uv run --group bench python benchmarks/tagger_accuracy.py --no-svm --write-rules nlp/rules/areas.yaml

The committed area rules were learned from dev.csv, so their score on dev.csv is a tuning figure. The
honest figure is cross-validated: for each of k folds, the keyword weights of the labelled areas are
learned again (``nlp.mining.learn_weights``, same settings) from the other k-1 folds only, and the
held-out fold is tagged; the other areas keep their hand-set keywords. The SVM is trained and tested
on the same folds. Prints a confusion matrix, recall per area and one summary line.

``--write-rules`` learns the labelled areas from all of the data and writes the areas file (header,
settings, hand-set areas kept as they are) for a person to review and commit.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from nlp.mining import Sample, candidate_words, learn_weights, read_labelled, render_areas  # noqa: E402
from nlp.normalize import normalize  # noqa: E402
from nlp.rulebook import AreasFile  # noqa: E402
from nlp.tagger import Tagger  # noqa: E402
from storage.catalogue import load_catalogue  # noqa: E402
from storage.vocabulary import AREAS  # noqa: E402

#: As used for the committed areas.yaml (``learn_weights``' other settings are its defaults).
LEARNING = {"min_count": 5, "epochs": 15, "refit": 15, "l1": 1.2e-4}
#: Hand-set words of the labelled areas: always candidates for their area, never penalised there.
SEEDS = {
    "城乡建设": ["下水道", "市政", "安置房"],
    "环境保护": ["异味", "垃圾焚烧", "油烟"],
    "交通运输": ["驾照", "收费站", "运管", "航班"],
    "教育文体": ["孩子上学", "图书馆", "校车"],
    "商贸旅游": ["超市", "假冒", "预付卡"],
}
HEADER = """\
# 诉求领域规则 — area rules. Edit freely, then run `minsheng rules check`.
#
# Under each of the 15 areas: keyword: weight, how strongly the word points to that area. A
# complaint's score for an area is the sum of the weights of that area's keywords found in the text (a
# word repeated counts a little more each time, not double), plus `agency_bonus` times the confidence
# for the area of a confidently named agency. Only areas with a keyword in the text (or the named
# agency's) compete; the highest score wins if it reaches `min_score`, otherwise the area is left open
# and the citizen is asked. The clerk sees the winning area's keywords as the evidence.
# A word may be listed under more than one area, with a weight in each (垃圾 counts for 城乡建设 and
# for 环境保护; the text's other words decide); listed twice under the same area it is an error.
# Weights around 1 are hints, 5 and more strong.
#
# The seven areas dev.csv labels (城乡建设 劳动和社会保障 教育文体 商贸旅游 环境保护 卫生计生 交通运输)
# were learned from all of dev.csv, 5,778 labelled messages, so their accuracy on dev.csv is a tuning
# figure (cross-validated figures: benchmarks/tagger_accuracy.py). To learn them again:
#   uv run --group bench python benchmarks/tagger_accuracy.py --no-svm --write-rules nlp/rules/areas.yaml
# (nlp.mining.learn_weights: words found in {min_count}+ messages; a logistic regression with weights of
# zero or more and an L1 penalty ({l1}) that drops the words that do not help, {epochs} epochs, then
# {refit} epochs refitting the kept weights); a few hand-set words (SEEDS in that script) are always
# candidates and never penalised. The comment on a learned keyword counts the messages of that area
# with the word and those of other areas with it (and names the other areas it is listed under).
# The other eight areas are hand-set. A reviewer may delete or reweigh any keyword.
"""


def folds_of(labels: list[str], k: int, seed: int) -> list[int]:
    """Stratified fold number per row, deterministic for a seed."""
    by_label: dict[str, list[int]] = defaultdict(list)
    for index, label in enumerate(labels):
        by_label[label].append(index)
    fold = [0] * len(labels)
    rng = random.Random(seed)
    for indexes in by_label.values():
        rng.shuffle(indexes)
        for position, index in enumerate(indexes):
            fold[index] = position % k
    return fold


def macro_f1(gold: list[str], predicted: list[str | None]) -> float:
    scores = []
    for label in sorted(set(gold)):
        tp = sum(g == label and p == label for g, p in zip(gold, predicted, strict=True))
        fp = sum(g != label and p == label for g, p in zip(gold, predicted, strict=True))
        fn = sum(g == label and p != label for g, p in zip(gold, predicted, strict=True))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(scores) / len(scores)


def accuracy(gold: list[str], predicted: list[str | None]) -> float:
    return sum(g == p for g, p in zip(gold, predicted, strict=True)) / len(gold)


def confusion(gold: list[str], predicted: list[str | None]) -> str:
    labels = sorted(set(gold), key=lambda name: -gold.count(name))
    columns = [*labels, "其他/无"]
    counts = Counter((g, p if p in labels else "其他/无") for g, p in zip(gold, predicted, strict=True))
    lines = ["gold \\ predicted".ljust(10) + "".join(c[:4].rjust(7) for c in columns)]
    for label in labels:
        lines.append(label[:6].ljust(10) + "".join(str(counts[label, c]).rjust(8) for c in columns))
    return "\n".join(lines)


def recall(gold: list[str], predicted: list[str | None]) -> str:
    labels = sorted(set(gold), key=lambda name: -gold.count(name))
    found = Counter(g for g, p in zip(gold, predicted, strict=True) if g == p)
    return "recall    " + "".join(f"{found[label] / gold.count(label):8.3f}" for label in labels)


def agency_area(tagger: Tagger, result: object, bonus: float) -> tuple[str | None, float]:
    """What a confidently named agency adds to its area, as the tagger computes it."""
    code = getattr(result, "agency", None)
    if code is None:
        return None, 0.0
    return tagger._agencies[code].area, bonus * getattr(result, "confidence", 0.0)


def tagger_for(base: Tagger, areas: AreasFile) -> Tagger:
    """The same tagger with other area rules (the segmenter already knows every mined word)."""
    return Tagger(replace(base.rules, areas=areas), list(base._agencies.values()), base.segmenter)


def svm_predictions(token_texts: list[str], labels: list[str], fold: list[int], k: int) -> list[str]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    predicted = [""] * len(labels)
    for held in range(k):
        train = [i for i in range(len(labels)) if fold[i] != held]
        test = [i for i in range(len(labels)) if fold[i] == held]
        vectorizer = TfidfVectorizer(token_pattern=r"\S+", sublinear_tf=True, min_df=2)
        model = LinearSVC(C=0.5).fit(
            vectorizer.fit_transform([token_texts[i] for i in train]), [labels[i] for i in train]
        )
        for index, label in zip(test, model.predict(vectorizer.transform([token_texts[i] for i in test])), strict=True):
            predicted[index] = label
    return predicted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "tipdm2020" / "dev.csv")
    parser.add_argument("--rules", type=Path, default=REPO / "nlp" / "rules")
    parser.add_argument("--catalogue", type=Path, default=REPO / "storage" / "data" / "agencies.yaml")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument("--no-svm", action="store_true", help="skip the scikit-learn peer")
    parser.add_argument("--write-rules", type=Path, help="learn from all the data and write this areas file")
    args = parser.parse_args()

    started = time.perf_counter()
    tagger = Tagger.load(args.rules, load_catalogue(args.catalogue).agencies)
    rows = read_labelled(args.data)
    texts, labels = [text for text, _ in rows], [label for _, label in rows]
    tokens = [[word for word, _, _ in tagger.tokens(normalize(text).text)] for text in texts]
    documents = [(candidate_words(words), label) for words, label in zip(tokens, labels, strict=True)]

    results = [tagger.tag(text) for text in texts]
    as_committed = [result.area for result in results]
    bonus = tagger.rules.areas.settings.agency_bonus
    samples = [
        Sample(Counter(words), label, *agency_area(tagger, result, bonus))
        for words, label, result in zip(tokens, labels, results, strict=True)
    ]

    labelled = sorted(set(labels))
    # Areas the data does not label keep their hand-set keywords, unchanged, and compete as they do.
    fixed = {area: dict(keywords) for area, keywords in tagger.rules.areas.areas.items() if area not in labelled}
    settings = tagger.rules.areas.settings

    def areas_learned_from(indexes: list[int]) -> dict[str, dict[str, float]]:
        learned = learn_weights([samples[i] for i in indexes], fixed=fixed, seeds=SEEDS, **LEARNING)
        return {area: learned.get(area, fixed.get(area, {})) for area in AREAS}

    if args.write_rules:
        areas = areas_learned_from(list(range(len(texts))))
        body = render_areas(areas, documents, learned=labelled)
        header = HEADER.format(**LEARNING)
        text = (
            f"{header}\nsettings:\n  min_score: {settings.min_score:g}\n  agency_bonus: {settings.agency_bonus:g}\n\n"
        )
        args.write_rules.write_text(text + body, encoding="utf-8")
        print(f"{args.write_rules}: {sum(map(len, areas.values()))} keywords", file=sys.stderr)

    fold = folds_of(labels, args.folds, args.seed)
    cross_validated: list[str | None] = [None] * len(texts)
    sizes = []
    for held in range(args.folds):
        areas = areas_learned_from([i for i, f in enumerate(fold) if f != held])
        sizes.append(sum(len(areas[area]) for area in labelled))
        fold_tagger = tagger_for(tagger, AreasFile(settings=settings, areas=areas))
        for index in (i for i, f in enumerate(fold) if f == held):
            cross_validated[index] = fold_tagger.tag(texts[index]).area

    print(f"{len(texts)} messages, {args.folds} stratified folds (seed {args.seed})")
    print("\nconfusion matrix, rules cross-validated:")
    print(confusion(labels, cross_validated))
    print(recall(labels, cross_validated))
    print(f"labelled-area keywords per fold: {min(sizes)}-{max(sizes)}")
    line = (
        f"area rules: cv accuracy {accuracy(labels, cross_validated):.3f}"
        f" macro-F1 {macro_f1(labels, cross_validated):.3f}"
        f" | as committed (tuned on this data) accuracy {accuracy(labels, as_committed):.3f}"
        f" macro-F1 {macro_f1(labels, as_committed):.3f}"
        f" | unassigned {sum(p is None for p in cross_validated) / len(texts):.1%}"
    )
    if not args.no_svm:
        svm = svm_predictions([" ".join(t) for t in tokens], labels, fold, args.folds)
        print("\nconfusion matrix, TF-IDF + linear SVM:")
        print(confusion(labels, svm))
        print(recall(labels, svm))
        line += f" | tfidf+svm cv accuracy {accuracy(labels, svm):.3f} macro-F1 {macro_f1(labels, svm):.3f}"
    print(f"\n{line} ({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
