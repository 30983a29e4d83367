"""Test mode: with ``state`` and ``tele_state`` both ``TE``, built-in test providers take the exam and
decide from the patient's name (``Test Approve``, ``Test GFE Approve``, ``Test Prescription Reject``...).

The name must name exactly one outcome; anything else is refused at invite time with the list of
accepted names, so that a typo never leaves a test exam waiting for ever.
"""

from __future__ import annotations

import re

from clinicore.core.models import TestOutcome
from clinicore.kit.errors import InvalidInput

TEST_STATE = "TE"
ACCEPTED_NAMES = (
    "Test Approve",
    "Test Reject",
    "Test N/A",
    "Test Prescription Approve",
    "Test Prescription Reject",
)
_DECISIONS = {"approve": "approve", "approved": "approve", "reject": "reject", "rejected": "reject"}
_PRESCRIPTION_WORDS = frozenset({"prescription", "rx"})
_NA_WORDS = frozenset({"na", "n/a", "n.a.", "n.a"})


def _words(name: str) -> list[str]:
    return [word for word in re.split(r"[\s_\-,]+", name.lower()) if word]


def parse_test_outcome(first_name: str, last_name: str) -> TestOutcome:
    """The outcome the test patient's full name asks for, or a 400 listing the accepted names."""
    words = _words(f"{first_name} {last_name}")
    decisions = {_DECISIONS[word] for word in words if word in _DECISIONS}
    wants_na = any(word in _NA_WORDS for word in words) or "n/a" in f"{first_name} {last_name}".lower()
    wants_prescription = any(word in _PRESCRIPTION_WORDS for word in words)
    outcomes: set[TestOutcome] = set()
    if wants_na:
        outcomes.add(TestOutcome.na)
    for decision in decisions:
        if wants_prescription:
            outcomes.add(TestOutcome.rx_approve if decision == "approve" else TestOutcome.rx_reject)
        else:
            outcomes.add(TestOutcome.approve if decision == "approve" else TestOutcome.reject)
    if "test" not in words or len(outcomes) != 1 or (wants_na and wants_prescription):
        accepted = ", ".join(ACCEPTED_NAMES)
        raise InvalidInput(
            "first_name/last_name: in test mode the patient's name must name one outcome "
            f"(accepted: {accepted}; variations such as Test GFE Approve work)",
            field="first_name",
        )
    return outcomes.pop()
