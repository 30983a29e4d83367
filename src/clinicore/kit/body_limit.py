"""Request bodies capped in one place, before any route, dependency or authentication reads them.

A request that announces a body over its path's limit (``Content-Length``) is answered 413 at once,
without reading a byte of it, and the connection is closed. A body without a length (chunked) or with a
lying one is counted as it arrives: the read that passes the limit raises ``BodyTooLarge``, an HTTP 413
that the app's own error handlers render in the caller's envelope; nothing downstream ever holds more
than the limit. Only HTTP requests are bounded here (WebSocket frames are bounded by the server).
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The limit for a path, in bytes.
LimitFor = Callable[[str], int]
# The 413 answer for a request: (scope, limit, message) -> response.
RefusalFor = Callable[[Scope, int, str], Response]


def describe_size(size: int) -> str:
    if size >= 1024 * 1024 and size % (1024 * 1024) == 0:
        return f"{size // (1024 * 1024)} MB"
    if size >= 1024:
        return f"{size // 1024} KB"
    return f"{size} bytes"


def too_large_message(limit: int) -> str:
    return f"the request body is larger than {describe_size(limit)}"


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, too_large_message(limit))
        self.limit = limit


def declared_length(scope: Scope) -> int | None:
    """The ``Content-Length`` the client announced, or None when there is none (or it is not a number:
    the server refuses those before we are called)."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = value.strip()
            return int(text) if text.isdigit() else None
    return None


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, limit_for: LimitFor, refusal_for: RefusalFor) -> None:
        self.app = app
        self.limit_for = limit_for
        self.refusal_for = refusal_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        limit = self.limit_for(path)
        announced = declared_length(scope)
        if announced is not None and announced > limit:
            await self._refuse(scope, receive, send, limit)
            return

        received = 0
        response_started = False

        async def bounded_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, bounded_receive, watched_send)
        except BodyTooLarge:
            # Read outside the reach of the app's handlers (a middleware's own read): answer it here.
            if not response_started:
                await self._refuse(scope, receive, send, limit)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        response = self.refusal_for(scope, limit, too_large_message(limit))
        response.headers["connection"] = "close"
        await response(scope, receive, send)
