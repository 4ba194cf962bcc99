"""Problem-type matching over tokens: phrases, co-occurrence within a clause, and negation.

Kept apart from the tagger because this is where precision is won or lost: "态度很好" and
"没有乱收费" must not make a complaint about conduct, while "态度极其恶劣" must.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from nlp.rulebook import ProblemTypesFile
from storage.vocabulary import PROBLEM_TYPES

Token = tuple[str, int, int]


class ProblemMatcher:
    """Compiled problem-type rules; ``match`` reads tokens only, so one instance serves all callers."""

    def __init__(self, rules: ProblemTypesFile, clause_breaks: Iterable[str]) -> None:
        self._breaks = frozenset(clause_breaks)
        self._cues = frozenset(rules.negation.cues)
        self._cue_window = rules.negation.within
        self._phrases: dict[str, str] = {}
        # word -> (problem type, rule number, side): side 0 is `words`, side 1 is `with`.
        self._together: dict[str, list[tuple[str, int, int]]] = defaultdict(list)
        self._within: dict[tuple[str, int], int] = {}
        for name, rule in rules.problem_types.items():
            for phrase in rule.phrases:
                self._phrases.setdefault(phrase, name)
            for number, together in enumerate(rule.together):
                self._within[name, number] = together.within
                for side, words in enumerate((together.words, together.with_)):
                    for word in words:
                        self._together[word].append((name, number, side))
        self._order = {name: index for index, name in enumerate(PROBLEM_TYPES)}

    def _negated(self, tokens: list[Token], index: int) -> bool:
        """A negation cue ends within the window before token ``index``, in the same clause."""
        start = tokens[index][1]
        for back in range(index - 1, -1, -1):
            word, _, end = tokens[back]
            if word in self._breaks or end < start - self._cue_window:
                return False
            if word in self._cues:
                return True
        return False

    def match(self, tokens: list[Token]) -> list[tuple[str, list[Token]]]:
        """Problem types found, in canonical order, each with the tokens that show it."""
        found: dict[str, list[Token]] = defaultdict(list)
        # (type, rule) -> side -> tokens seen in the current clause, not negated
        pending: dict[tuple[str, int], tuple[list[Token], list[Token]]] = {}
        for index, token in enumerate(tokens):
            word = token[0]
            if word in self._breaks:
                pending.clear()
                continue
            name = self._phrases.get(word)
            links = self._together.get(word)
            if name is None and links is None:
                continue
            if self._negated(tokens, index):
                continue
            if name is not None:
                found[name].append(token)
            for kind, number, side in links or ():
                sides = pending.setdefault((kind, number), ([], []))
                sides[side].append(token)
                within = self._within[kind, number]
                partners = [t for t in sides[1 - side] if token[1] - t[2] <= within]
                if partners:
                    found[kind] += [partners[-1], token]
        return sorted(found.items(), key=lambda item: self._order.get(item[0], len(self._order)))
