"""Problem-type accuracy of the rule tagger on real, hand-labelled messages.

    uv run python benchmarks/problem_types_accuracy.py [--rules nlp/rules] [--errors tune]

Reads ``benchmarks/data/problem_types_real.csv`` (real messages, labelled by hand; see
``benchmarks/data/README.md``) and prints, for each split (``tune``: rules may be tuned on it; ``eval``:
never read while tuning), per-type precision / recall, micro-F1 and the share of messages with no conduct
complaint that wrongly get a problem type. As a sanity figure it also prints the share of all messages in
``dev.csv`` + ``unlabeled.csv`` that get any problem type. Ends with one summary line.

``--errors tune`` lists the tuning split's wrong messages with the evidence words (never use it on
``eval`` while tuning).

``--peer`` (needs the bench group: ``uv run --group bench …``) adds a statistical peer: per problem type,
TF-IDF over the tagger's tokens (words and word pairs) and a class-balanced logistic regression, trained
on ``tune`` and scored on ``eval`` like the rules.

It also prints how far two people agree: ``problem_types_second_reading.csv`` holds a second, independent
reading of 120 of the messages, scored against the first like the tagger is, and the tagger on the same
120 against each reading. That is the ceiling a rule set can be expected to reach.
"""

from __future__ import annotations

import argparse
import csv
import logging
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from nlp.tagger import Tagger  # noqa: E402
from storage.catalogue import load_catalogue  # noqa: E402
from storage.vocabulary import PROBLEM_TYPES  # noqa: E402

DATA = REPO / "benchmarks" / "data" / "problem_types_real.csv"
SECOND_READING = REPO / "benchmarks" / "data" / "problem_types_second_reading.csv"
CORPUS = REPO.parent / "shared" / "data" / "tipdm2020"
SPLITS = ("tune", "eval")


