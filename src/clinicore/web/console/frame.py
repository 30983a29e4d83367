"""Iframe mode: which parent pages may embed the console.

The console's pages answer ``Content-Security-Policy: ...; frame-ancestors 'self' <origins>`` (written by
``web/security_headers.py`` with the other page headers), where the origins are the signed-in clinic's
partner's ``frame_origins`` (none for a clinic without a partner, and for pages seen before signing in).
The page dependency that finds the user (``session.current_user``) puts the origins on the request
(``frame_origins``); ``console_frame.js`` reads them from the page to accept ``iq_logout`` from those
parents only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from fastapi import Request

FRAME_ORIGINS = "frame_origins"
CONSOLE_PATHS = ("/console", "/login", "/logout", "/signin")
# An exact origin: scheme, host (a DNS name or IPv4 address) and an optional port; nothing else may
# reach the header.
_ORIGIN = re.compile(r"https?://[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?(:[0-9]{1,5})?")


def allowed_origins(origins: Iterable[str]) -> tuple[str, ...]:
    return tuple(origin.lower() for origin in origins if _ORIGIN.fullmatch(origin.lower()))


def set_frame_origins(request: Request, origins: Iterable[str]) -> None:
    request.scope.setdefault("state", {})[FRAME_ORIGINS] = allowed_origins(origins)


def is_console_path(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in CONSOLE_PATHS)
