"""Problem-type matching over tokens: phrases, co-occurrence within a clause, and negation.

Kept apart from the tagger because this is where precision is won or lost: "态度很好" and
"没有乱收费" must not make a complaint about conduct, while "态度极其恶劣" must. Nor does "物业乱收费"
or "开发商一拖再拖": problem types are about public bodies, so a match whose nearest party named before
it in the same sentence is a private one (``parties.private``, not ``parties.public``) does not count,
unless the word itself names an official shielding that party (``parties.shielding``: 保护伞, 包庇).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from nlp.rulebook import ProblemTypesFile
from storage.vocabulary import PROBLEM_TYPES

Token = tuple[str, int, int]

#: Tokens that end a sentence: who a sentence is about is decided within it.
SENTENCE_BREAKS = frozenset("。！？!?；;\n")


class ProblemMatcher:
    """Compiled problem-type rules; ``match`` reads tokens only, so one instance serves all callers."""

    def __init__(self, rules: ProblemTypesFile, clause_breaks: Iterable[str]) -> None:
        self._breaks = frozenset(clause_breaks)
        self._cues = frozenset(rules.negation.cues)
        self._cue_window = rules.negation.within
        self._public = frozenset(rules.parties.public)
        self._private = frozenset(rules.parties.private)
        self._shielding = frozenset(rules.parties.shielding)
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
        self._keys = frozenset(self._phrases) | frozenset(self._together)

    def _negated(self, words: list[str], starts: list[int], index: int) -> bool:
        """A negation cue ends within the window before word ``index``, in the same clause."""
        limit = starts[index] - self._cue_window
        for back in range(index - 1, -1, -1):
            word = words[back]
            if word in self._breaks or starts[back + 1] < limit:
                return False
            if word in self._cues:
                return True
        return False

    def _private_subjects(self, words: list[str]) -> list[bool]:
        """For each word, whether the last party named before it in its sentence is a private one
        (empty when the text names none: the common case costs one pass)."""
        if not any(word in self._private for word in words):
            return []
        flags, private = [], False
        for word in words:
            if word in self._public:
                # A public body is the party itself: "物业和城管都不管" is about 城管 too.
                private = False
            flags.append(private)
            if word in SENTENCE_BREAKS:
                private = False
            elif word in self._private:
                private = True
        return flags

    def _same_clause(self, words: list[str], first: int, last: int) -> bool:
        return not any(word in self._breaks for word in words[first + 1 : last])

    def match(self, words: list[str], starts: list[int]) -> list[tuple[str, list[Token]]]:
        """Problem types found, in canonical order, each with the tokens that show it.

        ``words`` are the tokens and ``starts`` their offsets (one more: the end of the last)."""
        found: dict[str, list[Token]] = defaultdict(list)
        # (type, rule) -> side -> indexes of words seen so far, not negated
        pending: dict[tuple[str, int], tuple[list[int], list[int]]] = {}
        keys = self._keys
        private = self._private_subjects(words)
        for index in [i for i, word in enumerate(words) if word in keys]:
            word = words[index]
            if self._negated(words, starts, index) or (private and private[index] and word not in self._shielding):
                continue
            token = (word, starts[index], starts[index + 1])
            name = self._phrases.get(word)
            if name is not None:
                found[name].append(token)
            for kind, number, side in self._together.get(word, ()):
                sides = pending.setdefault((kind, number), ([], []))
                sides[side].append(index)
                within = self._within[kind, number]
                for other in reversed(sides[1 - side]):
                    if starts[index] - starts[other + 1] > within:
                        break
                    if self._same_clause(words, other, index):
                        found[kind] += [(words[other], starts[other], starts[other + 1]), token]
                        break
        return sorted(found.items(), key=lambda item: self._order.get(item[0], len(self._order)))
