"""The clinic's service catalog (what can be booked: name, length, price) and its locations.

Every function takes the clinic: another clinic's service or location answers exactly like a missing one.
A ``telehealth`` service is seen by video: each of its appointments gets a video room
(``video_rooms``); switching the flag changes the rooms of appointments booked from then on only.
Names are unique per clinic, compared without case. Neither is ever deleted, only deactivated
(``is_active``), so that the appointments that name them keep doing so; an inactive one is not listed by
default and cannot be booked.

How the IntakeQ surface reads them: a service's ``ServiceId`` is ``str(service.id)`` (a GUID, as IntakeQ's
are); a location's ``LocationId`` is its per-clinic ``number`` and its one-line ``Address`` the address
fields joined (``location_address``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.models import Location, Service
from clinicore.core.people import repository as people_repository
from clinicore.core.scheduling import repository
from clinicore.core.scheduling.schemas import LocationInput, ServiceInput
from clinicore.core.tenancy import service as tenancy_service
from clinicore.kit.clock import Clock, system_clock
from clinicore.kit.errors import Conflict, InvalidInput, NotFound

MAX_NAME_LENGTH = 200
MAX_DESCRIPTION_LENGTH = 2000
SHORTEST_SERVICE_MINUTES = 5
LONGEST_SERVICE_MINUTES = 24 * 60  # as an appointment (rules.MAXIMUM_LENGTH)
HIGHEST_PRICE = Decimal("99999999.99")  # Numeric(10, 2)
# Address fields and their longest value (the columns' lengths).
ADDRESS_FIELDS = {"address_line_1": 200, "address_line_2": 200, "city": 100, "state": 100, "zip_code": 20}


def location_counter_name(clinic_id: uuid.UUID) -> str:
    return f"location:{clinic_id}"


def location_address(location: Location) -> str:
    """The address on one line ("123 Main Street, Suite 4, Springfield, IL 62701"), blank parts left out."""
    region = " ".join(part for part in (location.state, location.zip_code) if part)
    parts = (location.address_line_1, location.address_line_2, location.city, region)
    return ", ".join(part for part in parts if part)


# --- checks ---------------------------------------------------------------------------------------


def _name(value: Any, *, subject: str) -> str:
    name = value.strip() if isinstance(value, str) else ""
    if not name:
        raise InvalidInput("name: must not be empty", field="name", subject=subject)
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidInput(f"name: at most {MAX_NAME_LENGTH} characters", field="name", subject=subject)
    return name


def _optional_text(value: str | None, *, field: str, longest: int, subject: str) -> str | None:
    text = (value or "").strip()
    if len(text) > longest:
        raise InvalidInput(f"{field}: at most {longest} characters", field=field, subject=subject)
    return text or None


def _duration(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(
            "duration_minutes: must be a whole number of minutes", field="duration_minutes", subject="service"
        )
    if not SHORTEST_SERVICE_MINUTES <= value <= LONGEST_SERVICE_MINUTES:
        raise InvalidInput(
            f"duration_minutes: must be between {SHORTEST_SERVICE_MINUTES} and {LONGEST_SERVICE_MINUTES}",
            field="duration_minutes",
            subject="service",
        )
    return value


def _price(value: Any) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, Decimal | int) or not Decimal(value).is_finite():
        raise InvalidInput("price: must be an amount", field="price", subject="service")
    price = Decimal(value)
    if price < 0:
        raise InvalidInput("price: must not be negative", field="price", subject="service")
    if price != price.quantize(Decimal("0.01")):
        raise InvalidInput("price: at most two decimals", field="price", subject="service")
    if price > HIGHEST_PRICE:
        raise InvalidInput(f"price: at most {HIGHEST_PRICE}", field="price", subject="service")
    return price.quantize(Decimal("0.01"))


def _service_values(data: ServiceInput) -> dict[str, Any]:
    """The given fields, checked and normalised: only these are written."""
    values = data.given()
    if "name" in values:
        values["name"] = _name(values["name"], subject="service")
    if "duration_minutes" in values:
        values["duration_minutes"] = _duration(values["duration_minutes"])
    if "price" in values:
        values["price"] = _price(values["price"])
    if "description" in values:
        values["description"] = _optional_text(
            values["description"], field="description", longest=MAX_DESCRIPTION_LENGTH, subject="service"
        )
    if "is_active" in values:
        values["is_active"] = bool(values["is_active"])
    if "telehealth" in values and not isinstance(values["telehealth"], bool):
        raise InvalidInput("telehealth: must be true or false", field="telehealth", subject="service")
    return values


def _location_values(data: LocationInput) -> dict[str, Any]:
    values = data.given()
    if "name" in values:
        values["name"] = _name(values["name"], subject="location")
    for field, longest in ADDRESS_FIELDS.items():
        if field in values:
            values[field] = _optional_text(values[field], field=field, longest=longest, subject="location")
    if "time_zone" in values:
        zone = (values["time_zone"] or "").strip()
        values["time_zone"] = tenancy_service.validate_time_zone(zone) if zone else None
    if "is_active" in values:
        values["is_active"] = bool(values["is_active"])
    return values


async def _flush_unique_name(session: AsyncSession, *, subject: str) -> None:
    """Two requests racing for one name: the unique constraint decides, the loser gets a conflict."""
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        if "unique" not in str(exc.orig).lower():
            raise
        raise Conflict(
            f"name: the clinic already has a {subject} with this name", field="name", subject=subject
        ) from None


# --- services -------------------------------------------------------------------------------------


async def _require_free_service_name(
    session: AsyncSession, *, clinic_id: uuid.UUID, name: str, service_id: uuid.UUID | None = None
) -> None:
    same = await repository.service_named(session, clinic_id=clinic_id, name=name)
    if same is not None and same.id != service_id:
        raise Conflict(
            "name: the clinic already has a service with this name", field="name", subject="service"
        )


async def create_service(
    session: AsyncSession, *, clinic_id: uuid.UUID, data: ServiceInput, clock: Clock = system_clock
) -> Service:
    """A new active service; ``name`` and ``duration_minutes`` are required, ``price`` is optional."""
    values = _service_values(data)
    if "name" not in values:
        raise InvalidInput("name: must not be empty", field="name", subject="service")
    if "duration_minutes" not in values:
        raise InvalidInput("duration_minutes: required", field="duration_minutes", subject="service")
    await _require_free_service_name(session, clinic_id=clinic_id, name=values["name"])
    now = clock.now()
    service = Service(clinic_id=clinic_id, is_active=True, created_at=now, updated_at=now, **values)
    session.add(service)
    await _flush_unique_name(session, subject="service")
    return service


async def _write_changes(
    session: AsyncSession, row: Service | Location, values: dict[str, Any], *, subject: str, clock: Clock
) -> None:
    """Set the fields whose value changes; only then is the row touched and its unique name checked."""
    changed = {name: value for name, value in values.items() if getattr(row, name) != value}
    if not changed:
        return
    for name, value in changed.items():
        setattr(row, name, value)
    row.updated_at = clock.now()
    await _flush_unique_name(session, subject=subject)


async def update_service(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    service_id: uuid.UUID,
    data: ServiceInput,
    clock: Clock = system_clock,
) -> Service:
    """Write the fields given. Booked appointments keep their length and the price they were sold at."""
    service = await get_service(session, clinic_id=clinic_id, service_id=service_id)
    values = _service_values(data)
    if "name" in values:
        await _require_free_service_name(
            session, clinic_id=clinic_id, name=values["name"], service_id=service.id
        )
    await _write_changes(session, service, values, subject="service", clock=clock)
    return service


async def get_service(session: AsyncSession, *, clinic_id: uuid.UUID, service_id: uuid.UUID) -> Service:
    service = await repository.get_service(session, clinic_id=clinic_id, service_id=service_id)
    if service is None:
        raise NotFound("service not found")
    return service


async def service_given(session: AsyncSession, *, clinic_id: uuid.UUID, service_id: uuid.UUID) -> Service:
    """A service named in a request's input (a booking's): unknown is a ``NotFound`` naming the field."""
    service = await repository.get_service(session, clinic_id=clinic_id, service_id=service_id)
    if service is None:
        raise NotFound("service_id: no such service in this clinic", field="service_id")
    return service


async def list_services(
    session: AsyncSession, *, clinic_id: uuid.UUID, include_inactive: bool = False
) -> Sequence[Service]:
    """The clinic's services by name (the active ones unless ``include_inactive``)."""
    return await repository.list_services(session, clinic_id=clinic_id, include_inactive=include_inactive)


