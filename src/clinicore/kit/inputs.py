"""Partial inputs: ``NOT_GIVEN`` tells a field left out of a request from one given as ``None``.

An update or upsert writes only the fields that were given; ``None`` given clears a field, ``NOT_GIVEN``
leaves it as it is. Test with ``value is NOT_GIVEN`` (mypy narrows on it).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Annotated, Final, Literal, TypeAlias, TypeVar

from pydantic import AfterValidator

T = TypeVar("T")


class NotGiven(Enum):
    NOT_GIVEN = "NOT_GIVEN"

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Final = NotGiven.NOT_GIVEN

# ``Given[str | None]``: a string, None (given, to clear), or NOT_GIVEN (left out).
Given: TypeAlias = T | Literal[NotGiven.NOT_GIVEN]


# The years a date or time read from a caller may fall in: wide enough for every real date of birth,
# appointment and filter, narrow enough that adding days or moving between time zones never overflows
# (``9999-12-31`` plus a day does) and that every database stores it alike.
SUPPORTED_YEARS: Final = range(1900, 2200)
SUPPORTED_YEARS_TEXT: Final = f"between the years {SUPPORTED_YEARS.start} and {SUPPORTED_YEARS.stop - 1}"

D = TypeVar("D", date, datetime)


def within_supported_years(value: D) -> D:
    """For a pydantic ``AfterValidator`` (a ``ValueError`` is the field's 400) or a direct check."""
    if value.year not in SUPPORTED_YEARS:
        raise ValueError(f"must be {SUPPORTED_YEARS_TEXT}")
    return value


SupportedDateTime = Annotated[datetime, AfterValidator(within_supported_years)]
SupportedDate = Annotated[date, AfterValidator(within_supported_years)]
