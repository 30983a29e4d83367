"""``/exam_invite``: required fields, integrator quirks, exams, test mode, the stored meeting, patient
exams, client, events and the invite's webhook endpoint."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from sqlalchemy import select, update

from clinicore.core.models import (
    Client,
    Clinic,
    Event,
    Meeting,
    PatientExam,
    WebhookEndpoint,
    WebhookFormat,
)
from clinicore.core.models import (
    TestOutcome as Outcome,
)
from clinicore.core.telehealth.events import AGGREGATE, INVITE_WEBHOOK_EVENT_TYPES
from tests.surfaces.qualiphy.conftest import NOW, QualiphyClinic


def invite_body(*exam_ids: int, **overrides: Any) -> dict[str, Any]:
    """A valid live invite (NY) for a fictional patient; ``None`` in overrides removes a field."""
    body: dict[str, Any] = {
        "exams": list(exam_ids),
        "first_name": "Jane",
        "last_name": "Doe",
        "email": "jane.doe@patients.example.com",
        "dob": "1990-06-30",
        "phone_number": "+15552223232",
        "tele_state": "NY",
    }
    body.update(overrides)
    return {name: value for name, value in body.items() if value is not None}


def te_invite_body(*exam_ids: int, name: str = "Test Approve", **overrides: Any) -> dict[str, Any]:
    """A test-mode invite (state and tele_state TE) whose patient's name asks for an outcome."""
    first, last = name.split(" ", 1)
    fields: dict[str, Any] = {"first_name": first, "last_name": last, "state": "TE", "tele_state": "TE"}
    return invite_body(*exam_ids, **{**fields, **overrides})


