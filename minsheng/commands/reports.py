"""`minsheng export`: the monthly publication and rectification notices, as files; `minsheng publication`: its
stored public copy."""

from __future__ import annotations

import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click

from minsheng.commands.context import local_time, run_async, settings_from, with_engine


def _month(_ctx: click.Context, _param: click.Parameter, value: str) -> date:
    try:
        return datetime.strptime(value, "%Y-%m").date()
    except ValueError:
        raise click.BadParameter("use YYYY-MM, e.g. 2026-10") from None


BOM = "\ufeff".encode()
#: Formats whose bytes would garble a terminal.
BINARY_FORMATS = {"xlsx"}


def _refuse_binary_on_a_terminal(fmt: str, out: Path | None) -> None:
    """Binary bytes on a terminal help no one; to a file, a pipe or a redirect they are the point."""
    if fmt in BINARY_FORMATS and out is None and sys.stdout.isatty():
        raise click.ClickException(
            f"{fmt.upper()} is binary and stdout is a terminal: give --out FILE, or redirect (> FILE.{fmt}); "
            "--format csv prints text"
        )


def _write(data: bytes, out: Path | None) -> None:
    if out is None:
        click.echo(data, nl=False)  # bytes go to the binary stream underneath
    else:
        try:
            out.write_bytes(data)
        except OSError as exc:
            raise click.ClickException(f"无法写入 / cannot write {out}: {exc.strerror or exc}") from None
        click.echo(f"written {out} ({len(data):,} bytes)", err=True)


@click.group()
def export() -> None:
    """Publications and notices as files."""


@export.command("monthly")
@click.option("--month", required=True, callback=_month, help="The month, YYYY-MM (local calendar).")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "html"]), default="xlsx", show_default=True)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write (default: stdout; XLSX only when stdout is a pipe or a file).",
)
@click.pass_context
def export_monthly(ctx: click.Context, month: date, fmt: str, out: Path | None) -> None:
    """The monthly publication (投诉情况每月公示). After the month's cut-off: the public document itself, as
    stored when first read (here or on the public page); before it, a preview as of now, marked
    预览，非正式公示 in the file."""
    from reports.figures import month_bounds
    from reports.publication import (
        build_publication,
        publication_cut_off,
        published_months,
        render_csv,
        render_html,
        render_xlsx,
    )
    from reports.snapshots import publish
    from storage.db import create_session_factory
    from workflow.clock import SystemClock
    from workflow.deadlines import Deadlines

    settings = settings_from(ctx)
    _refuse_binary_on_a_terminal(fmt, out)
    now = SystemClock().now()
    if month_bounds(month, settings.zone)[0] > now:
        raise click.ClickException(f"{month:%Y-%m} 尚未开始，无可导出 / the month has not begun")
    deadlines = Deadlines.load(settings.policy_path, settings.holidays_path, settings.zone)
    cut_off = publication_cut_off(month, deadlines)
    preview = now < cut_off
    if preview:
        click.echo(
            f"预览，非正式公示 / preview: {month:%Y-%m} is published after "
            f"{local_time(settings, cut_off)}; figures as of now",
            err=True,
        )

    async def work(engine: Any) -> bytes:
        async with create_session_factory(engine)() as session:
            months = [] if preview else await published_months(session, deadlines, now)
            if month in months:
                stored = await publish(session, month, months, deadlines, now)
                return {"csv": stored.csv, "xlsx": stored.xlsx, "html": stored.html.encode("utf-8")}[fmt]
            pub = await build_publication(
                session, month, settings.zone, as_of=now if preview else cut_off, preview=preview
            )
        if fmt == "csv":
            return render_csv(pub)
        if fmt == "xlsx":
            return render_xlsx(pub)
        return render_html(pub).encode("utf-8")

    data = run_async(with_engine(work)(settings))
    if fmt == "csv" and out is None and sys.stdout.isatty():
        data = data.removeprefix(BOM)  # the BOM tells Excel the file is UTF-8; a terminal would show it
    _write(data, out)


@export.command("rectification")
@click.option("--agency", "agency_code", required=True, help="Agency code, as in `minsheng agencies list`.")
@click.option("--from", "period_from", required=True, type=click.DateTime(["%Y-%m-%d"]), help="First day, YYYY-MM-DD.")
@click.option("--to", "period_to", required=True, type=click.DateTime(["%Y-%m-%d"]), help="Last day (inclusive).")
@click.option("--due", type=click.DateTime(["%Y-%m-%d"]), help="Report-back deadline (default: 20 working days).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="HTML file (default: stdout).")
@click.pass_context
def export_rectification(
    ctx: click.Context,
    agency_code: str,
    period_from: datetime,
    period_to: datetime,
    due: datetime | None,
    out: Path | None,
) -> None:
    """A printable rectification notice (整改通知书) for one agency and period."""
    from reports.rectification import (
        NoComplaintsInPeriod,
        UnknownAgency,
        build_rectification,
        render_rectification_html,
    )
    from storage.db import create_session_factory
    from workflow.deadlines import Deadlines

    settings = settings_from(ctx)
    if period_to < period_from:
        raise click.BadParameter("--to is before --from", param_hint="--to")

    async def work(engine: Any) -> str:
        async with create_session_factory(engine)() as session:
            notice = await build_rectification(
                session,
                agency_code,
                period_from.date(),
                period_to.date(),
                settings.zone,
                deadlines=Deadlines.load(settings.policy_path, settings.holidays_path, settings.zone),
                due_on=due.date() if due else None,
            )
        return render_rectification_html(notice)

    try:
        html = run_async(with_engine(work)(settings))
    except UnknownAgency:
        raise click.ClickException(f"no agency with code {agency_code!r}; see `minsheng agencies list`") from None
    except NoComplaintsInPeriod:
        raise click.ClickException(
            f"{agency_code!r} received no complaints from {period_from:%Y-%m-%d} to {period_to:%Y-%m-%d}: "
            "nothing to rectify, no notice written"
        ) from None
    _write(html.encode("utf-8"), out)


@click.group()
def publication() -> None:
    """The public monthly publication as stored when first served."""


@publication.command("reissue")
@click.option("--month", required=True, callback=_month, help="The month, YYYY-MM (local calendar).")
@click.pass_context
def publication_reissue(ctx: click.Context, month: date) -> None:
    """Withdraw a month's stored publication, e.g. after correcting its records: the next request to
    /publication/YYYY-MM computes it afresh (as of the same cut-off) and stores that instead."""
    from reports.snapshots import withdraw
    from storage.db import create_session_factory

    async def work(engine: Any) -> bool:
        async with create_session_factory(engine)() as session:
            return await withdraw(session, month)

    if run_async(with_engine(work)(settings_from(ctx))):
        click.echo(f"{month:%Y-%m}: stored publication withdrawn; it is recomputed on the next request")
    else:
        click.echo(f"{month:%Y-%m}: not published yet, nothing stored; it is computed on the first request")
