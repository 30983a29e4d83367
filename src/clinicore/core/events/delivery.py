"""One HTTP attempt of one webhook: POST, read at most 1 KB of the answer, time it, never raise.

Redirects are not followed (the outbound client refuses them) and count as a failed attempt, so a
receiver cannot bounce us to an address the SSRF guard would refuse.
"""

from __future__ import annotations

import asyncio
import time

import httpx

from clinicore.core.events.schemas import AttemptResult, WebhookRequest
from clinicore.kit.ssrf import WebhookTargetRefused, outbound_client

DELIVERY_TIMEOUT_SECONDS = 15.0
RESPONSE_EXCERPT_BYTES = 1024
USER_AGENT = "Clinicore-Webhooks/1.0"
ABORT_HEADER = "webhook-delivery"
ABORT_VALUE = "abort-message"
MAX_ERROR_LENGTH = 500


def webhook_client(*, allow_private: bool, timeout: float = DELIVERY_TIMEOUT_SECONDS) -> httpx.AsyncClient:
    return outbound_client(allow_private=allow_private, timeout=timeout, user_agent=USER_AGENT)


async def send_webhook(
    client: httpx.AsyncClient, request: WebhookRequest, *, time_limit: float = DELIVERY_TIMEOUT_SECONDS
) -> AttemptResult:
    if request.failure is not None:
        return AttemptResult(status_code=None, latency_ms=0, error=request.failure)
    started = time.perf_counter()
    try:
        async with asyncio.timeout(time_limit):
            async with client.stream(
                "POST", request.url, content=request.body, headers=dict(request.headers)
            ) as answer:
                excerpt = await _read_excerpt(answer)
    except WebhookTargetRefused as exc:
        return _failed(started, f"refused: {exc.message.removeprefix('url: ')}")
    except (TimeoutError, httpx.TimeoutException):
        return _failed(started, f"timed out after {time_limit:g} s")
    except httpx.HTTPError as exc:
        return _failed(started, f"{type(exc).__name__}: {exc}")
    return AttemptResult(
        status_code=answer.status_code,
        latency_ms=_elapsed_ms(started),
        response_excerpt=excerpt,
        retry_after=answer.headers.get("retry-after"),
        abort_requested=answer.headers.get(ABORT_HEADER, "").strip().lower() == ABORT_VALUE,
    )


async def _read_excerpt(answer: httpx.Response) -> str:
    received = bytearray()
    async for chunk in answer.aiter_bytes():
        received.extend(chunk)
        if len(received) >= RESPONSE_EXCERPT_BYTES:
            break
    # PostgreSQL text cannot hold NUL; a binary answer is shown with replacement characters.
    return (
        bytes(received[:RESPONSE_EXCERPT_BYTES]).decode("utf-8", errors="replace").replace("\x00", "\ufffd")
    )


def _elapsed_ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)


def _failed(started: float, error: str) -> AttemptResult:
    return AttemptResult(status_code=None, latency_ms=_elapsed_ms(started), error=error[:MAX_ERROR_LENGTH])
