"""Operator-edited YAML data files, validated with pydantic, with errors that name the line.

Catalogue, tagger rules, deadline policy and message texts are all edited by people who are not
programmers; "line 42: unknown area '城建'" is the difference between a fix and a support call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


class DataFileError(Exception):
    """A data file that cannot be used; ``problems`` are ready-to-print lines."""

    def __init__(self, path: Path | str, problems: list[str]) -> None:
        self.path = Path(path)
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))

    def __str__(self) -> str:
        return "\n".join(f"{self.path}:{p}" for p in self.problems)


class ItemProblems(ValueError):
    """Raised by a model validator whose check spans items (duplicates, dangling references): each problem
    carries the location of the item at fault, relative to the model, so its line can still be named."""

    def __init__(self, problems: list[tuple[tuple[Any, ...], str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(message for _, message in problems))


@dataclass
class LineMap:
    """Line number (1-based) of every mapping key and sequence item, by its path of keys/indexes."""

    lines: dict[tuple[Any, ...], int] = field(default_factory=dict)

    def line_of(self, loc: tuple[Any, ...]) -> int | None:
        """The line of ``loc`` or of its nearest ancestor that has one."""
        for end in range(len(loc), -1, -1):
            line = self.lines.get(tuple(loc[:end]))
            if line is not None:
                return line
        return None


class _UniqueKeyLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """SafeLoader that refuses duplicate keys: a repeated key silently wins in plain YAML.

    libyaml's parser when PyYAML has it (it reports the same marks, ten times faster: the catalogue and
    rules are read at every start of ``minsheng tag``)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first on line {seen[key]})", key_node.start_mark
            )
        seen[key] = key_node.start_mark.line + 1
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _walk(node: yaml.Node, path: tuple[Any, ...], lines: dict[tuple[Any, ...], int]) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key_path = (*path, key_node.value)
            lines[key_path] = key_node.start_mark.line + 1
            _walk(value_node, key_path, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), lines)


def _unreadable_line(node: yaml.Node) -> int:
    """The line of the first scalar YAML cannot turn into a value (0 if none is found)."""
    if isinstance(node, yaml.ScalarNode):
        try:
            _UniqueKeyLoader("").construct_object(node)
        except ValueError:
            return node.start_mark.line + 1
        return 0
    children = node.value if isinstance(node, yaml.SequenceNode) else []
    if isinstance(node, yaml.MappingNode):
        children = [child for pair in node.value for child in pair]
    for child in children:
        if line := _unreadable_line(child):
            return line
    return 0


def read_yaml(path: Path | str, text: str | None = None) -> tuple[Any, LineMap]:
    """Parse YAML and remember where every key and item stands."""
    path = Path(path)
    if text is None:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise DataFileError(path, [f"0: cannot read: {exc.strerror or exc}"]) from exc
    loader = _UniqueKeyLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        raise DataFileError(path, [f"{line}: invalid YAML: {exc.problem or exc}"]) from exc
    except ValueError as exc:  # well-formed, yet no value: the date 2027-02-30
        raise DataFileError(path, [f"{_unreadable_line(node)}: invalid value: {exc}"]) from exc
    finally:
        loader.dispose()
    lines = LineMap()
    if node is not None:
        _walk(node, (), lines.lines)
    return data, lines


def validation_problems(exc: ValidationError, lines: LineMap) -> list[str]:
    """Turn pydantic's errors into ``"LINE: where: message"`` lines."""
    problems = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        cause = error.get("ctx", {}).get("error")
        if isinstance(cause, ItemProblems):
            located = [((*loc, *sub_loc), message) for sub_loc, message in cause.problems]
        else:
            located = [(loc, error["msg"].removeprefix("Value error, "))]
        for item_loc, message in located:
            where = ".".join(str(part) for part in item_loc) or "(file)"
            problems.append(f"{lines.line_of(item_loc) or 0}: {where}: {message}")
    return problems


def load_model(path: Path | str, model: type[M]) -> tuple[M, LineMap]:
    """Read a YAML data file into ``model``; every problem is reported with its line."""
    data, lines = read_yaml(path)
    try:
        return model.model_validate(data if data is not None else {}), lines
    except ValidationError as exc:
        raise DataFileError(path, validation_problems(exc, lines)) from exc
