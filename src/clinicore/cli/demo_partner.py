"""The demo partner's console: its partner user (the password is reset on each run, so what ``clinicore
demo`` prints always works) and, on the first run only, its white-label brand: a name, colours, the
allowed redirect host ``127.0.0.1`` and the local base URL as a frame origin. Later runs keep what was
changed in the partner console."""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.audit.service import CLI
from clinicore.core.models import Partner
from clinicore.core.partners import brand as brand_service
from clinicore.core.partners import service as partner_service
from clinicore.core.partners.brand import BrandSettings
from clinicore.kit.errors import InvalidInput
from clinicore.runtime import Runtime

DEMO_PARTNER_EMAIL = "partner@clinicore.example"
DEMO_BRAND = BrandSettings(
    brand_name="Acme Health Forms",
    color="#5b3fa0",
    accent_color="#e0862b",
    allowed_redirect_hosts=["127.0.0.1", "localhost"],
)


def _local_frame_origins(base_url: str) -> list[str]:
    """The base URL's origin when it may embed the console (https, or a loopback host in development)."""
    parts = urlsplit(base_url)
    try:
        return [brand_service.frame_origin(f"{parts.scheme}://{parts.netloc}")]
    except InvalidInput:
        return []


async def seed_partner_console(
    session: AsyncSession,
    runtime: Runtime,
    partner: Partner,
    *,
    password: str,
    email: str = DEMO_PARTNER_EMAIL,
) -> str:
    """The demo partner user (created, or its password reset) and the first run's brand; its email."""
    user = await partner_service.get_user_by_email(session, email)
    if user is None:
        await partner_service.create_user(
            session,
            partner_id=partner.id,
            email=email,
            name="Demo Partner Admin",
            password=password,
            actor=CLI,
            clock=runtime.clock,
        )
    else:
        await partner_service.set_password(
            session, user=user, password=password, actor=CLI, clock=runtime.clock
        )
    if partner.brand_name is None:
        base_url = runtime.settings.base_url.rstrip("/")
        await brand_service.update_brand(
            session,
            partner_id=partner.id,
            settings=BrandSettings(
                brand_name=DEMO_BRAND.brand_name,
                color=DEMO_BRAND.color,
                accent_color=DEMO_BRAND.accent_color,
                allowed_redirect_hosts=DEMO_BRAND.allowed_redirect_hosts,
                frame_origins=_local_frame_origins(base_url),
                form_notification_url=f"{base_url}/console/intakes/[form-id]",
            ),
            actor=CLI,
            clock=runtime.clock,
        )
    return email
