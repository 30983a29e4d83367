"""The provider desk through HTTP: sign-in, sessions, the queue, claiming, the consultation page,
decisions, prescriptions and the medical director."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from clinicore.core.models import AuditEntry, Clinic, Event, PatientExam
from clinicore.core.models import TestOutcome as NamedOutcome
from clinicore.core.telehealth import lifecycle
from clinicore.runtime import Runtime
from tests.factories import (
    RETAIL_PHARMACY_ROUTING,
    ArrangedMeeting,
    Catalog,
    answer_all,
    create_catalog,
    create_clinic,
    create_meeting,
    create_partner_pharmacy,
    reload_exam,
)
from tests.web.console.pages import sign_in as console_sign_in
from tests.web.provider.desk import (
    PNG,
    SHIPPING,
    DeskProvider,
    attach_png,
    browser,
    create_desk_provider,
    desk_csrf,
    sign_in,
    waiting_exam,
)


@dataclasses.dataclass
class Desk:
    runtime: Runtime
    clinic: Clinic
    catalog: Catalog
    provider: DeskProvider


@pytest.fixture
async def desk(runtime: Runtime) -> Desk:
    clinic = (await create_clinic(runtime, name="Desk Medspa")).clinic
    return Desk(runtime, clinic, await create_catalog(runtime, clinic), await create_desk_provider(runtime))


async def signed_in(client: httpx.AsyncClient, desk: Desk) -> httpx.AsyncClient:
    response = await sign_in(client, desk.provider.email, desk.provider.password)
    assert response.status_code == 303, response.text
    return client


async def events_of(runtime: Runtime, created: ArrangedMeeting) -> list[Event]:
    async with runtime.sessions() as session:
        result = await session.scalars(
            select(Event).where(Event.aggregate_id == str(created.meeting.id)).order_by(Event.sequence)
        )
        return list(result)


async def take(client: httpx.AsyncClient, patient_exam_id: int) -> httpx.Response:
    return await client.post(
        f"/provider/exams/{patient_exam_id}/take", data={"csrf_token": await desk_csrf(client)}
    )


class TestSignIn:
    async def test_signing_in_opens_the_queue_with_a_desk_cookie(
        self, client: httpx.AsyncClient, desk: Desk
    ) -> None:
        response = await sign_in(client, desk.provider.email.upper(), desk.provider.password)
        assert response.status_code == 303
        assert response.headers["location"] == "/provider"
        cookie = response.headers["set-cookie"]
        assert "clinicore_provider_session=" in cookie and "HttpOnly" in cookie and "Path=/provider" in cookie
        queue = await client.get("/provider")
        assert queue.status_code == 200
        assert "Dr. Ana Rivera" in queue.text
        assert queue.headers["cache-control"] == "no-store"

    async def test_a_wrong_password_is_refused_without_saying_which_part(
        self, client: httpx.AsyncClient, desk: Desk
    ) -> None:
        for email, password in ((desk.provider.email, "not-the-password"), ("nobody@desk.example", "x" * 12)):
            response = await sign_in(client, email, password)
            assert response.status_code == 401
            assert "Wrong email or password." in response.text
        assert (await client.get("/provider")).status_code == 303

    async def test_too_many_failures_are_throttled_with_a_message(
        self, client: httpx.AsyncClient, desk: Desk, runtime: Runtime
    ) -> None:
        for _ in range(runtime.settings.login_attempts_per_window):
            assert (await sign_in(client, desk.provider.email, "not-the-password")).status_code == 401
        response = await sign_in(client, desk.provider.email, desk.provider.password)
        assert response.status_code == 429
        assert "Too many sign-in attempts" in response.text
        assert int(response.headers["retry-after"]) > 0

    async def test_a_sign_in_without_the_forms_token_is_rejected(
        self, client: httpx.AsyncClient, desk: Desk
    ) -> None:
        await client.get("/provider/sign-in")
        response = await client.post(
            "/provider/sign-in", data={"email": desk.provider.email, "password": desk.provider.password}
        )
        assert response.status_code == 403
        assert "clinicore_provider_session" not in client.cookies

    async def test_signing_out_ends_the_session_on_the_server(
        self, client: httpx.AsyncClient, desk: Desk
    ) -> None:
        await signed_in(client, desk)
        token = client.cookies["clinicore_provider_session"]
        response = await client.post("/provider/sign-out", data={"csrf_token": await desk_csrf(client)})
        assert response.status_code == 303
        assert response.headers["location"] == "/provider/sign-in?notice=signed-out"
        client.cookies.set("clinicore_provider_session", token, path="/provider")
        assert (await client.get("/provider")).status_code == 303

    async def test_a_form_without_the_sessions_token_is_rejected(
        self, client: httpx.AsyncClient, desk: Desk
    ) -> None:
        await signed_in(client, desk)
        assert (await client.post("/provider/sign-out", data={"csrf_token": "forged"})).status_code == 403
        assert (await client.get("/provider")).status_code == 200


DESK_ROUTES = [
    ("GET", "/provider"),
    ("GET", "/provider/exams/{id}"),
    ("GET", "/provider/exams/{id}/attachments/00000000-0000-0000-0000-000000000000"),
    ("POST", "/provider/exams/{id}/take"),
    ("POST", "/provider/exams/{id}/take-deferred"),
    ("POST", "/provider/exams/{id}/decision"),
    ("POST", "/provider/exams/{id}/prescription"),
    ("POST", "/provider/sign-out"),
]


class TestWhoMayUseTheDesk:
    @pytest.mark.parametrize(("method", "path"), DESK_ROUTES)
    async def test_every_route_refuses_a_missing_session(
        self, client: httpx.AsyncClient, desk: Desk, method: str, path: str
    ) -> None:
        created = await waiting_exam(desk.runtime, desk.clinic, desk.catalog.botox)
        url = path.format(id=created.patient_exam.id)
        response = await client.request(method, url, data={"csrf_token": "x"} if method == "POST" else None)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/provider/sign-in?next=/provider")
        assert (await reload_exam(desk.runtime, created.patient_exam)).status == "waiting_for_provider"

    @pytest.mark.parametrize(("method", "path"), DESK_ROUTES)
    async def test_every_route_refuses_a_console_users_session(
        self, client: httpx.AsyncClient, desk: Desk, runtime: Runtime, method: str, path: str
    ) -> None:
        console = await create_clinic(runtime)
        assert (await console_sign_in(client, console.email, console.password)).status_code == 303
        # Even the console's token presented as the desk's cookie opens nothing.
        client.cookies.set(
            "clinicore_provider_session", client.cookies["clinicore_session"], path="/provider"
        )
        created = await waiting_exam(desk.runtime, desk.clinic, desk.catalog.botox)
        url = path.format(id=created.patient_exam.id)
        response = await client.request(method, url, data={"csrf_token": "x"} if method == "POST" else None)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/provider/sign-in")

    async def test_a_provider_not_licensed_in_the_state_gets_403(
        self, client: httpx.AsyncClient, desk: Desk
    ) -> None:
        texas = await waiting_exam(desk.runtime, desk.clinic, desk.catalog.botox, tele_state="TX")
        await signed_in(client, desk)
        assert f'data-patient-exam-id="{texas.patient_exam.id}"' not in (await client.get("/provider")).text
        response = await client.get(f"/provider/exams/{texas.patient_exam.id}")
        assert response.status_code == 403
        assert "not licensed in TX" in response.text
        attachment_id = await attach_png(desk.runtime, texas)
        attachment = await client.get(f"/provider/exams/{texas.patient_exam.id}/attachments/{attachment_id}")
        assert attachment.status_code == 403

    async def test_another_providers_exam_is_403_and_cannot_be_decided(
        self, client: httpx.AsyncClient, desk: Desk, app: FastAPI
    ) -> None:
        created = await waiting_exam(desk.runtime, desk.clinic, desk.catalog.botox)
        other = await create_desk_provider(desk.runtime, name="Dr. Sam Ortiz")
        async with browser(app) as theirs:
            assert (await sign_in(theirs, other.email, other.password)).status_code == 303
            assert (await take(theirs, created.patient_exam.id)).status_code == 303
        await signed_in(client, desk)
        assert (await client.get(f"/provider/exams/{created.patient_exam.id}")).status_code == 403
        response = await client.post(
            f"/provider/exams/{created.patient_exam.id}/decision",
            data={"csrf_token": await desk_csrf(client), "outcome": "approved"},
        )
        assert response.status_code == 403
        assert (await reload_exam(desk.runtime, created.patient_exam)).status == "in_consultation"

    async def test_an_unknown_exam_is_404(self, client: httpx.AsyncClient, desk: Desk) -> None:
        await signed_in(client, desk)
        assert (await client.get("/provider/exams/999999999")).status_code == 404


class TestTheQueue:
    async def test_waiting_exams_of_the_providers_states_oldest_first_never_test_mode(
        self, client: httpx.AsyncClient, desk: Desk
    ) -> None:
        runtime = desk.runtime
        first = await waiting_exam(runtime, desk.clinic, desk.catalog.botox, tele_state="CA")
        second = await waiting_exam(runtime, desk.clinic, desk.catalog.glp1, tele_state="NY")
        texas = await waiting_exam(runtime, desk.clinic, desk.catalog.botox, tele_state="TX")
        test_mode = await create_meeting(
            runtime, desk.clinic, [desk.catalog.botox], test_outcome=NamedOutcome.approve
        )
        await answer_all(runtime, test_mode.patient_exam)
        async with runtime.sessions() as session, session.begin():
            await lifecycle.join_waiting_room(
                session,
                meeting_id=test_mode.meeting.id,
                patient_exam_id=test_mode.patient_exam.id,
                clock=runtime.clock,
            )
        await signed_in(client, desk)
        page = (await client.get("/provider")).text
        listed = [int(found) for found in re.findall(r'data-patient-exam-id="(\d+)"', page)]
        assert listed.index(first.patient_exam.id) < listed.index(second.patient_exam.id)
        assert texas.patient_exam.id not in listed
        assert test_mode.patient_exam.id not in listed
        assert (await client.get(f"/provider/exams/{test_mode.patient_exam.id}")).status_code == 404

    async def test_two_providers_claiming_at_once_one_wins_the_other_is_told(
        self, desk: Desk, app: FastAPI
    ) -> None:
        created = await waiting_exam(desk.runtime, desk.clinic, desk.catalog.botox)
        other = await create_desk_provider(desk.runtime, name="Dr. Sam Ortiz")
        async with browser(app) as mine, browser(app) as theirs:
            await signed_in(mine, desk)
            assert (await sign_in(theirs, other.email, other.password)).status_code == 303
            tokens = [await desk_csrf(mine), await desk_csrf(theirs)]
            responses = await asyncio.gather(
                *(
                    client.post(f"/provider/exams/{created.patient_exam.id}/take", data={"csrf_token": token})
                    for client, token in zip((mine, theirs), tokens, strict=True)
                )
            )
        statuses = sorted(response.status_code for response in responses)
        assert statuses == [303, 409]
        loser = next(response for response in responses if response.status_code == 409)
        assert "already taken" in loser.text
        winner = next(response for response in responses if response.status_code == 303)
        assert winner.headers["location"] == f"/provider/exams/{created.patient_exam.id}?notice=taken"
        exam = await reload_exam(desk.runtime, created.patient_exam)
        assert exam.status == "in_consultation"
        assert exam.provider_id in (desk.provider.provider.id, other.provider.id)


class TestTheConsultation:
    async def test_the_page_shows_answers_attachments_inline_and_is_audited(
        self, client: httpx.AsyncClient, desk: Desk
    ) -> None:
        created = await waiting_exam(desk.runtime, desk.clinic, desk.catalog.botox)
        attachment_id = await attach_png(desk.runtime, created)
        await signed_in(client, desk)
        page = await client.get(f"/provider/exams/{created.patient_exam.id}")
        assert page.status_code == 200
        assert "Jane Doe" in page.text and "Metformin 500 mg" in page.text
        url = f"/provider/exams/{created.patient_exam.id}/attachments/{attachment_id}"
        assert f'<img src="{url}"' in page.text
        image = await client.get(url)
        assert image.status_code == 200
        assert image.headers["content-type"] == "image/png"
        assert image.headers["content-disposition"].startswith("inline")
        assert image.content == PNG
        async with desk.runtime.sessions() as session:
            entries = (
                await session.scalars(
                    select(AuditEntry).where(
                        AuditEntry.actor_id == str(desk.provider.provider.id),
                        AuditEntry.target_id == str(created.patient_exam.id),
                    )
                )
            ).all()
        assert {entry.action for entry in entries} == {
            "patient_exam.viewed",
            "patient_exam.attachment_viewed",
        }
        assert all(entry.actor_type == "provider" and entry.clinic_id == desk.clinic.id for entry in entries)

    async def test_an_attachment_of_another_exam_is_404(self, client: httpx.AsyncClient, desk: Desk) -> None:
        created = await waiting_exam(desk.runtime, desk.clinic, desk.catalog.botox)
        elsewhere = await waiting_exam(desk.runtime, desk.clinic, desk.catalog.botox)
        attachment_id = await attach_png(desk.runtime, elsewhere)
        await signed_in(client, desk)
        response = await client.get(f"/provider/exams/{created.patient_exam.id}/attachments/{attachment_id}")
        assert response.status_code == 404

    async def test_approving_emits_event_1(self, client: httpx.AsyncClient, desk: Desk) -> None:
        created = await waiting_exam(desk.runtime, desk.clinic, desk.catalog.botox)
        await signed_in(client, desk)
        assert (await take(client, created.patient_exam.id)).status_code == 303
        page = f"/provider/exams/{created.patient_exam.id}"
        response = await client.post(
            f"{page}/decision", data={"csrf_token": await desk_csrf(client, page), "outcome": "approved"}
        )
        assert response.status_code == 303
        assert response.headers["location"] == f"{page}?notice=decided"
        [event] = await events_of(desk.runtime, created)
        assert event.type == "patient_exam.completed"
        assert event.payload["patient_exam"]["outcome"] == "Approved"
        assert event.payload["provider"]["name"] == "Dr. Ana Rivera"

    async def test_rejecting_without_a_reason_is_refused_and_changes_nothing(
        self, client: httpx.AsyncClient, desk: Desk
    ) -> None:
        created = await waiting_exam(desk.runtime, desk.clinic, desk.catalog.botox)
        await signed_in(client, desk)
        await take(client, created.patient_exam.id)
        page = f"/provider/exams/{created.patient_exam.id}"
        response = await client.post(
            f"{page}/decision", data={"csrf_token": await desk_csrf(client, page), "outcome": "rejected"}
        )
        assert response.status_code == 400
        assert "say why the exam is Rejected" in response.text
        assert (await reload_exam(desk.runtime, created.patient_exam)).status == "in_consultation"
        assert await events_of(desk.runtime, created) == []


async def approved_rx(client: httpx.AsyncClient, desk: Desk, **routing: Any) -> tuple[ArrangedMeeting, str]:
    created = await waiting_exam(desk.runtime, desk.clinic, desk.catalog.glp1, **routing)
    await signed_in(client, desk)
    await take(client, created.patient_exam.id)
    page = f"/provider/exams/{created.patient_exam.id}"
    response = await client.post(
        f"{page}/decision", data={"csrf_token": await desk_csrf(client, page), "outcome": "approved"}
    )
    assert response.status_code == 303
    return created, page


class TestPrescriptions:
    async def test_the_order_sets_items_prefill_the_form_and_sending_prescribes(
        self, client: httpx.AsyncClient, desk: Desk
    ) -> None:
        pharmacy = await create_partner_pharmacy(desk.runtime, desk.clinic, desk.catalog.glp1)
        created, page = await approved_rx(
            client,
            desk,
            pharmacy_routing="partner",
            pharmacy_id=pharmacy.pharmacy.id,
            provider_chooses="order_set",
            **SHIPPING,
        )
        second = pharmacy.order_sets[1]
        form = await client.get(f"{page}?order_set_id={second.id}")
        assert 'value="0.50 mg/0.5 mL"' in form.text
        response = await client.post(
            f"{page}/prescription",
            data={
                "csrf_token": await desk_csrf(client, page),
                "order_set_id": str(second.id),
                "item-0-drug_name": "Semaglutide",
                "item-0-strength": "0.50 mg/0.5 mL",
                "item-0-quantity": "5",
                "item-0-quantity_units": "mL",
                "item-0-refills": "2",
                "item-0-directions": "Inject 0.5 mg weekly.",
                "item-1-drug_name": "",
            },
        )
        assert response.status_code == 303, response.text
        assert response.headers["location"] == f"{page}?notice=prescribed"
        assert (await reload_exam(desk.runtime, created.patient_exam)).status == "prescribed"
        shown = await client.get(page)
        assert "Semaglutide 0.50 mg/0.5 mL: 5 mL, 2 refill(s)" in shown.text

    async def test_an_incomplete_prescription_is_refused_with_what_is_missing(
        self, client: httpx.AsyncClient, desk: Desk
    ) -> None:
        created, page = await approved_rx(client, desk, **RETAIL_PHARMACY_ROUTING, delivery_method="ship")
        response = await client.post(
            f"{page}/prescription",
            data={
                "csrf_token": await desk_csrf(client, page),
                "item-0-drug_name": "Nitrofurantoin",
                "item-0-strength": "100 mg",
            },
        )
        assert response.status_code == 400
        assert "the patient&#39;s shipping address (or a pickup pharmacy)" in response.text
        assert "item 1: quantity; item 1: directions" in response.text
        assert (await reload_exam(desk.runtime, created.patient_exam)).status == "completed"


class TestTheMedicalDirector:
    async def test_a_deferred_exam_is_decided_by_a_medical_director(
        self, client: httpx.AsyncClient, desk: Desk, app: FastAPI
    ) -> None:
        created = await waiting_exam(desk.runtime, desk.clinic, desk.catalog.botox)
        await signed_in(client, desk)
        await take(client, created.patient_exam.id)
        page = f"/provider/exams/{created.patient_exam.id}"
        deferred = await client.post(
            f"{page}/decision",
            data={
                "csrf_token": await desk_csrf(client, page),
                "outcome": "deferred",
                "reason": "Second opinion.",
            },
        )
        assert deferred.status_code == 303
        assert 'data-testid="deferred-queue"' not in (await client.get("/provider")).text
        director = await create_desk_provider(desk.runtime, director=True, name="Dr. Director")
        async with browser(app) as theirs:
            assert (await sign_in(theirs, director.email, director.password)).status_code == 303
            queue = (await theirs.get("/provider")).text
            assert (
                f'data-patient-exam-id="{created.patient_exam.id}"'
                in queue.split('data-testid="deferred-queue"')[1]
            )
            token = await desk_csrf(theirs)
            taken = await theirs.post(f"{page}/take-deferred", data={"csrf_token": token})
            assert taken.status_code == 303
            decided = await theirs.post(
                f"{page}/decision", data={"csrf_token": await desk_csrf(theirs, page), "outcome": "approved"}
            )
            assert decided.status_code == 303
        async with desk.runtime.sessions() as session:
            exam = await session.get(PatientExam, created.patient_exam.id)
        assert exam is not None and (exam.outcome, exam.provider_id) == ("Approved", director.provider.id)
        outcomes = [
            event.payload["patient_exam"]["outcome"] for event in await events_of(desk.runtime, created)
        ]
        assert outcomes == ["Deferred to Medical Director", "Approved"]

    async def test_a_provider_without_the_flag_cannot_take_a_deferred_exam(
        self, client: httpx.AsyncClient, desk: Desk
    ) -> None:
        created = await waiting_exam(desk.runtime, desk.clinic, desk.catalog.botox)
        await signed_in(client, desk)
        await take(client, created.patient_exam.id)
        page = f"/provider/exams/{created.patient_exam.id}"
        await client.post(
            f"{page}/decision",
            data={"csrf_token": await desk_csrf(client, page), "outcome": "deferred", "reason": "Unsure."},
        )
        response = await client.post(f"{page}/take-deferred", data={"csrf_token": await desk_csrf(client)})
        assert response.status_code == 403
        assert "only a medical director" in response.text
