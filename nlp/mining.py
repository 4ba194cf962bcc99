"""Keyword suggestions mined from labelled messages, for a person to review and paste into the rules.

This is how the area rules get good without becoming a black box: each suggestion is a word, a
weight (smoothed log-odds of the word in this label against all others) and the counts behind it,
so a reviewer can see that 物业 appears in 412 of 1,260 城乡建设 messages and 35 others.

``learn_weights`` goes further and learns the whole keyword list of the labelled areas, weights
included, as a sparse model whose score is exactly the tagger's sum of keyword weights (see
``benchmarks/tagger_accuracy.py --write-rules``); the result is still a list a person reads and edits.
"""

from __future__ import annotations

import csv
import math
import random
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from nlp.tagger import repeat_factor

_HAN_WORD = re.compile(r"[\u4e00-\u9fff]{2,8}")
#: Numbers and amounts spelt in characters (三年, 两个, 十一点): they say nothing about an area.
_NUMERAL_WORD = re.compile(r"[〇零一二三四五六七八九十百千万亿两几半多]+[个次年月日号点天岁元块位名条周]?")
#: Words that say nothing about an area, however often they appear (greetings, masked place names…).
STOPWORDS = frozenset(
    [
        "您好",
        "你好",
        "领导",
        "尊敬",
        "谢谢",
        "感谢",
        "希望",
        "请问",
        "问题",
        "情况",
        "相关",
        "部门",
        "有关",
        "我们",
        "他们",
        "你们",
        "自己",
        "这个",
        "那个",
        "什么",
        "怎么",
        "没有",
        "已经",
        "但是",
        "因为",
        "所以",
        "如果",
        "可以",
        "现在",
        "目前",
        "一直",
        "还是",
        "就是",
        "这样",
        "这些",
        "那些",
        "以及",
        "进行",
        "要求",
        "反映",
        "处理",
        "解决",
        "市民",
        "群众",
        "本人",
        "请求",
        "恳请",
        "关注",
        "重视",
        "尽快",
        "能否",
        "是否",
        "还有",
        "不能",
        "不是",
        "一个",
        "时候",
        "知道",
        "觉得",
        "表示",
    ]
)


@dataclass(frozen=True, slots=True)
class Suggestion:
    word: str
    weight: float  # smoothed log-odds: how much more often the word appears under this label
    inside: int  # messages with this label containing the word
    outside: int  # messages with any other label containing it


def read_labelled(path: Path | str) -> list[tuple[str, str]]:
    """``(text, label)`` rows of a CSV with ``text`` and ``label`` columns (dev.csv's layout)."""
    with Path(path).open(encoding="utf-8", newline="") as file:
        reader = csv.DictReader(file)
        if not reader.fieldnames or not {"text", "label"} <= set(reader.fieldnames):
            raise ValueError(f"{path}: needs the columns text and label (has {reader.fieldnames})")
        return [(row["text"] or "", row["label"].strip()) for row in reader if (row["label"] or "").strip()]


def candidate_words(tokens: Iterable[str]) -> set[str]:
    """The distinct words of a message worth suggesting: Chinese, two characters or more, not stopwords."""
    return {
        word
        for word in tokens
        if _HAN_WORD.fullmatch(word) and word not in STOPWORDS and not _NUMERAL_WORD.fullmatch(word)
    }


def _word_counts(
    documents: Iterable[tuple[set[str], str]],
) -> tuple[dict[str, Counter[str]], Counter[str], Counter[str]]:
    """Messages containing each word, per label and overall, and messages per label."""
    per_label: dict[str, Counter[str]] = {}
    overall: Counter[str] = Counter()
    sizes: Counter[str] = Counter()
    for words, label in documents:
        per_label.setdefault(label, Counter()).update(words)
        overall.update(words)
        sizes[label] += 1
    return per_label, overall, sizes


def mine(
    documents: Iterable[tuple[set[str], str]],
    *,
    min_count: int = 5,
    min_weight: float = 1.0,
    top: int = 150,
    smoothing: float = 0.5,
) -> dict[str, list[Suggestion]]:
    """Per label, the words that set it apart, best first; a word is suggested for one label only."""
    per_label, overall, sizes = _word_counts(documents)
    total = sum(sizes.values())
    best: dict[str, tuple[float, str, Suggestion]] = {}
    for label, counts in per_label.items():
        inside_size, outside_size = sizes[label], total - sizes[label]
        for word, inside in counts.items():
            if inside < min_count:
                continue
            outside = overall[word] - inside
            weight = math.log((inside + smoothing) / (inside_size + 2 * smoothing)) - math.log(
                (outside + smoothing) / (outside_size + 2 * smoothing)
            )
            if weight < min_weight:
                continue
            rank = weight * math.sqrt(inside)
            suggestion = Suggestion(word, round(weight, 2), inside, outside)
            if word not in best or rank > best[word][0]:
                best[word] = (rank, label, suggestion)
    chosen: dict[str, list[tuple[float, Suggestion]]] = {label: [] for label in per_label}
    for rank, label, suggestion in best.values():
        chosen[label].append((rank, suggestion))
    return {
        label: [s for _, s in sorted(items, key=lambda item: (-item[0], item[1].word))[:top]]
        for label, items in chosen.items()
    }


