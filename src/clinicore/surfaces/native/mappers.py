"""Pure functions from core objects to native wire models."""

from __future__ import annotations

from clinicore.core.models import ApiKey, ApiKeyKind, Clinic
from clinicore.surfaces.native.wire import ApiKeyCreated, ApiKeyPublic, ClinicPublic


def clinic_public(clinic: Clinic) -> ClinicPublic:
    return ClinicPublic(
        id=clinic.id,
        name=clinic.name,
        time_zone=clinic.time_zone,
        number=clinic.number,
        practice_id=clinic.practice_id,
    )


def api_key_public(key: ApiKey) -> ApiKeyPublic:
    return ApiKeyPublic(
        id=key.id,
        kind=ApiKeyKind(key.kind),
        name=key.name,
        prefix=key.prefix,
        created_at=key.created_at,
        last_used_at=key.last_used_at,
        revoked_at=key.revoked_at,
    )


def api_key_created(key: ApiKey, secret: str) -> ApiKeyCreated:
    return ApiKeyCreated(**api_key_public(key).model_dump(), secret=secret)
