"""Arrange a patient's visit and walk its meeting page through HTTP, as the patient's browser would."""

from __future__ import annotations

import dataclasses
import html
import re
import secrets
from collections.abc import Sequence
from typing import Any

import httpx

from clinicore.core.models import Clinic, Exam, Meeting, PatientExam
from clinicore.core.pharmacy import service as pharmacy_service
from clinicore.core.pharmacy.schemas import RetailPharmacyRecord
from clinicore.core.telehealth.invites import meeting_path
from clinicore.core.tenancy import service as tenancy_service
from clinicore.runtime import Runtime
from tests.factories import ArrangedMeeting, Catalog, create_catalog, create_clinic, create_meeting

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + secrets.token_bytes(64)


@dataclasses.dataclass
class ArrangedVisit:
    clinic: Clinic
    catalog: Catalog
    arranged: ArrangedMeeting
    url: str  # the meeting_url's path and query, as the invite gave it

    @property
    def meeting(self) -> Meeting:
        return self.arranged.meeting

    @property
    def patient_exams(self) -> list[PatientExam]:
        return self.arranged.patient_exams

    def at(self, suffix: str) -> str:
        path, _, query = self.url.partition("?")
        return f"{path}{suffix}?{query}"


async def branded_clinic(runtime: Runtime) -> tuple[Clinic, Catalog]:
    clinic = (await create_clinic(runtime, name=f"Glow Medspa {secrets.token_hex(3)}")).clinic
    async with runtime.sessions() as session, session.begin():
        stored = await tenancy_service.get_clinic(session, clinic.id)
        stored.brand_name = "Glow Aesthetics"
        stored.brand_color = "#7a3e9d"
        clinic = stored
    return clinic, await create_catalog(runtime, clinic)


async def arrange_visit(
    runtime: Runtime,
    exams: Sequence[str] = ("botox",),
    *,
    clinic: tuple[Clinic, Catalog] | None = None,
    **meeting: Any,
) -> ArrangedVisit:
    clinic_row, catalog = clinic or await branded_clinic(runtime)
    chosen: list[Exam] = [getattr(catalog, name) for name in exams]
    arranged = await create_meeting(runtime, clinic_row, chosen, **meeting)
    signed = runtime.links.sign(meeting_path(arranged.meeting.id))
    url = signed.removeprefix(runtime.links.base_url)
    return ArrangedVisit(clinic=clinic_row, catalog=catalog, arranged=arranged, url=url)


def csrf_of(page: httpx.Response) -> str:
    found = CSRF.search(page.text)
    assert found, "the page has no form"
    return html.unescape(found.group(1))


async def post(
    client: httpx.AsyncClient,
    visit: ArrangedVisit,
    suffix: str,
    data: dict[str, Any] | list[tuple[str, str]] | None = None,
    page: str | None = None,
    **kwargs: Any,
) -> httpx.Response:
    """Post a form of the page the patient is on (with that page's CSRF token); ``data`` as a list of
    pairs repeats a name (a multi-select)."""
    token = csrf_of(await client.get(page or visit.url))
    fields: dict[str, Any] = {"csrf_token": token}
    for name, value in data if isinstance(data, list) else (data or {}).items():
        if name in fields and name != "csrf_token":
            previous = fields[name]
            fields[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            fields[name] = value
    return await client.post(visit.at(suffix), data=fields, **kwargs)


async def consent(client: httpx.AsyncClient, visit: ArrangedVisit) -> httpx.Response:
    response = await post(client, visit, "/consent", {"consent": "yes"})
    assert response.status_code == 303, response.text
    return response


async def directory_pharmacy(runtime: Runtime, *, name: str = "Corner Drug") -> RetailPharmacyRecord:
    """A retail pharmacy of the directory with its own ZIP code (the directory is shared by tests)."""
    record = RetailPharmacyRecord(
        name=f"{name} {secrets.token_hex(3)}",
        ncpdpid=f"{secrets.randbelow(10**7):07d}",
        address_line_1="12 Main St",
        city="Albany",
        state="NY",
        zip_code=f"{secrets.randbelow(90000) + 10000}",
        phone="+15185550199",
        pharmacy_type="Retail",
    )
    async with runtime.sessions() as session, session.begin():
        await pharmacy_service.upsert_retail_pharmacies(session, records=[record], source="csv")
    return record
