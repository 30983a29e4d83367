"""Identifiers: UUIDs for rows, sortable prefixed ids for events."""

from __future__ import annotations

import os
import time
import uuid

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_uuid() -> uuid.UUID:
    return uuid.uuid4()


def sortable_id(prefix: str, *, at_ms: int | None = None) -> str:
    """``prefix_`` + a ULID (48-bit millisecond time + 80 random bits, Crockford base32).

    Ids made later sort later, so an event id also orders events.
    """
    millis = int(time.time() * 1000) if at_ms is None else at_ms
    value = (millis << 80) | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return f"{prefix}_{''.join(reversed(chars))}"
