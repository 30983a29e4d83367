"""Custom client fields: defined per clinic with a key and a label (bounded, unique without case, at most
100), values bounded, blank clears, a key the clinic has not defined refused; another clinic's fields are
not this clinic's."""

from __future__ import annotations

import pytest

from clinicore.core.people import custom_fields
from clinicore.core.people import service as people_service
from clinicore.kit.errors import InvalidInput
from clinicore.runtime import Runtime
from tests.factories import create_clinic


class TestDefine:
    async def test_key_given_or_made_and_unique_without_case(self, runtime: Runtime) -> None:
        clinic_id = (await create_clinic(runtime)).clinic.id
        async with runtime.sessions() as session, session.begin():
            chosen = await custom_fields.define_field(
                session, clinic_id=clinic_id, label=" Referred  by ", key="ref"
            )
            made = await custom_fields.define_field(session, clinic_id=clinic_id, label="Plan")
            with pytest.raises(InvalidInput, match="already"):
                await custom_fields.define_field(session, clinic_id=clinic_id, label="Again", key="REF")
        assert (chosen.key, chosen.label) == ("ref", "Referred by")
        assert len(made.key) == 8
        async with runtime.sessions() as session:
            assert [f.key for f in await custom_fields.list_fields(session, clinic_id=clinic_id)] == [
                "ref",
                made.key,
            ]

    @pytest.mark.parametrize(
        ("label", "key", "field"),
        [
            ("", None, "label"),
            ("x" * 201, None, "label"),
            ("Ok", "no spaces", "key"),
            ("Ok", "k" * 41, "key"),
        ],
    )
    async def test_bad_labels_and_keys(
        self, runtime: Runtime, label: str, key: str | None, field: str
    ) -> None:
        clinic_id = (await create_clinic(runtime)).clinic.id
        async with runtime.sessions() as session:
            with pytest.raises(InvalidInput) as raised:
                await custom_fields.define_field(session, clinic_id=clinic_id, label=label, key=key)
        assert raised.value.field == field

    async def test_at_most_a_hundred_fields_a_clinic(self, runtime: Runtime) -> None:
        clinic_id = (await create_clinic(runtime)).clinic.id
        async with runtime.sessions() as session, session.begin():
            for n in range(custom_fields.MAX_FIELDS_PER_CLINIC):
                await custom_fields.define_field(session, clinic_id=clinic_id, label=f"F{n}", key=f"f{n}")
            with pytest.raises(InvalidInput, match="at most 100"):
                await custom_fields.define_field(session, clinic_id=clinic_id, label="One more")


class TestValues:
    async def test_set_clear_and_every_field_listed(self, runtime: Runtime) -> None:
        clinic_id = (await create_clinic(runtime)).clinic.id
        other_clinic_id = (await create_clinic(runtime)).clinic.id
        async with runtime.sessions() as session, session.begin():
            await custom_fields.define_field(session, clinic_id=clinic_id, label="Plan", key="plan")
            await custom_fields.define_field(session, clinic_id=clinic_id, label="Notes", key="notes")
            await custom_fields.define_field(session, clinic_id=other_clinic_id, label="Theirs", key="theirs")
            client = await people_service.client_for_contact(
                session, clinic_id=clinic_id, full_name="Val Ue", email="value@example.com", phone=None
            )
            await custom_fields.set_values(session, client=client, values={"PLAN": " Gold ", "notes": "x"})
            await custom_fields.set_values(session, client=client, values={"notes": "  "})
            with pytest.raises(InvalidInput, match="no custom field 'theirs'"):
                await custom_fields.set_values(session, client=client, values={"theirs": "x"})
            with pytest.raises(InvalidInput, match="longer than 1000"):
                await custom_fields.set_values(session, client=client, values={"plan": "x" * 1001})
            found = await custom_fields.values_by_client(session, clinic_id=clinic_id, client_ids=[client.id])
        assert [(v.field.key, v.value) for v in found[client.id]] == [("plan", "Gold"), ("notes", None)]
