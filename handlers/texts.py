"""Message catalogue: every user-facing text, in files an operator can edit.

Simplified Chinese is written once in ``texts/zh-Hans.yaml``; Traditional Chinese is produced by
OpenCC (``s2twp``) from the same file, then corrected by the few entries of
``texts/zh-Hant.overrides.yaml``. Both are validated at start-up with line-numbered errors.
Parameters follow one rule, in :class:`Translator`: shown in the reader's script unless a person
wrote them; ``Translator.script`` does the same for text that bypasses the catalogue (button labels).
"""

from __future__ import annotations

import html
import re
import string
from collections.abc import Callable
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


#: Parameters that hold what a person typed (a citizen's complaint, place, name, comment; a clerk's
#: reply, reason or basis; the tagger's matched words). They are quoted as written, never converted.
VERBATIM = frozenset(
    {"text", "summary", "place", "name", "phone", "query", "comment", "words", "evidence", "reason", "reply", "basis"}
)


#: Verbatim parameters our texts set inside a sentence ("（理由：{reason}）", "意见：{reason}。"): their own
#: closing punctuation is dropped, so a typed "理由不充分。" never reads "理由不充分。）" or "。。".
CLAUSES = frozenset({"reason", "basis"})
_CLOSING = "。．.！!？?；，,、 \t\n\u3000"  # not ";": a typed "&amp;" keeps its end


class Rendered(str):
    """A text the catalogue produced: already in the reader's script and HTML-safe."""


def _same(text: str) -> str:
    return text


class Translator:
    """Texts in one language.

    One rule for parameters: each is shown in the reader's script (agency names, problem types,
    areas, rating words, deadlines: Chinese the system says), except the :data:`VERBATIM` ones,
    which quote what a person wrote (a reason or basis without its closing punctuation, as our
    texts place it inside a sentence: :data:`CLAUSES`). Then it is HTML-escaped; the catalogue's own markup is kept.
    A fragment rendered by a Translator (:class:`Rendered`) is inserted as it is. Tracking
    numbers, times and URLs are ASCII and read the same in both scripts.
    """

    def __init__(self, lang: str, messages: dict[str, str], convert: Callable[[str], str] = _same) -> None:
        self.lang = lang
        self._messages = messages
        self._convert = convert

    def __call__(self, key: str, /, **params: Any) -> Rendered:
        text = self._messages[key]
        if not params:
            return Rendered(text)
        return Rendered(text.format(**{name: self.param(name, value) for name, value in params.items()}))

    def param(self, name: str, value: Any) -> str:
        """One parameter as it goes into a message: see the class docstring."""
        if isinstance(value, Rendered):
            return value
        text = str(value)
        if name in CLAUSES:
            text = text.rstrip(_CLOSING) or text
        if name not in VERBATIM:
            text = self.script(text)
        return html.escape(text, quote=False)

    def script(self, text: str) -> str:
        """Chinese display text in the reader's script, e.g. an agency name on a button (no escaping)."""
        return self._convert(text)

    def has(self, key: str) -> bool:
        return key in self._messages

    def plain(self, key: str, /, **params: Any) -> str:
        """Text without HTML markup, for places Telegram shows raw (button labels, alerts)."""
        return html.unescape(re.sub(r"<[^>]+>", "", self(key, **params)))


def _traditional_converter(replace: dict[str, str]) -> Callable[[str], str]:
    """OpenCC ``s2twp``, then the overrides' word fixes: for the catalogue and parameters alike."""
    converter = opencc.OpenCC("s2twp")

    def convert(text: str) -> str:
        converted = converter.convert(text)
        for wrong, right in replace.items():
            converted = converted.replace(wrong, right)
        return converted

    return convert


class Texts:
    """The catalogue in every supported language."""

    def __init__(self, messages: dict[str, dict[str, str]], to_traditional: Callable[[str], str] = _same) -> None:
        converters = {TRADITIONAL: to_traditional}
        self._translators = {
            lang: Translator(lang, texts, converters.get(lang, _same)) for lang, texts in messages.items()
        }

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
        to_traditional = _traditional_converter(overrides.replace)
        traditional = {key: overrides.messages.get(key) or to_traditional(text) for key, text in messages.items()}
        return cls({SIMPLIFIED: messages, TRADITIONAL: traditional}, to_traditional)

    def __call__(self, lang: str | None) -> Translator:
        return self._translators.get(lang or SIMPLIFIED, self._translators[SIMPLIFIED])

    def variants(self, key: str) -> set[str]:
        """A text in every language: to recognise a reply-keyboard button whichever script it shows."""
        return {translator.plain(key) for translator in self._translators.values()}


@cache
def default_texts() -> Texts:
    """The shipped catalogue, loaded once per process."""
    return Texts.load()
