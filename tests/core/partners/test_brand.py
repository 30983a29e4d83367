"""The partner's white-label settings: every value checked and normalised before it reaches a page, a
header or a link; a host dresses one partner only; nothing changes when one value is refused."""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import select

from clinicore.core.models import AuditEntry, Partner
from clinicore.core.partners import brand
from clinicore.core.partners.brand import BrandSettings
from clinicore.core.tenancy import service as tenancy_service
from clinicore.core.tenancy.brand import brand_of
from clinicore.kit.errors import InvalidInput
from clinicore.runtime import Runtime


async def new_partner(runtime: Runtime) -> Partner:
    async with runtime.sessions() as session, session.begin():
        return await tenancy_service.create_partner(session, name=f"P {secrets.token_hex(4)}")


class TestValues:
    @pytest.mark.parametrize(
        ("raw", "stored"),
        [("#AABBCC", "#aabbcc"), (" #012345 ", "#012345"), ("", None)],
    )
    def test_colours_are_rrggbb_lower_cased(self, raw: str, stored: str | None) -> None:
        assert brand.color(raw) == stored

    @pytest.mark.parametrize("raw", ["red", "#abc", "#GGGGGG", "#aabbccdd", "aabbcc", "#aabbcc;x"])
    def test_anything_else_is_not_a_colour(self, raw: str) -> None:
        with pytest.raises(InvalidInput, match="color: must be a colour written #rrggbb"):
            brand.color(raw)

    def test_a_logo_is_an_https_url(self) -> None:
        assert brand.logo_url(" https://cdn.example/logo.png ") == "https://cdn.example/logo.png"
        assert brand.logo_url("") is None

    @pytest.mark.parametrize(
        "raw",
        [
            "http://cdn.example/logo.png",
            "javascript:alert(1)",
            "data:image/png;base64,AAAA",
            "https://",
            "https://user:pw@cdn.example/logo.png",
            "https://cdn.example/a b.png",
            'https://cdn.example/"onerror=x',
            "https://cdn.example:99999/logo.png",
            "https://cdn.example/" + "a" * 500,
        ],
    )
    def test_a_logo_that_is_not_a_plain_https_url_is_refused(self, raw: str) -> None:
        with pytest.raises(InvalidInput) as refused:
            brand.logo_url(raw)
        assert refused.value.field == "logo_url"

    def test_host_names_are_lower_cased_without_trailing_dot_or_duplicates(self) -> None:
        assert brand.hosts([" Forms.Acme.Example. ", "forms.acme.example", "10.0.0.7"], "host_names") == [
            "forms.acme.example",
            "10.0.0.7",
        ]

    @pytest.mark.parametrize(
        "raw",
        [
            "bad host",
            "-a.example",
            "a-.example",
            "a..example",
            "a_b.example",
            "1.2.3.300",
            "x" * 64 + ".io",
            "::1",
        ],
    )
    def test_a_host_name_must_be_a_dns_name_or_an_ipv4_address(self, raw: str) -> None:
        with pytest.raises(InvalidInput) as refused:
            brand.hosts([raw], "host_names")
        assert refused.value.field == "host_names"

    def test_a_redirect_host_may_be_an_ipv6_address(self) -> None:
        assert brand.hosts(["::1"], "allowed_redirect_hosts", allow_ipv6=True) == ["::1"]

    def test_at_most_twenty_hosts(self) -> None:
        with pytest.raises(InvalidInput, match="at most 20"):
            brand.hosts([f"h{n}.example" for n in range(21)], "host_names")

    @pytest.mark.parametrize(
        ("raw", "stored"),
        [
            ("https://App.Acme.example", "https://app.acme.example"),
            ("https://app.acme.example:443/", "https://app.acme.example"),
            ("https://app.acme.example:8443", "https://app.acme.example:8443"),
            ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
            ("http://localhost:3000", "http://localhost:3000"),
        ],
    )
    def test_frame_origins_are_exact_origins(self, raw: str, stored: str) -> None:
        assert brand.frame_origins([raw]) == [stored]

    @pytest.mark.parametrize(
        "raw",
        [
            "http://app.acme.example",
            "https://*.acme.example",
            "https://app.acme.example/embed",
            "https://app.acme.example?x=1",
            "https://app.acme.example#top",
            "https://u:p@app.acme.example",
            "*",
            "'self'",
            "https://app.acme.example; script-src *",
            "javascript:alert(1)",
            "https://[::1]:8000",
        ],
    )
    def test_anything_but_an_exact_origin_is_refused(self, raw: str) -> None:
        with pytest.raises(InvalidInput) as refused:
            brand.frame_origins([raw])
        assert refused.value.field == "frame_origins"

    def test_the_notification_url_holds_the_form_id_placeholder(self) -> None:
        url = "https://app.acme.example/forms/[form-id]"
        assert brand.form_notification_url(url) == url
        with pytest.raises(InvalidInput, match=r"must contain \[form-id\]"):
            brand.form_notification_url("https://app.acme.example/forms")
        with pytest.raises(InvalidInput):
            brand.form_notification_url("mailto:x@y.example?[form-id]")


