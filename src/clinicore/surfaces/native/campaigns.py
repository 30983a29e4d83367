"""Native API for dialers: record a call attempt and its outcome on a campaign contact."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from clinicore.core.crm import service as crm_service
from clinicore.core.models import AttemptOutcome
from clinicore.kit.errors import InvalidInput
from clinicore.kit.inputs import SupportedDateTime
from clinicore.requests import RuntimeDep, SessionDep
from clinicore.surfaces.native.auth import NativeKey

router = APIRouter()


class AttemptCreate(BaseModel):
    outcome: Literal["qualified", "not_interested", "no_answer", "callback_requested"]
    callback_at: SupportedDateTime | None = Field(default=None, description="Required for callback_requested")
    notes: str | None = Field(default=None, max_length=5000)


class CampaignContactPublic(BaseModel):
    id: uuid.UUID
    campaign_id: uuid.UUID
    status: Literal["pending", "qualified", "not_interested", "callback_requested", "exhausted"]
    attempts: int
    last_attempt_at: datetime | None
    callback_at: datetime | None
    updated_at: datetime


@router.post(
    "/campaign-contacts/{contact_id}/attempts",
    response_model=CampaignContactPublic,
    status_code=201,
    summary="Record a call attempt and its outcome",
)
async def record_attempt(
    contact_id: uuid.UUID, body: AttemptCreate, caller: NativeKey, session: SessionDep, runtime: RuntimeDep
) -> CampaignContactPublic:
    if body.callback_at is not None and body.callback_at.tzinfo is None:
        raise InvalidInput("callback_at: must include a time zone", field="callback_at")
    contact = await crm_service.record_attempt(
        session,
        clinic_id=caller.clinic.id,
        contact_id=contact_id,
        outcome=AttemptOutcome(body.outcome),
        callback_at=body.callback_at,
        notes=body.notes,
        recorded_by=f"api_key:{caller.key.id}",
        clock=runtime.clock,
    )
    return CampaignContactPublic.model_validate(contact, from_attributes=True)
