"""`minsheng agencies`: the agency catalogue."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from minsheng.commands.context import run_async, settings_from, with_engine


@click.group()
def agencies() -> None:
    """The agency catalogue."""


@agencies.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def agencies_import(ctx: click.Context, file: Path) -> None:
    """Import or update agencies from a catalogue FILE (idempotent)."""
    from storage.agencies import import_catalogue
    from storage.catalogue import load_catalogue
    from storage.db import create_session_factory

    catalogue = load_catalogue(file)

    async def work(engine: Any) -> Any:
        async with create_session_factory(engine)() as session:
            report = await import_catalogue(session, catalogue)
            await session.commit()
            return report

    report = run_async(with_engine(work)(settings_from(ctx)))
    if report.region:
        click.echo(f"region       {report.region[0] or '(none)'} -> {report.region[1]}")
    for code in report.added:
        click.echo(f"added        {code}")
    for code, fields in report.updated.items():
        click.echo(f"updated      {code}: {', '.join(fields)}")
    for code in report.removed:
        click.echo(f"removed      {code}")
    for code in report.deactivated:
        click.echo(f"deactivated  {code} (has complaints, contacts or evaluations; kept for history)")
    click.echo(
        f"{len(report.added)} added, {len(report.updated)} updated, {len(report.removed)} removed, "
        f"{len(report.deactivated)} deactivated, {report.unchanged} unchanged"
    )


@agencies.command("list")
@click.pass_context
def agencies_list(ctx: click.Context) -> None:
    """List the agencies in the database."""
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from storage.db import create_session_factory
    from storage.models import Agency

    async def work(engine: Any) -> list[Agency]:
        async with create_session_factory(engine)() as session:
            query = select(Agency).options(selectinload(Agency.parent)).order_by(Agency.area, Agency.code)
            return list((await session.scalars(query)).all())

    for agency in run_async(with_engine(work)(settings_from(ctx))):
        flags = " ".join(
            flag for flag, on in ((agency.role, agency.role != "agency"), ("inactive", not agency.active)) if on
        )
        parent = f" < {agency.parent.code}" if agency.parent else ""
        click.echo(f"{agency.code:<28} {agency.name:<16} {agency.area or '-':<8}{parent} {flags}".rstrip())
