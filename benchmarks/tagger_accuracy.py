"""Area accuracy of the rule tagger on labelled messages, next to a TF-IDF + linear SVM peer.

    uv run --group bench python benchmarks/tagger_accuracy.py [--data ../shared/data/tipdm2020/dev.csv]

The committed area rules contain keywords mined from dev.csv, so their score on dev.csv is a tuning
figure. The honest figure is cross-validated: for each of k folds, the keywords of the labelled areas are
dropped (and any word mining would move from another area), keywords are mined again and weights tuned
(``nlp.mining.tune_weights``) on the other k-1 folds only, same settings, and the held-out fold
is tagged. The SVM is trained and tested on the same folds.
Prints a confusion matrix and one summary line.
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

from nlp.mining import Sample, candidate_words, mine, read_labelled, tune_weights  # noqa: E402
from nlp.normalize import normalize  # noqa: E402
from nlp.rulebook import AreasFile  # noqa: E402
from nlp.tagger import Tagger  # noqa: E402
from storage.catalogue import load_catalogue  # noqa: E402

TUNING = {"epochs": 3, "rate": 0.1}  # as used for the committed areas.yaml
MINING = {"min_count": 4, "min_weight": 1.0, "top": 400}  # as used for the committed areas.yaml


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
    parser.add_argument("--no-tuning", action="store_true", help="mined log-odds weights, not tuned")
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

    fold = folds_of(labels, args.folds, args.seed)
    mined_all = {w.word for suggestions in mine(documents, **MINING).values() for w in suggestions}
    # The labelled areas are rebuilt from the training folds alone; the other areas keep their
    # hand-set keywords (minus any word mining would move), with their weights frozen.
    base_areas = {
        area: {} if area in set(labels) else {w: weight for w, weight in keywords.items() if w not in mined_all}
        for area, keywords in tagger.rules.areas.areas.items()
    }
    cross_validated: list[str | None] = [None] * len(texts)
    for held in range(args.folds):
        train = [i for i, f in enumerate(fold) if f != held]
        mined = mine([documents[i] for i in train], **MINING)
        areas = {area: dict(keywords) for area, keywords in base_areas.items()}
        taken = {word for keywords in areas.values() for word in keywords}
        for area, suggestions in mined.items():
            for s in suggestions:
                if s.word not in taken:
                    areas.setdefault(area, {})[s.word] = s.weight
        if not args.no_tuning:
            frozen = frozenset(word for keywords in base_areas.values() for word in keywords)
            areas = tune_weights([samples[i] for i in train], areas, frozen=frozen, **TUNING)
        fold_tagger = tagger_for(tagger, AreasFile(settings=tagger.rules.areas.settings, areas=areas))
        for index in (i for i, f in enumerate(fold) if f == held):
            cross_validated[index] = fold_tagger.tag(texts[index]).area

    print(f"{len(texts)} messages, {args.folds} stratified folds (seed {args.seed})")
    print("\nconfusion matrix, rules cross-validated:")
    print(confusion(labels, cross_validated))
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
        line += f" | tfidf+svm cv accuracy {accuracy(labels, svm):.3f} macro-F1 {macro_f1(labels, svm):.3f}"
    print(f"\n{line} ({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
