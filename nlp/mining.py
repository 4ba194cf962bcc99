"""Keyword suggestions mined from labelled messages, for a person to review and paste into the rules.

This is how the area rules get good without becoming a black box: each suggestion is a word, a
weight (smoothed log-odds of the word in this label against all others) and the counts behind it,
so a reviewer can see that 物业 appears in 412 of 1,260 城乡建设 messages and 35 others.
"""

from __future__ import annotations

import csv
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

_HAN_WORD = re.compile(r"[\u4e00-\u9fff]{2,8}")
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
    return {word for word in tokens if _HAN_WORD.fullmatch(word) and word not in STOPWORDS}


def mine(
    documents: Iterable[tuple[set[str], str]],
    *,
    min_count: int = 5,
    min_weight: float = 1.0,
    top: int = 150,
    smoothing: float = 0.5,
) -> dict[str, list[Suggestion]]:
    """Per label, the words that set it apart, best first; a word is suggested for one label only."""
    per_label: dict[str, Counter[str]] = {}
    sizes: Counter[str] = Counter()
    overall: Counter[str] = Counter()
    for words, label in documents:
        per_label.setdefault(label, Counter()).update(words)
        overall.update(words)
        sizes[label] += 1
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


def area_score(counts: Mapping[str, int], owner: Mapping[str, tuple[str, float]]) -> dict[str, float]:
    """The tagger's area score: a keyword's weight, a repeated one 1 + log(count) times."""
    scores: dict[str, float] = {}
    for word, count in counts.items():
        if (hit := owner.get(word)) is not None:
            factor = 1 + math.log(count) if count > 1 else 1.0
            scores[hit[0]] = scores.get(hit[0], 0.0) + hit[1] * factor
    return scores


def tune_weights(
    samples: list[Sample],
    areas: Mapping[str, Mapping[str, float]],
    *,
    epochs: int = 3,
    rate: float = 0.1,
    floor: float = 0.05,
    frozen: frozenset[str] = frozenset(),
) -> dict[str, dict[str, float]]:
    """Adjust keyword weights (averaged perceptron) so the scorer gets the labelled messages right.

    The rules stay the same readable list, keyword: weight; only the numbers move. When a message is
    put in the wrong area, the keywords it has of its true area gain a little, those of the wrongly
    chosen area lose a little (never below ``floor``). Averaging over the steps keeps it stable.
    Words in ``frozen`` (hand-set weights) keep their weight.
    """
    owner = {word: (area, weight) for area, keywords in areas.items() for word, weight in keywords.items()}
    weights = {word: weight for word, (_, weight) in owner.items()}
    totals = dict(weights)
    steps = 1
    for _ in range(epochs):
        for sample in samples:
            current = {word: (owner[word][0], weights[word]) for word in sample.counts if word in owner}
            scores = area_score(sample.counts, current)
            if sample.agency_area:
                scores[sample.agency_area] = scores.get(sample.agency_area, 0.0) + sample.agency_bonus
            if not scores:
                continue
            predicted = max(scores, key=lambda area: scores[area])
            if predicted == sample.label:
                continue
            for word, (area, _) in current.items():
                if word in frozen:
                    continue
                count = sample.counts[word]
                step = rate * (1 + math.log(count) if count > 1 else 1.0)
                if area == sample.label:
                    weights[word] += step
                elif area == predicted:
                    weights[word] = max(floor, weights[word] - step)
        for word, weight in weights.items():
            totals[word] += weight
        steps += 1
    return {area: {word: round(totals[word] / steps, 2) for word in keywords} for area, keywords in areas.items()}
