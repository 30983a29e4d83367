"""The provider desk: providers' own sign-in, cookie (scoped to ``/provider``) and pages, on the shared
desk machinery (web/desk/desk.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request

from clinicore.core.accounts.service import SignedInDesk
from clinicore.core.models import DeskAccountKind, Provider
from clinicore.web.desk.desk import Desk, DeskSignInRequired

PROVIDER_DESK = Desk(
    kind=DeskAccountKind.provider,
    path="/provider",
    title="Provider desk",
    templates=Path(__file__).parent / "templates",
)


async def current_provider(
    request: Request, signed_in: Annotated[SignedInDesk, Depends(PROVIDER_DESK.current)]
) -> SignedInDesk:
    """The signed-in account of the desk, which is always a ``Provider`` (a FastAPI dependency)."""
    if not isinstance(signed_in.account, Provider):
        raise DeskSignInRequired(PROVIDER_DESK.sign_in_url(request.url.path))
    return signed_in


CurrentProvider = Annotated[SignedInDesk, Depends(current_provider)]
ProviderDeskRoute = PROVIDER_DESK.route_class
