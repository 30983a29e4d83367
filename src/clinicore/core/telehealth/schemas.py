"""Internal commands and results of telehealth invites (the Qualiphy surface maps its wire to these)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from clinicore.core.models import Client, Exam, Meeting, PatientExam


@dataclass(frozen=True, slots=True)
class PatientDetails:
    first_name: str
    last_name: str
    email: str
    phone: str
    dob: date
    gender: int | None = None  # 1 male, 2 female, 3 prefer not to say
    dmv_license_number: str | None = None
    address_line_1: str | None = None
    address_line_2: str | None = None
    city: str | None = None
    state: str | None = None  # the home address state; TE (with tele_state TE) asks for test mode
    zip_code: str | None = None


@dataclass(frozen=True, slots=True)
class ShippingAddress:
    line_1: str | None = None
    line_2: str | None = None
    city: str | None = None
    state: str | None = None
    zip_code: str | None = None


@dataclass(frozen=True, slots=True)
class Redirects:
    approve: str | None = None
    reject: str | None = None
    na: str | None = None
    missed: str | None = None


@dataclass(frozen=True, slots=True)
class CustomPharmacy:
    """A retail pharmacy named by the invite (``pharmacy_*`` fields)."""

    ncpdpid: str | None = None
    name: str | None = None
    address_line_1: str | None = None
    address_line_2: str | None = None
    city: str | None = None
    state: str | None = None
    zip_code: str | None = None
    phone: str | None = None
    type: str | None = None


@dataclass(frozen=True, slots=True)
class RoutingRequest:
    """Qualiphy's pharmacy routing parameters, as sent (numbers kept: custom_pharmacy 1 = custom)."""

    custom_pharmacy: int | None = None
    pharmacy_id: int | None = None
    order_set_id: int | None = None
    exam_pos_id: int | None = None  # legacy fallback for order_set_id
    provider_pos_selection: int | None = None
    pharmacy: CustomPharmacy = field(default_factory=CustomPharmacy)
    custom_pharmacy_patient_choice: int | None = None
    skip_pharmacy_confirmation: int | None = None
    custom_pharmacy_patient_billing: int | None = None
    custom_pharmacy_clinic_billing: str | None = None
    custom_pharmacy_delivery_method: int | None = None


@dataclass(frozen=True, slots=True)
class ResolvedRouting:
    """What the meeting stores for its Rx exam (every field None for a GFE-only meeting)."""

    custom_pharmacy: int | None = None
    pharmacy_id: int | None = None
    order_set_id: int | None = None
    provider_pos_selection: int | None = None
    pharmacy: CustomPharmacy = field(default_factory=CustomPharmacy)
    custom_pharmacy_patient_choice: int | None = None
    skip_pharmacy_confirmation: bool = False
    custom_pharmacy_patient_billing: int | None = None
    custom_pharmacy_clinic_billing: str | None = None
    custom_pharmacy_delivery_method: int | None = None


@dataclass(frozen=True, slots=True)
class InviteRequest:
    exam_ids: Sequence[int]
    patient: PatientDetails
    tele_state: str
    webhook_url: str | None = None
    additional_data: Any = None  # any JSON value, stored and echoed unchanged
    redirects: Redirects = field(default_factory=Redirects)
    shipping: ShippingAddress = field(default_factory=ShippingAddress)
    routing: RoutingRequest = field(default_factory=RoutingRequest)
    source: str = "qualiphy"


@dataclass(frozen=True, slots=True)
class InvitedExam:
    patient_exam: PatientExam
    exam: Exam


@dataclass(frozen=True, slots=True)
class InviteResult:
    meeting: Meeting
    client: Client
    meeting_url: str
    patient_exams: Sequence[InvitedExam]


@dataclass(frozen=True, slots=True)
class PatientExamChange:
    """The result of a resend or a cancel."""

    patient_exam: PatientExam
    meeting: Meeting
