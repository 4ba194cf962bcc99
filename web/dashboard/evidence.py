"""The complaint text cut into segments for display: tag evidence highlighted at its stored offsets,
personal data masked for viewers who may not see it. Offsets always index the original text, so
highlighting happens before masking and nothing shifts."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from nlp.personal_data import find_personal_data, redact
from storage.models import Complaint
from web.dashboard.queries import Viewer
from workflow.privacy import shown, unmasked_for


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int
    kind: str  # "problem_type" | "agency" | "area" | "personal"
    value: str


@dataclass
class Segment:
    text: str
    labels: list[str] = field(default_factory=list)  # evidence labels; empty for plain text
    kind: str = ""  # the evidence kind, for the CSS class
    masked: bool = False


def _spans_in(items: Iterable[Any], text: str, default_kind: str = "", default_value: str = "") -> list[Span]:
    """Evidence items that really point at ``text``; stale or malformed offsets are skipped."""
    found = []
    for item in items:
        if not isinstance(item, dict):
            continue
        start, end = item.get("start"), item.get("end")
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
            continue
        word = item.get("word")
        if isinstance(word, str) and word and text[start:end] != word:
            continue
        kind = str(item.get("kind") or default_kind)
        found.append(Span(start, end, kind, str(item.get("value") or default_value)))
    return found


def evidence_spans(complaint: Complaint) -> list[Span]:
    """From the tagger's stored result and from the problem rows (either may be empty)."""
    text = complaint.text
    evidence = (complaint.tagging or {}).get("evidence") or []
    spans = _spans_in(evidence if isinstance(evidence, list) else [], text)
    for problem in complaint.problems:
        spans += _spans_in(problem.evidence or [], text, "problem_type", problem.problem_type)
    return sorted(set(spans), key=lambda span: (span.start, -span.end, span.kind, span.value))


def shows_personal_data(viewer: Viewer, complaint: Complaint) -> bool:
    """``workflow.privacy.unmasked_for`` this viewer, the one rule for the bot, the dashboard and the API:
    here that is oversight only, and never for an anonymous complaint (a web viewer reads, does not
    handle; an anonymous complaint's own text could name its author)."""
    return unmasked_for(viewer.actor, complaint, oversight=viewer.is_oversight)


def visible(viewer: Viewer, complaint: Complaint, text: str | None) -> str | None:
    """Any text of the complaint (its words, the reply, an event's reason) as this viewer may read it: a
    reply or a 不满意 reason can name the citizen as well as the complaint can. The page's segments agree."""
    return shown(text, shows_personal_data(viewer, complaint))


def segments(complaint: Complaint, *, show_personal_data: bool) -> list[Segment]:
    """Plain, highlighted and masked pieces that concatenate back to the text (masks aside)."""
    text = complaint.text
    spans = evidence_spans(complaint)
    personal = [] if show_personal_data else find_personal_data(text)
    cuts = {0, len(text)}
    for span in spans:
        cuts |= {span.start, span.end}
    for item in personal:
        cuts |= {item.start, item.end}
    points = sorted(cuts)
    pieces: list[Segment] = []
    for start, end in itertools.pairwise(points):
        if any(item.start <= start and end <= item.end for item in personal):
            owner = next(item for item in personal if item.start <= start and end <= item.end)
            if pieces and pieces[-1].masked and owner.start < start:
                continue  # one mask per personal span
            piece = text[owner.start : owner.end]
            masked = redact(piece)
            pieces.append(Segment(masked if masked != piece else "＊＊＊", masked=True))
            continue
        covering = [span for span in spans if span.start <= start and end <= span.end]
        labels = sorted({f"{span.value}" for span in covering if span.value})
        kind = covering[0].kind if covering else ""
        if pieces and not pieces[-1].masked and pieces[-1].labels == labels and pieces[-1].kind == kind:
            pieces[-1].text += text[start:end]
        else:
            pieces.append(Segment(text[start:end], labels, kind))
    return pieces
