"""Booking rules on an appointment's own times, beside the availability engine. Pure, no I/O.

- Every instant given to the core carries its zone: a naive datetime is refused (not guessed as UTC or
  clinic time), naming the field it came in.
- An appointment lasts at least ``MINIMUM_LENGTH`` and at most ``MAXIMUM_LENGTH`` (the repository's queries
  rely on the maximum), whatever books it: a page, an API, the booking widget.
- ``violation_error`` words the availability engine's ``Violation`` codes; the message starts with the rule's
  name, so that a client can tell which rule refused.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from clinicore.core.scheduling.availability import Violation
from clinicore.core.scheduling.repository import MAX_APPOINTMENT_LENGTH
from clinicore.kit.errors import InvalidInput

MINIMUM_LENGTH = timedelta(minutes=5)
MAXIMUM_LENGTH = MAX_APPOINTMENT_LENGTH

VIOLATION_MESSAGES: dict[Violation, str] = {
    "invalid_range": "ends_at must be after starts_at",
    "minimum_notice": "the slot starts sooner than the clinic's minimum notice allows",
    "horizon": "the slot is further ahead than the clinic's booking horizon",
    "working_hours": "the slot is outside the practitioner's working hours",
    "buffer": "the slot is too close to another appointment or block (buffer)",
    "busy": "the slot overlaps a busy block",
}


def require_aware(moment: datetime, *, field: str, subject: str) -> None:
    if moment.utcoffset() is None:
        raise InvalidInput(f"{field}: must include a time zone (use Z for UTC)", field=field, subject=subject)


def require_range(starts_at: datetime, ends_at: datetime, *, subject: str) -> None:
    """Both instants aware, and the end after the start."""
    require_aware(starts_at, field="starts_at", subject=subject)
    require_aware(ends_at, field="ends_at", subject=subject)
    if ends_at <= starts_at:
        raise InvalidInput("ends_at: must be after starts_at", field="ends_at", subject=subject)


def require_appointment_times(starts_at: datetime, ends_at: datetime) -> None:
    """An appointment's times: aware, in order, and of a length the clinic can book."""
    require_range(starts_at, ends_at, subject="appointment")
    length = ends_at - starts_at
    if length < MINIMUM_LENGTH:
        raise InvalidInput(
            "ends_at: an appointment lasts at least 5 minutes", field="ends_at", subject="appointment"
        )
    if length > MAXIMUM_LENGTH:
        raise InvalidInput(
            "ends_at: an appointment lasts at most 24 hours", field="ends_at", subject="appointment"
        )


def violation_error(rule: Violation) -> InvalidInput:
    return InvalidInput(
        f"{rule}: {VIOLATION_MESSAGES[rule]}", field=rule, rule=f"booking.{rule}", subject="appointment"
    )
