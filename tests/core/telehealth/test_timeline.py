"""An exam's timeline: every status move is written with who made it (API key, patient, provider,
pharmacy user, timer), read back in words, and scoped to the clinic."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from clinicore.core.audit.service import Actor
from clinicore.core.models import ApiKeyKind, Clinic, ExamOutcome, PartnerPharmacyState
from clinicore.core.telehealth import invites, lifecycle, prescriptions, timers
from clinicore.core.telehealth.exam_views import exam_detail
from clinicore.core.telehealth.routing import PartnerRouting
from clinicore.core.telehealth.schemas import InviteRequest, InviteResult, PatientDetails, ShippingAddress
from clinicore.core.tenancy import service as tenancy_service
from clinicore.kit.clock import FrozenClock
from clinicore.kit.errors import NotFound
from clinicore.runtime import Runtime
from tests.factories import (
    answer_all,
    create_catalog,
    create_clinic,
    create_live_provider,
    create_partner_pharmacy,
)


async def _invite(
    runtime: Runtime, clinic: Clinic, exam_id: int, by: Actor, **routing: object
) -> InviteResult:
    request = InviteRequest(
        exam_ids=[exam_id],
        patient=PatientDetails(
            first_name="Jane",
            last_name="Doe",
            email="jane@patients.example.com",
            phone="2125550100",
            dob=date(1990, 6, 30),
        ),
        tele_state="NY",
        shipping=ShippingAddress(line_1="1 Main St", city="Albany", state="NY", zip_code="12207"),
        **routing,  # type: ignore[arg-type]
    )
    async with runtime.sessions() as session, session.begin():
        return await invites.invite_patient(
            session,
            clinic=clinic,
            request=request,
            box=runtime.box,
            links=runtime.links,
            allow_private_webhooks=True,
            test_provider_delay=timedelta(seconds=5),
            by=by,
            clock=runtime.clock,
        )


async def _timeline(
    runtime: Runtime, clinic: Clinic, patient_exam_id: int
) -> list[tuple[str | None, str, str]]:
    async with runtime.sessions() as session:
        detail = await exam_detail(session, clinic_id=clinic.id, patient_exam_id=patient_exam_id)
    return [(entry.from_status, entry.to_status, entry.actor) for entry in detail.timeline]


async def _to_waiting_room(runtime: Runtime, result: InviteResult) -> int:
    patient_exam = result.patient_exams[0].patient_exam
    await answer_all(runtime, patient_exam)
    async with runtime.sessions() as session, session.begin():
        await lifecycle.start_questionnaire(
            session, meeting_id=result.meeting.id, patient_exam_id=patient_exam.id
        )
        await lifecycle.join_waiting_room(
            session, meeting_id=result.meeting.id, patient_exam_id=patient_exam.id
        )
    return patient_exam.id


async def test_an_rx_exam_from_invite_to_shipment_names_each_actor(runtime: Runtime) -> None:
    clinic = (await create_clinic(runtime)).clinic
    catalog = await create_catalog(runtime, clinic)
    pharmacy = await create_partner_pharmacy(runtime, clinic, catalog.glp1)
    async with runtime.sessions() as session, session.begin():
        session.add(PartnerPharmacyState(pharmacy_id=pharmacy.pharmacy.id, state="NY"))
    async with runtime.sessions() as session, session.begin():
        key = (
            await tenancy_service.create_key(
                session, box=runtime.box, kind=ApiKeyKind.native, name="Front desk", clinic_id=clinic.id
            )
        ).key
    result = await _invite(
        runtime,
        clinic,
        catalog.glp1.id,
        Actor.api_key(key.id),
        routing=PartnerRouting(pharmacy_id=pharmacy.pharmacy.id, order_set_id=pharmacy.order_sets[0].id),
    )
    patient_exam_id = await _to_waiting_room(runtime, result)
    provider = await create_live_provider(runtime, name="Liza Park")
    pharmacist = Actor("pharmacy_user", "not-a-known-user")
    async with runtime.sessions() as session, session.begin():
        await lifecycle.take_exam(session, provider_id=provider.id, patient_exam_id=patient_exam_id)
        await lifecycle.decide(
            session,
            provider_id=provider.id,
            patient_exam_id=patient_exam_id,
            outcome=ExamOutcome.approved,
            reason=None,
            links=runtime.links,
        )
        await prescriptions.prescribe(session, provider_id=provider.id, patient_exam_id=patient_exam_id)
        await prescriptions.confirm_prescription(
            session,
            patient_exam_id=patient_exam_id,
            pharmacy_id=pharmacy.pharmacy.id,
            by=pharmacist,
            links=runtime.links,
        )
    assert await _timeline(runtime, clinic, patient_exam_id) == [
        (None, "pending", "API key “Front desk”"),
        ("pending", "in_questionnaire", "Patient"),
        ("in_questionnaire", "waiting_for_provider", "Patient"),
        ("waiting_for_provider", "in_consultation", "Provider Liza Park"),
        ("in_consultation", "completed", "Provider Liza Park"),
        ("completed", "prescribed", "Provider Liza Park"),
        ("prescribed", "confirmed_by_pharmacy", "Pharmacy"),  # an id that names nobody: the kind only
    ]
    async with runtime.sessions() as session:
        detail = await exam_detail(session, clinic_id=clinic.id, patient_exam_id=patient_exam_id)
    assert [entry.outcome for entry in detail.timeline][4] == ExamOutcome.approved.value

    other = (await create_clinic(runtime)).clinic
    with pytest.raises(NotFound):
        await _timeline(runtime, other, patient_exam_id)


async def test_a_missed_exam_and_a_cancelled_one_name_the_timer_and_the_canceller(runtime: Runtime) -> None:
    clock = FrozenClock(runtime.clock.now())
    clinic = (await create_clinic(runtime)).clinic
    catalog = await create_catalog(runtime, clinic)
    user = Actor.user(clinic.id)  # an id that names no user: the kind only
    missed = await _invite(runtime, clinic, catalog.botox.id, user)
    patient_exam_id = missed.patient_exams[0].patient_exam.id
    await answer_all(runtime, missed.patient_exams[0].patient_exam)
    async with runtime.sessions() as session, session.begin():
        await lifecycle.join_waiting_room(
            session,
            meeting_id=missed.meeting.id,
            patient_exam_id=patient_exam_id,
            missed_after=timedelta(seconds=30),
            clock=clock,
        )
    clock.advance(timedelta(seconds=31))
    async with runtime.sessions() as session, session.begin():
        await timers.run_due_timers(
            session, links=runtime.links, clock=clock, test_delay=timedelta(seconds=5)
        )
    assert (await _timeline(runtime, clinic, patient_exam_id))[-1] == (
        "waiting_for_provider",
        "completed",
        "Timer",
    )

    cancelled = await _invite(runtime, clinic, catalog.botox.id, user)
    cancelled_id = cancelled.patient_exams[0].patient_exam.id
    async with runtime.sessions() as session, session.begin():
        await invites.cancel_invite(session, clinic_id=clinic.id, patient_exam_id=cancelled_id, by=user)
    assert await _timeline(runtime, clinic, cancelled_id) == [
        (None, "pending", "Console user"),
        ("pending", "cancelled", "Console user"),
    ]
