"""The practice API's assistants: create, update, list, disable, delete; PractitionerIds limits them."""

from __future__ import annotations

import re
import uuid

from tests.surfaces.intakeq.conftest import PracticeAccount

ASSISTANT_FIELDS = {"Id", "Name", "Email", "RoleName", "ExternalAssistantId", "PractitionerIds"}


class TestCreateAssistant:
    async def test_answers_the_assistant_with_practitioners_by_id_or_external_id(
        self, practice: PracticeAccount
    ) -> None:
        one = await practice.create_practitioner()
        two = await practice.create_practitioner(ExternalPractitionerId="two")
        response = await practice.post(
            "/assistants",
            {
                "Name": "John Smith",
                "Email": "js@email.example",
                "RoleName": "Administrator",
                "ExternalAssistantId": "abcd",
                "PractitionerIds": [one["Id"], "two"],
            },
        )
        assert response.status_code == 200
        body = response.json()
        assert set(body) == ASSISTANT_FIELDS
        assert re.fullmatch(r"[0-9a-f]{32}", body["Id"])
        assert sorted(body["PractitionerIds"]) == sorted([one["Id"], two["Id"]])
        assert (body["Name"], body["Email"], body["RoleName"], body["ExternalAssistantId"]) == (
            "John Smith",
            "js@email.example",
            "Administrator",
            "abcd",
        )

    async def test_no_practitioner_ids_means_all_and_a_bare_id_is_a_list(
        self, practice: PracticeAccount
    ) -> None:
        one = await practice.create_practitioner()
        empty = await practice.post("/assistants", {"Name": "A", "Email": "a@x.example"})
        assert empty.json()["PractitionerIds"] == []
        bare = await practice.post(
            "/assistants", {"Name": "B", "Email": "b@x.example", "PractitionerIds": one["Id"]}
        )
        assert bare.json()["PractitionerIds"] == [one["Id"]]

    async def test_an_unknown_or_another_practices_practitioner_is_a_400(
        self, practice: PracticeAccount, other_practice: PracticeAccount
    ) -> None:
        theirs = await other_practice.create_practitioner()
        for reference in (theirs["Id"], "nobody", uuid.uuid4().hex):
            response = await practice.post(
                "/assistants", {"Name": "A", "Email": "a@x.example", "PractitionerIds": [reference]}
            )
            assert response.status_code == 400
            assert response.json()["Message"].startswith("PractitionerIds: no practitioner")

    async def test_required_fields_unknown_role_wrong_types_and_duplicates(
        self, practice: PracticeAccount
    ) -> None:
        cases = [
            ({"Email": "a@x.example"}, "Name: is required"),
            ({"Name": "A"}, "Email: is required"),
            ({"Name": "A", "Email": "a@x.example", "RoleName": "Ghost"}, "RoleName: no role named"),
            ({"Name": "A", "Email": "a@x.example", "PractitionerIds": [{"x": 1}]}, "PractitionerIds.0: "),
            ({"Name": 5, "Email": "a@x.example"}, "Name: "),
        ]
        for body, message in cases:
            response = await practice.post("/assistants", body)
            assert response.status_code == 400, body
            assert response.json()["Message"].startswith(message), response.json()
        await practice.post(
            "/assistants", {"Name": "A", "Email": "a@x.example", "ExternalAssistantId": "same"}
        )
        response = await practice.post(
            "/assistants", {"Name": "B", "Email": "b@x.example", "ExternalAssistantId": "same"}
        )
        assert response.status_code == 400
        assert response.json()["Message"].startswith("ExternalAssistantId: ")


class TestUpdateListDisableDelete:
    async def test_update_by_id_or_external_id_replaces_the_practitioners(
        self, practice: PracticeAccount
    ) -> None:
        one = await practice.create_practitioner()
        made = (
            await practice.post(
                "/assistants",
                {
                    "Name": "A",
                    "Email": "a@x.example",
                    "ExternalAssistantId": "as-1",
                    "PractitionerIds": [one["Id"]],
                },
            )
        ).json()
        response = await practice.put(
            "/assistants", {"Id": made["Id"], "Name": "Anna Lee", "LastName": "Lee"}
        )
        assert response.status_code == 200
        assert (response.json()["Name"], response.json()["PractitionerIds"]) == ("Anna Lee", [one["Id"]])
        response = await practice.put("/assistants", {"ExternalAssistantId": "as-1", "PractitionerIds": []})
        assert response.json()["PractitionerIds"] == []
        response = await practice.put("/assistants", {"Name": "X"})
        assert response.status_code == 400

    async def test_list_disable_and_delete(
        self, practice: PracticeAccount, other_practice: PracticeAccount
    ) -> None:
        made = (
            await practice.post(
                "/assistants", {"Name": "A", "Email": "a@x.example", "ExternalAssistantId": "as-2"}
            )
        ).json()
        theirs = (await other_practice.post("/assistants", {"Name": "T", "Email": "t@x.example"})).json()
        assert [row["Id"] for row in (await practice.get("/assistants")).json()] == [made["Id"]]
        assert (await practice.post("/assistants/as-2/disable")).status_code == 200
        assert (await practice.get("/assistants")).json() == []
        assert [row["Id"] for row in (await practice.get("/assistants", includeInactive="true")).json()] == [
            made["Id"]
        ]
        assert (await practice.post(f"/assistants/{theirs['Id']}/disable")).status_code == 404
        assert (await practice.delete(f"/assistants/{theirs['Id']}")).status_code == 404
        assert (await practice.put("/assistants", {"Id": theirs["Id"], "Name": "X"})).status_code == 404
        assert (await practice.delete(f"/assistants/{made['Id']}")).status_code == 200
        assert (await practice.get("/assistants", includeInactive="true")).json() == []
        assert (await practice.delete("/assistants/as-2")).status_code == 404

    async def test_deleting_a_practitioner_drops_it_from_the_assistants(
        self, practice: PracticeAccount
    ) -> None:
        one = await practice.create_practitioner()
        two = await practice.create_practitioner()
        made = (
            await practice.post(
                "/assistants",
                {"Name": "A", "Email": "a@x.example", "PractitionerIds": [one["Id"], two["Id"]]},
            )
        ).json()
        assert (await practice.delete(f"/practitioners/{one['Id']}")).status_code == 200
        [listed] = (await practice.get("/assistants")).json()
        assert (listed["Id"], listed["PractitionerIds"]) == (made["Id"], [two["Id"]])

    async def test_the_last_practitioner_of_an_assistant_is_not_deleted(
        self, practice: PracticeAccount
    ) -> None:
        one = await practice.create_practitioner()
        await practice.post(
            "/assistants", {"Name": "A", "Email": "a@x.example", "PractitionerIds": [one["Id"]]}
        )
        response = await practice.delete(f"/practitioners/{one['Id']}")
        assert response.status_code == 400
        assert "assistant" in response.json()["Message"]
