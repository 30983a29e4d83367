"""The pharmacy desk: pharmacy users' own sign-in, cookie (scoped to ``/pharmacy``) and pages."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import Depends

from clinicore.core.accounts.service import SignedInDesk
from clinicore.core.models import DeskAccountKind
from clinicore.web.desk.desk import Desk

PHARMACY_DESK = Desk(
    kind=DeskAccountKind.pharmacy_user,
    path="/pharmacy",
    title="Pharmacy desk",
    templates=Path(__file__).parent / "templates",
)
CurrentPharmacyUser = Annotated[SignedInDesk, Depends(PHARMACY_DESK.current)]
