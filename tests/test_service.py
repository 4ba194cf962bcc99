"""`minsheng serve` as an operator runs it: a real process, a real port, real signals."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import shutil
import signal
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from minsheng.service import serve
from minsheng.settings import Settings
from storage.db import create_engine
from tests.botapi import sandbox_server
from tests.factories import make_deadlines
from tests.test_sandbox import sandbox_settings
from web.app import create_app
from workflow import calendar as calendar_module

ADDRESS = re.compile(r"web server on (http://[\d.]+:\d+)")


def service_env(**settings: str) -> dict[str, str]:
    """The machine's environment without any MINSHENG_ setting, plus ``settings``: defaults apply."""
    clean = {key: value for key, value in os.environ.items() if not key.startswith("MINSHENG_")}
    return {**clean, "MINSHENG_WEB_PORT": "0", **settings}


@asynccontextmanager
async def running_service(env: dict[str, str], cwd: Path) -> AsyncIterator[tuple[str, asyncio.subprocess.Process]]:
    """Start `python -m minsheng serve` and yield its base URL once it listens."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "minsheng",
        "serve",
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output: list[str] = []
    try:
        async with asyncio.timeout(60):
            while True:
                line = (await process.stdout.readline()).decode()
                if not line:
                    raise AssertionError("service exited before listening:\n" + "".join(output))
                output.append(line)
                if match := ADDRESS.search(line):
                    break
        yield match.group(1), process
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def stop(process: asyncio.subprocess.Process) -> tuple[int, str]:
    process.send_signal(signal.SIGTERM)
    async with asyncio.timeout(30):
        rest = (await process.stdout.read()).decode()
        return await process.wait(), rest


async def test_serve_on_the_embedded_default_answers_healthz_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    async with running_service(service_env(), tmp_path) as (url, process):
        async with aiohttp.ClientSession() as http, http.get(f"{url}/healthz") as response:
            assert response.status == 200
            assert await response.json() == {"status": "ok", "database": "ok"}
        code, rest = await stop(process)
    assert code == 0, rest
    assert "shutting down" in rest
    assert "Task was destroyed" not in rest and "Unclosed" not in rest, rest
    assert (tmp_path / "minsheng.db").exists()


async def test_a_taken_port_is_reported_as_such_not_as_the_database(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        second = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "minsheng", "serve", cwd=tmp_path, env=service_env(MINSHENG_WEB_PORT=port),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        async with asyncio.timeout(60):
            output = (await second.communicate())[0].decode()
    assert second.returncode == 1
    [error] = [line for line in output.splitlines() if line.startswith("Error:")]
    assert f"cannot listen on 127.0.0.1:{port}" in error and "database" not in error, output
    assert "Traceback" not in output


async def test_a_sqlite_file_in_a_missing_folder_stops_start_up_with_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "no" / "such"
    env = service_env(MINSHENG_DATABASE_URL=f"sqlite+aiosqlite:///{folder / 'x.db'}", MINSHENG_LOG_LEVEL="DEBUG")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "minsheng", "serve", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    async with asyncio.timeout(60):
        output = (await process.communicate())[0].decode()
    assert process.returncode == 1, output
    [error] = [line for line in output.splitlines() if line.startswith("Error:")]
    assert error == f"Error: database unreachable: folder {folder} does not exist", output
    assert "Traceback" not in output and "Exception in thread" not in output, output
    assert not folder.exists()


async def test_serve_refuses_an_unmigrated_postgres_until_db_upgrade(postgres, tmp_path: Path) -> None:
    url = await (await postgres.require()).create_database()
    env = service_env(MINSHENG_DATABASE_URL=url)
    refused = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "minsheng", "serve", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output = (await refused.communicate())[0].decode()
    assert refused.returncode == 1
    assert "run `minsheng db upgrade` first" in output

    upgrade = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "minsheng", "db", "upgrade", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output = (await upgrade.communicate())[0].decode()
    assert upgrade.returncode == 0, output
    assert "database at revision" in output

    async with running_service(env, tmp_path) as (base, process):
        async with aiohttp.ClientSession() as http, http.get(f"{base}/healthz") as response:
            assert response.status == 200
        code, rest = await stop(process)
    assert code == 0, rest


async def test_serve_loads_the_working_day_calendar_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The bot, the timekeeper and the web app share one calendar: a missing holidays file is said once."""
    absent = tmp_path / "holidays.yaml"
    monkeypatch.setattr(calendar_module, "DEFAULT_HOLIDAYS", absent)
    settings = sandbox_settings(tmp_path).model_copy(update={"holidays_path": absent})
    stop = asyncio.Event()
    with caplog.at_level(logging.INFO, logger="workflow.calendar"):
        task = asyncio.create_task(serve(settings, stop=stop, ready=lambda url: stop.set()))
        await asyncio.wait_for(task, 60)
    said = [record for record in caplog.records if record.getMessage().startswith("no holiday override file")]
    assert [record.getMessage() for record in said] == [f"no holiday override file at {absent}"]


