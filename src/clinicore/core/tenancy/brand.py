"""The look a clinic's people see: the clinic's own name on a white-label partner's dress.

Pages for patients and staff (form pages, the console) and the emails they get show the clinic's name
(its brand name when it has one) with the colours and logo of the clinic, or where it has none, of its
partner. Links point at the partner's first host name when it serves Clinicore under its own host, else
at our base URL. A clinic without a partner wears Clinicore's own look (no colour, no logo).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.models import Clinic, Partner
from clinicore.kit.errors import NotFound


@dataclass(frozen=True, slots=True)
class Brand:
    clinic_name: str
    partner_name: str | None
    logo_url: str | None
    color: str | None
    accent_color: str | None
    host_name: str | None  # the partner's first host name, when it serves us under its own host
    allowed_redirect_hosts: tuple[str, ...]
    frame_origins: tuple[str, ...]
    form_notification_url: str | None

    def base_url(self, default_base_url: str) -> str:
        """Where links to this clinic's pages point: the partner's host (same scheme and port as ours when
        the host names no port) or our own base URL."""
        if not self.host_name:
            return default_base_url.rstrip("/")
        scheme = urlsplit(default_base_url).scheme or "https"
        return f"{scheme}://{self.host_name}"

    def redirect_allowed(self, url: str) -> bool:
        """Only http(s) URLs whose host is one of the partner's allowed hosts: never an open redirect."""
        try:
            parts = urlsplit(url)
            host = (parts.hostname or "").lower()
        except ValueError:
            return False
        if parts.scheme not in ("http", "https") or not host or parts.username or parts.password:
            return False
        return host in {allowed.lower() for allowed in self.allowed_redirect_hosts}


def brand_of(clinic: Clinic, partner: Partner | None) -> Brand:
    return Brand(
        clinic_name=clinic.brand_name or clinic.name,
        partner_name=(partner.brand_name or partner.name) if partner else None,
        logo_url=clinic.brand_logo_url or (partner.brand_logo_url if partner else None),
        color=clinic.brand_color or (partner.brand_color if partner else None),
        accent_color=partner.brand_accent_color if partner else None,
        host_name=partner.host_names[0] if partner and partner.host_names else None,
        allowed_redirect_hosts=tuple(partner.allowed_redirect_hosts) if partner else (),
        frame_origins=tuple(partner.frame_origins) if partner else (),
        form_notification_url=partner.form_notification_url if partner else None,
    )


async def brand_for_clinic(session: AsyncSession, clinic_id: uuid.UUID) -> Brand:
    clinic = await session.get(Clinic, clinic_id)
    if clinic is None:
        raise NotFound("clinic not found")
    partner = await session.get(Partner, clinic.partner_id) if clinic.partner_id else None
    return brand_of(clinic, partner)
