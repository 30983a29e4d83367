"""The appointment status table, move by move: every legal move is allowed, every other one refused with a
core error, whichever use case writes the status (booking, an update, cancelling)."""

from __future__ import annotations

import itertools

import pytest

from clinicore.core.models import AppointmentStatus
from clinicore.core.scheduling import transitions
from clinicore.kit.errors import Conflict, InvalidInput

S = AppointmentStatus

# The table as ARCHITECTURE.md and the module docstring state it, written out independently.
LEGAL = {
    (S.waiting_confirmation, S.confirmed),
    (S.waiting_confirmation, S.declined),
    (S.waiting_confirmation, S.cancelled),
    (S.confirmed, S.completed),
    (S.confirmed, S.missed),
    (S.confirmed, S.cancelled),
    (S.missed, S.completed),
    (S.missed, S.cancelled),
}
MOVES = [(current, new) for current, new in itertools.product(S, S) if current != new]
RELEASED = {S.declined, S.cancelled}


def move_id(move: tuple[AppointmentStatus, AppointmentStatus]) -> str:
    return f"{move[0]}->{move[1]}"


class TestTheTable:
    @pytest.mark.parametrize("move", MOVES, ids=move_id)
    def test_each_move_is_allowed_exactly_when_it_is_in_the_table(
        self, move: tuple[AppointmentStatus, AppointmentStatus]
    ) -> None:
        assert transitions.can_move(*move) is (move in LEGAL)

    @pytest.mark.parametrize("status", list(S))
    def test_staying_put_is_always_allowed(self, status: AppointmentStatus) -> None:
        assert transitions.can_move(status, status)

    def test_declined_cancelled_and_completed_are_final(self) -> None:
        assert {status for status in S if not transitions.TRANSITIONS[status]} == {
            S.declined,
            S.cancelled,
            S.completed,
        }

    def test_only_confirming_a_request_rechecks_the_booking_rules(self) -> None:
        assert [move for move in MOVES if transitions.rechecks_booking_rules(*move)] == [
            (S.waiting_confirmation, S.confirmed)
        ]


class TestBooking:
    @pytest.mark.parametrize("status", [S.waiting_confirmation, S.confirmed])
    def test_a_new_appointment_is_a_request_or_confirmed(self, status: AppointmentStatus) -> None:
        transitions.require_initial(status)

    @pytest.mark.parametrize("status", [S.declined, S.cancelled, S.missed, S.completed])
    def test_no_appointment_starts_in_another_status(self, status: AppointmentStatus) -> None:
        with pytest.raises(InvalidInput) as refused:
            transitions.require_initial(status)
        assert refused.value.field == "status"


class TestUpdate:
    @pytest.mark.parametrize(
        "move", [move for move in MOVES if move in LEGAL and move[1] is not S.cancelled], ids=move_id
    )
    def test_a_legal_move_is_allowed(self, move: tuple[AppointmentStatus, AppointmentStatus]) -> None:
        transitions.require_update(*move)

    @pytest.mark.parametrize(
        "move", [move for move in MOVES if move not in LEGAL and move[0] not in RELEASED], ids=move_id
    )
    def test_an_illegal_move_is_invalid_input_naming_both_statuses(
        self, move: tuple[AppointmentStatus, AppointmentStatus]
    ) -> None:
        with pytest.raises(InvalidInput) as refused:
            transitions.require_update(*move)
        assert refused.value.message == f"status: cannot change from {move[0]} to {move[1]}"
        assert refused.value.field == "status"

    @pytest.mark.parametrize("current", [S.waiting_confirmation, S.confirmed, S.missed])
    def test_cancelled_is_reached_by_cancelling_not_by_an_update(self, current: AppointmentStatus) -> None:
        with pytest.raises(InvalidInput) as refused:
            transitions.require_update(current, S.cancelled)
        assert refused.value.message.startswith("status: an appointment is cancelled by cancelling it")

    @pytest.mark.parametrize("current", sorted(RELEASED))
    @pytest.mark.parametrize("new", [None, *S])
    def test_a_released_appointment_no_longer_changes_at_all(
        self, current: AppointmentStatus, new: AppointmentStatus | None
    ) -> None:
        with pytest.raises(Conflict) as refused:
            transitions.require_update(current, new)
        assert refused.value.message == f"the appointment is {current} and can no longer change"

    @pytest.mark.parametrize("current", [S.waiting_confirmation, S.confirmed, S.missed, S.completed])
    def test_an_update_without_a_status_or_with_the_same_one_is_no_move(
        self, current: AppointmentStatus
    ) -> None:
        transitions.require_update(current, None)
        transitions.require_update(current, current)


class TestCancel:
    @pytest.mark.parametrize("current", [S.waiting_confirmation, S.confirmed, S.missed])
    def test_cancelling_moves_what_the_table_allows(self, current: AppointmentStatus) -> None:
        assert transitions.require_cancel(current) is True

    def test_cancelling_a_cancelled_appointment_is_nothing_to_do(self) -> None:
        assert transitions.require_cancel(S.cancelled) is False

    @pytest.mark.parametrize("current", [S.declined, S.completed])
    def test_cancelling_a_declined_or_completed_appointment_is_a_conflict(
        self, current: AppointmentStatus
    ) -> None:
        with pytest.raises(Conflict) as refused:
            transitions.require_cancel(current)
        assert refused.value.message == f"the appointment is {current} and cannot be cancelled"
