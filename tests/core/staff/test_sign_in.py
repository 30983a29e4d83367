"""Single sign-on of staff in the core: tokens are single use (also under concurrency), expire, belong to
one user, are refused to disabled staff and deleted practices; sessions last an hour and stop with the
staff member; permissions come from the staff role."""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from clinicore.core.audit import service as audit_service
from clinicore.core.models import Clinic, ClinicUser, ConsoleSignInToken, Practitioner
from clinicore.core.staff import roles, sign_in
from clinicore.core.staff import service as staff_service
from clinicore.core.staff.schemas import AssistantDetails, PractitionerDetails
from clinicore.core.tenancy import service as tenancy_service
from clinicore.kit.clock import FrozenClock
from clinicore.kit.crypto import sha256_hex
from clinicore.kit.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from clinicore.runtime import Runtime
from tests.factories import create_clinic

START = datetime(2031, 3, 3, 13, 0, tzinfo=UTC)
ACTOR = audit_service.SYSTEM


@dataclasses.dataclass
class Practice:
    clinic: Clinic
    main: Practitioner
    runtime: Runtime
    clock: FrozenClock

    async def token(self, user: str | None = None) -> sign_in.IssuedToken:
        async with self.runtime.sessions() as session, session.begin():
            return await sign_in.issue_token(
                session,
                partner_id=self.partner_id,
                practice=self.clinic.practice_id,
                user=user,
                actor=ACTOR,
                clock=self.clock,
            )

    async def use(self, token: str, user: str | None) -> sign_in.StaffSignIn:
        async with self.runtime.sessions() as session, session.begin():
            return await sign_in.sign_in_with_token(session, token=token, user=user, clock=self.clock)

    async def signed_in(self, cookie: str) -> object | None:
        async with self.runtime.sessions() as session:
            return await sign_in.signed_in_user(session, token=cookie, clock=self.clock)

    @property
    def partner_id(self) -> uuid.UUID:
        assert self.clinic.partner_id is not None
        return self.clinic.partner_id


def person(**values: object) -> PractitionerDetails:
    fields = {"first_name": "Dexter", "last_name": "Morgan", "email": f"d-{secrets.token_hex(3)}@x.example"}
    return PractitionerDetails(**(fields | values))  # type: ignore[arg-type]


@pytest.fixture
async def practice(runtime: Runtime) -> Practice:
    clock = FrozenClock(START)
    async with runtime.sessions() as session, session.begin():
        partner = await tenancy_service.create_partner(session, name=f"P {secrets.token_hex(4)}")
        clinic = await tenancy_service.create_clinic(
            session, name="Clinic", time_zone="America/New_York", partner_id=partner.id
        )
        main = await staff_service.create_practitioner(session, clinic=clinic, details=person(), is_main=True)
    return Practice(clinic=clinic, main=main, runtime=runtime, clock=clock)


async def add_practitioner(practice: Practice, **values: object) -> Practitioner:
    async with practice.runtime.sessions() as session, session.begin():
        return await staff_service.create_practitioner(
            session, clinic=practice.clinic, details=person(**values)
        )


class TestIssuing:
    async def test_without_a_user_the_main_practitioner_gets_a_token_stored_as_a_digest(
        self, practice: Practice
    ) -> None:
        issued = await practice.token()
        assert issued.staff_id == practice.main.id
        assert issued.expires_at == START + sign_in.TOKEN_LIFETIME
        async with practice.runtime.sessions() as session:
            stored = (await session.scalars(select(ConsoleSignInToken.token_digest))).all()
        assert sha256_hex(issued.token) in stored and issued.token not in stored

    async def test_a_user_by_our_id_or_external_id_and_assistants_too(self, practice: Practice) -> None:
        other = await add_practitioner(practice, external_id="ext-7")
        assert (await practice.token(other.id.hex)).staff_id == other.id
        assert (await practice.token("ext-7")).staff_id == other.id
        async with practice.runtime.sessions() as session, session.begin():
            view = await staff_service.create_assistant(
                session,
                clinic=practice.clinic,
                details=AssistantDetails(name="Ann Desk", email="ann@x.example", external_id="a-1"),
            )
        assert (await practice.token("a-1")).staff_id == view.assistant.id

    async def test_concurrent_first_tokens_share_one_console_user(self, practice: Practice) -> None:
        other = await add_practitioner(practice)
        issued = await asyncio.gather(*(practice.token(other.id.hex) for _ in range(4)))
        assert len({token.token for token in issued}) == 4
        async with practice.runtime.sessions() as session:
            users = (
                await session.scalars(select(ClinicUser).where(ClinicUser.practitioner_id == other.id))
            ).all()
        assert len(users) == 1

    async def test_unknown_users_and_another_practices_user_are_missing(
        self, practice: Practice, runtime: Runtime
    ) -> None:
        elsewhere = (await create_clinic(runtime)).clinic
        async with runtime.sessions() as session, session.begin():
            stranger = await staff_service.create_practitioner(session, clinic=elsewhere, details=person())
        for user in (stranger.id.hex, "nobody", "x" * 500, "a\x00b"):
            with pytest.raises(NotFound):
                await practice.token(user)

    async def test_a_disabled_practitioner_or_a_deleted_practice_gets_no_token(
        self, practice: Practice
    ) -> None:
        other = await add_practitioner(practice)
        async with practice.runtime.sessions() as session, session.begin():
            await staff_service.set_practitioner_active(
                session, clinic_id=practice.clinic.id, reference=other.id.hex, active=False
            )
        with pytest.raises(InvalidInput):
            await practice.token(other.id.hex)
        async with practice.runtime.sessions() as session, session.begin():
            clinic = await tenancy_service.get_clinic(session, practice.clinic.id)
            clinic.deleted_at, clinic.is_active = START, False
        with pytest.raises(NotFound):
            await practice.token()


