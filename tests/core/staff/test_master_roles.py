"""A partner's master roles as its partner console manages them: created once, changed while they exist,
deleted only while nobody holds them; ``Administrator`` fixed; another partner's roles out of reach."""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import select

from clinicore.core.models import AuditEntry, Clinic, Partner
from clinicore.core.staff import roles
from clinicore.core.staff import service as staff_service
from clinicore.core.staff.roles import Permissions
from clinicore.core.staff.schemas import AssistantDetails, PractitionerDetails
from clinicore.core.tenancy import service as tenancy_service
from clinicore.kit.errors import InvalidInput, NotFound
from clinicore.runtime import Runtime

DESK = Permissions(send_forms=True, book=True)


async def partner_and_clinic(runtime: Runtime) -> tuple[Partner, Clinic]:
    async with runtime.sessions() as session, session.begin():
        partner = await tenancy_service.create_partner(session, name=f"P {secrets.token_hex(4)}")
        clinic = await tenancy_service.create_clinic(
            session, name="Clinic", time_zone="America/New_York", partner_id=partner.id
        )
    return partner, clinic


async def role_names(runtime: Runtime, partner: Partner) -> list[str]:
    async with runtime.sessions() as session:
        return [role.name for role in await roles.list_roles(session, partner_id=partner.id)]


class TestCreateRole:
    async def test_a_new_role_is_created_and_audited(self, runtime: Runtime) -> None:
        partner, _ = await partner_and_clinic(runtime)
        async with runtime.sessions() as session, session.begin():
            created = await roles.create_role(
                session, partner_id=partner.id, name="front desk", permissions=DESK
            )
        async with runtime.sessions() as session:
            audited = (
                await session.scalars(
                    select(AuditEntry).where(
                        AuditEntry.action == "role.created", AuditEntry.target_type == "role"
                    )
                )
            ).all()
        assert any(entry.details.get("partner_id") == str(partner.id) for entry in audited)
        assert (created.name, created.permissions) == ("front desk", DESK)
        assert await role_names(runtime, partner) == ["Administrator", "front desk"]

    async def test_a_name_the_partner_already_uses_is_refused_without_case(self, runtime: Runtime) -> None:
        partner, _ = await partner_and_clinic(runtime)
        async with runtime.sessions() as session, session.begin():
            await roles.create_role(session, partner_id=partner.id, name="Nurse", permissions=DESK)
        async with runtime.sessions() as session, session.begin():
            with pytest.raises(InvalidInput, match="already exists"):
                await roles.create_role(
                    session, partner_id=partner.id, name="NURSE", permissions=Permissions()
                )

    async def test_two_partners_may_use_the_same_name(self, runtime: Runtime) -> None:
        first, _ = await partner_and_clinic(runtime)
        second, _ = await partner_and_clinic(runtime)
        async with runtime.sessions() as session, session.begin():
            await roles.create_role(session, partner_id=first.id, name="Nurse", permissions=DESK)
            await roles.create_role(session, partner_id=second.id, name="Nurse", permissions=DESK)


class TestChangeRole:
    async def test_changes_the_permissions_of_an_existing_role(self, runtime: Runtime) -> None:
        partner, _ = await partner_and_clinic(runtime)
        async with runtime.sessions() as session, session.begin():
            await roles.create_role(session, partner_id=partner.id, name="Nurse", permissions=DESK)
            await roles.change_role(
                session, partner_id=partner.id, name="nurse", permissions=Permissions(see_reports=True)
            )
            listed = await roles.list_roles(session, partner_id=partner.id)
        assert listed[1].permissions == Permissions(see_reports=True)

    async def test_a_missing_or_another_partners_role_is_not_found(self, runtime: Runtime) -> None:
        partner, _ = await partner_and_clinic(runtime)
        other, _ = await partner_and_clinic(runtime)
        async with runtime.sessions() as session, session.begin():
            await roles.create_role(session, partner_id=other.id, name="Theirs", permissions=DESK)
        async with runtime.sessions() as session:
            for name in ("Theirs", "Nobody", "x" * 500):
                with pytest.raises(NotFound):
                    await roles.change_role(session, partner_id=partner.id, name=name, permissions=DESK)

    async def test_administrator_cannot_be_redefined(self, runtime: Runtime) -> None:
        partner, _ = await partner_and_clinic(runtime)
        async with runtime.sessions() as session:
            with pytest.raises(InvalidInput, match="Administrator always exists"):
                await roles.change_role(
                    session, partner_id=partner.id, name="administrator", permissions=DESK
                )


