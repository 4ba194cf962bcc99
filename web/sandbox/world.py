"""The sandbox's Telegram: users, private chats, their messages and the queue of updates.

Both sides act on it: people in the chat page (or tests) send messages and press buttons, which
become updates; the bot, through the Bot API stand-in, sends and edits messages. Every change
bumps a revision so the chat page can ask "what changed since N?".
"""

from __future__ import annotations

import asyncio
import contextlib
import html as html_module
import itertools
import re
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

BOT_ID = 7000000001
SANDBOX_TOKEN = f"{BOT_ID}:sandbox-not-a-real-telegram-token"
MAX_FILES = 100
#: Users added in the sandbox get ids from here up. The Bot API promises a user id fits in 52 bits, so no
#: Telegram user has one: a sandbox pointed at a database that also holds real users never takes one of
#: them for its own (``people``). Below 2**53, so the chat page's JavaScript counts them exactly.
ADDED_IDS = 2**52
_TAG = re.compile(r"<[^>]*>")


class BotApiError(Exception):
    """What Telegram answers with ``ok: false``."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.retry_after = code, description, retry_after


@dataclass
class SandboxUser:
    id: int
    first_name: str
    language_code: str = "zh-hans"
    role: str = "citizen"  # citizen | agency: only a hint for the chat page's picker
    blocked_bot: bool = False

    def as_telegram(self) -> dict[str, Any]:
        return {"id": self.id, "is_bot": False, "first_name": self.first_name, "language_code": self.language_code}

    def as_chat(self) -> dict[str, Any]:
        return {"id": self.id, "type": "private", "first_name": self.first_name}


@dataclass
class ChatMessage:
    """One message in a private chat, as the chat page shows it."""

    message_id: int
    chat_id: int
    from_bot: bool
    kind: str = "text"  # text | photo | document | sticker | voice | location
    text: str = ""  # plain text (or caption), as Telegram reports it after parsing
    html: str = ""  # what the bot sent, for display
    inline_keyboard: list[list[dict[str, Any]]] | None = None
    file_name: str | None = None
    location: dict[str, float] | None = None  # {"latitude": .., "longitude": ..}
    date: int = field(default_factory=lambda: int(time.time()))
    rev: int = 0
    edited: bool = False
    deleted: bool = False

    def for_page(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "from_bot": self.from_bot,
            "kind": self.kind,
            "text": self.text,
            "html": self.html,
            "inline_keyboard": self.inline_keyboard,
            "file_name": self.file_name,
            "location": self.location,
            "edited": self.edited,
            "deleted": self.deleted,
            "rev": self.rev,
        }


def plain_text(html: str) -> str:
    """Telegram's view of an HTML text: tags gone, entities decoded."""
    return html_module.unescape(_TAG.sub("", html))


@dataclass
class CallbackAnswer:
    user_id: int
    callback_query_id: str
    text: str
    show_alert: bool
    rev: int


