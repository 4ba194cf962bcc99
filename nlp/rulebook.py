"""The tagger's rules: three YAML files an oversight officer can read and edit, and their checks.

- ``areas.yaml``: per area, keywords with weights (how strongly a word points to that area); a word
  may be listed under more than one area, with a weight in each.
- ``agencies.yaml``: per agency code, keywords beyond the catalogue's name and aliases.
- ``problem_types.yaml``: per canonical problem type, phrases and co-occurrences, plus negation cues.

Structural errors are pydantic errors with their line; the checks that need the whole picture
(unknown names, a keyword claimed twice where that is not allowed) are done here and reported the
same way, ``LINE: where: msg``.
"""

from __future__ import annotations

import hashlib
import logging
import pickle
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from nlp.cache import cache_file, write_atomically
from storage.datafile import DataFileError, LineMap, read_yaml, validation_problems
from storage.vocabulary import AREAS, PROBLEM_TYPES

log = logging.getLogger(__name__)

AREAS_FILE, AGENCIES_FILE, PROBLEM_TYPES_FILE = "areas.yaml", "agencies.yaml", "problem_types.yaml"
RULE_FILES = (AREAS_FILE, AGENCIES_FILE, PROBLEM_TYPES_FILE)
Keyword = str
UNKNOWN_AGENCY = "unknown agency code"


