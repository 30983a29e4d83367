"""Where the network serves: 48 states and D.C. (Alabama and Mississippi are not served)."""

from __future__ import annotations

from clinicore.kit.errors import InvalidInput

_CODES = (
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO "
    "MT NE NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY"
)
USPS_STATES = frozenset(_CODES.split())
UNSERVED_STATES = {"AL": "Alabama", "MS": "Mississippi"}
SERVED_STATES = USPS_STATES - UNSERVED_STATES.keys()


def normalise_state(value: str) -> str:
    state = value.strip().upper()
    if state not in USPS_STATES:
        raise InvalidInput(f"{value!r} is not a two-letter U.S. state code")
    return state


def check_tele_state(value: str) -> str:
    """A ``tele_state`` the network serves, upper-cased, or a 400 that says why not."""
    state = value.strip().upper()
    if state in UNSERVED_STATES:
        raise InvalidInput(
            f"tele_state: {UNSERVED_STATES[state]} ({state}) is not currently supported "
            "(the network serves 48 states and DC)",
            field="tele_state",
        )
    if state not in SERVED_STATES:
        raise InvalidInput(
            f"tele_state: {value!r} is not a supported state (two-letter code such as NY, CA or DC; "
            "TE with state TE for test mode)",
            field="tele_state",
        )
    return state
