"""The pharmacy desk through HTTP: sign-in, who may use each route, the pharmacy's prescriptions,
confirming (event 2) and shipping (event 3), and bad input answered with the form again."""

from __future__ import annotations

import dataclasses
import re
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select

from clinicore.core.models import Clinic, Event
from clinicore.kit.clock import FrozenClock
from clinicore.runtime import Runtime
from tests.core.telehealth.prescribed import (
    DeskPharmacyUser,
    Prescribed,
    confirmed_test_exam,
    create_pharmacy_user,
    prescribed_exam,
)
from tests.factories import (
    ArrangedPharmacy,
    Catalog,
    create_catalog,
    create_clinic,
    create_partner_pharmacy,
    reload_exam,
)
from tests.web.console.pages import csrf_token
from tests.web.console.pages import sign_in as console_sign_in
from tests.web.provider.desk import create_desk_provider
from tests.web.provider.desk import sign_in as provider_sign_in

SESSION_COOKIE = "clinicore_pharmacy_session"


@dataclasses.dataclass
class Desk:
    runtime: Runtime
    clinic: Clinic
    catalog: Catalog
    pharmacy: ArrangedPharmacy
    user: DeskPharmacyUser

    async def prescribed(self, pharmacy: ArrangedPharmacy | None = None) -> Prescribed:
        return await prescribed_exam(
            self.runtime, self.clinic, self.catalog, pharmacy=pharmacy or self.pharmacy
        )


@pytest.fixture
async def desk(runtime: Runtime) -> Desk:
    clinic = (await create_clinic(runtime, name="Pharmacy Desk Medspa")).clinic
    catalog = await create_catalog(runtime, clinic)
    pharmacy = await create_partner_pharmacy(runtime, clinic, catalog.glp1, name="Evergreen Test Pharmacy")
    return Desk(runtime, clinic, catalog, pharmacy, await create_pharmacy_user(runtime, pharmacy))


