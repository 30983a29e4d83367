"""Availability: which appointment times a practitioner, or a clinic, can offer. Pure functions only.

No database, no I/O, no clock: the caller loads the calendars and passes ``now``.

Decisions where the issue is silent:

- Time. Every rule is evaluated in the practitioner's IANA zone (``zoneinfo``); every result is an aware UTC
  datetime. Input datetimes must be aware (naive ones raise ``ValueError``), in any zone.
- Local ranges. A ``LocalRange`` belongs to the local date it starts on. Each endpoint is converted to UTC on
  its own date: ``end <= start`` ends on the next local date, so ``22:00-02:00`` is overnight, ``09:00-00:00``
  runs to midnight and ``00:00-00:00`` is the whole day. A wall time that does not exist (the spring-forward
  gap) resolves forward as ``fold=0`` does (02:30 in New York on its spring-forward day is 03:30 EDT); an
  ambiguous one (the repeated fall-back hour) is its first occurrence, so ``01:00-03:00`` on a fall-back day
  is three real hours. A range whose UTC end is not after its UTC start is empty (``02:00-03:00`` on New
  York's spring-forward day).
- Overrides. A date in ``overrides`` replaces the weekly ranges that START on that date (an empty sequence
  closes it); an overnight range from the day before still runs past midnight into it.
- Merging. Working ranges that overlap or touch merge into one working interval (``09-12`` plus ``12-17``
  allows a slot across noon). Busy intervals merge the same way; empty busy intervals are ignored.
- Slot grid. Slot starts step in absolute time from the start of each working interval by ``slot_interval``
  (default: the requested duration); busy time, notice and ``from_day`` remove grid positions but never shift
  the grid (ranges chained across midnight into one interval are cut from the first one that starts on or
  after yesterday, local, at ``now``). With a ``slot_interval`` shorter than the duration, one practitioner's
  slots overlap each other (they are alternatives, not a partition of the day).
- A slot ``[s, e)`` is offered when it lies inside one working interval, ``[s - buffer_before,
  e + buffer_after)`` overlaps no busy interval (the buffers may reach outside working hours),
  ``s >= now + minimum_notice`` (elapsed time: 24 hours of notice across a DST change is 23 or 25 wall-clock
  hours) and the practitioner-local date of ``s`` is at most today (local, at ``now``) + ``horizon_days``.
- Day filters. ``practitioner_slots``'s ``from_day``/``until_day`` bound the local date of a slot's start in
  the practitioner's zone (defaults: today there, and the horizon). ``clinic_slots``'s ``from_day`` is a date
  in the clinic zone (default: today there). Either way the slots of an overnight range from the day before
  that start after midnight on ``from_day`` are included.
- Preference is the clinic-local wall time of the slot start: morning < 12:00 <= afternoon < 17:00 <= evening.
- ``clinic_slots`` merges slots with the same ``(start, end)`` into one, given to the free practitioner with
  the lowest ``load`` (missing = 0), ties to the smallest ``str(practitioner_id)``. A ``limit`` below 1 gives
  no slots; clamping the client's value to 1..100 is the caller's job.
- ``booking_violation`` checks one ``[start, end)`` with the same rules but no grid, and names the first rule
  that fails in the order ``invalid_range, minimum_notice, horizon, working_hours, buffer, busy``; ``buffer``
  means free without the buffers, ``busy`` that the appointment itself overlaps busy time. Every slot the
  generators return passes it. When rescheduling, the caller leaves the appointment's own time out of
  ``busy``.
- Invalid configuration (a non-positive duration or slot interval, negative buffers, notice or horizon, a
  weekday outside 0..6, a range with a time zone) raises ``ValueError``; an unknown zone raises zoneinfo's
  ``ZoneInfoNotFoundError``.
"""

from __future__ import annotations

import heapq
import itertools
import uuid
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from typing import Literal, get_args
from zoneinfo import ZoneInfo

from clinicore.kit.local_time import local_to_utc, start_of_local_day

DayPart = Literal["morning", "afternoon", "evening"]
Violation = Literal["invalid_range", "minimum_notice", "horizon", "working_hours", "buffer", "busy"]

