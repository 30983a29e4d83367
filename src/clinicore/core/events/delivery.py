"""One HTTP attempt of one webhook: POST, read at most 1 KB of the answer, time it, never raise.

Webhooks go out on their own lean HTTP/1.1 client (``WebhookClient``, h11 on asyncio streams), not on
httpx: a worker sends hundreds a second, and httpx's pool scanned every connection (and polled each
socket) on every request. The SSRF guard is the same one (``kit.ssrf.checked_addresses`` on every new
connection). Redirects are not followed and count as a failed attempt, so a receiver cannot bounce us
to an address the SSRF guard would refuse.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote

import h11
import httpx

from clinicore.core.events.schemas import AttemptResult, WebhookRequest
from clinicore.kit.ssrf import Resolver, WebhookTargetRefused, checked_addresses, system_resolver

DELIVERY_TIMEOUT_SECONDS = 15.0
RESPONSE_EXCERPT_BYTES = 1024
USER_AGENT = "Clinicore-Webhooks/1.0"
ABORT_HEADER = "webhook-delivery"
ABORT_VALUE = "abort-message"
MAX_ERROR_LENGTH = 500
# An idle keep-alive connection is not reused after this long (receivers commonly close theirs after
# 5 s; reusing one the receiver is closing at that moment would fail the attempt).
KEEPALIVE_SECONDS = 4.0
# Idle connections kept per origin (scheme, host, port); more than this in flight are closed after use.
MAX_IDLE_PER_ORIGIN = 128
READ_CHUNK = 65536
# The answer's head (status line and headers) may not be longer than this.
MAX_RESPONSE_HEAD_BYTES = 64 * 1024
# An answer's URL parts are parsed once per URL; endpoints are few.
URL_CACHE = 1024


class SendError(Exception):
    """A failed exchange, named as the attempt log shows it ("ConnectError: ...")."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")


@dataclass(frozen=True, slots=True)
class _Target:
    origin: tuple[str, str, int]  # scheme, host, port
    host: str  # as resolved and checked by the SSRF guard, and for TLS
    host_header: str
    path: bytes  # path and query, as sent on the request line
    authorization: str | None  # from user:password@ in the URL, as HTTP basic


