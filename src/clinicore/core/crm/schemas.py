"""Typed inputs of the CRM use cases (surfaces and pages build them)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from clinicore.core.models import LeadSource
from clinicore.kit.inputs import NOT_GIVEN, Given


@dataclass(frozen=True, slots=True)
class LeadInput:
    """A lead to create, or to update when ``(external_source, external_id)`` names an existing one.

    A field left ``NOT_GIVEN`` is not written (an update keeps the lead's value, a create leaves it empty);
    ``None`` given clears it. ``external_source`` and ``external_id`` identify the lead and come together.
    """

    full_name: Given[str | None] = NOT_GIVEN
    phone: Given[str | None] = NOT_GIVEN
    email: Given[str | None] = NOT_GIVEN
    country: Given[str | None] = NOT_GIVEN
    city: Given[str | None] = NOT_GIVEN
    language: Given[str | None] = NOT_GIVEN
    treatment_interest: Given[str | None] = NOT_GIVEN
    notes: Given[str | None] = NOT_GIVEN
    source: Given[LeadSource | None] = NOT_GIVEN
    agent_id: Given[uuid.UUID | None] = NOT_GIVEN
    external_metadata: Given[Mapping[str, Any] | None] = NOT_GIVEN
    external_source: str | None = None
    external_id: str | None = None

    def given(self) -> dict[str, Any]:
        """The lead fields given, by name (the identifying pair excluded)."""
        return {
            field.name: getattr(self, field.name)
            for field in fields(self)
            if field.name not in ("external_source", "external_id")
            and getattr(self, field.name) is not NOT_GIVEN
        }
