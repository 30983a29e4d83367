"""IntakeQ's appointment JSON, field for field as the Appointments API doc spells it
(``intakeq-appointments-api.txt``), plus the time fields real clients read (``StartDateIso`` …)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field

from clinicore.surfaces.intakeq.body import Body, IdText, Switch

MAX_MS = 10**14  # far beyond any supported year; the core checks the year itself


def _whole_number(value: Any) -> Any:
    """A whole number, or its digits as text (``"123"``); never true/false, never a fraction."""
    if isinstance(value, bool):
        raise ValueError("must be a whole number")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit() and len(value.strip()) <= 16:
        return int(value.strip())
    if isinstance(value, int):
        return value
    raise ValueError("must be a whole number")


WholeNumber = Annotated[int, BeforeValidator(_whole_number), Field(ge=-MAX_MS, le=MAX_MS)]
ClientNumber = Annotated[int, BeforeValidator(_whole_number), Field(ge=1, le=2**31 - 1)]  # an INTEGER column
WordText = Annotated[str, Field(max_length=40)]
ReasonText = Annotated[str, Field(max_length=500)]


class AppointmentIn(Body):
    """The body of ``POST /appointments``: every field is mandatory (the route says which are missing)."""

    PractitionerId: IdText | None = None
    ClientId: ClientNumber | None = None
    ServiceId: IdText | None = None
    LocationId: IdText | None = None
    Status: WordText | None = None
    UtcDateTime: WholeNumber | None = None
    SendClientEmailNotification: Switch | None = None
    ReminderType: WordText | None = None


class AppointmentUpdateIn(Body):
    """The body of ``PUT /appointments``: ``Id`` and ``UtcDateTime`` mandatory, the rest optional.
    ``ClientId`` and ``PractitionerId`` are read only to refuse a change of them."""

    Id: IdText | None = None
    ServiceId: IdText | None = None
    LocationId: IdText | None = None
    Status: WordText | None = None
    UtcDateTime: WholeNumber | None = None
    SendClientEmailNotification: Switch | None = None
    ReminderType: WordText | None = None
    ClientId: ClientNumber | None = None
    PractitionerId: IdText | None = None


class CancellationIn(Body):
    AppointmentId: IdText | None = None
    Reason: ReasonText | None = None


class TelehealthInfo(BaseModel):
    Id: str
    StartUrl: str
    Invitation: str | None
    Provider: str
    InvitationCode: str | None


class Procedure(BaseModel):
    ProcedureCode: str
    Price: float | None
    Units: int
    Modifiers: list[str]


class AdditionalClient(BaseModel):
    ClientId: int
    ClientName: str
    ClientEmail: str | None
    ClientPhone: str | None
    IntakeId: str | None


class Times(BaseModel):
    StartDate: int  # Unix ms
    EndDate: int
    StartDateIso: str  # yyyy-MM-ddTHH:mm:ss.fffZ
    EndDateIso: str
    StartDateLocal: str  # yyyy-MM-ddTHH:mm:ss, the practice's wall time
    EndDateLocal: str
    StartDateLocalFormatted: str  # "Tuesday, March 9, 2027 3:00 PM"


class AppointmentListItem(Times):
    """An item of ``GET /appointments``: the doc's list shape (service and location by name)."""

    Id: str
    ClientName: str | None
    ClientEmail: str | None
    ClientPhone: str | None
    ClientDateOfBirth: str | None
    ClientId: int | None
    Status: str
    Duration: int
    Service: str | None
    Location: str | None
    Price: float | None
    PractitionerEmail: str | None
    PractitionerName: str
    DateCreated: int
    IntakeId: str | None
    ExternalClientId: str | None
    BookedByClient: bool
    CreatedBy: str | None


class Appointment(Times):
    """The appointment object of the doc, every field."""

    Id: str
    ClientName: str | None
    ClientEmail: str | None
    ClientPhone: str | None
    ClientDateOfBirth: str | None
    ClientId: int | None
    ExternalClientId: str | None
    Status: str
    Duration: int
    ServiceName: str | None
    ServiceId: str | None
    LocationName: str | None
    LocationId: int | None
    Price: float | None
    PractitionerEmail: str | None
    PractitionerName: str
    PractitionerId: str
    DateCreated: int
    IntakeId: str | None
    BookedByClient: bool
    CreatedBy: str | None
    AppointmentPackageId: str | None
    AppointmentPackageName: str | None
    TelehealthInfo: TelehealthInfo | None
    Procedures: list[Procedure]
    AdditionalClients: list[AdditionalClient]


class SettingsLocation(BaseModel):
    Id: str
    Name: str
    Address: str | None


class SettingsService(BaseModel):
    Id: str
    Name: str
    Duration: int
    Price: float | None


class SettingsPractitioner(BaseModel):
    Id: str
    CompleteName: str
    FirstName: str | None
    LastName: str | None
    Email: str | None


class BookingSettings(BaseModel):
    """``Locatons`` as the doc spells it and ``Locations`` as real clients read it: the same list."""

    Locatons: list[SettingsLocation]
    Locations: list[SettingsLocation]
    Services: list[SettingsService]
    Practitioners: list[SettingsPractitioner]


class AppointmentWebhook(BaseModel):
    EventType: str
    ActionPerformedByClient: bool
    Appointment: Appointment
    ClientId: int | None
    PracticeId: str
    ExternalPracticeId: str | None
    ExternalClientId: str | None