NOON = time(12)
EVENING = time(17)
ONE_DAY = timedelta(days=1)
_NO_LOAD: Mapping[uuid.UUID, int] = MappingProxyType({})


def _aware_utc(moment: datetime) -> datetime:
    if moment.tzinfo is UTC:
        return moment
    if moment.utcoffset() is None:
        raise ValueError(f"expected an aware datetime, got the naive {moment.isoformat()}")
    return moment.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class LocalRange:
    """A working range in local wall-clock time; ``end <= start`` runs past midnight into the next day."""

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("a working range is local wall-clock time: give times without a time zone")

    @property
    def overnight(self) -> bool:
        return self.end <= self.start


@dataclass(frozen=True, slots=True)
class Interval:
    """An absolute interval ``[start, end)`` of aware datetimes (UTC in everything this module returns)."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        _aware_utc(self.start)
        _aware_utc(self.end)


@dataclass(frozen=True, slots=True)
class WorkingHours:
    weekly: Mapping[int, Sequence[LocalRange]]  # 0 = Monday .. 6 = Sunday
    # A date here replaces the weekly ranges that start on it; an empty sequence closes the day.
    overrides: Mapping[date, Sequence[LocalRange]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not set(self.weekly) <= set(range(7)):
            raise ValueError(f"weekdays are 0 (Monday) to 6 (Sunday), got {sorted(self.weekly)}")

    def ranges_starting_on(self, day: date) -> Sequence[LocalRange]:
        if day in self.overrides:
            return self.overrides[day]
        return self.weekly.get(day.weekday(), ())


@dataclass(frozen=True, slots=True)
class BookingRules:
    buffer_before: timedelta = timedelta(0)
    buffer_after: timedelta = timedelta(0)
    minimum_notice: timedelta = timedelta(0)
    horizon_days: int = 60  # last bookable local date = today (local) + horizon_days
    slot_interval: timedelta | None = None  # spacing of slot starts; None = the requested duration

    def __post_init__(self) -> None:
        if min(self.buffer_before, self.buffer_after, self.minimum_notice) < timedelta(0):
            raise ValueError("buffers and minimum notice cannot be negative")
        if self.horizon_days < 0:
            raise ValueError("the booking horizon cannot be negative")
        if self.slot_interval is not None and self.slot_interval <= timedelta(0):
            raise ValueError("the slot interval must be positive")


@dataclass(frozen=True, slots=True)
class PractitionerCalendar:
    practitioner_id: uuid.UUID
    time_zone: str  # IANA
    hours: WorkingHours
    rules: BookingRules
    busy: Sequence[Interval] = ()  # appointments that hold time and busy blocks, any order


@dataclass(frozen=True, slots=True)
class Slot:
    start: datetime  # UTC
    end: datetime  # UTC
    practitioner_id: uuid.UUID


def _merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, disjoint intervals covering the same time; overlapping or touching ones become one."""
    merged: list[Interval] = []
    for interval in sorted(intervals, key=lambda interval: interval.start):
        if interval.end <= interval.start:
            continue
        if merged and interval.start <= merged[-1].end:
            if interval.end > merged[-1].end:
                merged[-1] = Interval(merged[-1].start, interval.end)
        else:
            merged.append(interval)
    return merged


def working_intervals(hours: WorkingHours, time_zone: str, first_day: date, last_day: date) -> list[Interval]:
    """The UTC working intervals of the ranges that start on the local dates ``first_day..last_day``."""
    return list(_working_intervals_lazily(hours, time_zone, first_day, last_day))


