"""Every console route as a staff user, as an admin and signed out: what core/tenancy/permissions.py says.

The table below names every console route of the app; a route that is not in it fails the test, so a new
route cannot ship without a decision.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from clinicore.core.models import ClinicUserRole
from clinicore.core.tenancy import permissions as permission_table
from clinicore.core.tenancy import service as tenancy_service
from clinicore.core.tenancy.permissions import Permission
from clinicore.runtime import Runtime
from tests.factories import create_clinic
from tests.support import remember_secret
from tests.web.console.pages import csrf_token, sign_in

STAFF = True  # a staff user may use the route
ADMIN_ONLY = False

# (method, path) -> may a console user of role "staff" use it?
STAFF_MAY: dict[tuple[str, str], bool] = {
    ("GET", "/console"): STAFF,
    # keys (the retrievable Qualiphy and IntakeQ keys included), webhooks: the admin's
    ("GET", "/console/keys"): ADMIN_ONLY,
    ("POST", "/console/keys"): ADMIN_ONLY,
    ("POST", "/console/keys/{key_id}/revoke"): ADMIN_ONLY,
    ("GET", "/console/webhooks"): ADMIN_ONLY,
    ("POST", "/console/webhooks"): ADMIN_ONLY,
    ("GET", "/console/webhooks/{endpoint_id}"): ADMIN_ONLY,
    ("POST", "/console/webhooks/{endpoint_id}/test"): ADMIN_ONLY,
    ("POST", "/console/webhooks/{endpoint_id}/rotate-secret"): ADMIN_ONLY,
    ("POST", "/console/webhooks/{endpoint_id}/disable"): ADMIN_ONLY,
    ("POST", "/console/webhooks/{endpoint_id}/enable"): ADMIN_ONLY,
    ("POST", "/console/webhooks/{endpoint_id}/strict-order"): ADMIN_ONLY,
    ("POST", "/console/webhooks/{endpoint_id}/replay"): ADMIN_ONLY,
    ("POST", "/console/webhooks/{endpoint_id}/events/{event_id}/replay"): ADMIN_ONLY,
    ("POST", "/console/webhooks/{endpoint_id}/delete"): ADMIN_ONLY,
    # the people who sign in or work at the practice: the admin's
    ("GET", "/console/staff"): ADMIN_ONLY,
    ("POST", "/console/staff"): ADMIN_ONLY,
    ("GET", "/console/staff/{practitioner_id}"): ADMIN_ONLY,
    ("POST", "/console/staff/{practitioner_id}"): ADMIN_ONLY,
    ("POST", "/console/staff/{practitioner_id}/disable"): ADMIN_ONLY,
    ("POST", "/console/staff/{practitioner_id}/enable"): ADMIN_ONLY,
    ("POST", "/console/staff/{practitioner_id}/delete"): ADMIN_ONLY,
    ("POST", "/console/staff/{practitioner_id}/transfer-clients"): ADMIN_ONLY,
    ("POST", "/console/staff/{practitioner_id}/transfer-data"): ADMIN_ONLY,
    ("GET", "/console/assistants"): ADMIN_ONLY,
    ("POST", "/console/assistants"): ADMIN_ONLY,
    ("GET", "/console/assistants/{assistant_id}"): ADMIN_ONLY,
    ("POST", "/console/assistants/{assistant_id}"): ADMIN_ONLY,
    ("POST", "/console/assistants/{assistant_id}/disable"): ADMIN_ONLY,
    ("POST", "/console/assistants/{assistant_id}/delete"): ADMIN_ONLY,
    ("GET", "/console/providers"): ADMIN_ONLY,
    ("POST", "/console/providers"): ADMIN_ONLY,
    ("GET", "/console/providers/{provider_id}"): ADMIN_ONLY,
    ("POST", "/console/providers/{provider_id}"): ADMIN_ONLY,
    ("POST", "/console/providers/{provider_id}/password"): ADMIN_ONLY,
    ("POST", "/console/providers/{provider_id}/deactivate"): ADMIN_ONLY,
    ("POST", "/console/providers/{provider_id}/reactivate"): ADMIN_ONLY,
    ("POST", "/console/providers/{provider_id}/licenses"): ADMIN_ONLY,
    ("POST", "/console/providers/{provider_id}/licenses/{state}/remove"): ADMIN_ONLY,
    # settings and form templates: the admin's
    ("GET", "/console/settings"): ADMIN_ONLY,
    ("POST", "/console/settings"): ADMIN_ONLY,
    ("GET", "/console/booking-widget"): ADMIN_ONLY,
    ("POST", "/console/booking-widget"): ADMIN_ONLY,
    ("GET", "/console/services"): ADMIN_ONLY,
    ("POST", "/console/services/{service_id}"): ADMIN_ONLY,
    ("GET", "/console/forms"): ADMIN_ONLY,
    ("GET", "/console/forms/new"): ADMIN_ONLY,
    ("POST", "/console/forms/new"): ADMIN_ONLY,
    ("GET", "/console/forms/{form_id}"): ADMIN_ONLY,
    ("GET", "/console/forms/{form_id}/edit"): ADMIN_ONLY,
    ("POST", "/console/forms/{form_id}/edit"): ADMIN_ONLY,
    ("POST", "/console/forms/{form_id}/archive"): ADMIN_ONLY,
    ("POST", "/console/forms/{form_id}/unarchive"): ADMIN_ONLY,
    # the practice's daily work: staff too
    ("GET", "/console/calendar"): STAFF,
    ("POST", "/console/calendar/appointments"): STAFF,
    ("POST", "/console/calendar/appointments/{appointment_id}/cancel"): STAFF,
    ("POST", "/console/calendar/appointments/{appointment_id}/confirm"): STAFF,
    ("POST", "/console/calendar/appointments/{appointment_id}/decline"): STAFF,
    ("POST", "/console/calendar/appointments/{appointment_id}/missed"): STAFF,
    ("POST", "/console/calendar/appointments/{appointment_id}/delete"): STAFF,
    ("GET", "/console/availability"): STAFF,
    ("POST", "/console/availability/rules"): STAFF,
    ("POST", "/console/availability/calendar-feed"): STAFF,
    ("POST", "/console/practitioners"): STAFF,
    ("GET", "/console/practitioners/{practitioner_id}"): STAFF,
    ("POST", "/console/practitioners/{practitioner_id}/hours"): STAFF,
    ("POST", "/console/practitioners/{practitioner_id}/overrides"): STAFF,
    ("POST", "/console/practitioners/{practitioner_id}/overrides/clear"): STAFF,
    ("POST", "/console/practitioners/{practitioner_id}/calendar-feed"): STAFF,
    ("GET", "/console/leads"): STAFF,
    ("GET", "/console/leads/{lead_id}"): STAFF,
    ("POST", "/console/leads/{lead_id}/appointments"): STAFF,
    ("GET", "/console/agents"): STAFF,
    ("POST", "/console/agents"): STAFF,
    ("POST", "/console/agents/{agent_id}"): STAFF,
    ("GET", "/console/campaigns"): STAFF,
    ("POST", "/console/campaigns"): STAFF,
    ("GET", "/console/campaigns/{campaign_id}"): STAFF,
    ("POST", "/console/campaigns/{campaign_id}/status"): STAFF,
    ("POST", "/console/campaigns/{campaign_id}/contacts"): STAFF,
    ("GET", "/console/campaigns/{campaign_id}/contacts/{contact_id}"): STAFF,
    ("POST", "/console/campaigns/{campaign_id}/contacts/{contact_id}/attempts"): STAFF,
    ("GET", "/console/exams"): STAFF,
    ("GET", "/console/exams/{patient_exam_id}"): STAFF,
    ("POST", "/console/exams/{patient_exam_id}/cancel"): STAFF,
    ("POST", "/console/exams/{patient_exam_id}/resend"): STAFF,
    ("GET", "/console/notifications"): STAFF,
    ("POST", "/console/notifications"): STAFF,
    ("GET", "/console/prescriptions"): STAFF,
    ("GET", "/console/prescriptions/{prescription_id}"): STAFF,
    ("GET", "/console/prescriptions/{prescription_id}/prescription.pdf"): STAFF,
    ("POST", "/console/prescriptions/{prescription_id}/transmitted"): STAFF,
    ("GET", "/console/patients"): STAFF,
    ("GET", "/console/patients/{client_id}"): STAFF,
    ("GET", "/console/intakes"): STAFF,
    ("GET", "/console/intakes/{intake_id}"): STAFF,
    ("GET", "/console/intakes/{intake_id}/pdf"): STAFF,
    ("GET", "/console/intakes/{intake_id}/files/{file_id}"): STAFF,
    ("GET", "/console/reports"): STAFF,
}

_PARAM = re.compile(r"{([a-z_]+)}")
REFUSED = "Your role may not"


def _api_routes(routes: Sequence[BaseRoute], prefix: str = "") -> Iterator[tuple[str, APIRoute]]:
    """Every APIRoute with its full path, included routers walked into (FastAPI keeps them apart)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield prefix + route.path, route
        included = getattr(route, "original_router", None)
        if included is not None:
            context = getattr(route, "include_context", None)
            yield from _api_routes(included.routes, prefix + (getattr(context, "prefix", "") or ""))


