"""IntakeQ's Client API JSON, field for field as IntakeQ's clients read and send it (the Client API
article the appointments doc links; docs/compat/intakeq.md "Clients")."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from clinicore.surfaces.intakeq.body import Body, EmailText, IdText, NameText
from clinicore.surfaces.intakeq.wire import ClientNumber, PhoneText

# Unix milliseconds a date of birth may be sent as: within what a datetime holds.
MAX_UNIX_MS = 253_402_300_799_999


def _date_of_birth(value: Any) -> Any:
    """Unix milliseconds (as IntakeQ answers it; the UTC day of that instant), or ``yyyy-MM-dd``."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("must be Unix milliseconds or a date as yyyy-MM-dd")
    if isinstance(value, str) and value.strip().lstrip("-").isdigit() and len(value.strip()) <= 16:
        value = int(value.strip())
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        if abs(value) > MAX_UNIX_MS:
            raise ValueError("must be Unix milliseconds or a date as yyyy-MM-dd")
        return datetime.fromtimestamp(value / 1000, UTC).date()
    if isinstance(value, str) and len(value.strip()) >= 10:
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            pass
    raise ValueError("must be Unix milliseconds or a date as yyyy-MM-dd")


def _text(value: Any) -> Any:
    """A custom field's value: text; a number or a switch sent as JSON means its text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


def _list_of(value: Any) -> Any:
    if value is None or isinstance(value, list):
        return value
    return [value]


BirthDate = Annotated[date | None, BeforeValidator(_date_of_birth)]
TagText = Annotated[str, StringConstraints(max_length=200)]
ValueText = Annotated[str, BeforeValidator(_text), StringConstraints(max_length=2000)]


class CustomFieldIn(Body):
    FieldId: IdText
    Value: ValueText | None = None


class ClientIn(Body):
    """The body of ``POST /clients``: a new client, or the client ``ClientId`` names."""

    ClientId: ClientNumber | None = None
    Name: NameText | None = None
    FirstName: NameText | None = None
    LastName: NameText | None = None
    Email: EmailText | None = None
    Phone: PhoneText | None = None
    MobilePhone: PhoneText | None = None
    DateOfBirth: BirthDate = None
    Gender: NameText | None = None
    ExternalClientId: IdText | None = None
    StreetAddress: NameText | None = None
    UnitNumber: NameText | None = None
    City: NameText | None = None
    StateShort: NameText | None = None
    PostalCode: NameText | None = None
    PractitionerId: IdText | None = None
    Tags: Annotated[list[TagText], BeforeValidator(_list_of), Field(max_length=200)] | None = None
    CustomFields: Annotated[list[CustomFieldIn], BeforeValidator(_list_of), Field(max_length=200)] | None = (
        None
    )


class ClientTagIn(Body):
    ClientId: ClientNumber | None = None
    Tag: TagText | None = None


class ClientTag(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ClientId: int
    Tag: str


class ClientSummary(BaseModel):
    """An item of ``GET /clients`` without ``includeProfile``: IntakeQ names the number ``ClientNumber``;
    ``ClientId`` beside it is the same number."""

    model_config = ConfigDict(extra="forbid")

    ClientNumber: int
    ClientId: int
    Name: str
    Email: str | None
    Phone: str | None


class CustomFieldValue(BaseModel):
    model_config = ConfigDict(extra="forbid")

    FieldId: str
    Text: str
    Value: str | None


class ClientProfile(BaseModel):
    """The full client: ``GET /clients?includeProfile=true``, ``GET /clients/profile/{id}``, ``POST
    /clients``."""

    model_config = ConfigDict(extra="forbid")

    ClientId: int
    Name: str
    FirstName: str
    LastName: str
    MiddleName: str | None
    Email: str | None
    Phone: str | None
    MobilePhone: str | None
    HomePhone: str | None
    WorkPhone: str | None
    DateOfBirth: int | None  # Unix milliseconds, midnight UTC of the day
    Gender: str | None
    MaritalStatus: str | None
    Tags: list[str]
    Archived: bool
    Address: str | None
    UnitNumber: str | None
    StreetAddress: str | None
    City: str | None
    StateShort: str | None
    Country: str | None
    PostalCode: str | None
    AdditionalInformation: str | None
    CustomFields: list[CustomFieldValue]
    DateCreated: int  # Unix milliseconds
    LastActivityDate: int  # Unix milliseconds
    PractitionerId: str | None
    ExternalClientId: str | None