def _working_intervals_lazily(
    hours: WorkingHours, time_zone: str, first_day: date, last_day: date
) -> Iterator[Interval]:
    """``working_intervals`` one day at a time, so that a caller who stops early pays for no later day.

    The same intervals: a day's ranges all start before the next day's (each starts on its own local
    date), so sorting each day's and merging as they come equals sorting and merging them all."""
    zone = ZoneInfo(time_zone)
    pending: Interval | None = None
    for offset in range((last_day - first_day).days + 1):
        day = first_day + timedelta(days=offset)
        ranges = [
            Interval(
                local_to_utc(day, local.start, zone),
                local_to_utc(day + ONE_DAY if local.overnight else day, local.end, zone),
            )
            for local in hours.ranges_starting_on(day)
        ]
        for interval in _merge(ranges):
            if pending is not None and interval.start <= pending.end:
                if interval.end > pending.end:
                    pending = Interval(pending.start, interval.end)
                continue
            if pending is not None:
                yield pending
            pending = interval
    if pending is not None:
        yield pending


class _BusyTimeline:
    """Merged busy time as two sorted lists, so that a sweep finds the next conflict by bisection."""

    __slots__ = ("ends", "starts")

    def __init__(self, busy: Iterable[Interval]) -> None:
        # Plain tuples rather than _merge: thousands of appointments per request make this the hot part.
        self.starts: list[datetime] = []
        self.ends: list[datetime] = []
        for start, end in sorted((_aware_utc(block.start), _aware_utc(block.end)) for block in busy):
            if end <= start:
                continue
            if self.ends and start <= self.ends[-1]:
                self.ends[-1] = max(self.ends[-1], end)
            else:
                self.starts.append(start)
                self.ends.append(end)

    def first_ending_after(self, moment: datetime, lowest: int = 0) -> int:
        return bisect_right(self.ends, moment, lo=lowest)

    def overlaps(self, start: datetime, end: datetime) -> bool:
        index = self.first_ending_after(start)
        return index < len(self.starts) and self.starts[index] < end