async def invite(qp: QualiphyClinic, body: dict[str, Any]) -> dict[str, Any]:
    response = await qp.post("exam_invite", **body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def error_of(qp: QualiphyClinic, body: dict[str, Any], status: int = 400) -> str:
    response = await qp.post("exam_invite", **body)
    assert response.status_code == status, response.text
    payload = response.json()
    assert payload["http_code"] == status
    message: str = payload["error_message"]
    return message


async def read_meeting(qp: QualiphyClinic, meeting_uuid: str) -> Meeting:
    async with qp.runtime.sessions() as session:
        meeting = await session.get(Meeting, uuid.UUID(meeting_uuid))
    assert meeting is not None
    return meeting


async def read_patient_exams(qp: QualiphyClinic, meeting_uuid: str) -> Sequence[PatientExam]:
    async with qp.runtime.sessions() as session:
        return (
            await session.scalars(
                select(PatientExam)
                .where(PatientExam.meeting_id == uuid.UUID(meeting_uuid))
                .order_by(PatientExam.id)
            )
        ).all()


async def clients_of(qp: QualiphyClinic) -> Sequence[Client]:
    async with qp.runtime.sessions() as session:
        return (
            await session.scalars(
                select(Client).where(Client.clinic_id == qp.arranged.clinic.id).order_by(Client.number)
            )
        ).all()


class TestInvite:
    async def test_an_invite_answers_the_meeting_and_its_patient_exams(self, qp: QualiphyClinic) -> None:
        body = await invite(qp, invite_body(qp.catalog.botox.id, qp.catalog.glp1.id))

        assert set(body) == {"http_code", "meeting_url", "meeting_uuid", "patient_exams"}
        assert body["http_code"] == 200
        meeting_uuid = body["meeting_uuid"]
        assert str(uuid.UUID(meeting_uuid)) == meeting_uuid
        assert body["meeting_url"].startswith(f"http://testserver/meet/{meeting_uuid}?expires=")
        exams = body["patient_exams"]
        assert [(item["exam_id"], item["exam_title"]) for item in exams] == [
            (qp.catalog.botox.id, "GFE - Botox"),
            (qp.catalog.glp1.id, "GLP-1 Weight Loss"),
        ]
        assert all(isinstance(item["patient_exam_id"], int) for item in exams)

    async def test_the_meeting_link_is_signed_for_that_meeting(self, qp: QualiphyClinic) -> None:
        body = await invite(qp, invite_body(qp.catalog.botox.id))
        query = dict(parse_qsl(urlsplit(body["meeting_url"]).query))
        signature, expires = query["signature"], int(query["expires"])
        links = qp.runtime.links
        path = f"/meet/{body['meeting_uuid']}"
        assert links.verify(path, signature=signature, expires=expires, now=NOW)
        assert not links.verify(f"/meet/{uuid.uuid4()}", signature=signature, expires=expires, now=NOW)

    async def test_the_meeting_and_one_pending_patient_exam_per_exam_are_stored(
        self, qp: QualiphyClinic
    ) -> None:
        body = await invite(
            qp,
            invite_body(
                qp.catalog.botox.id,
                qp.catalog.filler.id,
                redirect_approve="https://clinic.example.com/ok",
                redirect_missed="https://clinic.example.com/missed",
                shipping_address_line_1="1 Main St",
                shipping_city="Albany",
                shipping_state="ny",
                shipping_zip_code="12207",
            ),
        )
        meeting = await read_meeting(qp, body["meeting_uuid"])
        assert meeting.clinic_id == qp.arranged.clinic.id
        assert meeting.tele_state == "NY" and not meeting.is_test and meeting.test_outcome is None
        assert meeting.source == "qualiphy"
        assert meeting.redirect_approve == "https://clinic.example.com/ok"
        assert meeting.redirect_missed == "https://clinic.example.com/missed"
        assert (meeting.shipping_city, meeting.shipping_state, meeting.shipping_zip_code) == (
            "Albany",
            "NY",
            "12207",
        )
        # A GFE-only meeting routes nothing.
        assert meeting.pharmacy_routing is None and meeting.pharmacy_id is None
        patient_exams = await read_patient_exams(qp, body["meeting_uuid"])
        assert [row.id for row in patient_exams] == [
            item["patient_exam_id"] for item in body["patient_exams"]
        ]
        for row in patient_exams:
            assert row.status == "pending" and row.version == 1
            assert row.tele_state == "NY" and not row.is_test and row.next_action_at is None
            assert row.client_id == meeting.client_id and row.created_at == NOW

    async def test_each_patient_exam_emits_created_on_its_meeting(self, qp: QualiphyClinic) -> None:
        body = await invite(qp, invite_body(qp.catalog.botox.id, qp.catalog.hair.id))
        async with qp.runtime.sessions() as session:
            events = (
                await session.scalars(
                    select(Event).where(Event.aggregate_id == body["meeting_uuid"]).order_by(Event.sequence)
                )
            ).all()
        assert [(event.type, event.aggregate_type) for event in events] == [
            ("patient_exam.created", AGGREGATE),
            ("patient_exam.created", AGGREGATE),
        ]
        assert [event.payload["patient_exam_id"] for event in events] == [
            item["patient_exam_id"] for item in body["patient_exams"]
        ]
        assert events[1].payload["exam_title"] == "Hair Loss Treatment"
        assert events[1].payload["is_test"] is False
        assert "Jane" not in str(events[1].payload)  # no PHI in the event payload

    async def test_the_client_is_created_then_found_by_email_without_case(self, qp: QualiphyClinic) -> None:
        await invite(qp, invite_body(qp.catalog.botox.id, gender=2, city="Albany", zip_code="12207"))
        await invite(
            qp,
            invite_body(qp.catalog.filler.id, email="JANE.DOE@Patients.Example.com", first_name="Janet"),
        )
        [client] = await clients_of(qp)
        assert client.number == 1
        # The client has exams: a later invite never rewrites who they are.
        assert (client.first_name, client.email) == ("Jane", "jane.doe@patients.example.com")
        assert client.phone == "+15552223232"
        assert client.date_of_birth is not None and client.date_of_birth.isoformat() == "1990-06-30"
        assert client.gender == 2 and client.city == "Albany" and client.zip_code == "12207"

        await invite(
            qp, invite_body(qp.catalog.botox.id, email="john@patients.example.com", phone_number="2125550100")
        )
        numbers = [(row.number, row.phone) for row in await clients_of(qp)]
        assert numbers == [(1, "+15552223232"), (2, "+12125550100")]

    async def test_the_meeting_keeps_the_patient_as_the_invite_named_them(self, qp: QualiphyClinic) -> None:
        first = await invite(qp, invite_body(qp.catalog.botox.id))
        second = await invite(
            qp,
            invite_body(
                qp.catalog.filler.id,
                first_name="Janet",
                email="JANE.DOE@patients.example.com",
                phone_number="2125550100",
                dob="1991-01-02",
            ),
        )
        earlier = await read_meeting(qp, first["meeting_uuid"])
        later = await read_meeting(qp, second["meeting_uuid"])
        assert earlier.client_id == later.client_id
        assert (earlier.patient_first_name, earlier.patient_phone) == ("Jane", "+15552223232")
        assert (later.patient_first_name, later.patient_email, later.patient_phone) == (
            "Janet",
            "JANE.DOE@patients.example.com",
            "+12125550100",
        )
        assert later.patient_date_of_birth is not None
        assert later.patient_date_of_birth.isoformat() == "1991-01-02"

    async def test_client_numbers_are_per_clinic(self, qp: QualiphyClinic, other_qp: QualiphyClinic) -> None:
        await invite(qp, invite_body(qp.catalog.botox.id))
        await invite(other_qp, invite_body(other_qp.catalog.botox.id))
        assert [row.number for row in await clients_of(qp)] == [1]
        assert [row.number for row in await clients_of(other_qp)] == [1]


class TestRequiredFields:
    @pytest.mark.parametrize(
        "field", ["exams", "first_name", "last_name", "email", "dob", "phone_number", "tele_state"]
    )
    async def test_a_missing_required_field_is_named(self, qp: QualiphyClinic, field: str) -> None:
        body = invite_body(qp.catalog.botox.id)
        del body[field]
        assert await error_of(qp, body) == f"{field} is required"

    @pytest.mark.parametrize("field", ["first_name", "email", "tele_state"])
    async def test_a_blank_required_field_is_missing(self, qp: QualiphyClinic, field: str) -> None:
        assert await error_of(qp, invite_body(qp.catalog.botox.id, **{field: "  "})) == f"{field} is required"

    async def test_an_empty_exams_array_is_missing(self, qp: QualiphyClinic) -> None:
        assert await error_of(qp, invite_body()) == "exams is required"

    @pytest.mark.parametrize("dob", ["06/30/1990", "1990-6-30", "1990-02-30", "19900630", "yesterday"])
    async def test_a_dob_not_in_iso_format_is_refused(self, qp: QualiphyClinic, dob: str) -> None:
        message = await error_of(qp, invite_body(qp.catalog.botox.id, dob=dob))
        assert message == "dob: must be a date in YYYY-MM-DD format"

    async def test_a_dob_in_the_future_is_refused(self, qp: QualiphyClinic) -> None:
        tomorrow = (NOW + timedelta(days=1)).date().isoformat()
        message = await error_of(qp, invite_body(qp.catalog.botox.id, dob=tomorrow))
        assert message == "dob: must be a past date in YYYY-MM-DD format"

    async def test_an_invalid_email_is_refused(self, qp: QualiphyClinic) -> None:
        message = await error_of(qp, invite_body(qp.catalog.botox.id, email="jane.doe@"))
        assert message.startswith("email: ")

    @pytest.mark.parametrize("phone", ["12345", "call me", "+1 555"])
    async def test_an_invalid_phone_is_refused(self, qp: QualiphyClinic, phone: str) -> None:
        message = await error_of(qp, invite_body(qp.catalog.botox.id, phone_number=phone))
        assert message.startswith("phone_number: ") and "+15552223232 or 1234567890" in message

    @pytest.mark.parametrize("gender", [4, 0, "female", True])
    async def test_gender_must_be_1_2_or_3(self, qp: QualiphyClinic, gender: Any) -> None:
        message = await error_of(qp, invite_body(qp.catalog.botox.id, gender=gender))
        assert message.startswith("gender: ")

    async def test_a_non_numeric_exam_id_is_refused(self, qp: QualiphyClinic) -> None:
        assert await error_of(qp, invite_body(exams=["botox"])) == "exams: must be a number"
        assert (
            await error_of(qp, invite_body(exams=[2**40])) == "exams: must be a number from 0 to 2147483647"
        )
        message = await error_of(qp, invite_body(qp.catalog.glp1.id, pharmacy_id=2**40))
        assert message == "pharmacy_id: must be a number from 0 to 2147483647"


class TestTolerance:
    async def test_ids_as_strings_and_a_bare_exams_number_work(self, qp: QualiphyClinic) -> None:
        as_strings = await invite(qp, invite_body(exams=[str(qp.catalog.botox.id), str(qp.catalog.glp1.id)]))
        assert [item["exam_id"] for item in as_strings["patient_exams"]] == [
            qp.catalog.botox.id,
            qp.catalog.glp1.id,
        ]
        bare = await invite(qp, invite_body(exams=qp.catalog.filler.id))
        assert [item["exam_id"] for item in bare["patient_exams"]] == [qp.catalog.filler.id]
        bare_string = await invite(qp, invite_body(exams=str(qp.catalog.filler.id)))
        assert [item["exam_id"] for item in bare_string["patient_exams"]] == [qp.catalog.filler.id]

    async def test_unknown_fields_are_ignored_and_10_digit_phones_work(self, qp: QualiphyClinic) -> None:
        body = await invite(
            qp,
            invite_body(qp.catalog.botox.id, phone_number="1234567890", favourite_color="teal", gender="2"),
        )
        meeting = await read_meeting(qp, body["meeting_uuid"])
        async with qp.runtime.sessions() as session:
            client = await session.get(Client, meeting.client_id)
        assert client is not None and client.phone == "+11234567890" and client.gender == 2

    async def test_a_trailing_slash_and_a_bearer_header_work(self, qp: QualiphyClinic) -> None:
        response = await qp.client.post(
            "/exam_invite/",
            json=invite_body(qp.catalog.botox.id),
            headers={"Authorization": f"Bearer {qp.api_key}"},
        )
        assert response.status_code == 200, response.text

    async def test_a_form_encoded_body_works(self, qp: QualiphyClinic) -> None:
        form = {**invite_body(qp.catalog.botox.id), "exams": str(qp.catalog.botox.id), "api_key": qp.api_key}
        response = await qp.client.post("/exam_invite", data=form)
        assert response.status_code == 200, response.text

    @pytest.mark.parametrize("additional_data", ['{"order_id": "A-1"}', {"order_id": "A-1", "items": [1, 2]}])
    async def test_additional_data_is_stored_unchanged(
        self, qp: QualiphyClinic, additional_data: Any
    ) -> None:
        body = await invite(qp, invite_body(qp.catalog.botox.id, additional_data=additional_data))
        meeting = await read_meeting(qp, body["meeting_uuid"])
        assert meeting.additional_data == additional_data
        assert type(meeting.additional_data) is type(additional_data)


class TestAuthAndExams:
    async def test_a_missing_api_key_is_a_401(self, qp: QualiphyClinic) -> None:
        response = await qp.client.post("/exam_invite", json=invite_body(qp.catalog.botox.id))
        assert response.status_code == 401
        assert response.json() == {"http_code": 401, "error_message": "api_key is required"}

    async def test_an_invalid_api_key_is_a_401(self, qp: QualiphyClinic) -> None:
        response = await qp.client.post(
            "/exam_invite", json={**invite_body(qp.catalog.botox.id), "api_key": "nope"}
        )
        assert response.status_code == 401
        assert response.json()["error_message"] == "Invalid api_key"

    async def test_an_inactive_clinic_is_a_401(self, qp: QualiphyClinic) -> None:
        async with qp.runtime.sessions() as session, session.begin():
            await session.execute(
                update(Clinic).where(Clinic.id == qp.arranged.clinic.id).values(is_active=False)
            )
        assert await error_of(qp, invite_body(qp.catalog.botox.id), 401) == "Clinic is inactive"

    async def test_another_clinics_exam_is_not_enabled(
        self, qp: QualiphyClinic, other_qp: QualiphyClinic
    ) -> None:
        theirs = other_qp.catalog.botox.id
        message = await error_of(qp, invite_body(qp.catalog.filler.id, theirs), 401)
        assert message == f"Exam {theirs} is not enabled for this clinic"
        assert await error_of(qp, invite_body(999999), 401) == "Exam 999999 is not enabled for this clinic"

    async def test_two_rx_exams_are_refused(self, qp: QualiphyClinic) -> None:
        message = await error_of(qp, invite_body(qp.catalog.glp1.id, qp.catalog.hair.id))
        assert message.startswith("exams: only one Rx exam per meeting")

    async def test_gfe_exams_stack_with_one_rx(self, qp: QualiphyClinic) -> None:
        body = await invite(qp, invite_body(qp.catalog.botox.id, qp.catalog.filler.id, qp.catalog.glp1.id))
        assert len(body["patient_exams"]) == 3

    async def test_a_duplicate_exam_is_refused(self, qp: QualiphyClinic) -> None:
        message = await error_of(qp, invite_body(qp.catalog.botox.id, qp.catalog.botox.id))
        assert message == f"exams: exam {qp.catalog.botox.id} is listed more than once"


class TestTeleState:
    @pytest.mark.parametrize(("code", "name"), [("AL", "Alabama"), ("ms", "Mississippi")])
    async def test_alabama_and_mississippi_are_refused(
        self, qp: QualiphyClinic, code: str, name: str
    ) -> None:
        message = await error_of(qp, invite_body(qp.catalog.botox.id, tele_state=code))
        assert message.startswith(f"tele_state: {name} ({code.upper()}) is not currently supported")

    async def test_an_unknown_state_is_refused(self, qp: QualiphyClinic) -> None:
        message = await error_of(qp, invite_body(qp.catalog.botox.id, tele_state="XX"))
        assert message.startswith("tele_state: 'XX' is not a supported state")

    async def test_dc_is_served(self, qp: QualiphyClinic) -> None:
        body = await invite(qp, invite_body(qp.catalog.botox.id, tele_state="dc"))
        assert (await read_meeting(qp, body["meeting_uuid"])).tele_state == "DC"

    @pytest.mark.parametrize("state", [None, "NY", "te"])
    async def test_tele_state_te_alone_is_test_mode_whatever_the_address_state(
        self, qp: QualiphyClinic, state: str | None
    ) -> None:
        """Five of seven integrations send ``tele_state: TE`` and no ``state`` (only an address)."""
        body = invite_body(
            qp.catalog.botox.id, first_name="Test", last_name="Approve", tele_state="TE", state=state
        )
        invited = await invite(qp, body)
        meeting = await read_meeting(qp, invited["meeting_uuid"])
        assert meeting.is_test and meeting.tele_state == "TE" and meeting.test_outcome == Outcome.approve
        [client] = await clients_of(qp)
        assert client.state == ("NY" if state == "NY" else None)  # TE is no address

    async def test_state_te_with_a_live_tele_state_is_no_address(self, qp: QualiphyClinic) -> None:
        message = await error_of(qp, invite_body(qp.catalog.botox.id, state="TE"))
        assert message.startswith("state: TE is not a U.S. state; test mode is asked for with tele_state TE")

    async def test_a_test_name_without_one_outcome_is_refused_with_the_accepted_names(
        self, qp: QualiphyClinic
    ) -> None:
        for name in ("Jane Doe", "Test Approve Reject"):
            message = await error_of(qp, te_invite_body(qp.catalog.botox.id, name=name))
            assert message.startswith("first_name/last_name: in test mode")
            assert "Test Approve, Test Reject, Test N/A, Test Prescription Approve" in message

    @pytest.mark.parametrize(
        ("name", "outcome"),
        [
            ("Test Approve", Outcome.approve),
            ("Test GFE-Approve", Outcome.approve),
            ("Test N/A", Outcome.na),
            ("Test Prescription Reject", Outcome.rx_reject),
        ],
    )
    async def test_a_test_invite_stores_its_outcome_and_timer(
        self, qp: QualiphyClinic, name: str, outcome: Outcome
    ) -> None:
        body = await invite(
            qp, te_invite_body(qp.catalog.botox.id, qp.catalog.glp1.id, name=name, state="te")
        )
        meeting = await read_meeting(qp, body["meeting_uuid"])
        assert meeting.is_test and meeting.tele_state == "TE" and meeting.test_outcome == outcome
        delay = timedelta(seconds=qp.runtime.settings.test_provider_delay_seconds)
        for row in await read_patient_exams(qp, body["meeting_uuid"]):
            assert row.is_test and row.tele_state == "TE"
            assert row.next_action_at == NOW + delay


class TestWebhookUrl:
    async def test_a_webhook_url_creates_an_endpoint_bound_to_the_meeting(self, qp: QualiphyClinic) -> None:
        url = "http://127.0.0.1:9/qualiphy/hooks?token=abc"
        body = await invite(qp, invite_body(qp.catalog.botox.id, webhook_url=url))
        meeting = await read_meeting(qp, body["meeting_uuid"])
        assert meeting.webhook_url == url and meeting.webhook_endpoint_id is not None
        async with qp.runtime.sessions() as session:
            endpoint = await session.get(WebhookEndpoint, meeting.webhook_endpoint_id)
        assert endpoint is not None
        assert endpoint.clinic_id == qp.arranged.clinic.id
        assert endpoint.format == WebhookFormat.qualiphy and endpoint.url == url
        assert endpoint.bound_aggregate_type == AGGREGATE
        assert endpoint.bound_aggregate_id == body["meeting_uuid"]
        assert endpoint.event_types == list(INVITE_WEBHOOK_EVENT_TYPES)

    async def test_no_webhook_url_no_endpoint(self, qp: QualiphyClinic) -> None:
        body = await invite(qp, invite_body(qp.catalog.botox.id))
        assert (await read_meeting(qp, body["meeting_uuid"])).webhook_endpoint_id is None

    @pytest.mark.parametrize(
        ("url", "reason"),
        [
            ("http://169.254.169.254/latest/meta-data", "webhooks must go to a public address"),
            ("ftp://example.com/hook", "must start with http:// or https://"),
        ],
    )
    async def test_a_refused_webhook_url_is_a_400_with_the_reason(
        self, qp: QualiphyClinic, url: str, reason: str
    ) -> None:
        message = await error_of(qp, invite_body(qp.catalog.botox.id, webhook_url=url))
        assert message.startswith("webhook_url: ") and reason in message
