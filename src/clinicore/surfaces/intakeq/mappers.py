"""Pure functions between IntakeQ's wire models and the core's inputs and objects.

Our ids on the wire: a practice's ``Id`` is its practice id (8 hex characters); a practitioner's and an
assistant's ``Id`` is its UUID as 32 hex characters (IntakeQ's are hex strings too); a form's ``Id`` is its
UUID in the GUID shape (``8-4-4-4-12`` lower-case hex), as the Forms API shows ``QuestionnaireId``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from clinicore.core.models import FormKind, FormTemplate, Practitioner
from clinicore.core.staff.schemas import AssistantDetails, AssistantView, PractitionerDetails
from clinicore.core.tenancy.practices import Practice, PracticeDetails
from clinicore.kit.inputs import NOT_GIVEN
from clinicore.surfaces.intakeq import wire
from clinicore.surfaces.intakeq.body import given, given_text

# Core field -> IntakeQ field; error messages name these (subapp.wire_fields).
WIRE_FIELDS = {
    "id": "Id",
    "name": "PracticeName",
    "first_name": "FirstName",
    "last_name": "LastName",
    "email": "Email",
    "external_practice_id": "ExternalPracticeId",
    "address_street": "StreetAddress",
    "address_city": "City",
    "address_state": "State",
    "address_zip": "PostalCode",
    "forms_enabled": "FormsEnabled",
    "booking_enabled": "BookingEnabled",
    "role_name": "RoleName",
    "practitioners": "PractitionerIds",
    "practitioner.external_id": "ExternalPractitionerId",
    "practitioner.name": "CompleteName",
    "assistant.external_id": "ExternalAssistantId",
    "assistant.name": "Name",
    "form.name": "Name",
    "form.kind": "Type",
    "form.source_form_id": "SourceMasterFormId",
    "form.destination_practice": "DestinationPracticeId",
    "form.copy_consent_documents": "CopyAttachedConsentForms",
}
FORM_TYPES = {FormKind.questionnaire: "Questionnaire", FormKind.treatment_note: "TreatmentNote"}


def timestamp(moment: datetime) -> str:
    """``yyyy-MM-ddTHH:mm:ss.fffZ``, as the doc shows ``DateCreated``."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def wire_id(our_id: object) -> str:
    return getattr(our_id, "hex", str(our_id))


# --- wire -> core ---------------------------------------------------------------------------------


def practice_details(body: wire.PracticeIn) -> PracticeDetails:
    """Only the fields sent are given; a null switch is left as it is."""
    forms, booking = given(body, "FormsEnabled"), given(body, "BookingEnabled")
    return PracticeDetails(
        name=given_text(body, "PracticeName"),
        first_name=given_text(body, "FirstName"),
        last_name=given_text(body, "LastName"),
        email=given_text(body, "Email"),
        external_practice_id=given(body, "ExternalPracticeId"),
        address_street=given(body, "StreetAddress"),
        address_city=given(body, "City"),
        address_state=given(body, "State"),
        address_zip=given(body, "PostalCode"),
        forms_enabled=NOT_GIVEN if forms is None else forms,
        booking_enabled=NOT_GIVEN if booking is None else booking,
    )


def practitioner_details(body: wire.PractitionerIn) -> PractitionerDetails:
    return PractitionerDetails(
        first_name=given_text(body, "FirstName"),
        last_name=given_text(body, "LastName"),
        email=given_text(body, "Email"),
        role_name=given(body, "RoleName"),
        external_id=given(body, "ExternalPractitionerId"),
    )


def assistant_details(body: wire.AssistantIn) -> AssistantDetails:
    practitioners = given(body, "PractitionerIds")
    return AssistantDetails(
        name=given_text(body, "Name"),
        email=given_text(body, "Email"),
        role_name=given(body, "RoleName"),
        external_id=given(body, "ExternalAssistantId"),
        practitioners=[] if practitioners is None else practitioners,
    )


# --- core -> wire ---------------------------------------------------------------------------------


def practice(found: Practice) -> wire.Practice:
    clinic, main = found.clinic, found.main
    return wire.Practice(
        Id=clinic.practice_id,
        PracticeName=clinic.name,
        FirstName=main.first_name if main is not None else None,
        LastName=main.last_name if main is not None else None,
        Email=clinic.email,
        ExternalPracticeId=clinic.external_practice_id,
        DateCreated=timestamp(clinic.created_at),
        StreetAddress=clinic.address_street,
        City=clinic.address_city,
        State=clinic.address_state,
        PostalCode=clinic.address_zip,
        FormsEnabled=clinic.forms_enabled,
        BookingEnabled=clinic.booking_enabled,
    )


def practitioner(row: Practitioner) -> wire.Practitioner:
    first_name, last_name = row.first_name, row.last_name
    if first_name is None and last_name is None:  # made before it had names apart (console, QualifyBase)
        first_name, _, rest = row.name.partition(" ")
        last_name = rest or None
    return wire.Practitioner(
        Id=wire_id(row.id),
        CompleteName=row.name,
        FirstName=first_name,
        LastName=last_name,
        Email=row.email,
        RoleName=row.role_name,
        ExternalPractitionerId=row.external_id,
    )


def assistant(view: AssistantView) -> wire.Assistant:
    row = view.assistant
    return wire.Assistant(
        Id=wire_id(row.id),
        Name=row.name,
        Email=row.email,
        RoleName=row.role_name,
        ExternalAssistantId=row.external_id,
        PractitionerIds=[wire_id(practitioner_id) for practitioner_id in view.practitioner_ids],
    )


def form(row: FormTemplate) -> wire.Form:
    return wire.Form(
        Id=str(row.id), Name=row.name, Archived=row.archived, Type=FORM_TYPES[FormKind(row.kind)]
    )


def questionnaire(row: FormTemplate) -> wire.Questionnaire:
    return wire.Questionnaire(Id=str(row.id), Name=row.name, Archived=row.archived)
