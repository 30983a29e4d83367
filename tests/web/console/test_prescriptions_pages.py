"""Console pages for prescriptions to retail pharmacies: the list, one prescription, its printable PDF,
and "mark transmitted" (event 2), for the clinic's own prescriptions only."""

from __future__ import annotations

import dataclasses
import uuid

import httpx
import pytest
from sqlalchemy import select

from clinicore.core.models import AuditEntry, Event
from clinicore.runtime import Runtime
from tests.core.telehealth.prescribed import Prescribed, prescribed_exam
from tests.factories import (
    Catalog,
    ClinicFixture,
    create_catalog,
    create_clinic,
    create_partner_pharmacy,
    reload_exam,
)
from tests.web.console.pages import page_csrf, sign_in


@dataclasses.dataclass
class Console:
    runtime: Runtime
    clinic: ClinicFixture
    catalog: Catalog

    async def retail(self) -> Prescribed:
        return await prescribed_exam(self.runtime, self.clinic.clinic, self.catalog, pharmacy=None)


@pytest.fixture
async def console(runtime: Runtime, client: httpx.AsyncClient) -> Console:
    clinic = await create_clinic(runtime, name="Retail Medspa")
    assert (await sign_in(client, clinic.email, clinic.password)).status_code == 303
    return Console(runtime, clinic, await create_catalog(runtime, clinic.clinic))


def page_of(prescribed: Prescribed) -> str:
    return f"/console/prescriptions/{prescribed.prescription.id}"


async def event_types(runtime: Runtime, prescribed: Prescribed) -> list[str]:
    async with runtime.sessions() as session:
        result = await session.scalars(
            select(Event.type)
            .where(Event.aggregate_id == str(prescribed.created.meeting.id))
            .order_by(Event.sequence)
        )
        return list(result)


class TestTheList:
    async def test_retail_prescriptions_to_transmit_are_listed_with_a_nav_link(
        self, client: httpx.AsyncClient, console: Console
    ) -> None:
        retail = await console.retail()
        page = await client.get("/console/prescriptions")
        assert page.status_code == 200
        assert 'href="/console/prescriptions" aria-current="page"' in page.text
        to_transmit = page.text.split('data-testid="to-transmit"')[1].split("</table>")[0]
        assert f'data-prescription-id="{retail.prescription.id}"' in to_transmit
        assert "CVS Pharmacy #1234" in to_transmit

    async def test_another_clinics_and_partner_pharmacy_prescriptions_are_not_listed_nor_opened(
        self, client: httpx.AsyncClient, console: Console, runtime: Runtime
    ) -> None:
        other = await create_clinic(runtime, name="Other Retail Medspa")
        theirs = await prescribed_exam(
            runtime, other.clinic, await create_catalog(runtime, other.clinic), pharmacy=None
        )
        pharmacy = await create_partner_pharmacy(runtime, console.clinic.clinic, console.catalog.glp1)
        partner = await prescribed_exam(runtime, console.clinic.clinic, console.catalog, pharmacy=pharmacy)
        page = (await client.get("/console/prescriptions")).text
        for hidden in (theirs, partner):
            assert str(hidden.prescription.id) not in page
            assert (await client.get(page_of(hidden))).status_code == 404
            assert (await client.get(f"{page_of(hidden)}/prescription.pdf")).status_code == 404
        token = await page_csrf(client, "/console/prescriptions")
        response = await client.post(f"{page_of(theirs)}/transmitted", data={"csrf_token": token})
        assert response.status_code == 404
        assert (await reload_exam(runtime, theirs.created.patient_exam)).status == "prescribed"

    async def test_an_unknown_prescription_is_404(self, client: httpx.AsyncClient, console: Console) -> None:
        assert (await client.get(f"/console/prescriptions/{uuid.uuid4()}")).status_code == 404


class TestOnePrescription:
    async def test_the_printable_pdf_downloads_and_is_audited(
        self, client: httpx.AsyncClient, console: Console
    ) -> None:
        retail = await console.retail()
        page = await client.get(page_of(retail))
        assert page.status_code == 200
        assert f'href="{page_of(retail)}/prescription.pdf"' in page.text
        pdf = await client.get(f"{page_of(retail)}/prescription.pdf")
        assert pdf.status_code == 200
        assert pdf.headers["content-type"] == "application/pdf"
        assert pdf.headers["cache-control"] == "private, no-store"
        assert pdf.headers["content-disposition"].startswith("inline")
        assert pdf.content.startswith(b"%PDF")
        async with console.runtime.sessions() as session:
            actions = (
                await session.scalars(
                    select(AuditEntry.action).where(
                        AuditEntry.target_id == str(retail.prescription.id),
                        AuditEntry.actor_id == str(console.clinic.user.id),
                    )
                )
            ).all()
        assert set(actions) == {"prescription.viewed", "prescription.printed"}

    async def test_marking_transmitted_emits_event_2(
        self, client: httpx.AsyncClient, console: Console
    ) -> None:
        retail = await console.retail()
        page = page_of(retail)
        response = await client.post(
            f"{page}/transmitted", data={"csrf_token": await page_csrf(client, page)}
        )
        assert response.status_code == 303
        assert response.headers["location"] == f"{page}?notice=transmitted"
        assert (
            await reload_exam(console.runtime, retail.created.patient_exam)
        ).status == "confirmed_by_pharmacy"
        assert (await event_types(console.runtime, retail))[-1] == "prescription.confirmed"
        shown = (await client.get(response.headers["location"])).text
        assert 'data-testid="transmitted-at"' in shown and "Mark transmitted" not in shown
        listed = (await client.get("/console/prescriptions")).text
        assert str(retail.prescription.id) in listed.split('data-testid="transmitted"')[1]

    async def test_marking_twice_is_the_page_again_with_the_reason(
        self, client: httpx.AsyncClient, console: Console
    ) -> None:
        retail = await console.retail()
        page = page_of(retail)
        token = await page_csrf(client, page)
        assert (await client.post(f"{page}/transmitted", data={"csrf_token": token})).status_code == 303
        again = await client.post(f"{page}/transmitted", data={"csrf_token": token})
        assert again.status_code == 409
        assert "the pharmacy can confirm only a prescribed exam" in again.text
        assert (await event_types(console.runtime, retail)).count("prescription.confirmed") == 1

    async def test_marking_without_the_forms_token_is_rejected(
        self, client: httpx.AsyncClient, console: Console
    ) -> None:
        retail = await console.retail()
        response = await client.post(f"{page_of(retail)}/transmitted", data={"csrf_token": "forged"})
        assert response.status_code == 403
        assert (await reload_exam(console.runtime, retail.created.patient_exam)).status == "prescribed"

    async def test_signed_out_the_pages_send_to_sign_in(self, console: Console, app: object) -> None:
        retail = await console.retail()
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as anonymous:
            for url in ("/console/prescriptions", page_of(retail), f"{page_of(retail)}/prescription.pdf"):
                response = await anonymous.get(url)
                assert response.status_code == 303
                assert response.headers["location"].startswith("/login?next=/console/prescriptions")