def console_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, path) of the app's console pages."""
    found = set()
    for path, route in _api_routes(app.routes):
        if path == "/console" or path.startswith("/console/"):
            found |= {(method, path) for method in route.methods if method != "HEAD"}
    assert found, "no console route found: has the app's route structure changed?"
    return sorted(found)


def concrete(path: str) -> str:
    """The path with made-up ids (an id that does not exist is fine: only the permission is tested)."""
    return _PARAM.sub(lambda match: "CA" if match.group(1) == "state" else str(uuid.uuid4()), path)


@dataclass(frozen=True, slots=True)
class SignedIn:
    client: httpx.AsyncClient
    csrf: str


async def signed_in_as(client: httpx.AsyncClient, runtime: Runtime, role: ClinicUserRole) -> SignedIn:
    clinic = await create_clinic(runtime)
    email = f"{role.value}-{secrets.token_hex(4)}@clinic.example"
    password = remember_secret(f"pw-{secrets.token_urlsafe(12)}")
    async with runtime.sessions() as session, session.begin():
        await tenancy_service.create_user(
            session, clinic_id=clinic.clinic.id, email=email, name="Someone", password=password, role=role
        )
    assert (await sign_in(client, email, password)).status_code == 303
    dashboard = await client.get("/console")
    assert dashboard.status_code == 200
    return SignedIn(client, csrf_token(dashboard.text))


