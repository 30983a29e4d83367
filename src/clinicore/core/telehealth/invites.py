"""Invites: one meeting per invite and one patient exam per exam, the patient found or created, the
Rx exam's pharmacy routing checked and stored, the meeting link sent by email and SMS; and the two
things an integrator may do afterwards, resend and cancel.

The rules: at most one Rx exam per meeting, GFEs stack; ``tele_state`` a served state, or ``TE`` for
test mode (``state`` is only the address); the Rx exam's pharmacy routing as ``routing.py`` says; a
patient exam is cancelled only before a provider acts on it. The meeting keeps the patient as the
invite named them. Where vendor docs are silent, docs/compat/ records what we decided.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.audit.service import Actor
from clinicore.core.events import service as event_service
from clinicore.core.models import (
    Clinic,
    Exam,
    ExamOutcome,
    Meeting,
    PatientExam,
    PatientExamStatus,
    RxType,
    TestOutcome,
)
from clinicore.core.notify import service as notify_service
from clinicore.core.notify import sms as sms_service
from clinicore.core.people import service as people_service
from clinicore.core.telehealth import catalog, repository, states, test_mode
from clinicore.core.telehealth.events import (
    AGGREGATE,
    INVITE_WEBHOOK_EVENT_TYPES,
    PATIENT_EXAM_CANCELLED,
    PATIENT_EXAM_CREATED,
)
from clinicore.core.telehealth.routing import clean_state, clean_text, clean_zip_code, resolve_routing
from clinicore.core.telehealth.schemas import (
    InvitedExam,
    InviteRequest,
    InviteResult,
    PatientExamChange,
)
from clinicore.core.telehealth.transitions import BEFORE_A_PROVIDER_ACTS, FINISHED, move, record_creation
from clinicore.kit import contact
from clinicore.kit.clock import Clock, system_clock
from clinicore.kit.crypto import SecretBox
from clinicore.kit.errors import InvalidInput, NotFound
from clinicore.kit.links import LinkSigner
from clinicore.kit.ssrf import Resolver, system_resolver

NAME_LIMIT = 100
URL_LIMIT = 2000
EARLIEST_DOB = date(1900, 1, 1)


# --- small checks ---------------------------------------------------------------------------------


def _url(value: str | None, *, field: str) -> str | None:
    text = clean_text(value, field=field, limit=URL_LIMIT)
    if text is not None and not text.lower().startswith(("http://", "https://")):
        raise InvalidInput(f"{field}: must be an http:// or https:// URL", field=field)
    return text


def status_label(patient_exam: PatientExam) -> str:
    """The status a client is told: the outcome word once decided (``Approved``), else our status."""
    if patient_exam.status == PatientExamStatus.completed and patient_exam.outcome:
        return patient_exam.outcome
    return patient_exam.status


@dataclass(frozen=True, slots=True)
class _TeleState:
    state: str
    is_test: bool
    test_outcome: TestOutcome | None


def _check_tele_state(request: InviteRequest) -> _TeleState:
    """``tele_state`` TE is test mode; ``state`` is only the patient's address and never decides it
    (the doc's glossary: "state here is the address field; provider matching uses tele_state")."""
    tele_state = request.tele_state.strip().upper()
    if tele_state == test_mode.TEST_STATE:
        outcome = test_mode.parse_test_outcome(request.patient.first_name, request.patient.last_name)
        return _TeleState(state=test_mode.TEST_STATE, is_test=True, test_outcome=outcome)
    return _TeleState(state=states.check_tele_state(request.tele_state), is_test=False, test_outcome=None)


def _address_state(value: str | None, *, is_test: bool) -> str | None:
    """The home address state. TE is no address: accepted (and not kept) in test mode, where the
    doc's samples send it, and a 400 pointing at ``tele_state`` otherwise."""
    if value is not None and value.strip().upper() == test_mode.TEST_STATE:
        if is_test:
            return None
        raise InvalidInput(
            "state: TE is not a U.S. state; test mode is asked for with tele_state TE (state is only "
            "the patient's address)",
            field="state",
        )
    return clean_state(value, field="state")


def _shipping_state(value: str | None, *, is_test: bool) -> str | None:
    if is_test and value is not None and value.strip().upper() == test_mode.TEST_STATE:
        return test_mode.TEST_STATE
    return clean_state(value, field="shipping_state")


def _check_dob(dob: date, *, today: date) -> date:
    if dob >= today or dob < EARLIEST_DOB:
        raise InvalidInput("dob: must be a past date in YYYY-MM-DD format", field="dob")
    return dob


async def _enabled_exams(
    session: AsyncSession, *, clinic_id: uuid.UUID, exam_ids: Sequence[int]
) -> list[Exam]:
    if not exam_ids:
        raise InvalidInput("exams: name at least one exam", field="exams")
    seen: set[int] = set()
    for exam_id in exam_ids:
        if exam_id in seen:
            raise InvalidInput(f"exams: exam {exam_id} is listed more than once", field="exams")
        seen.add(exam_id)
    found = await catalog.exams_by_id(session, clinic_id=clinic_id, exam_ids=exam_ids)
    for exam_id in exam_ids:
        if exam_id not in found:
            # Another clinic's exam answers exactly like one that does not exist.
            raise NotFound(
                f"exams: exam {exam_id} is not offered by this clinic",
                field="exams",
                rule="telehealth.exam_not_offered",
                params={"exam_id": exam_id},
            )
    exams = [found[exam_id] for exam_id in exam_ids]
    rx_exams = [exam for exam in exams if exam.rx_type == RxType.rx]
    if len(rx_exams) > 1:
        listed = ", ".join(str(exam.id) for exam in rx_exams)
        raise InvalidInput(
            f"exams: only one Rx exam per meeting (GFE exams stack); this invite has Rx exams {listed}",
            field="exams",
        )
    return exams


# --- the invite -----------------------------------------------------------------------------------


# A meeting link opens the patient's visit for this long after it was sent; a resend sends a new link with
# a new lifetime (the setting CLINICORE_MEETING_LINK_DAYS gives the surfaces' value).
MEETING_LINK_LIFETIME = timedelta(days=30)


def meeting_path(meeting_id: uuid.UUID) -> str:
    return f"/meet/{meeting_id}"


def meeting_link(links: LinkSigner, meeting_id: uuid.UUID, *, now: datetime, lifetime: timedelta) -> str:
    """The signed link of the meeting's page, refused (410) once ``lifetime`` has passed."""
    return links.sign(meeting_path(meeting_id), expires_at=now + lifetime)


def brand_of(clinic: Clinic) -> str:
    return clinic.brand_name or clinic.name


async def _send_invite(
    session: AsyncSession,
    *,
    clinic: Clinic,
    meeting: Meeting,
    meeting_url: str,
    clock: Clock,
) -> None:
    """Email and text the patient the invite named the meeting link (never their date of birth or
    other details)."""
    brand = brand_of(clinic)
    await notify_service.queue_email(
        session,
        clinic_id=clinic.id,
        to_address=meeting.patient_email,
        subject=f"{brand}: your telehealth visit is ready",
        body=(
            f"Hello {meeting.patient_first_name},\n\n"
            f"{brand} has invited you to a telehealth visit with a licensed provider.\n\n"
            f"Start your visit here:\n{meeting_url}\n\n"
            "The link is personal: please do not share it.\n"
        ),
        clock=clock,
    )
    await sms_service.queue_sms(
        session,
        clinic_id=clinic.id,
        to_number=meeting.patient_phone,
        body=f"{brand}: your telehealth visit is ready. Start here: {meeting_url}",
        clock=clock,
    )
    now = clock.now()
    meeting.invites_sent += 1
    meeting.last_invited_at = now
    meeting.updated_at = now


async def invite_patient(
    session: AsyncSession,
    *,
    clinic: Clinic,
    request: InviteRequest,
    box: SecretBox,
    links: LinkSigner,
    allow_private_webhooks: bool,
    test_provider_delay: timedelta,
    by: Actor,
    clock: Clock = system_clock,
    resolver: Resolver = system_resolver,
    link_lifetime: timedelta = MEETING_LINK_LIFETIME,
) -> InviteResult:
    """Invite a patient to the clinic's exams (``by``: the API key or console user who invites)."""
    now = clock.now()
    patient = request.patient
    first_name = clean_text(patient.first_name, field="first_name", limit=NAME_LIMIT)
    last_name = clean_text(patient.last_name, field="last_name", limit=NAME_LIMIT)
    if first_name is None or last_name is None:
        missing = "first_name" if first_name is None else "last_name"
        raise InvalidInput(f"{missing} is required", field=missing)
    email = contact.normalise_email(patient.email, field="email")
    phone = contact.normalise_phone(patient.phone, field="phone")
    dob = _check_dob(patient.dob, today=now.date())
    if patient.gender is not None and patient.gender not in people_service.GENDERS:
        raise InvalidInput("gender: must be 1 (male), 2 (female) or 3 (prefer not to say)", field="gender")
    tele = _check_tele_state(request)
    address_state = _address_state(patient.state, is_test=tele.is_test)
    exams = await _enabled_exams(session, clinic_id=clinic.id, exam_ids=request.exam_ids)
    rx_exam = next((exam for exam in exams if exam.rx_type == RxType.rx), None)
    # A GFE-only invite ignores its routing, so a surface's decoder is called only for an Rx exam.
    requested = request.routing
    routing = await resolve_routing(
        session,
        clinic_id=clinic.id,
        rx_exam=rx_exam,
        tele_state=tele.state,
        is_test=tele.is_test,
        routing=(requested() if callable(requested) else requested) if rx_exam is not None else None,
    )
    redirects = request.redirects
    shipping = request.shipping
    meeting_id = uuid.uuid4()
    endpoint_id = None
    webhook_url = clean_text(request.webhook_url, field="webhook_url", limit=URL_LIMIT)
    meeting = Meeting(
        id=meeting_id,
        clinic_id=clinic.id,
        # The exam keeps the patient as this invite named them (the client may be an earlier record).
        patient_first_name=first_name,
        patient_last_name=last_name,
        patient_email=email,
        patient_phone=phone,
        patient_date_of_birth=dob,
        tele_state=tele.state,
        is_test=tele.is_test,
        test_outcome=tele.test_outcome,
        source=request.source,
        webhook_url=webhook_url,
        additional_data=request.additional_data,
        redirect_approve=_url(redirects.approve, field="redirect_approve"),
        redirect_reject=_url(redirects.reject, field="redirect_reject"),
        redirect_na=_url(redirects.na, field="redirect_na"),
        redirect_missed=_url(redirects.missed, field="redirect_missed"),
        shipping_address_line_1=clean_text(shipping.line_1, field="shipping_address_line_1", limit=200),
        shipping_address_line_2=clean_text(shipping.line_2, field="shipping_address_line_2", limit=200),
        shipping_city=clean_text(shipping.city, field="shipping_city", limit=100),
        shipping_state=_shipping_state(shipping.state, is_test=tele.is_test),
        shipping_zip_code=clean_zip_code(shipping.zip_code, field="shipping_zip_code"),
        pharmacy_routing=routing.kind,
        pharmacy_id=routing.pharmacy_id,
        order_set_id=routing.order_set_id,
        provider_chooses=routing.provider_chooses,
        ncpdpid=routing.retail.ncpdpid,
        pharmacy_name=routing.retail.name,
        pharmacy_address_line_1=routing.retail.address_line_1,
        pharmacy_address_line_2=routing.retail.address_line_2,
        pharmacy_city=routing.retail.city,
        pharmacy_state=routing.retail.state,
        pharmacy_zip_code=routing.retail.zip_code,
        pharmacy_phone=routing.retail.phone,
        pharmacy_type=routing.retail.type,
        patient_chooses_pharmacy=routing.patient_chooses_pharmacy,
        skip_pharmacy_confirmation=routing.skip_pharmacy_confirmation,
        pharmacy_bills=routing.pharmacy_bills,
        clinic_billing_reference=routing.clinic_billing_reference,
        delivery_method=routing.delivery,
        invites_sent=0,
        created_at=now,
        updated_at=now,
    )
    client = await people_service.find_or_create_client(
        session,
        clinic_id=clinic.id,
        first_name=first_name,
        last_name=last_name,
        email=email,
        phone=phone,
        dob=dob,
        gender=patient.gender,
        dmv_license_number=clean_text(patient.dmv_license_number, field="dmv_license_number", limit=64),
        address_line_1=clean_text(patient.address_line_1, field="address_line_1", limit=200),
        address_line_2=clean_text(patient.address_line_2, field="address_line_2", limit=200),
        city=clean_text(patient.city, field="city", limit=100),
        state=address_state,
        zip_code=clean_zip_code(patient.zip_code, field="zip_code"),
        clock=clock,
    )
    if webhook_url is not None:
        try:
            created = await event_service.create_endpoint(
                session,
                box=box,
                clinic_id=clinic.id,
                format=request.webhook_format,
                url=webhook_url,
                allow_private_targets=allow_private_webhooks,
                event_types=INVITE_WEBHOOK_EVENT_TYPES,
                bound_aggregate_type=AGGREGATE,
                bound_aggregate_id=meeting_id,
                clock=clock,
                resolver=resolver,
            )
        except InvalidInput as exc:
            reason = exc.message.removeprefix("url: ")
            raise InvalidInput(f"webhook_url: {reason}", field="webhook_url") from None
        endpoint_id = created.endpoint.id
    meeting.client_id = client.id
    meeting.webhook_endpoint_id = endpoint_id
    session.add(meeting)
    await session.flush()

    invited = []
    for exam in exams:
        patient_exam = PatientExam(
            clinic_id=clinic.id,
            meeting_id=meeting.id,
            exam_id=exam.id,
            client_id=client.id,
            tele_state=tele.state,
            is_test=tele.is_test,
            status=PatientExamStatus.pending,
            version=1,
            # A test provider takes the exam after the configured delay; a live exam has no timer yet.
            next_action_at=now + test_provider_delay if tele.is_test else None,
            created_at=now,
            updated_at=now,
        )
        session.add(patient_exam)
        invited.append(InvitedExam(patient_exam=patient_exam, exam=exam))
    await session.flush()
    for item in invited:
        record_creation(session, item.patient_exam, by=by)
    for item in invited:
        await event_service.emit(
            session,
            clinic_id=clinic.id,
            type=PATIENT_EXAM_CREATED,
            aggregate_type=AGGREGATE,
            aggregate_id=meeting.id,
            payload={
                "patient_exam_id": item.patient_exam.id,
                "meeting_id": str(meeting.id),
                "exam_id": item.exam.id,
                "exam_title": item.exam.title,
                "is_test": tele.is_test,
            },
            clock=clock,
        )
    meeting_url = meeting_link(links, meeting.id, now=clock.now(), lifetime=link_lifetime)
    if clinic.auto_invites:
        await _send_invite(session, clinic=clinic, meeting=meeting, meeting_url=meeting_url, clock=clock)
    return InviteResult(meeting=meeting, client=client, meeting_url=meeting_url, patient_exams=invited)


# --- after the invite -----------------------------------------------------------------------------


async def _patient_exam_and_meeting(
    session: AsyncSession, *, clinic_id: uuid.UUID, patient_exam_id: int
) -> tuple[PatientExam, Meeting]:
    patient_exam = await repository.get_patient_exam(
        session, clinic_id=clinic_id, patient_exam_id=patient_exam_id, lock=True
    )
    if patient_exam is None:
        raise NotFound("patient_exam_id: no such patient exam", field="patient_exam_id")
    meeting = await repository.get_meeting(session, clinic_id=clinic_id, meeting_id=patient_exam.meeting_id)
    if meeting is None:  # a patient exam always has its meeting; kept for the type checker
        raise NotFound("patient_exam_id: no such patient exam", field="patient_exam_id")
    return patient_exam, meeting


async def resend_invite(
    session: AsyncSession,
    *,
    clinic: Clinic,
    patient_exam_id: int,
    links: LinkSigner,
    clock: Clock = system_clock,
    link_lifetime: timedelta = MEETING_LINK_LIFETIME,
) -> PatientExamChange:
    """Send the meeting link again by email and SMS (an explicit request: auto invites do not apply), with
    a new lifetime: a resend renews a link that expired."""
    patient_exam, meeting = await _patient_exam_and_meeting(
        session, clinic_id=clinic.id, patient_exam_id=patient_exam_id
    )
    if patient_exam.status == PatientExamStatus.cancelled:
        raise InvalidInput(
            f"Exam invite cannot be resent: it was cancelled (status: {status_label(patient_exam)})",
            field="patient_exam_id",
        )
    if patient_exam.status in FINISHED:
        raise InvalidInput(
            f"Exam invite cannot be resent: the exam is finished (status: {status_label(patient_exam)})",
            field="patient_exam_id",
        )
    await _send_invite(
        session,
        clinic=clinic,
        meeting=meeting,
        meeting_url=meeting_link(links, meeting.id, now=clock.now(), lifetime=link_lifetime),
        clock=clock,
    )
    return PatientExamChange(patient_exam=patient_exam, meeting=meeting)


async def cancel_invite(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    patient_exam_id: int,
    by: Actor,
    clock: Clock = system_clock,
) -> PatientExamChange:
    """Cancel one patient exam, allowed only before a provider acts on it (the meeting's other exams
    stay as they are). ``by``: the API key or console user who cancels."""
    patient_exam, meeting = await _patient_exam_and_meeting(
        session, clinic_id=clinic_id, patient_exam_id=patient_exam_id
    )
    label = status_label(patient_exam)
    if patient_exam.status == PatientExamStatus.cancelled:
        raise InvalidInput(f"Exam invite is already cancelled (status: {label})", field="patient_exam_id")
    if patient_exam.status not in BEFORE_A_PROVIDER_ACTS:
        if patient_exam.outcome == ExamOutcome.missed:
            why = "it is already finished"
        else:
            why = "a provider has already acted on it"
        raise InvalidInput(f"Exam cannot be cancelled: {why} (status: {label})", field="patient_exam_id")
    now = clock.now()
    move(session, patient_exam, PatientExamStatus.cancelled, at=now, by=by)
    patient_exam.cancelled_at = now
    patient_exam.next_action_at = None
    await event_service.emit(
        session,
        clinic_id=clinic_id,
        type=PATIENT_EXAM_CANCELLED,
        aggregate_type=AGGREGATE,
        aggregate_id=meeting.id,
        payload={
            "patient_exam_id": patient_exam.id,
            "meeting_id": str(meeting.id),
            "exam_id": patient_exam.exam_id,
            "is_test": patient_exam.is_test,
        },
        clock=clock,
    )
    await session.flush()
    return PatientExamChange(patient_exam=patient_exam, meeting=meeting)
