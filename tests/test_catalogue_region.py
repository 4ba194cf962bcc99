"""The catalogue's region, which the publication's title names, comes from the database as the agencies
do: recorded by `minsheng agencies import` and by `serve`'s first import, whatever file
MINSHENG_CATALOGUE_PATH names."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

import aiohttp
from aiohttp.test_utils import TestClient
from click.testing import CliRunner
from sqlalchemy.ext.asyncio import AsyncSession

from minsheng.cli import main
from storage.agencies import catalogue_region
from tests.conftest import DEFAULT_CATALOGUE
from tests.publication_support import at, client
from tests.test_catalogue import default_data, import_file, write_catalogue
from tests.test_dashboard_support import log_in
from tests.test_publication_web import _env
from tests.test_reports_figures import ZONE
from tests.test_service import running_service, service_env, stop

__all__ = ["client"]


def county(path: Path, region: str = "测试县") -> Path:
    """The default catalogue under another region's name."""
    return write_catalogue(path, {**default_data(), "region": region})


async def test_an_imported_region_titles_the_publication_whatever_the_catalogue_path_says(
    client: TestClient, database_url: str, tmp_path: Path
) -> None:
    env = _env(database_url)  # MINSHENG_CATALOGUE_PATH left at its default, the 示例市 file
    imported = await asyncio.to_thread(
        CliRunner().invoke, main, ["agencies", "import", str(county(tmp_path / "county.yaml"))], env=env
    )
    assert imported.exit_code == 0, imported.output
    assert "region       示例市 -> 测试县" in imported.output

    at(client, datetime.now(ZONE))  # the command's clock is the system's
    await log_in(client, "chief")
    preview = await client.get("/dashboard/months/2026-10.csv")
    assert quote("测试县2026年10月投诉情况公示") in preview.headers["Content-Disposition"]

    command = ["publication", "release", "--month", "2026-10"]
    released = await asyncio.to_thread(CliRunner().invoke, main, command, env=env)
    assert released.exit_code == 0, released.output
    month = await (await client.get("/publication/2026-10")).text()
    assert "<title>测试县2026年10月投诉情况公示</title>" in month and "<h1>测试县2026年10月投诉情况公示</h1>" in month
    index = await (await client.get("/publication/")).text()
    assert "<h1>测试县投诉情况每月公示</h1>" in index and "示例市" not in index  # no agency named there


async def test_reimporting_under_another_region_updates_it_and_reports_the_change(
    session: AsyncSession, tmp_path: Path
) -> None:
    assert await catalogue_region(session) == ""  # nothing imported yet
    first = await import_file(session, DEFAULT_CATALOGUE)
    assert first.region == ("", "示例市") and await catalogue_region(session) == "示例市"
    renamed = await import_file(session, county(tmp_path / "county.yaml"))
    assert renamed.region == ("示例市", "测试县") and renamed.changed
    assert (renamed.added, renamed.updated, renamed.removed, renamed.deactivated) == ([], {}, [], [])
    session.expire_all()
    assert await catalogue_region(session) == "测试县"
    again = await import_file(session, tmp_path / "county.yaml")
    assert again.region is None and not again.changed


async def test_serves_first_import_into_an_empty_database_records_the_region(database_url: str, tmp_path: Path) -> None:
    env = service_env(MINSHENG_DATABASE_URL=database_url, MINSHENG_CATALOGUE_PATH=str(county(tmp_path / "county.yaml")))
    async with running_service(env, tmp_path) as (url, process):
        async with aiohttp.ClientSession() as http, http.get(f"{url}/publication/") as response:
            index = await response.text()
        code, rest = await stop(process)
    assert code == 0, rest
    assert "<h1>测试县投诉情况每月公示</h1>" in index
