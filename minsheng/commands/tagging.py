"""`minsheng tag` and `minsheng rules`: the complaint tagger and its rules, over the catalogue the
service tags with."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from minsheng.commands.context import settings_from
from minsheng.settings import Settings
from storage.datafile import DataFileError

#: A database that does not answer in this time is reported, and the file used instead.
DATABASE_TIMEOUT = 10.0


async def _database_agencies(settings: Settings) -> Sequence[Any]:
    from storage.agencies import tagger_agencies
    from storage.db import create_engine, create_session_factory

    engine = create_engine(settings.database_url)
    try:
        async with create_session_factory(engine)() as session:
            return await asyncio.wait_for(tagger_agencies(session), DATABASE_TIMEOUT)
    finally:
        await engine.dispose()


def _catalogue(settings: Settings) -> tuple[Sequence[Any], str]:
    """The agencies the service tags with, and a line saying where they came from.

    The service tags with the database's catalogue (imported, then edited); an empty database gets the
    catalogue file on the service's first start, so until then the file is what it would use. Only
    reads: a command that looks at the tagger never creates or migrates a database.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import DBAPIError

    from storage.catalogue import load_catalogue

    url = make_url(settings.database_url)
    shown = url.render_as_string(hide_password=True)
    if url.get_backend_name() == "sqlite" and not (url.database and Path(url.database).is_file()):
        reason = f"no database yet at {url.database or shown}"
    else:
        try:
            agencies = asyncio.run(_database_agencies(settings))
        except (DBAPIError, OSError, TimeoutError) as exc:
            reason = f"database {shown} unreadable: {str(getattr(exc, 'orig', None) or exc) or 'no answer'}"
        else:
            if agencies:
                return agencies, f"catalogue: database {shown} ({len(agencies)} active agencies)"
            reason = "the database has no agencies yet; the service imports this file on its first start"
    return load_catalogue(settings.catalogue_path).agencies, f"catalogue: file {settings.catalogue_path} ({reason})"


def _warnings_only(record: logging.LogRecord) -> bool:
    """jieba sets its logger to DEBUG when imported (on a cold cache only), undoing any level set
    before; a filter lasts."""
    return record.levelno >= logging.WARNING


def _load_tagger(settings: Settings, rules_dir: Path | None) -> tuple[Any, str]:
    """The tagger the service would build, and where its catalogue came from."""
    from nlp.tagger import Tagger

    agencies, source = _catalogue(settings)
    logging.getLogger("jieba").addFilter(_warnings_only)
    return Tagger.load(rules_dir or settings.rules_dir, agencies), source


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
    """Tag a complaint TEXT as the service would.

    Prints the agency, area and problem types, with the evidence for each. The agencies are the
    service's: the database's once it has any, else the catalogue file; the first line (stderr under
    --jsonl) says which."""
    if jsonl == (text is not None):
        raise click.UsageError('give either TEXT or --jsonl (with JSON lines on stdin), e.g. minsheng tag "文本"')
    if text is not None and (problem := _invalid({"text": text})):  # what --jsonl refuses, refused alike
        raise click.UsageError(f"invalid TEXT: {problem}")
    tagger, source = _load_tagger(settings_from(ctx), rules_dir)
    click.echo(source, err=jsonl)  # stdout carries JSON lines only
    if text is not None:
        click.echo(_readable(tagger.tag(text)))
        return
    out = sys.stdout
    for number, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            answer: dict[str, Any] = {"line": number, "error": f"malformed input: {exc}"}
        else:
            problem = _invalid(record)
            if problem is None:
                answer = _jsonl_line(record.get("id"), tagger.tag(record["text"]))
            elif isinstance(record, dict):  # the caller matches answers to records by id
                answer = {"id": record.get("id"), "line": number, "error": f"invalid record: {problem}"}
            else:
                answer = {"line": number, "error": f"invalid record: {problem}"}
        out.write(json.dumps(answer, ensure_ascii=False) + "\n")
        out.flush()  # a caller on the other end of a pipe waits for each answer


def _invalid(record: Any) -> str | None:
    """Why a parsed JSON line cannot be tagged, or None."""
    if not isinstance(record, dict):
        return 'expected an object with "id" and "text"'
    text = record.get("text")
    if text is None:
        return '"text" is missing'
    if not isinstance(text, str):
        return f'"text" is not a string but {type(text).__name__}'
    if not text.strip():
        return '"text" is blank'
    return None


@click.group()
def rules() -> None:
    """The tagger's rules files.

    They live in MINSHENG_RULES_DIR (default nlp/rules/)."""


@rules.command("check")
@click.argument("targets", metavar="[FILE|DIR]...", nargs=-1, type=click.Path(path_type=Path))
@click.pass_context
def rules_check(ctx: click.Context, targets: tuple[Path, ...]) -> None:
    """Validate rules files, each problem as FILE:LINE.

    A DIR is checked as the service loads it (areas.yaml, agencies.yaml, problem_types.yaml); with
    no argument, the configured rules directory. Agency codes are checked against the service's
    agencies, named on the first line as in `minsheng tag`."""
    from nlp.rulebook import RULE_FILES, check_file

    settings = settings_from(ctx)
    try:
        agencies, source = _catalogue(settings)
    except DataFileError as exc:
        raise click.ClickException(f"cannot read the catalogue:\n{exc}") from None
    click.echo(source)
    paths: list[Path] = []
    for target in targets or (settings.rules_dir,):
        if not target.is_dir():
            paths.append(target)
            continue
        paths += [target / name for name in RULE_FILES]
        for ignored in sorted({*target.glob("*.yaml"), *target.glob("*.yml")} - set(paths)):
            click.echo(f"{ignored}: not read by the service, which reads only {', '.join(RULE_FILES)}")
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

    try:
        rows = read_labelled(labelled)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    tagger, source = _load_tagger(settings_from(ctx), None)
    known = set(tagger.rules.areas.areas) | {w for kw in tagger.rules.areas.areas.values() for w in kw}

    def words(text: str) -> list[str]:
        return [word for word, _, _ in tagger.tokens(normalize(text).text)]

    suggestions = mine_labelled(rows, words, top=top, min_count=min_count, min_weight=min_weight)
    if new_only:
        suggestions = {label: [s for s in items if s.word not in known] for label, items in suggestions.items()}
    click.echo(f"# {len(rows)} labelled messages from {labelled}; weight = smoothed log-odds, review before use")
    click.echo(f"# {source}")
    click.echo(render_yaml(suggestions, Counter(label for _, label in rows)), nl=False)
