"""IntakeQ's JSON, field for field as the partner doc spells it (``intakeq-partner-api.txt``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

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
