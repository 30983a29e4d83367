"""Client tags: cleaned, bounded, held once per client without case, added and removed idempotently,
replaced as a set, scoped to the client's clinic."""

from __future__ import annotations

import uuid

import pytest

from clinicore.core.models import Client
from clinicore.core.people import service as people_service
from clinicore.core.people import tags
from clinicore.kit.errors import InvalidInput
from clinicore.runtime import Runtime
from tests.factories import create_clinic


async def new_client(runtime: Runtime, clinic_id: uuid.UUID, email: str = "tag@example.com") -> Client:
    async with runtime.sessions() as session, session.begin():
        return await people_service.client_for_contact(
            session, clinic_id=clinic_id, full_name="Tag Person", email=email, phone=None
        )


async def held(runtime: Runtime, client: Client) -> list[str]:
    async with runtime.sessions() as session:
        return (await tags.tags_by_client(session, clinic_id=client.clinic_id, client_ids=[client.id]))[
            client.id
        ]


class TestCleanTag:
    def test_spaces_are_trimmed_and_folded(self) -> None:
        assert tags.clean_tag("  New \t  Patient ") == "New Patient"

    @pytest.mark.parametrize(
        ("value", "message"),
        [
            (None, "tag: is required"),
            ("   ", "tag: is required"),
            ("x" * 51, "tag: at most 50 characters"),
            ("a\x07b", "tag: contains a control character"),
        ],
    )
    def test_refusals(self, value: str | None, message: str) -> None:
        with pytest.raises(InvalidInput) as raised:
            tags.clean_tag(value)
        assert raised.value.message == message
        assert raised.value.field == "tag"

    def test_fifty_characters_are_enough(self) -> None:
        assert tags.clean_tag("x" * 50) == "x" * 50


class TestAddAndRemove:
    async def test_a_tag_is_held_once_whatever_its_case(self, runtime: Runtime) -> None:
        client = await new_client(runtime, (await create_clinic(runtime)).clinic.id)
        async with runtime.sessions() as session, session.begin():
            assert await tags.add_tag(session, client=client, tag="VIP") == "VIP"
            assert await tags.add_tag(session, client=client, tag="vip") == "VIP"
            await tags.add_tag(session, client=client, tag="Follow up")
        assert await held(runtime, client) == ["VIP", "Follow up"]
        async with runtime.sessions() as session, session.begin():
            await tags.remove_tag(session, client=client, tag="FOLLOW UP")
            await tags.remove_tag(session, client=client, tag="never held")
        assert await held(runtime, client) == ["VIP"]

    async def test_at_most_fifty_tags_a_client(self, runtime: Runtime) -> None:
        client = await new_client(runtime, (await create_clinic(runtime)).clinic.id)
        async with runtime.sessions() as session, session.begin():
            for n in range(tags.MAX_TAGS_PER_CLIENT):
                await tags.add_tag(session, client=client, tag=f"t{n}")
            assert await tags.add_tag(session, client=client, tag="T0") == "t0"  # held: no change
            with pytest.raises(InvalidInput, match="at most 50 tags"):
                await tags.add_tag(session, client=client, tag="one more")
        assert len(await held(runtime, client)) == 50

    async def test_another_clients_tags_are_its_own(self, runtime: Runtime) -> None:
        clinic_id = (await create_clinic(runtime)).clinic.id
        first = await new_client(runtime, clinic_id, "first@example.com")
        second = await new_client(runtime, clinic_id, "second@example.com")
        async with runtime.sessions() as session, session.begin():
            await tags.add_tag(session, client=first, tag="vip")
            await tags.remove_tag(session, client=second, tag="vip")
        assert await held(runtime, first) == ["vip"]
        assert await held(runtime, second) == []


class TestReplace:
    async def test_the_tags_become_the_ones_given_keeping_held_spellings(self, runtime: Runtime) -> None:
        client = await new_client(runtime, (await create_clinic(runtime)).clinic.id)
        async with runtime.sessions() as session, session.begin():
            await tags.add_tag(session, client=client, tag="Alpha")
            await tags.add_tag(session, client=client, tag="Beta")
            answer = await tags.replace_tags(session, client=client, tags=["BETA", "gamma", "Gamma"])
        assert answer == ["Beta", "gamma"]
        assert await held(runtime, client) == ["Beta", "gamma"]
        async with runtime.sessions() as session, session.begin():
            assert await tags.replace_tags(session, client=client, tags=[]) == []
        assert await held(runtime, client) == []

    async def test_too_many_or_a_bad_tag_changes_nothing(self, runtime: Runtime) -> None:
        client = await new_client(runtime, (await create_clinic(runtime)).clinic.id)
        async with runtime.sessions() as session, session.begin():
            await tags.add_tag(session, client=client, tag="keep")
        for wanted in ([f"t{n}" for n in range(51)], ["fine", ""]):
            with pytest.raises(InvalidInput):
                async with runtime.sessions() as session, session.begin():
                    await tags.replace_tags(session, client=client, tags=wanted)
        assert await held(runtime, client) == ["keep"]
