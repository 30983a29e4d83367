"""Reading a console list page's query: its page number and the length of its filters."""

from __future__ import annotations

from collections.abc import Mapping

from clinicore.kit.errors import InvalidInput

LAST_PAGE = 10_000  # a page number past this is refused, not sent to the database as a huge offset


def digits(text: str) -> bool:
    """ASCII digits only ("²" is a digit to ``str.isdigit`` but not to ``int``)."""
    return text.isascii() and text.isdigit()


def page_number(raw: str) -> int:
    """Blank is page 1; anything else a whole number from 1 to ``LAST_PAGE``."""
    text = raw.strip()
    if not text:
        return 1
    if not digits(text) or len(text) > len(str(LAST_PAGE)) or not 1 <= int(text) <= LAST_PAGE:
        raise InvalidInput(f"page: a page number from 1 to {LAST_PAGE}", field="page")
    return int(text)


def refuse_long_filters(filters: Mapping[str, str], *, longest: int) -> None:
    for name, value in filters.items():
        if len(value) > longest:
            raise InvalidInput(f"{name}: at most {longest} characters", field=name)
