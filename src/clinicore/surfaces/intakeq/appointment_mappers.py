"""Pure functions between IntakeQ's appointment JSON and the core's appointments.

Ids on the wire: an appointment's ``Id`` is its UUID as 32 hex characters (IntakeQ's are hex strings);
``ServiceId`` the service's UUID in the GUID shape; ``LocationId`` the location's number (an integer in
the appointment object, its digits in the settings, as the doc shows them); ``ClientId`` the client's
number; ``PractitionerId`` the practitioner's 32 hex characters, as the practitioners API shows it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from clinicore.core.models import AppointmentStatus, Location, Practitioner, ReminderChannel, Service
from clinicore.core.scheduling.catalog import location_address
from clinicore.core.scheduling.details import AppointmentView
from clinicore.kit.errors import InvalidInput
from clinicore.surfaces.intakeq import appointment_wire as wire
from clinicore.surfaces.intakeq.mappers import practitioner as practitioner_wire
from clinicore.surfaces.intakeq.mappers import timestamp, wire_id

# Core field -> IntakeQ field, for the messages of appointment errors.
APPOINTMENT_WIRE_FIELDS = {
    "appointment.starts_at": "UtcDateTime",
    "appointment.ends_at": "UtcDateTime",
    "appointment.status": "Status",
    "appointment.notify_client": "SendClientEmailNotification",
    "appointment.minimum_notice": "UtcDateTime",
    "appointment.horizon": "UtcDateTime",
    "appointment.working_hours": "UtcDateTime",
    "appointment.buffer": "UtcDateTime",
    "appointment.busy": "UtcDateTime",
    "appointment.invalid_range": "UtcDateTime",
    "service_id": "ServiceId",
    "location_id": "LocationId",
}

# Our statuses in IntakeQ's words. IntakeQ has no "completed": an attended appointment stays Confirmed.
STATUS_WORDS = {
    AppointmentStatus.waiting_confirmation: "WaitingConfirmation",
    AppointmentStatus.confirmed: "Confirmed",
    AppointmentStatus.declined: "Declined",
    AppointmentStatus.cancelled: "Canceled",
    AppointmentStatus.missed: "Missed",
    AppointmentStatus.completed: "Confirmed",
}
# The statuses a ``status`` filter word finds.
STATUS_FILTERS = {
    "confirmed": (AppointmentStatus.confirmed, AppointmentStatus.completed),
    "waitingconfirmation": (AppointmentStatus.waiting_confirmation,),
    "declined": (AppointmentStatus.declined,),
    "canceled": (AppointmentStatus.cancelled,),
    "cancelled": (AppointmentStatus.cancelled,),
    "missed": (AppointmentStatus.missed,),
}
# The statuses a new or updated appointment may be given.
SETTABLE_STATUSES = {
    "confirmed": AppointmentStatus.confirmed,
    "waitingconfirmation": AppointmentStatus.waiting_confirmation,
}
REMINDER_TYPES = {
    "sms": ReminderChannel.sms,
    "email": ReminderChannel.email,
    "voice": ReminderChannel.voice,
    "optout": ReminderChannel.none,
}
SLOT_MINUTES = 5


# --- wire -> core ---------------------------------------------------------------------------------


def settable_status(word: str) -> AppointmentStatus:
    found = SETTABLE_STATUSES.get(word.strip().lower())
    if found is None:
        raise InvalidInput("Status: must be Confirmed or WaitingConfirmation", field="Status")
    return found


def status_filter(word: str) -> tuple[AppointmentStatus, ...]:
    found = STATUS_FILTERS.get(word.strip().lower())
    if found is None:
        raise InvalidInput(
            "status: must be Confirmed, Canceled, WaitingConfirmation, Declined or Missed", field="status"
        )
    return found


def reminder_channel(word: str) -> ReminderChannel:
    found = REMINDER_TYPES.get(word.strip().lower())
    if found is None:
        raise InvalidInput("ReminderType: must be Sms, Email, Voice or OptOut", field="ReminderType")
    return found


def slot_start(milliseconds: int) -> datetime:
    """``UtcDateTime``: Unix ms on a 5-minute boundary (docs/compat/intakeq.md)."""
    if milliseconds % (SLOT_MINUTES * 60_000) != 0:
        raise InvalidInput(
            f"UtcDateTime: must fall on a {SLOT_MINUTES}-minute boundary (seconds and milliseconds zero)",
            field="UtcDateTime",
        )
    try:
        return datetime.fromtimestamp(milliseconds / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise InvalidInput("UtcDateTime: is out of range", field="UtcDateTime") from None


def parse_uuid(value: str, *, field: str) -> uuid.UUID:
    """Our ids in any of their spellings (32 hex characters or the GUID shape); a wrong one is unknown."""
    try:
        return uuid.UUID(value.strip())
    except ValueError:
        raise InvalidInput(
            f"{field}: no such {field.removesuffix('Id').lower() or 'id'}", field=field
        ) from None


def location_number(value: str) -> int:
    text = value.strip()
    if not text.isdigit() or len(text) > 9:
        raise InvalidInput("LocationId: no such location", field="LocationId")
    return int(text)


def missing_fields(body: object, names: Sequence[str]) -> list[str]:
    return [name for name in names if getattr(body, name) is None]


def require_fields(body: object, names: Sequence[str]) -> None:
    missing = missing_fields(body, names)
    if missing:
        raise InvalidInput(f"missing required fields: {', '.join(missing)}", field=missing[0])


# --- core -> wire ---------------------------------------------------------------------------------


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _local(moment: datetime, zone: str) -> datetime:
    return moment.astimezone(ZoneInfo(zone))


def local_formatted(moment: datetime, zone: str) -> str:
    """``Tuesday, March 9, 2027 3:00 PM``, the practice's wall time as IntakeQ writes it."""
    local = _local(moment, zone)
    hour = local.strftime("%I").lstrip("0") or "12"
    return f"{local:%A}, {local:%B} {local.day}, {local.year} {hour}:{local:%M} {local:%p}"


