"""Surfaces are declared once (surfaces/registry.py): the app mounts each one, answers errors under its
path in its envelope, and the event engine knows each surface's webhook format. Key authentication is
written once (``authenticated``) and always yields a clinic."""

from __future__ import annotations

import secrets

import httpx
import pytest

from clinicore.core.events.renderers import registered_formats, renderer_for, signer_for
from clinicore.core.models import ApiKeyKind, WebhookFormat
from clinicore.core.tenancy import service as tenancy_service
from clinicore.kit.errors import Unauthorized
from clinicore.runtime import Runtime
from clinicore.surfaces.registry import SURFACES, surface_answering_errors_for, webhook_formats
from tests.support import remember_secret


def test_every_surface_has_its_own_mount_path_and_key_kind() -> None:
    assert len({surface.mount_path for surface in SURFACES}) == len(SURFACES)
    assert len({surface.key_kind for surface in SURFACES}) == len(SURFACES)
    assert {surface.name for surface in SURFACES} == {
        "qualiphy",
        "qualifybase",
        "intakeq_practice",
        "intakeq_partner",
        "native",
    }


def test_each_surface_with_webhooks_has_its_format_registered() -> None:
    for surface in SURFACES:
        if surface.webhooks is not None:
            assert renderer_for(surface.webhooks.format) is surface.webhooks.renderer
    assert signer_for(WebhookFormat.qualifybase) is not None
    assert set(webhook_formats()) <= {WebhookFormat(name) for name in registered_formats()}


@pytest.mark.parametrize(
    ("path", "surface"),
    [
        ("/qualiphy/api/nope", "qualiphy"),
        ("/qualifybase/api/v1/nope", "qualifybase"),
        ("/intakeq/api/elsewhere", "intakeq_practice"),
        ("/api/nope", "native"),
    ],
)
def test_errors_under_a_surface_path_are_that_surfaces(path: str, surface: str) -> None:
    found = surface_answering_errors_for(path)
    assert found is not None and found.name == surface
    assert surface_answering_errors_for("/console/nope") is None


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/qualiphy/api/nope", {"http_code": 404, "error_message": "Not Found"}),
        ("/intakeq/api/v1/nope", {"Message": "Not Found"}),
        ("/api/nope", {"error": "not_found", "message": "Not Found"}),
    ],
)
async def test_the_app_mounts_every_surface_with_its_envelope(
    client: httpx.AsyncClient, path: str, body: dict[str, object]
) -> None:
    response = await client.get(path)
    assert (response.status_code, response.json()) == (404, body)


async def test_a_partner_key_is_no_clinic_key(runtime: Runtime, client: httpx.AsyncClient) -> None:
    async with runtime.sessions() as session, session.begin():
        partner = await tenancy_service.create_partner(session, name=f"Partner {secrets.token_hex(3)}")
        created = await tenancy_service.create_key(
            session, box=runtime.box, kind=ApiKeyKind.intakeq_partner, name="p", partner_id=partner.id
        )
    raw = remember_secret(created.secret)
    async with runtime.sessions() as session, session.begin():
        found = await tenancy_service.authenticate_key(session, kind=ApiKeyKind.intakeq_partner, raw=raw)
        assert found.clinic is None
        with pytest.raises(Unauthorized):
            await tenancy_service.authenticate_clinic_key(session, kind=ApiKeyKind.intakeq_partner, raw=raw)
    response = await client.get("/api/me", headers={"authorization": f"Bearer {raw}"})
    assert response.status_code == 401
