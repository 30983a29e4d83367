"""Qualiphy endpoints are ``POST /<name>``; real clients add a trailing slash as often as not, and a
redirect would turn their POST into a GET in many HTTP libraries, so both paths are routed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter

F = TypeVar("F", bound=Callable[..., Any])


def endpoint(router: APIRouter, name: str, **options: Any) -> Callable[[F], F]:
    """Register ``POST /name`` and ``POST /name/`` (the second hidden from the OpenAPI document)."""

    def register(handler: F) -> F:
        router.post(f"/{name}", **options)(handler)
        router.post(f"/{name}/", include_in_schema=False, **options)(handler)
        return handler

    return register
