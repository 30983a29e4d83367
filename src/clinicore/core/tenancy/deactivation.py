"""A deactivated clinic (``Clinic.is_active`` false) is refused at the door: its API keys (QualifyBase,
native, Qualiphy in its own words) and its users' console sign-in. One rule, called by each door."""

from __future__ import annotations

from clinicore.core.models import Clinic
from clinicore.kit.errors import Unauthorized

CLINIC_INACTIVE = "tenancy.clinic_inactive"


def refuse_inactive_clinic(clinic: Clinic) -> None:
    """Raise ``Unauthorized`` (rule ``tenancy.clinic_inactive``) when the clinic is deactivated."""
    if not clinic.is_active:
        raise Unauthorized("this clinic is deactivated", rule=CLINIC_INACTIVE)
