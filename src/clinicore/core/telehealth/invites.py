"""Invites: one meeting per invite and one patient exam per exam, the patient found or created, the
Rx exam's pharmacy routing checked and stored, the meeting link sent by email and SMS; and the two
things an integrator may do afterwards, resend and cancel.

Qualiphy's rules (docs/compat/qualiphy.md records where its doc is silent): at most one Rx
exam per meeting, GFEs stack; ``tele_state`` a served state, or ``TE`` for test mode (``state`` is
only the address); ``custom_pharmacy`` 1 = custom, 2 = partner; a patient exam is cancelled only
before a provider acts on it. The meeting keeps the patient as the invite named them.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

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
    WebhookFormat,
)
from clinicore.core.notify import service as notify_service
from clinicore.core.notify import sms as sms_service
from clinicore.core.people import service as people_service
from clinicore.core.telehealth import catalog, repository, states, test_mode
from clinicore.core.telehealth.events import (
    AGGREGATE,
    PATIENT_EXAM_CANCELLED,
    PATIENT_EXAM_CREATED,
    QUALIPHY_EVENT_TYPES,
)
from clinicore.core.telehealth.schemas import (
    CustomPharmacy,
    InvitedExam,
    InviteRequest,
    InviteResult,
    PatientExamChange,
    ResolvedRouting,
    RoutingRequest,
)
from clinicore.kit.clock import Clock, system_clock
from clinicore.kit.crypto import SecretBox
from clinicore.kit.errors import InvalidInput, NotFound, Unauthorized
from clinicore.kit.links import LinkSigner
from clinicore.kit.ssrf import Resolver, system_resolver

CUSTOM_PHARMACY = 1  # Qualiphy: custom_pharmacy 1 = custom (retail) pharmacy
PARTNER_PHARMACY = 2  # Qualiphy: custom_pharmacy 2 = partner (compounding) pharmacy
YOU_SPECIFY_BOTH, PROVIDER_PICKS_ORDER_SET, PROVIDER_PICKS_BOTH = 1, 2, 3
PATIENT_CHOOSES_PHARMACY = 2
SKIP_CONFIRMATION = 2

CANCELLABLE = frozenset(
    {PatientExamStatus.pending, PatientExamStatus.in_questionnaire, PatientExamStatus.waiting_for_provider}
)
FINISHED = frozenset(
    {
        PatientExamStatus.completed,
        PatientExamStatus.prescribed,
        PatientExamStatus.confirmed_by_pharmacy,
        PatientExamStatus.shipped,
    }
)
NAME_LIMIT = 100
URL_LIMIT = 2000
ZIP_CODE = re.compile(r"^\d{5}(-\d{4})?$")
NCPDPID = re.compile(r"^\d{7}$")
EARLIEST_DOB = date(1900, 1, 1)


# --- small checks ---------------------------------------------------------------------------------


def _text(value: str | None, *, field: str, limit: int) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    if len(value) > limit:
        raise InvalidInput(f"{field}: at most {limit} characters", field=field)
    return value


def _state(value: str | None, *, field: str, allow_test: bool = False) -> str | None:
    if value is None or not value.strip():
        return None
    if allow_test and value.strip().upper() == test_mode.TEST_STATE:
        return test_mode.TEST_STATE
    try:
        return states.normalise_state(value)
    except InvalidInput:
        raise InvalidInput(f"{field}: {value!r} is not a two-letter U.S. state code", field=field) from None


def _zip_code(value: str | None, *, field: str) -> str | None:
    text = _text(value, field=field, limit=10)
    if text is not None and not ZIP_CODE.match(text):
        raise InvalidInput(f"{field}: must be a 5-digit ZIP code (or ZIP+4 such as 10001-1234)", field=field)
    return text


def _url(value: str | None, *, field: str) -> str | None:
    text = _text(value, field=field, limit=URL_LIMIT)
    if text is not None and not text.lower().startswith(("http://", "https://")):
        raise InvalidInput(f"{field}: must be an http:// or https:// URL", field=field)
    return text


def _choice(value: int | None, *, field: str, meanings: str) -> int | None:
    if value is not None and value not in (1, 2):
        raise InvalidInput(f"{field}: must be {meanings}", field=field)
    return value


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
    return _state(value, field="state")


def _check_dob(dob: date, *, today: date) -> date:
    if dob >= today or dob < EARLIEST_DOB:
        raise InvalidInput("dob: must be a past date in YYYY-MM-DD format", field="dob")
    return dob


async def _enabled_exams(
    session: AsyncSession, *, clinic_id: uuid.UUID, exam_ids: Sequence[int]
) -> list[Exam]:
    if not exam_ids:
        raise InvalidInput("exams: name at least one exam id from /exam_list", field="exams")
    seen: set[int] = set()
    for exam_id in exam_ids:
        if exam_id in seen:
            raise InvalidInput(f"exams: exam {exam_id} is listed more than once", field="exams")
        seen.add(exam_id)
    found = await catalog.exams_by_id(session, clinic_id=clinic_id, exam_ids=exam_ids)
    for exam_id in exam_ids:
        if exam_id not in found:
            # Qualiphy answers an exam the clinic cannot use with a 401 (another clinic's exam too).
            raise Unauthorized(f"Exam {exam_id} is not enabled for this clinic")
    exams = [found[exam_id] for exam_id in exam_ids]
    rx_exams = [exam for exam in exams if exam.rx_type == RxType.rx]
    if len(rx_exams) > 1:
        listed = ", ".join(str(exam.id) for exam in rx_exams)
        raise InvalidInput(
            f"exams: only one Rx exam per meeting (GFE exams stack); this invite has Rx exams {listed}",
            field="exams",
        )
    return exams


# --- pharmacy routing -----------------------------------------------------------------------------


def _custom_pharmacy_fields(pharmacy: CustomPharmacy) -> CustomPharmacy:
    ncpdpid = _text(pharmacy.ncpdpid, field="ncpdpid", limit=7)
    if ncpdpid is not None and not NCPDPID.match(ncpdpid):
        raise InvalidInput("ncpdpid: must be the pharmacy's 7-digit NCPDP id", field="ncpdpid")
    return CustomPharmacy(
        ncpdpid=ncpdpid,
        name=_text(pharmacy.name, field="pharmacy_name", limit=200),
        address_line_1=_text(pharmacy.address_line_1, field="pharmacy_address_line_1", limit=200),
        address_line_2=_text(pharmacy.address_line_2, field="pharmacy_address_line_2", limit=200),
        city=_text(pharmacy.city, field="pharmacy_city", limit=100),
        state=_state(pharmacy.state, field="pharmacy_state"),
        zip_code=_zip_code(pharmacy.zip_code, field="pharmacy_zip_code"),
        phone=_text(pharmacy.phone, field="pharmacy_phone", limit=32),
        type=_text(pharmacy.type, field="pharmacy_type", limit=50),
    )


def _has_every_pharmacy_field(pharmacy: CustomPharmacy) -> bool:
    return all(
        (
            pharmacy.name,
            pharmacy.address_line_1,
            pharmacy.city,
            pharmacy.state,
            pharmacy.zip_code,
            pharmacy.phone,
            pharmacy.ncpdpid,
        )
    )


def _custom_routing(exam: Exam, routing: RoutingRequest) -> ResolvedRouting:
    pharmacy = _custom_pharmacy_fields(routing.pharmacy)
    patient_choice = _choice(
        routing.custom_pharmacy_patient_choice,
        field="custom_pharmacy_patient_choice",
        meanings="1 (custom pharmacy preselected) or 2 (the patient chooses at the meeting)",
    )
    if patient_choice != PATIENT_CHOOSES_PHARMACY and pharmacy.ncpdpid is None:
        raise InvalidInput(
            "ncpdpid is required for a custom pharmacy (custom_pharmacy 1): find it with "
            "/custom_pharmacy_search, or send custom_pharmacy_patient_choice 2 to let the patient choose",
            field="ncpdpid",
        )
    skip = _choice(
        routing.skip_pharmacy_confirmation,
        field="skip_pharmacy_confirmation",
        meanings="1 (show the pharmacy confirmation screen) or 2 (skip it)",
    )
    patient_billing = _choice(
        routing.custom_pharmacy_patient_billing,
        field="custom_pharmacy_patient_billing",
        meanings="1 (the pharmacy bills the clinic) or 2 (the pharmacy bills the patient)",
    )
    delivery = _choice(
        routing.custom_pharmacy_delivery_method,
        field="custom_pharmacy_delivery_method",
        meanings="1 (the patient picks up at the pharmacy) or 2 (shipped to the patient or clinic)",
    )
    return ResolvedRouting(
        custom_pharmacy=CUSTOM_PHARMACY,
        pharmacy=pharmacy,
        custom_pharmacy_patient_choice=patient_choice,
        # Qualiphy: 2 skips the confirmation screen only when every pharmacy field is in the payload.
        skip_pharmacy_confirmation=skip == SKIP_CONFIRMATION and _has_every_pharmacy_field(pharmacy),
        custom_pharmacy_patient_billing=patient_billing,
        custom_pharmacy_clinic_billing=_text(
            routing.custom_pharmacy_clinic_billing, field="custom_pharmacy_clinic_billing", limit=200
        ),
        custom_pharmacy_delivery_method=delivery,
    )


async def _partner_routing(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    exam: Exam,
    tele_state: str,
    is_test: bool,
    routing: RoutingRequest,
) -> ResolvedRouting:
    selection = routing.provider_pos_selection
    if selection is not None and selection not in (
        YOU_SPECIFY_BOTH,
        PROVIDER_PICKS_ORDER_SET,
        PROVIDER_PICKS_BOTH,
    ):
        raise InvalidInput(
            "provider_pos_selection: must be 1 (you specify pharmacy_id and order_set_id), "
            "2 (the provider picks the order set) or 3 (the provider picks pharmacy and order set)",
            field="provider_pos_selection",
        )
    pharmacy_id = routing.pharmacy_id
    order_set = None
    if routing.order_set_id is not None:
        order_set = await repository.get_order_set(
            session, clinic_id=clinic_id, order_set_id=routing.order_set_id
        )
        if order_set is None:
            raise InvalidInput(
                f"order_set_id: no such order set {routing.order_set_id}", field="order_set_id"
            )
    elif routing.exam_pos_id is not None:  # legacy integrations send exam_pos_id instead
        order_set = await repository.order_set_by_exam_pos_id(
            session, clinic_id=clinic_id, exam_pos_id=routing.exam_pos_id
        )
        if order_set is None:
            raise InvalidInput(f"exam_pos_id: no such order set {routing.exam_pos_id}", field="exam_pos_id")

    if selection == YOU_SPECIFY_BOTH and (pharmacy_id is None or order_set is None):
        missing = "pharmacy_id" if pharmacy_id is None else "order_set_id"
        raise InvalidInput(
            f"{missing} is required with provider_pos_selection 1 (you specify both pharmacy_id and "
            "order_set_id)",
            field=missing,
        )
    # With selection 2 an order set (order_set_id or the legacy exam_pos_id) is the suggestion the
    # provider starts from and may change for another of the same pharmacy.
    if selection == PROVIDER_PICKS_ORDER_SET and pharmacy_id is None and order_set is None:
        raise InvalidInput(
            "pharmacy_id is required with provider_pos_selection 2 (the provider picks the order set "
            "at that pharmacy)",
            field="pharmacy_id",
        )
    if selection == PROVIDER_PICKS_BOTH and (pharmacy_id is not None or order_set is not None):
        name = "pharmacy_id" if pharmacy_id is not None else "order_set_id"
        raise InvalidInput(
            f"{name}: with provider_pos_selection 3 the provider picks pharmacy and order set; leave it out",
            field=name,
        )

    if order_set is not None:
        if order_set.exam_id != exam.id or not order_set.is_active:
            raise InvalidInput(
                f"order_set_id: order set {order_set.id} is not an active order set of exam {exam.id}",
                field="order_set_id",
            )
        if pharmacy_id is None:
            pharmacy_id = order_set.pharmacy_id
        elif order_set.pharmacy_id != pharmacy_id:
            raise InvalidInput(
                f"order_set_id: order set {order_set.id} belongs to another pharmacy than {pharmacy_id}",
                field="order_set_id",
            )
    if pharmacy_id is not None:
        if await repository.get_active_partner_pharmacy(session, pharmacy_id) is None:
            raise InvalidInput(f"pharmacy_id: no such partner pharmacy {pharmacy_id}", field="pharmacy_id")
        if not await repository.pharmacy_serves_exam(
            session, clinic_id=clinic_id, pharmacy_id=pharmacy_id, exam_id=exam.id
        ):
            raise InvalidInput(
                f"pharmacy_id: partner pharmacy {pharmacy_id} does not fulfil exam {exam.id} "
                "(see /partner_pharmacy_list)",
                field="pharmacy_id",
            )
        if not is_test and not await repository.pharmacy_ships_to(
            session, pharmacy_id=pharmacy_id, state=tele_state
        ):
            raise InvalidInput(
                f"pharmacy_id: partner pharmacy {pharmacy_id} does not ship to {tele_state}",
                field="pharmacy_id",
            )
    return ResolvedRouting(
        custom_pharmacy=PARTNER_PHARMACY,
        pharmacy_id=pharmacy_id,
        order_set_id=order_set.id if order_set is not None else None,
        provider_pos_selection=selection,
    )


async def resolve_routing(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    rx_exam: Exam | None,
    tele_state: str,
    is_test: bool,
    routing: RoutingRequest,
) -> ResolvedRouting:
    """What the meeting stores for its Rx exam. A GFE-only invite routes nothing: its routing
    parameters are ignored. Each scenario ignores the other scenario's fields."""
    if rx_exam is None:
        return ResolvedRouting()
    if routing.custom_pharmacy not in (None, CUSTOM_PHARMACY, PARTNER_PHARMACY):
        raise InvalidInput(
            "custom_pharmacy: must be 1 (custom pharmacy) or 2 (partner pharmacy); yes, 1 means custom",
            field="custom_pharmacy",
        )
    if catalog.is_urgent_care(rx_exam) and routing.custom_pharmacy != CUSTOM_PHARMACY:
        raise InvalidInput(
            f"custom_pharmacy: {rx_exam.title} is an Urgent Care exam, routed to a custom pharmacy: send "
            "custom_pharmacy 1 with ncpdpid and the pharmacy_* fields, or custom_pharmacy 1 with "
            "custom_pharmacy_patient_choice 2 to let the patient choose",
            field="custom_pharmacy",
        )
    if routing.custom_pharmacy == CUSTOM_PHARMACY:
        return _custom_routing(rx_exam, routing)
    return await _partner_routing(
        session, clinic_id=clinic_id, exam=rx_exam, tele_state=tele_state, is_test=is_test, routing=routing
    )


