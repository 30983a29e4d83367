"""A partner's practice (made as the partner API makes one) with a console user who signs in with a
password, and what its staff pages need arranged through the core."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import time, timedelta

from clinicore.core.models import Appointment, Client, Clinic, Practitioner
from clinicore.core.people import service as people_service
from clinicore.core.scheduling import booking, hours
from clinicore.core.scheduling.availability import LocalRange
from clinicore.core.scheduling.schemas import BookingRequest
from clinicore.core.staff import roles
from clinicore.core.staff.roles import Permissions
from clinicore.core.tenancy import practices
from clinicore.core.tenancy import service as tenancy_service
from clinicore.core.tenancy.practices import PracticeDetails
from clinicore.runtime import Runtime
from tests.support import remember_secret


@dataclass
class PracticeWithUser:
    clinic: Clinic
    partner_id: uuid.UUID
    main: Practitioner
    email: str
    password: str


async def practice_with_user(runtime: Runtime, *, roles_named: tuple[str, ...] = ()) -> PracticeWithUser:
    """A practice of a new partner (whose master roles are ``roles_named``, besides Administrator), with a
    console user."""
    suffix = secrets.token_hex(4)
    email, password = f"user-{suffix}@practice.example", remember_secret(f"pw-{secrets.token_urlsafe(12)}")
    async with runtime.sessions() as session, session.begin():
        partner = await tenancy_service.create_partner(session, name=f"Partner {suffix}")
        for name in roles_named:
            await roles.define_role(
                session, partner_id=partner.id, name=name, permissions=Permissions(send_forms=True)
            )
        made = await practices.create_practice(
            session,
            box=runtime.box,
            partner=partner,
            details=PracticeDetails(
                name=f"Practice {suffix}",
                first_name="John",
                last_name="Smith",
                email=f"main-{suffix}@practice.example",
            ),
        )
        await tenancy_service.create_user(
            session, clinic_id=made.clinic.id, email=email, name="Admin", password=password
        )
    assert made.main is not None
    return PracticeWithUser(
        clinic=made.clinic, partner_id=partner.id, main=made.main, email=email, password=password
    )


async def give_client(runtime: Runtime, clinic: Clinic, practitioner_id: uuid.UUID) -> Client:
    async with runtime.sessions() as session, session.begin():
        client = await people_service.client_for_contact(
            session,
            clinic_id=clinic.id,
            full_name="Rita Bennett",
            email=f"rita-{secrets.token_hex(3)}@example.com",
            phone=None,
        )
        client.practitioner_id = practitioner_id
    return client


async def book(
    runtime: Runtime, clinic: Clinic, practitioner_id: uuid.UUID, *, hour: int = 15
) -> Appointment:
    """An appointment with the practitioner two days ahead (booking on, every hour open)."""
    async with runtime.sessions() as session, session.begin():
        found = await tenancy_service.get_clinic(session, clinic.id)
        found.booking_enabled = True
        await hours.set_weekly_hours(
            session,
            clinic_id=clinic.id,
            practitioner_id=practitioner_id,
            weekly={day: [LocalRange(time(0), time(0))] for day in range(7)},
        )
        day = runtime.clock.now() + timedelta(days=2)
        return await booking.book_appointment(
            session,
            clinic_id=clinic.id,
            request=BookingRequest(
                starts_at=day.replace(hour=hour, minute=0, second=0, microsecond=0),
                title="Visit",
                practitioner_id=practitioner_id,
            ),
            source="console",
        )
