"""The webhook sender's own HTTP/1.1 client against receivers that answer in every way HTTP allows:
keep-alive reuse, chunked and unsized bodies, long answers, "connection: close", broken answers."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from clinicore.core.events.delivery import send_webhook, webhook_client
from clinicore.core.events.schemas import WebhookRequest

Answer = Callable[[bytes], bytes]  # the request as read -> the bytes to answer with


class RawReceiver:
    """A TCP server on loopback that reads one request at a time and answers with raw bytes."""

    def __init__(self, answer: Answer, *, close_after_answer: bool = False) -> None:
        self.answer = answer
        self.close_after_answer = close_after_answer
        self.connections = 0
        self.requests: list[bytes] = []
        self.port = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                request = head + await reader.readexactly(length)
                self.requests.append(request)
                writer.write(self.answer(request))
                await writer.drain()
                if self.close_after_answer:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks?token=abc"


@asynccontextmanager
async def raw_receiver(answer: Answer, *, close_after_answer: bool = False) -> AsyncIterator[RawReceiver]:
    receiver = RawReceiver(answer, close_after_answer=close_after_answer)
    server = await asyncio.start_server(receiver.handle, "127.0.0.1", 0)
    receiver.port = server.sockets[0].getsockname()[1]
    async with server:
        yield receiver


def request_to(url: str, body: bytes = b'{"hello": "world"}') -> WebhookRequest:
    return WebhookRequest(
        delivery_id=uuid.uuid4(),
        endpoint_id=uuid.uuid4(),
        clinic_id=uuid.uuid4(),
        event_id="evt_client",
        url=url,
        body=body,
        headers={"webhook-id": "evt_client", "content-type": "application/json"},
        attempted_at=datetime.now(UTC),
    )


def sized(status: str, body: bytes, *headers: str) -> bytes:
    head = [f"HTTP/1.1 {status}", f"content-length: {len(body)}", *headers]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


class TestWebhookClient:
    async def test_requests_to_one_receiver_share_a_keep_alive_connection_and_carry_their_headers(
        self,
    ) -> None:
        async with (
            raw_receiver(lambda _: sized("200 OK", b"thanks")) as receiver,
            webhook_client(allow_private=True) as client,
        ):
            results = [await send_webhook(client, request_to(receiver.url())) for _ in range(3)]
        assert [(result.status_code, result.response_excerpt) for result in results] == [(200, "thanks")] * 3
        assert receiver.connections == 1
        first = receiver.requests[0]
        assert first.startswith(b"POST /hooks?token=abc HTTP/1.1\r\n")
        assert f"host: 127.0.0.1:{receiver.port}\r\n".encode() in first
        assert b"user-agent: Clinicore-Webhooks/" in first
        assert b"webhook-id: evt_client\r\n" in first
        assert first.endswith(b'\r\n\r\n{"hello": "world"}')

    async def test_a_chunked_answer_is_read_and_the_connection_reused(self) -> None:
        chunked = (
            b"HTTP/1.1 202 Accepted\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
        )
        async with (
            raw_receiver(lambda _: chunked) as receiver,
            webhook_client(allow_private=True) as client,
        ):
            first = await send_webhook(client, request_to(receiver.url()))
            second = await send_webhook(client, request_to(receiver.url()))
        assert (first.status_code, first.response_excerpt) == (202, "abcde")
        assert second.status_code == 202
        assert receiver.connections == 1

    async def test_a_long_answer_is_cut_to_1_kb_and_its_connection_not_reused(self) -> None:
        async with (
            raw_receiver(lambda _: sized("200 OK", b"x" * 5000)) as receiver,
            webhook_client(allow_private=True) as client,
        ):
            first = await send_webhook(client, request_to(receiver.url()))
            second = await send_webhook(client, request_to(receiver.url()))
        assert first.response_excerpt == "x" * 1024
        assert second.status_code == 200
        assert receiver.connections == 2

    async def test_an_answer_asking_to_close_and_a_receiver_that_closes_get_a_new_connection(self) -> None:
        answer = sized("200 OK", b"ok", "connection: close")
        async with (
            raw_receiver(lambda _: answer, close_after_answer=True) as receiver,
            webhook_client(allow_private=True) as client,
        ):
            results = [await send_webhook(client, request_to(receiver.url())) for _ in range(2)]
        assert [result.status_code for result in results] == [200, 200]
        assert receiver.connections == 2

    async def test_an_unsized_answer_ends_when_the_receiver_closes(self) -> None:
        async with (
            raw_receiver(
                lambda _: b"HTTP/1.1 500 Oops\r\nretry-after: 30\r\n\r\nbroken", close_after_answer=True
            ) as receiver,
            webhook_client(allow_private=True) as client,
        ):
            result = await send_webhook(client, request_to(receiver.url()))
        assert (result.status_code, result.response_excerpt, result.retry_after) == (500, "broken", "30")

    async def test_a_receiver_that_closes_without_answering_or_answers_garbage_is_a_failed_attempt(
        self,
    ) -> None:
        async with (
            raw_receiver(lambda _: b"", close_after_answer=True) as silent,
            webhook_client(allow_private=True) as client,
        ):
            closed = await send_webhook(client, request_to(silent.url()))
        async with (
            raw_receiver(lambda _: b"SMTP ready\r\n\r\n") as garbage,
            webhook_client(allow_private=True) as client,
        ):
            broken = await send_webhook(client, request_to(garbage.url()))
        assert closed.status_code is None and closed.error is not None
        assert closed.error.startswith("RemoteProtocolError")
        assert broken.status_code is None and broken.error is not None
        assert broken.error.startswith("RemoteProtocolError")

    async def test_a_redirect_is_not_followed_and_an_abort_is_read(self) -> None:
        redirect = sized("307 Temporary Redirect", b"", "location: http://169.254.169.254/")
        async with (
            raw_receiver(lambda _: redirect) as receiver,
            webhook_client(allow_private=True) as client,
        ):
            result = await send_webhook(client, request_to(receiver.url()))
        assert result.status_code == 307
        assert len(receiver.requests) == 1
        abort = sized("200 OK", b"", "webhook-delivery: Abort-Message")
        async with (
            raw_receiver(lambda _: abort) as receiver,
            webhook_client(allow_private=True) as client,
        ):
            result = await send_webhook(client, request_to(receiver.url()))
        assert result.abort_requested

    async def test_the_ssrf_guard_checks_new_connections(self) -> None:
        async with (
            raw_receiver(lambda _: sized("200 OK", b"")) as receiver,
            webhook_client(allow_private=False) as client,
        ):
            result = await send_webhook(client, request_to(receiver.url()))
        assert result.status_code is None
        assert (
            result.error == "refused: 127.0.0.1 is a loopback address; webhooks must go to a public address"
        )
        assert receiver.requests == []
