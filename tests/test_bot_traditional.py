"""Traditional Chinese readers: which script a conversation is in, and the command menu in it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.middlewares import written_script
from bot.service import load_tagger
from handlers.common import COMMANDS
from handlers.texts import SIMPLIFIED, TRADITIONAL, default_texts
from minsheng.settings import Settings
from tests.botapi import Harness, running_bot, sandbox_server
from workflow import filing

HANS = default_texts()(SIMPLIFIED)
HANT = default_texts()(TRADITIONAL)


@pytest.fixture
async def harness(session_factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[Harness]:
    async with sandbox_server() as sandbox, running_bot(session_factory, sandbox) as harness:
        yield harness


@pytest.mark.parametrize(
    ("text", "script"),
    [
        ("我要投訴這個單位的辦事態度", TRADITIONAL),
        ("我要投诉这个单位的办事态度", SIMPLIFIED),
        ("謝謝", None),  # too short to say how someone writes
        ("好的谢谢", None),
        ("/status 20261122-0001", None),
        ("/complain 這個單位辦事拖拉不理人", None),  # a command is no sign of a script
        ("我想问一下這个窗口什么时候开门", SIMPLIFIED),  # one stray Traditional form
        ("市民中心二楼社保窗口", None),  # too few characters that differ
    ],
)
def test_the_script_of_a_message_needs_several_telling_characters(text: str, script: str | None) -> None:
    assert written_script(text) == script


async def test_a_short_traditional_message_does_not_switch_a_simplified_conversation(harness: Harness) -> None:
    user = harness.user()
    await user.send("謝謝")
    assert (await user.wait_for_reply()).text == HANS.plain("hint.unknown_text")
    await user.send("/start")
    assert "投诉服务" in (await user.wait_for_reply(contains="民声")).text


async def test_a_hong_kong_user_stays_in_traditional_after_a_short_simplified_reply(harness: Harness) -> None:
    user = harness.user(name="陳大文", language_code="zh-hk")
    await user.send("好的谢谢")
    assert (await user.wait_for_reply()).text == HANT.plain("hint.unknown_text")
    await user.send("/cancel")
    assert (await user.wait_for_reply()).text == HANT.plain("nothing_to_cancel")


async def test_a_traditional_sentence_switches_the_conversation_until_one_in_simplified(harness: Harness) -> None:
    user = harness.user()
    await user.send("我要投訴這個單位的辦事態度")
    assert (await user.wait_for_reply()).text == HANT.plain("hint.unknown_text")
    await user.send("/cancel")
    assert (await user.wait_for_reply()).text == HANT.plain("nothing_to_cancel")
    await user.send("好的谢谢")
    assert (await user.wait_for_reply()).text == HANT.plain("hint.unknown_text")
    await user.send("我要投诉这个单位的办事态度")
    assert (await user.wait_for_reply()).text == HANS.plain("hint.unknown_text")


def menu_calls(harness: Harness, user_id: int) -> list[tuple[str, list[str] | None]]:
    """The chat's own menu changes, oldest first: ("set", descriptions) or ("delete", None)."""
    calls = []
    for name, params in harness.world.calls:
        if (params.get("scope") or {}).get("chat_id") != user_id:
            continue
        if name.lower() == "setmycommands":
            calls.append(("set", [c["description"] for c in params["commands"]]))
        elif name.lower() == "deletemycommands":
            calls.append(("delete", None))
    return calls


TRADITIONAL_MENU = [HANT.plain(f"command.{name}") for name in COMMANDS]


async def test_the_default_command_menu_is_simplified_for_every_language(harness: Harness) -> None:
    (default,) = [p for n, p in harness.world.calls if n.lower() == "setmycommands"]
    assert "scope" not in default and "language_code" not in default  # Telegram takes two-letter codes only
    assert [c["description"] for c in default["commands"]] == [HANS.plain(f"command.{n}") for n in COMMANDS]


async def test_a_hong_kong_user_gets_the_command_menu_in_traditional_in_their_chat(harness: Harness) -> None:
    user = harness.user(name="陳大文", language_code="zh-hk")
    await user.send("/start")
    await user.wait_for_reply(contains="民聲")
    await user.send("/help")
    await user.wait_for_reply(contains="/complain")
    assert menu_calls(harness, user.user.id) == [("set", TRADITIONAL_MENU)]
    assert TRADITIONAL_MENU[COMMANDS.index("complain")] == "投訴"


async def test_the_chat_menu_follows_the_conversation_between_scripts(harness: Harness) -> None:
    user = harness.user()
    await user.send("/start")
    await user.wait_for_reply(contains="民声")
    assert menu_calls(harness, user.user.id) == []
    await user.send("我要投訴這個單位的辦事態度")
    await user.wait_for_reply()
    await user.send("我要投诉这个单位的办事态度")
    await user.wait_for_reply()
    await harness.settle()
    assert menu_calls(harness, user.user.id) == [("set", TRADITIONAL_MENU), ("delete", None)]


COMPLAINT = "我去市民中心社保窗口辦醫保卡，工作人員態度惡劣，愛理不理，讓我跑了好幾趟都沒辦成，還說這事不歸他們管。"


def in_traditional(line: str) -> bool:
    """True when converting to Traditional again changes nothing: no Simplified-only character left."""
    return HANT.script(line) == line


def line_of(text: str, label: str) -> str:
    return next(line for line in text.splitlines() if line.startswith(label))


@pytest.fixture
async def tagger(session_factory: async_sessionmaker[AsyncSession], catalogue_loaded: None) -> object:
    return await load_tagger(session_factory, Settings())


async def test_a_traditional_complaint_shows_tags_agency_and_receipt_in_traditional_and_the_text_as_written(
    session_factory: async_sessionmaker[AsyncSession], tagger: object
) -> None:
    async with sandbox_server() as sandbox, running_bot(session_factory, sandbox, tagger=tagger, outbox=True) as bot:
        user = bot.user(name="陳大文", language_code="zh-hk")
        await user.send("/complain")
        await user.wait_for_reply(contains="寫完了")
        await user.send(COMPLAINT)
        await user.wait_for_reply(contains="已記下")
        await user.press(HANT.plain("complaint.button.done"))
        await user.wait_for_reply(contains="發生在哪裡")
        await user.send("市民中心二樓社保窗口")
        understood = await user.wait_for_reply(contains="問題類型")
        for label in ("問題類型：", "涉及領域："):
            assert in_traditional(line_of(understood.text, label)), understood.text
        async with session_factory() as session:
            fallback = await filing.fallback_name(session)
        await user.press(HANT.plain("complaint.button.fallback", fallback=fallback))
        await user.wait_for_reply(contains="匿名")
        await user.press(HANT.plain("complaint.button.anonymous"))  # anonymous: no phone question
        summary = await user.wait_for_reply(contains="請確認")
        assert in_traditional(line_of(summary.text, "單位：")) and COMPLAINT in summary.text
        await user.press(HANT.plain("complaint.button.confirm"))
        submitted = await user.wait_for_reply(contains="受理編號")
        tracking_no = re.search(r"\d{8}-\d{4}", submitted.text).group(0)
        receipt = await user.wait_for_reply(contains="承辦單位")
        assert tracking_no in receipt.text and in_traditional(line_of(receipt.text, "承辦單位：")), receipt.text