def mine_labelled(
    rows: Iterable[tuple[str, str]], tokenize: Callable[[str], Iterable[str]], **options: float
) -> dict[str, list[Suggestion]]:
    """``mine`` over raw ``(text, label)`` rows, each text tokenised the way the tagger will see it."""
    return mine(((candidate_words(tokenize(text)), label) for text, label in rows), **options)  # type: ignore[arg-type]


def render_yaml(suggestions: Mapping[str, list[Suggestion]], sizes: Mapping[str, int] | None = None) -> str:
    """Suggestions as an ``areas:`` block to review and paste, counts in a comment on every line."""
    lines = ["areas:"]
    for label in sorted(suggestions, key=lambda name: -(sizes or {}).get(name, 0)):
        size = f" ({sizes[label]} messages)" if sizes and label in sizes else ""
        lines.append(f"  {label}:  # mined{size}")
        for s in suggestions[label]:
            lines.append(f"    {s.word}: {s.weight:.1f}  # in {s.inside}, elsewhere {s.outside}")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True, slots=True)
class Sample:
    """One labelled message as the area scorer sees it."""

    counts: Mapping[str, int]  # word -> occurrences
    label: str
    agency_area: str | None = None  # area of a confidently named agency
    agency_bonus: float = 0.0  # what that agency adds to its area