def _times(view: AppointmentView) -> dict[str, object]:
    return {
        "StartDate": _ms(view.starts_at),
        "EndDate": _ms(view.ends_at),
        "StartDateIso": timestamp(view.starts_at),
        "EndDateIso": timestamp(view.ends_at),
        # yyyy-MM-ddTHH:mm:ss without the offset; isoformat pads the year (strftime's %Y does not).
        "StartDateLocal": _local(view.starts_at, view.time_zone).isoformat(timespec="seconds")[:19],
        "EndDateLocal": _local(view.ends_at, view.time_zone).isoformat(timespec="seconds")[:19],
        "StartDateLocalFormatted": local_formatted(view.starts_at, view.time_zone),
    }


def _price(view: AppointmentView) -> float | None:
    return float(view.price) if view.price is not None else None


def _birth(view: AppointmentView) -> str | None:
    return view.client_date_of_birth.isoformat() if view.client_date_of_birth else None


# What ``TelehealthInfo.Provider`` names: IntakeQ answers "IntakeQ" (its own video) or "Zoom"; the
# video room is ours (docs/compat/intakeq.md).
TELEHEALTH_PROVIDER = "Clinicore"


def telehealth_info(view: AppointmentView) -> dict[str, object] | None:
    """The video room of a telehealth appointment: ``StartUrl`` is the practitioner's signed link,
    ``Invitation`` the text to send the client, with the client's join link. Our room needs no code
    beside the signed link, so ``InvitationCode`` is null. Null for an appointment without a room."""
    if view.telehealth_room_id is None or view.telehealth_start_url is None:
        return None
    return {
        "Id": view.telehealth_room_id.hex,
        "StartUrl": view.telehealth_start_url,
        "Invitation": f"Please join the video call using the link below:\n{view.telehealth_join_url}",
        "Provider": TELEHEALTH_PROVIDER,
        "InvitationCode": None,
    }


def appointment(view: AppointmentView) -> wire.Appointment:
    """The full appointment object. No package, procedure or additional client exists here (empty);
    ``TelehealthInfo`` is the video room of a telehealth service's appointment (null otherwise); no
    intake is linked to an appointment, so ``IntakeId`` is null (docs/compat/intakeq.md)."""
    return wire.Appointment.model_validate(
        {
            "Id": view.id.hex,
            "ClientName": view.client_name,
            "ClientEmail": view.client_email,
            "ClientPhone": view.client_phone,
            "ClientDateOfBirth": _birth(view),
            "ClientId": view.client_number,
            "ExternalClientId": view.client_external_id,
            "Status": STATUS_WORDS[AppointmentStatus(view.status)],
            "Duration": view.duration_minutes,
            "ServiceName": view.service_name,
            "ServiceId": str(view.service_id) if view.service_id else None,
            "LocationName": view.location_name,
            "LocationId": view.location_number,
            "Price": _price(view),
            "PractitionerEmail": view.practitioner_email,
            "PractitionerName": view.practitioner_name,
            "PractitionerId": wire_id(view.practitioner_id),
            "DateCreated": _ms(view.created_at),
            "IntakeId": None,
            "BookedByClient": view.booked_by_client,
            "CreatedBy": view.created_by,
            "AppointmentPackageId": None,
            "AppointmentPackageName": None,
            "TelehealthInfo": telehealth_info(view),
            "Procedures": [],
            "AdditionalClients": [],
        }
        | _times(view)
    )


def list_item(view: AppointmentView) -> wire.AppointmentListItem:
    return wire.AppointmentListItem.model_validate(
        {
            "Id": view.id.hex,
            "ClientName": view.client_name,
            "ClientEmail": view.client_email,
            "ClientPhone": view.client_phone,
            "ClientDateOfBirth": _birth(view),
            "ClientId": view.client_number,
            "Status": STATUS_WORDS[AppointmentStatus(view.status)],
            "Duration": view.duration_minutes,
            "Service": view.service_name,
            "Location": view.location_name,
            "Price": _price(view),
            "PractitionerEmail": view.practitioner_email,
            "PractitionerName": view.practitioner_name,
            "DateCreated": _ms(view.created_at),
            "IntakeId": None,
            "ExternalClientId": view.client_external_id,
            "BookedByClient": view.booked_by_client,
            "CreatedBy": view.created_by,
        }
        | _times(view)
    )


def booking_settings(
    *, locations: Sequence[Location], services: Sequence[Service], practitioners: Sequence[Practitioner]
) -> wire.BookingSettings:
    listed = [
        wire.SettingsLocation(Id=str(row.number), Name=row.name, Address=location_address(row) or None)
        for row in locations
    ]
    return wire.BookingSettings(
        Locatons=listed,
        Locations=listed,
        Services=[
            wire.SettingsService(
                Id=str(row.id),
                Name=row.name,
                Duration=row.duration_minutes,
                Price=float(row.price) if row.price is not None else None,
            )
            for row in services
        ],
        Practitioners=[
            wire.SettingsPractitioner(
                Id=shown.Id,
                CompleteName=shown.CompleteName,
                FirstName=shown.FirstName,
                LastName=shown.LastName,
                Email=shown.Email,
            )
            for shown in (practitioner_wire(row) for row in practitioners)
        ],
    )
