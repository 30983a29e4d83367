"""The relays that carry a call's messages between its sockets: in one process, and through Redis pub/sub
between processes (two relays on one Redis are two server processes' view of it)."""

from __future__ import annotations

import asyncio
import secrets

import pytest
from redis.asyncio import Redis

from clinicore.web.call.relay import (
    CHANNEL_PREFIX,
    QUEUE_SIZE,
    Envelope,
    InProcessRelay,
    RedisRelay,
    RelayUnavailable,
    build_relay,
)
from tests.support import free_port
from tests.web.call.conftest import REDIS_URL


def room_name() -> str:
    return f"test-{secrets.token_hex(6)}"


def hello(sender: str, role: str = "patient") -> Envelope:
    return Envelope(sender, role, {"type": "hello", "media": True})


class TestInProcessRelay:
    async def test_every_member_of_a_room_receives_what_one_publishes(self) -> None:
        relay = InProcessRelay()
        room = room_name()
        async with relay.join(room) as patient, relay.join(room) as provider:
            await patient.publish(hello("a"))
            assert await asyncio.wait_for(provider.receive(), 1) == hello("a")
            assert await asyncio.wait_for(patient.receive(), 1) == hello("a")  # its own too: sockets skip it

    async def test_another_room_hears_nothing(self) -> None:
        relay = InProcessRelay()
        async with relay.join(room_name()) as here, relay.join(room_name()) as elsewhere:
            await here.publish(hello("a"))
            await here.receive()
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(elsewhere.receive(), 0.2)

    async def test_a_room_is_forgotten_when_its_last_member_leaves(self) -> None:
        relay = InProcessRelay()
        room = room_name()
        async with relay.join(room), relay.join(room):
            assert relay.rooms() == 1
        assert relay.rooms() == 0

    async def test_a_member_that_falls_behind_is_told_rather_than_growing_without_bound(self) -> None:
        relay = InProcessRelay()
        room = room_name()
        async with relay.join(room) as sender, relay.join(room) as slow:
            for number in range(QUEUE_SIZE + 1):
                await sender.publish(hello(str(number)))
            with pytest.raises(RelayUnavailable):
                await slow.receive()

    def test_without_redis_the_relay_is_in_process(self) -> None:
        assert isinstance(build_relay(None), InProcessRelay)
        assert isinstance(build_relay(REDIS_URL), RedisRelay)


class TestRedisRelay:
    async def test_a_message_published_in_one_process_reaches_the_other(self, redis_url: str) -> None:
        process_a, process_b = RedisRelay(redis_url), RedisRelay(redis_url)
        room = room_name()
        async with process_a.join(room) as patient, process_b.join(room) as provider:
            await patient.publish(hello("a"))
            assert await asyncio.wait_for(provider.receive(), 5) == hello("a")
            answer = Envelope("b", "provider", {"type": "chat", "text": "Hello from B"})
            await provider.publish(answer)
            received = [await asyncio.wait_for(patient.receive(), 5) for _ in range(2)]
            assert received == [hello("a"), answer]

    async def test_another_room_hears_nothing(self, redis_url: str) -> None:
        process_a, process_b = RedisRelay(redis_url), RedisRelay(redis_url)
        async with process_a.join(room_name()) as here, process_b.join(room_name()) as elsewhere:
            await here.publish(hello("a"))
            await asyncio.wait_for(here.receive(), 5)
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(elsewhere.receive(), 0.3)

    async def test_channels_are_prefixed_and_garbage_on_them_is_skipped(self, redis_url: str) -> None:
        room = room_name()
        client = Redis.from_url(redis_url)
        try:
            async with RedisRelay(redis_url).join(room) as member:
                for garbage in (
                    "not json",
                    "[]",
                    '{"sender": 1}',
                    '{"sender": "x", "role": "p", "message": 3}',
                ):
                    await client.publish(f"{CHANNEL_PREFIX}{room}", garbage)
                await client.publish(f"{CHANNEL_PREFIX}{room}", hello("z").encode())
                assert await asyncio.wait_for(member.receive(), 5) == hello("z")
        finally:
            await client.aclose()

    async def test_an_unreachable_redis_is_reported_not_raised_raw(self) -> None:
        relay = RedisRelay(f"redis://127.0.0.1:{free_port()}/0")
        with pytest.raises(RelayUnavailable):
            async with relay.join(room_name()):
                pass
