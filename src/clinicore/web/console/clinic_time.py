"""Console pages show and take times in the clinic's time zone; the core stores and compares UTC."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from clinicore.kit.errors import InvalidInput
from clinicore.kit.inputs import SUPPORTED_YEARS, SUPPORTED_YEARS_TEXT
from clinicore.kit.local_time import local_date, local_to_utc, start_of_local_day

DATE_AND_TIME = "%a %d %b %Y, %H:%M"
# Dates a page reads: wide enough for any booking, far enough from year 1 and 9999 that the arithmetic
# around them (a week, a time zone, an appointment's length) stays inside what Python can represent.


class ClinicTime:
    """One clinic's wall clock: formatting for templates, parsing of form fields."""

    def __init__(self, time_zone: str) -> None:
        self.name = time_zone
        self.zone = ZoneInfo(time_zone)

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone)

    def show(self, moment: datetime | None, pattern: str = DATE_AND_TIME) -> str:
        return self.local(moment).strftime(pattern) if moment else ""

    def clock_time(self, moment: datetime) -> str:
        return self.local(moment).strftime("%H:%M")

    def today(self, now: datetime) -> date:
        return local_date(now, self.zone)

    def to_utc(self, day: date, wall: time) -> datetime:
        return local_to_utc(day, wall, self.zone)

    def start_of(self, day: date) -> datetime:
        return start_of_local_day(day, self.zone)

    def input_value(self, moment: datetime | None) -> str:
        """The value of a ``datetime-local`` input."""
        return self.local(moment).replace(tzinfo=None).isoformat("T", "minutes") if moment else ""

    def wall_to_utc(self, wall: datetime) -> datetime:
        """A naive clinic-local wall time (as ``parse_local_datetime`` reads it) as UTC."""
        return self.to_utc(wall.date(), wall.time())

    def parse_datetime(self, raw: str, *, field: str) -> datetime:
        """A ``datetime-local`` value (``2031-03-03T10:00``) read as clinic-local wall time."""
        return self.wall_to_utc(parse_local_datetime(raw, field=field))


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def parse_date(raw: str, *, field: str) -> date:
    try:
        day = date.fromisoformat(raw.strip())
    except ValueError:
        raise InvalidInput(f"{field}: enter a date as YYYY-MM-DD", field=field) from None
    return _within_years_read(day, field=field)


def _within_years_read(day: date, *, field: str) -> date:
    if day.year not in SUPPORTED_YEARS:
        raise InvalidInput(f"{field}: enter a date {SUPPORTED_YEARS_TEXT}", field=field)
    return day


def parse_time(raw: str, *, field: str) -> time:
    try:
        parsed = time.fromisoformat(raw.strip().zfill(5) if len(raw.strip()) == 4 else raw.strip())
    except ValueError:
        raise InvalidInput(f"{field}: enter a time as HH:MM", field=field) from None
    if parsed.tzinfo is not None:
        raise InvalidInput(f"{field}: enter a local time, without a time zone", field=field)
    return parsed


def parse_local_datetime(raw: str, *, field: str) -> datetime:
    """A ``datetime-local`` value (``2031-03-03T10:00``): a naive wall time, in no zone yet."""
    try:
        wall = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise InvalidInput(f"{field}: enter a date and time", field=field) from None
    if wall.tzinfo is not None:
        raise InvalidInput(f"{field}: enter a local date and time, without a time zone", field=field)
    _within_years_read(wall.date(), field=field)
    return wall
