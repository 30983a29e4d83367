"""Client tags: short labels a clinic puts on its clients.

- A tag is trimmed, its inner spaces folded to one; 1 to ``MAX_TAG_LENGTH`` characters, no control
  character. A client holds a tag once, compared without case; it keeps the spelling it was first given.
- A client holds at most ``MAX_TAGS_PER_CLIENT`` tags. Adding a tag the client holds changes nothing;
  removing one it does not hold changes nothing either.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.models import Client
from clinicore.core.people import profile_repository as repository
from clinicore.kit.clock import Clock, system_clock
from clinicore.kit.errors import InvalidInput

MAX_TAG_LENGTH = 50
MAX_TAGS_PER_CLIENT = 50
SUBJECT = "client"


def clean_tag(value: str | None) -> str:
    """The tag as stored, or ``InvalidInput`` naming ``tag``."""
    text = " ".join((value or "").split())
    if not text:
        raise InvalidInput("tag: is required", field="tag", subject=SUBJECT)
    if any(ord(character) < 32 or ord(character) == 127 for character in text):
        raise InvalidInput("tag: contains a control character", field="tag", subject=SUBJECT)
    if len(text) > MAX_TAG_LENGTH:
        raise InvalidInput(f"tag: at most {MAX_TAG_LENGTH} characters", field="tag", subject=SUBJECT)
    return text


def tag_key(tag: str) -> str:
    return tag.lower()


async def tags_by_client(
    session: AsyncSession, *, clinic_id: uuid.UUID, client_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[str]]:
    """Each client's tags, in the order they were added."""
    found: dict[uuid.UUID, list[str]] = {client_id: [] for client_id in client_ids}
    for row in await repository.tags_of(session, clinic_id=clinic_id, client_ids=client_ids):
        found[row.client_id].append(row.tag)
    return found


async def add_tag(
    session: AsyncSession, *, client: Client, tag: str | None, clock: Clock = system_clock
) -> str:
    """Puts the tag on the client (no change when it holds it already); answers the tag as stored."""
    cleaned = clean_tag(tag)
    held = (await tags_by_client(session, clinic_id=client.clinic_id, client_ids=[client.id]))[client.id]
    for existing in held:
        if tag_key(existing) == tag_key(cleaned):
            return existing
    if len(held) >= MAX_TAGS_PER_CLIENT:
        raise InvalidInput(
            f"tag: a client holds at most {MAX_TAGS_PER_CLIENT} tags", field="tag", subject=SUBJECT
        )
    await repository.add_tag(
        session,
        clinic_id=client.clinic_id,
        client_id=client.id,
        tag=cleaned,
        tag_key=tag_key(cleaned),
        at=clock.now(),
    )
    return cleaned


async def remove_tag(session: AsyncSession, *, client: Client, tag: str | None) -> None:
    """Takes the tag off the client, whatever its case (no change when it does not hold it)."""
    cleaned = clean_tag(tag)
    await repository.remove_tags(
        session, clinic_id=client.clinic_id, client_id=client.id, tag_keys=[tag_key(cleaned)]
    )


async def replace_tags(
    session: AsyncSession, *, client: Client, tags: Iterable[str | None], clock: Clock = system_clock
) -> list[str]:
    """The client's tags become exactly ``tags`` (duplicates without case once); answers them."""
    wanted: dict[str, str] = {}
    for tag in tags:
        cleaned = clean_tag(tag)
        wanted.setdefault(tag_key(cleaned), cleaned)
    if len(wanted) > MAX_TAGS_PER_CLIENT:
        raise InvalidInput(
            f"tags: a client holds at most {MAX_TAGS_PER_CLIENT} tags", field="tags", subject=SUBJECT
        )
    held = (await tags_by_client(session, clinic_id=client.clinic_id, client_ids=[client.id]))[client.id]
    held_keys = {tag_key(tag) for tag in held}
    await repository.remove_tags(
        session, clinic_id=client.clinic_id, client_id=client.id, tag_keys=sorted(held_keys - wanted.keys())
    )
    now = clock.now()
    for key, tag in wanted.items():
        if key not in held_keys:
            await repository.add_tag(
                session, clinic_id=client.clinic_id, client_id=client.id, tag=tag, tag_key=key, at=now
            )
    return [tag for tag in held if tag_key(tag) in wanted] + [
        tag for key, tag in wanted.items() if key not in held_keys
    ]
