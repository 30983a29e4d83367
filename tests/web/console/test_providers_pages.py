"""The console's providers admin through HTTP: adding a provider who then signs in at the provider desk,
licences with numbers and expiry (an expired one shown as expired and counting as none), the medical
director flag, deactivation, and another clinic's provider answering as a missing one."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

import httpx

from clinicore.runtime import Runtime
from tests.factories import create_clinic
from tests.web.console.pages import csrf_token, page_csrf, sign_in
from tests.web.provider.desk import sign_in as desk_sign_in

_PROVIDER_LOCATION = re.compile(r"^/console/providers/([0-9a-f-]{36})\?notice=added$")
PASSWORD = "correct horse battery"


def licence_rows(html: str) -> dict[str, str]:
    """state -> "yes" when the licence counts today, "no" when expired."""
    return dict(re.findall(r'data-state="([A-Z]{2})" data-counts="(yes|no)"', html))


def licensed_now(html: str) -> str:
    match = re.search(r'data-testid="licensed-now">([^<]*)<', html)
    assert match
    return match.group(1)


async def add_provider(client: httpx.AsyncClient, **fields: str) -> str:
    email = fields.pop("email", f"dr-{secrets.token_hex(4)}@providers.example")
    response = await client.post(
        "/console/providers",
        data={
            "name": "Dr. Liza Park",
            "credentials": "NP",
            "npi": "1234567893",
            "email": email,
            "password": PASSWORD,
            "csrf_token": await page_csrf(client, "/console/providers"),
        }
        | fields,
    )
    assert response.status_code == 303, response.text
    match = _PROVIDER_LOCATION.match(response.headers["location"])
    assert match
    return match.group(1)


async def post(client: httpx.AsyncClient, path: str, **fields: str) -> httpx.Response:
    token = await page_csrf(client, "/console/providers")
    return await client.post(path, data={"csrf_token": token} | fields)


class TestProviders:
    async def test_an_added_provider_is_listed_and_signs_in_at_the_desk(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        await sign_in(client, arranged.email, arranged.password)
        email = f"dr-{secrets.token_hex(4)}@providers.example"
        provider_id = await add_provider(client, email=email)
        page = await client.get(f"/console/providers/{provider_id}?notice=added")
        assert "Provider added." in page.text and licensed_now(page.text) == "none"
        listed = await client.get("/console/providers")
        assert f'data-provider-id="{provider_id}"' in listed.text and email in listed.text

        async with httpx.AsyncClient(transport=client._transport, base_url="http://testserver") as desk:
            signed_in = await desk_sign_in(desk, email.upper(), PASSWORD)
            assert signed_in.status_code == 303 and signed_in.headers["location"] == "/provider"

    async def test_licences_with_number_and_expiry_an_expired_one_counts_as_none(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        await sign_in(client, arranged.email, arranged.password)
        provider_id = await add_provider(client)
        today = runtime.clock.now().date()
        path = f"/console/providers/{provider_id}/licenses"
        saved = await post(
            client,
            path,
            state="ny",
            license_number="NY-123456",
            expires_on=(today + timedelta(days=365)).isoformat(),
        )
        assert saved.status_code == 303
        await post(
            client,
            path,
            state="CA",
            license_number="CA-1",
            expires_on=(today - timedelta(days=1)).isoformat(),
        )
        page = await client.get(f"/console/providers/{provider_id}")
        assert licence_rows(page.text) == {"CA": "no", "NY": "yes"}
        assert "NY-123456" in page.text and "expired: counts as none" in page.text
        assert licensed_now(page.text) == "NY"
        # Renewing the licence makes it count again; removing one takes it away.
        await post(
            client,
            path,
            state="CA",
            license_number="CA-1",
            expires_on=(today + timedelta(days=30)).isoformat(),
        )
        assert licensed_now((await client.get(f"/console/providers/{provider_id}")).text) == "CA, NY"
        removed = await post(client, f"{path}/NY/remove")
        assert removed.status_code == 303
        assert licence_rows((await client.get(f"/console/providers/{provider_id}")).text) == {"CA": "yes"}

    async def test_a_licence_that_does_not_read_is_refused_with_the_reason(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        await sign_in(client, arranged.email, arranged.password)
        provider_id = await add_provider(client)
        path = f"/console/providers/{provider_id}/licenses"
        for fields, message in (
            ({"state": "ZZ"}, "state: a two-letter U.S. state code such as NY"),
            ({"state": "NY", "expires_on": "2031-02-30"}, "expires_on: enter a date as YYYY-MM-DD"),
            ({"state": "NY", "license_number": "x" * 51}, "license_number: at most 50 characters"),
            ({"state": "x" * 5000}, "state: at most 10 characters"),
            ({"state": "NY", "license_number": "A\x00B"}, "license_number: contains a control character"),
        ):
            refused = await post(client, path, **fields)
            assert refused.status_code == 400 and message in refused.text, fields
        assert licence_rows((await client.get(f"/console/providers/{provider_id}")).text) == {}

    async def test_adding_refuses_a_short_password_a_bad_npi_and_a_taken_email(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        await sign_in(client, arranged.email, arranged.password)
        email = f"dr-{secrets.token_hex(4)}@providers.example"
        token = await page_csrf(client, "/console/providers")
        base = {"name": "Dr. Ann Lee", "email": email, "password": PASSWORD, "csrf_token": token}
        short = await client.post("/console/providers", data=base | {"password": "short"})
        assert short.status_code == 400 and "password: must be at least 10 characters" in short.text
        assert "short" not in re.findall(r'name="password"[^>]*value="([^"]*)"', short.text)
        npi = await client.post("/console/providers", data=base | {"npi": "12ab"})
        assert npi.status_code == 400 and "npi: the NPI is 10 digits" in npi.text
        nul = await client.post("/console/providers", data=base | {"name": "Dr.\x00Evil"})
        assert nul.status_code == 400 and "name: contains a control character" in nul.text
        assert email not in (await client.get("/console/providers")).text.split("Add a provider")[0]
        await add_provider(client, email=email)
        taken = await client.post("/console/providers", data=base | {"email": email.upper()})
        assert taken.status_code == 400 and "a provider account with this email already exists" in taken.text

    async def test_medical_director_flag_and_deactivation(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        await sign_in(client, arranged.email, arranged.password)
        email = f"dr-{secrets.token_hex(4)}@providers.example"
        provider_id = await add_provider(client, email=email)
        saved = await post(
            client, f"/console/providers/{provider_id}", name="Dr. Liza Park", medical_director="on"
        )
        assert saved.status_code == 303
        listed = await client.get("/console/providers")
        assert re.search(rf'data-provider-id="{provider_id}">.*?<td>yes</td>', listed.text, re.S)
        off = await post(client, f"/console/providers/{provider_id}/deactivate")
        assert off.status_code == 303
        page = await client.get(f"/console/providers/{provider_id}")
        assert 'data-testid="provider-status">deactivated<' in page.text
        again = await post(client, f"/console/providers/{provider_id}/deactivate")
        assert again.status_code == 400 and "provider: already deactivated" in again.text
        async with httpx.AsyncClient(transport=client._transport, base_url="http://testserver") as desk:
            assert (await desk_sign_in(desk, email, PASSWORD)).status_code != 303
        assert (await post(client, f"/console/providers/{provider_id}/reactivate")).status_code == 303
        async with httpx.AsyncClient(transport=client._transport, base_url="http://testserver") as desk:
            assert (await desk_sign_in(desk, email, PASSWORD)).status_code == 303

    async def test_a_new_password_replaces_the_old_one(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        await sign_in(client, arranged.email, arranged.password)
        email = f"dr-{secrets.token_hex(4)}@providers.example"
        provider_id = await add_provider(client, email=email)
        changed = await post(
            client, f"/console/providers/{provider_id}/password", password="another long one"
        )
        assert changed.status_code == 303
        async with httpx.AsyncClient(transport=client._transport, base_url="http://testserver") as desk:
            assert (await desk_sign_in(desk, email, PASSWORD)).status_code != 303
            assert (await desk_sign_in(desk, email, "another long one")).status_code == 303

    async def test_another_clinics_provider_is_not_found(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        theirs = await create_clinic(runtime)
        await sign_in(client, theirs.email, theirs.password)
        their_provider = await add_provider(client)
        mine = await create_clinic(runtime)
        await sign_in(client, mine.email, mine.password)
        assert their_provider not in (await client.get("/console/providers")).text
        assert (await client.get(f"/console/providers/{their_provider}")).status_code == 404
        for path, fields in (
            (f"/console/providers/{their_provider}/deactivate", {}),
            (f"/console/providers/{their_provider}/licenses", {"state": "NY"}),
            (f"/console/providers/{their_provider}/password", {"password": "taken over!!"}),
            (f"/console/providers/{their_provider}", {"name": "Mine now"}),
        ):
            assert (await post(client, path, **fields)).status_code == 404, path
        for bad in ("nope", "1" * 400):
            assert (await client.get(f"/console/providers/{bad}")).status_code == 404

    async def test_forms_without_the_csrf_token_change_nothing(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        await sign_in(client, arranged.email, arranged.password)
        provider_id = await add_provider(client)
        forged = await client.post(f"/console/providers/{provider_id}/licenses", data={"state": "NY"})
        assert forged.status_code == 403
        assert (await client.post(f"/console/providers/{provider_id}/deactivate")).status_code == 403
        page = await client.get(f"/console/providers/{provider_id}")
        assert licence_rows(page.text) == {} and 'provider-status">active<' in page.text
        assert csrf_token(page.text)
