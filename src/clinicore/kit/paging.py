"""Offset paging with ``has_more``: ask for one row more than the page holds; if it comes, there is more."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: Sequence[T]
    has_more: bool


async def one_page(fetch: Callable[[int], Awaitable[Sequence[T]]], *, limit: int) -> Page[T]:
    """``fetch(n)`` lists at most ``n`` rows from the page's offset; the page holds ``limit`` of them."""
    rows = await fetch(limit + 1)
    return Page(items=rows[:limit], has_more=len(rows) > limit)
