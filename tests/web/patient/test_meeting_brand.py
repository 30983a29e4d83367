"""The meeting pages wear the clinic's look (core/tenancy/brand.py): a partner's practice its name on the
partner's colour and logo, a clinic without a partner Clinicore's own look (no colour, no logo)."""

from __future__ import annotations

from datetime import timedelta

import httpx

from clinicore.core.models import Partner
from clinicore.core.telehealth.invites import meeting_path
from clinicore.runtime import Runtime
from tests.factories import create_catalog, create_clinic
from tests.factories.partners import create_partner_practice, create_partner_user
from tests.web.patient.pages import ArrangedVisit, arrange_visit

PARTNER_COLOR = "#aa3300"
PARTNER_ACCENT = "#0055aa"
PARTNER_LOGO = "https://cdn.acme.example/logo.png"


async def partner_practice_visit(runtime: Runtime) -> ArrangedVisit:
    partner = (await create_partner_user(runtime)).partner
    async with runtime.sessions() as session, session.begin():
        stored = await session.get(Partner, partner.id)
        assert stored is not None
        stored.brand_name = "Acme Health"
        stored.brand_color = PARTNER_COLOR
        stored.brand_accent_color = PARTNER_ACCENT
        stored.brand_logo_url = PARTNER_LOGO
    practice = await create_partner_practice(runtime, stored, name="Harbor Skin Studio")
    return await arrange_visit(runtime, clinic=(practice, await create_catalog(runtime, practice)))


class TestMeetingPageBrand:
    async def test_a_partners_practice_wears_the_partners_colour_and_logo_with_its_own_name(
        self, runtime: Runtime, client: httpx.AsyncClient
    ) -> None:
        visit = await partner_practice_visit(runtime)
        page = await client.get(visit.url)
        assert page.status_code == 200
        assert f"--brand: {PARTNER_COLOR};" in page.text
        assert f"--accent: {PARTNER_ACCENT};" in page.text
        assert f'src="{PARTNER_LOGO}"' in page.text
        assert 'data-testid="brand">Harbor Skin Studio<' in page.text
        assert "Acme Health" not in page.text

    async def test_an_expired_link_of_a_partners_practice_wears_the_partners_look(
        self, runtime: Runtime, client: httpx.AsyncClient
    ) -> None:
        visit = await partner_practice_visit(runtime)
        expired = runtime.links.sign(
            meeting_path(visit.meeting.id), expires_at=runtime.clock.now() - timedelta(minutes=1)
        ).removeprefix(runtime.links.base_url)
        page = await client.get(expired)
        assert page.status_code == 410
        assert f"--brand: {PARTNER_COLOR};" in page.text
        assert f'src="{PARTNER_LOGO}"' in page.text

    async def test_a_clinic_without_a_partner_keeps_clinicores_look(
        self, runtime: Runtime, client: httpx.AsyncClient
    ) -> None:
        clinic = (await create_clinic(runtime, name="Plain Wellness")).clinic
        visit = await arrange_visit(runtime, clinic=(clinic, await create_catalog(runtime, clinic)))
        page = await client.get(visit.url)
        assert page.status_code == 200
        assert "--brand:" not in page.text
        assert 'class="logo"' not in page.text
        assert 'data-testid="brand">Plain Wellness<' in page.text

    async def test_a_bad_link_is_clinicores_look(self, runtime: Runtime, client: httpx.AsyncClient) -> None:
        visit = await partner_practice_visit(runtime)
        page = await client.get(visit.url.replace("signature=", "signature=x"))
        assert page.status_code == 404
        assert PARTNER_COLOR not in page.text
        assert 'data-testid="brand">Clinicore<' in page.text
