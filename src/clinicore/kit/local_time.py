"""Local wall-clock time to UTC, the one way every part of Clinicore does it.

A clinic's or practitioner's rules are written in its IANA zone; instants are stored and compared in UTC.
``fold=0``: a wall time in the spring-forward gap moves forward (02:30 on New York's spring-forward day is
03:30 EDT); a repeated one (the fall-back hour) is its first occurrence.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo


def _zone(zone: ZoneInfo | str) -> ZoneInfo:
    return zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)


def local_to_utc(day: date, wall: time, zone: ZoneInfo | str) -> datetime:
    """The UTC instant of the wall time ``wall`` on the local date ``day`` in ``zone``."""
    return datetime.combine(day, wall.replace(fold=0), tzinfo=_zone(zone)).astimezone(UTC)


def start_of_local_day(day: date, zone: ZoneInfo | str) -> datetime:
    """The UTC instant at which the local date ``day`` begins in ``zone``."""
    return local_to_utc(day, time(0), zone)


def local_date(moment: datetime, zone: ZoneInfo | str) -> date:
    """The local date in ``zone`` at the aware instant ``moment``."""
    return moment.astimezone(_zone(zone)).date()
