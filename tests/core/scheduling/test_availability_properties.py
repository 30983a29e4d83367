"""Properties of availability over random calendars, in zones with odd offsets and DST rules, around the
2024 transitions: what is offered is bookable, what is bookable on the grid is offered."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from clinicore.core.scheduling.availability import (
    BookingRules,
    DayPart,
    Interval,
    LocalRange,
    PractitionerCalendar,
    Slot,
    WorkingHours,
    booking_violation,
    clinic_slots,
    day_part,
    practitioner_slots,
    working_intervals,
)

ZONES = [
    "America/New_York",
    "Europe/London",
    "Asia/Kolkata",  # +05:30, no DST
    "Australia/Lord_Howe",  # +10:30/+11: a 30-minute DST shift
    "Pacific/Chatham",  # +12:45/+13:45
    "America/St_Johns",  # -03:30/-02:30
    "UTC",
]
# Days just before a 2024 transition in one of the zones above.
TRANSITION_EVES = [
    datetime(2024, 3, 9, tzinfo=UTC),  # New York, St John's spring forward on the 10th
    datetime(2024, 3, 30, tzinfo=UTC),  # London, 31st
    datetime(2024, 4, 5, tzinfo=UTC),  # Lord Howe and Chatham fall back on the 7th
    datetime(2024, 9, 28, tzinfo=UTC),  # Chatham springs forward on the 29th
    datetime(2024, 10, 5, tzinfo=UTC),  # Lord Howe, 6th
    datetime(2024, 10, 26, tzinfo=UTC),  # London, 27th
    datetime(2024, 11, 2, tzinfo=UTC),  # New York, St John's, 3rd
    datetime(2024, 6, 12, tzinfo=UTC),  # an ordinary week
]
PROPERTY_SETTINGS = settings(max_examples=200, deadline=None)

minutes = st.integers(min_value=0, max_value=59)
wall_times = st.builds(
    time, st.integers(min_value=0, max_value=23), st.sampled_from([0, 15, 30, 45]) | minutes
)
local_ranges = st.builds(LocalRange, wall_times, wall_times)  # end <= start: overnight


@st.composite
def moments(draw: st.DrawFn) -> datetime:
    eve = draw(st.sampled_from(TRANSITION_EVES))
    return eve + timedelta(minutes=draw(st.integers(min_value=-24 * 60, max_value=3 * 24 * 60)))


@st.composite
def calendars(
    draw: st.DrawFn, now: datetime, practitioner_id: uuid.UUID | None = None
) -> PractitionerCalendar:
    weekly = draw(
        st.dictionaries(
            st.integers(min_value=0, max_value=6), st.lists(local_ranges, min_size=1, max_size=3), min_size=3
        )
    )
    today = now.date()
    override_days = st.builds(
        lambda offset: today + timedelta(days=offset), st.integers(min_value=-2, max_value=8)
    )
    overrides = draw(st.dictionaries(override_days, st.lists(local_ranges, max_size=2), max_size=3))
    busy_starts = st.builds(
        lambda offset: now + timedelta(minutes=offset), st.integers(min_value=-12 * 60, max_value=8 * 24 * 60)
    )
    busy = draw(
        st.lists(
            st.builds(
                lambda start, length: Interval(start, start + timedelta(minutes=length)),
                busy_starts,
                st.integers(min_value=1, max_value=8 * 60),
            ),
            max_size=12,
        )
    )
    rules = BookingRules(
        buffer_before=timedelta(minutes=draw(st.integers(min_value=0, max_value=90))),
        buffer_after=timedelta(minutes=draw(st.integers(min_value=0, max_value=90))),
        # Mostly short notice, so that most examples still have slots to check.
        minimum_notice=timedelta(
            minutes=draw(st.sampled_from([0, 60]) | st.integers(min_value=0, max_value=36 * 60))
        ),
        horizon_days=draw(st.integers(min_value=0, max_value=4)),
        slot_interval=draw(st.none() | st.builds(lambda m: timedelta(minutes=m), st.integers(10, 120))),
    )
    return PractitionerCalendar(
        practitioner_id=practitioner_id or uuid.uuid4(),
        time_zone=draw(st.sampled_from(ZONES)),
        hours=WorkingHours(weekly=weekly, overrides=overrides),
        rules=rules,
        busy=busy,
    )


durations = st.builds(lambda m: timedelta(minutes=m), st.integers(min_value=10, max_value=180))


def covered_by_some_ranges(calendar: PractitionerCalendar, slot: Slot) -> bool:
    """An oracle that does not merge: walk [start, end) through the raw ranges, each converted on its own."""
    zone = ZoneInfo(calendar.time_zone)
    local_day = slot.start.astimezone(zone).date()
    pieces: list[tuple[datetime, datetime]] = []
    for offset in range(-1, (slot.end.astimezone(zone).date() - local_day).days + 1):
        day = local_day + timedelta(days=offset)
        ranges = calendar.hours.overrides.get(day, calendar.hours.weekly.get(day.weekday(), ()))
        for local in ranges:
            end_day = day + timedelta(days=1) if local.end <= local.start else day
            pieces.append(
                (
                    datetime.combine(day, local.start, tzinfo=zone).astimezone(UTC),
                    datetime.combine(end_day, local.end, tzinfo=zone).astimezone(UTC),
                )
            )
    reached = slot.start
    while reached < slot.end:
        further = [end for start, end in pieces if start <= reached < end]
        if not further:
            return False
        reached = max(further)
    return True


def blocked_by_busy_or_buffers(calendar: PractitionerCalendar, slot: Slot) -> bool:
    before, after = calendar.rules.buffer_before, calendar.rules.buffer_after
    return any(
        busy.start < busy.end and busy.start < slot.end + after and slot.start - before < busy.end
        for busy in calendar.busy
    )


@PROPERTY_SETTINGS
@given(data=st.data(), now=moments(), duration=durations)
def test_every_offered_slot_keeps_every_rule(data: st.DataObject, now: datetime, duration: timedelta) -> None:
    calendar = data.draw(calendars(now))
    zone = ZoneInfo(calendar.time_zone)
    last_day = now.astimezone(zone).date() + timedelta(days=calendar.rules.horizon_days)

    slots = list(practitioner_slots(calendar, duration=duration, now=now))

    for slot in slots:
        assert slot.end - slot.start == duration and slot.practitioner_id == calendar.practitioner_id
        assert slot.start.utcoffset() == timedelta(0)
        assert not blocked_by_busy_or_buffers(calendar, slot)
        assert covered_by_some_ranges(calendar, slot)
        assert slot.start >= now + calendar.rules.minimum_notice
        assert slot.start.astimezone(zone).date() <= last_day
        assert booking_violation(calendar, start=slot.start, end=slot.end, now=now) is None
    assert all(earlier.start < later.start for earlier, later in itertools.pairwise(slots))
    if (calendar.rules.slot_interval or duration) >= duration:
        assert all(earlier.end <= later.start for earlier, later in itertools.pairwise(slots))


@PROPERTY_SETTINGS
@given(data=st.data(), now=moments(), duration=durations)
def test_every_bookable_grid_position_is_offered(
    data: st.DataObject, now: datetime, duration: timedelta
) -> None:
    calendar = data.draw(calendars(now))
    zone = ZoneInfo(calendar.time_zone)
    today = now.astimezone(zone).date()
    step = calendar.rules.slot_interval or duration

    # Brute force over the whole grid: every position of every working interval, checked one by one.
    expected: list[datetime] = []
    for working in working_intervals(
        calendar.hours,
        calendar.time_zone,
        today - timedelta(days=1),
        today + timedelta(days=calendar.rules.horizon_days),
    ):
        start = working.start
        while start + duration <= working.end:
            if booking_violation(calendar, start=start, end=start + duration, now=now) is None:
                expected.append(start)
            start += step

    assert [slot.start for slot in practitioner_slots(calendar, duration=duration, now=now)] == expected


@settings(max_examples=100, deadline=None)  # three calendars an example
@given(
    data=st.data(),
    now=moments(),
    duration=durations,
    clinic_zone=st.sampled_from(ZONES),
    from_offset=st.integers(min_value=-1, max_value=3),
    preference=st.sampled_from(["morning", "afternoon", "evening", None]),
    limit=st.integers(min_value=1, max_value=30),
)
def test_clinic_slots_are_the_merged_practitioner_slots(
    data: st.DataObject,
    now: datetime,
    duration: timedelta,
    clinic_zone: str,
    from_offset: int,
    preference: DayPart | None,
    limit: int,
) -> None:
    ids = data.draw(st.lists(st.uuids(), min_size=1, max_size=3, unique=True))
    practitioners = [data.draw(calendars(now, practitioner_id)) for practitioner_id in ids]
    load = {practitioner_id: data.draw(st.integers(min_value=0, max_value=2)) for practitioner_id in ids}
    zone = ZoneInfo(clinic_zone)
    from_day = now.astimezone(zone).date() + timedelta(days=from_offset)

    offered = clinic_slots(
        practitioners,
        duration=duration,
        now=now,
        clinic_time_zone=clinic_zone,
        from_day=from_day,
        preference=preference,
        limit=limit,
        load=load,
    )

    everyone: dict[tuple[datetime, datetime], list[Slot]] = {}
    for practitioner in practitioners:
        for slot in practitioner_slots(practitioner, duration=duration, now=now):
            local_start = slot.start.astimezone(zone)
            if local_start.date() >= from_day and preference in (None, day_part(slot.start, zone)):
                everyone.setdefault((slot.start, slot.end), []).append(slot)
    expected = [
        min(candidates, key=lambda slot: (load[slot.practitioner_id], str(slot.practitioner_id)))
        for _, candidates in sorted(everyone.items())
    ][:limit]
    assert offered == expected
    by_id = {practitioner.practitioner_id: practitioner for practitioner in practitioners}
    for slot in offered:
        assert booking_violation(by_id[slot.practitioner_id], start=slot.start, end=slot.end, now=now) is None


def _today_in(zone_name: str, now: datetime) -> date:
    return now.astimezone(ZoneInfo(zone_name)).date()


@PROPERTY_SETTINGS
@given(
    hours_of_work=st.builds(
        WorkingHours,
        st.dictionaries(st.integers(min_value=0, max_value=6), st.lists(local_ranges, max_size=4)),
        st.just({}),
    ),
    zone=st.sampled_from(ZONES),
    now=moments(),
    span=st.integers(min_value=0, max_value=6),
)
def test_working_intervals_are_sorted_disjoint_and_apart(
    hours_of_work: WorkingHours, zone: str, now: datetime, span: int
) -> None:
    first_day = _today_in(zone, now)

    intervals: Sequence[Interval] = working_intervals(
        hours_of_work, zone, first_day, first_day + timedelta(days=span)
    )

    assert all(interval.start < interval.end for interval in intervals)
    assert all(earlier.end < later.start for earlier, later in itertools.pairwise(intervals))
