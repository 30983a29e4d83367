"""The demo practice's booking catalog: two services with prices, one location with an address, reminders
a day ahead, made once however often the demo runs, and bookable on its public page."""

from __future__ import annotations

from decimal import Decimal

import httpx

from clinicore.cli.demo_booking import booking_page_url, seed_booking_demo
from clinicore.core.scheduling import catalog
from clinicore.core.scheduling import settings as settings_service
from clinicore.runtime import Runtime
from tests.factories import create_clinic, create_practitioner


async def test_the_demo_catalog_is_made_once_and_offered_on_the_booking_page(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    arranged = await create_clinic(runtime)
    await create_practitioner(runtime, arranged.clinic, name="Dr. Maya Chen")
    await create_practitioner(runtime, arranged.clinic, name="Dr. Luis Ortega")

    for _ in range(2):
        async with runtime.sessions() as session, session.begin():
            await seed_booking_demo(session, runtime, arranged.clinic)

    async with runtime.sessions() as session:
        services = await catalog.list_services(session, clinic_id=arranged.clinic.id, include_inactive=True)
        locations = await catalog.list_locations(session, clinic_id=arranged.clinic.id, include_inactive=True)
        settings = await settings_service.get_booking_settings(session, clinic_id=arranged.clinic.id)
    assert sorted((s.name, s.duration_minutes, s.price) for s in services) == [
        ("Follow Up", 30, Decimal("75.00")),
        ("Initial Consultation", 60, Decimal("150.00")),
    ]
    [office] = locations
    assert office.name == "Main Office"
    assert catalog.location_address(office).startswith("350 Fifth Avenue")
    assert settings.reminder_lead_minutes == 24 * 60
    url = booking_page_url("http://127.0.0.1:8000/", arranged.clinic)
    assert url == f"http://127.0.0.1:8000/book/{arranged.clinic.practice_id}"
    page = await client.get(f"/book/{arranged.clinic.practice_id}")
    assert page.status_code == 200
    for text in ("Initial Consultation · 60 min · 150.00", "Follow Up · 30 min · 75.00", "Main Office"):
        assert text in page.text
    assert "Dr. Maya Chen" in page.text and "Dr. Luis Ortega" in page.text