# --- locations ------------------------------------------------------------------------------------


async def _require_free_location_name(
    session: AsyncSession, *, clinic_id: uuid.UUID, name: str, location_id: uuid.UUID | None = None
) -> None:
    same = await repository.location_named(session, clinic_id=clinic_id, name=name)
    if same is not None and same.id != location_id:
        raise Conflict(
            "name: the clinic already has a location with this name", field="name", subject="location"
        )


async def create_location(
    session: AsyncSession, *, clinic_id: uuid.UUID, data: LocationInput, clock: Clock = system_clock
) -> Location:
    """A new active location with the clinic's next location number (1 first); ``name`` is required."""
    values = _location_values(data)
    if "name" not in values:
        raise InvalidInput("name: must not be empty", field="name", subject="location")
    await _require_free_location_name(session, clinic_id=clinic_id, name=values["name"])
    now = clock.now()
    number = await people_repository.next_counter_value(session, location_counter_name(clinic_id))
    location = Location(
        clinic_id=clinic_id, number=number, is_active=True, created_at=now, updated_at=now, **values
    )
    session.add(location)
    await _flush_unique_name(session, subject="location")
    return location


async def update_location(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    location_id: uuid.UUID,
    data: LocationInput,
    clock: Clock = system_clock,
) -> Location:
    """Write the fields given; the number never changes."""
    location = await get_location(session, clinic_id=clinic_id, location_id=location_id)
    values = _location_values(data)
    if "name" in values:
        await _require_free_location_name(
            session, clinic_id=clinic_id, name=values["name"], location_id=location.id
        )
    await _write_changes(session, location, values, subject="location", clock=clock)
    return location