async def sign_in(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    page = await client.get("/pharmacy/sign-in")
    return await client.post(
        "/pharmacy/sign-in",
        data={"email": email, "password": password, "csrf_token": csrf_token(page.text), "next": "/pharmacy"},
    )


async def signed_in(client: httpx.AsyncClient, desk: Desk) -> httpx.AsyncClient:
    response = await sign_in(client, desk.user.email, desk.user.password)
    assert response.status_code == 303, response.text
    return client


async def desk_csrf(client: httpx.AsyncClient, path: str = "/pharmacy") -> str:
    page = await client.get(path)
    assert page.status_code == 200, page.text
    return csrf_token(page.text)


def page_of(prescribed: Prescribed) -> str:
    return f"/pharmacy/prescriptions/{prescribed.prescription.id}"


async def confirm(client: httpx.AsyncClient, prescribed: Prescribed) -> httpx.Response:
    page = page_of(prescribed)
    return await client.post(f"{page}/confirm", data={"csrf_token": await desk_csrf(client, page)})


async def ship(client: httpx.AsyncClient, prescribed: Prescribed, **fields: str) -> httpx.Response:
    page = page_of(prescribed)
    data = {"carrier": "UPS", "tracking_number": "1Z999AA10123456784", "delivery_service": "UPS Ground"}
    return await client.post(
        f"{page}/ship", data={"csrf_token": await desk_csrf(client, page), **data, **fields}
    )


async def events_of(runtime: Runtime, prescribed: Prescribed) -> list[Event]:
    async with runtime.sessions() as session:
        result = await session.scalars(
            select(Event)
            .where(Event.aggregate_id == str(prescribed.created.meeting.id))
            .order_by(Event.sequence)
        )
        return list(result)


async def status_of(desk: Desk, prescribed: Prescribed) -> str:
    return (await reload_exam(desk.runtime, prescribed.created.patient_exam)).status


class TestSignIn:
    async def test_signing_in_opens_the_pharmacys_prescriptions_with_a_desk_cookie(
        self, client: httpx.AsyncClient, desk: Desk
    ) -> None:
        prescribed = await desk.prescribed()
        response = await sign_in(client, desk.user.email.upper(), desk.user.password)
        assert response.status_code == 303
        assert response.headers["location"] == "/pharmacy"
        cookie = response.headers["set-cookie"]
        assert f"{SESSION_COOKIE}=" in cookie and "HttpOnly" in cookie and "Path=/pharmacy" in cookie
        page = await client.get("/pharmacy")
        assert page.status_code == 200
        assert page.headers["cache-control"] == "no-store"
        assert "Priya Shah" in page.text and "Evergreen Test Pharmacy" in page.text
        to_confirm = page.text.split('data-testid="to-confirm"')[1].split("</table>")[0]
        assert f'data-prescription-id="{prescribed.prescription.id}"' in to_confirm

    async def test_a_wrong_password_is_refused_without_saying_which_part(
        self, client: httpx.AsyncClient, desk: Desk
    ) -> None:
        for email, password in ((desk.user.email, "not-the-password"), ("nobody@pharmacy.example", "x" * 12)):
            response = await sign_in(client, email, password)
            assert response.status_code == 401
            assert "Wrong email or password." in response.text
        assert (await client.get("/pharmacy")).status_code == 303

    async def test_a_provider_cannot_sign_in_at_the_pharmacy_desk(
        self, client: httpx.AsyncClient, desk: Desk
    ) -> None:
        provider = await create_desk_provider(desk.runtime)
        assert (await sign_in(client, provider.email, provider.password)).status_code == 401

    async def test_a_sign_in_without_the_forms_token_is_rejected(
        self, client: httpx.AsyncClient, desk: Desk
    ) -> None:
        await client.get("/pharmacy/sign-in")
        response = await client.post(
            "/pharmacy/sign-in", data={"email": desk.user.email, "password": desk.user.password}
        )
        assert response.status_code == 403
        assert SESSION_COOKIE not in client.cookies

    async def test_the_next_page_is_only_ever_a_page_of_this_desk(
        self, client: httpx.AsyncClient, desk: Desk
    ) -> None:
        for target, landing in (
            ("//evil.example/pharmacy", "/pharmacy"),
            ("/provider", "/pharmacy"),
            ("/pharmacy-x", "/pharmacy"),
        ):
            page = await client.get("/pharmacy/sign-in")
            response = await client.post(
                "/pharmacy/sign-in",
                data={
                    "email": desk.user.email,
                    "password": desk.user.password,
                    "csrf_token": csrf_token(page.text),
                    "next": target,
                },
            )
            assert response.headers["location"] == landing

    async def test_signing_out_ends_the_session_on_the_server(
        self, client: httpx.AsyncClient, desk: Desk
    ) -> None:
        await signed_in(client, desk)
        token = client.cookies[SESSION_COOKIE]
        response = await client.post("/pharmacy/sign-out", data={"csrf_token": await desk_csrf(client)})
        assert response.status_code == 303
        assert response.headers["location"] == "/pharmacy/sign-in?notice=signed-out"
        assert "You are signed out." in (await client.get(response.headers["location"])).text
        client.cookies.set(SESSION_COOKIE, token, path="/pharmacy")
        assert (await client.get("/pharmacy")).status_code == 303


DESK_ROUTES = [
    ("GET", "/pharmacy"),
    ("GET", "/pharmacy/prescriptions/{id}"),
    ("POST", "/pharmacy/prescriptions/{id}/confirm"),
    ("POST", "/pharmacy/prescriptions/{id}/ship"),
    ("POST", "/pharmacy/sign-out"),
]


class TestWhoMayUseTheDesk:
    @pytest.mark.parametrize(("method", "path"), DESK_ROUTES)
    async def test_every_route_refuses_a_missing_session(
        self, client: httpx.AsyncClient, desk: Desk, method: str, path: str
    ) -> None:
        prescribed = await desk.prescribed()
        response = await client.request(
            method,
            path.format(id=prescribed.prescription.id),
            data={"csrf_token": "x", "carrier": "UPS", "tracking_number": "1"} if method == "POST" else None,
        )
        assert response.status_code == 303
        assert response.headers["location"].startswith("/pharmacy/sign-in?next=/pharmacy")
        assert await status_of(desk, prescribed) == "prescribed"

    @pytest.mark.parametrize("audience", ["console", "provider"])
    @pytest.mark.parametrize(("method", "path"), DESK_ROUTES)
    async def test_every_route_refuses_a_console_users_or_a_providers_session(
        self, client: httpx.AsyncClient, desk: Desk, audience: str, method: str, path: str
    ) -> None:
        if audience == "console":
            console = await create_clinic(desk.runtime)
            assert (await console_sign_in(client, console.email, console.password)).status_code == 303
            token = client.cookies["clinicore_session"]
        else:
            provider = await create_desk_provider(desk.runtime)
            assert (await provider_sign_in(client, provider.email, provider.password)).status_code == 303
            token = client.cookies["clinicore_provider_session"]
        # Even that session's token presented as the pharmacy desk's cookie opens nothing.
        client.cookies.set(SESSION_COOKIE, token, path="/pharmacy")
        prescribed = await desk.prescribed()
        response = await client.request(
            method,
            path.format(id=prescribed.prescription.id),
            data={"csrf_token": "x"} if method == "POST" else None,
        )
        assert response.status_code == 303
        assert response.headers["location"].startswith("/pharmacy/sign-in")
        assert await status_of(desk, prescribed) == "prescribed"

    async def test_another_pharmacys_prescription_is_403_and_cannot_be_confirmed_or_shipped(
        self, client: httpx.AsyncClient, desk: Desk
    ) -> None:
        elsewhere = await create_partner_pharmacy(
            desk.runtime, desk.clinic, desk.catalog.glp1, name="Rival Pharmacy"
        )
        theirs = await desk.prescribed(elsewhere)
        await signed_in(client, desk)
        assert f'data-prescription-id="{theirs.prescription.id}"' not in (await client.get("/pharmacy")).text
        page = await client.get(page_of(theirs))
        assert page.status_code == 403
        assert "another pharmacy" in page.text and "Jane" not in page.text
        token = await desk_csrf(client)
        for action in ("confirm", "ship"):
            response = await client.post(
                f"{page_of(theirs)}/{action}",
                data={"csrf_token": token, "carrier": "UPS", "tracking_number": "1Z1"},
            )
            assert response.status_code == 403
        assert await status_of(desk, theirs) == "prescribed"

    async def test_an_unknown_or_test_exams_prescription_is_404(
        self, client: httpx.AsyncClient, desk: Desk
    ) -> None:
        clock = FrozenClock(datetime(2032, 1, 1, tzinfo=UTC))
        test_exam = await confirmed_test_exam(
            dataclasses.replace(desk.runtime, clock=clock), clock, desk.clinic, desk.catalog, desk.pharmacy
        )
        await signed_in(client, desk)
        assert (await client.get(f"/pharmacy/prescriptions/{uuid.uuid4()}")).status_code == 404
        assert (await client.get(page_of(test_exam))).status_code == 404
        assert (await client.get("/pharmacy/prescriptions/not-a-uuid")).status_code < 500


class TestConfirmingAndShipping:
    async def test_the_prescription_page_shows_the_order_and_where_it_ships(
        self, client: httpx.AsyncClient, desk: Desk
    ) -> None:
        prescribed = await desk.prescribed()
        await signed_in(client, desk)
        page = await client.get(page_of(prescribed))
        assert page.status_code == 200
        assert "Jane Doe" in page.text and "Semaglutide" in page.text and "Ondansetron" in page.text
        assert "Ship to: 1 Main St, Albany, NY 12207" in page.text
        assert "licence NY NY-123456" in page.text
        assert "Confirm prescription" in page.text and "Save shipment" not in page.text

    async def test_confirming_emits_event_2_then_shipping_emits_event_3(
        self, client: httpx.AsyncClient, desk: Desk
    ) -> None:
        prescribed = await desk.prescribed()
        await signed_in(client, desk)
        confirmed = await confirm(client, prescribed)
        assert confirmed.status_code == 303
        assert confirmed.headers["location"] == f"{page_of(prescribed)}?notice=confirmed"
        assert await status_of(desk, prescribed) == "confirmed_by_pharmacy"
        assert (await events_of(desk.runtime, prescribed))[-1].type == "prescription.confirmed"
        shown = (await client.get(confirmed.headers["location"])).text
        assert "Prescription confirmed" in shown and "Save shipment" in shown

        shipped = await ship(client, prescribed)
        assert shipped.status_code == 303
        assert shipped.headers["location"] == f"{page_of(prescribed)}?notice=shipped"
        assert await status_of(desk, prescribed) == "shipped"
        event = (await events_of(desk.runtime, prescribed))[-1]
        assert event.type == "prescription.shipped"
        assert event.payload["shipments"][0]["tracking_number"] == "1Z999AA10123456784"
        assert event.payload["shipments"][0]["carrier"] == "UPS"
        shown = (await client.get("/pharmacy")).text
        assert (
            f'data-prescription-id="{prescribed.prescription.id}"' in shown.split('data-testid="shipped"')[1]
        )

    async def test_confirming_twice_says_why_with_409(self, client: httpx.AsyncClient, desk: Desk) -> None:
        prescribed = await desk.prescribed()
        await signed_in(client, desk)
        page = page_of(prescribed)
        token = await desk_csrf(client, page)
        assert (await client.post(f"{page}/confirm", data={"csrf_token": token})).status_code == 303
        again = await client.post(f"{page}/confirm", data={"csrf_token": token})
        assert again.status_code == 409
        assert "the pharmacy can confirm only a prescribed exam" in again.text
        assert [event.type for event in await events_of(desk.runtime, prescribed)].count(
            "prescription.confirmed"
        ) == 1

    @pytest.mark.parametrize(
        ("fields", "status", "reason"),
        [
            ({"tracking_number": ""}, 400, "tracking_number: must not be empty"),
            ({"carrier": ""}, 400, "carrier: must not be empty"),
            ({"carrier": "C" * 51}, 400, "carrier: at most 50 characters"),
            ({"tracking_number": "1" * 101}, 400, "tracking_number: at most 100 characters"),
            ({"delivery_service": "D" * 101}, 400, "delivery_service: at most 100 characters"),
        ],
    )
    async def test_a_bad_shipment_is_the_form_again_with_the_reason(
        self, client: httpx.AsyncClient, desk: Desk, fields: dict[str, str], status: int, reason: str
    ) -> None:
        prescribed = await desk.prescribed()
        await signed_in(client, desk)
        assert (await confirm(client, prescribed)).status_code == 303
        response = await ship(client, prescribed, **fields)
        assert response.status_code == status
        assert reason in response.text
        assert "Save shipment" in response.text
        assert await status_of(desk, prescribed) == "confirmed_by_pharmacy"

    async def test_shipping_before_confirming_is_refused(self, client: httpx.AsyncClient, desk: Desk) -> None:
        prescribed = await desk.prescribed()
        await signed_in(client, desk)
        response = await ship(client, prescribed)
        assert response.status_code == 409
        assert "only a prescription the pharmacy confirmed can ship" in response.text
        assert await status_of(desk, prescribed) == "prescribed"

    async def test_a_form_without_the_sessions_token_is_rejected(
        self, client: httpx.AsyncClient, desk: Desk
    ) -> None:
        prescribed = await desk.prescribed()
        await signed_in(client, desk)
        for action in ("confirm", "ship"):
            response = await client.post(
                f"{page_of(prescribed)}/{action}",
                data={"csrf_token": "forged", "carrier": "UPS", "tracking_number": "1Z1"},
            )
            assert response.status_code == 403
        assert await status_of(desk, prescribed) == "prescribed"
        assert (
            re.search(
                r"prescription\.(confirmed|shipped)",
                str([e.type for e in await events_of(desk.runtime, prescribed)]),
            )
            is None
        )
