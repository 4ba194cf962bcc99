"""The `minsheng` command line. Each command group lives in `minsheng.commands`."""

from __future__ import annotations

import logging

import click

from minsheng.commands import agencies, db, holidays, reports, tagging, users
from minsheng.commands.contacts import contacts
from minsheng.commands.context import run_async, settings_from
from storage.datafile import DataFileError


class _Commands(click.Group):
    """Any command may read an operator's data file; a bad one is reported by line, not by traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except DataFileError as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=_Commands)
@click.version_option(package_name="minsheng", prog_name="minsheng")
def main() -> None:
    """民声 Minsheng: complaint intake and handling for government agencies."""


@main.command()
@click.pass_context
def serve(ctx: click.Context) -> None:
    """Start the web server (and the bot, or the local sandbox when no token is set)."""
    from minsheng.service import serve as run_service

    settings = settings_from(ctx)
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if settings.log_level != "DEBUG":  # one access line per long poll of the sandbox drowns the rest
        logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    run_async(run_service(settings))


main.add_command(db.db)
main.add_command(agencies.agencies)
main.add_command(tagging.tag)
main.add_command(tagging.rules)
main.add_command(holidays.holidays)
main.add_command(users.users)
main.add_command(users.api_token)
main.add_command(reports.export)
main.add_command(reports.publication)
main.add_command(contacts)