# --- the invite -----------------------------------------------------------------------------------


def meeting_path(meeting_id: uuid.UUID) -> str:
    return f"/meet/{meeting_id}"


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
    clock: Clock = system_clock,
    resolver: Resolver = system_resolver,
) -> InviteResult:
    now = clock.now()
    patient = request.patient
    first_name = _text(patient.first_name, field="first_name", limit=NAME_LIMIT)
    last_name = _text(patient.last_name, field="last_name", limit=NAME_LIMIT)
    if first_name is None or last_name is None:
        missing = "first_name" if first_name is None else "last_name"
        raise InvalidInput(f"{missing} is required", field=missing)
    email = people_service.normalise_email(patient.email, field="email")
    phone = people_service.normalise_phone(patient.phone, field="phone_number")
    dob = _check_dob(patient.dob, today=now.date())
    if patient.gender is not None and patient.gender not in people_service.GENDERS:
        raise InvalidInput("gender: must be 1 (male), 2 (female) or 3 (prefer not to say)", field="gender")
    tele = _check_tele_state(request)
    address_state = _address_state(patient.state, is_test=tele.is_test)
    exams = await _enabled_exams(session, clinic_id=clinic.id, exam_ids=request.exam_ids)
    rx_exam = next((exam for exam in exams if exam.rx_type == RxType.rx), None)
    routing = await resolve_routing(
        session,
        clinic_id=clinic.id,
        rx_exam=rx_exam,
        tele_state=tele.state,
        is_test=tele.is_test,
        routing=request.routing,
    )
    redirects = request.redirects
    shipping = request.shipping
    meeting_id = uuid.uuid4()
    endpoint_id = None
    webhook_url = _text(request.webhook_url, field="webhook_url", limit=URL_LIMIT)
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
        shipping_address_line_1=_text(shipping.line_1, field="shipping_address_line_1", limit=200),
        shipping_address_line_2=_text(shipping.line_2, field="shipping_address_line_2", limit=200),
        shipping_city=_text(shipping.city, field="shipping_city", limit=100),
        shipping_state=_state(shipping.state, field="shipping_state", allow_test=tele.is_test),
        shipping_zip_code=_zip_code(shipping.zip_code, field="shipping_zip_code"),
        custom_pharmacy=routing.custom_pharmacy,
        pharmacy_id=routing.pharmacy_id,
        order_set_id=routing.order_set_id,
        provider_pos_selection=routing.provider_pos_selection,
        ncpdpid=routing.pharmacy.ncpdpid,
        pharmacy_name=routing.pharmacy.name,
        pharmacy_address_line_1=routing.pharmacy.address_line_1,
        pharmacy_address_line_2=routing.pharmacy.address_line_2,
        pharmacy_city=routing.pharmacy.city,
        pharmacy_state=routing.pharmacy.state,
        pharmacy_zip_code=routing.pharmacy.zip_code,
        pharmacy_phone=routing.pharmacy.phone,
        pharmacy_type=routing.pharmacy.type,
        custom_pharmacy_patient_choice=routing.custom_pharmacy_patient_choice,
        skip_pharmacy_confirmation=routing.skip_pharmacy_confirmation,
        custom_pharmacy_patient_billing=routing.custom_pharmacy_patient_billing,
        custom_pharmacy_clinic_billing=routing.custom_pharmacy_clinic_billing,
        custom_pharmacy_delivery_method=routing.custom_pharmacy_delivery_method,
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
        dmv_license_number=_text(patient.dmv_license_number, field="dmv_license_number", limit=64),
        address_line_1=_text(patient.address_line_1, field="address_line_1", limit=200),
        address_line_2=_text(patient.address_line_2, field="address_line_2", limit=200),
        city=_text(patient.city, field="city", limit=100),
        state=address_state,
        zip_code=_zip_code(patient.zip_code, field="zip_code"),
        clock=clock,
    )
    if webhook_url is not None:
        try:
            created = await event_service.create_endpoint(
                session,
                box=box,
                clinic_id=clinic.id,
                format=WebhookFormat.qualiphy,
                url=webhook_url,
                allow_private_targets=allow_private_webhooks,
                event_types=QUALIPHY_EVENT_TYPES,
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
    meeting_url = links.sign(meeting_path(meeting.id))
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
) -> PatientExamChange:
    """Send the meeting link again by email and SMS (an explicit request: auto invites do not apply)."""
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
        meeting_url=links.sign(meeting_path(meeting.id)),
        clock=clock,
    )
    return PatientExamChange(patient_exam=patient_exam, meeting=meeting)


async def cancel_invite(
    session: AsyncSession, *, clinic_id: uuid.UUID, patient_exam_id: int, clock: Clock = system_clock
) -> PatientExamChange:
    """Cancel one patient exam, allowed only before a provider acts on it (the meeting's other exams
    stay as they are)."""
    patient_exam, meeting = await _patient_exam_and_meeting(
        session, clinic_id=clinic_id, patient_exam_id=patient_exam_id
    )
    label = status_label(patient_exam)
    if patient_exam.status == PatientExamStatus.cancelled:
        raise InvalidInput(f"Exam invite is already cancelled (status: {label})", field="patient_exam_id")
    if patient_exam.status not in CANCELLABLE:
        if patient_exam.outcome == ExamOutcome.missed:
            why = "it is already finished"
        else:
            why = "a provider has already acted on it"
        raise InvalidInput(f"Exam cannot be cancelled: {why} (status: {label})", field="patient_exam_id")
    now = clock.now()
    patient_exam.status = PatientExamStatus.cancelled
    patient_exam.cancelled_at = now
    patient_exam.next_action_at = None
    patient_exam.version += 1
    patient_exam.updated_at = now
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
