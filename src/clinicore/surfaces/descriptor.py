"""What a surface is, declared once: where it is mounted, how it answers errors, which key kind it
authenticates and, when it has one, its webhook format. ``surfaces/registry.py`` lists them all; the app
mounts them from there and the worker registers their webhook formats from there."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

from fastapi import FastAPI

from clinicore.core.events.renderers import FormatSigner, Renderer, register_renderer, register_signer
from clinicore.core.models import ApiKeyKind, WebhookFormat
from clinicore.runtime import Runtime
from clinicore.surfaces.subapp import ErrorRenderer


@dataclass(frozen=True, slots=True)
class WebhookFormatSpec:
    """A surface's webhook body: its renderer, its own signature headers if any, and the event types
    it has a body for (every type when None)."""

    format: WebhookFormat
    renderer: Renderer
    signer: FormatSigner | None = None
    event_types: Collection[str] | None = None
    events_label: str | None = None
    # Its receivers are promised each aggregate's events in order: its endpoints are always strict.
    strict_order: bool = False

    def register(self) -> None:
        register_renderer(
            self.format,
            self.renderer,
            event_types=self.event_types,
            events_label=self.events_label,
            strict_order=self.strict_order,
        )
        if self.signer is not None:
            register_signer(self.format, self.signer)


@dataclass(frozen=True, slots=True)
class Surface:
    name: str
    mount_path: str  # "/qualiphy/api"
    create_app: Callable[[Runtime], FastAPI]
    render_error: ErrorRenderer
    key_kind: ApiKeyKind
    webhooks: WebhookFormatSpec | None = None
    # Paths answered in this surface's error envelope even when no route of its sub-app is reached.
    error_scope: str | None = None
    # The largest request body its routes take (the app's ``max_body_bytes`` when None or larger).
    max_body_bytes: int | None = None

    def answers_errors_for(self, path: str) -> bool:
        scope = self.error_scope or self.mount_path
        return path == scope or path.startswith(scope + "/")