class TestUsing:
    async def test_a_token_is_used_once_and_opens_an_hour_long_session(self, practice: Practice) -> None:
        issued = await practice.token()
        signed = await practice.use(issued.token, practice.main.id.hex)
        assert signed.user.practitioner_id == practice.main.id and signed.user.password_hash is None
        assert signed.opened.console_session.expires_at == START + timedelta(hours=1)
        with pytest.raises(Unauthorized):
            await practice.use(issued.token, practice.main.id.hex)

        assert await practice.signed_in(signed.opened.token) is not None
        practice.clock.advance(timedelta(minutes=59, seconds=59))
        assert await practice.signed_in(signed.opened.token) is not None
        practice.clock.advance(timedelta(seconds=1))
        assert await practice.signed_in(signed.opened.token) is None

    async def test_an_unused_token_expires_after_five_minutes(self, practice: Practice) -> None:
        issued = await practice.token()
        practice.clock.advance(sign_in.TOKEN_LIFETIME)
        with pytest.raises(Unauthorized):
            await practice.use(issued.token, practice.main.id.hex)

    async def test_the_user_must_be_the_tokens_and_the_token_ours(self, practice: Practice) -> None:
        other = await add_practitioner(practice, external_id="ext-9")
        issued = await practice.token(other.id.hex)
        for user in (practice.main.id.hex, None, "", "y" * 500):
            with pytest.raises(Unauthorized):
                await practice.use(issued.token, user)
        assert (await practice.use(issued.token, "ext-9")).user.practitioner_id == other.id
        for token in ("", "f" * 64, "z" * 5000, "\x00"):
            with pytest.raises(Unauthorized):
                await practice.use(token, other.id.hex)

    async def test_of_concurrent_uses_one_only_passes(self, practice: Practice) -> None:
        issued = await practice.token()

        async def attempt() -> bool:
            try:
                await practice.use(issued.token, practice.main.id.hex)
            except Unauthorized:
                return False
            return True

        assert sorted(await asyncio.gather(*(attempt() for _ in range(6)))) == [False] * 5 + [True]

    async def test_disabling_ends_the_session_and_refuses_an_issued_token(self, practice: Practice) -> None:
        other = await add_practitioner(practice)
        signed = await practice.use((await practice.token(other.id.hex)).token, other.id.hex)
        pending = await practice.token(other.id.hex)
        async with practice.runtime.sessions() as session, session.begin():
            await staff_service.set_practitioner_active(
                session, clinic_id=practice.clinic.id, reference=other.id.hex, active=False
            )
        assert await practice.signed_in(signed.opened.token) is None
        with pytest.raises(Unauthorized):
            await practice.use(pending.token, other.id.hex)

    async def test_an_assistants_session_ends_when_it_is_disabled(self, practice: Practice) -> None:
        async with practice.runtime.sessions() as session, session.begin():
            view = await staff_service.create_assistant(
                session, clinic=practice.clinic, details=AssistantDetails(name="Ann", email="ann@x.example")
            )
        reference = view.assistant.id.hex
        signed = await practice.use((await practice.token(reference)).token, reference)
        assert await practice.signed_in(signed.opened.token) is not None
        async with practice.runtime.sessions() as session, session.begin():
            await staff_service.disable_assistant(session, clinic_id=practice.clinic.id, reference=reference)
        assert await practice.signed_in(signed.opened.token) is None

    async def test_a_staff_user_never_signs_in_with_a_password_and_shares_emails(
        self, practice: Practice, runtime: Runtime
    ) -> None:
        made = await create_clinic(runtime)
        other = await add_practitioner(practice, email=made.email)
        await practice.use((await practice.token(other.id.hex)).token, other.id.hex)
        async with runtime.sessions() as session:
            users = (await session.scalars(select(ClinicUser).where(ClinicUser.email == made.email))).all()
            assert len(users) == 2
            user, _opened = await tenancy_service.sign_in(session, email=made.email, password=made.password)
        assert user.id == made.user.id


class TestPermissions:
    async def test_the_role_decides_and_password_users_may_do_everything(
        self, practice: Practice, runtime: Runtime
    ) -> None:
        async with runtime.sessions() as session, session.begin():
            await roles.define_role(
                session,
                partner_id=practice.partner_id,
                name="Front Desk",
                permissions=roles.Permissions(open_forms=True),
            )
        desk = await add_practitioner(practice, role_name="Front Desk")
        signed = await practice.use((await practice.token(desk.id.hex)).token, desk.id.hex)
        admin = await practice.use((await practice.token()).token, practice.main.id.hex)
        made = await create_clinic(runtime)
        async with runtime.sessions() as session, session.begin():
            _user, by_password = await tenancy_service.sign_in(
                session, email=made.email, password=made.password
            )
        async with runtime.sessions() as session:
            desk_user = await sign_in.signed_in_user(session, token=signed.opened.token, clock=practice.clock)
            admin_user = await sign_in.signed_in_user(session, token=admin.opened.token, clock=practice.clock)
            password_user = await tenancy_service.signed_in_user(session, token=by_password.token)
            assert desk_user is not None and admin_user is not None and password_user is not None
            await sign_in.require_permission(
                session, signed_in=desk_user, permission=sign_in.Permission.open_forms
            )
            with pytest.raises(Forbidden):
                await sign_in.require_permission(
                    session, signed_in=desk_user, permission=sign_in.Permission.see_reports
                )
            for user in (admin_user, password_user):
                assert await sign_in.permissions_of(session, signed_in=user) == roles.Permissions.everything()