class AgencyLike(Protocol):
    """What the tagger needs of an agency; ``storage.catalogue.AgencySpec`` and the ORM row both fit."""

    @property
    def code(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def aliases(self) -> Sequence[str]: ...
    @property
    def area(self) -> str | None: ...


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class AreaSettings(_Strict):
    min_score: float = Field(default=1.0, ge=0, description="Below this best score the area is left open")
    agency_bonus: float = Field(default=4.0, ge=0, description="Added to the area of a confidently named agency")


class AreasFile(_Strict):
    settings: AreaSettings = AreaSettings()
    areas: dict[str, dict[Keyword, float]]


class AgencySettings(_Strict):
    name_weight: float = Field(default=3.0, gt=0)
    alias_weight: float = Field(default=2.0, gt=0)
    keyword_weight: float = Field(default=1.0, gt=0)
    threshold: float = Field(default=0.6, ge=0, le=1, description="Below this confidence no agency is chosen")


class AgencyRule(_Strict):
    keywords: list[Keyword] = Field(default_factory=list)


class AgenciesFile(_Strict):
    settings: AgencySettings = AgencySettings()
    agencies: dict[str, AgencyRule] = Field(default_factory=dict)


class Together(_Strict):
    """Fires when a word of ``words`` and one of ``with_`` stand within ``within`` characters, same clause."""

    words: list[Keyword] = Field(min_length=1)
    with_: list[Keyword] = Field(alias="with", min_length=1)
    within: int = Field(default=8, ge=1, le=40)


class ProblemTypeRule(_Strict):
    phrases: list[Keyword] = Field(default_factory=list)
    together: list[Together] = Field(default_factory=list)


class Negation(_Strict):
    cues: list[Keyword] = Field(min_length=1)
    within: int = Field(default=3, ge=1, le=10, description="Characters before a match searched for a cue")


class Parties(_Strict):
    """Who a sentence is about: problem types are about public bodies, not developers or 物业.

    ``shielding`` words name an official shielding a private party (保护伞, 包庇): the private party
    named before them is the one shielded, so they count all the same."""

    public: list[Keyword] = Field(default_factory=list)
    private: list[Keyword] = Field(default_factory=list)
    shielding: list[Keyword] = Field(default_factory=list)


class ProblemTypesFile(_Strict):
    negation: Negation
    parties: Parties = Parties()
    problem_types: dict[str, ProblemTypeRule]


@dataclass(frozen=True)
class Rules:
    areas: AreasFile
    agencies: AgenciesFile
    problem_types: ProblemTypesFile

    def words(self) -> set[str]:
        """Every word the rules match, for the tokenizer's user dictionary."""
        words = {word for keywords in self.areas.areas.values() for word in keywords}
        words.update(word for rule in self.agencies.agencies.values() for word in rule.keywords)
        for rule in self.problem_types.problem_types.values():
            words.update(rule.phrases)
            for together in rule.together:
                words.update(together.words)
                words.update(together.with_)
        words.update(self.problem_types.negation.cues)
        words.update(self.problem_types.parties.public)
        words.update(self.problem_types.parties.private)
        return words


_MODELS: dict[str, type[BaseModel]] = {
    AREAS_FILE: AreasFile,
    AGENCIES_FILE: AgenciesFile,
    PROBLEM_TYPES_FILE: ProblemTypesFile,
}
_TOP_KEYS = {"areas": AREAS_FILE, "agencies": AGENCIES_FILE, "problem_types": PROBLEM_TYPES_FILE}


def _kind_of(path: Path, data: Any) -> str | None:
    if path.name in _MODELS:
        return path.name
    if isinstance(data, dict):
        for key, kind in _TOP_KEYS.items():
            if key in data:
                return kind
    return None


class _Problems(list[str]):
    """Problems as ``LINE: where: message``, the line found from the path of keys."""

    def __init__(self, lines: LineMap) -> None:
        super().__init__()
        self.lines = lines

    def add(self, loc: tuple[Any, ...], message: str) -> None:
        self.append(f"{self.lines.line_of(loc) or 0}: {'.'.join(map(str, loc))}: {message}")

    def repeats(self, words: Iterable[str], where: tuple[Any, ...]) -> None:
        seen: set[str] = set()
        for index, word in enumerate(words):
            if not word.strip():
                self.add((*where, index), "empty keyword")
            elif word in seen:
                self.add((*where, index), f"duplicate keyword {word!r}")
            seen.add(word)


def semantic_problems(model: BaseModel, lines: LineMap, agencies: Sequence[AgencyLike]) -> list[str]:
    """What pydantic cannot see: unknown names, and a keyword claimed twice or by two agencies or problem
    types (an area keyword may count for several areas)."""
    problems = _Problems(lines)
    owner: dict[str, str] = {}
    if isinstance(model, AreasFile):
        # A word may weigh for several areas; listed twice under one area, the YAML reader refuses it
        # as a duplicate key, with both lines.
        for area, keywords in model.areas.items():
            if area not in AREAS:
                problems.add(("areas", area), f"unknown area; use one of {' '.join(AREAS)}")
            for word, weight in keywords.items():
                if not word.strip():
                    problems.add(("areas", area, word), "empty keyword")
                if weight <= 0:
                    problems.add(("areas", area, word), "weight must be positive")
    elif isinstance(model, AgenciesFile):
        known = {agency.code for agency in agencies}
        for agency in agencies:
            for word in (agency.name, *agency.aliases):
                owner.setdefault(word, agency.code)
        for code, rule in model.agencies.items():
            if code not in known:
                problems.add(("agencies", code), UNKNOWN_AGENCY)
            problems.repeats(rule.keywords, ("agencies", code, "keywords"))
            for index, word in enumerate(rule.keywords):
                if owner.get(word, code) != code:
                    problems.add(
                        ("agencies", code, "keywords", index), f"conflicting keyword {word!r}, also {owner[word]}"
                    )
                owner.setdefault(word, code)
    elif isinstance(model, ProblemTypesFile):
        cues = set(model.negation.cues)
        problems.repeats(model.negation.cues, ("negation", "cues"))
        problems.repeats(model.parties.public, ("parties", "public"))
        problems.repeats(model.parties.private, ("parties", "private"))
        problems.repeats(model.parties.shielding, ("parties", "shielding"))
        public = set(model.parties.public)
        for index, word in enumerate(model.parties.private):
            if word in public:
                problems.add(("parties", "private", index), f"{word!r} is also listed as a public body")
        matched = {
            word
            for rule in model.problem_types.values()
            for word in (*rule.phrases, *(w for t in rule.together for w in (*t.words, *t.with_)))
        }
        for index, word in enumerate(model.parties.shielding):
            if word not in matched:
                message = f"{word!r} is not a phrase or co-occurrence word of any type"
                problems.add(("parties", "shielding", index), message)
        for name, rule in model.problem_types.items():
            if name not in PROBLEM_TYPES:
                problems.add(("problem_types", name), f"unknown problem type; use one of {' '.join(PROBLEM_TYPES)}")
            where = ("problem_types", name, "phrases")
            problems.repeats(rule.phrases, where)
            for index, phrase in enumerate(rule.phrases):
                if phrase in cues:
                    problems.add((*where, index), f"{phrase!r} is also a negation cue")
                if owner.get(phrase, name) != name:
                    problems.add((*where, index), f"conflicting phrase {phrase!r}, also {owner[phrase]}")
                owner.setdefault(phrase, name)
        for name in PROBLEM_TYPES:
            if name not in model.problem_types:
                problems.add(("problem_types",), f"no rule for {name}")
    return list(problems)


def check_file(path: Path | str, agencies: Sequence[AgencyLike]) -> tuple[BaseModel | None, list[str]]:
    """Validate one rules file: the model (None if unusable) and every problem as ``LINE: where: msg``."""
    path = Path(path)
    try:
        data, lines = read_yaml(path)
    except DataFileError as exc:
        return None, exc.problems
    kind = _kind_of(path, data)
    if kind is None:
        return None, ["1: (file): not a rules file; expected a top-level 'areas', 'agencies' or 'problem_types'"]
    try:
        model = _MODELS[kind].model_validate(data)
    except ValidationError as exc:
        return None, validation_problems(exc, lines)
    return model, semantic_problems(model, lines, agencies)


def load_rules(rules_dir: Path | str, agencies: Sequence[AgencyLike]) -> Rules:
    """Load and check the three files; any problem stops the load, except a rule for an agency that
    left the catalogue, which is skipped with a warning so a catalogue edit cannot stop the service.

    Parsing and checking a few thousand keywords with line numbers takes longer than the rest of
    start-up, so checked rules are cached, keyed by the files' bytes, the catalogue and this module's
    own source (a pickle of an older schema would load without the fields added since)."""
    rules_dir = Path(rules_dir)
    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update(repr(sorted((a.code, a.name, tuple(a.aliases)) for a in agencies)).encode())
    for name in RULE_FILES:
        try:
            digest.update((rules_dir / name).read_bytes())
        except OSError:
            digest.update(b"missing")
    cache = cache_file(f"minsheng-rules-{digest.hexdigest()[:20]}.pickle")
    try:
        with cache.open("rb") as file:
            rules, warnings = pickle.load(file)
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ValueError, TypeError):
        rules, warnings = _load_checked(rules_dir, agencies)
        write_atomically(cache, pickle.dumps((rules, warnings)))
    for warning in warnings:
        log.warning("%s (rule skipped)", warning)
    return rules


def _load_checked(rules_dir: Path, agencies: Sequence[AgencyLike]) -> tuple[Rules, list[str]]:
    models: dict[str, BaseModel] = {}
    warnings: list[str] = []
    for name in RULE_FILES:
        model, problems = check_file(rules_dir / name, agencies)
        unknown_code = [p for p in problems if p.endswith(UNKNOWN_AGENCY)]
        warnings += [f"{rules_dir / name}:{problem}" for problem in unknown_code]
        if model is None or len(problems) > len(unknown_code):
            raise DataFileError(rules_dir / name, [p for p in problems if p not in unknown_code])
        models[name] = model
    rules = Rules(models[AREAS_FILE], models[AGENCIES_FILE], models[PROBLEM_TYPES_FILE])  # type: ignore[arg-type]
    return rules, warnings
