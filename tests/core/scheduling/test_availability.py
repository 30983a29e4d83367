"""Fixed cases for the availability rules, many of them from scheduling bugs seen elsewhere (DST days,
overnight ranges, overrides). Every expected time is spelled out in UTC."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

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
    practitioner_slots,
    working_intervals,
)

NEW_YORK = "America/New_York"
LONDON = "Europe/London"
KOLKATA = "Asia/Kolkata"
HOUR = timedelta(hours=1)
HALF_HOUR = timedelta(minutes=30)

MONDAY, FRIDAY, SATURDAY, SUNDAY = 0, 4, 5, 6
WEEKDAYS = range(MONDAY, SATURDAY)

# 2024 transitions: New York springs forward 10 Mar (02:00 -> 03:00), falls back 3 Nov (02:00 -> 01:00);
# London springs forward 31 Mar (01:00 -> 02:00), falls back 27 Oct (02:00 -> 01:00). All Sundays.
NEW_YORK_SPRING, NEW_YORK_FALL = date(2024, 3, 10), date(2024, 11, 3)
LONDON_SPRING, LONDON_FALL = date(2024, 3, 31), date(2024, 10, 27)
MAY_13_MONDAY = date(2024, 5, 13)

DOCTOR_A = uuid.UUID(int=0xA)
DOCTOR_B = uuid.UUID(int=0xB)
DOCTOR_C = uuid.UUID(int=0xC)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def hours(start: str, end: str) -> LocalRange:
    return LocalRange(time.fromisoformat(start), time.fromisoformat(end))


def calendar(
    *,
    weekly: Mapping[int, Sequence[LocalRange]] | None = None,
    overrides: Mapping[date, Sequence[LocalRange]] | None = None,
    time_zone: str = NEW_YORK,
    rules: BookingRules | None = None,
    busy: Sequence[Interval] = (),
    practitioner_id: uuid.UUID = DOCTOR_A,
) -> PractitionerCalendar:
    return PractitionerCalendar(
        practitioner_id=practitioner_id,
        time_zone=time_zone,
        hours=WorkingHours(weekly=weekly or {}, overrides=overrides or {}),
        rules=rules or BookingRules(),
        busy=busy,
    )


def starts(slots: Sequence[Slot]) -> list[datetime]:
    return [slot.start for slot in slots]


def slots_on(
    practitioner: PractitionerCalendar,
    day: date,
    *,
    duration: timedelta = HOUR,
    now: datetime | None = None,
    until_day: date | None = None,
) -> list[Slot]:
    moment = now if now is not None else datetime.combine(day - timedelta(days=7), time(0), tzinfo=UTC)
    return list(
        practitioner_slots(
            practitioner, duration=duration, now=moment, from_day=day, until_day=until_day or day
        )
    )


class TestDaylightSavingDays:
    @pytest.mark.parametrize(
        ("time_zone", "day", "expected_first", "expected_last"),
        [
            # 09:00 EDT = 13:00 UTC; the day the clocks jump has the summer offset all working day.
            (NEW_YORK, NEW_YORK_SPRING, utc(2024, 3, 10, 13), utc(2024, 3, 10, 20)),
            (NEW_YORK, NEW_YORK_FALL, utc(2024, 11, 3, 14), utc(2024, 11, 3, 21)),
            (LONDON, LONDON_SPRING, utc(2024, 3, 31, 8), utc(2024, 3, 31, 15)),
            (LONDON, LONDON_FALL, utc(2024, 10, 27, 9), utc(2024, 10, 27, 16)),
        ],
    )
    def test_nine_to_five_gives_eight_hourly_slots_at_the_days_offset(
        self, time_zone: str, day: date, expected_first: datetime, expected_last: datetime
    ) -> None:
        practitioner = calendar(weekly={SUNDAY: [hours("09:00", "17:00")]}, time_zone=time_zone)

        slots = slots_on(practitioner, day)

        assert starts(slots) == [expected_first + n * HOUR for n in range(8)]
        assert starts(slots)[-1] == expected_last
        assert all(slot.end - slot.start == HOUR and slot.start.tzinfo is UTC for slot in slots)

    @pytest.mark.parametrize(
        ("time_zone", "day", "local_range", "expected"),
        [
            # 01:00 EST (06:00 UTC) to 03:00 EDT (07:00 UTC): one real hour.
            (NEW_YORK, NEW_YORK_SPRING, hours("01:00", "03:00"), [utc(2024, 3, 10, 6)]),
            # 01:00 EST to 04:00 EDT: the slot after 01:00 EST is 03:00 EDT, no 02:00 exists.
            (NEW_YORK, NEW_YORK_SPRING, hours("01:00", "04:00"), [utc(2024, 3, 10, 6), utc(2024, 3, 10, 7)]),
            # 01:00 EDT (05:00 UTC) to 03:00 EST (08:00 UTC): 01:00 EDT, 01:00 EST and 02:00 EST.
            (
                NEW_YORK,
                NEW_YORK_FALL,
                hours("01:00", "03:00"),
                [utc(2024, 11, 3, 5), utc(2024, 11, 3, 6), utc(2024, 11, 3, 7)],
            ),
            # London's 01:00 does not exist on this day: it resolves forward to 02:00 BST = 01:00 UTC.
            (LONDON, LONDON_SPRING, hours("01:00", "03:00"), [utc(2024, 3, 31, 1)]),
            (LONDON, LONDON_SPRING, hours("00:00", "03:00"), [utc(2024, 3, 31, 0), utc(2024, 3, 31, 1)]),
            # 01:00 BST (00:00 UTC) to 03:00 GMT (03:00 UTC): the repeated hour is offered once per real hour.
            (
                LONDON,
                LONDON_FALL,
                hours("01:00", "03:00"),
                [utc(2024, 10, 27, 0), utc(2024, 10, 27, 1), utc(2024, 10, 27, 2)],
            ),
        ],
    )
    def test_a_range_over_the_transition_hours_is_cut_in_real_time(
        self, time_zone: str, day: date, local_range: LocalRange, expected: list[datetime]
    ) -> None:
        practitioner = calendar(weekly={SUNDAY: [local_range]}, time_zone=time_zone)

        assert starts(slots_on(practitioner, day)) == expected

    def test_half_hour_slots_on_a_fall_back_night_have_no_duplicates_and_no_gaps(self) -> None:
        practitioner = calendar(weekly={SUNDAY: [hours("00:00", "03:00")]})

        slots = slots_on(practitioner, NEW_YORK_FALL, duration=HALF_HOUR)

        # 00:00 EDT = 04:00 UTC to 03:00 EST = 08:00 UTC: four real hours.
        assert starts(slots) == [utc(2024, 11, 3, 4) + n * HALF_HOUR for n in range(8)]

    @pytest.mark.parametrize("local_range", [hours("02:00", "03:00"), hours("02:30", "03:00")])
    def test_a_range_inside_the_spring_forward_gap_is_empty(self, local_range: LocalRange) -> None:
        practitioner = calendar(weekly={SUNDAY: [local_range]})

        assert slots_on(practitioner, NEW_YORK_SPRING, duration=timedelta(minutes=10)) == []
        assert working_intervals(practitioner.hours, NEW_YORK, NEW_YORK_SPRING, NEW_YORK_SPRING) == []

    def test_minimum_notice_is_elapsed_time_across_the_spring_forward(self) -> None:
        # Saturday 12:00 EST; 24 hours later it is Sunday 13:00 EDT, not 12:00.
        now = utc(2024, 3, 9, 17)
        practitioner = calendar(
            weekly={SUNDAY: [hours("09:00", "17:00")]}, rules=BookingRules(minimum_notice=timedelta(hours=24))
        )

        slots = list(practitioner_slots(practitioner, duration=HOUR, now=now))

        assert starts(slots)[:4] == [
            utc(2024, 3, 10, 17),
            utc(2024, 3, 10, 18),
            utc(2024, 3, 10, 19),
            utc(2024, 3, 10, 20),
        ]
        assert booking_violation(
            practitioner, start=utc(2024, 3, 10, 16), end=utc(2024, 3, 10, 17), now=now
        ) == ("minimum_notice")


class TestPreference:
    def test_afternoon_on_a_spring_forward_day_is_judged_in_local_time(self) -> None:
        practitioner = calendar(overrides={NEW_YORK_SPRING: [hours("09:00", "17:00")]})

        slots = clinic_slots(
            [practitioner],
            duration=HOUR,
            now=utc(2024, 3, 1),
            clinic_time_zone=NEW_YORK,
            from_day=NEW_YORK_SPRING,
            preference="afternoon",
            limit=100,
        )

        # 12:00 EDT = 16:00 UTC; the last afternoon start is 16:00 EDT = 20:00 UTC.
        assert starts(slots) == [utc(2024, 3, 10, hour) for hour in range(16, 21)]

    def test_evening_on_a_fall_back_day_runs_past_utc_midnight(self) -> None:
        practitioner = calendar(overrides={NEW_YORK_FALL: [hours("15:00", "20:00")]})

        slots = clinic_slots(
            [practitioner],
            duration=HOUR,
            now=utc(2024, 10, 20),
            clinic_time_zone=NEW_YORK,
            from_day=NEW_YORK_FALL,
            preference="evening",
            limit=100,
        )

        # 17:00 EST = 22:00 UTC.
        assert starts(slots) == [utc(2024, 11, 3, 22), utc(2024, 11, 3, 23), utc(2024, 11, 4, 0)]

    @pytest.mark.parametrize(
        ("preference", "expected_hours_utc"),
        [("morning", []), ("afternoon", [8, 9, 10, 11]), ("evening", [12, 13, 14, 15])],
    )
    def test_the_part_of_day_is_the_clinics_not_the_practitioners(
        self, preference: DayPart, expected_hours_utc: list[int]
    ) -> None:
        # London 09:00-17:00 BST = 08:00-16:00 UTC = 13:30-21:30 in Kolkata.
        practitioner = calendar(overrides={MAY_13_MONDAY: [hours("09:00", "17:00")]}, time_zone=LONDON)

        slots = clinic_slots(
            [practitioner],
            duration=HOUR,
            now=utc(2024, 5, 1),
            clinic_time_zone=KOLKATA,
            from_day=MAY_13_MONDAY,
            preference=preference,
            limit=100,
        )

        assert starts(slots) == [utc(2024, 5, 13, hour) for hour in expected_hours_utc]


class TestOverrides:
    def test_a_same_day_override_replaces_that_dates_hours_only(self) -> None:
        wednesday, next_wednesday = date(2024, 5, 15), date(2024, 5, 22)
        practitioner = calendar(
            weekly={2: [hours("09:00", "17:00")]}, overrides={wednesday: [hours("13:00", "15:00")]}
        )

        assert starts(slots_on(practitioner, wednesday)) == [utc(2024, 5, 15, 17), utc(2024, 5, 15, 18)]
        assert starts(slots_on(practitioner, next_wednesday, now=utc(2024, 5, 10))) == [
            utc(2024, 5, 22, hour) for hour in range(13, 21)
        ]

    def test_an_overnight_range_runs_into_a_day_overridden_closed(self) -> None:
        friday, saturday = date(2024, 5, 17), date(2024, 5, 18)
        practitioner = calendar(
            weekly={FRIDAY: [hours("22:00", "02:00")], SATURDAY: [hours("10:00", "14:00")]},
            overrides={saturday: []},
        )

        # Friday 22:00 EDT = Saturday 02:00 UTC, until Saturday 02:00 EDT = 06:00 UTC; nothing else Saturday.
        both_days = slots_on(practitioner, friday, until_day=saturday)
        assert starts(both_days) == [utc(2024, 5, 18, hour) for hour in (2, 3, 4, 5)]
        # Asked from Saturday: the Friday range's slots that start after midnight are Saturday's.
        assert starts(slots_on(practitioner, saturday)) == [utc(2024, 5, 18, 4), utc(2024, 5, 18, 5)]

    def test_an_override_opens_a_normally_off_weekday(self) -> None:
        sunday, next_sunday = date(2024, 5, 19), date(2024, 5, 26)
        practitioner = calendar(
            weekly=dict.fromkeys(WEEKDAYS, (hours("09:00", "17:00"),)),
            overrides={sunday: [hours("10:00", "12:00")]},
        )

        assert starts(slots_on(practitioner, sunday)) == [utc(2024, 5, 19, 14), utc(2024, 5, 19, 15)]
        assert slots_on(practitioner, next_sunday, now=utc(2024, 5, 20)) == []

    def test_an_empty_override_closes_a_working_day(self) -> None:
        practitioner = calendar(weekly={MONDAY: [hours("09:00", "17:00")]}, overrides={MAY_13_MONDAY: []})

        assert slots_on(practitioner, MAY_13_MONDAY) == []


class TestWorkingIntervals:
    def test_overlapping_and_touching_ranges_merge(self) -> None:
        hours_of_work = WorkingHours(
            weekly={MONDAY: [hours("12:00", "17:00"), hours("09:00", "10:30"), hours("10:00", "12:00")]},
            overrides={},
        )

        intervals = working_intervals(hours_of_work, NEW_YORK, MAY_13_MONDAY, MAY_13_MONDAY)

        assert intervals == [Interval(utc(2024, 5, 13, 13), utc(2024, 5, 13, 21))]

    def test_a_range_ending_at_midnight_and_a_whole_day_range(self) -> None:
        hours_of_work = WorkingHours(
            weekly={MONDAY: [hours("18:00", "00:00")], 1: [hours("00:00", "00:00")]}, overrides={}
        )

        intervals = working_intervals(hours_of_work, LONDON, MAY_13_MONDAY, date(2024, 5, 14))

        # Monday 18:00 BST to Wednesday 00:00 BST, one interval.
        assert intervals == [Interval(utc(2024, 5, 13, 17), utc(2024, 5, 14, 23))]

    def test_a_slot_may_cross_the_boundary_of_touching_ranges(self) -> None:
        practitioner = calendar(weekly={MONDAY: [hours("09:00", "10:00"), hours("10:00", "12:00")]})

        slots = slots_on(practitioner, MAY_13_MONDAY, duration=timedelta(minutes=45))

        # 09:45-10:30 crosses 10:00; cut separately, the ranges would give only 09:00, 10:00 and 10:45.
        assert starts(slots) == [utc(2024, 5, 13, 13) + n * timedelta(minutes=45) for n in range(4)]


class TestBuffersAndGrid:
    def test_buffers_keep_slots_away_from_busy_time(self) -> None:
        practitioner = calendar(
            weekly={MONDAY: [hours("09:00", "13:00")]},
            rules=BookingRules(buffer_before=timedelta(minutes=15), buffer_after=timedelta(minutes=15)),
            busy=[Interval(utc(2024, 5, 13, 14), utc(2024, 5, 13, 15))],  # 10:00-11:00 EDT
        )

        slots = slots_on(practitioner, MAY_13_MONDAY, duration=HALF_HOUR)

        # 09:30 would end at 10:00 + 15 min after; 11:00 would start 15 min before 11:00 ends.
        assert starts(slots) == [
            utc(2024, 5, 13, 13),
            utc(2024, 5, 13, 15, 30),
            utc(2024, 5, 13, 16),
            utc(2024, 5, 13, 16, 30),
        ]

    def test_a_buffer_reaches_outside_working_hours(self) -> None:
        practitioner = calendar(
            weekly={MONDAY: [hours("09:00", "11:00")]},
            rules=BookingRules(buffer_before=timedelta(minutes=15)),
            busy=[Interval(utc(2024, 5, 13, 12, 30), utc(2024, 5, 13, 12, 50))],  # 08:30-08:50 EDT
        )

        assert starts(slots_on(practitioner, MAY_13_MONDAY, duration=HALF_HOUR)) == [
            utc(2024, 5, 13, 13, 30),
            utc(2024, 5, 13, 14),
            utc(2024, 5, 13, 14, 30),
        ]

    def test_busy_time_removes_grid_positions_without_shifting_the_grid(self) -> None:
        practitioner = calendar(
            weekly={MONDAY: [hours("09:00", "11:00")]},
            busy=[Interval(utc(2024, 5, 13, 13), utc(2024, 5, 13, 13, 20))],  # 09:00-09:20 EDT
        )

        assert starts(slots_on(practitioner, MAY_13_MONDAY, duration=HALF_HOUR)) == [
            utc(2024, 5, 13, 13, 30),
            utc(2024, 5, 13, 14),
            utc(2024, 5, 13, 14, 30),
        ]

    def test_a_slot_interval_shorter_than_the_duration_offers_overlapping_starts(self) -> None:
        practitioner = calendar(
            weekly={MONDAY: [hours("09:00", "10:30")]},
            rules=BookingRules(slot_interval=timedelta(minutes=15)),
        )

        slots = slots_on(practitioner, MAY_13_MONDAY)

        assert starts(slots) == [utc(2024, 5, 13, 13) + n * timedelta(minutes=15) for n in range(3)]
        assert all(slot.end == slot.start + HOUR for slot in slots)

    def test_the_grid_of_a_round_the_clock_schedule_does_not_move_with_notice_or_from_day(self) -> None:
        now = utc(2024, 5, 13, 12)  # Monday 08:00 EDT
        every_day = dict.fromkeys(range(7), (hours("00:00", "00:00"),))
        fifty_minutes = timedelta(minutes=50)
        practitioner = calendar(weekly=every_day)
        with_notice = calendar(weekly=every_day, rules=BookingRules(minimum_notice=timedelta(days=2)))

        from_today = list(practitioner_slots(practitioner, duration=fifty_minutes, now=now))
        from_wednesday = list(
            practitioner_slots(practitioner, duration=fifty_minutes, now=now, from_day=date(2024, 5, 15))
        )
        noticed = list(practitioner_slots(with_notice, duration=fifty_minutes, now=now))

        # One interval since yesterday 00:00 EDT (Sunday 04:00 UTC); the notice ends 80 h = 96 slots later.
        assert noticed[0].start == utc(2024, 5, 15, 12)
        assert set(starts(noticed)) <= set(starts(from_today))
        assert starts(from_wednesday) == [
            start for start in starts(from_today) if start >= utc(2024, 5, 15, 4)
        ]


class TestHorizon:
    def test_the_last_bookable_day_is_today_plus_the_horizon_in_local_time(self) -> None:
        now = utc(2024, 5, 13, 12)  # Monday 08:00 EDT
        practitioner = calendar(
            weekly=dict.fromkeys(range(7), (hours("23:00", "01:00"),)), rules=BookingRules(horizon_days=2)
        )

        slots = list(practitioner_slots(practitioner, duration=HOUR, now=now))

        # Monday's, Tuesday's and Wednesday's 23:00 EDT, and the 00:00 of the Tuesday and Wednesday; the
        # Thursday 00:00 tail of Wednesday's overnight range is past the horizon.
        assert starts(slots) == [
            utc(2024, 5, 14, 3),
            utc(2024, 5, 14, 4),
            utc(2024, 5, 15, 3),
            utc(2024, 5, 15, 4),
            utc(2024, 5, 16, 3),
        ]
        assert booking_violation(
            practitioner, start=utc(2024, 5, 16, 4), end=utc(2024, 5, 16, 5), now=now
        ) == ("horizon")


class TestClinicSlots:
    def test_slots_merge_across_practitioners_and_go_to_the_least_loaded_free_one(self) -> None:
        a = calendar(weekly={MONDAY: [hours("09:00", "11:00")]}, practitioner_id=DOCTOR_A)
        b = calendar(
            weekly={MONDAY: [hours("09:00", "11:00")]},
            busy=[Interval(utc(2024, 5, 13, 14), utc(2024, 5, 13, 15))],  # 10:00-11:00 EDT
            practitioner_id=DOCTOR_B,
        )
        c = calendar(weekly={MONDAY: [hours("11:00", "12:00")]}, practitioner_id=DOCTOR_C)

        slots = clinic_slots(
            [c, b, a],
            duration=HOUR,
            now=utc(2024, 5, 13, 12),
            clinic_time_zone=NEW_YORK,
            preference=None,
            limit=3,
            load={DOCTOR_A: 3, DOCTOR_B: 1, DOCTOR_C: 7},
        )

        assert slots == [
            Slot(utc(2024, 5, 13, 13), utc(2024, 5, 13, 14), DOCTOR_B),  # both free, B less loaded
            Slot(utc(2024, 5, 13, 14), utc(2024, 5, 13, 15), DOCTOR_A),  # B is busy
            Slot(utc(2024, 5, 13, 15), utc(2024, 5, 13, 16), DOCTOR_C),
        ]

    def test_equal_load_goes_to_the_smallest_practitioner_id(self) -> None:
        working = {MONDAY: [hours("09:00", "10:00")]}
        slots = clinic_slots(
            [
                calendar(weekly=working, practitioner_id=DOCTOR_B),
                calendar(weekly=working, practitioner_id=DOCTOR_A),
            ],
            duration=HOUR,
            now=utc(2024, 5, 13, 12),
            clinic_time_zone=NEW_YORK,
            limit=1,
            load={DOCTOR_A: 2, DOCTOR_B: 2},
        )

        assert slots == [Slot(utc(2024, 5, 13, 13), utc(2024, 5, 13, 14), DOCTOR_A)]

    def test_from_day_is_a_date_in_the_clinic_time_zone(self) -> None:
        # Practitioner in New York, 20:00-22:00 EDT = 00:00-02:00 UTC = 05:30-07:30 the next day in Kolkata.
        practitioner = calendar(weekly=dict.fromkeys(range(7), (hours("20:00", "22:00"),)))

        slots = clinic_slots(
            [practitioner],
            duration=HOUR,
            now=utc(2024, 5, 1),
            clinic_time_zone=KOLKATA,
            from_day=date(2024, 5, 14),
            limit=2,
        )

        # Monday 13 May 20:00 EDT is already Tuesday 14 May in Kolkata.
        assert starts(slots) == [utc(2024, 5, 14, 0), utc(2024, 5, 14, 1)]

    def test_limit_stops_the_search(self) -> None:
        practitioner = calendar(weekly=dict.fromkeys(range(7), (hours("00:00", "00:00"),)))

        slots = clinic_slots(
            [practitioner],
            duration=HALF_HOUR,
            now=utc(2024, 5, 13, 12, 10),
            clinic_time_zone=NEW_YORK,
            limit=3,
        )

        assert starts(slots) == [utc(2024, 5, 13, 12, 30), utc(2024, 5, 13, 13), utc(2024, 5, 13, 13, 30)]
        assert (
            clinic_slots(
                [practitioner], duration=HOUR, now=utc(2024, 5, 13), clinic_time_zone=NEW_YORK, limit=0
            )
            == []
        )


class TestBookingViolation:
    NOW = utc(2024, 5, 13, 12)  # Monday 08:00 EDT
    PRACTITIONER = calendar(
        weekly={
            MONDAY: [hours("09:00", "12:00"), hours("13:00", "17:00")],
            FRIDAY: [hours("09:00", "17:00")],
        },
        rules=BookingRules(
            buffer_before=timedelta(minutes=15),
            buffer_after=timedelta(minutes=15),
            minimum_notice=HOUR,
            horizon_days=10,
        ),
        busy=[Interval(utc(2024, 5, 13, 18), utc(2024, 5, 13, 19))],  # 14:00-15:00 EDT
    )

    @pytest.mark.parametrize(
        ("start", "end", "expected"),
        [
            (utc(2024, 5, 13, 13), utc(2024, 5, 13, 13, 30), None),
            (utc(2024, 5, 13, 13, 10), utc(2024, 5, 13, 13, 40), None),  # off the grid is fine
            (utc(2024, 5, 13, 13), utc(2024, 5, 13, 13), "invalid_range"),
            (utc(2024, 5, 13, 14), utc(2024, 5, 13, 13), "invalid_range"),
            (utc(2024, 5, 13, 12, 30), utc(2024, 5, 13, 13), "minimum_notice"),
            (utc(2024, 5, 24, 13), utc(2024, 5, 24, 14), "horizon"),  # Friday, 11 days ahead
            (utc(2024, 5, 17, 13), utc(2024, 5, 17, 14), None),  # Friday within the horizon
            (utc(2024, 5, 13, 15, 30), utc(2024, 5, 13, 16, 30), "working_hours"),  # over the lunch gap
            (utc(2024, 5, 13, 20, 45), utc(2024, 5, 13, 21, 15), "working_hours"),  # past 17:00
            (utc(2024, 5, 14, 13), utc(2024, 5, 14, 14), "working_hours"),  # Tuesday is off
            (utc(2024, 5, 13, 17), utc(2024, 5, 13, 17, 50), "buffer"),  # ends 10 min before the busy hour
            (utc(2024, 5, 13, 19, 5), utc(2024, 5, 13, 19, 35), "buffer"),  # starts 5 min after it
            (utc(2024, 5, 13, 18, 30), utc(2024, 5, 13, 19, 30), "busy"),
            (utc(2024, 5, 13, 17, 45), utc(2024, 5, 13, 18, 15), "busy"),
            (utc(2024, 5, 13, 17, 15), utc(2024, 5, 13, 17, 45), None),  # exactly the buffer away
        ],
    )
    def test_names_the_first_rule_broken(self, start: datetime, end: datetime, expected: str | None) -> None:
        assert booking_violation(self.PRACTITIONER, start=start, end=end, now=self.NOW) == expected

    def test_accepts_an_overnight_slot_after_midnight(self) -> None:
        practitioner = calendar(weekly={FRIDAY: [hours("22:00", "02:00")]}, overrides={date(2024, 5, 18): []})

        # Saturday 01:00-02:00 EDT, inside Friday's range.
        verdict = booking_violation(
            practitioner, start=utc(2024, 5, 18, 5), end=utc(2024, 5, 18, 6), now=utc(2024, 5, 13)
        )

        assert verdict is None


class TestInvalidInput:
    def test_a_non_positive_duration_is_refused(self) -> None:
        practitioner = calendar(weekly={MONDAY: [hours("09:00", "17:00")]})
        with pytest.raises(ValueError, match="longer than zero"):
            practitioner_slots(practitioner, duration=timedelta(0), now=utc(2024, 5, 13))

    def test_naive_datetimes_are_refused(self) -> None:
        practitioner = calendar(weekly={MONDAY: [hours("09:00", "17:00")]})
        with pytest.raises(ValueError, match="aware"):
            booking_violation(
                practitioner, start=datetime(2024, 5, 13, 13), end=utc(2024, 5, 13, 14), now=utc(2024, 5, 13)
            )

    @pytest.mark.parametrize(
        "impossible",
        [
            {"buffer_before": timedelta(minutes=-1)},
            {"buffer_after": timedelta(minutes=-1)},
            {"minimum_notice": timedelta(seconds=-1)},
            {"horizon_days": -1},
            {"slot_interval": timedelta(0)},
        ],
    )
    def test_impossible_rules_are_refused(self, impossible: dict[str, Any]) -> None:
        with pytest.raises(ValueError):
            BookingRules(**impossible)

    def test_a_weekday_outside_the_week_is_refused(self) -> None:
        with pytest.raises(ValueError, match="weekdays"):
            WorkingHours(weekly={7: [hours("09:00", "17:00")]}, overrides={})
