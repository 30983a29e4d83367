"""Text a database can store. PostgreSQL refuses the NUL character in text, and a lone surrogate (which a
JSON string may carry as ``\\ud800``) has no UTF-8 at all: either would fail deep in a query, so each
layer refuses it at the wire, in its own words, from this one test."""

from __future__ import annotations

from enum import StrEnum


class Unstorable(StrEnum):
    nul = "nul"
    lone_surrogate = "lone_surrogate"


def unstorable(text: str) -> Unstorable | None:
    """Why ``text`` cannot be stored, or None when it can."""
    if "\x00" in text:
        return Unstorable.nul
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return Unstorable.lone_surrogate
    return None
