"""Internal commands and results of telehealth invites; each surface maps its wire to these."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from clinicore.core.models import Client, Exam, Meeting, PatientExam, WebhookFormat
from clinicore.core.telehealth.routing import PartnerRouting, PharmacyRouting


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
    state: str | None = None  # the home address state only (test mode is asked for by tele_state)
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
class InviteRequest:
    exam_ids: Sequence[int]
    patient: PatientDetails
    tele_state: str
    webhook_url: str | None = None
    webhook_format: WebhookFormat = WebhookFormat.native  # the body the invite's webhook_url receives
    additional_data: Any = None  # any JSON value, stored and echoed unchanged
    redirects: Redirects = field(default_factory=Redirects)
    shipping: ShippingAddress = field(default_factory=ShippingAddress)
    # Read only when the invite has an Rx exam: a GFE-only invite ignores its routing however it was
    # written, so a surface may pass a decoder that refuses a malformed vendor code when it is called.
    routing: PharmacyRouting | Callable[[], PharmacyRouting] = field(default_factory=PartnerRouting)
    source: str = "api"  # where the invite came from: the surface or page that made it


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