async def call(signed_in: SignedIn, method: str, path: str) -> httpx.Response:
    if method == "GET":
        return await signed_in.client.get(concrete(path))
    return await signed_in.client.post(concrete(path), data={"csrf_token": signed_in.csrf})


class TestTheTableNamesEveryRoute:
    def test_every_console_route_has_a_decision(self, app: FastAPI) -> None:
        undecided = [route for route in console_routes(app) if route not in STAFF_MAY]
        assert undecided == [], "add these routes to STAFF_MAY (and give them a permission)"

    def test_the_table_names_no_route_that_is_gone(self, app: FastAPI) -> None:
        assert set(STAFF_MAY) - set(console_routes(app)) == set()


def declared_permissions(dependant: Dependant) -> set[Permission]:
    found = set()
    for sub in dependant.dependencies:
        permission = getattr(sub.call, "required_permission", None)
        if permission is not None:
            found.add(permission)
        found |= declared_permissions(sub)
    return found


class TestEachRouteDeclaresItsPermission:
    def test_every_console_route_but_the_dashboard_requires_a_permission(self, app: FastAPI) -> None:
        undeclared = [
            (sorted(route.methods), path)
            for path, route in _api_routes(app.routes)
            if path.startswith("/console/") and not declared_permissions(route.dependant)
        ]
        assert undeclared == []

    def test_the_declared_permission_is_one_staff_holds_exactly_where_the_table_allows_staff(
        self, app: FastAPI
    ) -> None:
        staff = permission_table.of_console_role(ClinicUserRole.staff)
        disagreeing = [
            (method, path)
            for path, route in _api_routes(app.routes)
            for method in route.methods - {"HEAD"}
            if (method, path) in STAFF_MAY
            and declared_permissions(route.dependant)
            and STAFF_MAY[(method, path)] != (declared_permissions(route.dependant) <= staff)
        ]
        assert disagreeing == []


