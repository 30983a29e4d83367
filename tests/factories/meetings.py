"""Arrange meetings and patient exams directly (as an invite would leave them), with their answers,
attachments, providers and partner pharmacies, for lifecycle, timer, webhook and PDF tests."""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
import uuid
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from clinicore.core.events import service as events_service
from clinicore.core.models import (
    Client,
    Clinic,
    Exam,
    ExamAnswer,
    ExamAttachment,
    ExamQuestion,
    ExamQuestionResponse,
    Meeting,
    OrderSet,
    OrderSetItem,
    PartnerPharmacy,
    PartnerPharmacyExam,
    PatientExam,
    PatientExamStatus,
    Provider,
    StoredFile,
    TestOutcome,
    WebhookFormat,
)
from clinicore.core.people import repository as people_repository
from clinicore.core.people.service import client_counter_name
from clinicore.core.telehealth import providers as providers_service
from clinicore.core.telehealth.events import AGGREGATE, INVITE_WEBHOOK_EVENT_TYPES
from clinicore.core.telehealth.test_mode import TEST_STATE
from clinicore.runtime import Runtime
from tests.support import remember_secret

TEST_NAMES = {
    TestOutcome.approve: ("Test", "Approve"),
    TestOutcome.reject: ("Test", "Reject"),
    TestOutcome.na: ("Test", "N/A"),
    TestOutcome.rx_approve: ("Test", "Prescription Approve"),
    TestOutcome.rx_reject: ("Test", "Prescription Reject"),
}
UNSET: Any = object()


@dataclasses.dataclass
class ArrangedMeeting:
    meeting: Meeting
    client: Client
    patient_exams: list[PatientExam]
    webhook_secret: str | None = None

    @property
    def patient_exam(self) -> PatientExam:
        return self.patient_exams[0]


async def create_meeting(
    runtime: Runtime,
    clinic: Clinic,
    exams: Sequence[Exam],
    *,
    tele_state: str = "NY",
    test_outcome: TestOutcome | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
    email: str | None = None,
    phone: str = "+15552223232",
    date_of_birth: date | None = date(1990, 6, 30),
    additional_data: Any = UNSET,
    webhook_url: str | None = None,
    **routing: Any,
) -> ArrangedMeeting:
    """One meeting (an invite) with one patient exam per exam. ``test_outcome`` makes it a test
    meeting (tele_state TE, the test name, the test provider's timer set as the invite sets it)."""
    now = runtime.clock.now()
    is_test = test_outcome is not None
    default_first, default_last = TEST_NAMES[test_outcome] if test_outcome else ("Jane", "Doe")
    async with runtime.sessions() as session, session.begin():
        # The clinic's next client number, from the same counter the core uses (a number taken
        # around it would later collide with a client the core creates in the same clinic).
        number = await people_repository.next_counter_value(session, client_counter_name(clinic.id))
        client = Client(
            clinic_id=clinic.id,
            number=number,
            first_name=first_name or default_first,
            last_name=last_name or default_last,
            email=email or f"patient-{secrets.token_hex(3)}@example.com",
            phone=phone,
            date_of_birth=date_of_birth,
            created_at=now,
            updated_at=now,
        )
        session.add(client)
        await session.flush()
        meeting = Meeting(
            clinic_id=clinic.id,
            client_id=client.id,
            patient_first_name=client.first_name,
            patient_last_name=client.last_name,
            patient_email=client.email or "",
            patient_phone=client.phone or "",
            patient_date_of_birth=client.date_of_birth,
            tele_state=TEST_STATE if is_test else tele_state,
            is_test=is_test,
            test_outcome=test_outcome.value if test_outcome else None,
            source="test",
            webhook_url=webhook_url,
            additional_data=None if additional_data is UNSET else additional_data,
            created_at=now,
            updated_at=now,
            **routing,
        )
        session.add(meeting)
        await session.flush()
        secret = None
        if webhook_url is not None:
            created = await events_service.create_endpoint(
                session,
                box=runtime.box,
                clinic_id=clinic.id,
                format=WebhookFormat.qualiphy,
                url=webhook_url,
                allow_private_targets=True,
                event_types=INVITE_WEBHOOK_EVENT_TYPES,
                bound_aggregate_type=AGGREGATE,
                bound_aggregate_id=meeting.id,
                clock=runtime.clock,
            )
            meeting.webhook_endpoint_id = created.endpoint.id
            secret = remember_secret(created.secret)
        delay = timedelta(seconds=runtime.settings.test_provider_delay_seconds)
        patient_exams = [
            PatientExam(
                clinic_id=clinic.id,
                meeting_id=meeting.id,
                exam_id=exam.id,
                client_id=client.id,
                tele_state=meeting.tele_state,
                is_test=is_test,
                status=PatientExamStatus.pending,
                version=1,
                next_action_at=now + delay if is_test else None,
                created_at=now,
                updated_at=now,
            )
            for exam in exams
        ]
        session.add_all(patient_exams)
        await session.flush()
    return ArrangedMeeting(meeting=meeting, client=client, patient_exams=patient_exams, webhook_secret=secret)


