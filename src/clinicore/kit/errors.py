"""Core errors carry a code and a message, never an HTTP status; each surface maps them."""

from __future__ import annotations

from typing import ClassVar


class CoreError(Exception):
    code: ClassVar[str] = "error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(CoreError):
    code = "not_found"


class Conflict(CoreError):
    code = "conflict"


class InvalidInput(CoreError):
    code = "invalid_input"


class Unauthorized(CoreError):
    code = "unauthorized"


class RateLimited(CoreError):
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
