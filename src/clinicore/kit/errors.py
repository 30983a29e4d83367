"""Core errors carry a code and a message, never an HTTP status; each surface maps them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar


class CoreError(Exception):
    """``message`` is the core's own sentence, naming core fields; ``field`` the core field at fault.
    ``rule`` names the rule that refused (``routing.order_set_required``) with its ``params``, so that a
    surface can word it as its vendor does without parsing the sentence. ``subject`` names what the field
    belongs to (``appointment``, ``block``) where one core field name means different wire fields."""

    code: ClassVar[str] = "error"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        rule: str | None = None,
        params: Mapping[str, object] | None = None,
        subject: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.subject = subject
        self.rule = rule
        self.params: Mapping[str, object] = params or {}


class NotFound(CoreError):
    code = "not_found"


class Conflict(CoreError):
    code = "conflict"


class Forbidden(CoreError):
    """The caller is known but may not see or do this (a provider not licensed in the exam's state)."""

    code = "forbidden"


class InvalidInput(CoreError):
    code = "invalid_input"


class Unauthorized(CoreError):
    code = "unauthorized"


class RateLimited(CoreError):
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
