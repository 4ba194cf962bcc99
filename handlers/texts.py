"""Message catalogue: every user-facing text, in files an operator can edit.

Simplified Chinese is written once in ``texts/zh-Hans.yaml``; Traditional Chinese is produced by
OpenCC (``s2twp``) from the same file, then corrected by the few entries of
``texts/zh-Hant.overrides.yaml``. Both are validated at start-up with line-numbered errors.
"""

from __future__ import annotations

import html
import re
import string
from functools import cache
from pathlib import Path
from typing import Annotated, Any

import opencc
from pydantic import AfterValidator, BaseModel, ConfigDict

from storage.datafile import DataFileError, load_model

TEXTS_DIR = Path(__file__).parent / "texts"
SIMPLIFIED = "zh-Hans"
TRADITIONAL = "zh-Hant"
LANGUAGES = (SIMPLIFIED, TRADITIONAL)
_KEY = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")


def placeholders(text: str) -> set[str]:
    """The ``{name}`` fields of a message; raises ValueError for a malformed brace."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _check_key(key: str) -> str:
    if not _KEY.match(key):
        raise ValueError(f"bad message key {key!r}: use lower-case words joined by dots")
    return key


def _check_text(text: str) -> str:
    if not text.strip():
        raise ValueError("empty message")
    try:
        names = placeholders(text)
    except ValueError as exc:
        raise ValueError(f"{exc} (write {{{{ and }}}} for literal braces)") from None
    if any(not name.isidentifier() for name in names):
        raise ValueError("placeholders must be plain names like {name}")
    return text


#: Validated one by one, so an error names the message's own line.
MessageKey = Annotated[str, AfterValidator(_check_key)]
MessageText = Annotated[str, AfterValidator(_check_text)]


class CatalogueFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    messages: dict[MessageKey, MessageText]


class OverridesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    replace: dict[str, str] = {}
    messages: dict[MessageKey, MessageText] = {}


def load_catalogue(directory: Path = TEXTS_DIR) -> dict[str, str]:
    """``zh-Hans.yaml`` plus every ``zh-Hans.<part>.yaml`` (one per conversation, so teams editing
    different conversations never edit the same file); a key defined twice is an error."""
    paths = [directory / f"{SIMPLIFIED}.yaml", *sorted(directory.glob(f"{SIMPLIFIED}.*.yaml"))]
    messages: dict[str, str] = {}
    origin: dict[str, str] = {}
    for path in paths:
        part, lines = load_model(path, CatalogueFile)
        problems = [
            f"{lines.line_of(('messages', key)) or 0}: messages.{key}: already defined in {origin[key]}"
            for key in part.messages
            if key in origin
        ]
        if problems:
            raise DataFileError(path, problems)
        messages.update(part.messages)
        origin.update(dict.fromkeys(part.messages, path.name))
    return messages


class Translator:
    """Texts in one language; parameters are HTML-escaped, the catalogue's own markup is kept."""

    def __init__(self, lang: str, messages: dict[str, str]) -> None:
        self.lang = lang
        self._messages = messages

    def __call__(self, key: str, /, **params: Any) -> str:
        text = self._messages[key]
        if not params:
            return text
        return text.format(**{name: html.escape(str(value), quote=False) for name, value in params.items()})

    def has(self, key: str) -> bool:
        return key in self._messages

    def plain(self, key: str, /, **params: Any) -> str:
        """Text without HTML markup, for places Telegram shows raw (button labels, alerts)."""
        return html.unescape(re.sub(r"<[^>]+>", "", self(key, **params)))


class Texts:
    """The catalogue in every supported language."""

    def __init__(self, messages: dict[str, dict[str, str]]) -> None:
        self._translators = {lang: Translator(lang, texts) for lang, texts in messages.items()}

    @classmethod
    def load(cls, directory: Path = TEXTS_DIR) -> Texts:
        messages = load_catalogue(directory)
        overrides_path = directory / f"{TRADITIONAL}.overrides.yaml"
        overrides, lines = load_model(overrides_path, OverridesFile)
        problems = []
        for key, text in overrides.messages.items():
            where = f"{lines.line_of(('messages', key)) or 0}: messages.{key}"
            if key not in messages:
                problems.append(f"{where}: no such message in the {SIMPLIFIED} catalogue")
            elif placeholders(text) != placeholders(messages[key]):
                problems.append(f"{where}: placeholders differ from the Simplified text")
        if problems:
            raise DataFileError(overrides_path, problems)
        converter = opencc.OpenCC("s2twp")
        traditional = {}
        for key, text in messages.items():
            converted = converter.convert(text)
            for wrong, right in overrides.replace.items():
                converted = converted.replace(wrong, right)
            traditional[key] = overrides.messages.get(key, converted)
        return cls({SIMPLIFIED: messages, TRADITIONAL: traditional})

    def __call__(self, lang: str | None) -> Translator:
        return self._translators.get(lang or SIMPLIFIED, self._translators[SIMPLIFIED])

    def variants(self, key: str) -> set[str]:
        """A text in every language: to recognise a reply-keyboard button whichever script it shows."""
        return {translator.plain(key) for translator in self._translators.values()}


@cache
def default_texts() -> Texts:
    """The shipped catalogue, loaded once per process."""
    return Texts.load()
