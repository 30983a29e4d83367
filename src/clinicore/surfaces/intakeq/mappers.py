"""Pure functions between IntakeQ's wire models and the core's inputs and objects.

Our ids on the wire: a practice's ``Id`` is its practice id (8 hex characters); a practitioner's and an
assistant's ``Id`` is its UUID as 32 hex characters (IntakeQ's are hex strings too); a form's ``Id`` is its
UUID in the GUID shape (``8-4-4-4-12`` lower-case hex), as the Forms API shows ``QuestionnaireId``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from clinicore.core.forms.intake_schemas import (
    AskedQuestion,
    IntakeFileView,
    IntakeRequest,
    IntakeView,
    IssuedToken,
)
from clinicore.core.forms.intakes import IntakeSummary, client_display_name
from clinicore.core.models import FormKind, FormQuestionKind, FormTemplate, IntakeStatus, Practitioner
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
    return utc.isoformat(timespec="milliseconds").replace("+00:00", "Z")  # the year padded: 0362-...


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


# --- intakes --------------------------------------------------------------------------------------

# Our intake statuses in IntakeQ's words: IntakeQ has no word for "made, not yet emailed", and a created
# intake is already open to its client (the integrator hands out the link), so it reads as Sent.
INTAKE_STATUSES = {
    IntakeStatus.created: "Sent",
    IntakeStatus.sent: "Sent",
    IntakeStatus.in_progress: "Partial",
    IntakeStatus.submitted: "Completed",
}
# The Forms API's four question types.
QUESTION_TYPES = {
    FormQuestionKind.text: "OpenQuestion",
    FormQuestionKind.long_text: "OpenQuestion",
    FormQuestionKind.number: "OpenQuestion",
    FormQuestionKind.date: "OpenQuestion",
    FormQuestionKind.single_choice: "MultipleChoice",
    FormQuestionKind.multiple_choice: "MultipleChoice",
    FormQuestionKind.matrix: "Matrix",
    FormQuestionKind.file_upload: "Attachment",
    FormQuestionKind.signature: "Attachment",
}
INTAKE_WIRE_FIELDS = {
    "intake.form_id": "QuestionnaireId",
    "intake.client_number": "ClientId",
    "intake.external_client_id": "ExternalClientId",
    "intake.client_name": "ClientName",
    "intake.client_email": "ClientEmail",
    "intake.client_phone": "ClientPhone",
    "intake.practitioner_id": "PractitionerId",
    "intake.client": "client",
    "intake.start": "startDate",
    "intake.end": "endDate",
}
WIRE_FIELDS |= INTAKE_WIRE_FIELDS


def unix_ms(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp() * 1000)


def intake_request(body: wire.IntakeIn) -> IntakeRequest:
    return IntakeRequest(
        form_id=body.QuestionnaireId,
        client_number=body.ClientId,
        external_client_id=body.ExternalClientId,
        client_name=body.ClientName,
        client_email=body.ClientEmail,
        client_phone=body.ClientPhone,
        practitioner=body.PractitionerId,
    )


def attachment_url(base_url: str, file_id: uuid.UUID) -> str:
    """Where the API serves a file's bytes (``GET /attachment/{id}``, practice key)."""
    return f"{base_url.rstrip('/')}/intakeq/api/v1/attachment/{file_id.hex}"


def question(
    asked: AskedQuestion, value: object, files: dict[str, IntakeFileView], *, base_url: str
) -> wire.Question:
    """One question with its answer in the Forms API's shape: text in ``Answer`` (choices joined with
    ", "), a matrix in ``Rows``, files in ``Attachments``."""
    answer: str | None = None
    rows: list[wire.QuestionRow] = []
    attachments: list[wire.Attachment] = []
    if asked.kind == FormQuestionKind.matrix:
        chosen = value if isinstance(value, dict) else {}
        rows = [
            wire.QuestionRow(Text=row, Answers=[chosen[row]] if row in chosen else [])
            for row in asked.matrix_rows
        ]
    elif asked.kind in (FormQuestionKind.file_upload, FormQuestionKind.signature):
        file = files.get(str(value)) if value else None
        if file is not None:
            attachments = [
                wire.Attachment(
                    Id=file.id.hex,
                    Url=attachment_url(base_url, file.id),
                    ContentType=file.content_type,
                    FileName=file.name,
                )
            ]
            answer = file.name
    elif isinstance(value, list):
        answer = ", ".join(str(item) for item in value) or None
    elif value is not None:
        answer = str(value)
    return wire.Question(
        Id=asked.id,
        Text=asked.text,
        Answer=answer,
        QuestionType=QUESTION_TYPES[FormQuestionKind(asked.kind)],
        Rows=rows,
        ColumnNames=list(asked.matrix_columns),
        OfficeUse=False,
        OfficeNote=None,
        ClientProfileFieldId=None,
        Attachments=attachments,
    )


def _signed_at(consent: dict[str, str] | None) -> int | None:
    return unix_ms(datetime.fromisoformat(consent["signed_at"])) if consent else None


def intake_summary(found: IntakeSummary) -> wire.IntakeSummary:
    intake, client, practitioner = found.intake, found.client, found.practitioner
    return wire.IntakeSummary(
        Id=str(intake.id),
        ClientName=client_display_name(client),
        ClientEmail=client.email,
        ClientId=client.number,
        Status=INTAKE_STATUSES[IntakeStatus(intake.status)],
        DateCreated=unix_ms(intake.created_at) or 0,
        DateSubmitted=unix_ms(intake.submitted_at),
        QuestionnaireName=intake.form_name,
        Practitioner=practitioner.email if practitioner else None,
        PractitionerName=practitioner.name if practitioner else None,
        ExternalClientId=client.external_client_id,
    )


def intake(view: IntakeView, *, base_url: str) -> wire.Intake:
    """The full Intake object. ``base_url`` is where this API is served (attachment links)."""
    summary = intake_summary(
        IntakeSummary(intake=view.intake, client=view.client, practitioner=view.practitioner)
    )
    form = view.form
    files = {str(file.id): file for file in form.files}
    return wire.Intake(
        **summary.model_dump(),
        Questions=[question(q, form.answers.get(q.id), files, base_url=base_url) for q in form.questions],
        AppointmentId=wire_id(view.intake.appointment_id) if view.intake.appointment_id else None,
        Url=view.url,
        Password=view.password,
        ConsentForms=[
            wire.ConsentForm(
                Id=document.id,
                Name=document.name,
                DocumentType="Html",
                Signed=document.id in form.consents,
                DateSubmitted=_signed_at(form.consents.get(document.id)),
            )
            for document in form.consent_documents
        ],
    )


def intake_token(issued: IssuedToken) -> wire.IntakeToken:
    return wire.IntakeToken(Token=issued.token, Url=issued.url, Expiration=timestamp(issued.expires_at))
