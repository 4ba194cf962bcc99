"""The rule tagger: agency, area and problem types for a complaint, each with the words that led to it.

Matching is word-based: one segmenter that cuts exactly as jieba does, on jieba's dictionary plus every
rule word as a user word (so 不动产登记中心 or 推诿扯皮 stay whole), loaded once from its cache and only
read afterwards. A clerk must be able to
see why a tag was given, so every tag carries evidence with offsets into the text as written; and a
weak guess is reported as weak (``low_confidence``) so the conversation asks instead of guessing.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path
from typing import Any

from nlp.normalize import Normalized, normalize
from nlp.personal_data import PersonalSpan, find_personal_data
from nlp.problem_types import ProblemMatcher
from nlp.rulebook import AgencyLike, Rules, load_rules
from nlp.segmenter import Segmenter

__all__ = ["AgencyLike", "Candidate", "Evidence", "TagResult", "Tagger", "Token"]

#: Tokens that end a clause: co-occurrence and negation never reach across them.
CLAUSE_BREAKS = frozenset("，。！？；,.!?;：:\n…、")
MAX_AREA_EVIDENCE = 8
#: Keywords alone (班主任, 学生) hint at a unit but never choose it: the citizen is asked.
KEYWORD_ONLY_CONFIDENCE = 0.5

Token = tuple[str, int, int]  # word, start, end in the normalised text


def repeat_factor(count: int) -> float:
    """How much an area keyword found ``count`` times counts: once is 1, a repeat adds less each time
    (``nlp.mining`` learns the weights with this same factor)."""
    return 1 + math.log(count) if count > 1 else 1.0


@dataclass(frozen=True, slots=True)
class Evidence:
    kind: str  # "agency" | "area" | "problem_type"
    value: str  # agency code, area name or problem type name
    word: str  # as written in the original text
    start: int  # offsets into the original text, end exclusive
    end: int


@dataclass(frozen=True, slots=True)
class Candidate:
    code: str
    name: str
    score: float


@dataclass(frozen=True, slots=True)
class TagResult:
    normalized_text: str
    script: str
    agency: str | None  # None when not confident enough
    agency_name: str | None
    confidence: float  # of the agency choice, 0..1
    low_confidence: bool
    candidates: tuple[Candidate, ...]  # ranked, best first
    area: str | None
    area_confidence: float
    problem_types: tuple[str, ...]
    evidence: tuple[Evidence, ...]
    personal_data: tuple[PersonalSpan, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; this is what ``Complaint.tagging`` stores (built by hand: ``asdict`` deep-copies
        and costs as much as the matching)."""
        return {
            "normalized_text": self.normalized_text,
            "script": self.script,
            "agency": self.agency,
            "agency_name": self.agency_name,
            "confidence": self.confidence,
            "low_confidence": self.low_confidence,
            "candidates": [{"code": c.code, "name": c.name, "score": c.score} for c in self.candidates],
            "area": self.area,
            "area_confidence": self.area_confidence,
            "problem_types": list(self.problem_types),
            "evidence": [
                {"kind": e.kind, "value": e.value, "word": e.word, "start": e.start, "end": e.end}
                for e in self.evidence
            ],
            "personal_data": [{"kind": p.kind, "start": p.start, "end": p.end} for p in self.personal_data],
        }

    def evidence_for(self, kind: str, value: str | None = None) -> tuple[Evidence, ...]:
        return tuple(e for e in self.evidence if e.kind == kind and (value is None or e.value == value))