class TestStaff:
    async def test_each_route_is_allowed_or_a_403_as_the_table_says(
        self, app: FastAPI, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        staff = await signed_in_as(client, runtime, ClinicUserRole.staff)
        wrong = []
        for method, path in console_routes(app):
            response = await call(staff, method, path)
            refused = response.status_code == 403 and REFUSED in response.text
            assert response.status_code < 500, (method, path, response.status_code)
            assert response.status_code != 303 or "/login" not in response.headers.get("location", "")
            if refused == STAFF_MAY.get((method, path), STAFF):
                wrong.append((method, path, response.status_code))
        assert wrong == []

    async def test_the_keys_page_and_its_retrievable_keys_are_not_shown(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        staff = await signed_in_as(client, runtime, ClinicUserRole.staff)
        response = await staff.client.get("/console/keys")
        assert response.status_code == 403
        assert "qualiphy" not in response.text.lower()

    async def test_a_staff_user_cannot_create_a_key(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        staff = await signed_in_as(client, runtime, ClinicUserRole.staff)
        response = await staff.client.post(
            "/console/keys", data={"kind": "native", "name": "mine", "csrf_token": staff.csrf}
        )
        assert response.status_code == 403
        assert "ck_" not in response.text

    async def test_the_navigation_shows_only_the_pages_staff_may_use(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        staff = await signed_in_as(client, runtime, ClinicUserRole.staff)
        nav = (await staff.client.get("/console")).text.split('<nav id="nav"', 1)[1].split("</nav>", 1)[0]
        for page in ("/console/calendar", "/console/leads", "/console/exams", "/console/patients"):
            assert f'href="{page}"' in nav
        for page in ("/console/keys", "/console/webhooks", "/console/staff", "/console/settings"):
            assert f'href="{page}"' not in nav


class TestAdmin:
    async def test_every_route_is_allowed(
        self, app: FastAPI, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        admin = await signed_in_as(client, runtime, ClinicUserRole.admin)
        refused = []
        for method, path in console_routes(app):
            response = await call(admin, method, path)
            assert response.status_code < 500, (method, path, response.status_code)
            if response.status_code == 403 and REFUSED in response.text:
                refused.append((method, path))
        assert refused == []

    async def test_the_navigation_shows_every_page(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        admin = await signed_in_as(client, runtime, ClinicUserRole.admin)
        nav = (await admin.client.get("/console")).text.split('<nav id="nav"', 1)[1].split("</nav>", 1)[0]
        for page in ("/console/keys", "/console/webhooks", "/console/staff", "/console/exams"):
            assert f'href="{page}"' in nav


class TestSignedOut:
    @pytest.mark.parametrize("method", ["GET", "POST"])
    async def test_each_route_redirects_to_sign_in(
        self, app: FastAPI, client: httpx.AsyncClient, method: str
    ) -> None:
        for route_method, path in console_routes(app):
            if route_method != method:
                continue
            url = concrete(path)
            response = await (client.get(url) if method == "GET" else client.post(url, data={}))
            assert response.status_code == 303, (method, path, response.status_code)
            assert response.headers["location"].startswith("/login?next=/console"), (method, path)
