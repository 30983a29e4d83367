"""Pure functions between IntakeQ's Client API JSON and the core's client profiles."""

from __future__ import annotations

from datetime import UTC, datetime, time

from clinicore.core.people.profiles import ClientDetails, ClientProfile
from clinicore.kit.inputs import NOT_GIVEN
from clinicore.surfaces.intakeq import client_wire as wire
from clinicore.surfaces.intakeq.body import given
from clinicore.surfaces.intakeq.mappers import unix_ms, wire_id

# Core field -> IntakeQ field for errors about a client (``CoreError.subject == "client"``).
CLIENT_WIRE_FIELDS = {
    "client.client_number": "ClientId",
    "client.first_name": "FirstName",
    "client.last_name": "LastName",
    "client.full_name": "Name",
    "client.email": "Email",
    "client.phone": "Phone",
    "client.date_of_birth": "DateOfBirth",
    "client.gender": "Gender",
    "client.external_client_id": "ExternalClientId",
    "client.address_line_1": "StreetAddress",
    "client.address_line_2": "UnitNumber",
    "client.city": "City",
    "client.state": "StateShort",
    "client.zip_code": "PostalCode",
    "client.practitioner_id": "PractitionerId",
    "client.tags": "Tags",
    "client.tag": "Tag",
    "client.custom_fields": "CustomFields",
    "client.created_start": "dateCreatedStart",
    "client.created_end": "dateCreatedEnd",
}
GENDERS = {1: "Male", 2: "Female", 3: "Prefer not to say"}
GENDER_NUMBERS = {name.lower(): number for number, name in GENDERS.items()}


def gender_number(text: str | None) -> int | None:
    """IntakeQ's gender word (any case) as the core's number; a word we do not keep is the core's 400."""
    cleaned = (text or "").strip().lower()
    if not cleaned:
        return None
    return GENDER_NUMBERS.get(cleaned, 0)


def client_details(body: wire.ClientIn) -> ClientDetails:
    """Only the fields sent are given. ``Phone`` wins over ``MobilePhone`` (we keep one phone)."""
    phone = given(body, "Phone")
    if phone is NOT_GIVEN or (phone is None and body.MobilePhone):
        phone = given(body, "MobilePhone")
    gender = given(body, "Gender")
    fields = given(body, "CustomFields")
    return ClientDetails(
        first_name=given(body, "FirstName"),
        last_name=given(body, "LastName"),
        full_name=given(body, "Name"),
        email=given(body, "Email"),
        phone=phone,
        date_of_birth=given(body, "DateOfBirth"),
        gender=NOT_GIVEN if gender is NOT_GIVEN else gender_number(gender),
        external_client_id=given(body, "ExternalClientId"),
        address_line_1=given(body, "StreetAddress"),
        address_line_2=given(body, "UnitNumber"),
        city=given(body, "City"),
        state=given(body, "StateShort"),
        zip_code=given(body, "PostalCode"),
        practitioner=given(body, "PractitionerId"),
        tags=given(body, "Tags"),
        custom_fields=NOT_GIVEN
        if fields is NOT_GIVEN
        else {item.FieldId: item.Value for item in fields or []},
    )


def _name(profile: ClientProfile) -> str:
    return f"{profile.client.first_name} {profile.client.last_name}".strip()


def client_summary(profile: ClientProfile) -> wire.ClientSummary:
    client = profile.client
    return wire.ClientSummary(
        ClientNumber=client.number,
        ClientId=client.number,
        Name=_name(profile),
        Email=client.email,
        Phone=client.phone,
    )


def _address(profile: ClientProfile) -> str | None:
    client = profile.client
    region = " ".join(part for part in (client.state, client.zip_code) if part)
    parts = [client.address_line_1, client.address_line_2, client.city, region]
    return ", ".join(part for part in parts if part) or None


def client_profile(profile: ClientProfile) -> wire.ClientProfile:
    client = profile.client
    born = client.date_of_birth
    return wire.ClientProfile(
        ClientId=client.number,
        Name=_name(profile),
        FirstName=client.first_name,
        LastName=client.last_name,
        MiddleName=None,
        Email=client.email,
        Phone=client.phone,
        MobilePhone=client.phone,
        HomePhone=None,
        WorkPhone=None,
        DateOfBirth=unix_ms(datetime.combine(born, time(0), tzinfo=UTC)) if born else None,
        Gender=GENDERS.get(client.gender) if client.gender else None,
        MaritalStatus=None,
        Tags=profile.tags,
        Archived=False,
        Address=_address(profile),
        UnitNumber=client.address_line_2,
        StreetAddress=client.address_line_1,
        City=client.city,
        StateShort=client.state,
        Country="US" if client.state else None,
        PostalCode=client.zip_code,
        AdditionalInformation=None,
        CustomFields=[
            wire.CustomFieldValue(FieldId=item.field.key, Text=item.field.label, Value=item.value)
            for item in profile.fields
        ],
        DateCreated=unix_ms(client.created_at) or 0,
        LastActivityDate=unix_ms(client.updated_at) or 0,
        PractitionerId=wire_id(client.practitioner_id) if client.practitioner_id else None,
        ExternalClientId=client.external_client_id,
    )


def client_tag(number: int, tag: str) -> wire.ClientTag:
    return wire.ClientTag(ClientId=number, Tag=tag)
