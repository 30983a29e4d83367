"""Qualiphy's words for core errors: the one place where the core's field names become Qualiphy's and
where a rule the core names (``CoreError.rule``) is told as Qualiphy's integrators expect it.

Qualiphy answers every error as ``{"http_code": <status>, "error_message": "..."}`` with 400, 401 or
500: a core ``not_found`` or ``conflict`` is a 400 here, as the vendor's doc lists no other status.
"""

from __future__ import annotations

from clinicore.kit.errors import CoreError
from clinicore.surfaces.errors import status_for

# Core field -> Qualiphy field, where the names differ.
WIRE_FIELDS = {
    "phone": "phone_number",
    "pharmacy_routing": "custom_pharmacy",
    "clinic_billing_reference": "custom_pharmacy_clinic_billing",
}

# Rule -> (status or None for the usual one, message template over the rule's params).
RULE_MESSAGES: dict[str, tuple[int | None, str]] = {
    # The doc's "distinct 401s": an exam the clinic cannot use, another clinic's included.
    "telehealth.exam_not_offered": (401, "Exam {exam_id} is not enabled for this clinic"),
    "telehealth.unknown_meeting": (None, "Invalid meeting id"),  # Qualiphy's exact words
    "routing.urgent_care_needs_retail": (
        None,
        "custom_pharmacy: {exam_title} is an Urgent Care exam, routed to a custom pharmacy: send "
        "custom_pharmacy 1 with ncpdpid and the pharmacy_* fields, or custom_pharmacy 1 with "
        "custom_pharmacy_patient_choice 2 to let the patient choose",
    ),
    "routing.retail_pharmacy_needs_ncpdpid": (
        None,
        "ncpdpid is required for a custom pharmacy (custom_pharmacy 1): find it with "
        "/custom_pharmacy_search, or send custom_pharmacy_patient_choice 2 to let the patient choose",
    ),
    "routing.invite_names_both": (
        None,
        "{missing} is required with provider_pos_selection 1 (you specify both pharmacy_id and order_set_id)",
    ),
    "routing.provider_picks_the_order_set": (
        None,
        "pharmacy_id is required with provider_pos_selection 2 (the provider picks the order set at that "
        "pharmacy)",
    ),
    "routing.provider_picks_both": (
        None,
        "{name}: with provider_pos_selection 3 the provider picks pharmacy and order set; leave it out",
    ),
    "routing.pharmacy_does_not_fulfil_exam": (
        None,
        "pharmacy_id: partner pharmacy {pharmacy_id} does not fulfil exam {exam_id} "
        "(see /partner_pharmacy_list)",
    ),
}


def wire_status(error: CoreError) -> int:
    override = RULE_MESSAGES.get(error.rule or "", (None, ""))[0]
    if override is not None:
        return override
    status = status_for(error)
    return 400 if status in (404, 409) else status


def rule_message(error: CoreError) -> str | None:
    if error.rule in RULE_MESSAGES:
        return RULE_MESSAGES[error.rule][1].format(**error.params)
    return None
