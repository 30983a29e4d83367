"""The appointment status table: every status an appointment may take, and every move between them.

Pure: no database, no clock. Every status write in the core goes through it: booking
(``require_initial``), an update (``require_update``) and cancelling (``require_cancel``).

    waiting_confirmation -> confirmed, declined, cancelled
    confirmed            -> completed, missed, cancelled
    missed               -> completed, cancelled
    declined, cancelled, completed: final

Decisions:

- A new appointment is ``waiting_confirmation`` (a request the clinic still answers) or ``confirmed``.
- Writing the current status again is no move, and always allowed (a client sending the same update twice).
- ``waiting_confirmation -> confirmed`` re-checks every booking rule (``rechecks_booking_rules``): the time
  was requested, not held, when the request was made.
- ``cancelled`` is reached only by cancelling the appointment, never by an update: cancelling records when
  and why and emits ``appointment.cancelled``. Cancelling a cancelled appointment is no move (idempotent,
  no second event); cancelling a declined or completed one is a conflict.
- A ``missed`` appointment may still be ``completed`` (the patient came late after all) or ``cancelled``.
- An appointment that no longer holds its time (``declined``, ``cancelled``: ``RELEASED_STATUSES``) can no
  longer change at all, not even its title: its time may already be someone else's.
- Soft deletion (``deleted_at``) is not a status: a deleted appointment is hidden whatever its status.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from clinicore.core.models import RELEASED_STATUSES, AppointmentStatus
from clinicore.kit.errors import Conflict, InvalidInput

Status = AppointmentStatus

INITIAL: frozenset[AppointmentStatus] = frozenset({Status.waiting_confirmation, Status.confirmed})

TRANSITIONS: Mapping[AppointmentStatus, frozenset[AppointmentStatus]] = MappingProxyType(
    {
        Status.waiting_confirmation: frozenset({Status.confirmed, Status.declined, Status.cancelled}),
        Status.confirmed: frozenset({Status.completed, Status.missed, Status.cancelled}),
        Status.missed: frozenset({Status.completed, Status.cancelled}),
        Status.declined: frozenset(),
        Status.cancelled: frozenset(),
        Status.completed: frozenset(),
    }
)


def can_move(current: AppointmentStatus, new: AppointmentStatus) -> bool:
    """Whether the table lets an appointment go from ``current`` to ``new`` (staying put always can)."""
    return new == current or new in TRANSITIONS[current]


def rechecks_booking_rules(current: AppointmentStatus, new: AppointmentStatus) -> bool:
    return current is Status.waiting_confirmation and new is Status.confirmed


def require_initial(status: AppointmentStatus) -> None:
    if status not in INITIAL:
        raise InvalidInput(
            "status: a new appointment is waiting_confirmation or confirmed",
            field="status",
            subject="appointment",
        )


def require_changeable(current: AppointmentStatus) -> None:
    if current in RELEASED_STATUSES:
        raise Conflict(f"the appointment is {current} and can no longer change", subject="appointment")


def require_update(current: AppointmentStatus, new: AppointmentStatus | None) -> None:
    """An update may change the appointment, and move its status to ``new`` (None: status not given)."""
    require_changeable(current)
    if new is None or new == current:
        return
    if not can_move(current, new):
        raise InvalidInput(
            f"status: cannot change from {current} to {new}",
            field="status",
            subject="appointment",
            rule="appointment.illegal_move",
            params={"from": current, "to": new},
        )
    if new is Status.cancelled:
        raise InvalidInput(
            "status: an appointment is cancelled by cancelling it, which records when and why, "
            "not by changing its status",
            field="status",
            subject="appointment",
            rule="appointment.cancelled_by_cancelling",
        )


def require_cancel(current: AppointmentStatus) -> bool:
    """True when cancelling moves the appointment; False when it is cancelled already (nothing to do)."""
    if current is Status.cancelled:
        return False
    if not can_move(current, Status.cancelled):
        raise Conflict(f"the appointment is {current} and cannot be cancelled", subject="appointment")
    return True