def _steps_until(origin: datetime, target: datetime, step: timedelta) -> int:
    """The smallest k with ``origin + k * step >= target`` (negative when target is before origin)."""
    return -((origin - target) // step)


def _last_bookable_day(now: datetime, zone: ZoneInfo, rules: BookingRules) -> date:
    return now.astimezone(zone).date() + timedelta(days=rules.horizon_days)


def _require_positive(duration: timedelta) -> None:
    if duration <= timedelta(0):
        raise ValueError("an appointment must last longer than zero")


def _offered_slots(
    calendar: PractitionerCalendar,
    *,
    duration: timedelta,
    now: datetime,
    not_before: datetime,
    until_day: date | None,
) -> Iterator[Slot]:
    rules = calendar.rules
    zone = ZoneInfo(calendar.time_zone)
    now = _aware_utc(now)
    step = rules.slot_interval or duration
    earliest = max(now + rules.minimum_notice, _aware_utc(not_before))
    last_day = _last_bookable_day(now, zone, rules)
    if until_day is not None:
        last_day = min(last_day, until_day)
    if earliest.astimezone(zone).date() > last_day:
        return
    # From yesterday: an overnight range that started then may still offer slots after midnight, and a
    # grid anchored at today's intervals stays the same whichever ``from_day`` the caller pages from.
    first_day = now.astimezone(zone).date() - ONE_DAY
    busy = _BusyTimeline(calendar.busy)
    busy_index = 0
    for working in _working_intervals_lazily(calendar.hours, calendar.time_zone, first_day, last_day):
        if working.end < earliest + duration:
            continue
        position = max(0, _steps_until(working.start, earliest, step))
        while True:
            start = working.start + position * step
            end = start + duration
            if end > working.end:
                break
            busy_index = busy.first_ending_after(start - rules.buffer_before, busy_index)
            if busy_index < len(busy.starts) and busy.starts[busy_index] < end + rules.buffer_after:
                # Jump to the first grid position whose leading buffer clears this busy interval.
                clear = busy.ends[busy_index] + rules.buffer_before
                position = max(position + 1, _steps_until(working.start, clear, step))
                continue
            if start.astimezone(zone).date() > last_day:
                return
            yield Slot(start, end, calendar.practitioner_id)
            position += 1


def practitioner_slots(
    calendar: PractitionerCalendar,
    *,
    duration: timedelta,
    now: datetime,
    from_day: date | None = None,
    until_day: date | None = None,
) -> Iterator[Slot]:
    """The practitioner's free slots of ``duration``, earliest first, lazily.

    ``from_day``/``until_day`` are local dates in the practitioner's zone (defaults: today, the horizon).
    """
    _require_positive(duration)
    zone = ZoneInfo(calendar.time_zone)
    first_day = from_day if from_day is not None else _aware_utc(now).astimezone(zone).date()
    return _offered_slots(
        calendar,
        duration=duration,
        now=now,
        not_before=start_of_local_day(first_day, zone),
        until_day=until_day,
    )


def day_part(moment: datetime, zone: ZoneInfo) -> DayPart:
    """Morning, afternoon or evening by the wall-clock time of ``moment`` in ``zone``."""
    wall = moment.astimezone(zone).time()
    if wall < NOON:
        return "morning"
    if wall < EVENING:
        return "afternoon"
    return "evening"


def _in_day_part(slots: Iterator[Slot], zone: ZoneInfo, preference: DayPart) -> Iterator[Slot]:
    return (slot for slot in slots if day_part(slot.start, zone) == preference)


def clinic_slots(
    calendars: Sequence[PractitionerCalendar],
    *,
    duration: timedelta,
    now: datetime,
    clinic_time_zone: str,
    from_day: date | None = None,
    preference: DayPart | None = None,
    limit: int = 5,
    load: Mapping[uuid.UUID, int] = _NO_LOAD,
    before: datetime | None = None,
) -> list[Slot]:
    """The first ``limit`` times at which at least one practitioner is free, each given to the least loaded.

    ``from_day`` is a local date in the clinic zone (default: today there). With ``before``, only the
    times that start before it (for calendars known only that far): the same first slots as without it,
    cut there.
    """
    _require_positive(duration)
    if preference is not None and preference not in get_args(DayPart):
        raise ValueError(f"unknown preference {preference!r}")
    if limit < 1:
        return []
    clinic_zone = ZoneInfo(clinic_time_zone)
    first_day = from_day if from_day is not None else _aware_utc(now).astimezone(clinic_zone).date()
    not_before = start_of_local_day(first_day, clinic_zone)
    streams = [
        _offered_slots(calendar, duration=duration, now=now, not_before=not_before, until_day=None)
        for calendar in calendars
    ]
    if preference is not None:
        streams = [_in_day_part(stream, clinic_zone, preference) for stream in streams]

    def least_loaded_first(slot: Slot) -> tuple[int, str]:
        return load.get(slot.practitioner_id, 0), str(slot.practitioner_id)

    offered: list[Slot] = []
    merged = heapq.merge(*streams, key=lambda slot: (slot.start, slot.end))
    cutoff = _aware_utc(before) if before is not None else None
    for (start, _end), same_time in itertools.groupby(merged, key=lambda slot: (slot.start, slot.end)):
        if cutoff is not None and start >= cutoff:
            break
        offered.append(min(same_time, key=least_loaded_first))
        if len(offered) == limit:
            break
    return offered


def booking_violation(
    calendar: PractitionerCalendar, *, start: datetime, end: datetime, now: datetime
) -> Violation | None:
    """None when ``[start, end)`` may be booked with this practitioner, else the first rule it breaks."""
    start, end, now = _aware_utc(start), _aware_utc(end), _aware_utc(now)
    rules = calendar.rules
    if end <= start:
        return "invalid_range"
    if start < now + rules.minimum_notice:
        return "minimum_notice"
    zone = ZoneInfo(calendar.time_zone)
    start_day = start.astimezone(zone).date()
    if start_day > _last_bookable_day(now, zone, rules):
        return "horizon"
    # Only ranges starting from the day before (overnight) up to the end's date can cover [start, end).
    working = working_intervals(
        calendar.hours, calendar.time_zone, start_day - ONE_DAY, end.astimezone(zone).date()
    )
    if not any(interval.start <= start and end <= interval.end for interval in working):
        return "working_hours"
    busy = _BusyTimeline(calendar.busy)
    if busy.overlaps(start, end):
        return "busy"
    if busy.overlaps(start - rules.buffer_before, end + rules.buffer_after):
        return "buffer"
    return None
