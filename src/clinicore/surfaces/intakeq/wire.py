"""IntakeQ's JSON, field for field as the partner doc spells it (``intakeq-partner-api.txt``)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, StringConstraints

from clinicore.surfaces.intakeq.body import Body, EmailText, IdList, IdText, NameText, Switch


class Error(BaseModel):
    """ASP.NET Web API's error shape."""

    Message: str


# --- practices (partner API) ----------------------------------------------------------------------


class PracticeIn(Body):
    """The body of ``POST /practice`` and ``PUT /practice``."""

    Id: IdText | None = None
    PracticeName: NameText | None = None
    FirstName: NameText | None = None
    LastName: NameText | None = None
    Email: EmailText | None = None
    ExternalPracticeId: IdText | None = None
    StreetAddress: NameText | None = None
    City: NameText | None = None
    State: NameText | None = None
    PostalCode: NameText | None = None
    FormsEnabled: Switch | None = None
    BookingEnabled: Switch | None = None


class Practice(BaseModel):
    model_config = ConfigDict(extra="forbid")

    Id: str
    PracticeName: str
    FirstName: str | None
    LastName: str | None
    Email: str | None
    ExternalPracticeId: str | None
    DateCreated: str  # yyyy-MM-ddTHH:mm:ss.fffZ
    StreetAddress: str | None
    City: str | None
    State: str | None
    PostalCode: str | None
    FormsEnabled: bool
    BookingEnabled: bool


class PracticeKey(BaseModel):
    ApiKey: str


# --- practitioners and assistants (practice API) --------------------------------------------------


class PractitionerIn(Body):
    Id: IdText | None = None
    FirstName: NameText | None = None
    LastName: NameText | None = None
    Email: EmailText | None = None
    RoleName: NameText | None = None
    ExternalPractitionerId: IdText | None = None


class Practitioner(BaseModel):
    Id: str
    CompleteName: str
    FirstName: str | None
    LastName: str | None
    Email: str | None
    RoleName: str
    ExternalPractitionerId: str | None


class AssistantIn(Body):
    Id: IdText | None = None
    Name: NameText | None = None
    Email: EmailText | None = None
    RoleName: NameText | None = None
    ExternalAssistantId: IdText | None = None
    PractitionerIds: IdList | None = None


class Assistant(BaseModel):
    Id: str
    Name: str
    Email: str
    RoleName: str
    ExternalAssistantId: str | None
    PractitionerIds: list[str]


# --- forms ----------------------------------------------------------------------------------------


class Form(BaseModel):
    """A form template as ``GET /masterForms``, ``GET /practice/{id}/forms`` and ``copyForm`` show it."""

    model_config = ConfigDict(extra="forbid")

    Id: str
    Name: str
    Archived: bool
    Type: str  # Questionnaire | TreatmentNote


class CopyFormIn(Body):
    SourceMasterFormId: IdText | None = None
    DestinationPracticeId: IdText | None = None
    CopyAttachedConsentForms: Switch | None = None


class Questionnaire(BaseModel):
    """A practice's form template as the Forms API's ``GET /questionnaires`` shows it."""

    model_config = ConfigDict(extra="forbid")

    Id: str
    Name: str
    Archived: bool


# --- intakes (the Forms API and the partner doc's "Create Intake Form") ---------------------------


def _client_number(value: Any) -> Any:
    """``ClientId`` is IntakeQ's integer client id; digits sent as a string mean that number."""
    if isinstance(value, bool):
        raise ValueError("must be a whole number")
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or not 1 <= value <= MAX_CLIENT_NUMBER:
        raise ValueError("must be a whole number from 1")
    return value


MAX_CLIENT_NUMBER = 2**31 - 1
ClientNumber = Annotated[int, BeforeValidator(_client_number)]
PhoneText = Annotated[str, StringConstraints(max_length=40)]


class IntakeIn(Body):
    """The body of ``POST /intakes/create`` and ``POST /intakes/send``."""

    QuestionnaireId: IdText | None = None
    ClientId: ClientNumber | None = None
    ClientName: NameText | None = None
    ClientEmail: EmailText | None = None
    ClientPhone: PhoneText | None = None
    PractitionerId: IdText | None = None
    ExternalClientId: IdText | None = None


class IntakeSummary(BaseModel):
    """One item of ``GET /intakes/summary``."""

    model_config = ConfigDict(extra="forbid")

    Id: str
    ClientName: str
    ClientEmail: str | None
    ClientId: int
    Status: str  # Sent | Partial | Completed
    DateCreated: int  # Unix milliseconds
    DateSubmitted: int | None
    QuestionnaireName: str
    Practitioner: str | None  # the practitioner's email
    PractitionerName: str | None
    ExternalClientId: str | None


class QuestionRow(BaseModel):
    Text: str
    Answers: list[str]


class Attachment(BaseModel):
    Id: str
    Url: str
    ContentType: str
    FileName: str


class Question(BaseModel):
    """The Forms API's Question object."""

    model_config = ConfigDict(extra="forbid")

    Id: str
    Text: str
    Answer: str | None
    QuestionType: str  # OpenQuestion | MultipleChoice | Matrix | Attachment
    Rows: list[QuestionRow]
    ColumnNames: list[str]
    OfficeUse: bool
    OfficeNote: str | None
    ClientProfileFieldId: str | None
    Attachments: list[Attachment]


class ConsentForm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    Id: str
    Name: str
    DocumentType: str  # Html
    Signed: bool
    DateSubmitted: int | None


class Intake(BaseModel):
    """The Intake object of ``/intakes/create``, ``/intakes/send`` and ``GET /intakes/{id}``."""

    model_config = ConfigDict(extra="forbid")

    Id: str
    ClientName: str
    ClientEmail: str | None
    ClientId: int
    Status: str
    DateCreated: int
    DateSubmitted: int | None
    QuestionnaireName: str
    Practitioner: str | None
    PractitionerName: str | None
    Questions: list[Question]
    AppointmentId: str | None
    ExternalClientId: str | None
    Url: str
    Password: str
    ConsentForms: list[ConsentForm]


class IntakeToken(BaseModel):
    Token: str
    Url: str
    Expiration: str  # yyyy-MM-ddTHH:mm:ss.fffZ
