"""Pharmacy routing in the core's own words: an invite made without any vendor code (as a console page
or the native API makes one), the rules of routing.py, and the rule names surfaces word their own way."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest

from clinicore.core.audit.service import Actor
from clinicore.core.models import Clinic, Meeting
from clinicore.core.telehealth import invites
from clinicore.core.telehealth.routing import (
    DeliveryMethod,
    PartnerRouting,
    PharmacyBills,
    PharmacyKind,
    PharmacyRouting,
    ProviderChoice,
    RetailPharmacy,
    RetailRouting,
)
from clinicore.core.telehealth.schemas import InviteRequest, InviteResult, PatientDetails
from clinicore.kit.errors import InvalidInput, NotFound
from clinicore.runtime import Runtime
from tests.factories import Catalog, create_catalog, create_clinic

CVS = RetailPharmacy(
    ncpdpid="3345678",
    name="CVS Pharmacy #1234",
    address_line_1="350 5th Ave",
    city="New York",
    state="ny",
    zip_code="10001",
    phone="+12125550111",
)


async def invite(
    runtime: Runtime, clinic: Clinic, exam_ids: list[int], routing: Any = None, **options: Any
) -> InviteResult:
    request = InviteRequest(
        exam_ids=exam_ids,
        patient=PatientDetails(
            first_name="Jane",
            last_name="Doe",
            email="jane@patients.example.com",
            phone="2125550100",
            dob=date(1990, 6, 30),
        ),
        tele_state="NY",
        routing=routing if routing is not None else PartnerRouting(),
        source="console",
        **options,
    )
    async with runtime.sessions() as session, session.begin():
        return await invites.invite_patient(
            session,
            clinic=clinic,
            request=request,
            box=runtime.box,
            links=runtime.links,
            allow_private_webhooks=True,
            test_provider_delay=timedelta(seconds=5),
            by=Actor.user(uuid.uuid4()),
            clock=runtime.clock,
        )


@pytest.fixture
async def arranged(runtime: Runtime) -> tuple[Clinic, Catalog]:
    clinic = (await create_clinic(runtime)).clinic
    return clinic, await create_catalog(runtime, clinic)


async def stored(runtime: Runtime, result: InviteResult) -> Meeting:
    async with runtime.sessions() as session:
        meeting = await session.get(Meeting, result.meeting.id)
    assert meeting is not None
    return meeting


class TestAnInviteWithoutVendorCodes:
    async def test_retail_routing_is_stored_in_core_words(
        self, runtime: Runtime, arranged: tuple[Clinic, Catalog]
    ) -> None:
        clinic, catalog = arranged
        routing = RetailRouting(
            pharmacy=CVS,
            skip_confirmation=True,
            pharmacy_bills=PharmacyBills.clinic,
            clinic_billing_reference="Glow Downtown",
            delivery=DeliveryMethod.pickup,
        )
        meeting = await stored(runtime, await invite(runtime, clinic, [catalog.glp1.id], routing))
        assert (meeting.pharmacy_routing, meeting.ncpdpid, meeting.pharmacy_state) == (
            "retail",
            "3345678",
            "NY",
        )
        assert (meeting.skip_pharmacy_confirmation, meeting.pharmacy_bills, meeting.delivery_method) == (
            True,
            "clinic",
            "pickup",
        )
        assert meeting.clinic_billing_reference == "Glow Downtown" and meeting.source == "console"

    async def test_skipping_the_confirmation_needs_every_pharmacy_field(
        self, runtime: Runtime, arranged: tuple[Clinic, Catalog]
    ) -> None:
        clinic, catalog = arranged
        partial = RetailPharmacy(ncpdpid="3345678", name="CVS Pharmacy #1234")
        routing = RetailRouting(pharmacy=partial, skip_confirmation=True)
        meeting = await stored(runtime, await invite(runtime, clinic, [catalog.glp1.id], routing))
        assert meeting.skip_pharmacy_confirmation is False

    async def test_a_retail_pharmacy_needs_its_ncpdpid_unless_the_patient_chooses(
        self, runtime: Runtime, arranged: tuple[Clinic, Catalog]
    ) -> None:
        clinic, catalog = arranged
        with pytest.raises(InvalidInput) as refused:
            await invite(runtime, clinic, [catalog.glp1.id], RetailRouting())
        assert (refused.value.field, refused.value.rule) == (
            "ncpdpid",
            "routing.retail_pharmacy_needs_ncpdpid",
        )
        chosen = await invite(runtime, clinic, [catalog.glp1.id], RetailRouting(patient_chooses=True))
        assert (await stored(runtime, chosen)).patient_chooses_pharmacy is True

    async def test_partner_routing_defaults_to_the_network(
        self, runtime: Runtime, arranged: tuple[Clinic, Catalog]
    ) -> None:
        clinic, catalog = arranged
        meeting = await stored(runtime, await invite(runtime, clinic, [catalog.glp1.id]))
        assert (meeting.pharmacy_routing, meeting.provider_chooses) == (PharmacyKind.partner, None)

    @pytest.mark.parametrize(
        ("routing", "field", "rule"),
        [
            (
                PartnerRouting(provider_chooses=ProviderChoice.nothing),
                "pharmacy_id",
                "routing.invite_names_both",
            ),
            (
                PartnerRouting(provider_chooses=ProviderChoice.order_set),
                "pharmacy_id",
                "routing.provider_picks_the_order_set",
            ),
            (
                PartnerRouting(pharmacy_id=101, provider_chooses=ProviderChoice.pharmacy_and_order_set),
                "pharmacy_id",
                "routing.provider_picks_both",
            ),
        ],
    )
    async def test_what_the_invite_must_name_follows_what_the_provider_chooses(
        self,
        runtime: Runtime,
        arranged: tuple[Clinic, Catalog],
        routing: PharmacyRouting,
        field: str,
        rule: str,
    ) -> None:
        clinic, catalog = arranged
        with pytest.raises(InvalidInput) as refused:
            await invite(runtime, clinic, [catalog.glp1.id], routing)
        assert (refused.value.field, refused.value.rule) == (field, rule)

    async def test_urgent_care_goes_to_a_retail_pharmacy(
        self, runtime: Runtime, arranged: tuple[Clinic, Catalog]
    ) -> None:
        clinic, catalog = arranged
        with pytest.raises(InvalidInput) as refused:
            await invite(runtime, clinic, [catalog.uti.id], PartnerRouting())
        assert refused.value.rule == "routing.urgent_care_needs_retail"
        assert refused.value.params == {"exam_title": "Urgent Care - UTI"}

    async def test_a_gfe_only_invite_never_reads_its_routing(
        self, runtime: Runtime, arranged: tuple[Clinic, Catalog]
    ) -> None:
        clinic, catalog = arranged

        def malformed() -> PharmacyRouting:
            raise AssertionError("a GFE-only invite read its routing")

        meeting = await stored(runtime, await invite(runtime, clinic, [catalog.botox.id], malformed))
        assert meeting.pharmacy_routing is None

    async def test_another_clinics_exam_is_not_offered(
        self, runtime: Runtime, arranged: tuple[Clinic, Catalog]
    ) -> None:
        _clinic, catalog = arranged
        other = (await create_clinic(runtime)).clinic
        with pytest.raises(NotFound) as refused:
            await invite(runtime, other, [catalog.botox.id])
        assert (refused.value.rule, refused.value.params) == (
            "telehealth.exam_not_offered",
            {"exam_id": catalog.botox.id},
        )
