"""A clinic's automatic invite notifications: whether an invite emails and texts the patient their
meeting link as soon as it is made (``Clinic.auto_invites``, read by ``telehealth.invites``). Off, the
clinic sends the link itself (the API answers it); a resend is an explicit request and is always sent."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.audit import service as audit_service
from clinicore.core.audit.service import Actor
from clinicore.core.tenancy import service as tenancy_service
from clinicore.kit.clock import Clock, system_clock


async def invites_notify_patients(session: AsyncSession, *, clinic_id: uuid.UUID) -> bool:
    return (await tenancy_service.get_clinic(session, clinic_id)).auto_invites


async def set_invite_notifications(
    session: AsyncSession, *, clinic_id: uuid.UUID, enabled: bool, actor: Actor, clock: Clock = system_clock
) -> bool:
    """Turn automatic invite emails and SMS on or off; True when it changed anything."""
    clinic = await tenancy_service.get_clinic(session, clinic_id)
    if clinic.auto_invites == enabled:
        return False
    clinic.auto_invites = enabled
    clinic.updated_at = clock.now()
    await audit_service.record(
        session,
        clinic_id=clinic_id,
        actor=actor,
        action="clinic.invite_notifications_on" if enabled else "clinic.invite_notifications_off",
        target_type="clinic",
        target_id=clinic_id,
        clock=clock,
    )
    await session.flush()
    return True
