"""`minsheng tag` and `minsheng rules`: the complaint tagger and its rules, without a database."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

import click

from minsheng.commands.context import settings_from
from storage.datafile import DataFileError


def _load_tagger(ctx: click.Context, rules_dir: Path | None) -> Any:
    from nlp.tagger import Tagger
    from storage.catalogue import load_catalogue

    settings = settings_from(ctx)
    logging.getLogger("jieba").setLevel(logging.WARNING)
    return Tagger.load(rules_dir or settings.rules_dir, load_catalogue(settings.catalogue_path).agencies)


def _readable(result: Any) -> str:
    """The result for a person: the choices first, then the words that led to each."""
    lines = []
    if result.agency:
        lines.append(f"单位: {result.agency_name} ({result.agency})  置信度 {result.confidence:.2f}")
    else:
        lines.append(f"单位: 无法确定 (置信度 {result.confidence:.2f}，需向群众确认)")
    for candidate in result.candidates[:5]:
        lines.append(f"  候选 {candidate.name} ({candidate.code})  得分 {candidate.score:g}")
    lines.append(f"领域: {result.area or '未确定'}" + (f"  置信度 {result.area_confidence:.2f}" if result.area else ""))
    lines.append(f"问题类型: {'、'.join(result.problem_types) or '无'}")
    if result.script == "zh-Hant":
        lines.append("原文为繁体中文")
    if result.evidence:
        lines.append("依据:")
        for e in result.evidence:
            lines.append(f"  {e.kind:<12} {e.value:<22} 「{e.word}」 [{e.start}:{e.end}]")
    if result.personal_data:
        lines.append("个人信息: " + ", ".join(f"{p.kind} [{p.start}:{p.end}]" for p in result.personal_data))
    return "\n".join(lines)


def _jsonl_line(record_id: Any, result: Any) -> dict[str, Any]:
    data = result.to_dict()
    return {
        "id": record_id,
        "agency": result.agency,
        "agency_name": result.agency_name,
        "area": result.area,
        "problem_types": list(result.problem_types),
        "confidence": result.confidence,
        "low_confidence": result.low_confidence,
        "candidates": data["candidates"],
        "evidence": data["evidence"],
        "personal_data": data["personal_data"],
    }


@click.command()
@click.argument("text", required=False)
@click.option("--jsonl", is_flag=True, help='Read {"id", "text"} JSON lines from stdin, write one JSON line each.')
@click.option("--rules", "rules_dir", type=click.Path(file_okay=False, path_type=Path), help="Rules directory.")
@click.pass_context
def tag(ctx: click.Context, text: str | None, jsonl: bool, rules_dir: Path | None) -> None:
    """Tag a complaint TEXT: agency, area, problem types, with the evidence for each."""
    if jsonl == (text is not None):
        raise click.UsageError('give either TEXT or --jsonl (with JSON lines on stdin), e.g. minsheng tag "文本"')
    tagger = _load_tagger(ctx, rules_dir)
    if text is not None:
        click.echo(_readable(tagger.tag(text)))
        return
    out = sys.stdout
    for number, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict) or not isinstance(record.get("text"), str):
                raise ValueError('expected an object with a string "text"')
        except ValueError as exc:
            error = {"line": number, "error": f"malformed input: {exc}"}
            out.write(json.dumps(error, ensure_ascii=False) + "\n")
            out.flush()
            continue
        result = tagger.tag(record["text"])
        out.write(json.dumps(_jsonl_line(record.get("id"), result), ensure_ascii=False) + "\n")
        out.flush()  # a caller on the other end of a pipe waits for each answer


@click.group()
def rules() -> None:
    """The tagger's rules files (nlp/rules/ by default)."""


@rules.command("check")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def rules_check(ctx: click.Context, files: tuple[Path, ...]) -> None:
    """Validate rules FILES (default: every file in the rules directory); each problem with its line."""
    from nlp.rulebook import RULE_FILES, check_file
    from storage.catalogue import load_catalogue

    settings = settings_from(ctx)
    try:
        agencies = load_catalogue(settings.catalogue_path).agencies
    except DataFileError as exc:
        raise click.ClickException(f"cannot read the catalogue:\n{exc}") from None
    paths = files or tuple(settings.rules_dir / name for name in RULE_FILES)
    failed = 0
    for path in paths:
        _, problems = check_file(path, agencies)
        for problem in problems:
            click.echo(f"{path}:{problem}")
        failed += bool(problems)
        if not problems:
            click.echo(f"{path}: ok")
    if failed:
        raise click.ClickException(f"{failed} of {len(paths)} rules files have problems")


@rules.command("suggest")
@click.option(
    "--labelled",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="CSV with text and label columns, e.g. ../shared/data/tipdm2020/dev.csv",
)
@click.option("--top", default=60, show_default=True, help="Suggestions per label.")
@click.option("--min-count", default=5, show_default=True, help="Messages a word must appear in.")
@click.option("--min-weight", default=1.0, show_default=True, help="Smallest log-odds weight suggested.")
@click.option("--new-only", is_flag=True, help="Leave out words the rules already have.")
@click.pass_context
def rules_suggest(
    ctx: click.Context, labelled: Path, top: int, min_count: int, min_weight: float, new_only: bool
) -> None:
    """Mine candidate keywords per label from labelled messages, with scores, for a person to review."""
    from collections import Counter

    from nlp.mining import mine_labelled, read_labelled, render_yaml
    from nlp.normalize import normalize

    tagger = _load_tagger(ctx, None)
    try:
        rows = read_labelled(labelled)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    known = set(tagger.rules.areas.areas) | {w for kw in tagger.rules.areas.areas.values() for w in kw}

    def words(text: str) -> list[str]:
        return [word for word, _, _ in tagger.tokens(normalize(text).text)]

    suggestions = mine_labelled(rows, words, top=top, min_count=min_count, min_weight=min_weight)
    if new_only:
        suggestions = {label: [s for s in items if s.word not in known] for label, items in suggestions.items()}
    click.echo(f"# {len(rows)} labelled messages from {labelled}; weight = smoothed log-odds, review before use")
    click.echo(render_yaml(suggestions, Counter(label for _, label in rows)), nl=False)