async def get_location(session: AsyncSession, *, clinic_id: uuid.UUID, location_id: uuid.UUID) -> Location:
    location = await repository.get_location(session, clinic_id=clinic_id, location_id=location_id)
    if location is None:
        raise NotFound("location not found")
    return location


async def get_location_by_number(session: AsyncSession, *, clinic_id: uuid.UUID, number: int) -> Location:
    """The location a vendor names by its number (IntakeQ's ``LocationId``)."""
    location = await repository.location_by_number(session, clinic_id=clinic_id, number=number)
    if location is None:
        raise NotFound("location not found")
    return location


async def location_given(session: AsyncSession, *, clinic_id: uuid.UUID, location_id: uuid.UUID) -> Location:
    """A location named in a request's input (a booking's): unknown is a ``NotFound`` naming the field."""
    location = await repository.get_location(session, clinic_id=clinic_id, location_id=location_id)
    if location is None:
        raise NotFound("location_id: no such location in this clinic", field="location_id")
    return location


async def list_locations(
    session: AsyncSession, *, clinic_id: uuid.UUID, include_inactive: bool = False
) -> Sequence[Location]:
    """The clinic's locations by number (the active ones unless ``include_inactive``)."""
    return await repository.list_locations(session, clinic_id=clinic_id, include_inactive=include_inactive)
