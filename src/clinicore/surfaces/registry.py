"""Every surface, in one list. Adding a surface is adding its descriptor here."""

from __future__ import annotations

from clinicore.core.models import ApiKeyKind, WebhookFormat
from clinicore.surfaces.descriptor import Surface
from clinicore.surfaces.intakeq import app as intakeq_app
from clinicore.surfaces.intakeq import body as intakeq_body
from clinicore.surfaces.intakeq import webhooks as intakeq_webhooks
from clinicore.surfaces.native import app as native_app
from clinicore.surfaces.qualifybase import app as qualifybase_app
from clinicore.surfaces.qualifybase import webhooks as qualifybase_webhooks
from clinicore.surfaces.qualiphy import app as qualiphy_app
from clinicore.surfaces.qualiphy import webhooks as qualiphy_webhooks

SURFACES: tuple[Surface, ...] = (
    Surface(
        name="qualiphy",
        mount_path="/qualiphy/api",
        create_app=qualiphy_app.create_qualiphy_app,
        render_error=qualiphy_app.render_error,
        key_kind=ApiKeyKind.qualiphy,
        webhooks=qualiphy_webhooks.WEBHOOKS,
    ),
    Surface(
        name="qualifybase",
        mount_path="/qualifybase/api/v1",
        create_app=qualifybase_app.create_qualifybase_app,
        render_error=qualifybase_app.render_error,
        key_kind=ApiKeyKind.qualifybase,
        webhooks=qualifybase_webhooks.WEBHOOKS,
    ),
    Surface(
        name="intakeq_practice",
        mount_path="/intakeq/api/v1",
        create_app=intakeq_app.create_intakeq_practice_app,
        render_error=intakeq_app.render_error,
        key_kind=ApiKeyKind.intakeq_practice,
        webhooks=intakeq_webhooks.WEBHOOKS,
        error_scope="/intakeq/api",
        max_body_bytes=intakeq_body.MAX_BODY_BYTES,
    ),
    Surface(
        name="intakeq_partner",
        mount_path="/intakeq/api/partner",
        create_app=intakeq_app.create_intakeq_partner_app,
        render_error=intakeq_app.render_error,
        key_kind=ApiKeyKind.intakeq_partner,
        error_scope="/intakeq/api",
        max_body_bytes=intakeq_body.MAX_BODY_BYTES,
    ),
    Surface(
        name="native",
        mount_path="/api",
        create_app=native_app.create_native_app,
        render_error=native_app.render_error,
        key_kind=ApiKeyKind.native,
    ),
)


def register_webhook_formats() -> None:
    """Tell the event engine how each surface renders (and signs) its webhooks. The native format is
    the engine's own (core/events/renderers.py)."""
    for surface in SURFACES:
        if surface.webhooks is not None:
            surface.webhooks.register()


def surface_answering_errors_for(path: str) -> Surface | None:
    return next((surface for surface in SURFACES if surface.answers_errors_for(path)), None)


def webhook_formats() -> tuple[WebhookFormat, ...]:
    return (WebhookFormat.native, *(s.webhooks.format for s in SURFACES if s.webhooks is not None))


register_webhook_formats()
