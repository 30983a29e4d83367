"""The practice API's practitioners: create, update, list, disable, enable, delete and the transfers."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import select

from clinicore.core.models import Appointment, Client
from clinicore.core.staff import roles
from clinicore.runtime import Runtime
from tests.surfaces.intakeq.conftest import PartnerAccount, PracticeAccount, open_practice

PRACTITIONER_FIELDS = {
    "Id",
    "CompleteName",
    "FirstName",
    "LastName",
    "Email",
    "RoleName",
    "ExternalPractitionerId",
}


async def define_role(runtime: Runtime, partner: PartnerAccount, name: str) -> None:
    async with runtime.sessions() as session, session.begin():
        await roles.define_role(
            session, partner_id=partner.partner.id, name=name, permissions=roles.Permissions(send_forms=True)
        )


class TestCreatePractitioner:
    async def test_answers_the_doc_shape_with_administrator_by_default(
        self, practice: PracticeAccount
    ) -> None:
        response = await practice.post(
            "/practitioners",
            {
                "FirstName": "John",
                "LastName": "Smith",
                "Email": "js@email.example",
                "ExternalPractitionerId": "abcd",
            },
        )
        assert response.status_code == 200
        body = response.json()
        assert set(body) == PRACTITIONER_FIELDS
        assert re.fullmatch(r"[0-9a-f]{32}", body["Id"])
        assert body | {"Id": None} == {
            "Id": None,
            "CompleteName": "John Smith",
            "FirstName": "John",
            "LastName": "Smith",
            "Email": "js@email.example",
            "RoleName": "Administrator",
            "ExternalPractitionerId": "abcd",
        }

    async def test_a_partner_role_by_name_any_case(
        self, partner: PartnerAccount, practice: PracticeAccount
    ) -> None:
        await define_role(practice.runtime, partner, "Front Desk")
        body = await practice.create_practitioner(RoleName="front desk")
        assert body["RoleName"] == "Front Desk"

    async def test_an_unknown_role_is_a_400(
        self, other_partner: PartnerAccount, practice: PracticeAccount
    ) -> None:
        await define_role(
            practice.runtime, other_partner, "Billing"
        )  # another partner's role is unknown here
        for role in ("Billing", "Nobody", "x" * 150):
            response = await practice.post(
                "/practitioners",
                {"FirstName": "A", "LastName": "B", "Email": "r@x.example", "RoleName": role},
            )
            assert response.status_code == 400
            assert response.json()["Message"].startswith("RoleName: no role named")

    @pytest.mark.parametrize("missing", ["FirstName", "LastName", "Email"])
    async def test_required_fields(self, practice: PracticeAccount, missing: str) -> None:
        body = {"FirstName": "A", "LastName": "B", "Email": "req@x.example"}
        response = await practice.post("/practitioners", {k: v for k, v in body.items() if k != missing})
        assert response.status_code == 400
        assert response.json() == {"Message": f"{missing}: is required"}

    async def test_a_wrong_type_or_invalid_json_is_a_400(self, practice: PracticeAccount) -> None:
        response = await practice.post(
            "/practitioners", {"FirstName": ["A"], "LastName": "B", "Email": "t@x.example"}
        )
        assert response.status_code == 400
        assert response.json()["Message"].startswith("FirstName: ")
        response = await practice.client.post(
            "/intakeq/api/v1/practitioners",
            content=b"{",
            headers=practice.headers | {"Content-Type": "Application/Json"},
        )
        assert response.status_code == 400
        assert response.json() == {"Message": "the request body is not valid JSON"}

    async def test_the_external_id_is_unique_in_the_practice_only(
        self, practice: PracticeAccount, other_practice: PracticeAccount
    ) -> None:
        await practice.create_practitioner(ExternalPractitionerId="ext-1")
        response = await practice.post(
            "/practitioners",
            {"FirstName": "A", "LastName": "B", "Email": "u@x.example", "ExternalPractitionerId": "ext-1"},
        )
        assert response.status_code == 400
        assert response.json() == {
            "Message": "ExternalPractitionerId: another practitioner of this clinic"
            " has this ExternalPractitionerId"
        }
        await other_practice.create_practitioner(ExternalPractitionerId="ext-1")


class TestUpdatePractitioner:
    async def test_by_id_or_by_external_id(self, partner: PartnerAccount, practice: PracticeAccount) -> None:
        await define_role(practice.runtime, partner, "Clinician")
        made = await practice.create_practitioner(ExternalPractitionerId="up-1")
        response = await practice.put(
            "/practitioners",
            {
                "Id": made["Id"],
                "FirstName": "Debra",
                "RoleName": "Clinician",
                "ExternalPractitionerId": "up-2",
            },
        )
        assert response.status_code == 200
        assert response.json() | {"Email": None} == made | {
            "FirstName": "Debra",
            "CompleteName": "Debra Morgan",
            "RoleName": "Clinician",
            "ExternalPractitionerId": "up-2",
            "Email": None,
        }
        response = await practice.put(
            "/practitioners", {"ExternalPractitionerId": "up-2", "Email": "new@x.example"}
        )
        assert response.status_code == 200
        assert (response.json()["Id"], response.json()["Email"]) == (made["Id"], "new@x.example")

    async def test_without_id_is_a_400_and_unknown_or_another_practices_is_404(
        self, practice: PracticeAccount, other_practice: PracticeAccount
    ) -> None:
        response = await practice.put("/practitioners", {"FirstName": "X"})
        assert response.status_code == 400
        assert response.json()["Message"].startswith("Id: ")
        theirs = await other_practice.create_practitioner(ExternalPractitionerId="theirs")
        for body in ({"Id": theirs["Id"]}, {"ExternalPractitionerId": "theirs"}, {"Id": uuid.uuid4().hex}):
            response = await practice.put("/practitioners", body | {"FirstName": "X"})
            assert response.status_code == 404
            assert response.json() == {"Message": "practitioner not found"}

    async def test_an_unknown_role_is_a_400(self, practice: PracticeAccount) -> None:
        made = await practice.create_practitioner()
        response = await practice.put("/practitioners", {"Id": made["Id"], "RoleName": "Ghost"})
        assert response.status_code == 400


class TestListDisableEnable:
    async def test_disabled_ones_are_listed_only_with_include_inactive(
        self, practice: PracticeAccount
    ) -> None:
        made = await practice.create_practitioner(ExternalPractitionerId="dis-1")
        assert (await practice.post("/practitioners/dis-1/disable")).status_code == 200
        active = {row["Id"] for row in (await practice.get("/practitioners")).json()}
        assert made["Id"] not in active
        for flag in ("true", "True", "1"):
            everyone = {
                row["Id"] for row in (await practice.get("/practitioners", includeInactive=flag)).json()
            }
            assert made["Id"] in everyone
        assert (await practice.post(f"/practitioners/{made['Id']}/enable")).status_code == 200
        assert made["Id"] in {row["Id"] for row in (await practice.get("/practitioners")).json()}

    async def test_a_bad_include_inactive_is_a_400(self, practice: PracticeAccount) -> None:
        response = await practice.get("/practitioners", includeInactive="maybe")
        assert response.status_code == 400
        assert response.json()["Message"].startswith("includeInactive: ")

    async def test_the_main_practitioner_cannot_be_disabled(self, practice: PracticeAccount) -> None:
        [main] = (await practice.get("/practitioners")).json()
        response = await practice.post(f"/practitioners/{main['Id']}/disable")
        assert response.status_code == 400
        assert "main practitioner" in response.json()["Message"]

    async def test_another_practices_practitioner_is_404(
        self, practice: PracticeAccount, other_practice: PracticeAccount
    ) -> None:
        theirs = await other_practice.create_practitioner()
        for action in ("disable", "enable"):
            response = await practice.post(f"/practitioners/{theirs['Id']}/{action}")
            assert response.status_code == 404
        assert (await practice.delete(f"/practitioners/{theirs['Id']}")).status_code == 404

    async def test_a_disabled_practitioner_cannot_be_booked(self, practice: PracticeAccount) -> None:
        made = await practice.create_practitioner()
        await practice.book(made["Id"], hour=14)
        await practice.post(f"/practitioners/{made['Id']}/disable")
        from clinicore.kit.errors import InvalidInput

        with pytest.raises(InvalidInput, match="not active"):
            await practice.book(made["Id"], hour=16)


class TestDeletePractitioner:
    async def test_without_client_data_it_is_gone(self, practice: PracticeAccount) -> None:
        made = await practice.create_practitioner(ExternalPractitionerId="del-1")
        assert (await practice.delete("/practitioners/del-1")).status_code == 200
        listed = (await practice.get("/practitioners", includeInactive="true")).json()
        assert made["Id"] not in {row["Id"] for row in listed}
        assert (await practice.delete("/practitioners/del-1")).status_code == 404

    async def test_refused_while_it_has_clients_or_appointments(self, practice: PracticeAccount) -> None:
        with_client = await practice.create_practitioner()
        await practice.give_client(with_client["Id"])
        with_appointment = await practice.create_practitioner()
        await practice.book(with_appointment["Id"])
        for made, expected in (
            (with_client, "1 client(s), 0 appointment(s)"),
            (with_appointment, "0 client(s), 1 appointment(s)"),
        ):
            response = await practice.delete(f"/practitioners/{made['Id']}")
            assert response.status_code == 400
            assert expected in response.json()["Message"]

    async def test_the_main_practitioner_cannot_be_deleted(self, practice: PracticeAccount) -> None:
        [main] = (await practice.get("/practitioners")).json()
        assert (await practice.delete(f"/practitioners/{main['Id']}")).status_code == 400


class TestTransfers:
    async def test_transfer_data_moves_clients_and_appointments_then_delete_works(
        self, practice: PracticeAccount
    ) -> None:
        leaving = await practice.create_practitioner(ExternalPractitionerId="leaving")
        staying = await practice.create_practitioner(ExternalPractitionerId="staying")
        client = await practice.give_client(leaving["Id"])
        appointment = await practice.book(leaving["Id"])
        response = await practice.post("/practitioners/leaving/transferData/staying")
        assert response.status_code == 200
        async with practice.runtime.sessions() as session:
            owner = await session.scalar(select(Client.practitioner_id).where(Client.id == client.id))
            seen_by = await session.scalar(
                select(Appointment.practitioner_id).where(Appointment.id == appointment.id)
            )
        assert owner == seen_by == uuid.UUID(staying["Id"])
        assert (await practice.delete("/practitioners/leaving")).status_code == 200

    async def test_transfer_ownership_moves_clients_only(self, practice: PracticeAccount) -> None:
        leaving = await practice.create_practitioner()
        staying = await practice.create_practitioner()
        client = await practice.give_client(leaving["Id"])
        appointment = await practice.book(leaving["Id"])
        response = await practice.post(
            f"/practitioners/{leaving['Id']}/transferClientOwnership/{staying['Id']}"
        )
        assert response.status_code == 200
        async with practice.runtime.sessions() as session:
            owner = await session.scalar(select(Client.practitioner_id).where(Client.id == client.id))
            seen_by = await session.scalar(
                select(Appointment.practitioner_id).where(Appointment.id == appointment.id)
            )
        assert owner == uuid.UUID(staying["Id"])
        assert seen_by == uuid.UUID(leaving["Id"])
        response = await practice.delete(f"/practitioners/{leaving['Id']}")
        assert response.status_code == 400

    async def test_overlapping_appointments_refuse_the_transfer_and_move_nothing(
        self, practice: PracticeAccount
    ) -> None:
        one = await practice.create_practitioner()
        other = await practice.create_practitioner()
        mine = await practice.book(one["Id"], hour=10)
        await practice.book(other["Id"], hour=10)
        response = await practice.post(f"/practitioners/{one['Id']}/transferData/{other['Id']}")
        assert response.status_code == 400
        assert response.json() == {"Message": "the other practitioner has appointments at the same times"}
        async with practice.runtime.sessions() as session:
            seen_by = await session.scalar(
                select(Appointment.practitioner_id).where(Appointment.id == mine.id)
            )
        assert seen_by == uuid.UUID(one["Id"])

    async def test_to_itself_to_a_disabled_one_or_to_another_practices_is_refused(
        self, practice: PracticeAccount, other_practice: PracticeAccount
    ) -> None:
        one = await practice.create_practitioner()
        disabled = await practice.create_practitioner()
        await practice.post(f"/practitioners/{disabled['Id']}/disable")
        theirs = await other_practice.create_practitioner()
        for action in ("transferData", "transferClientOwnership"):
            assert (
                await practice.post(f"/practitioners/{one['Id']}/{action}/{one['Id']}")
            ).status_code == 400
            assert (
                await practice.post(f"/practitioners/{one['Id']}/{action}/{disabled['Id']}")
            ).status_code == 400
            assert (
                await practice.post(f"/practitioners/{one['Id']}/{action}/{theirs['Id']}")
            ).status_code == 404
            assert (
                await practice.post(f"/practitioners/{theirs['Id']}/{action}/{one['Id']}")
            ).status_code == 404


async def test_a_deleted_practices_key_is_refused(partner: PartnerAccount) -> None:
    practice = await open_practice(partner)
    await partner.client.delete(
        f"/intakeq/api/partner/practice/{practice.practice['Id']}", headers=partner.headers
    )
    assert (
        await practice.post("/practitioners", {"FirstName": "A", "LastName": "B", "Email": "z@x.example"})
    ).status_code == 401