def area_scores(counts: Mapping[str, int], areas: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """The tagger's keyword score per area (agency bonus aside): for every area a word is listed
    under, its weight there times ``repeat_factor``. Only areas with a keyword in the text appear."""
    scores: dict[str, float] = {}
    for area, keywords in areas.items():
        found = [keywords[word] * repeat_factor(count) for word, count in counts.items() if word in keywords]
        if found:
            scores[area] = sum(found)
    return scores


def learn_weights(
    samples: Sequence[Sample],
    *,
    fixed: Mapping[str, Mapping[str, float]] | None = None,
    seeds: Mapping[str, Iterable[str]] | None = None,
    min_count: int = 5,
    epochs: int = 15,
    rate: float = 1.0,
    decay: float = 1e-4,
    l1: float = 1.2e-4,
    refit: int = 15,
    scale: float = 5.0,
    floor: float = 0.5,
    digits: int = 2,
    seed: int = 0,
) -> dict[str, dict[str, float]]:
    """Keyword weights per labelled area, learned from labelled messages: ``{area: {word: weight}}``.

    Every word of ``candidate_words`` found in ``min_count`` messages or more is a candidate for every
    labelled area; a multinomial logistic regression over the messages (a few epochs of stochastic
    gradient steps) learns one weight per word and area, never below zero, with an L1 penalty
    (cumulative, Tsuruoka et al. 2009) that drives most of them to exactly zero: those are dropped,
    and what is left is a short list where a word usually weighs for one area, sometimes for two.

    The messages are seen as idf-scaled counts divided by their length (Euclidean norm), as in TF-IDF;
    the idf is then folded into each weight. Dividing every area's score by the same number changes no
    ranking, so the tagger's plain sum of weights (``area_scores``) picks the same area as the trained
    model: the weights are the whole model. ``fixed`` areas (hand-set, not labelled in the data) and a
    named agency's bonus score as in the tagger and compete, but are not changed. ``seeds`` (hand-set
    words per labelled area) are candidates for their area whatever their count, and not penalised
    there. The learned weights are divided by ``scale`` to read like hand-set ones (1 a hint, 3 and
    more strong); the fixed areas and the bonus are multiplied by it in training, so nothing changes
    but the numbers. Then ``refit`` epochs without the penalty let the kept weights grow to full size (the
    penalty shrinks every weight, not only the useless ones); dropped words stay out. Weights are
    rounded to ``digits`` decimals and those below ``floor`` dropped. Deterministic for a ``seed``.
    """
    fixed = fixed or {}
    seeds = seeds or {}
    labels = sorted({sample.label for sample in samples})
    index = {label: k for k, label in enumerate(labels)}
    width = len(labels)
    words_of = [candidate_words(sample.counts) for sample in samples]
    frequency = Counter(word for words in words_of for word in words)
    seeded = {(word, index[area]) for area, words in seeds.items() if area in index for word in words}
    vocabulary = {word for word, n in frequency.items() if n >= min_count} | {word for word, _ in seeded}
    idf = {word: math.log(len(samples) / frequency[word]) if frequency[word] else 1.0 for word in vocabulary}

    prepared: list[tuple[list[tuple[str, float]], int, list[float], list[float]]] = []
    for sample, words in zip(samples, words_of, strict=True):
        features = [(w, idf[w] * repeat_factor(sample.counts[w])) for w in words if w in vocabulary and idf[w] > 0]
        if not features:
            continue
        norm = math.sqrt(sum(x * x for _, x in features))
        others: dict[str, float] = area_scores(sample.counts, fixed)
        if sample.agency_area and sample.agency_bonus:
            others[sample.agency_area] = others.get(sample.agency_area, 0.0) + sample.agency_bonus
        boost = scale / norm  # fixed areas and the agency bonus weigh ``scale`` times an unscaled weight
        offsets = [others.pop(label, 0.0) * boost for label in labels]
        rivals = [score * boost for score in others.values()]
        prepared.append(([(w, x / norm) for w, x in features], index[sample.label], offsets, rivals))

    rng = random.Random(seed)
    weights = _descend(prepared, {}, width, epochs=epochs, rate=rate, decay=decay, l1=l1, free=seeded, rng=rng)
    if refit:
        # Relaxed lasso: the L1 penalty chose the words; a few more epochs without it let the kept
        # weights reach full size (the penalty shrinks them all), the dropped ones staying at zero.
        kept = {(word, k) for word, row in weights.items() for k in range(width) if row[k] * idf[word] / scale >= floor}
        weights = {word: [v if (word, k) in kept else 0.0 for k, v in enumerate(row)] for word, row in weights.items()}
        weights = _descend(prepared, weights, width, epochs=refit, rate=rate, decay=decay, l1=0.0, only=kept, rng=rng)

    learned: dict[str, dict[str, float]] = {label: {} for label in labels}
    for word, row in weights.items():
        for k, value in enumerate(row):
            weight = round(value * idf[word] / scale, digits)
            if weight >= floor:
                learned[labels[k]][word] = weight
    return {
        label: dict(sorted(keywords.items(), key=lambda item: (-item[1], item[0])))
        for label, keywords in learned.items()
    }


def render_areas(
    areas: Mapping[str, Mapping[str, float]],
    documents: Iterable[tuple[set[str], str]] = (),
    *,
    learned: Iterable[str] = (),
) -> str:
    """An ``areas:`` block, areas in the given order; under each ``learned`` area the count of messages
    with the word in that area and elsewhere as a comment, and the other areas the word counts for."""
    inside, overall, sizes = _word_counts(documents)
    learned = set(learned)
    lines = ["areas:"]
    for area, keywords in areas.items():
        note = f"  # learned from {sizes[area]} labelled messages" if area in learned and sizes[area] else ""
        lines.append(f"  {area}:{note}")
        for word, weight in keywords.items():
            line = f"    {word}: {weight:g}"
            if area in learned:
                n = inside.get(area, Counter())[word]
                also = [f"{other} {kws[word]:g}" for other, kws in areas.items() if other != area and word in kws]
                line += f"  # in {n}, elsewhere {overall[word] - n}" + (f"; also {', '.join(also)}" if also else "")
            lines.append(line)
    return "\n".join(lines) + "\n"


def _descend(
    prepared: list[tuple[list[tuple[str, float]], int, list[float], list[float]]],
    weights: dict[str, list[float]],
    width: int,
    *,
    epochs: int,
    rate: float,
    decay: float,
    l1: float,
    rng: random.Random,
    free: set[tuple[str, int]] = frozenset(),  # type: ignore[assignment]
    only: set[tuple[str, int]] | None = None,
) -> dict[str, list[float]]:
    """Stochastic gradient descent on the softmax loss, weights kept at zero or above, with the
    cumulative L1 penalty (each weight pays what it owes when it is next touched); ``free`` pairs
    (word, area index) pay no penalty, and when ``only`` is given no other pair moves."""
    applied: dict[str, list[float]] = {}  # L1 penalty paid so far, per word and area
    penalty = 0.0  # what each weight should have paid by now
    order = list(range(len(prepared)))
    step = 0
    for _ in range(epochs):
        rng.shuffle(order)
        for position in order:
            features, gold, offsets, rivals = prepared[position]
            eta = rate / (1 + decay * step)
            step += 1
            scores = list(offsets)
            for word, x in features:
                row = weights.get(word)
                if row is not None:
                    for k in range(width):
                        scores[k] += row[k] * x
            top = max(scores + rivals)
            exps = [math.exp(score - top) for score in scores]
            total = sum(exps) + sum(math.exp(score - top) for score in rivals)
            gradient = [e / total for e in exps]
            gradient[gold] -= 1.0
            penalty += eta * l1
            for word, x in features:
                row = weights.setdefault(word, [0.0] * width)
                paid = applied.setdefault(word, [0.0] * width)
                for k in range(width):
                    if only is not None and (word, k) not in only:
                        continue
                    value = row[k] - eta * gradient[k] * x
                    if value > 0 and l1 and (word, k) not in free:
                        before = value
                        value = max(0.0, value - (penalty + paid[k]))
                        paid[k] += value - before
                    row[k] = max(0.0, value)
    if l1:
        for word, row in weights.items():  # the penalty still owed
            paid = applied.get(word, [0.0] * width)
            for k in range(width):
                if row[k] > 0 and (word, k) not in free:
                    row[k] = max(0.0, row[k] - (penalty + paid[k]))
    return weights
