"""A clinic's own settings in the core: only what is given changes, each value read as everywhere else,
nothing changes when one is refused, and every change is audited."""

from __future__ import annotations

import uuid

import pytest

from clinicore.core.audit import service as audit_service
from clinicore.core.models import Clinic
from clinicore.core.tenancy import clinic_settings
from clinicore.core.tenancy import service as tenancy_service
from clinicore.core.tenancy.clinic_settings import ClinicSettingsChanges
from clinicore.kit.errors import InvalidInput, NotFound
from clinicore.runtime import Runtime
from tests.factories import create_clinic


async def change(runtime: Runtime, clinic: Clinic, **values: str | None) -> Clinic:
    async with runtime.sessions() as session, session.begin():
        return await clinic_settings.update_clinic_settings(
            session,
            clinic_id=clinic.id,
            changes=ClinicSettingsChanges(**values),  # type: ignore[arg-type]
        )


async def reload(runtime: Runtime, clinic: Clinic) -> Clinic:
    async with runtime.sessions() as session:
        return await tenancy_service.get_clinic(session, clinic.id)


class TestUpdateClinicSettings:
    async def test_only_the_fields_given_change(self, runtime: Runtime) -> None:
        arranged = await create_clinic(runtime, name="Before")
        await change(runtime, arranged.clinic, phone="212 555 0134")
        clinic = await reload(runtime, arranged.clinic)
        assert (clinic.name, clinic.phone, clinic.time_zone) == ("Before", "+12125550134", "America/New_York")

    async def test_values_are_read_as_everywhere_else(self, runtime: Runtime) -> None:
        arranged = await create_clinic(runtime)
        await change(
            runtime,
            arranged.clinic,
            name="  Riverside  ",
            email=" Desk@Riverside.Example ",
            time_zone="Europe/Paris",
            address_state="ny",
            address_zip=" 10001 ",
        )
        clinic = await reload(runtime, arranged.clinic)
        assert (clinic.name, clinic.email, clinic.time_zone) == (
            "Riverside",
            "desk@riverside.example",
            "Europe/Paris",
        )
        assert (clinic.address_state, clinic.address_zip) == ("NY", "10001")

    @pytest.mark.parametrize(
        ("values", "field"),
        [
            ({"name": ""}, "name"),
            ({"name": "x" * 201}, "name"),
            ({"time_zone": "Nowhere/City"}, "time_zone"),
            ({"time_zone": ""}, "time_zone"),
            ({"time_zone": "x" * 1000}, "time_zone"),
            ({"email": "no-at-sign"}, "email"),
            ({"phone": "abc"}, "phone"),
            ({"address_state": "NYC"}, "address_state"),
            ({"address_city": "x" * 101}, "address_city"),
            ({"address_street": "a\x00b"}, "address_street"),
        ],
    )
    async def test_a_refused_value_names_its_field_and_changes_nothing(
        self, runtime: Runtime, values: dict[str, str], field: str
    ) -> None:
        arranged = await create_clinic(runtime, name="Before")
        with pytest.raises(InvalidInput) as refused:
            await change(runtime, arranged.clinic, **({"address_city": "Springfield"} | values))
        assert refused.value.field == field
        assert refused.value.message.startswith(f"{field}: ")
        clinic = await reload(runtime, arranged.clinic)
        assert clinic.name == "Before" and clinic.address_city is None

    async def test_each_change_is_audited_with_the_fields_that_changed(self, runtime: Runtime) -> None:
        arranged = await create_clinic(runtime)
        await change(runtime, arranged.clinic, name=arranged.clinic.name, address_city="Springfield")
        await change(runtime, arranged.clinic, address_city="Springfield")  # no change: no entry
        async with runtime.sessions() as session:
            entries = await audit_service.recent_entries(session, clinic_id=arranged.clinic.id, limit=20)
        updates = [entry for entry in entries if entry.action == "clinic.settings_updated"]
        assert len(updates) == 1
        assert updates[0].details == {"fields": ["address_city"]}

    async def test_an_unknown_clinic_is_not_found(self, runtime: Runtime) -> None:
        async with runtime.sessions() as session:
            with pytest.raises(NotFound):
                await clinic_settings.update_clinic_settings(
                    session, clinic_id=uuid.uuid4(), changes=ClinicSettingsChanges(name="x")
                )