class TestDeleteRole:
    async def test_an_unheld_role_is_deleted(self, runtime: Runtime) -> None:
        partner, _ = await partner_and_clinic(runtime)
        async with runtime.sessions() as session, session.begin():
            await roles.create_role(session, partner_id=partner.id, name="Nurse", permissions=DESK)
        async with runtime.sessions() as session, session.begin():
            await roles.delete_role(session, partner_id=partner.id, name="NURSE")
        assert await role_names(runtime, partner) == ["Administrator"]

    async def test_a_role_held_by_a_disabled_practitioner_is_kept(self, runtime: Runtime) -> None:
        partner, clinic = await partner_and_clinic(runtime)
        async with runtime.sessions() as session, session.begin():
            await roles.create_role(session, partner_id=partner.id, name="Nurse", permissions=DESK)
            practitioner = await staff_service.create_practitioner(
                session,
                clinic=clinic,
                details=PractitionerDetails(
                    first_name="Ann", last_name="Lee", email="ann@x.example", role_name="nurse"
                ),
            )
            practitioner.is_active = False
        async with runtime.sessions() as session:
            with pytest.raises(InvalidInput, match=r"1 staff member\(s\) hold the role 'Nurse'") as refused:
                await roles.delete_role(session, partner_id=partner.id, name="Nurse")
        assert refused.value.rule == "staff.role_in_use"
        assert await role_names(runtime, partner) == ["Administrator", "Nurse"]

    async def test_a_role_held_by_an_assistant_is_kept(self, runtime: Runtime) -> None:
        partner, clinic = await partner_and_clinic(runtime)
        async with runtime.sessions() as session, session.begin():
            await roles.create_role(session, partner_id=partner.id, name="Scribe", permissions=DESK)
            await staff_service.create_assistant(
                session,
                clinic=clinic,
                details=AssistantDetails(name="Sam Scribe", email="sam@x.example", role_name="Scribe"),
            )
        async with runtime.sessions() as session:
            with pytest.raises(InvalidInput, match="hold the role"):
                await roles.delete_role(session, partner_id=partner.id, name="Scribe")

    async def test_another_partners_holders_do_not_count_and_their_role_is_not_found(
        self, runtime: Runtime
    ) -> None:
        partner, _ = await partner_and_clinic(runtime)
        other, other_clinic = await partner_and_clinic(runtime)
        async with runtime.sessions() as session, session.begin():
            await roles.create_role(session, partner_id=partner.id, name="Nurse", permissions=DESK)
            await roles.create_role(session, partner_id=other.id, name="Nurse", permissions=DESK)
            await staff_service.create_practitioner(
                session,
                clinic=other_clinic,
                details=PractitionerDetails(
                    first_name="Bo", last_name="Ng", email="bo@x.example", role_name="Nurse"
                ),
            )
        async with runtime.sessions() as session, session.begin():
            await roles.delete_role(session, partner_id=partner.id, name="Nurse")
        async with runtime.sessions() as session:
            with pytest.raises(NotFound):
                await roles.delete_role(session, partner_id=partner.id, name="Nurse")
        assert await role_names(runtime, other) == ["Administrator", "Nurse"]

    async def test_administrator_cannot_be_deleted(self, runtime: Runtime) -> None:
        partner, _ = await partner_and_clinic(runtime)
        async with runtime.sessions() as session:
            with pytest.raises(InvalidInput, match="cannot be deleted"):
                await roles.delete_role(session, partner_id=partner.id, name=" Administrator ")
