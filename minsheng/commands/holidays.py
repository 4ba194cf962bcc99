"""`minsheng holidays check`: the working-day calendar's holidays file, checked as the service loads it."""

from __future__ import annotations

from pathlib import Path

import click

from minsheng.commands.context import settings_from
from storage.datafile import DataFileError


@click.group()
def holidays() -> None:
    """The holidays file of the working-day calendar.

    It is MINSHENG_HOLIDAYS_PATH (default workflow/data/holidays.yaml)."""


@holidays.command("check")
@click.argument("path", metavar="[FILE]", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def holidays_check(ctx: click.Context, path: Path | None) -> None:
    """Validate a holidays file, each problem as FILE:LINE; with no argument, the configured one.

    A valid file gets one line: the years it gives, the years chinese_calendar knows, and the years
    whose deadlines fall back to the statutory holidays."""
    from workflow.calendar import WorkCalendar

    path = path or settings_from(ctx).holidays_path
    try:
        calendar = WorkCalendar.load(path)
    except DataFileError as exc:
        click.echo(str(exc))
        count = len(exc.problems)
        raise click.ClickException(f"{path} cannot be used: {count} problem{'s' if count > 1 else ''}") from None
    click.echo(f"{path}: ok: {_summary(calendar.listed_years, *WorkCalendar.library_years())}")


def _summary(listed: list[int], first: int, last: int) -> str:
    """ "2027 from this file; chinese_calendar knows 2004-2026; 2028 and later fall back …"."""
    given = f"{', '.join(map(str, listed))} from this file" if listed else "no years listed"
    end = max([last, *listed])
    fallback = [str(year) for year in range(last + 1, end + 1) if year not in listed]
    return (
        f"{given}; chinese_calendar knows {first}-{last}; "
        f"{', '.join([*fallback, str(end + 1)])} and later fall back to the statutory holidays"
    )
