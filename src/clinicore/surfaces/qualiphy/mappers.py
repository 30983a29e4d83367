"""Pure functions between Qualiphy's wire and the core: catalog and invites."""

from __future__ import annotations

from clinicore.core.models import Clinic, Exam, RxType
from clinicore.core.telehealth.invites import status_label
from clinicore.core.telehealth.schemas import (
    CustomPharmacy,
    InviteRequest,
    InviteResult,
    PatientDetails,
    PatientExamChange,
    Redirects,
    RoutingRequest,
    ShippingAddress,
)
from clinicore.surfaces.qualiphy import wire


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
        routing=RoutingRequest(
            custom_pharmacy=body.custom_pharmacy,
            pharmacy_id=body.pharmacy_id,
            order_set_id=body.order_set_id,
            exam_pos_id=body.exam_pos_id,
            provider_pos_selection=body.provider_pos_selection,
            pharmacy=CustomPharmacy(
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
            custom_pharmacy_patient_choice=body.custom_pharmacy_patient_choice,
            skip_pharmacy_confirmation=body.skip_pharmacy_confirmation,
            custom_pharmacy_patient_billing=body.custom_pharmacy_patient_billing,
            custom_pharmacy_clinic_billing=body.custom_pharmacy_clinic_billing,
            custom_pharmacy_delivery_method=body.custom_pharmacy_delivery_method,
        ),
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
