"""The console's one permission table (core/tenancy/permissions.py): console roles and partner roles."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import pytest

from clinicore.core.audit import service as audit_service
from clinicore.core.models import Clinic, ClinicUserRole
from clinicore.core.staff import roles, sign_in
from clinicore.core.staff import service as staff_service
from clinicore.core.staff.schemas import PractitionerDetails
from clinicore.core.tenancy import permissions
from clinicore.core.tenancy import service as tenancy_service
from clinicore.core.tenancy.permissions import Permission
from clinicore.kit.errors import Forbidden
from clinicore.runtime import Runtime

ADMIN_ONLY = {
    Permission.manage_keys,
    Permission.manage_webhooks,
    Permission.manage_users,
    Permission.change_settings,
    Permission.edit_templates,
}


class TestConsoleRoles:
    def test_admin_may_do_everything(self) -> None:
        assert permissions.of_console_role(ClinicUserRole.admin) == frozenset(Permission)

    def test_staff_may_do_the_daily_work_but_nothing_of_the_admins(self) -> None:
        staff = permissions.of_console_role(ClinicUserRole.staff)
        assert staff == frozenset(Permission) - ADMIN_ONLY

    def test_an_unknown_role_may_do_nothing(self) -> None:
        assert permissions.of_console_role("owner") == frozenset()

    def test_the_check_refuses_in_words(self) -> None:
        with pytest.raises(Forbidden, match="Your role may not manage API keys"):
            permissions.check(permissions.of_console_role(ClinicUserRole.staff), Permission.manage_keys)
        permissions.check(permissions.of_console_role(ClinicUserRole.staff), Permission.see_patients)


class TestPartnerRoles:
    def test_administrator_may_do_everything(self) -> None:
        assert permissions.of_partner_role({}, administrator=True) == frozenset(Permission)

    def test_a_role_without_flags_has_the_baseline_only(self) -> None:
        assert permissions.of_partner_role({}, administrator=False) == permissions.PARTNER_ROLE_BASELINE

    def test_change_settings_opens_the_settings_and_the_people_pages_never_keys_or_webhooks(self) -> None:
        every_flag = {flag: True for flag in permissions.PARTNER_ROLE_FLAGS}
        granted = permissions.of_partner_role(every_flag, administrator=False)
        assert {Permission.change_settings, Permission.manage_users} <= granted
        assert granted == frozenset(Permission) - {Permission.manage_keys, Permission.manage_webhooks}

    def test_each_flag_of_the_partner_roles_has_its_permissions(self) -> None:
        assert set(permissions.PARTNER_ROLE_FLAGS) == {
            field for field in roles.Permissions.__dataclass_fields__
        }


@dataclass(frozen=True, slots=True)
class Practice:
    runtime: Runtime
    clinic: Clinic


@pytest.fixture
async def practice(runtime: Runtime) -> Practice:
    async with runtime.sessions() as session, session.begin():
        partner = await tenancy_service.create_partner(session, name=f"P {secrets.token_hex(4)}")
        clinic = await tenancy_service.create_clinic(
            session, name="Clinic", time_zone="America/New_York", partner_id=partner.id
        )
        await staff_service.create_practitioner(session, clinic=clinic, details=details(), is_main=True)
        await roles.define_role(
            session, partner_id=partner.id, name="Front Desk", permissions=roles.Permissions(book=True)
        )
    return Practice(runtime, clinic)


def details(**values: object) -> PractitionerDetails:
    fields = {"first_name": "Dana", "last_name": "Reed", "email": f"d-{secrets.token_hex(3)}@x.example"}
    return PractitionerDetails(**(fields | values))  # type: ignore[arg-type]


async def sso_permissions(practice: Practice, role_name: str | None) -> frozenset[Permission]:
    """Sign a new practitioner of ``role_name`` in by single sign-on; what the console lets it do."""
    async with practice.runtime.sessions() as session, session.begin():
        staff = await staff_service.create_practitioner(
            session, clinic=practice.clinic, details=details(role_name=role_name)
        )
        assert practice.clinic.partner_id is not None
        issued = await sign_in.issue_token(
            session,
            partner_id=practice.clinic.partner_id,
            practice=practice.clinic.practice_id,
            user=staff.id.hex,
            actor=audit_service.SYSTEM,
        )
        opened = await sign_in.sign_in_with_token(session, token=issued.token, user=staff.id.hex)
    async with practice.runtime.sessions() as session:
        signed_in = await sign_in.signed_in_user(session, token=opened.opened.token)
        assert signed_in is not None
        return await sign_in.console_permissions(session, signed_in=signed_in)


class TestSingleSignOnUsers:
    async def test_keep_their_partner_roles_permissions(self, practice: Practice) -> None:
        granted = await sso_permissions(practice, "Front Desk")
        assert granted == permissions.PARTNER_ROLE_BASELINE | {Permission.book}
        assert Permission.manage_keys not in granted

    async def test_the_administrator_role_may_do_everything(self, practice: Practice) -> None:
        assert await sso_permissions(practice, "Administrator") == frozenset(Permission)
