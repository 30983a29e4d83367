"""When to try a webhook again, and when to give up on an endpoint. Pure functions of time.

Schedule (Standard Webhooks / Svix style, about 3 days in all): the first attempt immediately, then
5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h and 24 h after each failure, each stretched or
shrunk by up to 10 % so that receivers coming back up are not hit by every sender at once.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

RETRY_SCHEDULE: tuple[timedelta, ...] = (
    timedelta(0),
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=14),
    timedelta(hours=20),
    timedelta(hours=24),
)
JITTER = 0.1
# Only these answers may ask us to come back later; Retry-After is honoured up to a day.
RETRY_AFTER_STATUSES = frozenset({429, 502, 503, 504})
LONGEST_RETRY_AFTER = timedelta(hours=24)

# The 5-day rule: an endpoint whose every attempt has failed for this long is disabled ...
DISABLE_AFTER_FAILING_FOR = timedelta(days=5)
# ... provided we were really trying for at least this long: a gap between two failures longer than
# the schedule allows (our own outage, a quiet endpoint) does not count as trying.
MINIMUM_TIME_SPENT_TRYING = timedelta(hours=12)
LONGEST_COUNTED_GAP = RETRY_SCHEDULE[-1] * (1 + JITTER) + timedelta(hours=1)


def next_retry_delay(
    failed_attempts: int, *, retry_after: timedelta | None = None, rng: random.Random | None = None
) -> timedelta | None:
    """How long to wait after ``failed_attempts`` failures in a row, or None when no attempt is left."""
    if failed_attempts >= len(RETRY_SCHEDULE):
        return None
    scheduled = RETRY_SCHEDULE[failed_attempts] * (rng or random).uniform(1 - JITTER, 1 + JITTER)
    if retry_after is None:
        return scheduled
    return max(scheduled, min(retry_after, LONGEST_RETRY_AFTER))


def parse_retry_after(value: str | None, *, now: datetime) -> timedelta | None:
    """Retry-After as seconds or as an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(timedelta(0), moment - now)


def counted_trying_time(previous_failure_at: datetime | None, now: datetime) -> timedelta:
    """How much of the time since the previous failure counts as spent trying."""
    if previous_failure_at is None:
        return timedelta(0)
    gap = now - previous_failure_at
    return gap if timedelta(0) <= gap <= LONGEST_COUNTED_GAP else timedelta(0)


def should_disable(*, failing_since: datetime, time_spent_trying: timedelta, now: datetime) -> bool:
    return now - failing_since >= DISABLE_AFTER_FAILING_FOR and time_spent_trying >= MINIMUM_TIME_SPENT_TRYING
