"""The demo practice's booking catalog: two services (``Follow Up`` seen by video), one location,
reminders a day ahead, and the
address of its public booking page (``web/book/``). Every practitioner offers every service, so the
practice's two practitioners are bookable on both. Nothing is made twice."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.models import Clinic
from clinicore.core.scheduling import catalog, reminders
from clinicore.core.scheduling.client_booking import get_widget_settings
from clinicore.core.scheduling.schemas import LocationInput, ServiceInput
from clinicore.runtime import Runtime

DEMO_SERVICES = (
    ServiceInput(name="Initial Consultation", duration_minutes=60, price=Decimal("150.00")),
    # A follow-up is seen by video: its appointments get a video room (docs/compat/intakeq.md).
    ServiceInput(name="Follow Up", duration_minutes=30, price=Decimal("75.00"), telehealth=True),
)
DEMO_LOCATION = LocationInput(
    name="Main Office",
    address_line_1="350 Fifth Avenue",
    address_line_2="Suite 4100",
    city="New York",
    state="NY",
    zip_code="10118",
)
DEMO_REMINDER_LEAD_MINUTES = 24 * 60


def booking_page_url(base_url: str, clinic: Clinic) -> str:
    return f"{base_url.rstrip('/')}/book/{clinic.practice_id}"


async def seed_booking_demo(session: AsyncSession, runtime: Runtime, clinic: Clinic) -> None:
    clock = runtime.clock
    services = {
        service.name
        for service in await catalog.list_services(session, clinic_id=clinic.id, include_inactive=True)
    }
    for service in DEMO_SERVICES:
        if service.name not in services:
            await catalog.create_service(session, clinic_id=clinic.id, data=service, clock=clock)
    locations = {
        location.name
        for location in await catalog.list_locations(session, clinic_id=clinic.id, include_inactive=True)
    }
    if DEMO_LOCATION.name not in locations:
        await catalog.create_location(session, clinic_id=clinic.id, data=DEMO_LOCATION, clock=clock)
    await reminders.set_reminder_lead(
        session, clinic_id=clinic.id, minutes=DEMO_REMINDER_LEAD_MINUTES, clock=clock
    )
    await get_widget_settings(session, clinic_id=clinic.id, clock=clock)