class Tagger:
    """Immutable after ``load``: safe to share between concurrent handlers."""

    def __init__(self, rules: Rules, agencies: Sequence[AgencyLike], segmenter: Segmenter) -> None:
        self.rules = rules
        self.segmenter = segmenter
        self._agencies = {agency.code: agency for agency in agencies}
        self._parents = {a.code: getattr(a, "parent", None) for a in agencies}
        settings = rules.agencies.settings
        index: dict[str, dict[str, float]] = defaultdict(dict)
        for agency in agencies:
            for alias in agency.aliases:
                index[alias][agency.code] = max(index[alias].get(agency.code, 0), settings.alias_weight)
            index[agency.name][agency.code] = settings.name_weight
        for code, rule in rules.agencies.agencies.items():
            if code in self._agencies:
                for word in rule.keywords:
                    index[word].setdefault(code, settings.keyword_weight)
        self._agency_words = {word: tuple(codes.items()) for word, codes in index.items()}
        # A word may weigh for several areas (小区: 城乡建设 and a little 商贸旅游): every area it is listed under.
        areas_of: dict[str, list[str]] = defaultdict(list)
        for area, keywords in rules.areas.areas.items():
            for word in keywords:
                areas_of[word].append(area)
        self._area_words = {word: tuple(areas) for word, areas in areas_of.items()}
        self._lookup = {
            word: (self._agency_words.get(word, ()), self._area_words.get(word, ()))
            for word in self._agency_words.keys() | self._area_words.keys()
        }
        self._problems = ProblemMatcher(rules.problem_types, CLAUSE_BREAKS)

    @classmethod
    def load(cls, rules_dir: Path | str, agencies: Sequence[AgencyLike]) -> Tagger:
        """Read and check the rules, then load the one segmenter; raises ``DataFileError`` on bad rules."""
        rules = load_rules(rules_dir, agencies)
        words = rules.words() | {w for a in agencies for w in (a.name, *a.aliases)}
        return cls(rules, agencies, Segmenter.for_words(words))

    def tokens(self, text: str) -> list[Token]:
        """Tokens of already normalised text (what the rules are matched against)."""
        words = self.segmenter.lcut(text)
        starts = list(accumulate(map(len, words), initial=0))
        return [(word, starts[i], starts[i + 1]) for i, word in enumerate(words)]

    def tag(self, text: str) -> TagResult:
        normalized = normalize(text)
        words = self.segmenter.lcut(normalized.text)
        starts = list(accumulate(map(len, words), initial=0))
        evidence: list[Evidence] = []

        agency_scores: dict[str, float] = defaultdict(float)
        agency_hits: dict[str, list[Token]] = defaultdict(list)
        named: dict[str, bool] = defaultdict(bool)  # by its name or an alias, not only a keyword
        keyword_weight = self.rules.agencies.settings.keyword_weight
        area_counts: dict[str, dict[str, list[Token]]] = defaultdict(lambda: defaultdict(list))
        lookup = self._lookup
        for index in [i for i, word in enumerate(words) if word in lookup]:
            word = words[index]
            token = (word, starts[index], starts[index + 1])
            owners, areas = lookup[word]
            for code, weight in owners:
                named[code] |= weight > keyword_weight
                if all(hit[0] != word for hit in agency_hits[code]):
                    agency_scores[code] += weight
                agency_hits[code].append(token)
            for area in areas:
                area_counts[area][word].append(token)

        candidates = tuple(
            Candidate(code, self._agencies[code].name, round(score, 3))
            for code, score in sorted(agency_scores.items(), key=lambda item: (-item[1], item[0]))
        )
        confidence = self._agency_confidence(candidates)
        if candidates and not named[candidates[0].code]:
            confidence = min(confidence, KEYWORD_ONLY_CONFIDENCE)
        threshold = self.rules.agencies.settings.threshold
        chosen = candidates[0] if candidates and confidence >= threshold else None
        if candidates:
            top = candidates[0].code
            evidence += _evidence(normalized, "agency", top, agency_hits[top])

        area, area_confidence, area_evidence = self._area(area_counts, chosen, confidence)
        if area is not None:
            if chosen and area == self._agencies[chosen.code].area:
                area_evidence = area_evidence + agency_hits[chosen.code]  # the named agency's own area
            evidence += _evidence(normalized, "area", area, area_evidence)

        problem_types: list[str] = []
        for name, hits in self._problems.match(words, starts):
            problem_types.append(name)
            evidence += _evidence(normalized, "problem_type", name, hits)

        return TagResult(
            normalized_text=normalized.text,
            script=normalized.script,
            agency=chosen.code if chosen else None,
            agency_name=chosen.name if chosen else None,
            confidence=round(confidence, 3),
            low_confidence=chosen is None,
            candidates=candidates,
            area=area,
            area_confidence=round(area_confidence, 3),
            problem_types=tuple(problem_types),
            evidence=tuple(evidence),
            personal_data=tuple(find_personal_data(text)),
        )

    def _agency_confidence(self, candidates: tuple[Candidate, ...]) -> float:
        """The best score's share of the two best (a parent and its own unit do not compete), damped
        below an alias's weight: one loose keyword is a hint, not a choice."""
        if not candidates:
            return 0.0
        best = candidates[0]
        rivals = [
            c.score
            for c in candidates[1:]
            if self._parents.get(c.code) != best.code and self._parents.get(best.code) != c.code
        ]
        second = rivals[0] if rivals else 0.0
        damping = min(1.0, best.score / self.rules.agencies.settings.alias_weight)
        return best.score / (best.score + second) * damping

    def _area(
        self, counts: dict[str, dict[str, list[Token]]], chosen: Candidate | None, confidence: float
    ) -> tuple[str | None, float, list[Token]]:
        """Per area, the sum of the weights its keywords have there (a repeated word counts less each
        time; a word listed under two areas counts for both), plus ``agency_bonus`` × confidence for the
        area of a confidently chosen agency; the best area wins if it reaches ``min_score``. Only areas
        with a keyword in the text or a named agency compete; the evidence is the winner's keywords."""
        scores: dict[str, float] = defaultdict(float)
        for area, words in counts.items():
            keywords = self.rules.areas.areas[area]
            scores[area] = sum(keywords[word] * repeat_factor(len(hits)) for word, hits in words.items())
        settings = self.rules.areas.settings
        agency_area = self._agencies[chosen.code].area if chosen else None
        if agency_area:
            scores[agency_area] += settings.agency_bonus * confidence
        if not scores:
            return None, 0.0, []
        ranked = sorted(scores.items(), key=lambda item: -item[1])
        area, best = ranked[0]
        if best < settings.min_score:
            return None, 0.0, []
        second = ranked[1][1] if len(ranked) > 1 else 0.0
        keywords = self.rules.areas.areas.get(area, {})
        strongest = sorted(counts.get(area, {}).items(), key=lambda item: -keywords[item[0]])
        hits = [hits[0] for _, hits in strongest[:MAX_AREA_EVIDENCE]]
        return area, best / (best + max(second, 0.0) + 1.0), hits


def _evidence(normalized: Normalized, kind: str, value: str, tokens: list[Token]) -> list[Evidence]:
    """Evidence in text order, one per position, with the words as the citizen wrote them."""
    found = []
    for start, end in sorted({(t[1], t[2]) for t in tokens}):
        begin, finish = normalized.original_span(start, end)
        found.append(Evidence(kind, value, normalized.original[begin:finish], begin, finish))
    return found
