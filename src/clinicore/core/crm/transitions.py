"""The campaign status table. Pure: no database, no clock; every campaign status write goes through it.

    draft     -> active, completed
    active    -> paused, completed
    paused    -> active, completed
    completed: final

Decisions:

- A new campaign is a ``draft`` (being prepared) or ``active`` (dialing).
- Writing the current status again is no move, and always allowed (a form saved unchanged).
- A campaign never goes back to ``draft``: once it has dialed, its contacts have attempts.
- ``completed`` is final: a completed campaign takes no new contacts (``takes_contacts``).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from clinicore.core.models import CampaignStatus
from clinicore.kit.errors import InvalidInput

Status = CampaignStatus

INITIAL: frozenset[CampaignStatus] = frozenset({Status.draft, Status.active})

TRANSITIONS: Mapping[CampaignStatus, frozenset[CampaignStatus]] = MappingProxyType(
    {
        Status.draft: frozenset({Status.active, Status.completed}),
        Status.active: frozenset({Status.paused, Status.completed}),
        Status.paused: frozenset({Status.active, Status.completed}),
        Status.completed: frozenset(),
    }
)


def can_move(current: CampaignStatus, new: CampaignStatus) -> bool:
    """Whether the table lets a campaign go from ``current`` to ``new`` (staying put always can)."""
    return new == current or new in TRANSITIONS[current]


def takes_contacts(status: CampaignStatus) -> bool:
    return status is not Status.completed


def require_initial(status: CampaignStatus) -> None:
    if status not in INITIAL:
        raise InvalidInput(
            "status: a new campaign starts as a draft or active", field="status", subject="campaign"
        )


def require_move(current: CampaignStatus, new: CampaignStatus) -> None:
    if not can_move(current, new):
        raise InvalidInput(
            f"status: cannot change from {current} to {new}",
            field="status",
            subject="campaign",
            rule="campaign.illegal_move",
            params={"from": current, "to": new},
        )
