"""The demo partner's console: the printed partner login signs in (the password is reset on each run) and
the first run's white-label brand is kept by later runs."""

from __future__ import annotations

import dataclasses
import secrets

import httpx

from clinicore.cli.demo_partner import seed_partner_console
from clinicore.config import Settings
from clinicore.core.models import Partner
from clinicore.core.partners import brand as brand_service
from clinicore.core.partners.brand import BrandSettings
from clinicore.core.tenancy import service as tenancy_service
from clinicore.runtime import Runtime
from tests.support import remember_secret
from tests.web.partner.pages import sign_in_partner


async def test_the_partner_login_works_and_the_brand_is_set_once(
    runtime: Runtime, client: httpx.AsyncClient, settings: Settings
) -> None:
    local = dataclasses.replace(
        runtime, settings=settings.model_copy(update={"base_url": "http://127.0.0.1:8000"})
    )
    async with local.sessions() as session, session.begin():
        partner = await tenancy_service.create_partner(session, name=f"Demo {secrets.token_hex(4)}")
    email = f"partner-{secrets.token_hex(4)}@demo.example"  # not the demo's own: the database may be shared
    first, second = (remember_secret(secrets.token_urlsafe(12)) for _ in range(2))
    async with local.sessions() as session, session.begin():
        partner = await session.get(Partner, partner.id) or partner
        await seed_partner_console(session, local, partner, password=first, email=email)
    async with local.sessions() as session:
        seeded = await session.get(Partner, partner.id)
        assert seeded is not None
        assert seeded.brand_name == "Acme Health Forms"
        assert "127.0.0.1" in seeded.allowed_redirect_hosts
        assert seeded.frame_origins == ["http://127.0.0.1:8000"]
        assert seeded.form_notification_url == "http://127.0.0.1:8000/console/intakes/[form-id]"
    async with local.sessions() as session, session.begin():
        await brand_service.update_brand(
            session, partner_id=partner.id, settings=BrandSettings(brand_name="Mine")
        )
    async with local.sessions() as session, session.begin():
        again = await session.get(Partner, partner.id)
        assert again is not None
        await seed_partner_console(session, local, again, password=second, email=email)
    async with local.sessions() as session:
        kept = await session.get(Partner, partner.id)
        assert kept is not None and kept.brand_name == "Mine"

    assert (await sign_in_partner(client, email, first)).status_code == 401
    response = await sign_in_partner(client, email, second)
    assert response.status_code == 303
    assert "Mine · Partner console" in (await client.get("/partner")).text