async def answer_all(runtime: Runtime, patient_exam: PatientExam, *, other_text: str | None = None) -> None:
    """Answer every question of the exam: the first option of a single-select, the first and last
    options of a multi-select (with ``other_text`` in a free-text box), a sentence for free text."""
    now = runtime.clock.now()
    async with runtime.sessions() as session, session.begin():
        questions = (
            await session.scalars(select(ExamQuestion).where(ExamQuestion.exam_id == patient_exam.exam_id))
        ).all()
        for question in questions:
            options = (
                await session.scalars(
                    select(ExamQuestionResponse)
                    .where(ExamQuestionResponse.question_id == question.id)
                    .order_by(ExamQuestionResponse.position)
                )
            ).all()
            chosen = (
                [options[0]] if question.type == "single" else [options[0], options[-1]] if options else []
            )
            if not options:
                session.add(
                    ExamAnswer(
                        patient_exam_id=patient_exam.id,
                        question_id=question.id,
                        answer="Metformin 500 mg",
                        source="api",
                        created_at=now,
                    )
                )
            for option in chosen:
                session.add(
                    ExamAnswer(
                        patient_exam_id=patient_exam.id,
                        question_id=question.id,
                        response_id=option.id,
                        answer=option.text,
                        answer_text=other_text if option.has_free_text else None,
                        source="api",
                        created_at=now,
                    )
                )


async def attach(runtime: Runtime, patient_exam: PatientExam, *, label: str, file_name: str) -> None:
    content = secrets.token_bytes(16)
    async with runtime.sessions() as session, session.begin():
        stored = StoredFile(
            clinic_id=patient_exam.clinic_id,
            storage_key=f"test/{uuid.uuid4()}",
            content_type="image/png",
            size_bytes=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
            original_name=file_name,
            created_at=runtime.clock.now(),
        )
        session.add(stored)
        await session.flush()
        session.add(
            ExamAttachment(
                clinic_id=patient_exam.clinic_id,
                patient_exam_id=patient_exam.id,
                label=label,
                file_id=stored.id,
                created_at=runtime.clock.now(),
            )
        )


async def create_live_provider(
    runtime: Runtime, *, states: Sequence[str] = ("NY", "CA"), name: str = "Liza Park"
) -> Provider:
    async with runtime.sessions() as session, session.begin():
        return await providers_service.create_provider(
            session,
            name=name,
            states=states,
            credentials="NP",
            license_numbers={state: f"{state}-{secrets.randbelow(10**6):06d}" for state in states},
            clock=runtime.clock,
        )


async def first_test_provider(runtime: Runtime) -> Provider:
    async with runtime.sessions() as session, session.begin():
        return (await providers_service.test_providers(session, clock=runtime.clock))[0]


@dataclasses.dataclass
class ArrangedPharmacy:
    pharmacy: PartnerPharmacy
    order_sets: list[OrderSet]


async def create_partner_pharmacy(
    runtime: Runtime,
    clinic: Clinic,
    exam: Exam,
    *,
    name: str = "Empower Partner Pharmacy",
    order_sets: int = 2,
) -> ArrangedPharmacy:
    now = runtime.clock.now()
    async with runtime.sessions() as session, session.begin():
        pharmacy = PartnerPharmacy(
            name=name,
            phone="+15125550100",
            ncpdpid=f"{secrets.randbelow(10**7):07d}",
            address_line_1="1 Compounding Way",
            city="Houston",
            state="TX",
            zip_code="77001",
            is_active=True,
            created_at=now,
        )
        session.add(pharmacy)
        await session.flush()
        session.add(PartnerPharmacyExam(pharmacy_id=pharmacy.id, exam_id=exam.id, clinic_id=clinic.id))
        created = []
        for dose in range(1, order_sets + 1):
            order_set = OrderSet(
                exam_pos_id=secrets.randbelow(10**9),
                clinic_id=clinic.id,
                exam_id=exam.id,
                pharmacy_id=pharmacy.id,
                title=f"Semaglutide - Dose {dose}",
                is_active=True,
                created_at=now,
            )
            session.add(order_set)
            await session.flush()
            session.add_all(
                [
                    OrderSetItem(
                        order_set_id=order_set.id,
                        position=0,
                        drug_name="Semaglutide",
                        strength=f"{dose * 0.25:.2f} mg/0.5 mL",
                        form="injection",
                        ndc="12345-678-90",
                        quantity="2.5",
                        quantity_units="mL",
                        refills=1,
                        days_supply=28,
                        directions=f"Inject {dose * 0.25:.2f} mg under the skin once a week.",
                    ),
                    OrderSetItem(
                        order_set_id=order_set.id,
                        position=1,
                        drug_name="Ondansetron",
                        strength="4 mg",
                        form="tablet",
                        ndc="00000-111-22",
                        quantity="30",
                        quantity_units="tablets",
                        refills=0,
                        days_supply=30,
                        directions="One tablet by mouth as needed for nausea.",
                    ),
                ]
            )
            created.append(order_set)
    return ArrangedPharmacy(pharmacy=pharmacy, order_sets=created)


async def reload_exam(runtime: Runtime, patient_exam: PatientExam) -> PatientExam:
    async with runtime.sessions() as session:
        reloaded = await session.get(PatientExam, patient_exam.id)
        assert reloaded is not None
        return reloaded


RETAIL_PHARMACY_ROUTING: dict[str, Any] = {
    "pharmacy_routing": "retail",
    "ncpdpid": "3456789",
    "pharmacy_name": "CVS Pharmacy #1234",
    "pharmacy_address_line_1": "350 5th Ave",
    "pharmacy_city": "New York",
    "pharmacy_state": "NY",
    "pharmacy_zip_code": "10001",
    "pharmacy_phone": "+12125550123",
}
