"""The practice rules in the core: provisioning, the external id's uniqueness, soft delete, paging."""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import select

from clinicore.core.models import ApiKey, ApiKeyKind, BookingSettings, Clinic, Partner, Practitioner
from clinicore.core.tenancy import practices
from clinicore.core.tenancy import service as tenancy_service
from clinicore.core.tenancy.practices import PracticeDetails
from clinicore.kit.crypto import sha256_hex
from clinicore.kit.errors import InvalidInput, NotFound, Unauthorized
from clinicore.runtime import Runtime


async def make_partner(runtime: Runtime) -> Partner:
    async with runtime.sessions() as session, session.begin():
        return await tenancy_service.create_partner(session, name=f"Partner {secrets.token_hex(4)}")


def details(**values: object) -> PracticeDetails:
    fields = {
        "name": "ABC Health",
        "first_name": "John",
        "last_name": "Smith",
        "email": f"john-{secrets.token_hex(3)}@practice.example",
    } | values
    return PracticeDetails(**fields)  # type: ignore[arg-type]


async def create(runtime: Runtime, partner: Partner, **values: object) -> practices.Practice:
    async with runtime.sessions() as session, session.begin():
        return await practices.create_practice(
            session, box=runtime.box, partner=partner, details=details(**values)
        )


class TestCreatePractice:
    async def test_provisions_clinic_main_practitioner_key_and_booking_settings(
        self, runtime: Runtime
    ) -> None:
        partner = await make_partner(runtime)
        made = await create(runtime, partner, external_practice_id="p-1")
        async with runtime.sessions() as session:
            clinic = await session.get(Clinic, made.clinic.id)
            assert clinic is not None
            assert (clinic.partner_id, clinic.external_practice_id) == (partner.id, "p-1")
            assert (clinic.forms_enabled, clinic.booking_enabled) == (True, False)
            [main] = (
                await session.scalars(select(Practitioner).where(Practitioner.clinic_id == clinic.id))
            ).all()
            assert (main.is_main, main.role_name, main.name) == (True, "Administrator", "John Smith")
            assert await session.get(BookingSettings, clinic.id) is not None
            [key] = (await session.scalars(select(ApiKey).where(ApiKey.clinic_id == clinic.id))).all()
        assert key.kind == ApiKeyKind.intakeq_practice
        async with runtime.sessions() as session:
            secret = await practices.practice_key(
                session, box=runtime.box, partner_id=partner.id, reference=clinic.practice_id
            )
        # Retrievable by design, so stored encrypted, and found by its digest: never in clear.
        assert key.encrypted_secret is not None and secret not in key.encrypted_secret
        assert key.digest == sha256_hex(secret)

    async def test_the_external_id_is_unique_per_partner(self, runtime: Runtime) -> None:
        partner, other = await make_partner(runtime), await make_partner(runtime)
        await create(runtime, partner, external_practice_id="same")
        with pytest.raises(InvalidInput) as refused:
            await create(runtime, partner, external_practice_id="same")
        assert refused.value.field == "external_practice_id"
        await create(runtime, other, external_practice_id="same")

    @pytest.mark.parametrize("field", ["name", "first_name", "last_name", "email"])
    async def test_required_fields(self, runtime: Runtime, field: str) -> None:
        partner = await make_partner(runtime)
        with pytest.raises(InvalidInput) as refused:
            await create(runtime, partner, **{field: "  "})
        assert refused.value.field == field

    async def test_a_failed_create_leaves_nothing(self, runtime: Runtime) -> None:
        partner = await make_partner(runtime)
        with pytest.raises(InvalidInput):
            await create(runtime, partner, address_state="XYZ")
        async with runtime.sessions() as session:
            assert await session.scalar(select(Clinic.id).where(Clinic.partner_id == partner.id)) is None


class TestDeletePractice:
    async def test_soft_delete_keeps_the_records_and_revokes_every_key(self, runtime: Runtime) -> None:
        partner = await make_partner(runtime)
        made = await create(runtime, partner)
        async with runtime.sessions() as session, session.begin():
            qualiphy = await tenancy_service.create_key(
                session, box=runtime.box, kind=ApiKeyKind.qualiphy, name="q", clinic_id=made.clinic.id
            )
            await practices.delete_practice(session, partner_id=partner.id, reference=made.clinic.practice_id)
        async with runtime.sessions() as session:
            clinic = await session.get(Clinic, made.clinic.id)
            assert clinic is not None and clinic.deleted_at is not None and not clinic.is_active
            keys = (await session.scalars(select(ApiKey).where(ApiKey.clinic_id == clinic.id))).all()
            assert keys and all(key.revoked_at is not None for key in keys)
            assert made.main is not None
            assert await session.get(Practitioner, made.main.id) is not None
            assert await practices.find_practices(session, partner_id=partner.id) == []
            with pytest.raises(Unauthorized):
                await tenancy_service.authenticate_clinic_key(
                    session, kind=ApiKeyKind.qualiphy, raw=qualiphy.secret
                )

    async def test_another_partners_practice_reads_as_missing(self, runtime: Runtime) -> None:
        partner, other = await make_partner(runtime), await make_partner(runtime)
        theirs = await create(runtime, other, external_practice_id="theirs")
        async with runtime.sessions() as session:
            for reference in (theirs.clinic.practice_id, "theirs"):
                with pytest.raises(NotFound):
                    await practices.get_practice(session, partner_id=partner.id, reference=reference)


class TestFindPractices:
    async def test_filters_combine_and_pages_hold_page_size(
        self, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(practices, "PAGE_SIZE", 2)
        partner = await make_partner(runtime)
        made = [await create(runtime, partner, external_practice_id=f"f-{n}") for n in range(3)]
        async with runtime.sessions() as session:
            first = await practices.find_practices(session, partner_id=partner.id, page=1)
            second = await practices.find_practices(session, partner_id=partner.id, page=2)
            assert [p.clinic.id for p in [*first, *second]] == [p.clinic.id for p in made]
            both = await practices.find_practices(
                session,
                partner_id=partner.id,
                practice_id=made[0].clinic.practice_id.lower(),
                external_practice_id="f-1",
            )
            assert both == []
            with pytest.raises(InvalidInput):
                await practices.find_practices(session, partner_id=partner.id, page=0)


class TestBookingSwitch:
    async def test_a_clinic_with_booking_off_books_nothing(self, runtime: Runtime) -> None:
        from datetime import timedelta

        from clinicore.core.scheduling import booking
        from clinicore.core.scheduling.schemas import BookingRequest

        partner = await make_partner(runtime)
        made = await create(runtime, partner)
        assert made.main is not None
        async with runtime.sessions() as session:
            with pytest.raises(InvalidInput, match="booking is switched off"):
                await booking.book_appointment(
                    session,
                    clinic_id=made.clinic.id,
                    request=BookingRequest(
                        starts_at=runtime.clock.now() + timedelta(days=3),
                        title="Visit",
                        practitioner_id=made.main.id,
                    ),
                    source="test",
                )