async def test_healthz_reports_503_when_the_database_is_unreachable() -> None:
    engine = create_engine("postgresql://postgres@127.0.0.1:1/nowhere")
    app = create_app(engine, Settings(database_url="postgresql://postgres@127.0.0.1:1/nowhere"), make_deadlines())
    async with TestClient(TestServer(app)) as client:
        response = await client.get("/healthz")
        assert response.status == 503
        assert (await response.json())["database"] == "unreachable"
    await engine.dispose()


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("MINSHENG_TIMEZONE", "Mars/Olympus", "bad setting MINSHENG_TIMEZONE: unknown time zone"),
        ("MINSHENG_WEB_PORT", "eighty", "bad setting MINSHENG_WEB_PORT"),
        ("MINSHENG_DATABASE_URL", "mysql://x@y/z", "bad setting MINSHENG_DATABASE_URL: unsupported database"),
        ("MINSHENG_WEBHOOK_URL", "not a url", "bad setting MINSHENG_WEBHOOK_URL"),
        ("MINSHENG_WEB_TRUSTED_PROXIES", "10.0.0.1, nginx", "bad setting MINSHENG_WEB_TRUSTED_PROXIES"),
        ("MINSHENG_BOT_TOKEN", " abc", "bad setting MINSHENG_BOT_TOKEN: not a bot token"),
        ("MINSHENG_WEBHOOK_URL", "http://minsheng.example.org/hook", "bad setting MINSHENG_WEBHOOK_URL"),
        ("MINSHENG_WEB_SECRET", "", "bad setting MINSHENG_WEB_SECRET"),
    ],
)
async def test_a_bad_setting_stops_start_up_with_one_line_naming_it(
    variable: str, value: str, expected: str, tmp_path: Path
) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "minsheng", "serve", cwd=tmp_path, env=service_env(**{variable: value}),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output = (await process.communicate())[0].decode().strip()
    assert process.returncode == 1
    assert output.splitlines() == [f"Error: {output.removeprefix('Error: ')}"]
    assert expected in output


def rules_with_a_bad_weight(folder: Path) -> tuple[Path, int]:
    """A copy of the default rules with one negative area weight; the file and that line."""
    shutil.copytree(Path(__file__).resolve().parent.parent / "nlp" / "rules", folder)
    areas = folder / "areas.yaml"
    lines = areas.read_text(encoding="utf-8").splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("  城乡建设:")) + 1
    lines.insert(at, "    一个错词: -1")
    areas.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return areas, at + 1


async def test_a_broken_rules_file_stops_start_up_naming_its_line(tmp_path: Path) -> None:
    areas, line = rules_with_a_bad_weight(tmp_path / "rules")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "minsheng", "serve", cwd=tmp_path, env=service_env(MINSHENG_RULES_DIR=str(areas.parent)),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output = (await process.communicate())[0].decode()
    assert process.returncode == 1, output
    assert f"Error: {areas}:{line}: areas.城乡建设.一个错词: weight must be positive" in output
    assert "Traceback" not in output


@pytest.mark.parametrize("webhook_url", [None, "https://minsheng.example.org/telegram/webhook"])
async def test_a_token_telegram_rejects_stops_the_service_with_one_line_naming_it(
    webhook_url: str | None, tmp_path: Path
) -> None:
    """Not a hiccup to wait out: exiting lets the operator (and Docker's restart policy) see it."""
    settings = {"MINSHENG_BOT_TOKEN": "123456:ABCdefGHIjklMNOpqrSTUvwxYZ012345678"}
    if webhook_url:
        settings["MINSHENG_WEBHOOK_URL"] = webhook_url
    async with sandbox_server() as sandbox:  # it knows only its own token: 401 Unauthorized
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "minsheng", "serve", cwd=tmp_path,
            env=service_env(MINSHENG_BOT_API_BASE=sandbox.api_base, **settings),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        try:
            async with asyncio.timeout(60):
                output = (await process.communicate())[0].decode()
        finally:
            if process.returncode is None:  # still running without a bot: the bug
                process.kill()
                await process.wait()
    assert process.returncode == 1, output
    [error] = [line for line in output.splitlines() if line.startswith("Error:")]
    assert "MINSHENG_BOT_TOKEN" in error and "Unauthorized" in error, output
    assert "Traceback" not in output and "Unclosed" not in output, output


async def test_a_token_revoked_while_polling_stops_the_service_with_one_line_naming_it(tmp_path: Path) -> None:
    """aiogram's polling retries every failed getUpdates, a 401 too; no retry brings a revoked token back."""
    async with sandbox_server() as sandbox:
        world = sandbox.world
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "minsheng", "serve", cwd=tmp_path,
            env=service_env(MINSHENG_BOT_API_BASE=sandbox.api_base, MINSHENG_BOT_TOKEN=world.token),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        try:
            async with asyncio.timeout(60):
                while not any(name == "getUpdates" for name, _ in world.calls):  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
                world.token = f"{world.token}-revoked"  # from now on every request is 401 Unauthorized
                await world.close()  # the long poll in hand returns now rather than in ten seconds
                output = (await process.communicate())[0].decode()
        finally:
            if process.returncode is None:  # still polling in vain: the bug
                process.kill()
                await process.wait()
    assert process.returncode == 1, output
    [error] = [line for line in output.splitlines() if line.startswith("Error:")]
    assert "MINSHENG_BOT_TOKEN" in error and "Unauthorized" in error, output
    assert "Traceback" not in output and "Unclosed" not in output, output
