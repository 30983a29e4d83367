"""Qualiphy's exact JSON for the catalog and invite endpoints: request bodies as integrators send them
(ids as numbers or numeric strings, ``exams`` as an array or a bare number, unknown fields ignored)
and responses as the doc shows them, each with ``http_code``."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, model_validator
from pydantic_core import PydanticCustomError

from clinicore.surfaces.qualiphy.parsing import MOST_IDS, AdditionalData, Body, as_int

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _missing() -> PydanticCustomError:
    # Reported by parsing.describe as "<field> is required", the same as a field left out.
    return PydanticCustomError("missing", "Field required")


def _exam_ids(value: Any) -> list[int]:
    if value is None or value == "" or value == []:
        raise _missing()
    items = value if isinstance(value, list) else [value]
    if isinstance(value, str) and "," in value:
        items = [part for part in value.split(",") if part.strip()]
    if len(items) > MOST_IDS:
        raise ValueError(f"at most {MOST_IDS} ids")
    return [as_int(item) for item in items]


def _required_text(value: Any) -> str:
    if value is None:
        raise _missing()
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # a phone number or ZIP sent as a JSON number
    if not isinstance(value, str):
        raise ValueError("must be a string")
    if not value.strip():
        raise _missing()
    return value.strip()


def _optional_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise ValueError("must be a string")
    return value.strip() or None


def _optional_number(value: Any) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return as_int(value)


def _date_of_birth(value: Any) -> date:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise _missing()
    if isinstance(value, str) and DATE.match(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError("must be a date in YYYY-MM-DD format")


ExamIds = Annotated[list[int], BeforeValidator(_exam_ids)]
RequiredText = Annotated[str, BeforeValidator(_required_text)]
OptionalText = Annotated[str | None, BeforeValidator(_optional_text)]
OptionalNumber = Annotated[int | None, BeforeValidator(_optional_number)]
DateOfBirth = Annotated[date, BeforeValidator(_date_of_birth)]
Id = Annotated[int, BeforeValidator(as_int)]


# --- requests -------------------------------------------------------------------------------------


# Qualiphy: custom_pharmacy 1 = custom (retail), 2 = partner; absent is partner routing.
CUSTOM_ROUTING = 1
PARTNER_ROUTING_FIELDS = ("pharmacy_id", "order_set_id", "exam_pos_id", "provider_pos_selection")
CUSTOM_ROUTING_FIELDS = (
    "ncpdpid",
    "pharmacy_name",
    "pharmacy_address_line_1",
    "pharmacy_address_line_2",
    "pharmacy_city",
    "pharmacy_state",
    "pharmacy_zip_code",
    "pharmacy_phone",
    "pharmacy_type",
    "custom_pharmacy_patient_choice",
    "skip_pharmacy_confirmation",
    "custom_pharmacy_patient_billing",
    "custom_pharmacy_clinic_billing",
    "custom_pharmacy_delivery_method",
)


def fields_the_routing_ignores(custom_pharmacy: Any) -> tuple[str, ...]:
    """The other scenario's fields: ignored whatever their type, as the vendor does (integrations send
    ``custom_pharmacy_clinic_billing: "<clinic name>"`` with partner routing)."""
    if custom_pharmacy is None or (isinstance(custom_pharmacy, str) and not custom_pharmacy.strip()):
        return CUSTOM_ROUTING_FIELDS
    try:
        chosen = as_int(custom_pharmacy)
    except ValueError:
        return ()  # custom_pharmacy itself is reported
    return PARTNER_ROUTING_FIELDS if chosen == CUSTOM_ROUTING else CUSTOM_ROUTING_FIELDS


class ExamInvite(Body):
    """``/exam_invite``: the required fields in the order their errors are reported."""

    @model_validator(mode="before")
    @classmethod
    def _drop_fields_the_routing_ignores(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        ignored = fields_the_routing_ignores(data.get("custom_pharmacy"))
        return {name: value for name, value in data.items() if name not in ignored}

    exams: ExamIds
    first_name: RequiredText
    last_name: RequiredText
    email: RequiredText
    dob: DateOfBirth
    phone_number: RequiredText
    tele_state: RequiredText

    webhook_url: OptionalText = None
    additional_data: AdditionalData = None  # a string or an object, echoed back unchanged
    redirect_approve: OptionalText = None
    redirect_reject: OptionalText = None
    redirect_na: OptionalText = None
    redirect_missed: OptionalText = None
    gender: OptionalNumber = None  # 1 male, 2 female, 3 prefer not to say
    dmv_license_number: OptionalText = None
    address_line_1: OptionalText = None
    address_line_2: OptionalText = None
    city: OptionalText = None
    state: OptionalText = None
    zip_code: OptionalText = None
    shipping_address_line_1: OptionalText = None
    shipping_address_line_2: OptionalText = None
    shipping_city: OptionalText = None
    shipping_state: OptionalText = None
    shipping_zip_code: OptionalText = None

    custom_pharmacy: OptionalNumber = None  # 1 = custom, 2 = partner (inverted on purpose)
    pharmacy_id: OptionalNumber = None
    order_set_id: OptionalNumber = None
    exam_pos_id: OptionalNumber = None  # legacy fallback for order_set_id
    provider_pos_selection: OptionalNumber = None
    ncpdpid: OptionalText = None
    pharmacy_name: OptionalText = None
    pharmacy_address_line_1: OptionalText = None
    pharmacy_address_line_2: OptionalText = None
    pharmacy_city: OptionalText = None
    pharmacy_state: OptionalText = None
    pharmacy_zip_code: OptionalText = None
    pharmacy_phone: OptionalText = None
    pharmacy_type: OptionalText = None
    custom_pharmacy_patient_choice: OptionalNumber = None
    skip_pharmacy_confirmation: OptionalNumber = None
    custom_pharmacy_patient_billing: OptionalNumber = None
    custom_pharmacy_clinic_billing: OptionalText = None  # undocumented: a number or the clinic's name
    custom_pharmacy_delivery_method: OptionalNumber = None


class PatientExamRequest(Body):
    """``/exam_invite_resend`` and ``/exam_invite_cancel``."""

    patient_exam_id: Id


# --- responses ------------------------------------------------------------------------------------


class Exam(BaseModel):
    id: int
    title: str
    rx_type: int  # 1 GFE, 2 Rx (urgent care included)
    price: str | None  # "27.99", or null without a fixed price
    attachments_required: int  # 1 not required, 2 required
    attachments: list[str]


class ExamList(BaseModel):
    http_code: int = 200
    clinic_id: int
    exams: list[Exam]


class InvitedExam(BaseModel):
    patient_exam_id: int
    exam_id: int
    exam_title: str


class ExamInviteResponse(BaseModel):
    http_code: int = 200
    meeting_url: str
    meeting_uuid: str
    patient_exams: list[InvitedExam]


class PatientExamMessage(BaseModel):
    """Resend and cancel: the doc shows no body, so a message and the ids it acted on."""

    http_code: int = 200
    message: str
    patient_exam_id: int
    meeting_uuid: str
    status: str
