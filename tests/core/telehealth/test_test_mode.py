"""Test mode: reading the outcome from the test patient's name, and what the test provider decides."""

from __future__ import annotations

import pytest

from clinicore.core.models import ExamOutcome, RxType
from clinicore.core.models import TestOutcome as NamedOutcome
from clinicore.core.telehealth.test_mode import parse_test_outcome
from clinicore.core.telehealth.timers import decision_for_test_outcome, prescribes
from clinicore.kit.errors import InvalidInput


@pytest.mark.parametrize(
    ("first_name", "last_name", "expected"),
    [
        ("Test", "Approve", NamedOutcome.approve),
        ("Test", "Reject", NamedOutcome.reject),
        ("Test", "N/A", NamedOutcome.na),
        ("Test", "NA", NamedOutcome.na),
        ("Test", "Prescription Approve", NamedOutcome.rx_approve),
        ("Test", "Prescription Reject", NamedOutcome.rx_reject),
        ("Test GFE", "Approve", NamedOutcome.approve),
        ("test", "approved", NamedOutcome.approve),
        ("Test", "Rx Rejected", NamedOutcome.rx_reject),
        ("TEST", "PRESCRIPTION-APPROVE", NamedOutcome.rx_approve),
    ],
)
def test_the_name_names_the_outcome(first_name: str, last_name: str, expected: NamedOutcome) -> None:
    assert parse_test_outcome(first_name, last_name) is expected


@pytest.mark.parametrize(
    ("first_name", "last_name"),
    [
        ("Jane", "Doe"),  # no outcome
        ("Test", "Patient"),  # "test" but no outcome
        ("Jane", "Approve"),  # an outcome but no "test"
        ("Test", "Approve Reject"),  # ambiguous
        ("Test", "Prescription N/A"),  # N/A has no prescription variant
    ],
)
def test_an_ambiguous_or_outcome_less_name_is_refused_with_the_accepted_names(
    first_name: str, last_name: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_test_outcome(first_name, last_name)
    assert "Test Approve, Test Reject, Test N/A, Test Prescription Approve, Test Prescription Reject" in (
        refused.value.message
    )


@pytest.mark.parametrize(
    ("outcome", "rx_type", "decision", "goes_on_to_a_prescription"),
    [
        (NamedOutcome.approve, RxType.gfe, ExamOutcome.approved, False),
        (NamedOutcome.reject, RxType.gfe, ExamOutcome.rejected, False),
        (NamedOutcome.na, RxType.rx, ExamOutcome.na, False),
        (NamedOutcome.approve, RxType.rx, ExamOutcome.approved, False),
        (NamedOutcome.rx_approve, RxType.rx, ExamOutcome.approved, True),
        (NamedOutcome.rx_reject, RxType.rx, ExamOutcome.rejected, False),
        # On a GFE exam the prescription outcomes act as approve and reject.
        (NamedOutcome.rx_approve, RxType.gfe, ExamOutcome.approved, False),
        (NamedOutcome.rx_reject, RxType.gfe, ExamOutcome.rejected, False),
    ],
)
def test_what_the_test_provider_decides(
    outcome: NamedOutcome, rx_type: RxType, decision: ExamOutcome, goes_on_to_a_prescription: bool
) -> None:
    assert decision_for_test_outcome(outcome) is decision
    assert prescribes(outcome, rx_type) is goes_on_to_a_prescription