@functools.lru_cache(maxsize=URL_CACHE)
def _target(url: str) -> _Target:
    parsed = httpx.URL(url)
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise SendError("UnsupportedProtocol", f"cannot send to {parsed.scheme or 'a relative'} URL")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    host = parsed.raw_host.decode("ascii")
    bracketed = f"[{host}]" if ":" in host else host
    host_header = bracketed if parsed.port is None else f"{bracketed}:{parsed.port}"
    authorization = None
    if parsed.userinfo:
        user, _, password = parsed.userinfo.decode("ascii").partition(":")
        credentials = f"{unquote(user)}:{unquote(password)}".encode()
        authorization = "Basic " + base64.b64encode(credentials).decode("ascii")
    return _Target(
        origin=(parsed.scheme, host, port),
        host=host,
        host_header=host_header,
        path=parsed.raw_path or b"/",
        authorization=authorization,
    )


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One TLS context for every connection: loading the CA bundle takes tens of milliseconds."""
    return httpx.create_ssl_context()


class _Connection:
    """One keep-alive HTTP/1.1 connection to a checked address."""

    __slots__ = ("h11", "idle_since", "reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.h11 = h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_RESPONSE_HEAD_BYTES)
        self.idle_since = 0.0

    def reusable(self, now: float) -> bool:
        return (
            now - self.idle_since < KEEPALIVE_SECONDS
            and not self.reader.at_eof()
            and not self.writer.is_closing()
            and self.h11.our_state is h11.IDLE
        )

    def close(self) -> None:
        self.writer.transport.abort()


class WebhookClient:
    """What webhooks are sent with: HTTP/1.1 keep-alive connections kept per origin (the most recently
    used first, no scan of a shared pool), one write per request, no redirects, and the SSRF guard on
    every new connection (the host is resolved, every address checked, and one of the checked
    addresses connected to; TLS still checks the URL's host name).

    Use as ``async with webhook_client(...) as client``; leaving the block closes every connection."""

    def __init__(
        self,
        *,
        allow_private: bool,
        resolver: Resolver = system_resolver,
        user_agent: str = USER_AGENT,
    ) -> None:
        self.allow_private = allow_private
        self._resolver = resolver
        self._user_agent = user_agent
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._closed = False

    async def __aenter__(self) -> WebhookClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        self._closed = True
        for connections in self._idle.values():
            for connection in connections:
                connection.close()
        self._idle.clear()

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> tuple[int, h11.Response, str]:
        """POST ``body``; return the status, the answer's head and the first 1 KB of its body (as text).
        Raises ``WebhookTargetRefused`` or ``SendError``; a timeout is the caller's (``asyncio.timeout``)."""
        target = _target(url)
        connection = await self._connection(target)
        try:
            head, excerpt, complete = await self._exchange(connection, target, body, headers)
        except BaseException:
            connection.close()
            raise
        self._put_back(target, connection, complete)
        return head.status_code, head, excerpt

    async def _connection(self, target: _Target) -> _Connection:
        idle = self._idle.get(target.origin)
        now = time.monotonic()
        while idle:
            connection = idle.pop()
            if connection.reusable(now):
                return connection
            connection.close()
        return await self._connect(target)

    async def _connect(self, target: _Target) -> _Connection:
        scheme, host, port = target.origin
        try:
            addresses = await checked_addresses(
                host, port, allow_private=self.allow_private, resolver=self._resolver
            )
        except OSError as exc:
            raise SendError("ConnectError", f"cannot resolve {host}: {exc}") from exc
        failure: OSError | None = None
        for address in addresses:
            try:
                if scheme == "https":
                    reader, writer = await asyncio.open_connection(
                        address, port, ssl=_tls_context(), server_hostname=host, limit=READ_CHUNK
                    )
                else:
                    reader, writer = await asyncio.open_connection(address, port, limit=READ_CHUNK)
            except OSError as exc:  # ssl.SSLError is one too
                failure = exc
                continue
            return _Connection(reader, writer)
        raise SendError("ConnectError", str(failure) or type(failure).__name__)

    async def _exchange(
        self, connection: _Connection, target: _Target, body: bytes, headers: Mapping[str, str]
    ) -> tuple[h11.Response, str, bool]:
        request_headers = [
            ("host", target.host_header),
            ("user-agent", self._user_agent),
            ("accept", "*/*"),
            ("content-length", str(len(body))),
        ]
        if target.authorization is not None:
            request_headers.append(("authorization", target.authorization))
        request_headers.extend(
            (name, value)
            for name, value in headers.items()
            if name.lower() not in ("host", "content-length", "transfer-encoding", "connection")
        )
        conn = connection.h11
        try:
            data = conn.send(h11.Request(method="POST", target=target.path, headers=request_headers))
            data = (
                (data or b"")
                + (conn.send(h11.Data(data=body)) or b"")
                + (conn.send(h11.EndOfMessage()) or b"")
            )
        except h11.LocalProtocolError as exc:
            raise SendError("LocalProtocolError", str(exc)) from exc
        try:
            connection.writer.write(data)
            await connection.writer.drain()
            head: h11.Response | None = None
            received = bytearray()
            while True:
                event = conn.next_event()
                if event is h11.NEED_DATA:
                    conn.receive_data(await connection.reader.read(READ_CHUNK))
                    continue
                if isinstance(event, h11.InformationalResponse):
                    continue
                if isinstance(event, h11.Response):
                    head = event
                elif isinstance(event, h11.Data):
                    received.extend(event.data)
                    if len(received) >= RESPONSE_EXCERPT_BYTES:
                        break  # the rest is not read: this connection is not reused
                elif isinstance(event, (h11.EndOfMessage, h11.ConnectionClosed)):
                    break
        except h11.RemoteProtocolError as exc:
            raise SendError("RemoteProtocolError", str(exc) or "the receiver broke the protocol") from exc
        except OSError as exc:
            raise SendError("ReadError", str(exc) or type(exc).__name__) from exc
        if head is None:
            raise SendError("RemoteProtocolError", "the receiver closed the connection without answering")
        complete = conn.our_state is h11.DONE and conn.their_state is h11.DONE
        return head, _excerpt(received), complete

    def _put_back(self, target: _Target, connection: _Connection, complete: bool) -> None:
        if not complete or self._closed:
            connection.close()
            return
        try:
            connection.h11.start_next_cycle()
        except h11.LocalProtocolError:  # the receiver asked to close ("connection: close")
            connection.close()
            return
        idle = self._idle.setdefault(target.origin, [])
        if len(idle) >= MAX_IDLE_PER_ORIGIN:
            connection.close()
            return
        connection.idle_since = time.monotonic()
        idle.append(connection)


def webhook_client(*, allow_private: bool, resolver: Resolver = system_resolver) -> WebhookClient:
    return WebhookClient(allow_private=allow_private, resolver=resolver)


async def send_webhook(
    client: WebhookClient, request: WebhookRequest, *, time_limit: float = DELIVERY_TIMEOUT_SECONDS
) -> AttemptResult:
    if request.failure is not None:
        return AttemptResult(status_code=None, latency_ms=0, error=request.failure)
    started = time.perf_counter()
    try:
        async with asyncio.timeout(time_limit):
            status, head, excerpt = await client.post(request.url, request.body, request.headers)
    except WebhookTargetRefused as exc:
        return _failed(started, f"refused: {exc.message.removeprefix('url: ')}")
    except TimeoutError:
        return _failed(started, f"timed out after {time_limit:g} s")
    except SendError as exc:
        return _failed(started, str(exc))
    retry_after = None
    abort_requested = False
    for name, value in head.headers:
        if name == b"retry-after":
            retry_after = value.decode("latin-1")
        elif name == ABORT_HEADER.encode():
            abort_requested = value.decode("latin-1").strip().lower() == ABORT_VALUE
    return AttemptResult(
        status_code=status,
        latency_ms=_elapsed_ms(started),
        response_excerpt=excerpt,
        retry_after=retry_after,
        abort_requested=abort_requested,
    )


def _excerpt(received: bytearray) -> str:
    # PostgreSQL text cannot hold NUL; a binary answer is shown with replacement characters.
    return (
        bytes(received[:RESPONSE_EXCERPT_BYTES]).decode("utf-8", errors="replace").replace("\x00", "\ufffd")
    )


def _elapsed_ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)


def _failed(started: float, error: str) -> AttemptResult:
    return AttemptResult(status_code=None, latency_ms=_elapsed_ms(started), error=error[:MAX_ERROR_LENGTH])
