"""Staff rules in the core: roles by name, external ids, the main practitioner, whom an assistant acts
for, and the transfers' events."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import select

from clinicore.core.models import Clinic, Event
from clinicore.core.scheduling import booking, hours
from clinicore.core.scheduling.availability import LocalRange
from clinicore.core.scheduling.schemas import BookingRequest
from clinicore.core.staff import roles
from clinicore.core.staff import service as staff_service
from clinicore.core.staff.schemas import AssistantDetails, PractitionerDetails
from clinicore.core.tenancy import service as tenancy_service
from clinicore.kit.errors import Conflict, InvalidInput, NotFound
from clinicore.runtime import Runtime
from tests.factories import create_clinic


def someone(**values: object) -> PractitionerDetails:
    fields = {
        "first_name": "Dexter",
        "last_name": "Morgan",
        "email": f"d-{secrets.token_hex(3)}@x.example",
    } | values
    return PractitionerDetails(**fields)  # type: ignore[arg-type]


async def partner_clinic(runtime: Runtime) -> Clinic:
    async with runtime.sessions() as session, session.begin():
        partner = await tenancy_service.create_partner(session, name=f"P {secrets.token_hex(4)}")
        return await tenancy_service.create_clinic(
            session, name="Clinic", time_zone="America/New_York", partner_id=partner.id
        )


class TestRoles:
    async def test_administrator_always_exists_and_may_do_everything(self, runtime: Runtime) -> None:
        clinic = (await create_clinic(runtime)).clinic  # no partner: Administrator only
        async with runtime.sessions() as session:
            role = await roles.role_for(session, clinic=clinic, name="administrator")
            assert (role.name, role.permissions) == ("Administrator", roles.Permissions.everything())
            assert (await roles.role_for(session, clinic=clinic, name=None)).name == "Administrator"
            with pytest.raises(InvalidInput) as refused:
                await roles.role_for(session, clinic=clinic, name="Front Desk")
            assert refused.value.field == "role_name"
            assert [r.name for r in await roles.list_roles(session, partner_id=None)] == ["Administrator"]

    async def test_a_partner_defines_its_roles_by_name_with_permissions(self, runtime: Runtime) -> None:
        clinic = await partner_clinic(runtime)
        assert clinic.partner_id is not None
        desk = roles.Permissions(send_forms=True, book=True)
        async with runtime.sessions() as session, session.begin():
            await roles.define_role(
                session, partner_id=clinic.partner_id, name="Front Desk", permissions=desk
            )
            with pytest.raises(InvalidInput):
                await roles.define_role(
                    session, partner_id=clinic.partner_id, name="Administrator", permissions=desk
                )
        async with runtime.sessions() as session:
            role = await roles.role_for(session, clinic=clinic, name="FRONT DESK")
            listed = await roles.list_roles(session, partner_id=clinic.partner_id)
        assert (role.name, role.permissions) == ("Front Desk", desk)
        assert [r.name for r in listed] == ["Administrator", "Front Desk"]


class TestPractitioners:
    async def test_references_are_our_id_or_the_external_id_of_this_clinic_only(
        self, runtime: Runtime
    ) -> None:
        clinic, other = await partner_clinic(runtime), await partner_clinic(runtime)
        async with runtime.sessions() as session, session.begin():
            made = await staff_service.create_practitioner(
                session, clinic=clinic, details=someone(external_id="e1")
            )
            for reference in (str(made.id), made.id.hex, "e1"):
                found = await staff_service.practitioner_by_reference(
                    session, clinic_id=clinic.id, reference=reference
                )
                assert found.id == made.id
            with pytest.raises(Exception, match="practitioner not found"):
                await staff_service.practitioner_by_reference(
                    session, clinic_id=other.id, reference=made.id.hex
                )

    async def test_the_main_practitioner_stays(self, runtime: Runtime) -> None:
        clinic = await partner_clinic(runtime)
        async with runtime.sessions() as session, session.begin():
            main = await staff_service.create_practitioner(
                session, clinic=clinic, details=someone(), is_main=True
            )
            for action in (
                staff_service.set_practitioner_active(
                    session, clinic_id=clinic.id, reference=main.id.hex, active=False
                ),
                staff_service.delete_practitioner(session, clinic_id=clinic.id, reference=main.id.hex),
            ):
                with pytest.raises(InvalidInput, match="main practitioner"):
                    await action

    async def test_transfer_data_moves_appointments_with_an_event_each(self, runtime: Runtime) -> None:
        clinic = await partner_clinic(runtime)
        async with runtime.sessions() as session, session.begin():
            leaving = await staff_service.create_practitioner(session, clinic=clinic, details=someone())
            staying = await staff_service.create_practitioner(session, clinic=clinic, details=someone())
            await hours.set_weekly_hours(
                session,
                clinic_id=clinic.id,
                practitioner_id=leaving.id,
                weekly={day: [LocalRange(time(0), time(0))] for day in range(7)},
            )
            starts_at = (datetime.now(UTC) + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
            appointment = await booking.book_appointment(
                session,
                clinic_id=clinic.id,
                request=BookingRequest(starts_at=starts_at, title="Visit", practitioner_id=leaving.id),
                source="test",
            )
            moved = await staff_service.transfer_client_data(
                session, clinic_id=clinic.id, source=leaving.id.hex, destination=staying.id.hex
            )
            assert moved == (0, 1)
            assert (appointment.practitioner_id, appointment.version) == (staying.id, 2)
        async with runtime.sessions() as session:
            types = (
                await session.scalars(
                    select(Event.type)
                    .where(Event.aggregate_id == str(appointment.id))
                    .order_by(Event.sequence)
                )
            ).all()
        assert list(types) == ["appointment.created", "appointment.updated"]

    async def test_reassigning_refuses_overlaps(self, runtime: Runtime) -> None:
        clinic = await partner_clinic(runtime)
        async with runtime.sessions() as session, session.begin():
            clinic_row = await tenancy_service.get_clinic(session, clinic.id)
            clinic_row.booking_enabled = True
            one = await staff_service.create_practitioner(session, clinic=clinic, details=someone())
            two = await staff_service.create_practitioner(session, clinic=clinic, details=someone())
            starts_at = (datetime.now(UTC) + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
            for practitioner in (one, two):
                await hours.set_weekly_hours(
                    session,
                    clinic_id=clinic.id,
                    practitioner_id=practitioner.id,
                    weekly={day: [LocalRange(time(0), time(0))] for day in range(7)},
                )
                await booking.book_appointment(
                    session,
                    clinic_id=clinic.id,
                    request=BookingRequest(
                        starts_at=starts_at + timedelta(minutes=15 if practitioner is two else 0),
                        title="Visit",
                        practitioner_id=practitioner.id,
                    ),
                    source="test",
                )
            with pytest.raises(Conflict):
                await booking.reassign_appointments(
                    session, clinic_id=clinic.id, from_practitioner_id=one.id, to_practitioner_id=two.id
                )


class TestAssistants:
    async def test_an_assistant_acts_for_its_practitioners_or_for_all(self, runtime: Runtime) -> None:
        clinic = await partner_clinic(runtime)
        async with runtime.sessions() as session, session.begin():
            one = await staff_service.create_practitioner(
                session, clinic=clinic, details=someone(external_id="one")
            )
            two = await staff_service.create_practitioner(session, clinic=clinic, details=someone())
            limited = await staff_service.create_assistant(
                session,
                clinic=clinic,
                details=AssistantDetails(name="Limited", email="l@x.example", practitioners=["one"]),
            )
            everyone = await staff_service.create_assistant(
                session, clinic=clinic, details=AssistantDetails(name="All", email="a@x.example")
            )
            seen = await staff_service.practitioners_for_assistant(
                session, clinic_id=clinic.id, reference=limited.assistant.id.hex
            )
            assert [p.id for p in seen] == [one.id]
            seen = await staff_service.practitioners_for_assistant(
                session, clinic_id=clinic.id, reference=everyone.assistant.id.hex
            )
            assert {p.id for p in seen} == {one.id, two.id}

    async def test_one_assistant_by_our_id_only_in_its_own_clinic(self, runtime: Runtime) -> None:
        clinic, other = await partner_clinic(runtime), await partner_clinic(runtime)
        async with runtime.sessions() as session, session.begin():
            one = await staff_service.create_practitioner(session, clinic=clinic, details=someone())
            made = await staff_service.create_assistant(
                session,
                clinic=clinic,
                details=AssistantDetails(
                    name="Deb", email="deb@x.example", practitioners=[str(one.id)], external_id="deb-1"
                ),
            )
            await staff_service.disable_assistant(
                session, clinic_id=clinic.id, reference=str(made.assistant.id)
            )
            found = await staff_service.get_assistant(
                session, clinic_id=clinic.id, assistant_id=made.assistant.id
            )
            assert found.assistant.id == made.assistant.id and found.practitioner_ids == [one.id]
            assert found.assistant.is_active is False  # a disabled one is still found
            for clinic_id, assistant_id in (
                (other.id, made.assistant.id),
                (clinic.id, uuid.uuid4()),
                (clinic.id, one.id),
            ):
                with pytest.raises(NotFound):
                    await staff_service.get_assistant(session, clinic_id=clinic_id, assistant_id=assistant_id)
