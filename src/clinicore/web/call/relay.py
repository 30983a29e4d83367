"""How the signalling messages of a call reach every socket in its room, whichever process holds it.

A socket *joins* a room and gets a membership: it publishes envelopes to the room and receives every
envelope published there, its own included (the socket skips those). Two relays, one interface:
- ``InProcessRelay``: a queue per membership, for one server process (nothing to install);
- ``RedisRelay``: a Redis pub/sub channel per room (``clinicore:call:<room>``; pub/sub ignores the
  database number, hence the prefix), so that a patient on one server process and a provider on another
  are in the same room. Each membership has its own connections, opened on join and closed on leave.
Envelopes carry only messages the socket has already checked; a receiver still decodes defensively.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

CHANNEL_PREFIX = "clinicore:call:"
# Envelopes a slow in-process member may have waiting before it is dropped from the room.
QUEUE_SIZE = 256
SUBSCRIBE_TIMEOUT_SECONDS = 5.0


class RelayUnavailable(Exception):
    """The relay cannot carry this room's messages (Redis down, or a member too slow to keep up)."""


@dataclass(frozen=True, slots=True)
class Envelope:
    sender: str  # the connection that published it
    role: str  # patient or provider
    message: dict[str, Any]

    def encode(self) -> str:
        return json.dumps({"sender": self.sender, "role": self.role, "message": self.message})

    @classmethod
    def decode(cls, raw: str | bytes) -> Envelope | None:
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            return None
        if not isinstance(data, dict):
            return None
        sender, role, message = data.get("sender"), data.get("role"), data.get("message")
        if isinstance(sender, str) and isinstance(role, str) and isinstance(message, dict):
            return cls(sender, role, message)
        return None


class Membership(Protocol):
    async def publish(self, envelope: Envelope) -> None: ...

    async def receive(self) -> Envelope:
        """The next envelope of the room (waits); ``RelayUnavailable`` when the room is lost."""
        ...


class CallRelay(Protocol):
    def join(self, room: str) -> AbstractAsyncContextManager[Membership]: ...


# --- one process --------------------------------------------------------------------------------------


class _LocalMembership:
    def __init__(self, relay: InProcessRelay, room: str) -> None:
        self._relay = relay
        self._room = room
        self._queue: asyncio.Queue[Envelope] = asyncio.Queue(QUEUE_SIZE)
        self._overflowed = False

    def offer(self, envelope: Envelope) -> None:
        try:
            self._queue.put_nowait(envelope)
        except asyncio.QueueFull:
            self._overflowed = True

    async def publish(self, envelope: Envelope) -> None:
        self._relay.deliver(self._room, envelope)

    async def receive(self) -> Envelope:
        if self._overflowed:
            raise RelayUnavailable("this member fell behind its room")
        return await self._queue.get()


class InProcessRelay:
    def __init__(self) -> None:
        self._rooms: dict[str, set[_LocalMembership]] = {}

    @asynccontextmanager
    async def join(self, room: str) -> AsyncIterator[Membership]:
        membership = _LocalMembership(self, room)
        members = self._rooms.setdefault(room, set())
        members.add(membership)
        try:
            yield membership
        finally:
            members.discard(membership)
            if not members:
                self._rooms.pop(room, None)

    def deliver(self, room: str, envelope: Envelope) -> None:
        for membership in list(self._rooms.get(room, ())):
            membership.offer(envelope)

    def rooms(self) -> int:
        """How many rooms have someone in them (a room is forgotten when its last member leaves)."""
        return len(self._rooms)


# --- across processes ---------------------------------------------------------------------------------


class _RedisMembership:
    def __init__(self, client: Redis, pubsub: Any, channel: str) -> None:
        self._client = client
        self._pubsub = pubsub
        self._channel = channel

    async def publish(self, envelope: Envelope) -> None:
        try:
            await self._client.publish(self._channel, envelope.encode())
        except (RedisError, OSError) as exc:
            raise RelayUnavailable("Redis did not take the message") from exc

    async def receive(self) -> Envelope:
        while True:
            try:
                raw = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=None)
            except (RedisError, OSError) as exc:
                raise RelayUnavailable("the Redis subscription was lost") from exc
            if raw is None or raw.get("type") != "message":
                continue
            envelope = Envelope.decode(raw["data"])
            if envelope is not None:
                return envelope


class RedisRelay:
    def __init__(self, url: str, *, channel_prefix: str = CHANNEL_PREFIX) -> None:
        self._url = url
        self._prefix = channel_prefix

    @asynccontextmanager
    async def join(self, room: str) -> AsyncIterator[Membership]:
        channel = f"{self._prefix}{room}"
        client = Redis.from_url(self._url, socket_connect_timeout=SUBSCRIBE_TIMEOUT_SECONDS)
        pubsub = client.pubsub()
        try:
            try:
                await pubsub.subscribe(channel)
                # Wait for Redis to confirm, so that nothing published after we join is missed.
                async with asyncio.timeout(SUBSCRIBE_TIMEOUT_SECONDS):
                    while True:
                        confirmation = await pubsub.get_message(timeout=SUBSCRIBE_TIMEOUT_SECONDS)
                        if confirmation is not None and confirmation.get("type") == "subscribe":
                            break
            except (RedisError, OSError, TimeoutError) as exc:
                raise RelayUnavailable("Redis did not take the subscription") from exc
            yield _RedisMembership(client, pubsub, channel)
        finally:
            try:
                await pubsub.aclose()  # type: ignore[no-untyped-call]
                await client.aclose()
            except (RedisError, OSError):
                pass


def build_relay(redis_url: str | None) -> CallRelay:
    """Redis pub/sub when the settings name a Redis (``CLINICORE_REDIS_URL``), else in this process."""
    return RedisRelay(redis_url) if redis_url else InProcessRelay()
