"""The native API's JSON models (our own API, snake_case)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from clinicore.core.models import ApiKeyKind


class Error(BaseModel):
    error: str
    message: str


class ClinicPublic(BaseModel):
    id: uuid.UUID
    name: str
    time_zone: str
    number: int = Field(description="Qualiphy clinic_id")
    practice_id: str = Field(description="IntakeQ practice Id")


class ApiKeyPublic(BaseModel):
    id: uuid.UUID
    kind: ApiKeyKind
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreate(BaseModel):
    kind: ApiKeyKind
    name: str = Field(default="", max_length=200)


class ApiKeyCreated(ApiKeyPublic):
    secret: str = Field(description="The full key. Hashed kinds are never shown again.")


class Me(BaseModel):
    clinic: ClinicPublic
    key: ApiKeyPublic