class TestUpdateBrand:
    async def test_the_brand_is_stored_and_worn_by_the_partners_clinics(self, runtime: Runtime) -> None:
        partner = await new_partner(runtime)
        async with runtime.sessions() as session, session.begin():
            await brand.update_brand(
                session,
                partner_id=partner.id,
                settings=BrandSettings(
                    brand_name=" Acme Health Forms ",
                    color="#AA3300",
                    host_names=["Forms.Acme.example"],
                    allowed_redirect_hosts=["127.0.0.1"],
                    frame_origins=["http://127.0.0.1:8000"],
                ),
            )
            clinic = await tenancy_service.create_clinic(
                session, name="Harbor", time_zone="America/New_York", partner_id=partner.id
            )
            stored = await session.get(Partner, partner.id)
            assert stored is not None
            worn = brand_of(clinic, stored)
            entries = (
                await session.scalars(select(AuditEntry).where(AuditEntry.action == "partner.brand_changed"))
            ).all()
        assert (worn.partner_name, worn.color, worn.host_name) == (
            "Acme Health Forms",
            "#aa3300",
            "forms.acme.example",
        )
        assert worn.redirect_allowed("http://127.0.0.1:8000/done") and not worn.redirect_allowed(
            "https://evil.example"
        )
        assert any(entry.target_id == str(partner.id) for entry in entries)

    async def test_one_refused_value_changes_nothing(self, runtime: Runtime) -> None:
        partner = await new_partner(runtime)
        async with runtime.sessions() as session:
            with pytest.raises(InvalidInput):
                await brand.update_brand(
                    session,
                    partner_id=partner.id,
                    settings=BrandSettings(
                        brand_name="Acme", color="#aa3300", frame_origins=["http://evil.example"]
                    ),
                )
            await session.rollback()
            stored = await session.get(Partner, partner.id)
            assert stored is not None and stored.brand_name is None

    async def test_a_host_another_partner_serves_is_refused(self, runtime: Runtime) -> None:
        first, second = await new_partner(runtime), await new_partner(runtime)
        host = f"forms-{secrets.token_hex(4)}.example"
        async with runtime.sessions() as session, session.begin():
            await brand.update_brand(session, partner_id=first.id, settings=BrandSettings(host_names=[host]))
        async with runtime.sessions() as session, session.begin():
            with pytest.raises(InvalidInput, match="is served by another partner"):
                await brand.update_brand(
                    session, partner_id=second.id, settings=BrandSettings(host_names=[host.upper()])
                )
        async with runtime.sessions() as session, session.begin():
            # the partner itself may save its own host again
            await brand.update_brand(session, partner_id=first.id, settings=BrandSettings(host_names=[host]))