def read_labelled(path: Path) -> list[dict[str, object]]:
    with path.open(encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    for row in rows:
        row["gold"] = frozenset(label for label in str(row["labels"]).split("|") if label)
    return rows


def scores(gold: list[frozenset[str]], predicted: list[frozenset[str]]) -> dict[str, object]:
    """Per-type counts, micro precision / recall / F1 and the false-positive share on no-conduct messages."""
    counts = {name: Counter() for name in PROBLEM_TYPES}
    for g, p in zip(gold, predicted, strict=True):
        for name in g | p:
            counts[name]["tp" if name in g and name in p else "fn" if name in g else "fp"] += 1
    tp = sum(c["tp"] for c in counts.values())
    fp = sum(c["fp"] for c in counts.values())
    fn = sum(c["fn"] for c in counts.values())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    clean = [p for g, p in zip(gold, predicted, strict=True) if not g]
    conduct = [p for g, p in zip(gold, predicted, strict=True) if g]
    return {
        "counts": counts,
        "precision": precision,
        "recall": recall,
        "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        "clean": len(clean),
        "clean_flagged": sum(1 for p in clean if p),
        "conduct": len(conduct),
        "conduct_flagged": sum(1 for p in conduct if p),
    }


def report(split: str, result: dict[str, object]) -> None:
    counts: dict[str, Counter] = result["counts"]  # type: ignore[assignment]
    print(f"\n== {split}: {result['clean'] + result['conduct']} messages ==")  # type: ignore[operator]
    print(f"{'type':<8}{'gold':>6}{'tp':>5}{'fp':>5}{'fn':>5}{'P':>7}{'R':>7}")
    for name in PROBLEM_TYPES:
        c = counts[name]
        gold = c["tp"] + c["fn"]
        if not (gold or c["fp"]):
            continue
        p = f"{c['tp'] / (c['tp'] + c['fp']):.2f}" if c["tp"] + c["fp"] else "-"
        r = f"{c['tp'] / gold:.2f}" if gold else "-"
        print(f"{name:<8}{gold:>6}{c['tp']:>5}{c['fp']:>5}{c['fn']:>5}{p:>7}{r:>7}")
    print(
        f"micro P {result['precision']:.3f}  R {result['recall']:.3f}  F1 {result['f1']:.3f}; "
        f"no-conduct messages given a type: {result['clean_flagged']}/{result['clean']} "
        f"({fp_share(result):.1%}); conduct messages given any type: "
        f"{result['conduct_flagged']}/{result['conduct']}"
    )


def fp_share(result: dict[str, object]) -> float:
    return result["clean_flagged"] / result["clean"] if result["clean"] else 0.0  # type: ignore[operator]


def corpus_share(tagger: Tagger, corpus: Path) -> tuple[int, int, float]:
    texts = []
    for name in ("dev.csv", "unlabeled.csv"):
        path = corpus / name
        if path.exists():
            with path.open(encoding="utf-8") as file:
                texts += [row["text"] for row in csv.DictReader(file)]
    started = time.perf_counter()
    flagged = sum(1 for text in texts if tagger.tag(text).problem_types)
    return flagged, len(texts), time.perf_counter() - started


def peer_scores(tagger: Tagger, rows: list[dict[str, object]]) -> dict[str, object]:
    """One class-balanced logistic regression per problem type over TF-IDF of the tagger's own tokens."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from nlp.normalize import normalize

    def words(row: dict[str, object]) -> str:
        return " ".join(word for word, _, _ in tagger.tokens(normalize(str(row["text"])).text))

    tune = [row for row in rows if row["split"] == "tune"]
    evaluation = [row for row in rows if row["split"] == "eval"]
    vectorizer = TfidfVectorizer(token_pattern=r"[^ ]+", ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    train = vectorizer.fit_transform([words(row) for row in tune])
    test = vectorizer.transform([words(row) for row in evaluation])
    predicted: list[set[str]] = [set() for _ in evaluation]
    for name in PROBLEM_TYPES:
        labels = [name in row["gold"] for row in tune]  # type: ignore[operator]
        if sum(labels) < 3:
            continue
        model = LogisticRegression(C=10, class_weight="balanced", max_iter=2000).fit(train, labels)
        for index, hit in enumerate(model.predict(test)):
            if hit:
                predicted[index].add(name)
    return scores([row["gold"] for row in evaluation], [frozenset(p) for p in predicted])  # type: ignore[misc]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--rules", type=Path, default=REPO / "nlp" / "rules")
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="folder with dev.csv and unlabeled.csv")
    parser.add_argument("--errors", choices=SPLITS, help="list the wrong messages of this split")
    parser.add_argument("--no-corpus", action="store_true", help="skip the whole-corpus sanity figure")
    parser.add_argument("--peer", action="store_true", help="also train and score TF-IDF + logistic regression")
    args = parser.parse_args()
    logging.getLogger("jieba").setLevel(logging.WARNING)
    tagger = Tagger.load(args.rules, load_catalogue(REPO / "storage" / "data" / "agencies.yaml").agencies)
    rows = read_labelled(args.data)
    results = {}
    for split in SPLITS:
        chosen = [row for row in rows if row["split"] == split]
        tagged = [tagger.tag(str(row["text"])) for row in chosen]
        predicted = [frozenset(t.problem_types) for t in tagged]
        results[split] = scores([row["gold"] for row in chosen], predicted)  # type: ignore[misc]
        report(split, results[split])
        if args.errors == split:
            for row, t, p in zip(chosen, tagged, predicted, strict=True):
                if p != row["gold"]:
                    evidence = " ".join(f"{e.value}:{e.word}" for e in t.evidence if e.kind == "problem_type")
                    print(f"  row {row['row']}: gold {'|'.join(sorted(row['gold'])) or '-'}")  # type: ignore[arg-type]
                    print(f"    got {'|'.join(sorted(p)) or '-'}  [{evidence}]")
    peer = ""
    if args.peer:
        learned = peer_scores(tagger, rows)
        print(f"\npeer TF-IDF + logistic regression, trained on tune, on eval: micro-F1 {learned['f1']:.3f}")
        peer = f" | learned peer eval {learned['f1']:.3f}"
    agreement = ""
    if SECOND_READING.exists():
        second = {str(row["row"]): row["gold"] for row in read_labelled(SECOND_READING)}
        both = [row for row in rows if row["row"] in second]
        first_gold = [row["gold"] for row in both]
        second_gold = [second[str(row["row"])] for row in both]  # type: ignore[misc]
        mine = [frozenset(tagger.tag(str(row["text"])).problem_types) for row in both]
        people = scores(first_gold, second_gold)["f1"]
        print(
            f"\nagreement on {len(both)} messages read twice: second reader vs first micro-F1 {people:.3f}; "
            f"tagger vs first {scores(first_gold, mine)['f1']:.3f}, vs second {scores(second_gold, mine)['f1']:.3f}"
        )
        agreement = f" | two readers agree at F1 {people:.3f}"
    everything = scores(
        [row["gold"] for row in rows],  # type: ignore[misc]
        [frozenset(tagger.tag(str(row["text"])).problem_types) for row in rows],
    )
    corpus = ""
    if not args.no_corpus:
        flagged, total, seconds = corpus_share(tagger, args.corpus)
        print(f"\nsanity: {flagged}/{total} messages of dev.csv + unlabeled.csv get a problem type ({seconds:.0f} s)")
        corpus = f" | any type on {flagged / total:.1%} of dev+unlabeled"
    tune, evaluation = results["tune"], results["eval"]
    print(
        f"\nSUMMARY problem types on {len(rows)} real hand-labelled messages: micro-F1 tune "
        f"{tune['f1']:.3f} eval {evaluation['f1']:.3f} (all {everything['f1']:.3f}) | no-conduct given a type: "
        f"tune {fp_share(tune):.1%} eval {fp_share(evaluation):.1%}{corpus}{peer}{agreement} | target F1 >= 0.70, FP 0"
    )


if __name__ == "__main__":
    main()
