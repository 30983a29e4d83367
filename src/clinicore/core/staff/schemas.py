"""Typed inputs of the staff use cases: only the fields given change (``NOT_GIVEN`` leaves one alone)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from clinicore.core.models import Assistant
from clinicore.kit.inputs import NOT_GIVEN, Given


@dataclass(frozen=True, slots=True, kw_only=True)
class PractitionerDetails:
    """A practitioner's identity. ``role_name`` None or left out is ``Administrator`` on creation."""

    first_name: Given[str] = NOT_GIVEN
    last_name: Given[str] = NOT_GIVEN
    email: Given[str] = NOT_GIVEN
    role_name: Given[str | None] = NOT_GIVEN
    external_id: Given[str | None] = NOT_GIVEN


@dataclass(frozen=True, slots=True, kw_only=True)
class AssistantDetails:
    """An assistant's identity; ``practitioners`` (our ids or external ids, empty: all) limits whom the
    assistant acts for."""

    name: Given[str] = NOT_GIVEN
    email: Given[str] = NOT_GIVEN
    role_name: Given[str | None] = NOT_GIVEN
    external_id: Given[str | None] = NOT_GIVEN
    practitioners: Given[Sequence[str]] = NOT_GIVEN


@dataclass(frozen=True, slots=True)
class AssistantView:
    """An assistant with the ids of the practitioners it is limited to (empty: all of them)."""

    assistant: Assistant
    practitioner_ids: Sequence[uuid.UUID]
