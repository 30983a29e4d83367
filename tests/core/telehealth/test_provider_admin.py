"""Providers a clinic works with, in the core: only the clinic's own are listed and changed, an expired
licence counts as none (the desk's rule, so the queue agrees), and an email with an account is refused."""

from __future__ import annotations

import dataclasses
import secrets
from datetime import UTC, date, datetime

import pytest

from clinicore.core.audit.service import Actor
from clinicore.core.models import Provider
from clinicore.core.telehealth import lifecycle, provider_admin
from clinicore.core.telehealth.provider_admin import ProviderDetails
from clinicore.kit.clock import FrozenClock
from clinicore.kit.errors import InvalidInput, NotFound
from clinicore.runtime import Runtime
from tests.factories import (
    ClinicFixture,
    answer_all,
    create_catalog,
    create_clinic,
    create_live_provider,
    create_meeting,
)

NOW = datetime(2031, 3, 3, 15, 0, tzinfo=UTC)


@pytest.fixture
def frozen(runtime: Runtime) -> Runtime:
    return dataclasses.replace(runtime, clock=FrozenClock(NOW))


async def added(runtime: Runtime, arranged: ClinicFixture, *, email: str | None = None) -> Provider:
    async with runtime.sessions() as session, session.begin():
        return await provider_admin.add_provider(
            session,
            clinic_id=arranged.clinic.id,
            details=ProviderDetails(name="Dr. Liza Park", credentials="NP"),
            email=email or f"dr-{secrets.token_hex(4)}@providers.example",
            password="correct horse battery",
            actor=Actor.user(arranged.user.id),
            clock=runtime.clock,
        )


async def licence(
    runtime: Runtime, arranged: ClinicFixture, provider_id: object, state: str, expires: date
) -> None:
    async with runtime.sessions() as session, session.begin():
        await provider_admin.set_license(
            session,
            clinic_id=arranged.clinic.id,
            provider_id=provider_id,  # type: ignore[arg-type]
            state=state,
            license_number=f"{state}-1",
            expires_on=expires,
            actor=Actor.user(arranged.user.id),
            clock=runtime.clock,
        )


class TestLicences:
    async def test_an_expired_licence_counts_as_none_here_and_in_the_queue(self, frozen: Runtime) -> None:
        arranged = await create_clinic(frozen)
        provider = await added(frozen, arranged)
        await licence(frozen, arranged, provider.id, "NY", date(2031, 3, 2))  # expired yesterday
        await licence(frozen, arranged, provider.id, "CA", date(2031, 3, 3))  # valid through today
        async with frozen.sessions() as session:
            view = await provider_admin.get_provider(
                session, clinic_id=arranged.clinic.id, provider_id=provider.id, clock=frozen.clock
            )
        assert {item.license.state: item.counts for item in view.licenses} == {"CA": True, "NY": False}
        assert view.licensed_now == ["CA"]

        catalog = await create_catalog(frozen, arranged.clinic)
        waiting = (
            await create_meeting(frozen, arranged.clinic, [catalog.botox], tele_state="NY")
        ).patient_exam
        await answer_all(frozen, waiting)
        async with frozen.sessions() as session, session.begin():
            await lifecycle.join_waiting_room(
                session, meeting_id=waiting.meeting_id, patient_exam_id=waiting.id, clock=frozen.clock
            )
        async with frozen.sessions() as session:
            queue = await lifecycle.provider_queue(session, provider_id=provider.id, clock=frozen.clock)
        assert waiting.id not in [exam.id for exam in queue]


class TestScope:
    async def test_another_clinics_provider_is_not_found(self, frozen: Runtime) -> None:
        theirs = await create_clinic(frozen)
        provider = await added(frozen, theirs)
        mine = await create_clinic(frozen)
        async with frozen.sessions() as session:
            assert (
                await provider_admin.list_providers(session, clinic_id=mine.clinic.id, clock=frozen.clock)
                == []
            )
            with pytest.raises(NotFound):
                await provider_admin.get_provider(
                    session, clinic_id=mine.clinic.id, provider_id=provider.id, clock=frozen.clock
                )
        with pytest.raises(NotFound):
            await licence(frozen, mine, provider.id, "NY", date(2032, 1, 1))

    async def test_an_email_that_already_has_a_provider_account_is_refused(self, frozen: Runtime) -> None:
        theirs = await create_clinic(frozen)
        email = f"dr-{secrets.token_hex(4)}@providers.example"
        await added(frozen, theirs, email=email)
        mine = await create_clinic(frozen)
        with pytest.raises(InvalidInput, match="a provider account with this email already exists"):
            await added(frozen, mine, email=email.upper())


class TestWorkWith:
    async def test_an_existing_provider_is_listed_once(self, frozen: Runtime) -> None:
        arranged = await create_clinic(frozen)
        provider = await create_live_provider(frozen, states=("NY",))
        for _ in range(2):
            async with frozen.sessions() as session, session.begin():
                await provider_admin.work_with(
                    session, clinic_id=arranged.clinic.id, provider_id=provider.id, clock=frozen.clock
                )
        async with frozen.sessions() as session:
            listed = await provider_admin.list_providers(
                session, clinic_id=arranged.clinic.id, clock=frozen.clock
            )
        assert [view.provider.id for view in listed] == [provider.id]
        assert listed[0].licensed_now == ["NY"]
