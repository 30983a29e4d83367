"""Pure functions between Qualiphy's wire and the core: catalog and invites."""

from __future__ import annotations

from clinicore.core.models import Clinic, Exam, RxType, WebhookFormat
from clinicore.core.telehealth.invites import status_label
from clinicore.core.telehealth.routing import (
    DeliveryMethod,
    PartnerRouting,
    PharmacyBills,
    PharmacyRouting,
    ProviderChoice,
    RetailPharmacy,
    RetailRouting,
)
from clinicore.core.telehealth.schemas import (
    InviteRequest,
    InviteResult,
    PatientDetails,
    PatientExamChange,
    Redirects,
    ShippingAddress,
)
from clinicore.kit.errors import InvalidInput
from clinicore.surfaces.qualiphy import wire

# Qualiphy: custom_pharmacy 1 = custom (retail), 2 = partner (inverted on purpose); absent = partner.
CUSTOM_PHARMACY, PARTNER_PHARMACY = 1, 2
PROVIDER_CHOICES = {
    1: ProviderChoice.nothing,  # provider_pos_selection 1: you specify both
    2: ProviderChoice.order_set,  # 2: the provider picks the order set
    3: ProviderChoice.pharmacy_and_order_set,  # 3: the provider picks pharmacy and order set
}
PHARMACY_BILLS = {1: PharmacyBills.clinic, 2: PharmacyBills.patient}  # custom_pharmacy_patient_billing
DELIVERY_METHODS = {1: DeliveryMethod.pickup, 2: DeliveryMethod.ship}  # custom_pharmacy_delivery_method
YES = 2  # custom_pharmacy_patient_choice and skip_pharmacy_confirmation: 1 = no, 2 = yes


def exam(row: Exam) -> wire.Exam:
    return wire.Exam(
        id=row.id,
        title=row.title,
        rx_type=2 if row.rx_type == RxType.rx else 1,
        price=f"{row.price:.2f}" if row.price is not None else None,
        attachments_required=2 if row.attachments_required else 1,  # Qualiphy: 1 = not required
        attachments=list(row.attachments or []),
    )


def exam_list(clinic: Clinic, rows: list[Exam]) -> wire.ExamList:
    return wire.ExamList(clinic_id=clinic.number, exams=[exam(row) for row in rows])


def _one_or_two(value: int | None, *, field: str, meanings: str) -> int | None:
    if value is not None and value not in (1, 2):
        raise InvalidInput(f"{field}: must be {meanings}", field=field)
    return value


def routing(body: wire.ExamInvite) -> PharmacyRouting:
    """Qualiphy's routing codes in core words; called by the core only for an invite with an Rx exam
    (a GFE-only invite ignores its routing fields, however malformed)."""
    if body.custom_pharmacy not in (None, CUSTOM_PHARMACY, PARTNER_PHARMACY):
        raise InvalidInput(
            "custom_pharmacy: must be 1 (custom pharmacy) or 2 (partner pharmacy); yes, 1 means custom",
            field="custom_pharmacy",
        )
    if body.custom_pharmacy == CUSTOM_PHARMACY:
        patient_choice = _one_or_two(
            body.custom_pharmacy_patient_choice,
            field="custom_pharmacy_patient_choice",
            meanings="1 (custom pharmacy preselected) or 2 (the patient chooses at the meeting)",
        )
        skip = _one_or_two(
            body.skip_pharmacy_confirmation,
            field="skip_pharmacy_confirmation",
            meanings="1 (show the pharmacy confirmation screen) or 2 (skip it)",
        )
        billing = _one_or_two(
            body.custom_pharmacy_patient_billing,
            field="custom_pharmacy_patient_billing",
            meanings="1 (the pharmacy bills the clinic) or 2 (the pharmacy bills the patient)",
        )
        delivery = _one_or_two(
            body.custom_pharmacy_delivery_method,
            field="custom_pharmacy_delivery_method",
            meanings="1 (the patient picks up at the pharmacy) or 2 (shipped to the patient or clinic)",
        )
        return RetailRouting(
            pharmacy=RetailPharmacy(
                ncpdpid=body.ncpdpid,
                name=body.pharmacy_name,
                address_line_1=body.pharmacy_address_line_1,
                address_line_2=body.pharmacy_address_line_2,
                city=body.pharmacy_city,
                state=body.pharmacy_state,
                zip_code=body.pharmacy_zip_code,
                phone=body.pharmacy_phone,
                type=body.pharmacy_type,
            ),
            patient_chooses=patient_choice == YES,
            skip_confirmation=skip == YES,
            pharmacy_bills=PHARMACY_BILLS.get(billing) if billing is not None else None,
            clinic_billing_reference=body.custom_pharmacy_clinic_billing,
            delivery=DELIVERY_METHODS.get(delivery) if delivery is not None else None,
        )
    selection = body.provider_pos_selection
    if selection is not None and selection not in PROVIDER_CHOICES:
        raise InvalidInput(
            "provider_pos_selection: must be 1 (you specify pharmacy_id and order_set_id), "
            "2 (the provider picks the order set) or 3 (the provider picks pharmacy and order set)",
            field="provider_pos_selection",
        )
    return PartnerRouting(
        pharmacy_id=body.pharmacy_id,
        order_set_id=body.order_set_id,
        exam_pos_id=body.exam_pos_id,
        provider_chooses=PROVIDER_CHOICES[selection] if selection is not None else None,
    )


def invite_request(body: wire.ExamInvite) -> InviteRequest:
    return InviteRequest(
        exam_ids=tuple(body.exams),
        patient=PatientDetails(
            first_name=body.first_name,
            last_name=body.last_name,
            email=body.email,
            phone=body.phone_number,
            dob=body.dob,
            gender=body.gender,
            dmv_license_number=body.dmv_license_number,
            address_line_1=body.address_line_1,
            address_line_2=body.address_line_2,
            city=body.city,
            state=body.state,
            zip_code=body.zip_code,
        ),
        tele_state=body.tele_state,
        webhook_url=body.webhook_url,
        webhook_format=WebhookFormat.qualiphy,
        additional_data=body.additional_data,
        redirects=Redirects(
            approve=body.redirect_approve,
            reject=body.redirect_reject,
            na=body.redirect_na,
            missed=body.redirect_missed,
        ),
        shipping=ShippingAddress(
            line_1=body.shipping_address_line_1,
            line_2=body.shipping_address_line_2,
            city=body.shipping_city,
            state=body.shipping_state,
            zip_code=body.shipping_zip_code,
        ),
        routing=lambda: routing(body),
        source="qualiphy",
    )


def invite_response(result: InviteResult) -> wire.ExamInviteResponse:
    return wire.ExamInviteResponse(
        meeting_url=result.meeting_url,
        meeting_uuid=str(result.meeting.id),
        patient_exams=[
            wire.InvitedExam(
                patient_exam_id=item.patient_exam.id, exam_id=item.exam.id, exam_title=item.exam.title
            )
            for item in result.patient_exams
        ],
    )


def patient_exam_message(change: PatientExamChange, message: str) -> wire.PatientExamMessage:
    return wire.PatientExamMessage(
        message=message,
        patient_exam_id=change.patient_exam.id,
        meeting_uuid=str(change.meeting.id),
        status=status_label(change.patient_exam),
    )