class SandboxWorld:
    """All sandbox state; in memory, per process."""

    def __init__(self, token: str = SANDBOX_TOKEN, bot_name: str = "民声") -> None:
        self.token = token
        self.bot_user = {
            "id": int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": bot_name,
            "username": "minsheng_sandbox_bot",
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self.users: dict[int, SandboxUser] = {}
        self.chats: dict[int, list[ChatMessage]] = {}
        #: Bytes of the photos and documents people uploaded on the chat page, by file id (the newest
        #: MAX_FILES only: the sandbox is for trying things out, not for keeping evidence).
        self.files: dict[str, bytes] = {}
        self.reply_keyboards: dict[int, list[list[str]] | None] = {}
        self.answers: list[CallbackAnswer] = []
        self.commands: list[dict[str, Any]] = []
        self.webhook_url: str | None = None
        #: Every Bot API call as (method, params), oldest first: tests read it.
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.revision = 0
        #: This world's identity: revisions start afresh in a restarted sandbox, so a
        #: chat page that sees another epoch knows its ``since`` means nothing here any more.
        self.epoch = uuid.uuid4().hex[:12]
        self._updates: list[dict[str, Any]] = []
        # Handled update ids are kept in the database, which outlives this in-memory world: counting from
        # the clock in microseconds (no world sends one update per microsecond) keeps a restarted sandbox's
        # updates new, as Telegram's ids never repeat; still below 2**53 for the chat page's JavaScript.
        self._update_ids = itertools.count(time.time_ns() // 1_000)
        # Above any id the previous run gave (unless it sent more than ten messages a second): the bot
        # keeps ids it sent (a copy to settle later), which must not name a new message after a restart.
        self._message_ids = itertools.count(int(time.time() - 1_700_000_000) * 10)
        self._callback_ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self.closed = False
        self._pushed = 0
        self._callback_users: dict[str, int] = {}
        #: chat id -> seconds: the next message to that chat gets a 429 (tests of the outbox transport).
        self.throttled: dict[int, int] = {}
        for user in (
            SandboxUser(10001, "张三"),
            SandboxUser(10002, "陳大文", language_code="zh-hk"),
            SandboxUser(20001, "李科长", role="agency"),  # the picker adds the role
        ):
            self.users[user.id] = user

    # --- people ------------------------------------------------------------------------------

    def add_user(self, first_name: str, language_code: str = "zh-hans", role: str = "citizen") -> SandboxUser:
        """A new person, with an id of the sandbox's own (``ADDED_IDS`` up) above every known one (``restore``
        makes the database's ids known)."""
        user = SandboxUser(max([*self.users, ADDED_IDS]) + 1, first_name, language_code, role)
        self.users[user.id] = user
        return user

    def restore(self, people: Iterable[SandboxUser]) -> None:
        """People of an earlier run (found in the database) are users again; the built-in ones stay as they are."""
        for person in sorted(people, key=lambda p: p.id):
            self.users.setdefault(person.id, person)

    def user(self, user_id: int) -> SandboxUser:
        if user_id not in self.users:
            raise KeyError(user_id)
        return self.users[user_id]

    async def user_sends(
        self,
        user_id: int,
        text: str = "",
        *,
        kind: str = "text",
        file_name: str | None = None,
        content: bytes | None = None,
        location: tuple[float, float] | None = None,
    ) -> int:
        """A person sends a message (text, or a photo/document/sticker/voice/location); returns its update id."""
        user = self.user(user_id)
        if (kind == "location") != (location is not None):
            raise ValueError("a location message needs a location, and only it has one")
        place = {"latitude": location[0], "longitude": location[1]} if location is not None else None
        message = ChatMessage(next(self._message_ids), user_id, False, kind, text, file_name=file_name, location=place)
        self._append(message)
        raw: dict[str, Any] = {
            "message_id": message.message_id,
            "date": message.date,
            "chat": user.as_chat(),
            "from": user.as_telegram(),
        }
        unique = f"u{message.message_id}"
        if kind == "text":
            raw["text"] = text
            if command := re.match(r"/\w+", text):
                raw["entities"] = [{"type": "bot_command", "offset": 0, "length": command.end()}]
        elif kind == "photo":
            raw["photo"] = [{"file_id": f"photo-{unique}", "file_unique_id": unique, "width": 800, "height": 600}]
        elif kind == "document":
            raw["document"] = {"file_id": f"doc-{unique}", "file_unique_id": unique, "file_name": file_name or "file"}
        elif kind == "sticker":
            raw["sticker"] = {
                "file_id": f"sticker-{unique}",
                "file_unique_id": unique,
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "emoji": "😀",
            }
        elif kind == "voice":
            raw["voice"] = {"file_id": f"voice-{unique}", "file_unique_id": unique, "duration": 3}
        elif kind == "location":
            raw["location"] = place
        else:
            raise ValueError(f"unknown message kind {kind!r}")
        if text and kind in ("photo", "document"):
            raw["caption"] = text
        if content is not None and kind in ("photo", "document"):
            file_id = raw["photo"][-1]["file_id"] if kind == "photo" else raw["document"]["file_id"]
            self.files[file_id] = content
            while len(self.files) > MAX_FILES:
                del self.files[next(iter(self.files))]
        return await self.push_update({"message": raw})

    async def user_presses(self, user_id: int, message_id: int, data: str) -> int:
        """A person presses an inline button; returns the update id of the callback query."""
        user = self.user(user_id)
        message = self.find_message(user_id, message_id)
        query_id = str(next(self._callback_ids))
        self._callback_users[query_id] = user_id
        query = {
            "id": query_id,
            "from": user.as_telegram(),
            "chat_instance": str(user_id),
            "data": data,
            "message": self.message_json(message, user),
        }
        return await self.push_update({"callback_query": query})

    async def push_update(self, update: dict[str, Any], update_id: int | None = None) -> int:
        """Queue an update for getUpdates; an explicit ``update_id`` lets tests send a duplicate."""
        update = {"update_id": update_id if update_id is not None else next(self._update_ids), **update}
        self._updates.append(update)
        self._pushed += 1
        await self._touch()
        return update["update_id"]

    # --- the bot's side (called by the Bot API stand-in) ----------------------------------------

    async def get_updates(self, offset: int | None, limit: int, wait: float) -> list[dict[str, Any]]:
        if offset:
            self._updates = [update for update in self._updates if update["update_id"] >= offset]
        if wait > 0 and not self._updates and not self.closed:
            async with self._changed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait_for(lambda: bool(self._updates) or self.closed), wait)
        return self._updates[: max(1, min(limit or 100, 100))]

    async def bot_sends(
        self,
        chat_id: int,
        html: str,
        *,
        kind: str = "text",
        markup: dict[str, Any] | None = None,
        file_name: str | None = None,
    ) -> dict[str, Any]:
        user = self._reachable(chat_id)
        text = plain_text(html)
        if kind == "text":
            self._check_length(text, 4096, "message text is empty", "message is too long")
        elif len(text.encode("utf-16-le")) // 2 > 1024:
            raise BotApiError(400, "Bad Request: message caption is too long")
        message = ChatMessage(next(self._message_ids), chat_id, True, kind, text, html, file_name=file_name)
        self._apply_markup(message, markup)
        self._append(message)
        await self._touch()
        return self.message_json(message, user)

    async def bot_edits(
        self, chat_id: int, message_id: int, *, html: str | None = None, markup: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        user = self._reachable(chat_id)
        message = self.find_message(chat_id, message_id)
        if not message.from_bot:
            raise BotApiError(400, "Bad Request: message can't be edited")
        before = (message.html, message.inline_keyboard)
        if html is not None:
            self._check_length(plain_text(html), 4096, "message text is empty", "MESSAGE_TOO_LONG")
            message.html, message.text = html, plain_text(html)
        message.inline_keyboard = (markup or {}).get("inline_keyboard") or None
        if (message.html, message.inline_keyboard) == before:
            raise BotApiError(400, "Bad Request: message is not modified")
        message.edited = True
        message.rev = self._next_revision()
        await self._touch(bump=False)
        return self.message_json(message, user)

    async def bot_deletes(self, chat_id: int, message_id: int) -> None:
        message = self.find_message(chat_id, message_id)
        message.deleted, message.rev = True, self._next_revision()
        await self._touch(bump=False)

    async def bot_answers(self, callback_query_id: str, text: str, show_alert: bool) -> None:
        user_id = self._callback_users.pop(callback_query_id, None)
        if user_id is None:
            raise BotApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        self.answers.append(CallbackAnswer(user_id, callback_query_id, text, show_alert, self._next_revision()))
        await self._touch(bump=False)

    # --- the chat page's view -------------------------------------------------------------------

    async def changes(self, user_id: int, since: int, wait: float, epoch: str | None = None) -> dict[str, Any]:
        """What changed in one chat after revision ``since``; waits up to ``wait`` seconds for news.

        A page that knew another ``epoch`` (before a restart) is answered at once, so it can start over.
        Callback answers (toasts, alerts) are news only: a page loading the chat (``since`` 0) gets the
        messages, not every toast and alert of the past again.
        """
        if epoch is not None and epoch != self.epoch:
            wait = 0

        def answers() -> list[CallbackAnswer]:
            return [a for a in self.answers if since and a.rev > since and a.user_id == user_id and a.text]

        def news() -> bool:
            return self.closed or any(m.rev > since for m in self.chats.get(user_id, [])) or bool(answers())

        if wait > 0 and not news():
            async with self._changed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait_for(news), wait)
        fresh = answers()
        return {
            "epoch": self.epoch,
            "rev": self.revision,
            "messages": [m.for_page() for m in self.chats.get(user_id, []) if m.rev > since],
            "answers": [a.text for a in fresh],
            "alerts": [a.show_alert for a in fresh],
            "reply_keyboard": self.reply_keyboards.get(user_id),
        }

    async def wait_for(self, predicate: Callable[[], bool], within: float) -> None:
        """Until ``predicate()`` holds after some change (TimeoutError after ``within`` seconds)."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(predicate), within)

    @property
    def pushed(self) -> int:
        """How many updates have been queued so far."""
        return self._pushed

    @property
    def pending(self) -> int:
        """Updates not yet confirmed by the bot (getUpdates with a later offset)."""
        return len(self._updates)

    async def close(self) -> None:
        """Release every waiting long poll (shutdown)."""
        self.closed = True
        await self._touch(bump=False)

    # --- internals --------------------------------------------------------------------------------

    def find_message(self, chat_id: int, message_id: int) -> ChatMessage:
        for message in self.chats.get(chat_id, []):
            if message.message_id == message_id and not message.deleted:
                return message
        raise BotApiError(400, "Bad Request: message to edit not found")

    def message_json(self, message: ChatMessage, user: SandboxUser) -> dict[str, Any]:
        raw: dict[str, Any] = {
            "message_id": message.message_id,
            "date": message.date,
            "chat": user.as_chat(),
            "from": self.bot_user if message.from_bot else user.as_telegram(),
        }
        if message.kind == "text":
            raw["text"] = message.text
        elif message.text:
            raw["caption"] = message.text
        if message.edited:
            raw["edit_date"] = int(time.time())
        if message.inline_keyboard:
            raw["reply_markup"] = {"inline_keyboard": message.inline_keyboard}
        if message.kind == "photo":
            raw["photo"] = [
                {
                    "file_id": f"bot-photo-{message.message_id}",
                    "file_unique_id": f"b{message.message_id}",
                    "width": 800,
                    "height": 600,
                }
            ]
        elif message.kind == "document":
            raw["document"] = {
                "file_id": f"bot-doc-{message.message_id}",
                "file_unique_id": f"b{message.message_id}",
                "file_name": message.file_name or "file",
            }
        return raw

    def _reachable(self, chat_id: int) -> SandboxUser:
        user = self.users.get(chat_id)
        if user is None:
            raise BotApiError(400, "Bad Request: chat not found")
        if user.blocked_bot:
            raise BotApiError(403, "Forbidden: bot was blocked by the user")
        if seconds := self.throttled.pop(chat_id, None):
            raise BotApiError(429, f"Too Many Requests: retry after {seconds}", retry_after=seconds)
        return user

    @staticmethod
    def _check_length(text: str, limit: int, empty: str, too_long: str) -> None:
        if not text.strip():
            raise BotApiError(400, f"Bad Request: {empty}")
        if len(text.encode("utf-16-le")) // 2 > limit:
            raise BotApiError(400, f"Bad Request: {too_long}")

    def _apply_markup(self, message: ChatMessage, markup: dict[str, Any] | None) -> None:
        if not markup:
            return
        if "inline_keyboard" in markup:
            message.inline_keyboard = markup["inline_keyboard"]
        elif "keyboard" in markup:
            rows = [[b if isinstance(b, str) else b.get("text", "") for b in row] for row in markup["keyboard"]]
            self.reply_keyboards[message.chat_id] = rows
        elif markup.get("remove_keyboard"):
            self.reply_keyboards[message.chat_id] = None

    def _append(self, message: ChatMessage) -> ChatMessage:
        message.rev = self._next_revision()
        self.chats.setdefault(message.chat_id, []).append(message)
        return message

    def _next_revision(self) -> int:
        self.revision += 1
        return self.revision

    async def _touch(self, bump: bool = True) -> None:
        if bump:
            self._next_revision()
        async with self._changed:
            self._changed.notify_all()
