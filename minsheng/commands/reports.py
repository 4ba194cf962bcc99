"""`minsheng export`: the monthly publication and rectification notices, as files; `minsheng publication`:
releasing a month (the one way it goes public) and withdrawing it to correct it."""

from __future__ import annotations

import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click

from minsheng.commands.context import local_time, run_async, settings_from, with_engine
from reports.months import MONTH_HINT, month_of


def _month(_ctx: click.Context, _param: click.Parameter, value: str) -> date:
    month = month_of(value.strip())
    if month is None:
        raise click.BadParameter(f"{MONTH_HINT}, e.g. 2026-10")
    return month


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
    """The monthly publication (投诉情况每月公示). A released month: the public document itself, as stored
    when it was released. A month not released yet: the office's preview (as of now, or as of its cut-off
    once that has passed), the same file the dashboard downloads, marked 预览，尚未公示."""
    from reports.figures import month_bounds
    from reports.snapshots import month_file
    from storage.db import create_session_factory
    from workflow.clock import SystemClock
    from workflow.deadlines import Deadlines

    settings = settings_from(ctx)
    _refuse_binary_on_a_terminal(fmt, out)
    now = SystemClock().now()
    if month_bounds(month, settings.zone)[0] > now:
        raise click.ClickException(f"{month:%Y-%m} 尚未开始，无可导出 / the month has not begun")
    deadlines = Deadlines.load(settings.policy_path, settings.holidays_path, settings.zone)

    async def work(engine: Any) -> Any:
        async with create_session_factory(engine)() as session:
            return await month_file(session, month, deadlines, now, fmt)

    found = run_async(with_engine(work)(settings))
    if found.title is not None:
        click.echo(f"{found.title} / preview: {month:%Y-%m} is not released (`minsheng publication release`)", err=True)
    data = found.body
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
    """The public monthly publication: a month goes public only when released."""


def _operator() -> str:
    """Who released or withdrew a month from the command line, as recorded: the operator's login."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


@publication.command("release")
@click.option("--month", required=True, callback=_month, help="The month, YYYY-MM (local calendar).")
@click.pass_context
def publication_release(ctx: click.Context, month: date) -> None:
    """Release a month (发布), as the dashboard's 发布 does: after its cut-off only, it is stored as of the
    cut-off and public from now on at /publication/YYYY-MM. Releasing a released month changes nothing."""
    from reports.snapshots import NotReleasable, release
    from storage.db import create_session_factory
    from workflow.clock import SystemClock
    from workflow.deadlines import Deadlines

    settings = settings_from(ctx)
    deadlines = Deadlines.load(settings.policy_path, settings.holidays_path, settings.zone)

    async def work(engine: Any) -> Any:
        async with create_session_factory(engine)() as session:
            return await release(session, month, deadlines, SystemClock().now(), _operator())

    try:
        outcome = run_async(with_engine(work)(settings))
    except NotReleasable as refused:
        if refused.reason == "before_cut_off":
            why = f"cannot be released before its cut-off, {local_time(settings, refused.cut_off)}"
        else:
            why = "ended before the service's first complaint: nothing to release"
        raise click.ClickException(f"{month:%Y-%m} {why}") from None
    snapshot = outcome.snapshot
    when = local_time(settings, snapshot.created_at)
    if outcome.fresh:
        click.echo(f"{month:%Y-%m}: released at {when}; public at /publication/{month:%Y-%m}")
    else:
        by = snapshot.released_by or "its first reader"
        click.echo(f"{month:%Y-%m}: already released at {when} by {by}; nothing changed")


@publication.command("reissue")
@click.option("--month", required=True, callback=_month, help="The month, YYYY-MM (local calendar).")
@click.option("--reason", required=True, help="Why it is withdrawn, as recorded (shown to the office).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (for scripts).")
@click.pass_context
def publication_reissue(ctx: click.Context, month: date, reason: str, yes: bool) -> None:
    """Withdraw a released month to correct it: it leaves the public pages (which say it is under review)
    and is unreleased again, shown on the dashboard as a preview of the corrected records (as of the
    same cut-off). The withdrawn release is kept for the office with who withdrew it, when and why.
    Nothing is public until it is released again (dashboard 发布, or `publication release`), and the
    page then says when it was corrected."""
    from reports.snapshots import released, withdraw
    from storage.db import create_session_factory
    from workflow.clock import SystemClock

    settings = settings_from(ctx)
    reason = reason.strip()
    if not reason:
        raise click.BadParameter("give the reason the month is withdrawn", param_hint="--reason")

    async def current(engine: Any) -> Any:
        async with create_session_factory(engine)() as session:
            return await released(session, month)

    async def work(engine: Any) -> bool:
        async with create_session_factory(engine)() as session:
            return await withdraw(session, month, SystemClock().now(), _operator(), reason)

    snapshot = run_async(with_engine(current)(settings))
    if snapshot is None:
        click.echo(f"{month:%Y-%m}: not released, nothing withdrawn")
        return
    if not yes:
        when, by = local_time(settings, snapshot.created_at), snapshot.released_by or "（未记录）"
        click.echo(f"{month:%Y-%m}: released at {when} by {by}, public at /publication/{month:%Y-%m}")
        click.confirm(f"Withdraw it from the public pages ({reason})?", abort=True)
    if run_async(with_engine(work)(settings)):
        click.echo(
            f"{month:%Y-%m}: withdrawn, no longer public; check it on the dashboard and release it again "
            f"(`minsheng publication release --month {month:%Y-%m}`)"
        )
    else:
        click.echo(f"{month:%Y-%m}: not released, nothing withdrawn")
