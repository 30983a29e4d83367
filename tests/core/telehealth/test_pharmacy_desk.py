"""The pharmacy desk in the core: a pharmacy user sees and acts on their own pharmacy's prescriptions
only, never a test exam's; confirming emits event 2 and shipping event 3, each audited; the clinic
marks a retail prescription transmitted (event 2) and prints it."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from clinicore.core.audit.service import Actor
from clinicore.core.models import AuditEntry, Clinic, Event, PharmacyUser
from clinicore.core.telehealth import pharmacy_desk, prescription_document
from clinicore.kit.clock import FrozenClock
from clinicore.kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from clinicore.runtime import Runtime
from clinicore.worker.loop import DEFAULT_JOBS
from tests.core.telehealth.prescribed import (
    DeskPharmacyUser,
    Prescribed,
    confirmed_test_exam,
    create_pharmacy_user,
    prescribed_exam,
)
from tests.factories import (
    ArrangedPharmacy,
    Catalog,
    create_catalog,
    create_clinic,
    create_partner_pharmacy,
    reload_exam,
)

START = datetime(2031, 5, 5, 14, 0, tzinfo=UTC)


@dataclasses.dataclass
class Arranged:
    runtime: Runtime
    clock: FrozenClock
    clinic: Clinic
    catalog: Catalog
    pharmacy: ArrangedPharmacy
    user: DeskPharmacyUser

    async def prescribed(self, **meeting: object) -> Prescribed:
        return await prescribed_exam(
            self.runtime, self.clinic, self.catalog, pharmacy=self.pharmacy, **meeting
        )

    async def retail(self) -> Prescribed:
        return await prescribed_exam(self.runtime, self.clinic, self.catalog, pharmacy=None)

    async def confirm(self, prescribed: Prescribed, user: DeskPharmacyUser | None = None) -> None:
        async with self.runtime.sessions() as session, session.begin():
            await pharmacy_desk.confirm(
                session,
                pharmacy_user_id=(user or self.user).user.id,
                prescription_id=prescribed.prescription.id,
                links=self.runtime.links,
                clock=self.clock,
            )

    async def ship(self, prescribed: Prescribed, **shipment: str) -> None:
        async with self.runtime.sessions() as session, session.begin():
            await pharmacy_desk.ship(
                session,
                pharmacy_user_id=self.user.user.id,
                prescription_id=prescribed.prescription.id,
                links=self.runtime.links,
                clock=self.clock,
                **({"carrier": "UPS", "tracking_number": "1Z999AA10123456784"} | shipment),
            )

    async def queues(self, user: DeskPharmacyUser | None = None) -> pharmacy_desk.PharmacyQueues:
        async with self.runtime.sessions() as session:
            return await pharmacy_desk.pharmacy_queues(
                session, pharmacy_user_id=(user or self.user).user.id, clock=self.clock
            )


@pytest.fixture
async def arranged(runtime: Runtime) -> Arranged:
    clock = FrozenClock(START)
    frozen = dataclasses.replace(runtime, clock=clock)
    clinic = (await create_clinic(frozen, name="Pharmacy Medspa")).clinic
    catalog = await create_catalog(frozen, clinic)
    pharmacy = await create_partner_pharmacy(frozen, clinic, catalog.glp1)
    return Arranged(frozen, clock, clinic, catalog, pharmacy, await create_pharmacy_user(frozen, pharmacy))


def listed(entries: object) -> list[uuid.UUID]:
    return [entry.prescription.id for entry in entries]  # type: ignore[attr-defined]


async def event_types(runtime: Runtime, prescribed: Prescribed) -> list[str]:
    async with runtime.sessions() as session:
        result = await session.scalars(
            select(Event.type)
            .where(Event.aggregate_id == str(prescribed.created.meeting.id))
            .order_by(Event.sequence)
        )
        return list(result)


async def audit_actions(runtime: Runtime, prescribed: Prescribed) -> list[tuple[str, str, str | None]]:
    async with runtime.sessions() as session:
        entries = await session.scalars(
            select(AuditEntry)
            .where(AuditEntry.target_id == str(prescribed.prescription.id))
            .order_by(AuditEntry.occurred_at, AuditEntry.action)
        )
        return [(entry.action, entry.actor_type, entry.actor_id) for entry in entries]


class TestTheDesk:
    async def test_the_pharmacy_sees_its_own_prescriptions_to_confirm_oldest_first(
        self, arranged: Arranged
    ) -> None:
        first = await arranged.prescribed()
        arranged.clock.advance(timedelta(minutes=5))
        second = await arranged.prescribed()
        elsewhere = await create_partner_pharmacy(
            arranged.runtime, arranged.clinic, arranged.catalog.glp1, name="Other Pharmacy"
        )
        theirs = await prescribed_exam(
            arranged.runtime, arranged.clinic, arranged.catalog, pharmacy=elsewhere
        )
        retail = await arranged.retail()
        queues = await arranged.queues()
        assert queues.pharmacy.id == arranged.pharmacy.pharmacy.id
        assert listed(queues.to_confirm) == [first.prescription.id, second.prescription.id]
        assert queues.to_ship == [] and queues.shipped == []
        ids = listed(queues.to_confirm)
        assert theirs.prescription.id not in ids and retail.prescription.id not in ids

    async def test_a_test_exams_prescription_never_reaches_the_desk(self, arranged: Arranged) -> None:
        test_exam = await confirmed_test_exam(
            arranged.runtime, arranged.clock, arranged.clinic, arranged.catalog, arranged.pharmacy
        )
        queues = await arranged.queues()
        assert test_exam.prescription.id not in listed([*queues.to_confirm, *queues.to_ship, *queues.shipped])
        async with arranged.runtime.sessions() as session:
            with pytest.raises(NotFound):
                await pharmacy_desk.open_prescription(
                    session,
                    pharmacy_user_id=arranged.user.user.id,
                    prescription_id=test_exam.prescription.id,
                )

    async def test_confirmed_then_shipped_prescriptions_move_down_the_lists(self, arranged: Arranged) -> None:
        prescribed = await arranged.prescribed()
        await arranged.confirm(prescribed)
        assert listed((await arranged.queues()).to_ship) == [prescribed.prescription.id]
        await arranged.ship(prescribed)
        queues = await arranged.queues()
        assert listed(queues.shipped) == [prescribed.prescription.id]
        assert queues.to_confirm == [] and queues.to_ship == []
        arranged.clock.advance(pharmacy_desk.RECENTLY_SHIPPED + timedelta(minutes=1))
        assert (await arranged.queues()).shipped == []

    async def test_an_inactive_pharmacy_user_is_refused(self, arranged: Arranged) -> None:
        async with arranged.runtime.sessions() as session, session.begin():
            user = await session.get(PharmacyUser, arranged.user.user.id)
            assert user is not None
            user.is_active = False
        with pytest.raises(Forbidden):
            await arranged.queues()


class TestOpeningAPrescription:
    async def test_opening_shows_the_order_and_is_audited(self, arranged: Arranged) -> None:
        prescribed = await arranged.prescribed()
        async with arranged.runtime.sessions() as session, session.begin():
            opened = await pharmacy_desk.open_prescription(
                session,
                pharmacy_user_id=arranged.user.user.id,
                prescription_id=prescribed.prescription.id,
                clock=arranged.clock,
            )
        assert opened.to_confirm and not opened.to_ship and not opened.to_retail_pharmacy
        assert [item.drug_name for item in opened.items] == ["Semaglutide", "Ondansetron"]
        assert (
            opened.prescriber_licence is not None and opened.prescriber_licence.license_number == "NY-123456"
        )
        assert await audit_actions(arranged.runtime, prescribed) == [
            ("prescription.viewed", "pharmacy_user", str(arranged.user.user.id))
        ]

    async def test_another_pharmacys_prescription_is_forbidden(self, arranged: Arranged) -> None:
        elsewhere = await create_partner_pharmacy(
            arranged.runtime, arranged.clinic, arranged.catalog.glp1, name="Other Pharmacy"
        )
        theirs = await prescribed_exam(
            arranged.runtime, arranged.clinic, arranged.catalog, pharmacy=elsewhere
        )
        async with arranged.runtime.sessions() as session:
            with pytest.raises(Forbidden):
                await pharmacy_desk.open_prescription(
                    session, pharmacy_user_id=arranged.user.user.id, prescription_id=theirs.prescription.id
                )
        with pytest.raises(Forbidden):
            await arranged.confirm(theirs)
        assert (await reload_exam(arranged.runtime, theirs.created.patient_exam)).status == "prescribed"

    async def test_an_unknown_prescription_is_not_found(self, arranged: Arranged) -> None:
        async with arranged.runtime.sessions() as session:
            with pytest.raises(NotFound):
                await pharmacy_desk.open_prescription(
                    session, pharmacy_user_id=arranged.user.user.id, prescription_id=uuid.uuid4()
                )


class TestConfirmingAndShipping:
    async def test_confirming_emits_event_2_and_is_audited(self, arranged: Arranged) -> None:
        prescribed = await arranged.prescribed()
        await arranged.confirm(prescribed)
        assert (await reload_exam(arranged.runtime, prescribed.created.patient_exam)).status == (
            "confirmed_by_pharmacy"
        )
        assert (await event_types(arranged.runtime, prescribed))[-1] == "prescription.confirmed"
        assert ("prescription.confirmed", "pharmacy_user", str(arranged.user.user.id)) in await audit_actions(
            arranged.runtime, prescribed
        )

    async def test_confirming_twice_is_a_conflict(self, arranged: Arranged) -> None:
        prescribed = await arranged.prescribed()
        await arranged.confirm(prescribed)
        with pytest.raises(Conflict):
            await arranged.confirm(prescribed)
        assert (await event_types(arranged.runtime, prescribed)).count("prescription.confirmed") == 1

    async def test_shipping_emits_event_3_with_carrier_and_tracking(self, arranged: Arranged) -> None:
        prescribed = await arranged.prescribed()
        await arranged.confirm(prescribed)
        await arranged.ship(prescribed, carrier=" USPS ", tracking_number="9400 1000 0000 0000 0000 00")
        assert (await reload_exam(arranged.runtime, prescribed.created.patient_exam)).status == "shipped"
        async with arranged.runtime.sessions() as session:
            event = await session.scalar(
                select(Event).where(
                    Event.aggregate_id == str(prescribed.created.meeting.id),
                    Event.type == "prescription.shipped",
                )
            )
        assert event is not None
        [shipment] = event.payload["shipments"]
        assert (shipment["carrier"], shipment["delivery_service"], shipment["tracking_number"]) == (
            "USPS",
            "USPS",
            "9400 1000 0000 0000 0000 00",
        )
        assert ("prescription.shipped", "pharmacy_user", str(arranged.user.user.id)) in await audit_actions(
            arranged.runtime, prescribed
        )

    async def test_shipping_before_confirming_is_a_conflict(self, arranged: Arranged) -> None:
        prescribed = await arranged.prescribed()
        with pytest.raises(Conflict):
            await arranged.ship(prescribed)
        assert (await reload_exam(arranged.runtime, prescribed.created.patient_exam)).status == "prescribed"

    @pytest.mark.parametrize(
        ("shipment", "message"),
        [
            ({"tracking_number": "  "}, "tracking_number: must not be empty"),
            ({"carrier": ""}, "carrier: must not be empty"),
            ({"carrier": "C" * 51}, "carrier: at most 50 characters"),
            ({"tracking_number": "1" * 101}, "tracking_number: at most 100 characters"),
        ],
    )
    async def test_a_shipment_without_its_details_is_refused(
        self, arranged: Arranged, shipment: dict[str, str], message: str
    ) -> None:
        prescribed = await arranged.prescribed()
        await arranged.confirm(prescribed)
        with pytest.raises(InvalidInput) as refused:
            await arranged.ship(prescribed, **shipment)
        assert refused.value.message == message
        assert "prescription.shipped" not in await event_types(arranged.runtime, prescribed)


class TestRetailPrescriptions:
    async def test_the_clinic_lists_them_to_transmit_never_another_clinics(self, arranged: Arranged) -> None:
        retail = await arranged.retail()
        partner = await arranged.prescribed()
        other = await create_clinic(arranged.runtime, name="Other Medspa")
        async with arranged.runtime.sessions() as session:
            mine = await pharmacy_desk.retail_queues(
                session, clinic_id=arranged.clinic.id, clock=arranged.clock
            )
            theirs = await pharmacy_desk.retail_queues(
                session, clinic_id=other.clinic.id, clock=arranged.clock
            )
        assert retail.prescription.id in listed(mine.to_transmit)
        assert partner.prescription.id not in listed(mine.to_transmit)
        assert theirs.to_transmit == []

    async def test_marking_transmitted_is_the_pharmacys_confirmation_by_the_staff_member(
        self, arranged: Arranged
    ) -> None:
        retail = await arranged.retail()
        staff = Actor.user(uuid.uuid4())
        async with arranged.runtime.sessions() as session, session.begin():
            await pharmacy_desk.mark_transmitted(
                session,
                clinic_id=arranged.clinic.id,
                prescription_id=retail.prescription.id,
                actor=staff,
                links=arranged.runtime.links,
                clock=arranged.clock,
            )
        assert (
            await reload_exam(arranged.runtime, retail.created.patient_exam)
        ).status == "confirmed_by_pharmacy"
        assert (await event_types(arranged.runtime, retail))[-1] == "prescription.confirmed"
        assert ("prescription.transmitted", "user", staff.id) in await audit_actions(arranged.runtime, retail)
        async with arranged.runtime.sessions() as session:
            queues = await pharmacy_desk.retail_queues(
                session, clinic_id=arranged.clinic.id, clock=arranged.clock
            )
        assert listed(queues.transmitted)[0] == retail.prescription.id
        assert retail.prescription.id not in listed(queues.to_transmit)

    async def test_another_clinics_or_a_partner_pharmacys_prescription_is_not_found(
        self, arranged: Arranged
    ) -> None:
        retail = await arranged.retail()
        partner = await arranged.prescribed()
        other = await create_clinic(arranged.runtime, name="Other Medspa")
        for clinic_id, prescribed in ((other.clinic.id, retail), (arranged.clinic.id, partner)):
            async with arranged.runtime.sessions() as session:
                with pytest.raises(NotFound):
                    await pharmacy_desk.mark_transmitted(
                        session,
                        clinic_id=clinic_id,
                        prescription_id=prescribed.prescription.id,
                        actor=Actor.user(uuid.uuid4()),
                        links=arranged.runtime.links,
                        clock=arranged.clock,
                    )
        assert (await reload_exam(arranged.runtime, retail.created.patient_exam)).status == "prescribed"

    async def test_the_printable_prescription_names_patient_prescriber_pharmacy_and_items(
        self, arranged: Arranged
    ) -> None:
        retail = await arranged.retail()
        async with arranged.runtime.sessions() as session, session.begin():
            opened = await pharmacy_desk.open_retail_prescription(
                session,
                clinic_id=arranged.clinic.id,
                prescription_id=retail.prescription.id,
                actor=Actor.user(uuid.uuid4()),
                to_print=True,
                clock=arranged.clock,
            )
        pdf = prescription_document.render_prescription_pdf(opened, compress=False)
        assert pdf.startswith(b"%PDF")
        for text in (
            b"Jane Doe",
            b"Dr. Ana Rivera, MD",
            b"NY NY-123456",
            b"CVS Pharmacy #1234",
            b"Nitrofurantoin",
        ):
            assert text in pdf
        assert b"Sig: One capsule by mouth twice a day for 5 days." in pdf
        assert [action for action, *_ in await audit_actions(arranged.runtime, retail)] == [
            "prescription.printed"
        ]


class TestPharmacyUsers:
    async def test_an_email_names_one_pharmacy_user(self, arranged: Arranged) -> None:
        async with arranged.runtime.sessions() as session:
            with pytest.raises(Conflict):
                await pharmacy_desk.create_pharmacy_user(
                    session,
                    pharmacy_id=arranged.pharmacy.pharmacy.id,
                    name="Twin",
                    email=arranged.user.email.upper(),
                    password="long enough password",
                )
            found = await pharmacy_desk.pharmacy_user_by_email(session, email=arranged.user.email.upper())
        assert found is not None and found.id == arranged.user.user.id


def test_the_worker_purges_expired_desk_sessions() -> None:
    assert "desk_session.purge" in {job.name for job in DEFAULT_JOBS}
