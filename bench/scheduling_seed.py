"""The availability bench's clinic: 20 practitioners, 30 bookable days, 5,000 appointments that hold time.

Seeded through the scheduling services (practitioners, weekly hours, booking settings); the appointments
go in as one bulk insert of ``Appointment`` rows, as an import would, because booking them one by one
through ``book_appointment`` would time the booking path 5,000 times instead of seeding.

Everything is deterministic (a fixed Monday, a seeded ``random.Random``), so two runs read the same rows.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert

from clinicore.core.models import Appointment, AppointmentStatus
from clinicore.core.scheduling import hours as hours_service
from clinicore.core.scheduling import settings as settings_service
from clinicore.core.scheduling.availability import LocalRange
from clinicore.core.tenancy import service as tenancy_service
from clinicore.kit.clock import FrozenClock
from clinicore.runtime import Runtime

TIME_ZONE = "America/New_York"
# Monday 4 May 2026, 08:00 in New York: no DST change in the next 30 days, so every day has the same hours.
MONDAY_MORNING = datetime(2026, 5, 4, 8, 0, tzinfo=ZoneInfo(TIME_ZONE))
PRACTITIONERS = 20
# The first EVENING_PRACTITIONERS work 12:00-20:00, the others 09:00-17:00, Monday to Friday: the
# ``evening`` preference (>= 17:00) then matches only their last six slots a day, most of them booked.
EVENING_PRACTITIONERS = 2
DAY_HOURS = LocalRange(time(9), time(17))
EVENING_HOURS = LocalRange(time(12), time(20))
BOOKABLE_DAYS = 30  # today and the next 29 local dates: horizon_days = 29
APPOINTMENTS = 5_000
SLOT = timedelta(minutes=30)
MINIMUM_NOTICE_MINUTES = 60
SEED = 5


@dataclass(frozen=True)
class SeededClinic:
    clinic_id: uuid.UUID
    clock: FrozenClock
    practitioners: int
    appointments: int
    first_day: date
    last_day: date  # the last bookable local date
    history: int  # completed appointments before the first day

    @property
    def window(self) -> tuple[datetime, datetime]:
        """[midnight of the first day, midnight after the last day) in the clinic's zone, as UTC."""
        zone = ZoneInfo(TIME_ZONE)
        start = datetime.combine(self.first_day, time(0), zone).astimezone(UTC)
        end = datetime.combine(self.last_day + timedelta(days=1), time(0), zone).astimezone(UTC)
        return start, end


def working_slots(hours: LocalRange, days: list[date], zone: ZoneInfo) -> list[tuple[datetime, datetime]]:
    """Every 30-minute grid position of ``hours`` on ``days``, as UTC intervals."""
    slots = []
    for day in days:
        start = datetime.combine(day, hours.start, zone)
        end = datetime.combine(day, hours.end, zone)
        while start + SLOT <= end:
            slots.append((start.astimezone(UTC), (start + SLOT).astimezone(UTC)))
            start += SLOT
    return slots


def past_working_slots(
    hours: LocalRange, before: date, count: int, zone: ZoneInfo
) -> list[tuple[datetime, datetime]]:
    """The last ``count`` grid positions of ``hours`` on the weekdays before ``before``: a full past diary."""
    slots: list[tuple[datetime, datetime]] = []
    day = before
    while len(slots) < count:
        day -= timedelta(days=1)
        if day.weekday() < 5:
            slots.extend(working_slots(hours, [day], zone))
    return slots[:count]


def share_of(total: int, index: int) -> int:
    """Practitioner ``index``'s part of ``total`` split as evenly as it goes."""
    share, extra = divmod(total, PRACTITIONERS)
    return share + (index < extra)


def appointment_row(
    clinic_id: uuid.UUID,
    practitioner_id: uuid.UUID,
    starts_at: datetime,
    ends_at: datetime,
    *,
    booked_at: datetime,
) -> dict[str, object]:
    return {
        "clinic_id": clinic_id,
        "practitioner_id": practitioner_id,
        "title": "Follow-up visit",
        "status": AppointmentStatus.confirmed,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "source": "console",
        "version": 1,
        "created_at": booked_at,
        "updated_at": booked_at,
    }


async def seed_availability_clinic(runtime: Runtime, *, history: int = 0) -> SeededClinic:
    """A fresh clinic in ``runtime``'s database with the practitioners, hours and appointments above, and
    ``history`` completed appointments (the clinic's past, spread over the practitioners) before today."""
    clock = FrozenClock(MONDAY_MORNING)
    zone = ZoneInfo(TIME_ZONE)
    first_day = MONDAY_MORNING.date()
    days = [first_day + timedelta(days=offset) for offset in range(BOOKABLE_DAYS)]
    weekdays = [day for day in days if day.weekday() < 5]
    chooser = random.Random(SEED)
    async with runtime.sessions() as session, session.begin():
        clinic = await tenancy_service.create_clinic(
            session, name="Availability Bench Clinic", time_zone=TIME_ZONE, clock=clock
        )
        await settings_service.update_booking_settings(
            session,
            clinic_id=clinic.id,
            buffer_before_minutes=0,
            buffer_after_minutes=0,
            minimum_notice_minutes=MINIMUM_NOTICE_MINUTES,
            horizon_days=BOOKABLE_DAYS - 1,
            default_length_minutes=int(SLOT.total_seconds() // 60),
            slot_interval_minutes=None,
            clock=clock,
        )
        hours_of: dict[uuid.UUID, LocalRange] = {}
        for index in range(PRACTITIONERS):
            practitioner = await hours_service.create_practitioner(
                session, clinic_id=clinic.id, name=f"Practitioner {index + 1:02d}", clock=clock
            )
            hours = EVENING_HOURS if index < EVENING_PRACTITIONERS else DAY_HOURS
            await hours_service.set_weekly_hours(
                session,
                clinic_id=clinic.id,
                practitioner_id=practitioner.id,
                weekly={weekday: [hours] for weekday in range(5)},
            )
            hours_of[practitioner.id] = hours
        # An equal share per practitioner, on distinct grid positions of their own hours: no overlap, so
        # PostgreSQL's exclusion constraint accepts them, and about 70 % of every working day is taken.
        rows, past = [], []
        for index, (practitioner_id, hours) in enumerate(hours_of.items()):
            upcoming = chooser.sample(working_slots(hours, weekdays, zone), share_of(APPOINTMENTS, index))
            for starts_at, ends_at in upcoming:
                row = appointment_row(clinic.id, practitioner_id, starts_at, ends_at, booked_at=clock.now())
                rows.append(row)
            for starts_at, ends_at in past_working_slots(hours, first_day, share_of(history, index), zone):
                row = appointment_row(
                    clinic.id, practitioner_id, starts_at, ends_at, booked_at=starts_at - timedelta(days=14)
                )
                past.append(
                    row | {"status": AppointmentStatus.completed, "version": 2, "updated_at": ends_at}
                )
        await session.execute(insert(Appointment), rows + past)
    return SeededClinic(
        clinic_id=clinic.id,
        clock=clock,
        practitioners=PRACTITIONERS,
        appointments=len(rows),
        first_day=first_day,
        last_day=days[-1],
        history=len(past),
    )
