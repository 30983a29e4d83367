"""Partial inputs: ``NOT_GIVEN`` tells a field left out of a request from one given as ``None``.

An update or upsert writes only the fields that were given; ``None`` given clears a field, ``NOT_GIVEN``
leaves it as it is. Test with ``value is NOT_GIVEN`` (mypy narrows on it).
"""

from __future__ import annotations

from enum import Enum
from typing import Final, Literal, TypeAlias, TypeVar

T = TypeVar("T")


class NotGiven(Enum):
    NOT_GIVEN = "NOT_GIVEN"

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Final = NotGiven.NOT_GIVEN

# ``Given[str | None]``: a string, None (given, to clear), or NOT_GIVEN (left out).
Given: TypeAlias = T | Literal[NotGiven.NOT_GIVEN]
